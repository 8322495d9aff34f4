// Payload pass-through (docs/PERFORMANCE.md, "Payload pass-through"): codec::decode_routed keeps
// the Arguments/ArgumentsKw of CALL, YIELD, PUBLISH and ERROR as the bytes they came in, the
// encoders splice them into a message of the same format and transcode them into any other, and
// the realm moves them from CALL to INVOCATION, YIELD to RESULT, ERROR to ERROR and PUBLISH to
// EVENT without decoding them — except where the router reads them itself.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "realm/realm.hpp"
#include "serializers/codec.hpp"
#include "serializers/shared_message.hpp"
#include "support/fakes.hpp"

using namespace junction;
using test::fake_peer;

namespace {

message routed(std::string_view json) {
  auto m = json_codec().decode_routed(json);
  REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
  return std::move(*m);
}

std::string encode(const codec& c, const message& m) {
  std::string out;
  c.encode(m, out);
  return out;
}

// What the full decode makes of the same input, encoded by `c`: what a transcoded raw payload
// must come out as.
std::string full(const codec& c, std::string_view json) {
  auto m = json_codec().decode(json);
  REQUIRE(m);
  return encode(c, *m);
}

// decode_routed against decode on one input: the same verdict, the same words when refused, and
// when accepted the same message once materialized, and the same bytes in every other format.
void same_as_decode(const codec& c, const std::string& in) {
  const auto d = c.decode(in);
  const auto r = c.decode_routed(in);
  REQUIRE(bool(d) == bool(r));
  if (!d) {
    CHECK(r.error().message == d.error().message);
    return;
  }
  message copy = *r;
  CHECK(materialize(copy));
  CHECK(encode(c, copy) == encode(c, *d));
  for (const codec* other : {&json_codec(), &msgpack_codec(), &cbor_codec()})
    if (other != &c) CHECK(encode(*other, *r) == encode(*other, *d));
}

}  // namespace

TEST_CASE("pass-through: CALL, YIELD, PUBLISH and ERROR keep their payload bytes as they came") {
  // 1E2 and the escape would come out as 100.0 and "é" from a decode and re-encode.
  const std::string payload = R"([1E2, "a\u00e9", {"k": [1, 2]}] , {"b": null})";
  const std::string cases[] = {
      R"([48, 1, {}, "com.x", )" + payload + "]",
      R"([70, 1, {}, )" + payload + "]",
      R"([16, 1, {}, "com.t", )" + payload + "]",
      R"([8, 68, 1, {}, "com.err", )" + payload + " ]",
  };
  for (const std::string& in : cases) {
    CAPTURE(in);
    message m = routed(in);
    const bool ok = std::visit(
        [&](const auto& x) {
          if constexpr (has_raw_payload<std::decay_t<decltype(x)>>::value) {
            CHECK(x.raw.count == 2);
            CHECK(x.raw.kind == serializer::json);
            CHECK(x.raw.bytes == payload);
            CHECK(x.args.empty());
            CHECK(x.kwargs.empty());
            return true;
          }
          return false;
        },
        m);
    CHECK(ok);
    // The same format: spliced byte for byte.
    const std::string json = encode(json_codec(), m);
    CHECK(json.find(payload) != std::string::npos);
    // Another format: what a full decode would have given.
    CHECK(encode(msgpack_codec(), m) == full(msgpack_codec(), in));
    CHECK(encode(cbor_codec(), m) == full(cbor_codec(), in));
    // Materialized: the values of a full decode; then encoded as a full decode would be.
    message copy = m;
    CHECK(materialize(copy));
    CHECK(encode(json_codec(), copy) == full(json_codec(), in));
  }
}

TEST_CASE("pass-through: only Arguments, or none; other messages decode as before") {
  message m = routed(R"([48,1,{},"com.x",[1]])");
  CHECK(std::get<call>(m).raw.count == 1);
  CHECK(std::get<call>(m).raw.bytes == "[1]");
  CHECK(encode(json_codec(), m) == R"([48,1,{},"com.x",[1]])");
  CHECK(encode(msgpack_codec(), m) == full(msgpack_codec(), R"([48,1,{},"com.x",[1]])"));
  // Empty trailing elements are dropped, as the full decode and encode drop them.
  for (const char* in : {R"([48,1,{},"com.x",[]])", R"([48,1,{},"com.x",[],{}])"}) {
    CAPTURE(in);
    m = routed(in);
    CHECK_FALSE(std::get<call>(m).raw.present());
    CHECK(encode(json_codec(), m) == R"([48,1,{},"com.x"])");
  }
  m = routed(R"([48,1,{},"com.x",[],{"a":1}])");
  CHECK(std::get<call>(m).raw.bytes == R"([],{"a":1})");

  m = routed(R"([48,1,{"receive_progress":true},"com.x"])");
  CHECK_FALSE(std::get<call>(m).raw.present());
  CHECK(std::get<call>(m).options.get_bool("receive_progress", false));

  // Router-bound types that carry no forwarded payload, and types the router only sends.
  for (const char* in : {R"([3,{},"wamp.close.x",["why"]])", R"([50,1,{},[1]])", R"([36,1,2,{},[1]])",
                         R"([68,1,2,{},[1],{"a":1}])"}) {
    CAPTURE(in);
    const message r = routed(in);
    const message d = *json_codec().decode(in);
    CHECK(encode(json_codec(), r) == encode(json_codec(), d));
    CHECK(std::visit([](const auto& x) {
      if constexpr (has_raw_payload<std::decay_t<decltype(x)>>::value) return !x.raw.present();
      return true;
    }, r));
  }
}

TEST_CASE("pass-through: decode_routed accepts and refuses exactly what decode does, in its words") {
  const std::vector<std::string> inputs = {
      R"([48,1,{},"com.x",[1],{"a":1,"a":2}])",                 // duplicate key in ArgumentsKw
      R"([48,1,{},"com.x",[{"x":{"b":1,"b":1}}]])",            // nested duplicate key
      R"([48,1,{},"com.x",[{"b":1},{"b":1}]])",                // same key in two dicts: fine
      R"([48,1,{},"com.x",["\u0000!!notbase64"]])",           // bad binary string
      R"([48,1,{},"com.x",["\u0000aGk="]])",                  // good binary string
      R"([48,1,{},"com.x",["\udc00"]])",                      // lone low surrogate
      R"([48,1,{},"com.x",[{"\udc00":1}]])",                  // ... in a key
      R"([48,1,{},"com.x",{"a":1}])",                           // Arguments not a list
      R"([48,1,{},"com.x",[],[]])",                             // ArgumentsKw not a dict
      R"([48,1,{},"com.x",[],{},3])",                           // too many elements
      R"([48,1,{},"com.x",[],"x"])",
      R"([48,1,{},"com.x","x"])",
      R"([48,1,{},"com.x",[1,2)",                               // truncated
      R"([48,1,{},"com.x",[1]] x)",                             // trailing bytes
      R"([48,1,{},"com.x",[1]]  )",                             // trailing whitespace: fine
      R"([70,0,{},[1]])",                                        // id out of range
      R"([16,1,{},5,[1]])",                                      // Topic not a string
      R"([8,68,1,{},"e",[1],{"k":[1,{"k":2,"k":3}]}])",
      R"({"a":1})",                                              // not an array
      R"([])",
      R"([48])",
      R"(["48",1,{},"com.x",[]])",
      std::string("[48,1,{},\"com.x\",[1]]\0junk", 26),          // NUL
      std::string(R"([48,1,{},"com.x",)") + std::string(70, '[') + std::string(70, ']') + "]",  // too deep
      std::string(R"([48,1,{},"com.x",)") + std::string(62, '[') + std::string(62, ']') + "]",  // 64 deep: fine
  };
  for (const std::string& in : inputs) {
    CAPTURE(in);
    same_as_decode(json_codec(), in);
  }
}

TEST_CASE("pass-through: an EVENT shared by many receivers splices once per format") {
  message m = routed(R"([16,1,{},"com.t",["x",1.5]])");
  auto& p = std::get<publish>(m);
  event e{5, 6, {}, {}, {}, p.raw};
  const shared_message s{e};
  CHECK(s.encoded(json_codec()) == R"([36,5,6,{},["x",1.5]])");
  CHECK(s.encoded(msgpack_codec()) == encode(msgpack_codec(), event{5, 6, {}, {value("x"), value(1.5)}, {}}));
  CHECK(s.encode_count() == 2);
}

// ---------------------------------------------------------------------------------------------
// Through a realm (plain objects, fake sessions).

namespace {

struct realm_fixture {
  test::manual_timers timers;
  realm r{realm_config{"realm1"}, timers};
  std::shared_ptr<fake_peer> callee = std::make_shared<fake_peer>();
  std::shared_ptr<fake_peer> caller = std::make_shared<fake_peer>();
  realm_fixture() {
    r.join(session_info{1, "callee", "anonymous", "anonymous", "", {}}, callee);
    r.join(session_info{2, "caller", "anonymous", "anonymous", "", {}}, caller);
  }
};

}  // namespace

TEST_CASE_FIXTURE(realm_fixture, "pass-through: CALL → INVOCATION → YIELD → RESULT, and ERROR, never decoded") {
  CHECK_FALSE(r.handle(1, register_{1, {}, "com.x"}));
  (void)callee->take<registered>();
  CHECK_FALSE(r.handle(2, routed(R"([48,7,{},"com.x",[1E2],{"k":"v"}])")));
  const auto inv = callee->take<invocation>();
  CHECK(inv.raw.bytes == R"([1E2],{"k":"v"})");
  CHECK(inv.args.empty());
  CHECK(encode(json_codec(), inv) == R"([68,1,1,{},[1E2],{"k":"v"}])");

  CHECK_FALSE(r.handle(1, routed(R"([70,1,{},[2E0]])")));
  const auto res = caller->take<result_>();
  CHECK(res.request == 7);
  CHECK(encode(json_codec(), res) == R"([50,7,{},[2E0]])");

  CHECK_FALSE(r.handle(2, routed(R"([48,8,{},"com.x",[]])")));
  const auto inv2 = callee->take<invocation>();
  CHECK_FALSE(r.handle(1, routed(R"([8,68,)" + std::to_string(inv2.request) + R"(,{},"com.err",["no"],{"n":1E0}])")));
  const auto err = caller->take<error>();
  CHECK(err.request == 8);
  CHECK(encode(json_codec(), err) == R"([8,48,8,{},"com.err",["no"],{"n":1E0}])");
}

TEST_CASE_FIXTURE(realm_fixture, "pass-through: PUBLISH → EVENT to several subscriptions and the retained store") {
  CHECK_FALSE(r.handle(1, subscribe{1, {}, "com.t"}));
  CHECK_FALSE(r.handle(1, subscribe{2, object{{"match", value("prefix")}}, "com"}));
  (void)callee->take<subscribed>();
  (void)callee->take<subscribed>();
  CHECK_FALSE(r.handle(2, routed(R"([16,1,{"retain":true},"com.t",[1E1]])")));
  REQUIRE(callee->inbox.size() == 2);
  for (const auto& m : callee->inbox) CHECK(std::get<event>(m).raw.bytes == "[1E1]");
  // A late subscriber asking for the retained event gets the same bytes.
  auto late = std::make_shared<fake_peer>();
  r.join(session_info{3, "late", "anonymous", "anonymous", "", {}}, late);
  CHECK_FALSE(r.handle(3, subscribe{1, object{{"get_retained", value(true)}}, "com.t"}));
  (void)late->take<subscribed>();
  CHECK(std::get<event>(late->inbox.at(0)).raw.bytes == "[1E1]");
}

TEST_CASE_FIXTURE(realm_fixture, "pass-through: a meta procedure reads its arguments (materialized first)") {
  CHECK_FALSE(r.handle(2, routed(R"([48,9,{},"wamp.session.get",[1]])")));
  const auto res = caller->take<result_>();
  REQUIRE(res.args.size() == 1);
  CHECK(res.args[0].as_object().find("session") != nullptr);
}

TEST_CASE("pass-through: MessagePack, spliced as it came and transcoded as a full decode would") {
  std::string in;
  msgpack_codec().encode(call{1, {}, "com.x", {value(1.5), value(binary{"\x01\x02"}), value("é")},
                              object{{"k", value(array{value(1), value{}})}}},
                         in);
  auto r = msgpack_codec().decode_routed(in);
  REQUIRE(r);
  const call& c = std::get<call>(*r);
  CHECK(c.raw.kind == serializer::msgpack);
  CHECK(c.raw.count == 2);
  CHECK(c.args.empty());
  CHECK(encode(msgpack_codec(), *r) == in);
  const auto d = msgpack_codec().decode(in);
  REQUIRE(d);
  CHECK(encode(json_codec(), *r) == encode(json_codec(), *d));
  CHECK(encode(cbor_codec(), *r) == encode(cbor_codec(), *d));

  // Refused or accepted exactly as decode does: {"a":1,"a":2}, invalid UTF-8, msgpackr's
  // undefined (read as absent: not passed through, decoded), truncated, trailing bytes.
  const std::string head = std::string("\x96\x30\x01\x80\xa5""com.x", 10);
  const std::vector<std::string> inputs = {
      head + std::string("\x90\x82\xa1" "a" "\x01\xa1" "a" "\x02", 8),
      head + std::string("\x91\xa2\xff\xfe", 4) + std::string("\x80", 1),
      head + std::string("\x91\xd4\x00\x00\x81\xa1" "a" "\xd4\x00\x00", 10),
      head + std::string("\x92\x01", 2),
      head + std::string("\x90\x80\x00", 3),
      head + std::string("\x90\x90", 2),  // ArgumentsKw not a dict
      std::string("\x93\x30\x01\x80", 4),  // too short
      std::string("\x95\x46\x01\x80\x91\x01\x80", 7),  // YIELD with both payload elements
  };
  for (const std::string& bytes : inputs) {
    CAPTURE(bytes.size());
    same_as_decode(msgpack_codec(), bytes);
  }
}

TEST_CASE("pass-through: an empty ArgumentsKw after Arguments is dropped, as the encoders drop it") {
  for (const char* in : {R"([48,1,{},"com.x",[1],{}])", R"([48,1,{},"com.x",[1] , { } ])"}) {
    CAPTURE(in);
    const message m = routed(in);
    CHECK(std::get<call>(m).raw.count == 1);
    CHECK(std::get<call>(m).raw.bytes == "[1]");
  }
  const message m = routed(R"([48,1,{},"com.x",[ ] ,{"a":1}])");
  CHECK(std::get<call>(m).raw.bytes == R"([ ] ,{"a":1})");
}
