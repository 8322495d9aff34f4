// Sends that end sessions (issue 11): a transport that cannot deliver a message — over the
// client's RawSocket limit, a slow consumer — gives up on the connection inside peer::send, and
// the session asks to leave the realm right there. These tests make fake peers do exactly that on
// the message that hurt most before (the progressive RESULT, the self-call's INVOCATION, the
// timeout ERROR, ...) and check that every realm operation still runs to completion: the leave
// waits for the operation to end (realm/operations.hpp), every call still ends cleanly for the
// party that stays, and the realm never sends to a session that has left. Run under
// AddressSanitizer (script/test does), they also prove that nothing is touched after it is freed.
#include <doctest/doctest.h>

#include <map>

#include "realm/realm.hpp"
#include "serializers/errors.hpp"
#include "support/fakes.hpp"

using namespace junction;
using test::fake_peer;

namespace {

client_features every_feature() {
  client_features f;
  for (auto role : {client_role::caller, client_role::callee, client_role::publisher,
                    client_role::subscriber})
    for (unsigned i = 0; i < static_cast<unsigned>(feature::count_); ++i)
      f.set(role, static_cast<feature>(i));
  return f;
}

struct reentry_fixture {
  test::manual_timers timers;
  realm r{seeded(), timers};
  std::map<id, std::shared_ptr<fake_peer>> peers;
  int left_inside_send = 0;  // leaves asked from inside a send

  static realm_config seeded() {
    realm_config c{"realm1"};
    c.random_seed = 7;
    return c;
  }

  reentry_fixture() {
    for (id s = 1; s <= 4; ++s) join(s);
  }

  fake_peer& join(id s) {
    auto p = std::make_shared<fake_peer>();
    p->on_send = [this, s](const message&) { still_joined(s); };
    session_info info;
    info.session = s;
    info.authid = "user" + std::to_string(s);
    info.authrole = "anonymous";
    info.authmethod = "anonymous";
    info.features = every_feature();
    r.join(std::move(info), p);
    peers[s] = p;
    return *p;
  }
  fake_peer& peer(id s) { return *peers.at(s); }

  // The realm reaches a session only while it is joined: a send after its leave is a bug (the
  // broker, for one, holds links it looked up before sending).
  void still_joined(id s) {
    CHECK_MESSAGE(r.sessions().count(s) == 1, "the realm sent to session " << s << " after it left");
  }

  // Session `s` asks to leave from inside the send of its `nth` message of type T, as a transport
  // does when that message is more than the client takes.
  template <class T>
  void leave_on(id s, int nth = 1) {
    auto seen = std::make_shared<int>(0);
    peer(s).on_send = [this, s, seen, nth](const message& m) {
      still_joined(s);
      if (!std::holds_alternative<T>(m) || ++*seen != nth) return;
      r.leave(s);
      // A hand-off, not a re-entrant call: the session is still there while the operation that
      // is sending runs.
      CHECK(r.sessions().count(s) == 1);
      CHECK(r.operations().running());
      ++left_inside_send;
    };
  }

  // After an operation: the session that asked has left, and nothing waits.
  void check_left(id s) {
    CHECK(r.sessions().count(s) == 0);
    CHECK(r.operations().deferred() == 0);
    CHECK_FALSE(r.operations().running());
  }

  id reg(id s, const std::string& procedure, object options = {}) {
    static id request = 500;
    CHECK_FALSE(r.handle(s, register_{++request, std::move(options), procedure}));
    return peer(s).take<registered>().registration;
  }
  invocation call_from(id caller, id callee, id request, const std::string& procedure,
                       object options = {}) {
    CHECK_FALSE(r.handle(caller, call{request, std::move(options), procedure, {value(1)}, {}}));
    return peer(callee).take<invocation>();
  }
};

const object progressive{{"progress", value(true)}};

}  // namespace

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: CALL whose INVOCATION ends the callee: the caller gets canceled") {
  reg(1, "com.p");
  leave_on<invocation>(1);
  CHECK_FALSE(r.handle(2, call{9, {}, "com.p", {value(1)}, {}}));
  check_left(1);
  CHECK(left_inside_send == 1);
  const auto e = peer(2).take<error>();
  CHECK(e.request == 9);
  CHECK(e.error_uri == uri_of(errc::canceled));
  CHECK(r.get_dealer().in_flight() == 0);
  CHECK(r.get_dealer().registration_count() == 0);
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: a progressive self-call whose INVOCATION ends the session (repro 2)") {
  reg(1, "com.self");
  leave_on<invocation>(1);
  CHECK_FALSE(r.handle(1, call{3, progressive, "com.self", {value(std::string(2048, 'x'))}, {}}));
  check_left(1);
  CHECK(r.get_dealer().in_flight() == 0);
  CHECK_FALSE(r.get_dealer().knows_call(1, 3));
  // The rest of the realm still routes.
  reg(3, "com.self");
  call_from(2, 3, 1, "com.self");
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: a progressive RESULT that ends the caller interrupts the callee (repro 1)") {
  reg(1, "com.stream");
  const auto inv = call_from(2, 1, 5, "com.stream",
                             object{{"receive_progress", value(true)}, {"timeout", value(1000)}});
  CHECK(timers.pending() == 1);
  leave_on<result_>(2);
  CHECK_FALSE(r.handle(1, yield{inv.request, progressive, {value(std::string(4096, 'y'))}, {}}));
  check_left(2);
  CHECK(peer(2).take<result_>().details.get_bool("progress", false));
  const auto i = peer(1).take<interrupt>();  // the caller is gone: Caller Leaving
  CHECK(i.request == inv.request);
  CHECK(i.options.find("mode")->as_string() == "killnowait");
  CHECK(r.get_dealer().in_flight() == 0);
  CHECK(timers.pending() == 0);  // the re-armed timeout went with the call
  CHECK(timers.advance(std::chrono::seconds(5)) == 0);
  // The callee's late answers are dropped quietly.
  CHECK_FALSE(r.handle(1, yield{inv.request, progressive, {}, {}}));
  CHECK_FALSE(r.handle(1, yield{inv.request, {}, {}, {}}));
  CHECK(peer(1).inbox.empty());
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: a final RESULT that ends the caller") {
  reg(1, "com.p");
  const auto inv = call_from(2, 1, 5, "com.p", object{{"timeout", value(1000)}});
  leave_on<result_>(2);
  CHECK_FALSE(r.handle(1, yield{inv.request, {}, {value("done")}, {}}));
  check_left(2);
  CHECK(peer(2).take<result_>().args == array{value("done")});
  CHECK(peer(1).inbox.empty());  // the call had ended: nothing to interrupt
  CHECK(r.get_dealer().in_flight() == 0);
  CHECK(timers.pending() == 0);
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: a callee ERROR that ends the caller") {
  reg(1, "com.p");
  const auto inv = call_from(2, 1, 5, "com.p");
  leave_on<error>(2);
  error e;
  e.request_type = 68;
  e.request = inv.request;
  e.error_uri = "com.example.failed";
  CHECK_FALSE(r.handle(1, std::move(e)));
  check_left(2);
  CHECK(peer(2).take<error>().error_uri == "com.example.failed");
  CHECK(r.get_dealer().in_flight() == 0);
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: a timeout ERROR that ends the caller still interrupts the callee (repro 3)") {
  reg(1, "com.slow");
  const auto inv = call_from(2, 1, 5, "com.slow", object{{"timeout", value(100)}});
  leave_on<error>(2);
  CHECK(timers.advance(std::chrono::milliseconds(100)) == 1);
  check_left(2);
  CHECK(peer(2).take<error>().error_uri == uri_of(errc::timeout));
  const auto i = peer(1).take<interrupt>();
  CHECK(i.request == inv.request);
  CHECK(i.options.find("mode")->as_string() == "killnowait");
  CHECK(i.options.find("reason")->as_string() == uri_of(errc::timeout));
  CHECK(peer(1).inbox.empty());  // interrupted once, not again when the caller left
  CHECK(r.get_dealer().in_flight() == 0);
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: a timeout INTERRUPT that ends the callee") {
  reg(1, "com.slow");
  call_from(2, 1, 5, "com.slow", object{{"timeout", value(100)}});
  leave_on<interrupt>(1);
  CHECK(timers.advance(std::chrono::milliseconds(100)) == 1);
  check_left(1);
  CHECK(peer(2).take<error>().error_uri == uri_of(errc::timeout));
  CHECK(peer(2).inbox.empty());  // exactly one answer: the callee's leave found the call ended
  CHECK(r.get_dealer().in_flight() == 0);
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: CANCEL in each mode while a send ends a party") {
  reg(1, "com.p");
  SUBCASE("skip: the caller leaves on its canceled ERROR") {
    const auto inv = call_from(2, 1, 5, "com.p");
    leave_on<error>(2);
    CHECK_FALSE(r.handle(2, cancel{5, object{{"mode", value("skip")}}}));
    check_left(2);
    CHECK(peer(2).take<error>().error_uri == uri_of(errc::canceled));
    CHECK(peer(1).inbox.empty());  // skip: the callee is not told, not even when the caller left
    CHECK_FALSE(r.handle(1, yield{inv.request, {}, {}, {}}));  // late: dropped quietly
  }
  SUBCASE("killnowait: the caller leaves on its canceled ERROR") {
    const auto inv = call_from(2, 1, 5, "com.p");
    leave_on<error>(2);
    CHECK_FALSE(r.handle(2, cancel{5, object{{"mode", value("killnowait")}}}));
    check_left(2);
    CHECK(peer(2).take<error>().error_uri == uri_of(errc::canceled));
    CHECK(peer(1).take<interrupt>().request == inv.request);
    CHECK(peer(1).inbox.empty());
  }
  SUBCASE("killnowait: the callee leaves on its INTERRUPT") {
    call_from(2, 1, 5, "com.p");
    leave_on<interrupt>(1);
    CHECK_FALSE(r.handle(2, cancel{5, object{{"mode", value("killnowait")}}}));
    check_left(1);
    CHECK(peer(2).take<error>().error_uri == uri_of(errc::canceled));
    CHECK(peer(2).inbox.empty());
  }
  SUBCASE("kill: the callee leaves on its INTERRUPT, the caller is answered canceled") {
    call_from(2, 1, 5, "com.p");
    leave_on<interrupt>(1);
    CHECK_FALSE(r.handle(2, cancel{5, object{{"mode", value("kill")}}}));
    check_left(1);
    const auto e = peer(2).take<error>();
    CHECK(e.request == 5);
    CHECK(e.error_uri == uri_of(errc::canceled));
    CHECK(peer(2).inbox.empty());
  }
  SUBCASE("kill: the caller leaves on the callee's answer") {
    const auto inv = call_from(2, 1, 5, "com.p");
    CHECK_FALSE(r.handle(2, cancel{5, object{{"mode", value("kill")}}}));
    CHECK(peer(1).take<interrupt>().request == inv.request);
    leave_on<error>(2);
    error e;
    e.request_type = 68;
    e.request = inv.request;
    e.error_uri = std::string(uri_of(errc::canceled));
    CHECK_FALSE(r.handle(1, std::move(e)));
    check_left(2);
    CHECK(peer(2).take<error>().error_uri == uri_of(errc::canceled));
    CHECK(peer(1).inbox.empty());
  }
  CHECK(r.get_dealer().in_flight() == 0);
  CHECK(left_inside_send == 1);
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: UNREGISTERED that ends the callee answers its callers") {
  const id registration = reg(1, "com.a");
  reg(1, "com.b");
  call_from(2, 1, 5, "com.b");
  leave_on<unregistered>(1);
  CHECK_FALSE(r.handle(1, unregister{77, registration}));
  check_left(1);
  CHECK(peer(1).take<unregistered>().request == 77);
  const auto e = peer(2).take<error>();
  CHECK(e.request == 5);
  CHECK(e.error_uri == uri_of(errc::canceled));
  CHECK(r.get_dealer().registration_count() == 0);
  CHECK(r.get_dealer().in_flight() == 0);
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: REGISTERED that ends the callee leaves no registration") {
  leave_on<registered>(1);
  CHECK_FALSE(r.handle(1, register_{1, {}, "com.a"}));
  check_left(1);
  CHECK(peer(1).take<registered>().request == 1);
  CHECK(r.get_dealer().registration_count() == 0);
  CHECK_FALSE(r.handle(2, call{3, {}, "com.a", {}, {}}));
  CHECK(peer(2).take<error>().error_uri == uri_of(errc::no_such_procedure));
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: fan-out to a subscriber that leaves on its first EVENT") {
  // Session 3 holds two matching subscriptions (one shared with session 4): it leaves on the
  // first EVENT, and the publication still reaches everyone, itself included, exactly once per
  // subscription; the publisher's acknowledgement follows.
  CHECK_FALSE(r.handle(3, subscribe{1, {}, "com.t"}));
  CHECK_FALSE(r.handle(3, subscribe{2, object{{"match", value("prefix")}}, "com."}));
  CHECK_FALSE(r.handle(4, subscribe{1, {}, "com.t"}));
  for (id s : {3, 4}) peer(s).inbox.clear();
  leave_on<event>(3);
  CHECK_FALSE(r.handle(2, publish{8, object{{"acknowledge", value(true)}}, "com.t", {value(1)}, {}}));
  check_left(3);
  CHECK(peer(3).inbox.size() == 2);  // delivered before it left; its transport drops them
  CHECK(peer(4).take<event>().args == array{value(1)});
  CHECK(peer(2).take<published>().request == 8);
  CHECK(r.get_broker().subscription_count() == 1);
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: a publisher that leaves on its own EVENT still gets PUBLISHED") {
  CHECK_FALSE(r.handle(2, subscribe{1, {}, "com.t"}));
  CHECK_FALSE(r.handle(4, subscribe{1, {}, "com.t"}));
  peer(2).inbox.clear();
  peer(4).inbox.clear();
  leave_on<event>(2);
  CHECK_FALSE(r.handle(
      2, publish{9, object{{"acknowledge", value(true)}, {"exclude_me", value(false)}}, "com.t",
                 {}, {}}));
  check_left(2);
  peer(2).take<event>();
  CHECK(peer(2).take<published>().request == 9);
  CHECK(peer(4).take<event>().publication != 0);
  CHECK(r.get_broker().subscription_count() == 1);
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: retained events that end the new subscriber") {
  CHECK_FALSE(r.handle(2, publish{1, object{{"retain", value(true)}}, "com.r.a", {value(1)}, {}}));
  CHECK_FALSE(r.handle(2, publish{2, object{{"retain", value(true)}}, "com.r.b", {value(2)}, {}}));
  leave_on<event>(3);
  CHECK_FALSE(r.handle(3, subscribe{1, object{{"match", value("prefix")}, {"get_retained", value(true)}},
                                    "com.r."}));
  check_left(3);
  peer(3).take<subscribed>();
  CHECK(peer(3).take<event>().details.get_bool("retained", false));
  CHECK(peer(3).take<event>().details.get_bool("retained", false));
  CHECK(r.get_broker().subscription_count() == 0);
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: meta events that end their subscribers, in a cascade") {
  // Sessions 3 and 4 watch wamp.session.on_leave and leave when they hear of any departure:
  // session 1's GOODBYE ends both, one after the other, each leave an operation of its own.
  for (id s : {3, 4}) {
    CHECK_FALSE(r.handle(s, subscribe{1, {}, "wamp.session.on_leave"}));
    peer(s).inbox.clear();
    leave_on<event>(s);
  }
  r.leave(1);
  check_left(3);
  check_left(4);
  CHECK(left_inside_send == 2);
  CHECK(r.sessions().size() == 1);  // session 2
  // Session 4 was still there when session 3's leave was announced.
  CHECK(peer(3).inbox.size() == 1);
  CHECK(peer(4).inbox.size() == 2);
  CHECK(r.get_broker().subscription_count() == 0);
}

TEST_CASE_FIXTURE(reentry_fixture, "reentrancy: a kill whose meta event ends another session") {
  CHECK_FALSE(r.handle(3, subscribe{1, {}, "wamp.session.on_leave"}));
  peer(3).inbox.clear();
  leave_on<event>(3);
  CHECK_FALSE(r.handle(2, call{4, {}, "wamp.session.kill", {value(1)}, {}}));
  CHECK(peers.at(1)->killed);
  check_left(3);
  CHECK(r.sessions().count(1) == 0);
  CHECK(peer(2).take<result_>().request == 4);
}
