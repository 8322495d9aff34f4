// The meta API (wamp.session.*, wamp.registration.*, wamp.subscription.*, testaments) inside a
// plain realm with fake sessions: procedures answer from the registries, events are ordinary
// publications of the realm's broker.
#include <doctest/doctest.h>

#include <algorithm>

#include "realm/realm.hpp"
#include "serializers/errors.hpp"
#include "support/fakes.hpp"

using namespace junction;
using test::fake_peer;

namespace {

client_features revocable() {
  client_features f;
  f.set(client_role::callee, feature::registration_revocation);
  f.set(client_role::subscriber, feature::subscription_revocation);
  return f;
}

struct meta_fixture {
  test::manual_timers timers;
  realm r{realm_config{"realm1"}, timers};
  std::shared_ptr<fake_peer> admin = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> alice = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> bob = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> bob2 = std::make_shared<fake_peer>();
  id request = 100;
  meta_fixture() {
    r.join(session_info{1, "root", "admin", "anonymous", "static", {}}, admin);
    r.join(session_info{2, "alice", "user", "anonymous", "static", revocable()}, alice);
    r.join(session_info{3, "bob", "user", "anonymous", "static", {}}, bob);
    r.join(session_info{4, "bob", "guest", "anonymous", "static", {}}, bob2);
  }
  // Calls a meta procedure as the admin and returns its answer, RESULT or ERROR. Meta events the
  // call caused (on_leave of a killed session, …) are published during the call and may precede
  // the answer; they stay in the inbox for events().
  message answer(const std::string& procedure, array args, object kwargs) {
    CHECK_FALSE(r.handle(1, call{++request, {}, procedure, std::move(args), std::move(kwargs)}));
    auto& inbox = admin->inbox;
    auto it = std::find_if(inbox.begin(), inbox.end(), [](const message& m) {
      return std::holds_alternative<result_>(m) || std::holds_alternative<error>(m);
    });
    REQUIRE(it != inbox.end());
    message m = std::move(*it);
    inbox.erase(it);
    return m;
  }
  result_ ok(const std::string& procedure, array args = {}, object kwargs = {}) {
    message m = answer(procedure, std::move(args), std::move(kwargs));
    REQUIRE_MESSAGE(std::holds_alternative<result_>(m), procedure << " did not answer RESULT");
    CHECK(std::get<result_>(m).request == request);
    return std::get<result_>(std::move(m));
  }
  std::string fails(const std::string& procedure, array args = {}, object kwargs = {}) {
    message m = answer(procedure, std::move(args), std::move(kwargs));
    REQUIRE_MESSAGE(std::holds_alternative<error>(m), procedure << " did not answer ERROR");
    return std::get<error>(m).error_uri;
  }
  // Subscribes the admin to `topic` (a prefix pattern when `prefix`), dropping SUBSCRIBED.
  id watch(const std::string& topic, bool prefix = false) {
    object options;
    if (prefix) options.push_back("match", value("prefix"));
    CHECK_FALSE(r.handle(1, subscribe{++request, std::move(options), topic}));
    return admin->take<subscribed>().subscription;
  }
  // The events the admin received, as (topic from details or `exact_topic`, args).
  std::vector<event> events() {
    std::vector<event> out;
    for (auto& m : admin->inbox)
      if (auto* e = std::get_if<event>(&m)) out.push_back(*e);
    admin->inbox.clear();
    return out;
  }
};

std::vector<std::string> topics_of(const std::vector<event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(*e.details.get_string("topic"));
  return out;
}

}  // namespace

TEST_CASE_FIXTURE(meta_fixture, "meta: wamp.session.count, list and get, with the authrole filter") {
  CHECK(ok("wamp.session.count").args == array{value(4)});
  CHECK(ok("wamp.session.count", {value(array{value("user")})}).args == array{value(2)});
  CHECK(ok("wamp.session.count", {value(array{value("user"), value("guest")})}).args ==
        array{value(3)});
  auto listed = ok("wamp.session.list", {value(array{value("user")})}).args.at(0).as_array();
  std::sort(listed.begin(), listed.end(), [](const value& a, const value& b) {
    std::uint64_t x = 0, y = 0;
    return a.as_uint(x) && b.as_uint(y) && x < y;
  });
  CHECK(listed == array{value(2), value(3)});
  const auto got = ok("wamp.session.get", {value(2)}).args.at(0).as_object();
  CHECK(*got.find("session") == value(2));
  CHECK(*got.get_string("authid") == "alice");
  CHECK(*got.get_string("authrole") == "user");
  CHECK(*got.get_string("authmethod") == "anonymous");
  CHECK(fails("wamp.session.get", {value(99)}) == uri_of(errc::no_such_session));
  CHECK(fails("wamp.session.get", {value("two")}) == uri_of(errc::invalid_argument));
  CHECK(fails("wamp.session.count", {value("user")}) == uri_of(errc::invalid_argument));
  CHECK(fails("wamp.session.nonsense") == uri_of(errc::no_such_procedure));
}

TEST_CASE_FIXTURE(meta_fixture, "meta: wamp.session.kill says GOODBYE, removes the session, fires on_leave") {
  watch("wamp.session.on_leave");
  ok("wamp.session.kill", {value(2)}, object{{"message", value("bye now")}});
  CHECK(alice->killed);
  const auto g = alice->take<goodbye>();
  CHECK(g.reason == "wamp.close.killed");
  CHECK(*g.details.get_string("message") == "bye now");
  CHECK(r.sessions().count(2) == 0);
  const auto ev = events();
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].args == array{value(2), value("alice"), value("user")});
  // A custom reason; the caller itself and unknown sessions are no_such_session.
  ok("wamp.session.kill", {value(3)}, object{{"reason", value("com.example.maintenance")}});
  CHECK(bob->take<goodbye>().reason == "com.example.maintenance");
  CHECK(fails("wamp.session.kill", {value(1)}) == uri_of(errc::no_such_session));
  CHECK(fails("wamp.session.kill", {value(3)}) == uri_of(errc::no_such_session));
  CHECK(fails("wamp.session.kill", {value(4)}, object{{"reason", value("not a uri")}}) ==
        uri_of(errc::invalid_uri));
  CHECK_FALSE(bob2->killed);
}

TEST_CASE_FIXTURE(meta_fixture, "meta: kill_by_authid, kill_by_authrole, kill_all spare the caller") {
  SUBCASE("by authid: the killed ids") {
    auto killed = ok("wamp.session.kill_by_authid", {value("bob")}).args.at(0).as_array();
    CHECK(killed.size() == 2);
    CHECK(bob->killed);
    CHECK(bob2->killed);
    CHECK_FALSE(alice->killed);
    CHECK(ok("wamp.session.kill_by_authid", {value("root")}).args.at(0).as_array().empty());
  }
  SUBCASE("by authrole: a count") {
    CHECK(ok("wamp.session.kill_by_authrole", {value("user")}).args == array{value(2)});
    CHECK(alice->killed);
    CHECK(bob->killed);
    CHECK_FALSE(bob2->killed);
  }
  SUBCASE("all: a count, everyone but the caller") {
    CHECK(ok("wamp.session.kill_all").args == array{value(3)});
    CHECK(r.session_count() == 1);
    CHECK_FALSE(admin->killed);
  }
}

TEST_CASE_FIXTURE(meta_fixture, "meta: session events on_join and on_leave") {
  watch("wamp.session.", true);
  auto carol = std::make_shared<fake_peer>();
  r.join(session_info{9, "carol", "user", "ticket", "static", {}}, carol);
  r.leave(9);
  const auto ev = events();
  REQUIRE(ev.size() == 2);
  CHECK(topics_of(ev) == std::vector<std::string>{"wamp.session.on_join", "wamp.session.on_leave"});
  const auto& details = ev[0].args.at(0).as_object();
  CHECK(*details.find("session") == value(9));
  CHECK(*details.get_string("authid") == "carol");
  CHECK(*details.get_string("authmethod") == "ticket");
  CHECK(ev[1].args == array{value(9), value("carol"), value("user")});
}

TEST_CASE_FIXTURE(meta_fixture, "meta: testaments are published in order when the session goes, scope by scope") {
  const id sub = watch("com.example.", true);
  auto add = [&](id session, fake_peer& p, const char* topic, object kwargs = {}) {
    CHECK_FALSE(r.handle(session, call{++request, {}, "wamp.session.add_testament",
                                       {value(topic), value(array{value(topic)}),
                                        value(object{{"k", value(1)}})},
                                       std::move(kwargs)}));
    p.take<result_>();
  };
  add(2, *alice, "com.example.first");
  add(2, *alice, "com.example.flushed", object{{"scope", value("detached")}});
  add(2, *alice, "com.example.second");
  // flush_testaments removes one scope (destroyed by default) and says how many.
  CHECK_FALSE(r.handle(2, call{++request, {}, "wamp.session.flush_testaments", {},
                               object{{"scope", value("detached")}}}));
  CHECK(alice->take<result_>().args == array{value(1)});
  add(3, *bob, "com.example.bob");
  CHECK_FALSE(r.handle(3, call{++request, {}, "wamp.session.flush_testaments", {}, {}}));
  CHECK(bob->take<result_>().args == array{value(1)});
  r.leave(3);
  CHECK(events().empty());
  r.leave(2);  // lost without GOODBYE or not: the realm cannot tell, both publish
  const auto ev = events();
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].subscription == sub);
  CHECK(topics_of(ev) == std::vector<std::string>{"com.example.first", "com.example.second"});
  CHECK(ev[0].args == array{value("com.example.first")});
  CHECK(ev[0].kwargs == object{{"k", value(1)}});
  // Bad testaments are refused.
  CHECK(fails("wamp.session.add_testament", {value("wamp.session.on_join")}) ==
        uri_of(errc::invalid_uri));
  CHECK(fails("wamp.session.add_testament", {value("com.t")}, object{{"scope", value("forever")}}) ==
        uri_of(errc::invalid_argument));
  // Options the broker would refuse at publication are refused now, not lost later.
  CHECK(fails("wamp.session.add_testament", {value("com.t")},
              object{{"publish_options", value(object{{"eligible", value("not a list")}})}}) ==
        uri_of(errc::invalid_argument));
}

TEST_CASE_FIXTURE(meta_fixture, "meta: registration procedures") {
  CHECK_FALSE(r.handle(2, register_{1, {}, "com.exact"}));
  const id exact = alice->take<registered>().registration;
  CHECK_FALSE(r.handle(2, register_{2, object{{"match", value("prefix")}, {"invoke", value("roundrobin")}}, "com.pre"}));
  const id prefix = alice->take<registered>().registration;
  CHECK_FALSE(r.handle(3, register_{3, object{{"match", value("prefix")}, {"invoke", value("roundrobin")}}, "com.pre"}));
  CHECK(bob->take<registered>().registration == prefix);
  CHECK_FALSE(r.handle(3, register_{4, object{{"match", value("wildcard")}}, "com..x"}));
  const id wildcard = bob->take<registered>().registration;

  const auto listed = ok("wamp.registration.list").args.at(0).as_object();
  CHECK(*listed.find("exact") == value(array{value(exact)}));
  CHECK(*listed.find("prefix") == value(array{value(prefix)}));
  CHECK(*listed.find("wildcard") == value(array{value(wildcard)}));
  CHECK(ok("wamp.registration.lookup", {value("com.exact")}).args == array{value(exact)});
  CHECK(ok("wamp.registration.lookup", {value("com.pre")}).args == array{value()});
  CHECK(ok("wamp.registration.lookup", {value("com.pre"), value(object{{"match", value("prefix")}})})
            .args == array{value(prefix)});
  CHECK(ok("wamp.registration.match", {value("com.prefixed.x")}).args == array{value(prefix)});
  CHECK(ok("wamp.registration.match", {value("com.y.x")}).args == array{value(wildcard)});
  CHECK(ok("wamp.registration.match", {value("org.none")}).args == array{value()});
  const auto details = ok("wamp.registration.get", {value(prefix)}).args.at(0).as_object();
  CHECK(*details.find("id") == value(prefix));
  CHECK(*details.get_string("uri") == "com.pre");
  CHECK(*details.get_string("match") == "prefix");
  CHECK(*details.get_string("invoke") == "roundrobin");
  CHECK(details.get_string("created")->size() == 24);  // 2026-11-21T16:38:14.334Z
  CHECK(ok("wamp.registration.list_callees", {value(prefix)}).args ==
        array{value(array{value(2), value(3)})});
  CHECK(ok("wamp.registration.count_callees", {value(prefix)}).args == array{value(2)});
  CHECK(fails("wamp.registration.get", {value(12345)}) == uri_of(errc::no_such_registration));
  CHECK(fails("wamp.registration.count_callees", {}) == uri_of(errc::no_such_registration));

  // remove_callee revokes: UNREGISTERED with the revocation form to a callee that announced it.
  ok("wamp.registration.remove_callee", {value(prefix), value(2)}, object{{"reason", value("moved")}});
  const auto u = alice->take<unregistered>();
  CHECK(u.request == 0);
  CHECK(*u.details.find("registration") == value(prefix));
  CHECK(*u.details.get_string("reason") == "moved");
  ok("wamp.registration.remove_callee", {value(prefix), value(3)});
  CHECK(bob->inbox.empty());  // did not announce registration_revocation: removed silently
  CHECK(fails("wamp.registration.get", {value(prefix)}) == uri_of(errc::no_such_registration));
  CHECK(fails("wamp.registration.remove_callee", {value(prefix), value(3)}) ==
        uri_of(errc::no_such_registration));
}

TEST_CASE_FIXTURE(meta_fixture, "meta: registration events in the spec's order") {
  watch("wamp.registration.", true);
  CHECK_FALSE(r.handle(2, register_{1, object{{"invoke", value("first")}}, "com.p"}));
  const id reg = alice->take<registered>().registration;
  CHECK_FALSE(r.handle(3, register_{2, object{{"invoke", value("first")}}, "com.p"}));
  bob->take<registered>();
  CHECK_FALSE(r.handle(2, unregister{3, reg}));
  r.leave(3);
  const auto ev = events();
  CHECK(topics_of(ev) ==
        std::vector<std::string>{"wamp.registration.on_create", "wamp.registration.on_register",
                                 "wamp.registration.on_register", "wamp.registration.on_unregister",
                                 "wamp.registration.on_unregister", "wamp.registration.on_delete"});
  REQUIRE(ev.size() == 6);
  CHECK(ev[0].args.at(0) == value(2));
  CHECK(*ev[0].args.at(1).as_object().get_string("uri") == "com.p");
  CHECK(ev[1].args == array{value(2), value(reg)});
  CHECK(ev[2].args == array{value(3), value(reg)});
  CHECK(ev[5].args == array{value(3), value(reg)});
}

TEST_CASE_FIXTURE(meta_fixture, "meta: subscription procedures and events") {
  const id events_sub = watch("wamp.subscription.", true);
  CHECK_FALSE(r.handle(2, subscribe{1, {}, "com.t"}));
  const id exact = alice->take<subscribed>().subscription;
  CHECK_FALSE(r.handle(3, subscribe{2, object{{"match", value("prefix")}}, "com"}));
  const id prefix = bob->take<subscribed>().subscription;
  CHECK_FALSE(r.handle(4, subscribe{3, {}, "com.t"}));
  bob2->take<subscribed>();

  const auto listed = ok("wamp.subscription.list").args.at(0).as_object();
  CHECK(*listed.find("exact") == value(array{value(exact)}));
  // The admin's own pattern subscription to the meta events is listed too.
  CHECK(listed.find("prefix")->as_array().size() == 2);
  CHECK(ok("wamp.subscription.lookup", {value("com.t")}).args == array{value(exact)});
  CHECK(ok("wamp.subscription.lookup", {value("com"), value(object{{"match", value("prefix")}})}).args ==
        array{value(prefix)});
  auto matched = ok("wamp.subscription.match", {value("com.t")}).args.at(0).as_array();
  CHECK(matched.size() == 2);
  CHECK(ok("wamp.subscription.match", {value("org.t")}).args == array{value()});
  const auto details = ok("wamp.subscription.get", {value(exact)}).args.at(0).as_object();
  CHECK(*details.get_string("uri") == "com.t");
  CHECK(*details.get_string("match") == "exact");
  CHECK(ok("wamp.subscription.list_subscribers", {value(exact)}).args ==
        array{value(array{value(2), value(4)})});
  CHECK(ok("wamp.subscription.count_subscribers", {value(exact)}).args == array{value(2)});
  CHECK(fails("wamp.subscription.get", {value(777)}) == uri_of(errc::no_such_subscription));

  ok("wamp.subscription.remove_subscriber", {value(exact), value(2)});
  const auto u = alice->take<unsubscribed>();
  CHECK(u.request == 0);
  CHECK(*u.details.find("subscription") == value(exact));
  const auto ev = events();
  // The first two are about the admin's own subscription to the meta events.
  CHECK(topics_of(ev) ==
        std::vector<std::string>{"wamp.subscription.on_create", "wamp.subscription.on_subscribe",
                                 "wamp.subscription.on_create", "wamp.subscription.on_subscribe",
                                 "wamp.subscription.on_create", "wamp.subscription.on_subscribe",
                                 "wamp.subscription.on_subscribe",
                                 "wamp.subscription.on_unsubscribe"});
  REQUIRE(ev.size() == 8);
  CHECK(ev[1].args == array{value(1), value(events_sub)});
  CHECK(*ev[2].args.at(1).as_object().get_string("uri") == "com.t");
  CHECK(ev[7].args == array{value(2), value(exact)});
}

TEST_CASE("meta: meta events stay inside their realm") {
  test::manual_timers timers;
  realm one{realm_config{"one"}, timers};
  realm two{realm_config{"two"}, timers};
  auto watcher = std::make_shared<fake_peer>();
  two.join(session_info{1, "w", "anonymous", "anonymous", "", {}}, watcher);
  CHECK_FALSE(two.handle(1, subscribe{1, {}, "wamp.session.on_join"}));
  watcher->take<subscribed>();
  one.join(session_info{2, "x", "anonymous", "anonymous", "", {}}, std::make_shared<fake_peer>());
  CHECK(watcher->inbox.empty());
  two.join(session_info{3, "y", "anonymous", "anonymous", "", {}}, std::make_shared<fake_peer>());
  CHECK(watcher->inbox.size() == 1);
}

TEST_CASE_FIXTURE(meta_fixture, "meta: a revoked callee hears of its revocation before the meta events about it") {
  CHECK_FALSE(r.handle(2, subscribe{1, {}, "wamp.registration.on_unregister"}));
  alice->take<subscribed>();
  CHECK_FALSE(r.handle(2, register_{2, {}, "com.p"}));
  const id reg = alice->take<registered>().registration;
  ok("wamp.registration.remove_callee", {value(reg), value(2)});
  REQUIRE(alice->inbox.size() == 2);
  CHECK(alice->take<unregistered>().request == 0);
  CHECK(alice->take<event>().args == array{value(2), value(reg)});
}
