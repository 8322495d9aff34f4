// auth/bridge_auth.hpp — who an HTTP bridge request is (issue 18; router/bridge.hpp serves the
// requests). Plain code: no sockets, no clocks of its own (the caller gives the time).
//
// Three ways in, tried in this order:
//   - "Authorization: Bearer TOKEN": the token's SHA-256 (hex) is looked up among the configured
//     ones, in constant time per candidate; the file holds only hashes (tokens are long random
//     strings, so a plain SHA-256 is as good as a slow hash and costs nothing per request);
//   - Crossbar's signed requests (its HTTP bridge's format, so its clients work unchanged): the
//     query has key, timestamp (UTC ISO-8601, "2026-12-05T13:59:51.123Z"), seq, nonce and
//     signature = base64url(HMAC-SHA256(secret, key | timestamp | seq | nonce | body)), the
//     parts concatenated; the timestamp must be within max_clock_skew of now, and a (key, nonce)
//     seen within that window is a replay (Crossbar leaves both checks as FIXMEs);
//   - no credentials: the configured anonymous role, if any.
// A request that offers credentials which fail is refused (401), never downgraded to anonymous.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace junction::auth {

struct bridge_token {
  std::string sha256_hex;  // of the token; lower-case hex
  std::string authid;
  std::string authrole;
};

struct bridge_key {
  std::string key;
  std::string secret;  // HMAC needs it in clear
  std::string authid;
  std::string authrole;
};

struct bridge_auth_config {
  std::vector<bridge_token> tokens;
  std::vector<bridge_key> keys;
  std::string anonymous_role;  // requests without credentials run as this role; empty: 401
  std::chrono::seconds max_clock_skew{300};
  std::size_t max_nonces = 100000;  // remembered (key, nonce) pairs; past it the oldest go first
};

struct http_principal {
  std::string authid;
  std::string authrole;
  std::string authmethod;  // "http-bearer", "http-signed" or "anonymous"
};

struct bridge_auth_result {
  int status = 0;  // 0: `who` is set; else 400 (malformed credentials) or 401 (wrong ones)
  std::string error;
  http_principal who;
};

class bridge_authenticator {
 public:
  explicit bridge_authenticator(bridge_auth_config config);

  // `authorization`: the header's value ("" if none); `query`: the target's query, still
  // percent-encoded ("" if none); `body`: as received; `now`: the wall clock.
  bridge_auth_result check(std::string_view authorization, std::string_view query, std::string_view body,
                           std::chrono::system_clock::time_point now);

  [[nodiscard]] bool requires_credentials() const noexcept { return config_.anonymous_role.empty(); }

 private:
  bridge_auth_result check_signed(std::string_view query, std::string_view body,
                                  std::chrono::system_clock::time_point now);
  bool replayed(const std::string& key, const std::string& nonce, std::chrono::system_clock::time_point now);

  bridge_auth_config config_;
  std::unordered_map<std::string, std::size_t> keys_;  // key → index in config_.keys
  struct seen_nonce {
    std::chrono::system_clock::time_point at;
    std::string id;  // key + '\0' + nonce
  };
  std::deque<seen_nonce> nonces_;  // in the order seen
  std::unordered_set<std::string> nonce_set_;
};

// The value of `name` in a query string ("a=1&b=x%20y"), percent-decoded ('+' is a space); empty
// when absent. `found` says whether it was there at all.
std::string query_parameter(std::string_view query, std::string_view name, bool* found = nullptr);

// Parses "YYYY-MM-DDTHH:MM:SS[.fff…]Z" (UTC); false if it is not that.
bool parse_utc_timestamp(std::string_view text, std::chrono::system_clock::time_point& out);

}  // namespace junction::auth
