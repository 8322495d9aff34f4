// The session state machine driven through an in-process transport (no sockets): joining,
// GOODBYE, consecutive sessions, and the protocol violations that end a session.
#include <doctest/doctest.h>

#include "router/router.hpp"
#include "router/session.hpp"
#include "serializers/errors.hpp"
#include "support/fakes.hpp"

using namespace junction;
using test::fake_transport;

namespace {

router_config two_realms(bool strict = false) {
  router_config c;
  c.realms = {realm_settings{"realm1"}, realm_settings{"realm2"}};
  c.strict_request_ids = strict;
  return c;
}

struct connection {
  explicit connection(router& r, const codec& c = json_codec())
      : wire(c), s(std::make_shared<session>(r, wire, c)) {}
  fake_transport wire;
  std::shared_ptr<session> s;

  void send(const std::string& json) {
    // Tests speak JSON text; re-encode for a msgpack connection.
    if (wire.wire.kind() == serializer::json) {
      s->on_frame(json);
    } else {
      auto v = json_codec().decode_value(json);
      REQUIRE(v.ok());
      std::string bytes;
      wire.wire.encode_value(*v, bytes);
      s->on_frame(bytes);
    }
  }
  welcome join(const std::string& realm = "realm1") {
    send(R"([1,")" + realm + R"(",{"roles":{"caller":{},"callee":{},"publisher":{},"subscriber":{}}}])");
    return wire.take<welcome>();
  }
  // Expects ABORT protocol_violation whose message contains `text`, and a closed transport.
  void expect_violation(const std::string& text) {
    const auto a = wire.take<junction::abort>();
    CHECK(a.reason == uri_of(errc::protocol_violation));
    const std::string* msg = a.details.get_string("message");
    REQUIRE(msg != nullptr);
    CHECK_MESSAGE(msg->find(text) != std::string::npos, *msg, " does not contain ", text);
    CHECK(wire.closed);
  }
};

}  // namespace

TEST_CASE("session: HELLO → WELCOME with identity and a truthful roles announcement") {
  test::manual_timers timers;
  router r(two_realms(), timers);
  connection c(r);
  const auto w = c.join();
  CHECK(w.session >= 1);
  CHECK(w.session <= max_id);
  CHECK(*w.details.get_string("authrole") == "anonymous");
  CHECK(*w.details.get_string("authmethod") == "anonymous");
  CHECK_FALSE(w.details.get_string("authid")->empty());
  const value* roles = w.details.find("roles");
  REQUIRE(roles != nullptr);
  CHECK(roles->as_object().contains("broker"));
  CHECK(roles->as_object().contains("dealer"));
  CHECK(roles->as_object().size() == 2);
  // Exactly the router's announcement (realm/features.cpp), which lists what is implemented.
  CHECK(*roles == router_roles());
  CHECK(r.find_realm("realm1")->session_count() == 1);

  connection d(r);
  const auto w2 = d.join();
  CHECK(w2.session != w.session);
  CHECK(*w2.details.get_string("authid") != *w.details.get_string("authid"));
}

TEST_CASE("session: unknown realm → ABORT no_such_realm") {
  test::manual_timers timers;
  router r(two_realms(), timers);
  connection c(r);
  c.send(R"([1,"nope",{"roles":{"caller":{}}}])");
  const auto a = c.wire.take<junction::abort>();
  CHECK(a.reason == uri_of(errc::no_such_realm));
  CHECK(c.wire.closed);
}

TEST_CASE("session: GOODBYE both ways, then another session on the same connection") {
  test::manual_timers timers;
  router r(two_realms(), timers);
  connection c(r, msgpack_codec());
  const auto first = c.join();
  c.send(R"([6,{},"wamp.close.close_realm"])");
  const auto bye = c.wire.take<goodbye>();
  CHECK(bye.reason == uri_of(errc::goodbye_and_out));
  CHECK_FALSE(c.wire.closed);
  CHECK(r.find_realm("realm1")->session_count() == 0);
  const auto second = c.join("realm2");
  CHECK(second.session != first.session);
  CHECK(r.find_realm("realm2")->session_count() == 1);
}

TEST_CASE("session: the transport closing removes the session from its realm") {
  test::manual_timers timers;
  router r(two_realms(), timers);
  connection c(r);
  c.join();
  c.send(R"([64,1,{},"com.p"])");
  c.wire.take<registered>();
  c.s->on_transport_closed();
  CHECK(r.find_realm("realm1")->session_count() == 0);
  CHECK(r.find_realm("realm1")->get_dealer().registration_count() == 0);
  CHECK(r.live_sessions() == 0);
}

TEST_CASE("session: protocol violations close only the offending session") {
  test::manual_timers timers;
  router r(two_realms(), timers);
  connection bystander(r);
  bystander.join();
  bystander.send(R"([64,1,{},"com.echo"])");
  bystander.wire.take<registered>();

  struct row {
    const char* name;
    bool hello_first;
    const char* frame;
    const char* expect;
  };
  const row rows[] = {
      {"invalid JSON", false, R"([1, "realm1", )", "JSON"},
      {"not an array", false, R"({"a":1})", "not an array"},
      {"empty array", false, "[]", "empty"},
      {"reserved code 7", false, "[7]", "unknown message type 7"},
      {"wrong arity", false, R"([1,"realm1"])", "elements"},
      {"wrong field type", false, R"([1,5,{}])", "must be"},
      {"message before HELLO", false, R"([48,1,{},"com.echo"])", "before HELLO"},
      {"second HELLO", true, R"([1,"realm1",{"roles":{"caller":{}}}])", "HELLO"},
      {"RESULT to a router", true, R"([50,1,{}])", "RESULT"},
      {"WELCOME to a router", true, R"([2,1,{}])", "WELCOME"},
      {"ERROR for CALL", true, R"([8,48,1,{},"com.err"])", "ERROR for request type 48"},
      {"YIELD for unknown invocation", true, R"([70,12345,{}])", "YIELD for unknown INVOCATION"},
      {"HELLO without roles", false, R"([1,"realm1",{}])", "roles"},
  };
  for (const row& x : rows) {
    CAPTURE(x.name);
    connection c(r);
    if (x.hello_first) c.join();
    c.send(x.frame);
    c.expect_violation(x.expect);
    // Input after the ABORT is ignored.
    c.send(R"([48,2,{},"com.echo"])");
    CHECK(c.wire.sent.empty());
  }
  // The bystander and the realm are unharmed.
  connection caller(r);
  caller.join();
  caller.send(R"([48,1,{},"com.echo",["ping"]])");
  const auto inv = bystander.wire.take<invocation>();
  CHECK(inv.args == array{value("ping")});
  CHECK(r.find_realm("realm1")->session_count() == 2);
}

TEST_CASE("session: request ids are lenient by default and sequential in strict mode") {
  test::manual_timers timers;
  router lenient(two_realms(false), timers);
  connection c(lenient);
  c.join();
  c.send(R"([32,17,{},"com.t"])");
  CHECK(c.wire.take<subscribed>().request == 17);
  c.send(R"([32,3,{},"com.u"])");
  CHECK(c.wire.take<subscribed>().request == 3);

  router strict(two_realms(true), timers);
  connection d(strict);
  d.join();
  d.send(R"([32,1,{},"com.t"])");
  d.wire.take<subscribed>();
  d.send(R"([64,2,{},"com.p"])");
  d.wire.take<registered>();
  d.send(R"([48,4,{},"com.p"])");
  d.expect_violation("request id 4 is not 3");
}

TEST_CASE("session: router shutdown says GOODBYE system_shutdown to established sessions") {
  test::manual_timers timers;
  router r(two_realms(), timers);
  connection c(r);
  c.join();
  c.s->shutdown();
  const auto g = c.wire.take<goodbye>();
  CHECK(g.reason == uri_of(errc::system_shutdown));
  CHECK(r.find_realm("realm1")->session_count() == 0);
  connection idle(r);
  idle.s->shutdown();  // not joined: nothing to say
  CHECK(idle.wire.sent.empty());
}

TEST_CASE("session: a killed session is told GOODBYE, ignores all but the reply, then may rejoin") {
  test::manual_timers timers;
  router r(two_realms(), timers);
  connection admin(r);
  const auto wa = admin.join();
  connection victim(r);
  const auto wv = victim.join();
  admin.send(R"([48,1,{},"wamp.session.kill",[)" + std::to_string(wv.session) +
             R"(],{"message":"maintenance"}])");
  CHECK(admin.wire.take<result_>().request == 1);
  const auto g = victim.wire.take<goodbye>();
  CHECK(g.reason == "wamp.close.killed");
  CHECK(*g.details.get_string("message") == "maintenance");
  CHECK(r.find_realm("realm1")->session_count() == 1);
  CHECK(r.live_sessions() == 1);
  CHECK_FALSE(victim.wire.closed);
  // Until its GOODBYE reply, the client's messages are ignored (spec basic/sessions).
  victim.send(R"([32,1,{},"com.t"])");
  CHECK(victim.wire.sent.empty());
  victim.send(R"([6,{},"wamp.close.goodbye_and_out"])");
  CHECK(victim.wire.sent.empty());  // the reply is not answered
  CHECK(victim.join().session != wa.session);
  CHECK(r.find_realm("realm1")->session_count() == 2);
}

TEST_CASE("session: strict request ids let a progressive CALL continue under its first id") {
  test::manual_timers timers;
  router r(two_realms(true), timers);
  const std::string features =
      R"({"features":{"progressive_call_invocations":true,"call_canceling":true}})";
  connection callee(r);
  callee.send(R"([1,"realm1",{"roles":{"callee":)" + features + "}}]");
  callee.wire.take<welcome>();
  callee.send(R"([64,1,{},"com.up"])");
  callee.wire.take<registered>();
  connection caller(r);
  caller.send(R"([1,"realm1",{"roles":{"caller":)" + features + "}}]");
  caller.wire.take<welcome>();
  caller.send(R"([48,1,{"progress":true},"com.up",["a"]])");
  caller.send(R"([48,1,{},"com.up",["b"]])");  // out of sequence, but a continuation
  const auto first = callee.wire.take<invocation>();
  const auto last = callee.wire.take<invocation>();
  CHECK(last.request == first.request);
  CHECK(last.args == array{value("b")});
  CHECK_FALSE(caller.wire.closed);
  caller.send(R"([48,1,{},"com.up",[]])");  // reused while the call runs: not a continuation
  caller.expect_violation("already in use");
}

TEST_CASE("session: the meta API's session details name the transport it arrived on") {
  test::manual_timers timers;
  router r(two_realms(), timers);
  connection json(r);
  connection packed(r, msgpack_codec());
  const auto wj = json.join();
  const auto wp = packed.join();
  json.send(R"([48,1,{},"wamp.session.get",[)" + std::to_string(wp.session) + "]]");
  const auto res = json.wire.take<result_>();
  REQUIRE(res.args.size() == 1);
  const value* t = res.args[0].as_object().find("transport");
  REQUIRE(t != nullptr);
  CHECK(*t == value(object{{"type", value("in-process")},
                           {"protocol", value("wamp.2.msgpack")},
                           {"peer", value("test")}}));
  json.send(R"([48,2,{},"wamp.session.get",[)" + std::to_string(wj.session) + "]]");
  const auto own = json.wire.take<result_>();
  CHECK(*own.args.at(0).as_object().find("transport")->as_object().get_string("protocol") ==
        "wamp.2.json");
}

TEST_CASE("session: a client that takes 512 bytes gets a WELCOME without feature lists, and keeps its session") {
  test::manual_timers timers;
  router r(two_realms(), timers);
  connection full(r);
  std::string bytes;
  json_codec().encode(full.join(), bytes);
  REQUIRE(bytes.size() > 512);  // what the small client cannot take

  connection c(r);
  c.wire.max_bytes = 512;
  const auto w = c.join();
  CHECK_FALSE(c.wire.closed);
  const value* roles = w.details.find("roles");
  REQUIRE(roles != nullptr);
  CHECK(*roles == value(object{{"broker", value(object{})}, {"dealer", value(object{})}}));
  CHECK(*w.details.get_string("authrole") == "anonymous");
  CHECK(r.find_realm("realm1")->session_count() == 2);
  // A RESULT over its limit: ERROR payload_size_exceeded, and the session goes on.
  c.send(R"([48,1,{},"wamp.session.list",[]])");
  CHECK(c.wire.take<result_>().request == 1);
  connection callee(r);
  callee.join();
  callee.send(R"([64,1,{},"com.big"])");
  callee.wire.take<registered>();
  c.send(R"([48,2,{},"com.big",[]])");
  const auto inv = callee.wire.take<invocation>();
  callee.send("[70," + std::to_string(inv.request) + R"(,{},[")" + std::string(600, 'x') + R"("]])");
  const auto e = c.wire.take<error>();
  CHECK(e.request == 2);
  CHECK(e.error_uri == "wamp.error.payload_size_exceeded");
  CHECK_FALSE(c.wire.closed);
}

TEST_CASE("session: a message that cannot be made smaller ends the connection, once") {
  test::manual_timers timers;
  router r(two_realms(), timers);
  connection c(r);
  c.join();
  c.wire.max_bytes = 5;  // below what a SUBSCRIBED ([33,1,1]) and an ABORT need
  c.send(R"([32,1,{},"com.t"])");
  CHECK(c.wire.closed);
  CHECK(c.wire.sent.empty());  // not even the ABORT fits
  CHECK(r.find_realm("realm1")->session_count() == 0);
}

TEST_CASE("session: a congested subscriber misses EVENTs in a drop-events realm, and only EVENTs") {
  test::manual_timers timers;
  router_config cfg = two_realms();
  cfg.realms[1].slow_consumer = slow_consumer_policy::drop_events;  // realm2; realm1 disconnects
  router r(cfg, timers);
  for (const char* realm : {"realm1", "realm2"}) {
    CAPTURE(realm);
    const bool drops = std::string(realm) == "realm2";
    connection sub(r), pub(r);
    sub.join(realm);
    pub.join(realm);
    sub.send(R"([32,1,{},"com.t"])");
    sub.wire.take<subscribed>();
    sub.send(R"([64,2,{},"com.p"])");
    sub.wire.take<registered>();
    sub.wire.is_congested = true;
    pub.send(R"([16,1,{},"com.t",[1]])");
    pub.send(R"([16,2,{},"com.t",[2]])");
    pub.send(R"([48,3,{},"com.p",[]])");  // an INVOCATION is never dropped
    if (drops) {
      CHECK(r.find_realm(realm)->stats().events_dropped.get() == 2);
    } else {
      CHECK(sub.wire.take<event>().args == array{value(1)});
      CHECK(sub.wire.take<event>().args == array{value(2)});
    }
    CHECK(sub.wire.take<invocation>().registration != 0);
    sub.wire.is_congested = false;  // caught up
    pub.send(R"([16,4,{},"com.t",[4]])");
    CHECK(sub.wire.take<event>().args == array{value(4)});
    CHECK(sub.wire.sent.empty());
  }
}
