// realm/realm.hpp — one realm: its session registry, broker and dealer.
//
// A realm is a plain object: no sockets, no io_context, no threads. It assumes it is called
// serially (phase 1: the router's one thread; later: the realm's strand). Realms are isolated
// by construction: each has its own registry, broker and dealer, and nothing is shared.
#pragma once

#include <memory>
#include <optional>

#include "realm/broker.hpp"
#include "realm/dealer.hpp"
#include "realm/peer.hpp"
#include "realm/random_ids.hpp"
#include "realm/realm_config.hpp"
#include "serializers/result.hpp"

namespace junction {

class realm {
 public:
  explicit realm(realm_config config);
  realm(const realm&) = delete;
  realm& operator=(const realm&) = delete;

  [[nodiscard]] const realm_config& config() const noexcept { return config_; }
  [[nodiscard]] const std::string& name() const noexcept { return config_.name; }

  // Adds an authenticated session; the realm holds `link` until leave(). The caller guarantees
  // the session id is unique router-wide.
  void join(session_info info, std::shared_ptr<peer> link);
  // Removes the session and everything it owned; idempotent.
  void leave(id session);

  // Routes one message from an established session: PUBLISH, SUBSCRIBE, UNSUBSCRIBE, CALL,
  // REGISTER, UNREGISTER, YIELD, ERROR(INVOCATION). A failure is a protocol violation the
  // session must answer with ABORT.
  std::optional<failure> handle(id session, message&& m);

  [[nodiscard]] std::size_t session_count() const noexcept { return sessions_.size(); }
  [[nodiscard]] const broker& get_broker() const noexcept { return broker_; }
  [[nodiscard]] const dealer& get_dealer() const noexcept { return dealer_; }

 private:
  realm_config config_;
  random_ids ids_;
  session_map sessions_;
  broker broker_;
  dealer dealer_;
};

}  // namespace junction
