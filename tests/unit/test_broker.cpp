// The broker as a plain object inside a realm, with fake sessions (no sockets).
#include <doctest/doctest.h>

#include "realm/realm.hpp"
#include "serializers/errors.hpp"
#include "support/fakes.hpp"

using namespace junction;
using test::fake_peer;

namespace {

struct broker_fixture {
  realm r{realm_config{"realm1"}};
  std::shared_ptr<fake_peer> a = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> b = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> c = std::make_shared<fake_peer>();
  broker_fixture() {
    r.join(session_info{101, "a", "anonymous", "anonymous", ""}, a);
    r.join(session_info{102, "b", "anonymous", "anonymous", ""}, b);
    r.join(session_info{103, "c", "anonymous", "anonymous", ""}, c);
  }
  id sub(id session, fake_peer& p, const std::string& topic, id request = 1) {
    CHECK_FALSE(r.handle(session, subscribe{request, {}, topic}));
    return p.take<subscribed>().subscription;
  }
};

}  // namespace

TEST_CASE_FIXTURE(broker_fixture, "broker: one subscription id per topic, shared by its subscribers") {
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
  CHECK_FALSE(r.handle(101, publish{3, object{{"acknowledge", value(true)}}, "wamp.session.on_join", {}, {}}));
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

TEST_CASE_FIXTURE(broker_fixture, "broker: fan-out builds one EVENT and encodes it once per serializer") {
  std::vector<std::shared_ptr<fake_peer>> subscribers;
  for (id s = 200; s < 210; ++s) {
    subscribers.push_back(std::make_shared<fake_peer>());
    r.join(session_info{s, "x", "anonymous", "anonymous", ""}, subscribers.back());
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
  realm one{realm_config{"one"}};
  realm two{realm_config{"two"}};
  auto a = std::make_shared<fake_peer>();
  auto b = std::make_shared<fake_peer>();
  one.join(session_info{1, "a", "anonymous", "anonymous", ""}, a);
  two.join(session_info{2, "b", "anonymous", "anonymous", ""}, b);
  CHECK_FALSE(one.handle(1, subscribe{1, {}, "com.t"}));
  CHECK_FALSE(two.handle(2, publish{1, {}, "com.t", {}, {}}));
  CHECK(a->take<subscribed>().request == 1);
  CHECK(a->inbox.empty());
  // A session id of another realm is unknown here.
  CHECK(two.handle(1, publish{2, {}, "com.t", {}, {}}).has_value());
}
