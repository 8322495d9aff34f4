// The dealer as a plain object inside a realm, with fake sessions (no sockets).
#include <doctest/doctest.h>

#include "realm/realm.hpp"
#include "serializers/errors.hpp"
#include "support/fakes.hpp"

using namespace junction;
using test::fake_peer;

namespace {

struct dealer_fixture {
  realm r{realm_config{"realm1"}};
  std::shared_ptr<fake_peer> callee = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> caller = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> other = std::make_shared<fake_peer>();
  dealer_fixture() {
    r.join(session_info{1, "callee", "anonymous", "anonymous", ""}, callee);
    r.join(session_info{2, "caller", "anonymous", "anonymous", ""}, caller);
    r.join(session_info{3, "other", "anonymous", "anonymous", ""}, other);
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
