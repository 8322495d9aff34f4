// Authentication through the session (router/session.cpp) and an in-process transport: CHALLENGE
// and AUTHENTICATE, the generic ABORT, the challenge timeout, the throttle, the listener's slots,
// work off the loop, and a dynamic authenticator reached through the dealer.
#include <doctest/doctest.h>

#include "auth/crypto.hpp"
#include "auth/secrets.hpp"
#include "router/router.hpp"
#include "router/session.hpp"
#include "serializers/errors.hpp"
#include "support/fakes.hpp"

using namespace junction;
using test::fake_transport;

namespace {

struct conn {
  explicit conn(router& r) : wire(json_codec()), s(std::make_shared<session>(r, wire, json_codec())) {}
  fake_transport wire;
  std::shared_ptr<session> s;
  void send(const std::string& json) { s->on_frame(json); }
  void hello(const std::string& realm, const std::string& methods, const std::string& authid = "") {
    send(R"([1,")" + realm + R"(",{"roles":{"caller":{},"callee":{"features":{"call_canceling":true}}},"authmethods":)" +
         methods + (authid.empty() ? "" : R"(,"authid":")" + authid + "\"") + "}]");
  }
  void expect_auth_abort(const char* text = "authentication failed") {
    const auto a = wire.take<junction::abort>();
    CHECK(a.reason == uri_of(errc::authentication_failed));
    const std::string* msg = a.details.get_string("message");
    REQUIRE(msg != nullptr);
    CHECK_MESSAGE(msg->find(text) != std::string::npos, *msg);
    CHECK(wire.closed);
  }
};

struct fixture {
  test::manual_timers timers;
  test::queue_executor exec;
  std::unique_ptr<router> r;

  explicit fixture(router_config c = config()) {
    r = std::make_unique<router>(c, timers);
    r->set_executor(&exec);
  }

  static router_config config() {
    router_config c;
    c.realms = {realm_settings{"open"}, realm_settings{"closed"}, realm_settings{"auth"}};
    auth::realm_auth& a = c.realms[1].auth;
    a.configured = true;
    a.ticket.emplace();
    a.ticket->principals["joe"] = auth::ticket_principal{"user", "", "letmein"};
    auth::ticket_hash h;
    h.iterations = 1000;
    h.salt = "0123456789abcdef";
    h.hash = crypto::pbkdf2_sha256("hashed", h.salt, 1000, 32);
    a.ticket->principals["svc"] = auth::ticket_principal{"backend", auth::format_ticket_hash(h), ""};
    a.challenge_timeout = std::chrono::milliseconds(500);
    c.auth_throttle.failures = 3;
    return c;
  }
};

}  // namespace

TEST_CASE_FIXTURE(fixture, "session auth: CHALLENGE, AUTHENTICATE, WELCOME with the principal's identity") {
  conn c(*r);
  c.hello("closed", R"(["ticket"])", "joe");
  const auto ch = c.wire.take<challenge>();
  CHECK(ch.authmethod == "ticket");
  CHECK(r->find_realm("closed")->session_count() == 0);  // not yet
  c.send(R"([5,"letmein",{}])");
  const auto w = c.wire.take<welcome>();
  CHECK(*w.details.get_string("authid") == "joe");
  CHECK(*w.details.get_string("authrole") == "user");
  CHECK(*w.details.get_string("authmethod") == "ticket");
  CHECK(*w.details.get_string("authprovider") == "static");
  CHECK(r->find_realm("closed")->session_count() == 1);
  const auto& info = *r->find_realm("closed")->sessions().at(w.session).info;
  CHECK(info.authid == "joe");
  CHECK(info.authrole == "user");
  std::map<std::string, std::uint64_t> counts;
  r->for_each_authentication([&](const std::string& realm, const std::string& method, bool ok, std::uint64_t n) {
    counts[realm + "/" + method + (ok ? "/ok" : "/fail")] = n;
  });
  CHECK(counts["closed/ticket/ok"] == 1);
}

TEST_CASE_FIXTURE(fixture, "session auth: a hashed ticket is checked off the loop") {
  conn c(*r);
  c.hello("closed", R"(["ticket"])", "svc");
  c.wire.take<challenge>();
  c.send(R"([5,"hashed",{}])");
  CHECK(c.wire.sent.empty());  // waiting for the worker
  CHECK(exec.drain() == 1);
  CHECK(*c.wire.take<welcome>().details.get_string("authrole") == "backend");
}

TEST_CASE_FIXTURE(fixture, "session auth: a wrong ticket and an unknown authid get the same ABORT") {
  conn wrong(*r);
  wrong.hello("closed", R"(["ticket"])", "joe");
  wrong.wire.take<challenge>();
  wrong.send(R"([5,"guess",{}])");
  wrong.expect_auth_abort();
  conn ghost(*r);
  ghost.hello("closed", R"(["ticket"])", "ghost");
  ghost.wire.take<challenge>();
  ghost.send(R"([5,"guess",{}])");
  exec.drain();
  ghost.expect_auth_abort();
  CHECK(r->live_sessions() == 0);  // the ids handed out at HELLO were given back
}

TEST_CASE_FIXTURE(fixture, "session auth: a method the realm does not offer is ABORT no_auth_method") {
  conn c(*r);
  c.hello("open", R"(["ticket","wampcra"])", "joe");
  const auto a = c.wire.take<junction::abort>();
  CHECK(a.reason == "wamp.error.no_auth_method");
  CHECK(a.details.get_string("message")->find("accepts anonymous") != std::string::npos);
  conn d(*r);
  d.hello("closed", R"(["anonymous"])");
  CHECK(d.wire.take<junction::abort>().reason == "wamp.error.no_auth_method");
}

TEST_CASE_FIXTURE(fixture, "session auth: a CHALLENGE not answered in time ends the connection") {
  conn c(*r);
  c.hello("closed", R"(["ticket"])", "joe");
  c.wire.take<challenge>();
  timers.advance(std::chrono::milliseconds(499));
  CHECK(c.wire.sent.empty());
  timers.advance(std::chrono::milliseconds(1));
  c.expect_auth_abort();
  c.send(R"([5,"letmein",{}])");  // too late: ignored
  CHECK(c.wire.sent.empty());
}

TEST_CASE_FIXTURE(fixture, "session auth: anything but AUTHENTICATE after a CHALLENGE is a protocol violation") {
  conn c(*r);
  c.hello("closed", R"(["ticket"])", "joe");
  c.wire.take<challenge>();
  c.send(R"([32,1,{},"com.t"])");
  CHECK(c.wire.take<junction::abort>().reason == uri_of(errc::protocol_violation));
  CHECK(timers.pending() == 0);  // the challenge timer went with it
  CHECK(r->live_sessions() == 0);
}

TEST_CASE_FIXTURE(fixture, "session auth: a client that ABORTs after a CHALLENGE gives its session id back") {
  conn c(*r);
  c.hello("closed", R"(["ticket"])", "joe");
  c.wire.take<challenge>();
  CHECK(r->live_sessions() == 1);  // reserved for the WELCOME
  c.send(R"([3,{},"wamp.close.goodbye_and_out"])");
  CHECK(c.wire.closed);
  CHECK(timers.pending() == 0);
  CHECK(r->live_sessions() == 0);  // it used to stay reserved for the router's lifetime
  c.send(R"([5,"letmein",{}])");    // too late: ignored
  CHECK(c.wire.sent.empty());
}

TEST_CASE_FIXTURE(fixture, "session auth: repeated failures lock the address out") {
  for (int i = 0; i < 3; ++i) {
    conn c(*r);
    c.hello("closed", R"(["ticket"])", "joe");
    c.wire.take<challenge>();
    c.send(R"([5,"guess",{}])");
    c.expect_auth_abort();
  }
  conn locked(*r);
  locked.hello("closed", R"(["ticket"])", "joe");
  locked.expect_auth_abort("too many failed authentications");
  // Anonymous realms are not throttled.
  conn anon(*r);
  anon.hello("open", R"(["anonymous"])");
  anon.wire.take<welcome>();
}

TEST_CASE_FIXTURE(fixture, "session auth: the listener's slots bound the sessions authenticating at once") {
  auth_slots slots{0, 1};
  conn first(*r), second(*r);
  first.wire.slots = &slots;
  second.wire.slots = &slots;
  first.hello("closed", R"(["ticket"])", "joe");
  first.wire.take<challenge>();
  CHECK(slots.pending == 1);
  second.hello("closed", R"(["ticket"])", "joe");
  second.expect_auth_abort("too many sessions are authenticating");
  first.send(R"([5,"letmein",{}])");
  first.wire.take<welcome>();
  CHECK(slots.pending == 0);
}

TEST_CASE("session auth: a dynamic authenticator is called through the dealer") {
  test::manual_timers timers;
  test::queue_executor exec;
  router_config c;
  c.realms = {realm_settings{"app"}, realm_settings{"auth"}};
  auth::realm_auth& a = c.realms[0].auth;
  a.configured = true;
  a.ticket.emplace();
  a.ticket->authenticator = {"com.example.authenticate", "auth"};
  a.authenticator_timeout = std::chrono::milliseconds(300);
  router r(c, timers);
  r.set_executor(&exec);
  // The authenticator: a session of realm "auth" that registered the procedure.
  conn authenticator(r);
  authenticator.hello("auth", R"(["anonymous"])");
  authenticator.wire.take<welcome>();
  authenticator.send(R"([64,1,{},"com.example.authenticate"])");
  authenticator.wire.take<registered>();

  conn client(r);
  client.hello("app", R"(["ticket"])", "joe");
  client.wire.take<challenge>();
  client.send(R"([5,"t0ken",{}])");
  auto inv = authenticator.wire.take<invocation>();
  REQUIRE(inv.args.size() == 3);
  CHECK(inv.args[0] == value("app"));
  CHECK(inv.args[1] == value("joe"));
  CHECK(*inv.args[2].as_object().get_string("ticket") == "t0ken");
  authenticator.send(R"([70,)" + std::to_string(inv.request) + R"(,{},[{"role":"member","extra":{"plan":"pro"}}]])");
  CHECK(client.wire.sent.empty());  // handed off, not answered from inside the dealer
  exec.drain();
  const auto w = client.wire.take<welcome>();
  CHECK(*w.details.get_string("authrole") == "member");
  CHECK(*w.details.get_string("authprovider") == "dynamic");
  CHECK(w.details.find("authextra")->as_object() == object{{"plan", value("pro")}});

  SUBCASE("an error from the authenticator is a refusal") {
    conn other(r);
    other.hello("app", R"(["ticket"])", "eve");
    other.wire.take<challenge>();
    other.send(R"([5,"bad",{}])");
    auto i2 = authenticator.wire.take<invocation>();
    authenticator.send(R"([8,68,)" + std::to_string(i2.request) + R"(,{},"com.example.denied"])");
    exec.drain();
    other.expect_auth_abort();
  }
  SUBCASE("an authenticator that does not answer in time") {
    conn slow(r);
    slow.hello("app", R"(["ticket"])", "sam");
    slow.wire.take<challenge>();
    slow.send(R"([5,"t",{}])");
    authenticator.wire.take<invocation>();
    timers.advance(std::chrono::milliseconds(300));
    exec.drain();
    slow.expect_auth_abort();
  }
  SUBCASE("the client leaves while the authenticator thinks") {
    auto gone = std::make_unique<conn>(r);
    gone->hello("app", R"(["ticket"])", "amy");
    gone->wire.take<challenge>();
    gone->send(R"([5,"t",{}])");
    auto i3 = authenticator.wire.take<invocation>();
    gone->s->on_transport_closed();
    gone.reset();
    authenticator.send(R"([70,)" + std::to_string(i3.request) + R"(,{},["member"]])");
    exec.drain();  // the answer finds no one waiting: nothing happens
    CHECK(r.find_realm("app")->session_count() == 1);
  }
}
