// Authorization as plain objects (auth/authorizer.hpp) and through the session: permission
// matching and precedence over a table of rules and requests, the authorizer cache on a manual
// clock, denied actions answered (or dropped) with nothing half-done, forced disclosure, roles a
// realm does not define, a dynamic authorizer that holds the session's later messages in order,
// its cache, its timeout, and a reload that revokes what the new roles forbid.
#include <doctest/doctest.h>

#include "auth/authorizer.hpp"
#include "router/router.hpp"
#include "router/session.hpp"
#include "serializers/errors.hpp"
#include "support/fakes.hpp"

using namespace junction;
using auth::action;
using test::fake_transport;

namespace {

auth::permission_config perm(const char* uri, match_policy m, const char* allow, bool disclose_caller = false,
                             bool disclose_publisher = false) {
  auth::permission_config p;
  p.uri = uri;
  p.match = m;
  const std::string a = allow;
  p.call = a.find('c') != std::string::npos;
  p.register_ = a.find('r') != std::string::npos;
  p.publish = a.find('p') != std::string::npos;
  p.subscribe = a.find('s') != std::string::npos;
  p.disclose_caller = disclose_caller;
  p.disclose_publisher = disclose_publisher;
  return p;
}

}  // namespace

TEST_CASE("authz: the most specific permission wins, with the dealer's precedence") {
  auth::role_config rc;
  rc.name = "user";
  rc.permissions = {
      perm("com.app.", match_policy::prefix, "cs"),              // broad: call and subscribe
      perm("com.app.admin.", match_policy::prefix, ""),          // longer prefix: nothing
      perm("com.app.admin.status", match_policy::exact, "c"),    // exact beats both prefixes
      perm("com.app..events", match_policy::wildcard, "sp"),     // wildcard, only when no prefix matches
      perm("com.other..x", match_policy::wildcard, "c"),
      perm("com.other.y.", match_policy::prefix, "r"),
      perm("com.other.y.x", match_policy::wildcard, "p"),  // stored as a wildcard pattern of no wildcard
  };
  const auth::role r(rc);
  struct row {
    const char* uri;
    action a;
    bool allow;
  };
  const row rows[] = {
      {"com.app.foo", action::call, true},
      {"com.app.foo", action::subscribe, true},
      {"com.app.foo", action::register_, false},
      {"com.app.foo", action::publish, false},
      {"com.app.admin.kill", action::call, false},      // the longer prefix
      {"com.app.admin.status", action::call, true},     // exact
      {"com.app.admin.status", action::subscribe, false},
      {"com.app.x.events", action::publish, false},     // "com.app." (prefix) outranks the wildcard
      {"com.zzz", action::call, false},                 // nothing matches: deny
      {"com.other.a.x", action::call, true},            // wildcard
      {"com.other.y.x", action::register_, true},       // prefix outranks wildcard
      {"com.other.y.x", action::publish, false},
      {"wamp.session.kill", action::call, false},       // the meta API is governed like the rest
  };
  for (const auto& x : rows) {
    CAPTURE(x.uri);
    CAPTURE(auth::name_of(x.a));
    CHECK(r.decide(x.uri, x.a).allow == x.allow);
  }
  CHECK(r.rules() == 7);
}

TEST_CASE("authz: a realm without roles allows everything; with roles, unknown roles get nothing") {
  auth::realm_authorization none;
  CHECK_FALSE(auth::authorizer(none).enabled());
  auth::realm_authorization some;
  some.configured = true;
  some.roles.push_back(auth::role_config{"user", {perm("com.", match_policy::prefix, "c")}, "", ""});
  const auth::authorizer a(some);
  CHECK(a.enabled());
  REQUIRE(a.find("user") != nullptr);
  CHECK(a.find("admin") == nullptr);
}

TEST_CASE("authz: the cache keeps answers for their ttl, bounded, per role or session") {
  auth::authorizer_cache c(2);
  auto t0 = auth::authorizer_cache::clock::time_point{} + std::chrono::hours(1);
  const auth::decision yes{true, false, false};
  CHECK_FALSE(c.lookup("user", 7, "com.a", action::call, 1, t0));  // miss
  c.put("user", "com.a", action::call, 1, yes, t0 + std::chrono::seconds(10));
  CHECK(c.lookup("user", 7, "com.a", action::call, 1, t0)->allow);  // hit
  CHECK(c.lookup("user", 8, "com.a", action::call, 1, t0)->allow);  // another session of the role
  CHECK_FALSE(c.lookup("user", 7, "com.a", action::publish, 1, t0));
  CHECK_FALSE(c.lookup("user", 7, "com.a", action::call, 1, t0 + std::chrono::seconds(11)));  // expired
  CHECK(c.size() == 0);
  // A session-scoped answer is that session's only.
  c.put(auth::authorizer_cache::session_scope(7), "com.b", action::call, 1, yes, t0 + std::chrono::seconds(10));
  CHECK(c.lookup("user", 7, "com.b", action::call, 1, t0).has_value());
  CHECK_FALSE(c.lookup("user", 8, "com.b", action::call, 1, t0).has_value());
  // Bounded: the least recently used goes first.
  c.put("user", "com.c", action::call, 1, yes, t0 + std::chrono::seconds(10));
  c.put("user", "com.d", action::call, 1, yes, t0 + std::chrono::seconds(10));
  CHECK(c.size() == 2);
  CHECK_FALSE(c.lookup("user", 7, "com.b", action::call, 1, t0).has_value());
  // Another registration of the authorizer: nothing it said before holds.
  CHECK_FALSE(c.lookup("user", 7, "com.d", action::call, 2, t0).has_value());
  CHECK(c.size() == 0);
  CHECK(c.hits() == 3);
  CHECK(c.misses() == 6);
}

// ---- through the session ----------------------------------------------------------------------

namespace {

struct conn {
  explicit conn(router& r) : wire(json_codec()), s(std::make_shared<session>(r, wire, json_codec())) {}
  fake_transport wire;
  std::shared_ptr<session> s;
  void send(const std::string& json) { s->on_frame(json); }
  welcome join(const std::string& realm) {
    send(R"([1,")" + realm +
         R"(",{"roles":{"caller":{},"callee":{"features":{"call_canceling":true,"registration_revocation":true}},"publisher":{},"subscriber":{"features":{"subscription_revocation":true}}}}])");
    return wire.take<welcome>();
  }
  error expect_denied(const char* what) {
    const auto e = wire.take<error>();
    CHECK(e.error_uri == uri_of(errc::not_authorized));
    REQUIRE_FALSE(e.args.empty());
    CHECK_MESSAGE(e.args[0].as_string().find(what) != std::string::npos, e.args[0].as_string());
    return e;
  }
};

router_config realms_with_roles() {
  router_config c;
  c.realms = {realm_settings{"app"}, realm_settings{"auth"}};
  auth::realm_authorization& a = c.realms[0].authorization;
  a.configured = true;
  a.roles.push_back(auth::role_config{
      "anonymous",
      {perm("com.app.", match_policy::prefix, "cs"), perm("com.app.svc.", match_policy::prefix, "rc", true),
       perm("com.app.news", match_policy::exact, "ps", false, true)},
      "",
      ""});
  a.roles.push_back(auth::role_config{"guest", {}, "com.example.authorize", "auth"});
  a.authorizer_timeout = std::chrono::milliseconds(200);
  return c;
}

struct fixture {
  test::manual_timers timers;
  test::queue_executor exec;
  router r{realms_with_roles(), timers};
  fixture() { r.set_executor(&exec); }
};

}  // namespace

TEST_CASE_FIXTURE(fixture, "authz session: denied actions are answered, nothing is half-done") {
  conn c(r);
  c.join("app");
  c.send(R"([64,1,{},"com.other.proc"])");
  c.expect_denied("role 'anonymous' may not register 'com.other.proc' in realm 'app'");
  CHECK(r.find_realm("app")->get_dealer().registration_count() == 0);
  c.send(R"([32,2,{},"com.other.topic"])");
  c.expect_denied("may not subscribe");
  CHECK(r.find_realm("app")->get_broker().subscription_count() == 0);
  c.send(R"([48,3,{},"com.other.proc",[]])");
  const auto e = c.expect_denied("may not call");
  CHECK(e.request_type == 48);
  CHECK(e.request == 3);
  c.send(R"([16,4,{"acknowledge":true},"com.other.topic"])");
  c.expect_denied("may not publish");
  c.send(R"([16,5,{},"com.other.topic"])");  // no acknowledge: dropped, counted
  CHECK(c.wire.sent.empty());
  c.send(R"([48,6,{},"wamp.session.kill",[1]])");  // the meta API too
  c.expect_denied("may not call 'wamp.session.kill'");
  const auto& denied = r.denied_counts();
  CHECK(denied.at({"app", static_cast<int>(action::publish)}) == 2);
  CHECK(denied.at({"app", static_cast<int>(action::call)}) == 2);
  // Allowed ones go through.
  c.send(R"([32,7,{},"com.app.t"])");
  CHECK(c.wire.take<subscribed>().request == 7);
}

TEST_CASE_FIXTURE(fixture, "authz session: a permission's disclose forces identification") {
  conn callee(r), caller(r);
  callee.join("app");
  const auto w = caller.join("app");
  callee.send(R"([64,1,{},"com.app.svc.echo"])");
  callee.wire.take<registered>();
  caller.send(R"([48,1,{},"com.app.svc.echo",[]])");
  const auto inv = callee.wire.take<invocation>();
  CHECK(*inv.details.find("caller") == value(w.session));
  callee.send(R"([32,2,{},"com.app.news"])");
  callee.wire.take<subscribed>();
  caller.send(R"([16,2,{"exclude_me":false},"com.app.news"])");
  const auto ev = callee.wire.take<event>();
  CHECK(ev.details.find("publisher") != nullptr);
}

TEST_CASE_FIXTURE(fixture, "authz session: after GOODBYE, the next session on the connection gets its realm's rules") {
  conn c(r);
  c.join("auth");  // no roles: everything allowed
  c.send(R"([64,1,{},"com.other.proc"])");
  c.wire.take<registered>();
  c.send(R"([6,{},"wamp.close.close_realm"])");
  c.wire.take<goodbye>();
  c.join("app");  // roles: com.other.* is not allowed
  c.send(R"([64,2,{},"com.other.proc2"])");
  c.expect_denied("may not register 'com.other.proc2' in realm 'app'");
  c.send(R"([6,{},"wamp.close.close_realm"])");
  c.wire.take<goodbye>();
  c.join("auth");  // and back: allowed again
  c.send(R"([64,3,{},"com.other.proc3"])");
  CHECK(c.wire.take<registered>().request == 3);
}

TEST_CASE("authz session: a role the realm does not define cannot join") {
  test::manual_timers timers;
  router_config c;
  c.realms = {realm_settings{"app"}};
  c.realms[0].authorization.configured = true;
  c.realms[0].authorization.roles.push_back(auth::role_config{"admin", {}, "", ""});
  router r(c, timers);
  conn x(r);
  x.send(R"([1,"app",{"roles":{"caller":{}}}])");
  const auto a = x.wire.take<junction::abort>();
  CHECK(a.reason == "wamp.error.no_such_role");
}

TEST_CASE_FIXTURE(fixture, "authz session: a dynamic authorizer decides; later messages wait in order") {
  // The authorizer: a session of realm "auth".
  conn authorizer(r);
  authorizer.join("auth");
  authorizer.send(R"([64,1,{},"com.example.authorize"])");
  authorizer.wire.take<registered>();
  // A guest (dynamic role): sessions of the role come in through a dynamic authenticator in
  // real life; here the realm's default anonymous role is swapped for the test.
  router_config c = realms_with_roles();
  c.realms[0].authorization.roles[0].name = "other";
  c.realms[0].authorization.roles[1].name = "anonymous";
  r.apply(c);
  conn guest(r);
  guest.join("app");
  guest.send(R"([32,1,{},"com.app.a"])");
  guest.send(R"([32,2,{},"com.app.b"])");  // waits behind the first
  CHECK(guest.wire.sent.empty());
  auto inv = authorizer.wire.take<invocation>();
  REQUIRE(inv.args.size() == 4);
  CHECK(inv.args[1] == value("com.app.a"));
  CHECK(inv.args[2] == value("subscribe"));
  CHECK(inv.args[0].as_object().find("authrole")->as_string() == "anonymous");
  authorizer.send(R"([70,)" + std::to_string(inv.request) + R"(,{},[{"allow":true,"cache":true}]])");
  exec.drain();
  CHECK(guest.wire.take<subscribed>().request == 1);
  // The second is asked in turn (another URI), and refused.
  inv = authorizer.wire.take<invocation>();
  CHECK(inv.args[1] == value("com.app.b"));
  authorizer.send(R"([70,)" + std::to_string(inv.request) + R"(,{},[false]])");
  exec.drain();
  guest.expect_denied("may not subscribe 'com.app.b'");
  // Cached: the authorizer is not asked again for com.app.a, by any session of the role.
  conn guest2(r);
  guest2.join("app");
  guest2.send(R"([32,1,{},"com.app.a"])");
  CHECK(guest2.wire.take<subscribed>().request == 1);
  CHECK(authorizer.wire.sent.empty());
  CHECK(r.authorizer_caches().at("app").hits() == 1);

  SUBCASE("an authorizer that does not answer in time: denied (fail closed)") {
    guest.send(R"([48,3,{},"com.app.x",[]])");
    authorizer.wire.take<invocation>();
    timers.advance(std::chrono::milliseconds(200));
    exec.drain();
    guest.expect_denied("may not call");
    CHECK(r.authorizer_counts().at({"app", "timeout"}) == 1);
  }
  SUBCASE("an answer that is neither true/false nor {allow}: denied, counted as an error") {
    guest.send(R"([48,3,{},"com.app.x",[]])");
    inv = authorizer.wire.take<invocation>();
    authorizer.send(R"([70,)" + std::to_string(inv.request) + R"(,{},["yes"]])");
    exec.drain();
    guest.expect_denied("may not call");
    CHECK(r.authorizer_counts().at({"app", "error"}) == 1);
    guest.send(R"([48,4,{},"com.app.y",[]])");
    inv = authorizer.wire.take<invocation>();
    authorizer.send(R"([70,)" + std::to_string(inv.request) + R"(,{},[],{"allow":true}])");  // kwargs do
    exec.drain();
    CHECK(guest.wire.take<junction::error>().error_uri == uri_of(errc::no_such_procedure));  // allowed: routed
  }
  SUBCASE("the authorizer's registration goes away: the cache goes with it") {
    authorizer.send(R"([66,9,1])");
    authorizer.wire.take<unregistered>();
    guest2.send(R"([32,2,{},"com.app.a"])");
    guest2.expect_denied("may not subscribe");  // no authorizer now: denied
  }
}

TEST_CASE_FIXTURE(fixture, "authz: a reload revokes what the new roles forbid") {
  conn c(r);
  c.join("app");
  c.send(R"([64,1,{},"com.app.svc.a"])");
  c.wire.take<registered>();
  c.send(R"([32,2,{},"com.app.t"])");
  const auto sub = c.wire.take<subscribed>();
  router_config next = realms_with_roles();
  next.realms[0].authorization.roles[0].permissions = {perm("com.app.t", match_policy::exact, "s")};
  const auto changes = r.apply(next);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].find("1 registrations and 0 subscriptions the new roles forbid revoked") != std::string::npos);
  const auto revoked = c.wire.take<unregistered>();
  CHECK(revoked.request == 0);
  CHECK(revoked.details.find("reason")->as_string() == uri_of(errc::not_authorized));
  CHECK(r.find_realm("app")->get_broker().find_subscription(sub.subscription) != nullptr);
  // The next action follows the new rules.
  c.send(R"([48,3,{},"com.app.svc.a",[]])");
  c.expect_denied("may not call");
}
