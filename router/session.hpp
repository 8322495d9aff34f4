// router/session.hpp — the per-connection WAMP session state machine (spec basic/sessions):
//
//   awaiting_hello --HELLO--> authenticating --WELCOME--> established --GOODBYE--> awaiting_hello
//        |                       | (CHALLENGE/AUTHENTICATE, a dynamic authenticator's call, a
//        |                       |  hash checked off the loop; ABORT on failure)
//        |                       |                        |  \--killed: GOODBYE sent--> closing
//        +-- anything else / bad input: ABORT wamp.error.protocol_violation, close --> closed
//
// Authentication (auth/authenticator.hpp) is a step machine the session drives: it sends
// CHALLENGE and waits for AUTHENTICATE (the realm's challenge_timeout at most), calls a dynamic
// authenticator through the realm's dealer, runs slow verifications on the router's worker, and
// answers WELCOME or ABORT. Failures count against the peer's address (auth/throttle.hpp).
//
// It decodes each incoming frame with the connection's codec, validates it (traits table,
// direction, state, request ids), and hands routable messages to the joined realm. It knows its
// transport only through the `transport` interface, so tests drive it without sockets.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "auth/authenticator.hpp"
#include "auth/authorizer.hpp"
#include "realm/dealer.hpp"
#include "realm/timer_queue.hpp"
#include "realm/peer.hpp"
#include "router/io_loop.hpp"
#include "router/transport/transport.hpp"
#include "serializers/codec.hpp"

namespace junction {

class router;
class realm;

class session final : public peer, public shared_sink, public std::enable_shared_from_this<session> {
 public:
  session(router& owner, transport& link, const codec& codec);
  ~session() override;

  // One complete incoming WAMP message.
  void on_frame(std::string_view bytes);
  // The transport could not even cut its input into messages (e.g. a truncated batch):
  // a protocol violation like any other.
  void on_invalid_framing(std::string text);
  // The connection is gone (closed by either side): leave the realm, drop the transport.
  void on_transport_closed();
  // The router is stopping: an established session is told GOODBYE wamp.close.system_shutdown
  // and leaves its realm; the caller then closes the transport.
  void shutdown();

  // peer
  delivery send(message&& m) override;
  delivery send(const std::shared_ptr<const shared_message>& m) override;
  void kill(const std::string& reason, const std::string& message) override;
  // shared_sink: an EVENT handed over from another loop (send_link_shared), on this one.
  void deliver_handed_over(const std::shared_ptr<const shared_message>& m) override;

  [[nodiscard]] id session_id() const noexcept { return info_->session; }
  [[nodiscard]] bool established() const noexcept { return state_ == state::established; }

  // The router's own clients (the HTTP bridge, router/bridge.hpp): joins `realm` as `who` says,
  // without HELLO's authentication (the bridge authenticated the HTTP request), announcing
  // `roles` as HELLO.Details.roles would. Then established(), or ABORTed (no such realm, or a
  // role the realm's authorization does not define) and closed. Takes the core lock.
  void join_trusted(const std::string& realm, auth::welcome_step who, const object& roles);
  [[nodiscard]] const codec& wire_codec() const noexcept { return codec_; }

 private:
  // closing: the router said GOODBYE (kill) and awaits the client's GOODBYE, ignoring the rest.
  enum class state { awaiting_hello, authenticating, established, closing, closed };
  struct authentication;  // session.cpp

  void on_hello(hello&& h);
  // Authentication: one step of the machine, and its outcomes.
  void drive(auth::step&& s);
  void welcome_client(auth::welcome_step&& w);
  void authentication_failed(const auth::reject_step& r);
  void on_authenticate(authenticate&& a);
  // Starts one: reserves the session id its WELCOME will carry (state authenticating).
  authentication& begin_authentication(std::string realm, client_features features);
  // Ends the authentication (either way): frees the listener's slot, the timer, the machine;
  // returns what is left of it (nullptr if none ran) for the caller to read.
  std::unique_ptr<authentication> end_authentication();
  // Ends it without a WELCOME: the session id it reserved is given back too.
  std::unique_ptr<authentication> abandon_authentication();

  // Authorization (auth/authorizer.hpp): whether a CALL, REGISTER, PUBLISH or SUBSCRIBE may go on
  // (pass), was refused and answered (stop), or waits for a dynamic authorizer (wait: it is
  // held, with everything the session sends after it, until the answer).
  enum class gate { pass, stop, wait };
  gate authorize(message& m);
  // Applies a decision to the message it is for; pass or stop.
  gate apply_decision(message& m, const auth::decision& d);
  void on_authorizer_answer(const dealer::answer& a, const std::string& uri, auth::action act,
                            std::uint64_t registration);
  // Hands the held messages on, in order, until one waits again.
  void release_held();
  void refresh_authorization();
  void on_goodbye(goodbye&& g);
  void route(message&& m);
  // ABORT with wamp.error.protocol_violation and `text`, then close (spec §Protocol Errors).
  void protocol_violation(std::string text);
  void abort_and_close(errc reason, std::string text);
  void leave_realm();
  // Strict mode: client request ids must run 1, 2, 3, … (wrapping after 2^53).
  bool check_request_id(id request);

  // The connection, from whichever thread runs the session (several I/O threads: the realm routes
  // on the thread that read the message). On the connection's own loop, with nothing handed over
  // before still waiting, straight to it; else handed over to its loop, in order — the order the
  // core lock gave, so every WAMP ordering guarantee holds (docs/THREADING.md).
  [[nodiscard]] bool direct() const noexcept;
  bool send_link(const message& m);  // false: larger than the client accepts
  bool send_link_shared(const std::shared_ptr<const shared_message>& m);
  void close_link(std::string_view reason);
  void throttle_link();
  // Whether `size` more bytes may be handed to the connection's loop; past max_outbound_bytes
  // (queued there, or on their way) the connection is closed as a slow consumer, once.
  bool admit(std::size_t size);

  router& owner_;
  transport* link_;  // nulled when the connection is gone (on its loop, under the core lock)
  io_loop* home_ = this_thread_loop;  // the connection's loop (nullptr with one thread)
  std::atomic<std::size_t> in_transit_{0};  // bytes handed over to home_, not yet queued there
  bool closing_slow_ = false;               // close_slow_consumer was handed over
  const codec& codec_;
  state state_ = state::awaiting_hello;
  realm* realm_ = nullptr;  // the joined realm while established
  // Who the session is, from its WELCOME on (shared with the realm's record, never changed
  // after); before that an empty one (session 0).
  std::shared_ptr<const session_info> info_ = no_info();
  static const std::shared_ptr<const session_info>& no_info();
  id last_request_id_ = 0;

  // While authenticating (session.cpp): made at HELLO, dropped when it ends either way, so an
  // established session carries none of it. auth_epoch_ invalidates the callbacks of an
  // authentication that ended.
  std::unique_ptr<authentication> authn_;
  bool holds_slot_ = false;
  std::uint64_t auth_epoch_ = 0;

  // Authorization: the realm's rules and this session's role (looked up again after a reload),
  // and the messages held behind a pending dynamic authorization (held_.front() is the one
  // waiting; at most max_held in all).
  std::shared_ptr<const auth::authorizer> authz_;
  const auth::role* role_ = nullptr;
  auth::authorizer_cache* authz_cache_ = nullptr;  // dynamic roles: the realm's cache
  realm* authz_where_ = nullptr;                   // dynamic roles: where the authorizer lives
  std::uint64_t authz_epoch_ = 0;
  // Messages behind a pending authorization, in order. Made on first use and dropped when it
  // empties: an empty std::deque still holds ~576 bytes, per idle session.
  std::unique_ptr<std::deque<message>> held_;
  std::deque<message>& held() {
    if (!held_) held_ = std::make_unique<std::deque<message>>();
    return *held_;
  }
  [[nodiscard]] std::size_t held_count() const noexcept { return held_ ? held_->size() : 0; }
  bool waiting_authz_ = false;
  std::uint64_t authz_wait_ = 0;  // invalidates the answer of a wait that was abandoned
  bool closing_too_big_ = false;  // a message the connection cannot carry is ending it
  std::uint64_t events_dropped_ = 0;  // EVENTs skipped while congested (drop-events), since the last one sent
};

}  // namespace junction
