// realm/realm.hpp — one realm: its session registry, broker and dealer.
//
// A realm is a plain object: no sockets, no io_context, no threads. It assumes it is called
// serially (phase 1: the router's one thread; later: the realm's strand). Realms are isolated
// by construction: each has its own registry, broker and dealer, and nothing is shared. Each
// public operation runs to completion (realm/operations.hpp): a session that leaves while one
// runs — from inside a send — leaves when it ends.
#pragma once

#include <memory>
#include <optional>

#include "realm/broker.hpp"
#include "realm/dealer.hpp"
#include "realm/meta.hpp"
#include "realm/operations.hpp"
#include "realm/peer.hpp"
#include "realm/random_ids.hpp"
#include "realm/realm_config.hpp"
#include "realm/timer_queue.hpp"
#include "serializers/result.hpp"

namespace junction {

class realm {
 public:
  // `timers` must outlive the realm (the router owns both).
  realm(realm_config config, timer_queue& timers);
  realm(const realm&) = delete;
  realm& operator=(const realm&) = delete;

  [[nodiscard]] const realm_config& config() const noexcept { return config_; }
  [[nodiscard]] const std::string& name() const noexcept { return config_.name; }

  // Adds an authenticated session; the realm holds `link` until leave(). The caller guarantees
  // the session id is unique router-wide.
  void join(std::shared_ptr<const session_info> info, std::shared_ptr<peer> link);
  void join(session_info info, std::shared_ptr<peer> link) {
    join(std::make_shared<const session_info>(std::move(info)), std::move(link));
  }
  // Removes the session and everything it owned; idempotent. Asked during an operation (a peer
  // whose send found its connection gone), it runs when that operation ends.
  void leave(id session);

  // Routes one message from an established session: PUBLISH, SUBSCRIBE, UNSUBSCRIBE, CALL,
  // CANCEL, REGISTER, UNREGISTER, YIELD, ERROR(INVOCATION). A failure is a protocol violation the
  // session must answer with ABORT.
  std::optional<failure> handle(id session, message&& m);

  // The router ends a session (wamp.session.kill*): it leaves the realm as after a GOODBYE
  // (testaments, wamp.session.on_leave), then its peer is told GOODBYE `reason` + `message`.
  // The realm's own decision, taken where the caller (the meta API) holds no reference into the
  // registry: the leave happens now, even inside an operation.
  void kill(id session, const std::string& reason, const std::string& message);
  // Publishes an event from the router itself (meta events, testaments) with PUBLISH.Options
  // `options`; reserved wamp.* topics are allowed here and only here.
  void publish_event(std::string topic, array args, object kwargs, const object& options);

  [[nodiscard]] std::size_t session_count() const noexcept { return sessions_.size(); }
  [[nodiscard]] const session_map& sessions() const noexcept { return sessions_; }
  [[nodiscard]] broker& get_broker() noexcept { return broker_; }
  [[nodiscard]] const broker& get_broker() const noexcept { return broker_; }
  [[nodiscard]] const dealer& get_dealer() const noexcept { return dealer_; }
  [[nodiscard]] dealer& get_dealer() noexcept { return dealer_; }
  [[nodiscard]] const realm_operations& operations() const noexcept { return ops_; }
  [[nodiscard]] const realm_stats& stats() const noexcept { return stats_; }

  // Reload: new settings for the same realm (the name stays); they apply to what happens next.
  // Fewer retained events than are kept evicts the topics published least recently.
  void reconfigure(realm_config config);
  // Router-initiated revocations (a reload's new roles), as operations of the realm.
  bool revoke_registration(id registration_id, id callee, const std::string& reason) {
    const realm_operations::scope op(ops_);
    return dealer_.revoke(registration_id, callee, reason);
  }
  bool revoke_subscription(id subscription_id, id subscriber, const std::string& reason) {
    const realm_operations::scope op(ops_);
    return broker_.revoke(subscription_id, subscriber, reason);
  }
  // The router's own call (dealer::call_internal), as an operation of the realm.
  void call_internal(const std::string& procedure, array args, object kwargs,
                     timer_queue::duration timeout, dealer::answer_fn done) {
    const realm_operations::scope op(ops_);
    dealer_.call_internal(procedure, std::move(args), std::move(kwargs), timeout, std::move(done));
  }
  // Shutdown, step one: new CALLs are answered wamp.error.canceled; calls in flight go on.
  void drain() { get_dealer().set_draining(true); }
  // Shutdown, step two: the calls still in flight end (callers: wamp.error.canceled).
  void end_calls(const std::string& why);
  // The realm goes away (reload removed it) or the router stops: every session leaves and is
  // told GOODBYE `reason` with Details.message `message`.
  void close(const std::string& reason, const std::string& message);

 private:
  void leave_now(id session);

  realm_config config_;
  realm_stats stats_;     // before the broker and dealer, which count into it
  realm_operations ops_;  // before the broker and dealer, which run inside its operations
  random_ids ids_;
  session_map sessions_;
  broker broker_;
  dealer dealer_;
  meta_api meta_;  // last: it observes the broker and dealer
};

}  // namespace junction
