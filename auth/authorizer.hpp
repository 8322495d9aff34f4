// auth/authorizer.hpp — what a session's role may do in its realm (config file: /realms/*/roles,
// docs/AUTHORIZATION.md): `(role, uri, action) → allow/deny + disclosure`.
//
// A realm with a `roles` section denies by default: an action is allowed only by a matching
// permission of the session's role. The most specific permission wins, with the dealer's
// precedence — exact, then the longest prefix (by characters), then the wildcard with the longest
// run of literal components — through the same uri_trie the dealer routes with, so a lookup
// follows the URI's length, not the number of rules. A role may instead name an authorizer
// procedure (dynamic); its answers may be cached (authorizer_cache below). A realm without
// `roles` allows everything, as before.
//
// Plain objects, read-only once built: a reload builds new ones and swaps them.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "realm/uri.hpp"
#include "realm/uri_trie.hpp"

namespace junction::auth {

enum class action : std::uint8_t { call, register_, publish, subscribe };
inline constexpr std::array<const char*, 4> action_names = {"call", "register", "publish", "subscribe"};
[[nodiscard]] inline const char* name_of(action a) noexcept { return action_names[static_cast<std::size_t>(a)]; }

// One permission of a role (/realms/*/roles/*/permissions/*).
struct permission_config {
  std::string uri;
  match_policy match = match_policy::exact;
  bool call = false;
  bool register_ = false;
  bool publish = false;
  bool subscribe = false;
  bool disclose_caller = false;     // force caller identification for calls it allows
  bool disclose_publisher = false;  // force publisher identification for publications it allows
};

struct role_config {
  std::string name;
  std::vector<permission_config> permissions;
  std::string authorizer;        // dynamic: the procedure that decides, instead of permissions
  std::string authorizer_realm;  // where it is registered (default: the session's realm)
};

// The realm's authorization settings (/realms/*/roles and /realms/*/authorization).
struct realm_authorization {
  bool configured = false;  // a `roles` section exists: deny by default
  std::vector<role_config> roles;
  std::chrono::milliseconds authorizer_timeout{5000};
  std::chrono::milliseconds cache_ttl{60000};  // for cached answers that give no ttl
  std::size_t cache_entries = 10000;
  // On reload, registrations and subscriptions the new rules forbid are revoked (the revocation
  // forms of UNREGISTERED/UNSUBSCRIBED); false keeps them until their session ends.
  bool revoke_on_reload = true;
};

struct decision {
  bool allow = false;
  bool disclose_caller = false;
  bool disclose_publisher = false;
};

// One role's rules.
class role {
 public:
  explicit role(const role_config& c);
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] bool dynamic() const noexcept { return !authorizer_.empty(); }
  [[nodiscard]] const std::string& authorizer() const noexcept { return authorizer_; }
  [[nodiscard]] const std::string& authorizer_realm() const noexcept { return authorizer_realm_; }
  // Static roles: the most specific permission matching `uri`, or deny.
  [[nodiscard]] decision decide(std::string_view uri, action a) const noexcept;
  [[nodiscard]] std::size_t rules() const noexcept { return permissions_.size(); }

 private:
  struct permission {
    std::array<bool, 4> allow{};
    bool disclose_caller = false;
    bool disclose_publisher = false;
  };
  std::string name_;
  std::string authorizer_;
  std::string authorizer_realm_;
  uri_trie<permission> permissions_;
};

// A realm's roles, built once per configuration.
class authorizer {
 public:
  explicit authorizer(const realm_authorization& c);
  [[nodiscard]] bool enabled() const noexcept { return config_.configured; }
  // nullptr: the realm has no such role (a realm with roles refuses such sessions at HELLO).
  [[nodiscard]] const role* find(std::string_view name) const noexcept;
  [[nodiscard]] const realm_authorization& config() const noexcept { return config_; }

 private:
  realm_authorization config_;
  std::unordered_map<std::string, std::unique_ptr<role>> roles_;
};

// Cached answers of dynamic authorizers (the cache Crossbar's users asked for since 2015): keyed
// by (scope, uri, action) where scope is the role or one session, kept for their ttl, bounded in
// entries (least recently used first out), cleared by a reload and when the authorizer's
// registration changes. The clock is the caller's.
class authorizer_cache {
 public:
  using clock = std::chrono::steady_clock;
  explicit authorizer_cache(std::size_t max_entries = 10000) : max_(max_entries) {}

  // The cached decision, if any and still fresh. `registration`: the authorizer's current
  // registration id; entries made under another are dropped.
  [[nodiscard]] std::optional<decision> find(std::string_view scope, std::string_view uri, action a,
                                             std::uint64_t registration, clock::time_point now);
  // A session's lookup: its own entry (an answer cached for that session only), else its role's;
  // one hit or miss.
  [[nodiscard]] std::optional<decision> lookup(std::string_view role, std::uint64_t session, std::string_view uri,
                                               action a, std::uint64_t registration, clock::time_point now);
  // The scope of an answer cached for one session.
  [[nodiscard]] static std::string session_scope(std::uint64_t session) { return "#" + std::to_string(session); }
  void put(std::string_view scope, std::string_view uri, action a, std::uint64_t registration,
           decision d, clock::time_point expires);
  void clear() noexcept;
  void resize(std::size_t max_entries);
  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }
  [[nodiscard]] std::uint64_t hits() const noexcept { return hits_; }
  [[nodiscard]] std::uint64_t misses() const noexcept { return misses_; }

 private:
  struct entry {
    decision d;
    std::uint64_t registration = 0;
    clock::time_point expires;
    std::list<std::string>::iterator age;
  };
  static void make_key(std::string& k, std::string_view scope, std::string_view uri, action a);
  // find() without counting.
  std::optional<decision> probe(std::string_view scope, std::string_view uri, action a, std::uint64_t registration,
                                clock::time_point now);
  std::size_t max_;
  std::string scratch_;
  bool session_entries_ = false;  // some answer was cached for one session (since the last clear)
  std::unordered_map<std::string, entry> map_;
  std::list<std::string> order_;  // least recently used first
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace junction::auth
