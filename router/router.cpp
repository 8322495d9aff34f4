#include "router/router.hpp"

namespace junction {

router::router(const router_config& config, timer_queue& timers) : config_(config) {
  if (config_.realms.empty()) config_.realms.push_back(realm_config{"realm1"});
  for (const auto& rc : config_.realms)
    realms_.emplace(rc.name, std::make_unique<realm>(rc, timers));
}

realm* router::find_realm(std::string_view name) noexcept {
  auto it = realms_.find(name);
  return it == realms_.end() ? nullptr : it->second.get();
}

id router::allocate_session_id() {
  for (;;) {
    const id candidate = ids_.next();
    if (live_sessions_.insert(candidate).second) return candidate;
  }
}

}  // namespace junction
