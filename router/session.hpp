// router/session.hpp — the per-connection WAMP session state machine (spec basic/sessions):
//
//   awaiting_hello --HELLO ok--> established --GOODBYE--> awaiting_hello (same connection)
//        |                           |  \--killed: GOODBYE sent--> closing --GOODBYE--> awaiting_hello
//        +-- anything else / bad input: ABORT wamp.error.protocol_violation, close --> closed
//
// It decodes each incoming frame with the connection's codec, validates it (traits table,
// direction, state, request ids), and hands routable messages to the joined realm. It knows its
// transport only through the `transport` interface, so tests drive it without sockets.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "auth/authenticator.hpp"
#include "realm/peer.hpp"
#include "router/transport/transport.hpp"
#include "serializers/codec.hpp"

namespace junction {

class router;
class realm;

class session final : public peer, public std::enable_shared_from_this<session> {
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
  void send(message&& m) override;
  void send(const std::shared_ptr<const shared_message>& m) override;
  void kill(const std::string& reason, const std::string& message) override;

  [[nodiscard]] id session_id() const noexcept { return info_.session; }
  [[nodiscard]] const codec& wire_codec() const noexcept { return codec_; }

 private:
  // closing: the router said GOODBYE (kill) and awaits the client's GOODBYE, ignoring the rest.
  enum class state { awaiting_hello, established, closing, closed };

  void on_hello(hello&& h);
  void on_goodbye(goodbye&& g);
  void route(message&& m);
  // ABORT with wamp.error.protocol_violation and `text`, then close (spec §Protocol Errors).
  void protocol_violation(std::string text);
  void abort_and_close(errc reason, std::string text);
  void leave_realm();
  // Strict mode: client request ids must run 1, 2, 3, … (wrapping after 2^53).
  bool check_request_id(id request);

  router& owner_;
  transport* link_;  // nulled when the connection is gone
  const codec& codec_;
  state state_ = state::awaiting_hello;
  realm* realm_ = nullptr;  // the joined realm while established
  session_info info_;
  id last_request_id_ = 0;
};

}  // namespace junction
