// The broker as a plain object inside a realm, with fake sessions (no sockets).
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "realm/realm.hpp"
#include "serializers/errors.hpp"
#include "support/fakes.hpp"

using namespace junction;
using test::fake_peer;

namespace {

struct broker_fixture {
  test::manual_timers timers;
  realm r{realm_config{"realm1"}, timers};
  std::shared_ptr<fake_peer> a = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> b = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> c = std::make_shared<fake_peer>();
  broker_fixture() {
    r.join(session_info{101, "a", "anonymous", "anonymous", "", {}}, a);
    r.join(session_info{102, "b", "anonymous", "anonymous", "", {}}, b);
    r.join(session_info{103, "c", "anonymous", "anonymous", "", {}}, c);
  }
  id sub(id session, fake_peer& p, const std::string& topic, id request = 1, object options = {}) {
    CHECK_FALSE(r.handle(session, subscribe{request, std::move(options), topic}));
    return p.take<subscribed>().subscription;
  }
};

}  // namespace

TEST_CASE_FIXTURE(broker_fixture,
                  "broker: one subscription id per topic, shared by its subscribers") {
  const id s1 = sub(101, *a, "com.example.topic");
  const id s2 = sub(102, *b, "com.example.topic");
  const id other = sub(103, *c, "com.example.other");
  CHECK(s1 == s2);
  CHECK(s1 != other);
  // A repeated SUBSCRIBE returns the existing id and does not double deliveries.
  CHECK(sub(101, *a, "com.example.topic", 2) == s1);
  CHECK_FALSE(r.handle(103, publish{5, {}, "com.example.topic", {value(1)}, {}}));
  CHECK(a->inbox.size() == 1);
  CHECK(b->inbox.size() == 1);
}

TEST_CASE_FIXTURE(broker_fixture, "broker: EVENT goes to every subscriber except the publisher") {
  const id s = sub(101, *a, "com.t");
  sub(102, *b, "com.t");
  CHECK_FALSE(r.handle(101, publish{7, {}, "com.t", {value("hi")}, object{{"k", value(2)}}}));
  CHECK(a->inbox.empty());  // exclude-me is the default
  CHECK(c->inbox.empty());  // not subscribed
  const auto& e = b->last<event>();
  CHECK(e.subscription == s);
  CHECK(e.publication >= 1);
  CHECK(e.publication <= max_id);
  CHECK(e.args == array{value("hi")});
  CHECK(e.kwargs == object{{"k", value(2)}});
}

TEST_CASE_FIXTURE(broker_fixture, "broker: acknowledge → PUBLISHED with a random publication id") {
  sub(102, *b, "com.t");
  CHECK_FALSE(r.handle(101, publish{9, object{{"acknowledge", value(true)}}, "com.t", {}, {}}));
  const auto ack = a->take<published>();
  CHECK(ack.request == 9);
  CHECK(ack.publication == b->last<event>().publication);
  CHECK_FALSE(r.handle(101, publish{10, object{{"acknowledge", value(true)}}, "com.t", {}, {}}));
  CHECK(a->take<published>().publication != ack.publication);
  // Without acknowledge there is no reply.
  CHECK_FALSE(r.handle(101, publish{11, {}, "com.t", {}, {}}));
  CHECK(a->inbox.empty());
}

TEST_CASE_FIXTURE(broker_fixture, "broker: invalid topics are refused") {
  CHECK_FALSE(r.handle(101, subscribe{1, {}, "com..bad"}));
  CHECK(a->take<error>().error_uri == uri_of(errc::invalid_uri));
  CHECK_FALSE(r.handle(101, publish{2, object{{"acknowledge", value(true)}}, "bad topic", {}, {}}));
  CHECK(a->take<error>().error_uri == uri_of(errc::invalid_uri));
  // Publishing into the reserved wamp. namespace is refused too.
  CHECK_FALSE(r.handle(
      101, publish{3, object{{"acknowledge", value(true)}}, "wamp.session.on_join", {}, {}}));
  CHECK(a->take<error>().error_uri == uri_of(errc::invalid_uri));
  // Unacknowledged: silently refused, nobody gets anything.
  CHECK_FALSE(r.handle(101, publish{4, {}, "com..bad", {}, {}}));
  CHECK(a->inbox.empty());
}

TEST_CASE_FIXTURE(broker_fixture, "broker: UNSUBSCRIBE only for the session's own subscriptions") {
  const id s = sub(101, *a, "com.t");
  CHECK_FALSE(r.handle(102, unsubscribe{4, s}));
  const auto e = b->take<error>();
  CHECK(e.error_uri == uri_of(errc::no_such_subscription));
  CHECK(e.request_type == 34);
  CHECK(e.request == 4);
  CHECK_FALSE(r.handle(101, unsubscribe{5, 999}));
  CHECK(a->take<error>().error_uri == uri_of(errc::no_such_subscription));
  CHECK_FALSE(r.handle(101, unsubscribe{6, s}));
  CHECK(a->take<unsubscribed>().request == 6);
  CHECK(r.get_broker().subscription_count() == 0);
  CHECK_FALSE(r.handle(102, publish{7, {}, "com.t", {}, {}}));
  CHECK(a->inbox.empty());
}

TEST_CASE_FIXTURE(broker_fixture, "broker: a session that leaves loses its subscriptions") {
  sub(101, *a, "com.t");
  sub(101, *a, "com.u", 2);
  sub(102, *b, "com.t");
  r.leave(101);
  CHECK(r.get_broker().subscription_count() == 1);
  CHECK_FALSE(r.handle(103, publish{1, {}, "com.t", {}, {}}));
  CHECK(a->inbox.empty());
  CHECK(b->inbox.size() == 1);
}

TEST_CASE_FIXTURE(broker_fixture,
                  "broker: fan-out builds one EVENT and encodes it once per serializer") {
  std::vector<std::shared_ptr<fake_peer>> subscribers;
  for (id s = 200; s < 210; ++s) {
    subscribers.push_back(std::make_shared<fake_peer>());
    r.join(session_info{s, "x", "anonymous", "anonymous", "", {}}, subscribers.back());
    sub(s, *subscribers.back(), "com.fan");
  }
  CHECK_FALSE(r.handle(101, publish{1, {}, "com.fan", {value(binary{"\x01\x02"})}, {}}));
  const auto& first = subscribers.front()->shared.at(0);
  for (std::size_t i = 0; i < subscribers.size(); ++i) {
    REQUIRE(subscribers[i]->shared.size() == 1);
    CHECK((subscribers[i]->shared[0] == first));  // the very same object
    // Half the subscribers speak JSON, half MessagePack, as their transports would encode.
    (void)subscribers[i]->shared[0]->encoded(i % 2 ? json_codec() : msgpack_codec());
  }
  CHECK(first->encode_count() == 2);
}

TEST_CASE("broker: realms are isolated") {
  test::manual_timers timers;
  realm one{realm_config{"one"}, timers};
  realm two{realm_config{"two"}, timers};
  auto a = std::make_shared<fake_peer>();
  auto b = std::make_shared<fake_peer>();
  one.join(session_info{1, "a", "anonymous", "anonymous", "", {}}, a);
  two.join(session_info{2, "b", "anonymous", "anonymous", "", {}}, b);
  CHECK_FALSE(one.handle(1, subscribe{1, {}, "com.t"}));
  CHECK_FALSE(two.handle(2, publish{1, {}, "com.t", {}, {}}));
  CHECK(a->take<subscribed>().request == 1);
  CHECK(a->inbox.empty());
  // A session id of another realm is unknown here.
  CHECK(two.handle(1, publish{2, {}, "com.t", {}, {}}).has_value());
}

// --- Advanced Profile (issue 5) ----------------------------------------------------------------

namespace {

object opts(std::initializer_list<object::entry> init) { return object(init); }
value ids(std::initializer_list<id> list) {
  array a;
  for (id i : list) a.emplace_back(i);
  return value(std::move(a));
}
value strings(std::initializer_list<const char*> list) {
  array a;
  for (const char* s : list) a.emplace_back(s);
  return value(std::move(a));
}

// A publisher (100) and four subscribers of one topic with distinct authids and authroles:
//   101 alice/user, 102 bob/user, 103 carol/admin, 104 dave/guest.
struct filter_fixture {
  test::manual_timers timers;
  realm r;
  std::shared_ptr<fake_peer> pub = std::make_shared<fake_peer>();
  std::vector<std::shared_ptr<fake_peer>> subs;
  static constexpr const char* topic = "com.filter";

  explicit filter_fixture(realm_config cfg = realm_config{"realm1"}) : r(std::move(cfg), timers) {
    r.join(session_info{100, "pat", "user", "anonymous", "", {}}, pub);
    const std::pair<const char*, const char*> who[] = {
        {"alice", "user"}, {"bob", "user"}, {"carol", "admin"}, {"dave", "guest"}};
    id session = 101;
    for (const auto& [authid, authrole] : who) {
      subs.push_back(std::make_shared<fake_peer>());
      r.join(session_info{session, authid, authrole, "anonymous", "", {}}, subs.back());
      CHECK_FALSE(r.handle(session, subscribe{1, {}, topic}));
      subs.back()->take<subscribed>();
      ++session;
    }
  }
  fake_peer& peer_of(id session) { return *subs.at(session - 101); }

  // Publishes with `options` and returns the subscribers that got the EVENT (inboxes emptied).
  std::set<id> receivers(object options) {
    CHECK_FALSE(r.handle(100, publish{1, std::move(options), topic, {value("x")}, {}}));
    std::set<id> got;
    for (id s = 101; s <= 104; ++s) {
      auto& in = peer_of(s).inbox;
      CHECK(in.size() <= 1);
      if (!in.empty()) {
        CHECK(std::holds_alternative<event>(in.front()));
        got.insert(s);
      }
      in.clear();
    }
    return got;
  }
};

using ids_t = std::set<id>;

}  // namespace

TEST_CASE_FIXTURE(filter_fixture, "broker: subscriber black listing, each option alone") {
  CHECK(receivers({}) == ids_t{101, 102, 103, 104});
  CHECK(receivers(opts({{"exclude", ids({102, 104})}})) == ids_t{101, 103});
  CHECK(receivers(opts({{"exclude", ids({})}})) == ids_t{101, 102, 103, 104});
  CHECK(receivers(opts({{"exclude_authid", strings({"alice", "nobody"})}})) ==
        ids_t{102, 103, 104});
  CHECK(receivers(opts({{"exclude_authrole", strings({"user"})}})) == ids_t{103, 104});
  CHECK(receivers(opts({{"exclude_authrole", strings({"user", "admin", "guest"})}})).empty());
}

TEST_CASE_FIXTURE(filter_fixture, "broker: subscriber white listing, each option alone") {
  CHECK(receivers(opts({{"eligible", ids({101, 103, 999})}})) == ids_t{101, 103});
  CHECK(receivers(opts({{"eligible_authid", strings({"bob", "dave"})}})) == ids_t{102, 104});
  CHECK(receivers(opts({{"eligible_authrole", strings({"admin"})}})) == ids_t{103});
  // A white list that is present but empty admits nobody.
  CHECK(receivers(opts({{"eligible", ids({})}})).empty());
  CHECK(receivers(opts({{"eligible_authid", strings({})}})).empty());
  CHECK(receivers(opts({{"eligible_authrole", strings({"nobody"})}})).empty());
}

TEST_CASE_FIXTURE(filter_fixture, "broker: black and white lists combine with AND") {
  // eligible ∧ ¬exclude
  CHECK(receivers(opts({{"eligible", ids({101, 102, 103})}, {"exclude", ids({102})}})) ==
        ids_t{101, 103});
  // eligible_authrole ∧ ¬exclude_authid
  CHECK(receivers(opts({{"eligible_authrole", strings({"user"})},
                        {"exclude_authid", strings({"bob"})}})) == ids_t{101});
  // eligible ∧ eligible_authid ∧ eligible_authrole
  CHECK(receivers(opts({{"eligible", ids({101, 102, 103})},
                        {"eligible_authid", strings({"bob", "carol", "dave"})},
                        {"eligible_authrole", strings({"user", "guest"})}})) == ids_t{102});
  // all six at once
  CHECK(receivers(opts({{"eligible", ids({101, 102, 103, 104})},
                        {"eligible_authid", strings({"alice", "bob", "carol", "dave"})},
                        {"eligible_authrole", strings({"user", "admin", "guest"})},
                        {"exclude", ids({101})},
                        {"exclude_authid", strings({"carol"})},
                        {"exclude_authrole", strings({"guest"})}})) == ids_t{102});
  // the publisher's own eligibility does not matter to others
  CHECK(receivers(opts({{"eligible", ids({100, 104})}})) == ids_t{104});
}

TEST_CASE_FIXTURE(filter_fixture,
                  "broker: malformed PUBLISH options → invalid_argument or a silent drop") {
  const std::pair<const char*, value> bad[] = {
      {"exclude", value(101)},                           // not a list
      {"exclude", strings({"101"})},                     // not session ids
      {"exclude", value(array{value(101), value(-1)})},  // negative
      {"exclude", value(array{value(1.5)})},
      {"exclude_authid", value("alice")},
      {"exclude_authid", ids({1})},
      {"exclude_authrole", value(object{})},
      {"eligible", value(null)},
      {"eligible", value(array{value(101), value(true)})},
      {"eligible_authid", value(array{value("bob"), value(null)})},
      {"eligible_authrole", value(7)},
      {"exclude_me", value("no")},
      {"disclose_me", value(1)},
      {"retain", value("yes")},
  };
  id request = 10;
  for (const auto& [key, v] : bad) {
    CAPTURE(key);
    CAPTURE(to_debug_string(v));
    CHECK_FALSE(r.handle(
        100, publish{++request, object{{"acknowledge", value(true)}, {key, v}}, topic, {}, {}}));
    const auto e = pub->take<error>();
    CHECK(e.error_uri == uri_of(errc::invalid_argument));
    CHECK(e.request_type == 16);
    CHECK(e.request == request);
    CHECK(pub->inbox.empty());
    // Without acknowledge: dropped, no reply.
    CHECK(receivers(object{{key, v}}).empty());
    CHECK(pub->inbox.empty());
  }
  CHECK(r.get_broker().retained_count() == 0);
  CHECK(receivers({}) == ids_t{101, 102, 103, 104});  // nothing stuck
}

TEST_CASE_FIXTURE(broker_fixture, "broker: exclude_me=false delivers to a subscribed publisher") {
  const id s = sub(101, *a, "com.t");
  sub(102, *b, "com.t");
  CHECK_FALSE(
      r.handle(101, publish{1, object{{"exclude_me", value(false)}}, "com.t", {value(1)}, {}}));
  CHECK(a->take<event>().subscription == s);
  CHECK(b->take<event>().subscription == s);
  CHECK_FALSE(
      r.handle(101, publish{2, object{{"exclude_me", value(true)}}, "com.t", {value(2)}, {}}));
  CHECK(a->inbox.empty());
  CHECK(b->take<event>().args == array{value(2)});
  // exclude_me=false does not override an explicit black list
  CHECK_FALSE(r.handle(
      101,
      publish{3, object{{"exclude_me", value(false)}, {"exclude", ids({101})}}, "com.t", {}, {}}));
  CHECK(a->inbox.empty());
  CHECK(b->take<event>().subscription == s);
  // nor a white list without the publisher
  CHECK_FALSE(r.handle(
      101,
      publish{4, object{{"exclude_me", value(false)}, {"eligible", ids({102})}}, "com.t", {}, {}}));
  CHECK(a->inbox.empty());
  CHECK(b->take<event>().subscription == s);
}

TEST_CASE_FIXTURE(broker_fixture, "broker: publisher identification on request") {
  sub(102, *b, "com.t");
  CHECK_FALSE(r.handle(101, publish{1, {}, "com.t", {}, {}}));
  CHECK(b->take<event>().details.empty());
  CHECK_FALSE(r.handle(101, publish{2, object{{"disclose_me", value(false)}}, "com.t", {}, {}}));
  CHECK(b->take<event>().details.empty());
  CHECK_FALSE(r.handle(101, publish{3, object{{"disclose_me", value(true)}}, "com.t", {}, {}}));
  const auto e = b->take<event>();
  CHECK(*e.details.find("publisher") == value(101));
  CHECK(*e.details.get_string("publisher_authid") == "a");
  CHECK(*e.details.get_string("publisher_authrole") == "anonymous");
}

TEST_CASE("broker: publisher identification by realm setting: always, never") {
  test::manual_timers timers;
  realm_config always{"always"};
  always.disclose_publisher = disclosure::always;
  realm_config never{"never"};
  never.disclose_publisher = disclosure::never;
  realm one{always, timers};
  realm two{never, timers};
  auto p1 = std::make_shared<fake_peer>();
  auto s1 = std::make_shared<fake_peer>();
  auto p2 = std::make_shared<fake_peer>();
  auto s2 = std::make_shared<fake_peer>();
  one.join(session_info{1, "pub", "role", "anonymous", "", {}}, p1);
  one.join(session_info{2, "sub", "role", "anonymous", "", {}}, s1);
  two.join(session_info{1, "pub", "role", "anonymous", "", {}}, p2);
  two.join(session_info{2, "sub", "role", "anonymous", "", {}}, s2);
  CHECK_FALSE(one.handle(2, subscribe{1, {}, "com.t"}));
  CHECK_FALSE(two.handle(2, subscribe{1, {}, "com.t"}));
  s1->take<subscribed>();
  s2->take<subscribed>();

  // always: disclosed without being asked, even when asked not to
  CHECK_FALSE(one.handle(1, publish{1, {}, "com.t", {}, {}}));
  CHECK(*s1->take<event>().details.find("publisher") == value(1));
  CHECK_FALSE(one.handle(1, publish{2, object{{"disclose_me", value(false)}}, "com.t", {}, {}}));
  CHECK(*s1->take<event>().details.get_string("publisher_authid") == "pub");

  // never: not disclosed; asking for it is refused and the event is not delivered
  CHECK_FALSE(two.handle(1, publish{1, {}, "com.t", {}, {}}));
  CHECK(s2->take<event>().details.empty());
  CHECK_FALSE(two.handle(
      1,
      publish{
          2, object{{"disclose_me", value(true)}, {"acknowledge", value(true)}}, "com.t", {}, {}}));
  const auto e = p2->take<error>();
  CHECK(e.error_uri == uri_of(errc::disclose_me_disallowed));
  CHECK(e.error_uri == "wamp.error.option_disallowed.disclose_me");
  CHECK(e.request == 2);
  CHECK(s2->inbox.empty());
  CHECK_FALSE(two.handle(
      1,
      publish{3, object{{"disclose_me", value(true)}, {"retain", value(true)}}, "com.t", {}, {}}));
  CHECK(p2->inbox.empty());
  CHECK(s2->inbox.empty());
  CHECK(two.get_broker().retained_count() == 0);
}

TEST_CASE_FIXTURE(broker_fixture,
                  "broker: prefix subscriptions match by characters, with details.topic") {
  const id p = sub(102, *b, "com.app", 1, object{{"match", value("prefix")}});
  const id exact = sub(103, *c, "com.app");
  CHECK(p != exact);  // one subscription per (topic, match)
  for (const char* topic : {"com.app", "com.app.x", "com.apple", "com.app.x.y"}) {
    CAPTURE(topic);
    CHECK_FALSE(r.handle(101, publish{1, {}, topic, {value(topic)}, {}}));
    const auto e = b->take<event>();
    CHECK(e.subscription == p);
    CHECK(*e.details.get_string("topic") == topic);
    CHECK(e.args == array{value(topic)});
    CHECK(b->inbox.empty());
  }
  // the exact subscriber got only its own topic, without details.topic
  const auto e = c->take<event>();
  CHECK(e.subscription == exact);
  CHECK(e.details.find("topic") == nullptr);
  CHECK(c->inbox.empty());
  CHECK_FALSE(r.handle(101, publish{1, {}, "com.ap", {}, {}}));
  CHECK_FALSE(r.handle(101, publish{1, {}, "org.app", {}, {}}));
  CHECK(b->inbox.empty());
}

TEST_CASE_FIXTURE(broker_fixture,
                  "broker: wildcard subscriptions match whole components of equal count") {
  const id w = sub(102, *b, "com..update", 1, object{{"match", value("wildcard")}});
  const id w2 = sub(103, *c, ".app.", 1, object{{"match", value("wildcard")}});
  for (const char* topic : {"com.x.update", "com.app.update"}) {
    CHECK_FALSE(r.handle(101, publish{1, {}, topic, {}, {}}));
    const auto e = b->take<event>();
    CHECK(e.subscription == w);
    CHECK(*e.details.get_string("topic") == topic);
  }
  for (const char* topic : {"com.update", "com.x.y.update", "com.x.update.y", "org.x.update"}) {
    CAPTURE(topic);
    CHECK_FALSE(r.handle(101, publish{1, {}, topic, {}, {}}));
    CHECK(b->inbox.empty());
  }
  // ".app." matched "com.app.update" only
  const auto e = c->take<event>();
  CHECK(e.subscription == w2);
  CHECK(*e.details.get_string("topic") == "com.app.update");
  CHECK(c->inbox.empty());
}

TEST_CASE_FIXTURE(broker_fixture,
                  "broker: subscription ids per (topic, match), shared by subscribers") {
  const id e1 = sub(101, *a, "com.t");
  const id p1 = sub(101, *a, "com.t", 2, object{{"match", value("prefix")}});
  const id w1 = sub(101, *a, "com.t", 3, object{{"match", value("wildcard")}});
  const id e2 = sub(102, *b, "com.t", 1, object{{"match", value("exact")}});
  const id p2 = sub(102, *b, "com.t", 2, object{{"match", value("prefix")}});
  const id w2 = sub(103, *c, "com.t", 1, object{{"match", value("wildcard")}});
  CHECK(e1 == e2);
  CHECK(p1 == p2);
  CHECK(w1 == w2);
  CHECK(std::set<id>{e1, p1, w1}.size() == 3);
  CHECK(r.get_broker().subscription_count() == 3);
  // a repeated pattern SUBSCRIBE returns the same id
  CHECK(sub(101, *a, "com.t", 4, object{{"match", value("prefix")}}) == p1);
}

TEST_CASE_FIXTURE(broker_fixture, "broker: SUBSCRIBE option errors") {
  auto error_for = [&](object options, const std::string& topic) {
    CHECK_FALSE(r.handle(101, subscribe{9, std::move(options), topic}));
    const auto e = a->take<error>();
    CHECK(e.request_type == 32);
    CHECK(e.request == 9);
    return e.error_uri;
  };
  CHECK(error_for(object{{"match", value("regex")}}, "com.t") == uri_of(errc::invalid_argument));
  CHECK(error_for(object{{"match", value(1)}}, "com.t") == uri_of(errc::invalid_argument));
  CHECK(error_for(object{{"get_retained", value("yes")}}, "com.t") ==
        uri_of(errc::invalid_argument));
  // URIs are checked with the policy's form: empty components only where the pattern allows
  CHECK(error_for(object{}, "com.") == uri_of(errc::invalid_uri));
  CHECK(error_for(object{{"match", value("prefix")}}, "com..x") == uri_of(errc::invalid_uri));
  CHECK(error_for(object{{"match", value("wildcard")}}, "com.a b") == uri_of(errc::invalid_uri));
  CHECK(error_for(object{{"match", value("prefix")}}, "") == uri_of(errc::invalid_uri));
  CHECK(r.get_broker().subscription_count() == 0);
  // the forms that are allowed
  sub(101, *a, "com.", 1, object{{"match", value("prefix")}});
  sub(101, *a, "com..x", 2, object{{"match", value("wildcard")}});
  sub(101, *a, "..", 3, object{{"match", value("wildcard")}});
  CHECK(r.get_broker().subscription_count() == 3);
}

TEST_CASE_FIXTURE(broker_fixture,
                  "broker: one EVENT per matching subscription, also to one subscriber") {
  const id exact = sub(102, *b, "com.a.b");
  const id prefix = sub(102, *b, "com.a", 2, object{{"match", value("prefix")}});
  const id prefix2 = sub(102, *b, "com.", 3, object{{"match", value("prefix")}});
  const id wild = sub(102, *b, "com..b", 4, object{{"match", value("wildcard")}});
  sub(102, *b, "com..c", 5, object{{"match", value("wildcard")}});  // does not match
  sub(102, *b, "com.a.b.", 6, object{{"match", value("prefix")}});  // does not match
  CHECK_FALSE(r.handle(101, publish{1,
                                    object{{"acknowledge", value(true)}},
                                    "com.a.b",
                                    {value("p")},
                                    object{{"k", value(1)}}}));
  const id publication = a->take<published>().publication;
  REQUIRE(b->inbox.size() == 4);
  std::set<id> seen;
  for (const auto& m : b->inbox) {
    const auto& e = std::get<event>(m);
    seen.insert(e.subscription);
    CHECK(e.publication == publication);  // the same publication each time
    CHECK(e.args == array{value("p")});   // every copy carries the payload
    CHECK(e.kwargs == object{{"k", value(1)}});
    if (e.subscription == exact)
      CHECK(e.details.find("topic") == nullptr);
    else
      CHECK(*e.details.get_string("topic") == "com.a.b");
  }
  CHECK(seen == std::set<id>{exact, prefix, prefix2, wild});
}

TEST_CASE_FIXTURE(
    broker_fixture,
    "broker: several matching subscriptions → one shared EVENT each, encoded once per serializer") {
  // 12 subscribers spread over an exact, a prefix and a wildcard subscription, all matching.
  std::vector<std::shared_ptr<fake_peer>> subscribers;
  const std::pair<const char*, const char*> kinds[] = {
      {"com.fan.x", "exact"}, {"com.fan", "prefix"}, {"com..x", "wildcard"}};
  for (id s = 200; s < 212; ++s) {
    subscribers.push_back(std::make_shared<fake_peer>());
    r.join(session_info{s, "x", "anonymous", "anonymous", "", {}}, subscribers.back());
    const auto& [topic, match] = kinds[s % 3];
    sub(s, *subscribers.back(), topic, 1, object{{"match", value(match)}});
  }
  CHECK_FALSE(r.handle(101, publish{1, {}, "com.fan.x", {value(binary{"\x01\x02"})}, {}}));
  std::set<const shared_message*> frames;
  std::map<id, const shared_message*> frame_of_subscription;
  for (std::size_t i = 0; i < subscribers.size(); ++i) {
    REQUIRE(subscribers[i]->shared.size() == 1);
    const auto& frame = subscribers[i]->shared[0];
    frames.insert(frame.get());
    const id sid = std::get<event>(frame->get()).subscription;
    auto [it, first] = frame_of_subscription.emplace(sid, frame.get());
    CHECK(it->second == frame.get());  // every subscriber of a subscription: the same object
    (void)first;
    (void)frame->encoded(i % 2 ? json_codec() : msgpack_codec());
    (void)frame->encoded(i % 2 ? json_codec() : msgpack_codec());
  }
  CHECK(frames.size() == 3);
  for (const shared_message* f : frames) CHECK(f->encode_count() == 2);
}

TEST_CASE_FIXTURE(broker_fixture,
                  "broker: retained event is kept without subscribers and sent after SUBSCRIBED") {
  CHECK_FALSE(r.handle(101, publish{1,
                                    object{{"retain", value(true)}, {"acknowledge", value(true)}},
                                    "com.r",
                                    {value("first")},
                                    object{{"k", value(1)}}}));
  a->take<published>();
  CHECK_FALSE(r.handle(101, publish{2,
                                    object{{"retain", value(true)}, {"acknowledge", value(true)}},
                                    "com.r",
                                    {value("second")},
                                    {}}));
  const id publication = a->take<published>().publication;
  // a publish without retain does not replace the retained event
  CHECK_FALSE(r.handle(101, publish{3, {}, "com.r", {value("not kept")}, {}}));
  CHECK(r.get_broker().retained_count() == 1);

  // without get_retained: nothing
  sub(102, *b, "com.r");
  CHECK(b->inbox.empty());
  // with get_retained: SUBSCRIBED first, then the most recent retained event
  CHECK_FALSE(r.handle(103, subscribe{7, object{{"get_retained", value(true)}}, "com.r"}));
  const id s = c->take<subscribed>().subscription;
  const auto e = c->take<event>();
  CHECK(e.subscription == s);
  CHECK(e.publication == publication);
  CHECK(e.args == array{value("second")});
  CHECK(e.details.get_bool("retained", false));
  CHECK(e.details.find("topic") == nullptr);
  CHECK(e.details.find("publisher") == nullptr);
  CHECK(c->inbox.empty());
  // it stays for the next subscriber; live events carry no "retained"
  CHECK_FALSE(r.handle(102, subscribe{8, object{{"get_retained", value(true)}}, "com.r"}));
  CHECK(b->take<subscribed>().subscription == s);
  CHECK(b->take<event>().args == array{value("second")});
  CHECK_FALSE(r.handle(101, publish{4, {}, "com.r", {}, {}}));
  CHECK(b->take<event>().details.find("retained") == nullptr);
  CHECK(c->take<event>().details.find("retained") == nullptr);
  // no retained event on the topic: just SUBSCRIBED
  CHECK_FALSE(r.handle(103, subscribe{9, object{{"get_retained", value(true)}}, "com.none"}));
  c->take<subscribed>();
  CHECK(c->inbox.empty());
}

TEST_CASE_FIXTURE(broker_fixture,
                  "broker: get_retained on a pattern subscription gets every matching topic") {
  for (const char* topic : {"com.a.x.v", "com.a.y.v", "com.a.y.w", "com.b.x.v", "com.ab.x.v"}) {
    CHECK_FALSE(
        r.handle(101, publish{1, object{{"retain", value(true)}}, topic, {value(topic)}, {}}));
  }
  auto retained_topics = [&](fake_peer& p, id subscription) {
    std::set<std::string> topics;
    while (!p.inbox.empty()) {
      const auto e = p.take<event>();
      CHECK(e.subscription == subscription);
      CHECK(e.details.get_bool("retained", false));
      CHECK(e.args == array{value(*e.details.get_string("topic"))});
      topics.insert(*e.details.get_string("topic"));
    }
    return topics;
  };
  const id p =
      sub(102, *b, "com.a.", 1, object{{"match", value("prefix")}, {"get_retained", value(true)}});
  CHECK(retained_topics(*b, p) == std::set<std::string>{"com.a.x.v", "com.a.y.v", "com.a.y.w"});
  const id p2 =
      sub(102, *b, "com.a", 2, object{{"match", value("prefix")}, {"get_retained", value(true)}});
  CHECK(retained_topics(*b, p2) ==
        std::set<std::string>{"com.a.x.v", "com.a.y.v", "com.a.y.w", "com.ab.x.v"});
  const id w = sub(103, *c, "com...v", 1,
                   object{{"match", value("wildcard")}, {"get_retained", value(true)}});
  CHECK(retained_topics(*c, w) ==
        std::set<std::string>{"com.a.x.v", "com.a.y.v", "com.b.x.v", "com.ab.x.v"});
  const id w2 =
      sub(103, *c, ".a..", 2, object{{"match", value("wildcard")}, {"get_retained", value(true)}});
  // a pattern starting with a wildcard: four components, the second one "a"
  CHECK(retained_topics(*c, w2) == std::set<std::string>{"com.a.x.v", "com.a.y.v", "com.a.y.w"});
  // an exact subscription to a retained topic
  const id e = sub(102, *b, "com.b.x.v", 3, object{{"get_retained", value(true)}});
  const auto ev = b->take<event>();
  CHECK(ev.subscription == e);
  CHECK(ev.details.find("topic") == nullptr);
  CHECK(b->inbox.empty());
  // the publisher itself is excluded (exclude_me by default)
  sub(101, *a, "com.b.x.v", 1, object{{"get_retained", value(true)}});
  CHECK(a->inbox.empty());
}

TEST_CASE_FIXTURE(filter_fixture,
                  "broker: a retained event honours its black/white list and exclude_me") {
  auto fresh = [&](id session, const char* t) {
    CHECK_FALSE(r.handle(session, subscribe{50, object{{"get_retained", value(true)}}, t}));
    auto& p = session == 100 ? *pub : peer_of(session);
    p.take<subscribed>();
    std::vector<event> got;
    while (!p.inbox.empty()) got.push_back(p.take<event>());
    return got.size();
  };
  CHECK_FALSE(r.handle(100, publish{1,
                                    object{{"retain", value(true)},
                                           {"eligible_authrole", strings({"user", "admin"})},
                                           {"exclude", ids({101})}},
                                    "com.keep",
                                    {},
                                    {}}));
  CHECK(fresh(101, "com.keep") == 0);  // excluded
  CHECK(fresh(102, "com.keep") == 1);  // user
  CHECK(fresh(103, "com.keep") == 1);  // admin
  CHECK(fresh(104, "com.keep") == 0);  // guest: not eligible
  CHECK(fresh(100, "com.keep") == 0);  // the publisher: exclude_me by default
  CHECK_FALSE(r.handle(100, publish{2,
                                    object{{"retain", value(true)},
                                           {"exclude_me", value(false)},
                                           {"disclose_me", value(true)}},
                                    "com.mine",
                                    {},
                                    {}}));
  CHECK_FALSE(r.handle(100, subscribe{51, object{{"get_retained", value(true)}}, "com.mine"}));
  pub->take<subscribed>();
  const auto e = pub->take<event>();
  CHECK(*e.details.find("publisher") == value(100));
  CHECK(*e.details.get_string("publisher_authid") == "pat");
  CHECK(*e.details.get_string("publisher_authrole") == "user");
  CHECK(e.details.get_bool("retained", false));
}

TEST_CASE("broker: the retained store is bounded; the least recently published topic goes first") {
  test::manual_timers timers;
  realm_config cfg{"realm1"};
  cfg.max_retained_events = 3;
  realm r{cfg, timers};
  auto p = std::make_shared<fake_peer>();
  auto s = std::make_shared<fake_peer>();
  r.join(session_info{1, "p", "anonymous", "anonymous", "", {}}, p);
  r.join(session_info{2, "s", "anonymous", "anonymous", "", {}}, s);
  auto retain = [&](const char* topic, const char* payload) {
    CHECK_FALSE(
        r.handle(1, publish{1, object{{"retain", value(true)}}, topic, {value(payload)}, {}}));
  };
  retain("com.t1", "1");
  retain("com.t2", "2");
  retain("com.t3", "3");
  CHECK(r.get_broker().retained_count() == 3);
  retain("com.t1", "1b");  // t1 becomes the most recently published
  retain("com.t4", "4");   // full: t2 (least recent) is evicted
  CHECK(r.get_broker().retained_count() == 3);
  retain("com.t5", "5");  // then t3
  CHECK(r.get_broker().retained_count() == 3);
  CHECK_FALSE(r.handle(
      2, subscribe{1, object{{"match", value("prefix")}, {"get_retained", value(true)}}, "com.t"}));
  s->take<subscribed>();
  std::set<std::string> kept;
  while (!s->inbox.empty()) {
    const auto e = s->take<event>();
    kept.insert(*e.details.get_string("topic") + "=" + e.args.at(0).as_string());
  }
  CHECK(kept == std::set<std::string>{"com.t1=1b", "com.t4=4", "com.t5=5"});

  // max_retained_events = 0 turns retention off
  realm_config off{"off"};
  off.max_retained_events = 0;
  realm r2{off, timers};
  r2.join(session_info{1, "p", "anonymous", "anonymous", "", {}}, p);
  CHECK_FALSE(r2.handle(
      1,
      publish{1, object{{"retain", value(true)}, {"acknowledge", value(true)}}, "com.t", {}, {}}));
  CHECK(p->inbox.size() >= 1);
  CHECK(std::holds_alternative<published>(p->inbox.back()));
  CHECK(r2.get_broker().retained_count() == 0);
}

namespace {

// A broker on its own (no realm), for what the realm does not expose: revocation.
struct bare_broker {
  session_map sessions;
  realm_config config{"realm1"};
  random_ids ids{42};
  realm_stats stats;
  broker b{sessions, config, ids, stats};

  std::shared_ptr<fake_peer> join(id session, bool announces_revocation) {
    auto p = std::make_shared<fake_peer>();
    session_info info{session, "s" + std::to_string(session), "anonymous", "anonymous", "", {}};
    info.features.set_role(client_role::subscriber);
    if (announces_revocation)
      info.features.set(client_role::subscriber, feature::subscription_revocation);
    sessions[session] = session_record{std::make_shared<const session_info>(std::move(info)), p};
    return p;
  }
  id subscribe_to(id session, const std::string& topic, object options = {}) {
    b.on_subscribe(sessions.at(session), subscribe{1, std::move(options), topic});
    const auto& inbox = as_fake(session).inbox;  // SUBSCRIBED, maybe followed by EVENTs
    auto it = std::find_if(inbox.rbegin(), inbox.rend(),
                           [](const message& m) { return std::holds_alternative<subscribed>(m); });
    REQUIRE(it != inbox.rend());
    return std::get<subscribed>(*it).subscription;
  }
  fake_peer& as_fake(id session) { return static_cast<fake_peer&>(*sessions.at(session).link); }
};

}  // namespace

TEST_CASE("broker: subscription revocation, announced and silent") {
  bare_broker t;
  auto announced = t.join(1, true);
  auto silent = t.join(2, false);
  auto pub = t.join(3, false);
  const id s = t.subscribe_to(1, "com.t");
  CHECK(t.subscribe_to(2, "com.t") == s);
  announced->inbox.clear();
  silent->inbox.clear();

  CHECK(t.b.revoke(s, 1, "maintenance"));
  const auto u = announced->take<unsubscribed>();
  CHECK(u.request == 0);
  CHECK(*u.details.find("subscription") == value(s));
  CHECK(*u.details.get_string("reason") == "maintenance");
  CHECK(t.b.subscription_count() == 1);    // the other subscriber keeps it
  CHECK_FALSE(t.b.revoke(s, 1, "again"));  // no longer a subscriber
  CHECK(announced->inbox.empty());

  t.b.on_publish(t.sessions.at(3), publish{1, {}, "com.t", {}, {}});
  CHECK(announced->inbox.empty());
  CHECK(silent->take<event>().subscription == s);

  CHECK(t.b.revoke(s, 2, "maintenance"));
  CHECK(silent->inbox.empty());          // it did not announce subscription_revocation: silently
  CHECK(t.b.subscription_count() == 0);  // deleted with its last subscriber
  CHECK(t.b.find_subscription(s) == nullptr);
  CHECK(t.b.lookup("com.t", match_policy::exact) == nullptr);

  // without a reason, "reason" is left out; pattern subscriptions too
  const id p = t.subscribe_to(1, "com.", object{{"match", value("prefix")}});
  announced->inbox.clear();
  CHECK(t.b.revoke(p, 1, ""));
  const auto u2 = announced->take<unsubscribed>();
  CHECK(*u2.details.find("subscription") == value(p));
  CHECK(u2.details.find("reason") == nullptr);
  CHECK_FALSE(t.b.revoke(999, 1, ""));
  // after revocation the session can UNSUBSCRIBE no more, nor does leaving trip over it
  t.b.on_unsubscribe(t.sessions.at(1), unsubscribe{5, p});
  CHECK(announced->take<error>().error_uri == uri_of(errc::no_such_subscription));
  t.b.on_leave(1);
  t.b.on_leave(2);
  CHECK(t.b.subscription_count() == 0);
}

TEST_CASE("broker: accessors for the meta API") {
  bare_broker t;
  t.join(1, false);
  t.join(2, false);
  const auto before = std::chrono::system_clock::now();
  const id e = t.subscribe_to(1, "com.a.b");
  const id p = t.subscribe_to(1, "com.a", object{{"match", value("prefix")}});
  const id w = t.subscribe_to(2, "com..b", object{{"match", value("wildcard")}});
  CHECK(t.subscribe_to(2, "com.a.b") == e);
  t.subscribe_to(2, "org.x");
  const auto after = std::chrono::system_clock::now();

  const broker& b = t.b;
  const auto* se = b.find_subscription(e);
  REQUIRE(se != nullptr);
  CHECK(se->subscription_id == e);
  CHECK(se->topic == "com.a.b");
  CHECK(se->match == match_policy::exact);
  CHECK(se->subscribers == std::vector<id>{1, 2});
  CHECK(se->created >= before);
  CHECK(se->created <= after);
  CHECK(b.find_subscription(12345) == nullptr);

  CHECK(b.lookup("com.a", match_policy::prefix) == b.find_subscription(p));
  CHECK(b.lookup("com..b", match_policy::wildcard)->subscription_id == w);
  CHECK(b.lookup("com.a", match_policy::exact) == nullptr);  // no matching, just lookup
  CHECK(b.lookup("com.a.b", match_policy::prefix) == nullptr);

  std::set<id> matched;
  b.for_each_match("com.a.b",
                   [&](const broker::subscription& s) { matched.insert(s.subscription_id); });
  CHECK(matched == std::set<id>{e, p, w});
  matched.clear();
  b.for_each_match("com.x.b",
                   [&](const broker::subscription& s) { matched.insert(s.subscription_id); });
  CHECK(matched == std::set<id>{w});

  std::size_t n = 0;
  b.for_each_subscription([&](const broker::subscription&) { ++n; });
  CHECK(n == 4);
  CHECK(b.subscription_count() == 4);
}

namespace {

// Records what the broker tells the meta API, and publishes a meta-style event for each, as
// realm/meta does (so the broker is re-entered from inside its own hooks).
struct recorder final : registry_events {
  broker* b = nullptr;
  std::vector<std::string> log;
  void note(const char* what, registry_kind kind, id session, id entry) {
    CHECK(kind == registry_kind::subscription);
    log.push_back(std::string(what) + " " + std::to_string(session) + " " + std::to_string(entry));
    if (b != nullptr)
      b->publish_from_router(std::string("wamp.subscription.") + what,
                             array{value(session), value(entry)}, {}, {});
  }
  void on_create(registry_kind k, id s, id e) override { note("on_create", k, s, e); }
  void on_add(registry_kind k, id s, id e) override { note("on_subscribe", k, s, e); }
  void on_remove(registry_kind k, id s, id e) override { note("on_unsubscribe", k, s, e); }
  void on_delete(registry_kind k, id s, id e) override { note("on_delete", k, s, e); }
  std::vector<std::string> take() { return std::exchange(log, {}); }
};

std::string line(const char* what, id session, id entry) {
  return std::string(what) + " " + std::to_string(session) + " " + std::to_string(entry);
}

}  // namespace

TEST_CASE("broker: registry events for the meta API, in the spec's order") {
  bare_broker t;
  recorder events;
  events.b = &t.b;
  t.b.set_events(&events);
  auto one = t.join(1, false);
  auto two = t.join(2, false);
  auto watcher = t.join(3, false);
  // the watcher sees the meta events on wamp.subscription.* (a prefix subscription), starting
  // with the reports of its own subscription, which exists by then
  const id meta = t.subscribe_to(3, "wamp.subscription.", object{{"match", value("prefix")}});
  CHECK(events.take() ==
        std::vector<std::string>{line("on_create", 3, meta), line("on_subscribe", 3, meta)});
  REQUIRE(watcher->inbox.size() == 3);
  CHECK(std::holds_alternative<subscribed>(watcher->inbox[0]));
  CHECK(std::get<event>(watcher->inbox[1]).args == array{value(3), value(meta)});
  watcher->inbox.clear();

  const id s = t.subscribe_to(1, "com.t");
  CHECK(events.take() ==
        std::vector<std::string>{line("on_create", 1, s), line("on_subscribe", 1, s)});
  // SUBSCRIBED goes out before the meta events
  REQUIRE(one->inbox.size() == 1);
  CHECK(std::holds_alternative<subscribed>(one->inbox.back()));
  REQUIRE(watcher->inbox.size() == 2);
  CHECK(*watcher->take<event>().details.get_string("topic") == "wamp.subscription.on_create");
  const auto ev = watcher->take<event>();
  CHECK(*ev.details.get_string("topic") == "wamp.subscription.on_subscribe");
  CHECK(ev.args == array{value(1), value(s)});
  CHECK(ev.details.find("publisher") == nullptr);  // the router publishes, anonymously

  CHECK(t.subscribe_to(2, "com.t") == s);
  CHECK(events.take() == std::vector<std::string>{line("on_subscribe", 2, s)});
  t.subscribe_to(2, "com.t");  // repeated: nothing new
  CHECK(events.take().empty());

  t.b.on_unsubscribe(t.sessions.at(1), unsubscribe{7, s});
  CHECK(events.take() == std::vector<std::string>{line("on_unsubscribe", 1, s)});
  t.b.on_unsubscribe(t.sessions.at(1), unsubscribe{8, s});  // an error: no event
  CHECK(events.take().empty());
  CHECK(t.b.revoke(s, 2, ""));
  CHECK(events.take() ==
        std::vector<std::string>{line("on_unsubscribe", 2, s), line("on_delete", 2, s)});

  const id u = t.subscribe_to(1, "com.u");
  const id v = t.subscribe_to(1, "com.v");
  t.subscribe_to(2, "com.v");
  events.take();
  t.sessions.erase(1);  // as realm::leave does: the registry first, then the broker
  t.b.on_leave(1);
  CHECK(events.take() == std::vector<std::string>{line("on_unsubscribe", 1, u),
                                                  line("on_delete", 1, u),
                                                  line("on_unsubscribe", 1, v)});
}

TEST_CASE("broker: publications from the router itself") {
  bare_broker t;
  auto one = t.join(1, false);
  auto two = t.join(2, false);
  t.subscribe_to(1, "wamp.session.on_join");
  const id s = t.subscribe_to(2, "wamp.session.on_join");
  one->inbox.clear();
  two->inbox.clear();
  // reserved topics are allowed; black lists honoured; nothing identifies a publisher
  t.b.publish_from_router("wamp.session.on_join", array{value("x")}, {},
                          object{{"exclude", ids({1})}});
  CHECK(one->inbox.empty());
  const auto e = two->take<event>();
  CHECK(e.subscription == s);
  CHECK(e.args == array{value("x")});
  CHECK(e.details.empty());
  // malformed options: dropped
  t.b.publish_from_router("wamp.session.on_join", {}, {}, object{{"exclude", value("1")}});
  CHECK(one->inbox.empty());
  CHECK(two->inbox.empty());
  // retained, like any publication
  t.b.publish_from_router("com.testament", array{value("bye")}, {},
                          object{{"retain", value(true)}});
  t.subscribe_to(1, "com.testament", object{{"get_retained", value(true)}});
  CHECK(std::get<event>(one->inbox.back()).args == array{value("bye")});
  // but the router cannot publish to an invalid URI
  t.b.publish_from_router("com..bad", {}, {}, {});
  CHECK(t.b.retained_count() == 1);
}

TEST_CASE_FIXTURE(broker_fixture, "broker: an EVENT too big for one subscriber is skipped for it alone, and counted") {
  sub(101, *a, "com.t");
  sub(102, *b, "com.t");
  b->max_bytes = 512;
  CHECK_FALSE(r.handle(103, publish{1, {}, "com.t", {value(std::string(2000, 'x'))}, {}}));
  CHECK(a->take<event>().args.at(0).as_string().size() == 2000);
  CHECK(b->inbox.empty());
  CHECK(r.stats().events.get() == 1);
  CHECK(r.stats().events_too_big.get() == 1);
  // The next one that fits reaches both.
  CHECK_FALSE(r.handle(103, publish{2, {}, "com.t", {value("small")}, {}}));
  CHECK(a->take<event>().args == array{value("small")});
  CHECK(b->take<event>().args == array{value("small")});
}

TEST_CASE("broker: a session's subscriptions are capped (session_limits.subscriptions)") {
  test::manual_timers timers;
  realm_config cfg{"realm1"};
  cfg.limits.subscriptions = 2;
  realm r{cfg, timers};
  auto a = std::make_shared<fake_peer>();
  auto b = std::make_shared<fake_peer>();
  r.join(session_info{1, "a", "anonymous", "anonymous", "", {}}, a);
  r.join(session_info{2, "b", "anonymous", "anonymous", "", {}}, b);
  CHECK_FALSE(r.handle(1, subscribe{1, {}, "com.t1"}));
  CHECK_FALSE(r.handle(1, subscribe{2, {}, "com.t2"}));
  const id first = a->take<subscribed>().subscription;
  a->take<subscribed>();
  CHECK_FALSE(r.handle(1, subscribe{3, {}, "com.t3"}));
  const auto refused = a->take<error>();
  CHECK(refused.request == 3);
  CHECK(refused.error_uri == "wamp.error.limit_exceeded");
  CHECK(r.stats().limit_refusals[static_cast<std::size_t>(session_limit::subscriptions)].get() == 1);
  // A repeat of one it has is answered as always; another session has its own count.
  CHECK_FALSE(r.handle(1, subscribe{4, {}, "com.t1"}));
  CHECK(a->take<subscribed>().subscription == first);
  CHECK_FALSE(r.handle(2, subscribe{1, {}, "com.t3"}));
  b->take<subscribed>();
  // After an UNSUBSCRIBE there is room again.
  CHECK_FALSE(r.handle(1, unsubscribe{5, first}));
  a->take<unsubscribed>();
  CHECK_FALSE(r.handle(1, subscribe{6, {}, "com.t3"}));
  a->take<subscribed>();
}

TEST_CASE_FIXTURE(broker_fixture, "broker: EVENTs a congested subscriber drops are counted, others still get them") {
  sub(101, *a, "com.example.t");
  sub(102, *b, "com.example.t");
  b->dropping_events = true;
  for (id i = 1; i <= 3; ++i) CHECK_FALSE(r.handle(103, publish{i, {}, "com.example.t", {value(1)}, {}}));
  CHECK(a->shared.size() == 3);
  CHECK(b->shared.empty());
  CHECK(r.stats().events_dropped.get() == 3);
  CHECK(r.stats().events.get() == 3);
}
