// router/router.hpp — the realms a router serves and the router-wide session id space.
// No sockets here: listeners and sessions reach realms through this object.
#pragma once

#include <functional>
#include <map>
#include <tuple>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "auth/authenticator.hpp"
#include "auth/authorizer.hpp"
#include "auth/throttle.hpp"
#include "realm/random_ids.hpp"
#include "realm/realm.hpp"
#include "router/io_loop.hpp"
#include "router/ops/config.hpp"

namespace junction {

// The HTTP routes a listener serves besides the WebSocket upgrade (health, metrics, admin):
// implemented by the executable's server, reached through the router by every listener.
struct http_answer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string headers;  // extra header lines, each ending in \r\n
};
class http_routes {
 public:
  virtual ~http_routes() = default;
  // The answer to `method` `path` on an admin listener, or nullopt when the path is not one of
  // its routes (the listener then answers 404, or 426 on its WAMP path).
  virtual std::optional<http_answer> answer(std::string_view method, std::string_view path,
                                            bool loopback_peer) = 0;
};

// What the router needs from the event loop it runs on: the server provides it (an io_context
// and a worker thread); unit tests a queue they drain.
class executor {
 public:
  virtual ~executor() = default;
  // Runs `fn` on the router's thread after the current handler (a hand-off, never re-entrant).
  virtual void post(std::function<void()> fn) = 0;
  // Runs `work` off the router's thread (a key derivation that takes milliseconds), then
  // `done(result)` on it.
  virtual void offload(std::function<bool()> work, std::function<void(bool)> done) = 0;
};

class http_bridge;

class router {
 public:
  // `timers` runs the realms' timers (call timeouts) and must outlive the router.
  router(const router_config& config, timer_queue& timers);
  ~router();

  [[nodiscard]] realm* find_realm(std::string_view name) noexcept;
  [[nodiscard]] const router_config& config() const noexcept { return config_; }
  template <class F>
  void for_each_realm(F&& fn) const {
    for (const auto& [name, r] : realms_) fn(static_cast<const realm&>(*r));
  }

  // Reload: the realms of `config` replace the current ones — new realms open, realms no longer
  // listed close (their sessions are told GOODBYE wamp.close.close_realm), the others take their
  // new settings. Returns one line per change for the log (empty: nothing changed).
  std::vector<std::string> apply(const router_config& config);

  // Shutdown: new sessions are refused (HELLO → ABORT wamp.close.system_shutdown, listeners
  // refuse new connections) and new calls are answered wamp.error.canceled.
  void drain();
  [[nodiscard]] bool draining() const noexcept { return draining_.load(std::memory_order_relaxed); }
  // The calls still in flight end (callers: wamp.error.canceled with `why`).
  void end_calls(const std::string& why);
  [[nodiscard]] std::size_t calls_in_flight() const;

  // The HTTP bridge (router/bridge.hpp): its sessions are the router's own.
  [[nodiscard]] http_bridge& bridge() noexcept { return *bridge_; }
  void set_http_routes(http_routes* routes) noexcept { http_ = routes; }
  [[nodiscard]] http_routes* routes() const noexcept { return http_; }
  void set_executor(executor* e) noexcept { executor_ = e; }
  [[nodiscard]] executor* exec() const noexcept { return executor_; }
  [[nodiscard]] timer_queue& timers() noexcept { return timers_; }
  // The core lock (router/io_loop.hpp): on with several I/O threads.
  [[nodiscard]] core_mutex& core() noexcept { return core_; }

  // How a realm authenticates (nullptr for a realm not served). Shared: a handshake in progress
  // keeps the configuration it started with across a reload.
  [[nodiscard]] std::shared_ptr<const auth::realm_auth> auth_of(std::string_view realm) const;
  [[nodiscard]] const auth::router_secrets& secrets() const noexcept { return secrets_; }
  [[nodiscard]] auth::throttle& auth_throttle() noexcept { return throttle_; }
  // What a realm's roles may do (never null for a served realm; disabled without `roles`).
  // Shared like the auth configuration; `authorization_epoch()` changes at every reload, so a
  // session keeps its lookups until then.
  [[nodiscard]] std::shared_ptr<const auth::authorizer> authorizer_of(std::string_view realm) const;
  [[nodiscard]] std::uint64_t authorization_epoch() const noexcept { return authz_epoch_; }
  // The realm's cache of dynamic authorizers' answers.
  [[nodiscard]] auth::authorizer_cache& authorizer_cache(const std::string& realm) { return authz_cache_[realm]; }
  // Authorization outcomes for /metrics: actions denied by realm and action; dynamic authorizer
  // calls by realm and outcome (allow, deny, error, timeout).
  void count_denied(const std::string& realm, auth::action a) {
    if constexpr (metrics_enabled) ++denied_[{realm, static_cast<int>(a)}];
  }
  void count_authorizer(const std::string& realm, const char* outcome) {
    if constexpr (metrics_enabled) ++authorizer_calls_[{realm, outcome}];
  }
  [[nodiscard]] const std::map<std::pair<std::string, int>, std::uint64_t>& denied_counts() const noexcept {
    return denied_;
  }
  [[nodiscard]] const std::map<std::pair<std::string, std::string>, std::uint64_t>& authorizer_counts() const noexcept {
    return authorizer_calls_;
  }
  [[nodiscard]] const std::map<std::string, auth::authorizer_cache, std::less<>>& authorizer_caches() const noexcept {
    return authz_cache_;
  }

  // Authentication outcomes, for /metrics: successes and failures by realm and method.
  void count_authentication(const std::string& realm, const std::string& method, bool ok);
  template <class F>
  void for_each_authentication(F&& fn) const {
    for (const auto& [key, n] : auth_counts_) fn(key.realm, key.method, key.ok, n);
  }

  // Session ids are global scope: random over [1, 2^53] and unique among live sessions.
  id allocate_session_id();
  void release_session_id(id session) noexcept { live_sessions_.erase(session); }
  [[nodiscard]] std::size_t live_sessions() const noexcept { return live_sessions_.size(); }

 private:
  void update_auth();
  [[nodiscard]] const realm_settings* find_settings(std::string_view name) const;
  // Reload: the sessions of static principals `after` no longer has, when it says so; "" or
  // "; N sessions of removed principals killed" for the log.
  std::string kill_removed_principals(const realm_settings& before, const realm_settings& after);
  // Reload: registrations and subscriptions the realm's new static roles forbid are revoked,
  // when it says so; "" or "; N registrations and M subscriptions revoked".
  std::string revoke_forbidden(const realm_settings& after);

  struct auth_key {
    std::string realm;
    std::string method;
    bool ok = false;
    bool operator<(const auth_key& o) const {
      return std::tie(realm, method, ok) < std::tie(o.realm, o.method, o.ok);
    }
  };

  router_config config_;
  timer_queue& timers_;
  http_routes* http_ = nullptr;
  executor* executor_ = nullptr;
  std::map<std::string, std::shared_ptr<const auth::realm_auth>, std::less<>> auth_;
  auth::router_secrets secrets_;
  auth::throttle throttle_;
  std::map<auth_key, std::uint64_t> auth_counts_;  // realms and methods are configured: bounded
  std::map<std::string, std::shared_ptr<const auth::authorizer>, std::less<>> authz_;
  std::map<std::string, auth::authorizer_cache, std::less<>> authz_cache_;
  std::uint64_t authz_epoch_ = 1;
  std::map<std::pair<std::string, int>, std::uint64_t> denied_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> authorizer_calls_;
  std::atomic<bool> draining_{false};  // read by every I/O thread without the core lock
  random_ids ids_;
  core_mutex core_;
  std::map<std::string, std::unique_ptr<realm>, std::less<>> realms_;
  std::unordered_set<id> live_sessions_;
  std::unique_ptr<http_bridge> bridge_;  // last: its sessions leave the realms before they go
};

}  // namespace junction
