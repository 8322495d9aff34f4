// router/router.hpp — the realms a router serves and the router-wide session id space.
// No sockets here: listeners and sessions reach realms through this object.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "realm/random_ids.hpp"
#include "realm/realm.hpp"
#include "router/ops/config.hpp"

namespace junction {

class router {
 public:
  // `timers` runs the realms' timers (call timeouts) and must outlive the router.
  router(const router_config& config, timer_queue& timers);

  [[nodiscard]] realm* find_realm(std::string_view name) noexcept;
  [[nodiscard]] const router_config& config() const noexcept { return config_; }

  // Session ids are global scope: random over [1, 2^53] and unique among live sessions.
  id allocate_session_id();
  void release_session_id(id session) noexcept { live_sessions_.erase(session); }
  [[nodiscard]] std::size_t live_sessions() const noexcept { return live_sessions_.size(); }

 private:
  router_config config_;
  random_ids ids_;
  std::map<std::string, std::unique_ptr<realm>, std::less<>> realms_;
  std::unordered_set<id> live_sessions_;
};

}  // namespace junction
