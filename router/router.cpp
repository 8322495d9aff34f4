#include "router/router.hpp"

#include <algorithm>

#include "serializers/errors.hpp"

namespace junction {

router::router(const router_config& config, timer_queue& timers) : config_(config), timers_(timers) {
  if (config_.realms.empty()) config_.realms.push_back(realm_config{"realm1"});
  for (const auto& rc : config_.realms)
    realms_.emplace(rc.name, std::make_unique<realm>(rc, timers));
}

namespace {
const char* disclosure_name(disclosure d) {
  switch (d) {
    case disclosure::always: return "always";
    case disclosure::never: return "never";
    case disclosure::on_request: break;
  }
  return "on-request";
}

// What differs between two settings of one realm, as "key old → new" items.
std::string realm_changes(const realm_config& a, const realm_config& b) {
  std::string out;
  auto item = [&](const char* key, const std::string& from, const std::string& to) {
    if (from == to) return;
    out += (out.empty() ? "" : ", ") + std::string(key) + " " + from + " → " + to;
  };
  item("uri_check", a.uri_check == uri_policy::strict ? "strict" : "loose",
       b.uri_check == uri_policy::strict ? "strict" : "loose");
  item("disclose_caller", disclosure_name(a.disclose_caller), disclosure_name(b.disclose_caller));
  item("disclose_publisher", disclosure_name(a.disclose_publisher), disclosure_name(b.disclose_publisher));
  item("max_retained_events", std::to_string(a.max_retained_events), std::to_string(b.max_retained_events));
  item("progressive_call_memory", std::to_string(a.progressive_call_memory),
       std::to_string(b.progressive_call_memory));
  return out;
}
}  // namespace

std::vector<std::string> router::apply(const router_config& config) {
  std::vector<std::string> changes;
  // Realms no longer configured close first: their sessions hear GOODBYE close_realm.
  for (auto it = realms_.begin(); it != realms_.end();) {
    const bool kept = std::any_of(config.realms.begin(), config.realms.end(),
                                  [&](const realm_config& rc) { return rc.name == it->first; });
    if (kept) {
      ++it;
      continue;
    }
    const std::size_t n = it->second->session_count();
    it->second->close(std::string(uri_of(errc::close_realm)),
                      "realm '" + it->first + "' was removed from the router's configuration");
    changes.push_back("realm " + it->first + " removed (" + std::to_string(n) + " sessions closed)");
    it = realms_.erase(it);
  }
  for (const realm_config& rc : config.realms) {
    auto it = realms_.find(rc.name);
    if (it == realms_.end()) {
      auto fresh = std::make_unique<realm>(rc, timers_);
      if (draining_) fresh->drain();
      realms_.emplace(rc.name, std::move(fresh));
      changes.push_back("realm " + rc.name + " added");
      continue;
    }
    const std::string diff = realm_changes(it->second->config(), rc);
    if (diff.empty()) continue;
    it->second->reconfigure(rc);
    changes.push_back("realm " + rc.name + ": " + diff);
  }
  config_ = config;
  return changes;
}

void router::drain() {
  draining_ = true;
  for (auto& [name, r] : realms_) r->drain();
}

void router::end_calls(const std::string& why) {
  for (auto& [name, r] : realms_) r->end_calls(why);
}

std::size_t router::calls_in_flight() const {
  std::size_t n = 0;
  for (const auto& [name, r] : realms_) n += r->get_dealer().in_flight();
  return n;
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
