// auth/bridge_auth.cpp — see bridge_auth.hpp.
#include "auth/bridge_auth.hpp"

#include <cctype>
#include <ctime>

#include "auth/crypto.hpp"
#include "serializers/percent.hpp"
#include "serializers/base64.hpp"

namespace junction::auth {

namespace {

// A query string's name or value ('+' is a space; a malformed escape stays as it is).
std::string query_decode(std::string_view s) { return *percent_decode(s, true, bad_escape::keep); }

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool is_integer(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  std::size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

std::string base64url(std::string_view bytes) {
  std::string s = base64_encode(bytes);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

}  // namespace

std::string query_parameter(std::string_view query, std::string_view name, bool* found) {
  if (found != nullptr) *found = false;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (query_decode(pair.substr(0, eq)) == name) {
      if (found != nullptr) *found = true;
      return eq == std::string_view::npos ? std::string() : query_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

bool parse_utc_timestamp(std::string_view t, std::chrono::system_clock::time_point& out) {
  // YYYY-MM-DDTHH:MM:SS, then optional .fraction, then Z
  int year, month, day, hour, minute, second;
  if (t.size() < 20 || !digits(t, 0, 4, year) || t[4] != '-' || !digits(t, 5, 2, month) || t[7] != '-' ||
      !digits(t, 8, 2, day) || t[10] != 'T' || !digits(t, 11, 2, hour) || t[13] != ':' ||
      !digits(t, 14, 2, minute) || t[16] != ':' || !digits(t, 17, 2, second))
    return false;
  std::size_t at = 19;
  long long micros = 0;
  if (t[at] == '.') {
    ++at;
    const std::size_t start = at;
    long long scale = 100000;
    while (at < t.size() && t[at] >= '0' && t[at] <= '9') {
      if (scale > 0) micros += (t[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start || at - start > 9) return false;
  }
  if (at + 1 != t.size() || t[at] != 'Z') return false;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t seconds = timegm(&tm);
  out = std::chrono::system_clock::from_time_t(seconds) + std::chrono::microseconds(micros);
  return true;
}

bridge_authenticator::bridge_authenticator(bridge_auth_config config) : config_(std::move(config)) {
  for (std::size_t i = 0; i < config_.keys.size(); ++i) keys_.emplace(config_.keys[i].key, i);
}

bridge_auth_result bridge_authenticator::check(std::string_view authorization, std::string_view query,
                                               std::string_view body, std::chrono::system_clock::time_point now) {
  bridge_auth_result r;
  if (!authorization.empty()) {
    constexpr std::string_view scheme = "bearer ";
    std::string lowered(authorization.substr(0, scheme.size()));
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lowered != scheme) {
      r.status = 401;
      r.error = "only the Bearer scheme is accepted in Authorization";
      return r;
    }
    std::string_view token = authorization.substr(scheme.size());
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    const std::string digest = crypto::hex_encode(crypto::sha256(token));
    // Every configured hash is compared (in constant time), so the time taken says nothing about
    // which one matched or how close a guess came.
    const bridge_token* match = nullptr;
    for (const bridge_token& t : config_.tokens)
      if (crypto::equal(digest, t.sha256_hex) && match == nullptr) match = &t;
    if (match == nullptr) {
      r.status = 401;
      r.error = "unknown bearer token";
      return r;
    }
    r.who = http_principal{match->authid, match->authrole, "http-bearer"};
    return r;
  }
  bool signed_request = false;
  (void)query_parameter(query, "signature", &signed_request);
  if (signed_request) return check_signed(query, body, now);
  if (config_.anonymous_role.empty()) {
    r.status = 401;
    r.error = "credentials required: Authorization: Bearer TOKEN, or a signed request";
    return r;
  }
  r.who = http_principal{"anonymous", config_.anonymous_role, "anonymous"};
  return r;
}

bridge_auth_result bridge_authenticator::check_signed(std::string_view query, std::string_view body,
                                                      std::chrono::system_clock::time_point now) {
  bridge_auth_result r;
  std::string parts[5];
  const char* names[5] = {"key", "timestamp", "seq", "nonce", "signature"};
  for (int i = 0; i < 5; ++i) {
    bool found = false;
    parts[i] = query_parameter(query, names[i], &found);
    if (!found || parts[i].empty()) {
      r.status = 400;
      r.error = std::string("signed request without '") + names[i] + "'";
      return r;
    }
  }
  const std::string& key = parts[0];
  const std::string& timestamp = parts[1];
  if (!is_integer(parts[2]) || !is_integer(parts[3])) {
    r.status = 400;
    r.error = "signed request: seq and nonce must be integers";
    return r;
  }
  std::chrono::system_clock::time_point at;
  if (!parse_utc_timestamp(timestamp, at)) {
    r.status = 400;
    r.error = "signed request: timestamp must be UTC ISO-8601, e.g. 2026-12-05T13:59:51.123Z";
    return r;
  }
  const auto skew = now > at ? now - at : at - now;
  if (skew > config_.max_clock_skew) {
    r.status = 401;
    r.error = "signed request: timestamp more than " + std::to_string(config_.max_clock_skew.count()) +
              " s away from the router's clock";
    return r;
  }
  const auto it = keys_.find(key);
  // An unknown key still costs an HMAC, so the answer's timing does not tell keys apart.
  const std::string& secret = it == keys_.end() ? parts[4] : config_.keys[it->second].secret;
  const std::string expected =
      base64url(crypto::hmac_sha256(secret, key + timestamp + parts[2] + parts[3] + std::string(body)));
  if (it == keys_.end() || !crypto::equal(expected, parts[4])) {
    r.status = 401;
    r.error = "signed request: unknown key or wrong signature";
    return r;
  }
  if (replayed(key, parts[3], now)) {
    r.status = 401;
    r.error = "signed request: nonce already used (a replay)";
    return r;
  }
  const bridge_key& k = config_.keys[it->second];
  r.who = http_principal{k.authid, k.authrole, "http-signed"};
  return r;
}

bool bridge_authenticator::replayed(const std::string& key, const std::string& nonce,
                                    std::chrono::system_clock::time_point now) {
  // Nonces older than the clock window can go: a request that old is refused by its timestamp.
  while (!nonces_.empty() && (now - nonces_.front().at > config_.max_clock_skew * 2 ||
                              nonces_.size() >= config_.max_nonces)) {
    nonce_set_.erase(nonces_.front().id);
    nonces_.pop_front();
  }
  std::string id = key;
  id.push_back('\0');
  id += nonce;
  if (!nonce_set_.insert(id).second) return true;
  nonces_.push_back(seen_nonce{now, std::move(id)});
  return false;
}

}  // namespace junction::auth
