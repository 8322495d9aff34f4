// The HTTP bridge's pure parts: who a request is (auth/bridge_auth.hpp — bearer tokens, signed
// requests: good, bad signature, expired timestamp, replayed nonce) and the status of each WAMP
// error (router/bridge.hpp).
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "auth/bridge_auth.hpp"
#include "auth/crypto.hpp"
#include "router/bridge.hpp"
#include "serializers/base64.hpp"

using namespace junction;
using namespace std::chrono_literals;

namespace {

auth::bridge_auth_config config() {
  auth::bridge_auth_config c;
  c.tokens.push_back({crypto::hex_encode(crypto::sha256("good-token")), "billing", "backend"});
  c.keys.push_back({"app", "a-secret-of-enough-length", "signer", "backend"});
  c.max_clock_skew = 300s;
  c.max_nonces = 4;
  return c;
}

std::chrono::system_clock::time_point at(const char* iso) {
  std::chrono::system_clock::time_point t;
  REQUIRE(auth::parse_utc_timestamp(iso, t));
  return t;
}

// Crossbar's signature: base64url(HMAC-SHA256(secret, key | timestamp | seq | nonce | body)).
std::string signed_query(const std::string& body, const std::string& timestamp, const std::string& nonce,
                         const std::string& secret = "a-secret-of-enough-length") {
  std::string sig = base64_encode(crypto::hmac_sha256(secret, "app" + timestamp + "7" + nonce + body));
  for (char& c : sig) c = c == '+' ? '-' : c == '/' ? '_' : c;
  std::string escaped;
  for (char c : sig) escaped += c == '=' ? std::string("%3D") : std::string(1, c);
  return "key=app&timestamp=" + timestamp + "&seq=7&nonce=" + nonce + "&signature=" + escaped;
}

}  // namespace

TEST_CASE("bridge auth: bearer tokens by their SHA-256; anything else is 401, never anonymous") {
  auth::bridge_authenticator a(config());
  const auto now = std::chrono::system_clock::now();
  auto r = a.check("Bearer good-token", "", "", now);
  REQUIRE(r.status == 0);
  CHECK(r.who.authid == "billing");
  CHECK(r.who.authrole == "backend");
  CHECK(r.who.authmethod == "http-bearer");
  CHECK(a.check("bearer   good-token ", "", "", now).status == 0);  // scheme in any case, spaces trimmed
  CHECK(a.check("Bearer bad-token", "", "", now).status == 401);
  CHECK(a.check("Basic Zm9vOmJhcg==", "", "", now).status == 401);
  CHECK(a.check("", "", "", now).status == 401);  // no anonymous role configured
  auto anon = config();
  anon.anonymous_role = "public";
  auth::bridge_authenticator b(anon);
  r = b.check("", "", "", now);
  REQUIRE(r.status == 0);
  CHECK(r.who.authrole == "public");
  CHECK(r.who.authmethod == "anonymous");
  CHECK(b.check("Bearer bad-token", "", "", now).status == 401);  // wrong credentials stay wrong
}

TEST_CASE("bridge auth: signed requests — good, bad signature, expired timestamp, replayed nonce") {
  auth::bridge_authenticator a(config());
  const std::string body = R"({"topic":"com.example"})";
  const auto now = at("2026-12-05T14:00:00.000Z");
  // good (a timestamp a little in the future is fine too)
  auto r = a.check("", signed_query(body, "2026-12-05T14:00:30.250Z", "1"), body, now);
  REQUIRE_MESSAGE(r.status == 0, r.error);
  CHECK(r.who.authid == "signer");
  CHECK(r.who.authmethod == "http-signed");
  // replayed: the same nonce again, even with a fresh signature
  r = a.check("", signed_query(body, "2026-12-05T14:00:31.000Z", "1"), body, now);
  CHECK(r.status == 401);
  CHECK(r.error.find("replay") != std::string::npos);
  // a body that is not the one signed; a wrong secret; an unknown key
  CHECK(a.check("", signed_query(body, "2026-12-05T14:00:00.000Z", "2"), body + " ", now).status == 401);
  CHECK(a.check("", signed_query(body, "2026-12-05T14:00:00.000Z", "3", "another-secret-entirely"), body, now)
            .status == 401);
  std::string unknown = signed_query(body, "2026-12-05T14:00:00.000Z", "4");
  unknown.replace(0, 7, "key=zzz");
  CHECK(a.check("", unknown, body, now).status == 401);
  // expired, or from too far in the future
  r = a.check("", signed_query(body, "2026-12-05T13:54:59.999Z", "5"), body, now);
  CHECK(r.status == 401);
  CHECK(r.error.find("away from the router's clock") != std::string::npos);
  CHECK(a.check("", signed_query(body, "2026-12-05T14:05:01.000Z", "6"), body, now).status == 401);
  // malformed: a part missing, a timestamp that is not ISO-8601 UTC, a nonce that is not a number
  CHECK(a.check("", "key=app&timestamp=2026-12-05T14:00:00Z&seq=1&signature=x", body, now).status == 400);
  CHECK(a.check("", signed_query(body, "2026-12-05 14:00:00", "8"), body, now).status == 400);
  CHECK(a.check("", signed_query(body, "2026-12-05T14:00:00.000Z", "eight"), body, now).status == 400);
  // the nonce memory is bounded (4 here): the oldest are forgotten first
  for (int n = 10; n < 20; ++n)
    CHECK(a.check("", signed_query(body, "2026-12-05T14:00:00.000Z", std::to_string(n)), body, now).status == 0);
  CHECK(a.check("", signed_query(body, "2026-12-05T14:00:00.000Z", "19"), body, now).status == 401);
}

TEST_CASE("bridge auth: query parameters and timestamps") {
  bool found = false;
  CHECK(auth::query_parameter("a=1&b=x%20y+z&c", "b", &found) == "x y z");
  CHECK(found);
  CHECK(auth::query_parameter("a=1&b=2", "c", &found).empty());
  CHECK_FALSE(found);
  auth::query_parameter("a=1&c", "c", &found);
  CHECK(found);
  CHECK(auth::query_parameter("s=abc%3D%3d%zz", "s") == "abc==%zz");
  std::chrono::system_clock::time_point t;
  CHECK(auth::parse_utc_timestamp("1970-01-01T00:00:01Z", t));
  CHECK(t == std::chrono::system_clock::time_point(1s));
  CHECK(auth::parse_utc_timestamp("1970-01-01T00:00:00.5Z", t));
  CHECK(t == std::chrono::system_clock::time_point(500ms));
  for (const char* bad : {"1970-01-01T00:00:00", "1970-01-01 00:00:00Z", "1970-13-01T00:00:00Z", "x", "",
                          "1970-01-01T00:00:00.Z", "1970-01-01T00:00:00+01:00"})
    CHECK_FALSE_MESSAGE(auth::parse_utc_timestamp(bad, t), bad);
}

TEST_CASE("bridge: WAMP errors as HTTP statuses") {
  CHECK(http_status_of("wamp.error.not_authorized") == 403);
  CHECK(http_status_of("wamp.error.no_such_procedure") == 404);
  CHECK(http_status_of("wamp.error.invalid_uri") == 400);
  CHECK(http_status_of("wamp.error.invalid_argument") == 400);
  CHECK(http_status_of("wamp.error.timeout") == 504);
  CHECK(http_status_of("wamp.error.canceled") == 503);
  CHECK(http_status_of("wamp.error.payload_size_exceeded") == 413);
  CHECK(http_status_of("wamp.error.limit_exceeded") == 429);
  CHECK(http_status_of("com.example.failed") == 500);  // the callee's own error
  CHECK(http_status_of("wamp.error.runtime_error") == 500);
}
