#include "router/router.hpp"

#include <algorithm>

#include "auth/crypto.hpp"
#include "router/bridge.hpp"
#include "router/ops/config_file.hpp"
#include "serializers/errors.hpp"

namespace junction {

router::router(const router_config& config, timer_queue& timers)
    : config_(config), timers_(timers), throttle_(config.auth_throttle) {
  if (config_.realms.empty()) config_.realms.emplace_back("realm1");
  for (const auto& rc : config_.realms)
    realms_.emplace(rc.name, std::make_unique<realm>(rc, timers));
  update_auth();
  bridge_ = std::make_unique<http_bridge>(*this);
  bridge_->configure(config_);
}

router::~router() { bridge_.reset(); }

void router::update_auth() {
  auth_.clear();
  authz_.clear();
  ++authz_epoch_;
  for (const auto& rc : config_.realms) {
    authz_.emplace(rc.name, std::make_shared<const auth::authorizer>(rc.authorization));
    auto& cache = authz_cache_[rc.name];
    cache.clear();  // a reload forgets every cached answer
    cache.resize(rc.authorization.cache_entries);
  }
  for (auto it = authz_cache_.begin(); it != authz_cache_.end();)
    it = authz_.count(it->first) != 0 ? std::next(it) : authz_cache_.erase(it);
  // The mock challenges of unknown authids must not change while the configuration does not (a
  // known principal's never do): their key is derived from the configuration's principals.
  std::string material;
  for (const auto& rc : config_.realms) {
    auth_.emplace(rc.name, std::make_shared<const auth::realm_auth>(rc.auth));
    material += config::realm_auth_json(rc.auth);
  }
  secrets_.mock_key = crypto::sha256("junction mock challenges\0" + material);
  throttle_.reconfigure(config_.auth_throttle);
}

std::shared_ptr<const auth::authorizer> router::authorizer_of(std::string_view realm) const {
  auto it = authz_.find(realm);
  return it == authz_.end() ? nullptr : it->second;
}

std::shared_ptr<const auth::realm_auth> router::auth_of(std::string_view realm) const {
  auto it = auth_.find(realm);
  return it == auth_.end() ? nullptr : it->second;
}

void router::count_authentication(const std::string& realm, const std::string& method, bool ok) {
  if constexpr (metrics_enabled) ++auth_counts_[auth_key{realm, method, ok}];
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
  auto policy = [](slow_consumer_policy p) { return p == slow_consumer_policy::drop_events ? "drop-events" : "disconnect"; };
  item("slow_consumer", policy(a.slow_consumer), policy(b.slow_consumer));
  item("session_limits.calls_in_flight", std::to_string(a.limits.calls_in_flight), std::to_string(b.limits.calls_in_flight));
  item("session_limits.registrations", std::to_string(a.limits.registrations), std::to_string(b.limits.registrations));
  item("session_limits.subscriptions", std::to_string(a.limits.subscriptions), std::to_string(b.limits.subscriptions));
  return out;
}

// Everything of a realm's HTTP bridge section, for telling whether a reload changed it (compared,
// never logged: it holds the signing keys' secrets).
std::string bridge_fingerprint(const std::optional<http_bridge_config>& b) {
  if (!b) return {};
  std::string s = b->path + '\n' + std::to_string(b->call_timeout.count()) + '\n' + std::to_string(b->max_body) +
                  '\n' + b->auth.anonymous_role + '\n' + std::to_string(b->auth.max_clock_skew.count());
  for (const auto& t : b->auth.tokens) s += "\nt " + t.sha256_hex + ' ' + t.authid + ' ' + t.authrole;
  for (const auto& k : b->auth.keys) s += "\nk " + k.key + ' ' + k.secret + ' ' + k.authid + ' ' + k.authrole;
  return s;
}
}  // namespace

std::vector<std::string> router::apply(const router_config& config) {
  std::vector<std::string> changes;
  // Realms no longer configured close first: their sessions hear GOODBYE close_realm.
  for (auto it = realms_.begin(); it != realms_.end();) {
    const bool kept = std::any_of(config.realms.begin(), config.realms.end(),
                                  [&](const realm_settings& rc) { return rc.name == it->first; });
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
  for (const realm_settings& rc : config.realms) {
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
  for (const realm_settings& rc : config.realms) {
    const auto* before = find_settings(rc.name);
    if (before != nullptr && config::realm_auth_json(before->auth) != config::realm_auth_json(rc.auth))
      changes.push_back("realm " + rc.name + ": authentication settings changed (for new sessions)" +
                        kill_removed_principals(*before, rc));
  }
  std::vector<const realm_settings*> authorization_changed;
  for (const realm_settings& rc : config.realms) {
    const auto* before = find_settings(rc.name);
    if (before != nullptr && config::realm_authorization_json(before->authorization) !=
                                 config::realm_authorization_json(rc.authorization))
      authorization_changed.push_back(&rc);
  }
  for (const realm_settings& rc : config.realms) {
    const auto* before = find_settings(rc.name);
    if (bridge_fingerprint(before != nullptr ? before->bridge : std::nullopt) != bridge_fingerprint(rc.bridge))
      changes.push_back("realm " + rc.name + ": HTTP bridge " +
                        (!rc.bridge ? "removed" : before != nullptr && before->bridge ? "changed" : "added"));
  }
  config_ = config;
  update_auth();
  bridge_->configure(config_);
  for (const realm_settings* rc : authorization_changed)
    changes.push_back("realm " + rc->name + ": roles changed (for the next action of every session)" +
                      revoke_forbidden(*rc));
  return changes;
}

std::string router::revoke_forbidden(const realm_settings& after) {
  if (!after.authorization.configured || !after.authorization.revoke_on_reload) return {};
  realm* r = find_realm(after.name);
  const auto authz = authorizer_of(after.name);
  if (r == nullptr || !authz) return {};
  // What each session's role allows now; dynamic roles are left alone (their answers come from a
  // call, per action).
  auto forbidden = [&](id session, const std::string& uri, auth::action a) {
    auto it = r->sessions().find(session);
    if (it == r->sessions().end()) return false;
    const auth::role* role = authz->find(it->second.info->authrole);
    if (role != nullptr && role->dynamic()) return false;
    return role == nullptr || !role->decide(uri, a).allow;
  };
  std::vector<std::pair<id, id>> registrations, subscriptions;  // (registration or subscription, session)
  r->get_dealer().for_each_registration([&](const dealer::registration& reg) {
    for (const auto& c : reg.callees)
      if (forbidden(c.session, reg.procedure, auth::action::register_))
        registrations.emplace_back(reg.registration_id, c.session);
  });
  r->get_broker().for_each_subscription([&](const broker::subscription& sub) {
    for (id s : sub.subscribers)
      if (forbidden(s, sub.topic, auth::action::subscribe)) subscriptions.emplace_back(sub.subscription_id, s);
  });
  const std::string reason(uri_of(errc::not_authorized));
  for (auto [reg, s] : registrations) r->revoke_registration(reg, s, reason);
  for (auto [sub, s] : subscriptions) r->revoke_subscription(sub, s, reason);
  if (registrations.empty() && subscriptions.empty()) return {};
  return "; " + std::to_string(registrations.size()) + " registrations and " + std::to_string(subscriptions.size()) +
         " subscriptions the new roles forbid revoked";
}

const realm_settings* router::find_settings(std::string_view name) const {
  for (const auto& rc : config_.realms)
    if (rc.name == name) return &rc;
  return nullptr;
}

namespace {
// Whether a static principal `authid` of `method` is still configured in `a`.
bool still_configured(const auth::realm_auth& a, const std::string& method, const std::string& authid) {
  auto in = [&](const auto& m) { return m && !m->dynamic() && m->principals.count(authid) != 0; };
  if (method == "ticket") return in(a.ticket);
  if (method == "wampcra") return in(a.wampcra);
  if (method == "cryptosign") return in(a.cryptosign);
  if (method == "wamp-scram") return in(a.scram);
  if (method == "scram") return in(a.scram_autobahn);
  if (method == "tls") return in(a.tls);
  return true;  // anonymous and dynamic sessions are not principals of the file
}
}  // namespace

std::string router::kill_removed_principals(const realm_settings& before, const realm_settings& after) {
  if (!after.auth.kill_removed_principals) return {};
  realm* r = find_realm(after.name);
  if (r == nullptr) return {};
  std::vector<id> victims;
  for (const auto& [sid, record] : r->sessions()) {
    const session_info& i = *record.info;
    if (i.authprovider == "static" && i.authmethod != "anonymous" &&
        still_configured(before.auth, i.authmethod, i.authid) &&
        !still_configured(after.auth, i.authmethod, i.authid))
      victims.push_back(sid);
  }
  for (id v : victims)
    r->kill(v, std::string(uri_of(errc::session_killed)),
            "the principal was removed from the router's configuration");
  return victims.empty() ? std::string() : "; " + std::to_string(victims.size()) + " sessions of removed principals killed";
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
