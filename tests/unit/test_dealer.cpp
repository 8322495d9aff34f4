// The dealer as a plain object inside a realm, with fake sessions (no sockets).
#include <doctest/doctest.h>

#include "realm/realm.hpp"
#include "serializers/errors.hpp"
#include "support/fakes.hpp"

using namespace junction;
using test::fake_peer;

namespace {

struct dealer_fixture {
  test::manual_timers timers;
  realm r{realm_config{"realm1"}, timers};
  std::shared_ptr<fake_peer> callee = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> caller = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> other = std::make_shared<fake_peer>();
  dealer_fixture() {
    r.join(session_info{1, "callee", "anonymous", "anonymous", "", {}}, callee);
    r.join(session_info{2, "caller", "anonymous", "anonymous", "", {}}, caller);
    r.join(session_info{3, "other", "anonymous", "anonymous", "", {}}, other);
  }
  id reg(const std::string& procedure, id request = 1) {
    CHECK_FALSE(r.handle(1, register_{request, {}, procedure}));
    return callee->take<registered>().registration;
  }
};

}  // namespace

TEST_CASE_FIXTURE(dealer_fixture, "dealer: CALL → INVOCATION → YIELD → RESULT with args and kwargs") {
  const id registration = reg("com.example.add");
  CHECK_FALSE(r.handle(2, call{7, {}, "com.example.add", {value(2), value(3)},
                               object{{"unit", value("m")}}}));
  const auto inv = callee->take<invocation>();
  CHECK(inv.registration == registration);
  CHECK(inv.request == 1);
  CHECK(inv.args == array{value(2), value(3)});
  CHECK(inv.kwargs == object{{"unit", value("m")}});
  CHECK_FALSE(r.handle(1, yield{inv.request, {}, {value(5)}, object{{"unit", value("m")}}}));
  const auto res = caller->take<result_>();
  CHECK(res.request == 7);
  CHECK(res.args == array{value(5)});
  CHECK(res.kwargs == object{{"unit", value("m")}});
  CHECK(r.get_dealer().in_flight() == 0);
}

TEST_CASE_FIXTURE(dealer_fixture, "dealer: payloads are moved, not copied, from CALL to RESULT") {
  reg("com.example.echo");
  call c{1, {}, "com.example.echo", {}, {}};
  c.args.emplace_back(std::string(4096, 'x'));
  const char* original = c.args[0].as_string().data();
  CHECK_FALSE(r.handle(2, std::move(c)));
  auto inv = callee->take<invocation>();
  CHECK(inv.args.at(0).as_string().data() == original);
  CHECK_FALSE(r.handle(1, yield{inv.request, {}, std::move(inv.args), {}}));
  CHECK(caller->last<result_>().args.at(0).as_string().data() == original);
}

TEST_CASE_FIXTURE(dealer_fixture, "dealer: invocation request ids run 1, 2, 3 per callee") {
  reg("com.p");
  for (id i = 1; i <= 3; ++i) {
    CHECK_FALSE(r.handle(2, call{10 + i, {}, "com.p", {}, {}}));
    CHECK(callee->take<invocation>().request == i);
  }
  CHECK(r.get_dealer().in_flight() == 3);
}

TEST_CASE_FIXTURE(dealer_fixture, "dealer: callee ERROR reaches the caller with its URI, args and kwargs") {
  reg("com.p");
  CHECK_FALSE(r.handle(2, call{4, {}, "com.p", {}, {}}));
  const auto inv = callee->take<invocation>();
  error e;
  e.request_type = 68;
  e.request = inv.request;
  e.error_uri = "com.example.error.not_found";
  e.args = {value("nope")};
  e.kwargs = object{{"id", value(42)}};
  CHECK_FALSE(r.handle(1, std::move(e)));
  const auto got = caller->take<error>();
  CHECK(got.request_type == 48);
  CHECK(got.request == 4);
  CHECK(got.error_uri == "com.example.error.not_found");
  CHECK(got.args == array{value("nope")});
  CHECK(got.kwargs == object{{"id", value(42)}});
}

TEST_CASE_FIXTURE(dealer_fixture, "dealer: registration errors") {
  reg("com.p");
  CHECK_FALSE(r.handle(3, register_{1, {}, "com.p"}));
  CHECK(other->take<error>().error_uri == uri_of(errc::procedure_already_exists));
  CHECK_FALSE(r.handle(3, register_{2, {}, "com..p"}));
  CHECK(other->take<error>().error_uri == uri_of(errc::invalid_uri));
  CHECK_FALSE(r.handle(3, register_{3, {}, "wamp.session.count"}));
  CHECK(other->take<error>().error_uri == uri_of(errc::invalid_uri));
  CHECK_FALSE(r.handle(2, call{4, {}, "com.missing", {}, {}}));
  const auto e = caller->take<error>();
  CHECK(e.error_uri == uri_of(errc::no_such_procedure));
  CHECK(e.request_type == 48);
  CHECK(e.request == 4);
  CHECK_FALSE(r.handle(2, call{5, {}, "bad uri", {}, {}}));
  CHECK(caller->take<error>().error_uri == uri_of(errc::invalid_uri));
}

TEST_CASE_FIXTURE(dealer_fixture, "dealer: UNREGISTER only for the session's own registrations") {
  const id registration = reg("com.p");
  CHECK_FALSE(r.handle(3, unregister{1, registration}));
  const auto e = other->take<error>();
  CHECK(e.error_uri == uri_of(errc::no_such_registration));
  CHECK(e.request_type == 66);
  CHECK_FALSE(r.handle(1, unregister{2, registration + 100}));
  CHECK(callee->take<error>().error_uri == uri_of(errc::no_such_registration));
  CHECK_FALSE(r.handle(1, unregister{3, registration}));
  CHECK(callee->take<unregistered>().request == 3);
  CHECK_FALSE(r.handle(2, call{1, {}, "com.p", {}, {}}));
  CHECK(caller->take<error>().error_uri == uri_of(errc::no_such_procedure));
  // The URI is free again.
  CHECK_FALSE(r.handle(3, register_{4, {}, "com.p"}));
  CHECK(other->inbox.size() == 1);
  CHECK(std::holds_alternative<registered>(other->inbox.back()));
}

TEST_CASE_FIXTURE(dealer_fixture, "dealer: a callee leaving mid-call cancels every waiting caller") {
  reg("com.slow");
  CHECK_FALSE(r.handle(2, call{1, {}, "com.slow", {}, {}}));
  CHECK_FALSE(r.handle(3, call{9, {}, "com.slow", {}, {}}));
  CHECK_FALSE(r.handle(2, call{2, {}, "com.slow", {}, {}}));
  r.leave(1);
  REQUIRE(caller->inbox.size() == 2);
  REQUIRE(other->inbox.size() == 1);
  for (auto* p : {caller.get(), other.get()})
    for (const auto& m : p->inbox) {
      const auto& e = std::get<error>(m);
      CHECK(e.error_uri == uri_of(errc::canceled));
      CHECK(e.request_type == 48);
    }
  CHECK(std::get<error>(other->inbox[0]).request == 9);
  CHECK(r.get_dealer().registration_count() == 0);
  CHECK(r.get_dealer().in_flight() == 0);
}

TEST_CASE_FIXTURE(dealer_fixture, "dealer: a caller leaving → the late YIELD is discarded quietly") {
  reg("com.p");
  CHECK_FALSE(r.handle(2, call{1, {}, "com.p", {}, {}}));
  const auto inv = callee->take<invocation>();
  r.leave(2);
  CHECK_FALSE(r.handle(1, yield{inv.request, {}, {}, {}}));  // no protocol violation
  CHECK(caller->inbox.empty());
  CHECK(callee->inbox.empty());
  CHECK(r.get_dealer().in_flight() == 0);
}

TEST_CASE_FIXTURE(dealer_fixture, "dealer: YIELD or ERROR for an unknown invocation is a protocol violation") {
  reg("com.p");
  auto f = r.handle(1, yield{77, {}, {}, {}});
  REQUIRE(f.has_value());
  CHECK(f->message.find("YIELD") != std::string::npos);
  CHECK(f->message.find("77") != std::string::npos);
  error e;
  e.request_type = 68;
  e.request = 78;
  e.error_uri = "com.err";
  CHECK(r.handle(1, std::move(e)).has_value());
  // Another session cannot answer someone else's invocation.
  CHECK_FALSE(r.handle(2, call{1, {}, "com.p", {}, {}}));
  const auto inv = callee->take<invocation>();
  CHECK(r.handle(3, yield{inv.request, {}, {}, {}}).has_value());
}

// --- Advanced Profile -----------------------------------------------------------------------

namespace {

client_features all_features() {
  client_features f;
  for (auto role : {client_role::caller, client_role::callee})
    for (auto feat : {feature::progressive_call_results, feature::progressive_call_invocations,
                      feature::call_canceling, feature::caller_identification,
                      feature::pattern_based_registration, feature::shared_registration,
                      feature::registration_revocation})
      f.set(role, feat);
  return f;
}

client_features basic_features() {
  client_features f;
  f.set_role(client_role::caller);
  f.set_role(client_role::callee);
  return f;
}

// Session 1 and 2 announce every feature, session 3 (`plain`) none; 4 (`second`) is a second
// callee with every feature, for shared registrations.
struct advanced_fixture {
  test::manual_timers timers;
  realm_config config;
  realm r{config, timers};
  std::shared_ptr<fake_peer> callee = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> caller = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> plain = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> second = std::make_shared<fake_peer>();
  advanced_fixture() : advanced_fixture(realm_config{"realm1"}) {}
  explicit advanced_fixture(realm_config c) : config(seeded(std::move(c))) { join(); }
  static realm_config seeded(realm_config c) {
    c.random_seed = 42;
    return c;
  }
  void join() {
    r.join(session_info{1, "alice", "backend", "anonymous", "", all_features()}, callee);
    r.join(session_info{2, "bob", "frontend", "anonymous", "", all_features()}, caller);
    r.join(session_info{3, "carol", "legacy", "anonymous", "", basic_features()}, plain);
    r.join(session_info{4, "dave", "backend", "anonymous", "", all_features()}, second);
  }
  fake_peer& peer_of(id session) {
    switch (session) {
      case 1: return *callee;
      case 2: return *caller;
      case 3: return *plain;
      default: return *second;
    }
  }
  id reg(id session, const std::string& procedure, object options = {}) {
    static id request = 1000;
    CHECK_FALSE(r.handle(session, register_{++request, std::move(options), procedure}));
    return peer_of(session).take<registered>().registration;
  }
  // Calls `procedure` from the caller and returns the INVOCATION `at` received.
  invocation call_to(fake_peer& at, id request, const std::string& procedure, object options = {}) {
    CHECK_FALSE(r.handle(2, call{request, std::move(options), procedure, {value(request)}, {}}));
    return at.take<invocation>();
  }
};

bool has_key(const object& o, std::string_view key) { return o.find(key) != nullptr; }

}  // namespace

TEST_CASE_FIXTURE(advanced_fixture, "dealer: progressive call results are forwarded at once, one final RESULT ends the call") {
  reg(1, "com.stream");
  const auto inv = call_to(*callee, 5, "com.stream", object{{"receive_progress", value(true)}});
  CHECK(inv.details.get_bool("receive_progress", false));
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(r.handle(1, yield{inv.request, object{{"progress", value(true)}}, {value(i)}, {}}));
    const auto res = caller->take<result_>();
    CHECK(res.request == 5);
    CHECK(res.details.get_bool("progress", false));
    CHECK(res.args == array{value(i)});
  }
  CHECK(r.get_dealer().in_flight() == 1);
  CHECK_FALSE(r.handle(1, yield{inv.request, {}, {value("done")}, {}}));
  const auto final_result = caller->take<result_>();
  CHECK_FALSE(has_key(final_result.details, "progress"));
  CHECK(final_result.args == array{value("done")});
  CHECK(r.get_dealer().in_flight() == 0);
  CHECK(caller->inbox.empty());
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: receive_progress is not forced on a callee that did not announce it") {
  reg(3, "com.legacy");
  const auto inv = call_to(*plain, 5, "com.legacy", object{{"receive_progress", value(true)}});
  CHECK_FALSE(has_key(inv.details, "receive_progress"));
  // And a progressive YIELD toward a caller that did not ask is dropped, the call stays open.
  reg(1, "com.stream");
  const auto inv2 = call_to(*callee, 6, "com.stream");
  CHECK_FALSE(has_key(inv2.details, "receive_progress"));
  CHECK_FALSE(r.handle(1, yield{inv2.request, object{{"progress", value(true)}}, {}, {}}));
  CHECK(caller->inbox.empty());
  CHECK_FALSE(r.handle(1, yield{inv2.request, {}, {value(1)}, {}}));
  CHECK(caller->take<result_>().request == 6);
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: progressive call invocations reuse the request id and the callee") {
  reg(1, "com.upload", object{{"invoke", value("roundrobin")}});
  reg(4, "com.upload", object{{"invoke", value("roundrobin")}});
  const object more{{"progress", value(true)}};
  const auto first = call_to(*callee, 7, "com.upload", more);
  CHECK(first.details.get_bool("progress", false));
  // Continuations stick to the same callee and invocation id, even with round robin.
  CHECK_FALSE(r.handle(2, call{7, more, "com.upload", {value("chunk2")}, {}}));
  auto next = callee->take<invocation>();
  CHECK(next.request == first.request);
  CHECK(next.details.get_bool("progress", false));
  CHECK(next.args == array{value("chunk2")});
  // Options are frozen at the first CALL: a later timeout is ignored.
  CHECK_FALSE(r.handle(2, call{7, object{{"timeout", value(5)}}, "com.upload", {value("end")}, {}}));
  next = callee->take<invocation>();
  CHECK(next.request == first.request);
  CHECK_FALSE(has_key(next.details, "progress"));
  CHECK(timers.pending() == 0);
  CHECK(second->inbox.empty());
  // The invocation is closed: reusing the id now is a protocol violation while the call runs.
  CHECK(r.handle(2, call{7, more, "com.upload", {}, {}}).has_value());
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: a progressive call's late continuations are dropped quietly") {
  reg(1, "com.upload");
  const object more{{"progress", value(true)}};
  const auto inv = call_to(*callee, 7, "com.upload", more);
  CHECK_FALSE(r.handle(1, yield{inv.request, {}, {value("enough")}, {}}));
  CHECK(caller->take<result_>().request == 7);
  CHECK(r.get_dealer().knows_call(2, 7));
  CHECK_FALSE(r.handle(2, call{7, more, "com.upload", {}, {}}));
  CHECK_FALSE(r.handle(2, call{7, {}, "com.upload", {}, {}}));
  CHECK(callee->inbox.empty());
  CHECK(caller->inbox.empty());
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: progressive call invocation rules") {
  reg(1, "com.upload");
  reg(3, "com.legacy");
  const object more{{"progress", value(true)}};
  SUBCASE("a caller that did not announce the feature commits a protocol violation") {
    auto f = r.handle(3, call{1, more, "com.upload", {}, {}});
    REQUIRE(f.has_value());
    CHECK(f->message.find("progressive_call_invocations") != std::string::npos);
  }
  SUBCASE("a callee without the feature → feature_not_supported to the caller") {
    CHECK_FALSE(r.handle(2, call{1, more, "com.legacy", {}, {}}));
    CHECK(caller->take<error>().error_uri == uri_of(errc::feature_not_supported));
    CHECK(plain->inbox.empty());
  }
  SUBCASE("a CALL reusing the id of a non-progressive call in flight is a protocol violation") {
    call_to(*callee, 3, "com.upload");
    CHECK(r.handle(2, call{3, {}, "com.upload", {}, {}}).has_value());
  }
  SUBCASE("a continuation naming another procedure is a protocol violation") {
    call_to(*callee, 3, "com.upload", more);
    CHECK(r.handle(2, call{3, more, "com.other", {}, {}}).has_value());
  }
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: call timeout ends the call with wamp.error.timeout and interrupts the callee") {
  reg(1, "com.slow");
  const auto inv = call_to(*callee, 9, "com.slow", object{{"timeout", value(100)}});
  CHECK(timers.pending() == 1);
  CHECK(timers.advance(std::chrono::milliseconds(99)) == 0);
  CHECK(caller->inbox.empty());
  CHECK(timers.advance(std::chrono::milliseconds(1)) == 1);
  const auto e = caller->take<error>();
  CHECK(e.request == 9);
  CHECK(e.error_uri == uri_of(errc::timeout));
  const auto i = callee->take<interrupt>();
  CHECK(i.request == inv.request);
  CHECK(*i.options.get_string("mode") == "killnowait");
  CHECK(*i.options.get_string("reason") == uri_of(errc::timeout));
  CHECK(r.get_dealer().in_flight() == 0);
  // The callee's late answer is dropped without a protocol violation.
  CHECK_FALSE(r.handle(1, yield{inv.request, {}, {}, {}}));
  CHECK(caller->inbox.empty());
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: call timeout toward a callee that cannot cancel, and timers cleaned up") {
  reg(3, "com.legacy");
  reg(1, "com.quick");
  call_to(*plain, 1, "com.legacy", object{{"timeout", value(50)}});
  timers.advance(std::chrono::milliseconds(50));
  CHECK(caller->take<error>().error_uri == uri_of(errc::timeout));
  CHECK(plain->inbox.empty());  // no INTERRUPT forced on it
  const auto inv = call_to(*callee, 2, "com.quick", object{{"timeout", value(50)}});
  CHECK_FALSE(r.handle(1, yield{inv.request, {}, {}, {}}));
  CHECK(caller->take<result_>().request == 2);
  CHECK(timers.pending() == 0);  // answered: the timer is gone
  CHECK(timers.advance(std::chrono::milliseconds(100)) == 0);
  CHECK(caller->inbox.empty());
  // A bad timeout is refused with invalid_argument.
  CHECK_FALSE(r.handle(2, call{3, object{{"timeout", value("soon")}}, "com.quick", {}, {}}));
  CHECK(caller->take<error>().error_uri == uri_of(errc::invalid_argument));
  CHECK(callee->inbox.empty());
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: the timeout runs between progressive results") {
  reg(1, "com.stream");
  const auto inv = call_to(*callee, 4, "com.stream",
                           object{{"timeout", value(100)}, {"receive_progress", value(true)}});
  timers.advance(std::chrono::milliseconds(80));
  CHECK_FALSE(r.handle(1, yield{inv.request, object{{"progress", value(true)}}, {}, {}}));
  CHECK(caller->take<result_>().details.get_bool("progress", false));
  CHECK(timers.advance(std::chrono::milliseconds(80)) == 0);  // 160 ms in total, 80 since
  CHECK(timers.advance(std::chrono::milliseconds(20)) == 1);
  CHECK(caller->take<error>().error_uri == uri_of(errc::timeout));
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: CANCEL modes") {
  reg(1, "com.slow");
  const auto inv = call_to(*callee, 3, "com.slow");
  SUBCASE("skip: ERROR canceled at once, no INTERRUPT, late YIELD dropped") {
    CHECK_FALSE(r.handle(2, cancel{3, object{{"mode", value("skip")}}}));
    const auto e = caller->take<error>();
    CHECK(e.request == 3);
    CHECK(e.error_uri == uri_of(errc::canceled));
    CHECK(callee->inbox.empty());
    CHECK_FALSE(r.handle(1, yield{inv.request, {}, {}, {}}));
    CHECK(caller->inbox.empty());
  }
  SUBCASE("kill: INTERRUPT, and the callee's answer is the caller's answer") {
    CHECK_FALSE(r.handle(2, cancel{3, object{{"mode", value("kill")}}}));
    CHECK(caller->inbox.empty());
    const auto i = callee->take<interrupt>();
    CHECK(i.request == inv.request);
    CHECK(*i.options.get_string("mode") == "kill");
    CHECK_FALSE(r.handle(2, cancel{3, object{{"mode", value("kill")}}}));  // repeated: ignored
    CHECK(callee->inbox.empty());
    error e;
    e.request_type = 68;
    e.request = inv.request;
    e.error_uri = std::string(uri_of(errc::canceled));
    CHECK_FALSE(r.handle(1, std::move(e)));
    CHECK(caller->take<error>().error_uri == uri_of(errc::canceled));
    CHECK(r.get_dealer().in_flight() == 0);
  }
  SUBCASE("kill: a callee that finished first answers with its RESULT") {
    CHECK_FALSE(r.handle(2, cancel{3, object{{"mode", value("kill")}}}));
    callee->take<interrupt>();
    CHECK_FALSE(r.handle(1, yield{inv.request, {}, {value("done")}, {}}));
    CHECK(caller->take<result_>().args == array{value("done")});
  }
  SUBCASE("killnowait, the default: ERROR canceled and INTERRUPT at once") {
    CHECK_FALSE(r.handle(2, cancel{3, {}}));
    CHECK(caller->take<error>().error_uri == uri_of(errc::canceled));
    CHECK(*callee->take<interrupt>().options.get_string("mode") == "killnowait");
    CHECK_FALSE(r.handle(1, yield{inv.request, {}, {}, {}}));
    CHECK(caller->inbox.empty());
    CHECK(r.get_dealer().in_flight() == 0);
  }
  SUBCASE("an unknown mode is a protocol violation; a CANCEL for no call is ignored") {
    CHECK(r.handle(2, cancel{3, object{{"mode", value("explode")}}}).has_value());
    CHECK_FALSE(r.handle(2, cancel{99, {}}));
    CHECK(caller->inbox.empty());
  }
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: CANCEL toward a callee that cannot cancel behaves as skip") {
  reg(3, "com.legacy");
  const auto inv = call_to(*plain, 3, "com.legacy");
  CHECK_FALSE(r.handle(2, cancel{3, object{{"mode", value("kill")}}}));
  CHECK(caller->take<error>().error_uri == uri_of(errc::canceled));
  CHECK(plain->inbox.empty());
  CHECK_FALSE(r.handle(3, yield{inv.request, {}, {}, {}}));
  CHECK(caller->inbox.empty());
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: a caller leaving mid-call interrupts the callee (killnowait)") {
  reg(1, "com.slow");
  reg(3, "com.legacy");
  const auto inv = call_to(*callee, 1, "com.slow");
  call_to(*plain, 2, "com.legacy");
  r.leave(2);
  const auto i = callee->take<interrupt>();
  CHECK(i.request == inv.request);
  CHECK(*i.options.get_string("mode") == "killnowait");
  CHECK(plain->inbox.empty());
  CHECK(r.get_dealer().in_flight() == 0);
  CHECK_FALSE(r.handle(1, yield{inv.request, {}, {}, {}}));
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: caller identification on request") {
  reg(1, "com.who");
  auto inv = call_to(*callee, 1, "com.who");
  CHECK_FALSE(has_key(inv.details, "caller"));
  inv = call_to(*callee, 2, "com.who", object{{"disclose_me", value(true)}});
  CHECK(*inv.details.find("caller") == value(2));
  CHECK(*inv.details.get_string("caller_authid") == "bob");
  CHECK(*inv.details.get_string("caller_authrole") == "frontend");
  // The callee may ask for it at registration.
  reg(4, "com.who2", object{{"disclose_caller", value(true)}});
  inv = call_to(*second, 3, "com.who2");
  CHECK(*inv.details.find("caller") == value(2));
}

TEST_CASE("dealer: caller identification by realm setting: always, never") {
  SUBCASE("always") {
    realm_config c{"realm1"};
    c.disclose_caller = disclosure::always;
    advanced_fixture f(c);
    f.reg(1, "com.who");
    const auto inv = f.call_to(*f.callee, 1, "com.who");
    CHECK(*inv.details.find("caller") == value(2));
  }
  SUBCASE("never: not disclosed, and asking is refused") {
    realm_config c{"realm1"};
    c.disclose_caller = disclosure::never;
    advanced_fixture f(c);
    f.reg(1, "com.who", object{{"disclose_caller", value(true)}});
    const auto inv = f.call_to(*f.callee, 1, "com.who");
    CHECK_FALSE(has_key(inv.details, "caller"));
    CHECK_FALSE(f.r.handle(2, call{2, object{{"disclose_me", value(true)}}, "com.who", {}, {}}));
    CHECK(f.caller->take<error>().error_uri == uri_of(errc::disclose_me_disallowed));
    CHECK(f.callee->inbox.empty());
  }
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: pattern-based registration precedence and details.procedure") {
  const id wild1 = reg(1, "a1.b2..d4.e5", object{{"match", value("wildcard")}});
  const id wild2 = reg(1, "a1.b2.c33..e5", object{{"match", value("wildcard")}});
  const id prefix_short = reg(1, "a1", object{{"match", value("prefix")}});
  const id prefix_long = reg(1, "a1.b2.c", object{{"match", value("prefix")}});
  const id exact = reg(1, "a1.b2.c33.d4.e5");
  auto inv = call_to(*callee, 1, "a1.b2.c33.d4.e5");
  CHECK(inv.registration == exact);
  CHECK_FALSE(has_key(inv.details, "procedure"));  // an exact match needs no procedure
  inv = call_to(*callee, 2, "a1.b2.c33.d4.x");
  CHECK(inv.registration == prefix_long);  // longest prefix, by characters
  CHECK(*inv.details.get_string("procedure") == "a1.b2.c33.d4.x");
  inv = call_to(*callee, 3, "a1.zz");
  CHECK(inv.registration == prefix_short);
  CHECK_FALSE(r.handle(1, unregister{50, prefix_long}));
  callee->take<unregistered>();
  CHECK_FALSE(r.handle(1, unregister{51, prefix_short}));
  callee->take<unregistered>();
  CHECK_FALSE(r.handle(1, unregister{52, exact}));
  callee->take<unregistered>();
  inv = call_to(*callee, 4, "a1.b2.c33.d4.e5");
  CHECK(inv.registration == wild2);  // the most selective wildcard
  CHECK(*inv.details.get_string("procedure") == "a1.b2.c33.d4.e5");
  inv = call_to(*callee, 5, "a1.b2.c99.d4.e5");
  CHECK(inv.registration == wild1);
  CHECK_FALSE(r.handle(2, call{6, {}, "a1.b2.c99.d4.e5.f6", {}, {}}));  // component counts differ
  CHECK(caller->take<error>().error_uri == uri_of(errc::no_such_procedure));
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: REGISTER option errors") {
  CHECK_FALSE(r.handle(1, register_{1, object{{"match", value("regex")}}, "com.a"}));
  CHECK(callee->take<error>().error_uri == uri_of(errc::invalid_argument));
  CHECK_FALSE(r.handle(1, register_{2, object{{"invoke", value("busiest")}}, "com.a"}));
  CHECK(callee->take<error>().error_uri == uri_of(errc::invalid_argument));
  CHECK_FALSE(r.handle(1, register_{3, object{{"match", value("wildcard")}}, "com..a"}));
  callee->take<registered>();
  CHECK_FALSE(r.handle(1, register_{4, {}, "com..a"}));  // empty component without wildcard
  CHECK(callee->take<error>().error_uri == uri_of(errc::invalid_uri));
  // The same URI with another match policy is another registration.
  CHECK_FALSE(r.handle(1, register_{5, object{{"match", value("prefix")}}, "com..a"}));
  CHECK(callee->take<error>().error_uri == uri_of(errc::invalid_uri));
  CHECK_FALSE(r.handle(1, register_{6, object{{"match", value("prefix")}}, "com.a"}));
  callee->take<registered>();
  CHECK_FALSE(r.handle(1, register_{7, {}, "com.a"}));
  callee->take<registered>();
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: shared registration policies") {
  SUBCASE("roundrobin alternates between callees in registration order") {
    const id a = reg(1, "com.rr", object{{"invoke", value("roundrobin")}});
    const id b = reg(4, "com.rr", object{{"invoke", value("roundrobin")}});
    CHECK(a == b);  // one registration, two callees
    for (id i = 1; i <= 4; ++i) {
      CHECK_FALSE(r.handle(2, call{i, {}, "com.rr", {}, {}}));
      fake_peer& expected = i % 2 == 1 ? *callee : *second;
      CHECK(expected.take<invocation>().registration == a);
    }
  }
  SUBCASE("first and last") {
    reg(1, "com.first", object{{"invoke", value("first")}});
    reg(4, "com.first", object{{"invoke", value("first")}});
    reg(1, "com.last", object{{"invoke", value("last")}});
    reg(4, "com.last", object{{"invoke", value("last")}});
    for (id i = 1; i <= 2; ++i) {
      call_to(*callee, i, "com.first");
      call_to(*second, 10 + i, "com.last");
    }
    r.leave(1);  // hot standby: the remaining callee takes over
    call_to(*second, 20, "com.first");
  }
  SUBCASE("random picks among the callees only") {
    reg(1, "com.any", object{{"invoke", value("random")}});
    reg(4, "com.any", object{{"invoke", value("random")}});
    int to_first = 0;
    for (id i = 1; i <= 64; ++i) {
      CHECK_FALSE(r.handle(2, call{i, {}, "com.any", {}, {}}));
      if (!callee->inbox.empty()) {
        callee->take<invocation>();
        ++to_first;
      } else {
        second->take<invocation>();
      }
    }
    CHECK(to_first > 0);
    CHECK(to_first < 64);
  }
  SUBCASE("a different policy, a second single, or the same callee twice: already exists") {
    reg(1, "com.s", object{{"invoke", value("roundrobin")}});
    CHECK_FALSE(r.handle(4, register_{1, object{{"invoke", value("random")}}, "com.s"}));
    CHECK(second->take<error>().error_uri == uri_of(errc::procedure_already_exists));
    CHECK_FALSE(r.handle(1, register_{2, object{{"invoke", value("roundrobin")}}, "com.s"}));
    CHECK(callee->take<error>().error_uri == uri_of(errc::procedure_already_exists));
    reg(1, "com.single");
    CHECK_FALSE(r.handle(4, register_{3, object{{"invoke", value("single")}}, "com.single"}));
    CHECK(second->take<error>().error_uri == uri_of(errc::procedure_already_exists));
  }
  SUBCASE("a shared callee leaving or unregistering: the others keep serving") {
    const id shared = reg(1, "com.rr", object{{"invoke", value("roundrobin")}});
    reg(4, "com.rr", object{{"invoke", value("roundrobin")}});
    reg(3, "com.rr", object{{"invoke", value("roundrobin")}});
    r.leave(1);
    CHECK_FALSE(r.handle(4, unregister{9, shared}));
    second->take<unregistered>();
    for (id i = 1; i <= 3; ++i) call_to(*plain, i, "com.rr");
    CHECK(r.get_dealer().registration_count() == 1);
    CHECK_FALSE(r.handle(3, unregister{9, shared}));
    plain->take<unregistered>();
    CHECK(r.get_dealer().registration_count() == 0);
  }
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: registration revocation") {
  const id announced = reg(1, "com.a", object{{"invoke", value("roundrobin")}});
  reg(3, "com.a", object{{"invoke", value("roundrobin")}});
  CHECK(r.get_dealer().revoke(announced, 1, "maintenance"));
  const auto u = callee->take<unregistered>();
  CHECK(u.request == 0);
  CHECK(*u.details.find("registration") == value(announced));
  CHECK(*u.details.get_string("reason") == "maintenance");
  call_to(*plain, 1, "com.a");  // the other callee still serves
  CHECK(r.get_dealer().revoke(announced, 3, "maintenance"));
  CHECK(plain->inbox.empty());  // revoked silently: it did not announce the feature
  CHECK_FALSE(r.get_dealer().revoke(announced, 3, ""));
  CHECK_FALSE(r.handle(2, call{2, {}, "com.a", {}, {}}));
  CHECK(caller->take<error>().error_uri == uri_of(errc::no_such_procedure));
}

TEST_CASE("features: HELLO roles parse into per-role feature bits") {
  const object roles{
      {"caller", value(object{{"features", value(object{{"call_canceling", value(true)},
                                                        {"progressive_call_results", value(false)},
                                                        {"made_up", value(true)}})}})},
      {"subscriber", value(object{})},
      {"dealer", value(object{{"features", value(object{{"call_timeout", value(true)}})}})},
  };
  const auto f = client_features::from_roles(roles);
  CHECK(f.plays(client_role::caller));
  CHECK(f.plays(client_role::subscriber));
  CHECK_FALSE(f.plays(client_role::callee));
  CHECK(f.has(client_role::caller, feature::call_canceling));
  CHECK_FALSE(f.has(client_role::caller, feature::progressive_call_results));
  CHECK_FALSE(f.has(client_role::callee, feature::call_canceling));
  CHECK_FALSE(f.has(client_role::caller, feature::call_timeout));
  const object& dealer = router_roles().as_object().find("dealer")->as_object();
  const object& announced = dealer.find("features")->as_object();
  CHECK(announced.get_bool("progressive_call_results", false));
  CHECK(announced.get_bool("call_canceling", false));
  CHECK(announced.get_bool("shared_registration", false));
}

TEST_CASE("timer_queue: deadline_queue runs due timers in order and honours cancel") {
  test::manual_timers t;
  std::vector<int> fired;
  t.schedule(std::chrono::milliseconds(30), [&] { fired.push_back(3); });
  const auto h = t.schedule(std::chrono::milliseconds(20), [&] { fired.push_back(2); });
  t.schedule(std::chrono::milliseconds(10), [&] { fired.push_back(1); });
  t.schedule(std::chrono::milliseconds(10), [&] { fired.push_back(11); });
  t.cancel(h);
  t.cancel(h);  // twice: harmless
  CHECK(t.advance(std::chrono::milliseconds(25)) == 2);
  CHECK(fired == std::vector<int>{1, 11});
  CHECK(t.advance(std::chrono::milliseconds(5)) == 1);
  CHECK(fired == std::vector<int>{1, 11, 3});
  CHECK(t.pending() == 0);
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: continuations of a progressive call refused at its first CALL are dropped") {
  reg(3, "com.legacy");
  const object more{{"progress", value(true)}};
  CHECK_FALSE(r.handle(2, call{1, more, "com.legacy", {value("c1")}, {}}));
  CHECK(caller->take<error>().error_uri == uri_of(errc::feature_not_supported));
  CHECK_FALSE(r.handle(2, call{1, more, "com.legacy", {value("c2")}, {}}));
  CHECK_FALSE(r.handle(2, call{1, {}, "com.legacy", {value("c3")}, {}}));
  CHECK(caller->inbox.empty());  // one ERROR for the whole call
  CHECK(plain->inbox.empty());   // and the last chunk does not run as a call of its own
  CHECK_FALSE(r.handle(2, call{2, more, "com.missing", {}, {}}));
  CHECK(caller->take<error>().error_uri == uri_of(errc::no_such_procedure));
  CHECK_FALSE(r.handle(2, call{2, {}, "com.missing", {}, {}}));
  CHECK(caller->inbox.empty());
}

// --- Messages larger than a receiver accepts (realm/peer.hpp: delivery) ------------------------

TEST_CASE_FIXTURE(advanced_fixture, "dealer: a RESULT too big for the caller becomes ERROR payload_size_exceeded") {
  CHECK_FALSE(r.handle(1, register_{1, {}, "com.big"}));
  callee->take<registered>();
  caller->max_bytes = 512;
  CHECK_FALSE(r.handle(2, call{5, {}, "com.big", {}, {}}));
  const auto inv = callee->take<invocation>();
  CHECK_FALSE(r.handle(1, yield{inv.request, {}, {value(std::string(2000, 'x'))}, {}}));
  const auto e = caller->take<error>();
  CHECK(e.request == 5);
  CHECK(e.error_uri == "wamp.error.payload_size_exceeded");
  CHECK(caller->inbox.empty());
  CHECK(r.get_dealer().in_flight() == 0);
  CHECK(r.stats().calls_ended[static_cast<std::size_t>(call_outcome::too_big)].get() == 1);
  // The caller goes on: a small answer arrives as usual.
  CHECK_FALSE(r.handle(2, call{6, {}, "com.big", {}, {}}));
  const auto inv2 = callee->take<invocation>();
  CHECK_FALSE(r.handle(1, yield{inv2.request, {}, {value("ok")}, {}}));
  CHECK(caller->take<result_>().args == array{value("ok")});
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: a callee ERROR too big for the caller keeps its URI, not its payload") {
  CHECK_FALSE(r.handle(1, register_{1, {}, "com.big"}));
  callee->take<registered>();
  caller->max_bytes = 512;
  CHECK_FALSE(r.handle(2, call{5, {}, "com.big", {}, {}}));
  const auto inv = callee->take<invocation>();
  error big;
  big.request_type = 68;
  big.request = inv.request;
  big.error_uri = "com.example.too_much";
  big.args = {value(std::string(2000, 'x'))};
  CHECK_FALSE(r.handle(1, std::move(big)));
  const auto e = caller->take<error>();
  CHECK(e.request == 5);
  CHECK(e.error_uri == "com.example.too_much");
  REQUIRE(e.args.size() == 1);
  CHECK(e.args[0].as_string().find("payload_size_exceeded") != std::string::npos);
  CHECK(r.get_dealer().in_flight() == 0);
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: an INVOCATION too big for the callee: the caller hears why, the callee nothing") {
  CHECK_FALSE(r.handle(1, register_{1, {}, "com.big"}));
  callee->take<registered>();
  callee->max_bytes = 512;
  CHECK_FALSE(r.handle(2, call{5, {}, "com.big", {value(std::string(2000, 'x'))}, {}}));
  CHECK(callee->inbox.empty());
  const auto e = caller->take<error>();
  CHECK(e.request == 5);
  CHECK(e.error_uri == "wamp.error.payload_size_exceeded");
  CHECK(r.get_dealer().in_flight() == 0);
  CHECK(r.stats().calls_ended[static_cast<std::size_t>(call_outcome::too_big)].get() == 1);
  // A later YIELD for an id the callee never saw would be a violation; a small call still works.
  CHECK_FALSE(r.handle(2, call{6, {}, "com.big", {value("small")}, {}}));
  CHECK(callee->take<invocation>().args == array{value("small")});
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: a progressive RESULT too big for the caller ends the call and interrupts the callee") {
  CHECK_FALSE(r.handle(1, register_{1, {}, "com.stream"}));
  callee->take<registered>();
  caller->max_bytes = 512;
  CHECK_FALSE(r.handle(2, call{5, object{{"receive_progress", value(true)}}, "com.stream", {}, {}}));
  const auto inv = callee->take<invocation>();
  CHECK_FALSE(r.handle(1, yield{inv.request, object{{"progress", value(true)}}, {value("small")}, {}}));
  CHECK(caller->take<result_>().args == array{value("small")});
  CHECK_FALSE(r.handle(1, yield{inv.request, object{{"progress", value(true)}}, {value(std::string(2000, 'x'))}, {}}));
  const auto e = caller->take<error>();
  CHECK(e.request == 5);
  CHECK(e.error_uri == "wamp.error.payload_size_exceeded");
  const auto i = callee->take<junction::interrupt>();
  CHECK(i.request == inv.request);
  CHECK(*i.options.get_string("mode") == "killnowait");
  CHECK(*i.options.get_string("reason") == "wamp.error.payload_size_exceeded");
  // The callee's later answers are dropped quietly: the caller got its one answer.
  CHECK_FALSE(r.handle(1, yield{inv.request, object{{"progress", value(true)}}, {value("late")}, {}}));
  CHECK_FALSE(r.handle(1, yield{inv.request, {}, {value("late")}, {}}));
  CHECK(caller->inbox.empty());
  CHECK(r.get_dealer().in_flight() == 0);
}

TEST_CASE_FIXTURE(advanced_fixture, "dealer: a progressive INVOCATION too big for the callee ends the call") {
  CHECK_FALSE(r.handle(1, register_{1, {}, "com.upload"}));
  callee->take<registered>();
  CHECK_FALSE(r.handle(2, call{5, object{{"progress", value(true)}}, "com.upload", {value("chunk 1")}, {}}));
  const auto inv = callee->take<invocation>();
  callee->max_bytes = 512;
  CHECK_FALSE(r.handle(2, call{5, object{{"progress", value(true)}}, "com.upload", {value(std::string(2000, 'x'))}, {}}));
  const auto e = caller->take<error>();
  CHECK(e.request == 5);
  CHECK(e.error_uri == "wamp.error.payload_size_exceeded");
  const auto i = callee->take<junction::interrupt>();
  CHECK(i.request == inv.request);
  CHECK(r.get_dealer().in_flight() == 0);
  // Its continuations, already on the wire, are dropped quietly.
  CHECK_FALSE(r.handle(2, call{5, {}, "com.upload", {value("last")}, {}}));
  CHECK(callee->inbox.empty());
  CHECK(caller->inbox.empty());
}

TEST_CASE("dealer: calls in flight and registrations per session are capped (session_limits)") {
  test::manual_timers timers;
  realm_config cfg{"realm1"};
  cfg.limits.calls_in_flight = 2;
  cfg.limits.registrations = 1;
  realm r{cfg, timers};
  auto callee = std::make_shared<fake_peer>();
  auto caller = std::make_shared<fake_peer>();
  r.join(session_info{1, "callee", "anonymous", "anonymous", "", {}}, callee);
  r.join(session_info{2, "caller", "anonymous", "anonymous", "", {}}, caller);
  CHECK_FALSE(r.handle(1, register_{1, {}, "com.p"}));
  callee->take<registered>();
  CHECK_FALSE(r.handle(1, register_{2, {}, "com.q"}));
  const auto no_reg = callee->take<error>();
  CHECK(no_reg.request == 2);
  CHECK(no_reg.error_uri == "wamp.error.limit_exceeded");
  CHECK(r.stats().limit_refusals[static_cast<std::size_t>(session_limit::registrations)].get() == 1);

  CHECK_FALSE(r.handle(2, call{1, {}, "com.p", {}, {}}));
  CHECK_FALSE(r.handle(2, call{2, {}, "com.p", {}, {}}));
  CHECK_FALSE(r.handle(2, call{3, {}, "com.p", {}, {}}));  // a third in flight: refused
  const auto refused = caller->take<error>();
  CHECK(refused.request == 3);
  CHECK(refused.error_uri == "wamp.error.limit_exceeded");
  CHECK(r.get_dealer().in_flight() == 2);
  CHECK(r.stats().limit_refusals[static_cast<std::size_t>(session_limit::calls_in_flight)].get() == 1);
  // An answer makes room.
  const auto inv = callee->take<invocation>();
  CHECK_FALSE(r.handle(1, yield{inv.request, {}, {}, {}}));
  caller->take<result_>();
  CHECK_FALSE(r.handle(2, call{4, {}, "com.p", {}, {}}));
  CHECK(r.get_dealer().in_flight() == 2);
}
