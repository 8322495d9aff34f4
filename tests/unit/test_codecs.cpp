// Unit tests for the codecs (serializers/codec.hpp): round trips of every message type through
// JSON, MessagePack and CBOR, exact bytes, the binary convention, number and string edge cases, and
// the failure texts that end up in ABORT Details.message.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "serializers/base64.hpp"
#include "serializers/codec.hpp"

using namespace junction;

namespace {

const codec& json = json_codec();
const codec& mp = msgpack_codec();
const codec& cb = cbor_codec();

bool same(const message& a, const message& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&b](const auto& x) { return x.fields() == std::get<std::decay_t<decltype(x)>>(b).fields(); },
      a);
}

std::string encode(const codec& c, const message& m) {
  std::string out;
  c.encode(m, out);
  return out;
}

std::string encode(const codec& c, const value& v) {
  std::string out;
  c.encode_value(v, out);
  return out;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out += digits[static_cast<unsigned char>(c) >> 4];
    out += digits[static_cast<unsigned char>(c) & 0xf];
  }
  return out;
}

// For test failure output: the JSON form is readable.
std::string show(const message& m) { return encode(json, m); }

// The failure text of decoding `bytes`, or "" when it decoded.
std::string decode_error(const codec& c, std::string_view bytes) {
  const result<message> r = c.decode(bytes);
  return r ? std::string() : r.error().message;
}

// The same malformed message, given as JSON, through every codec: the texts must agree.
std::string both_error(std::string_view json_text) {
  const result<value> v = json.decode_value(json_text);
  REQUIRE_MESSAGE(v.ok(), json_text);
  const std::string from_json = decode_error(json, json_text);
  CHECK(from_json == decode_error(mp, encode(mp, *v)));
  CHECK(from_json == decode_error(cb, encode(cb, *v)));
  return from_json;
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

const array sample_args{1,
                        "two",
                        3.5,
                        true,
                        null,
                        -7,
                        array{1, array{}},
                        object{{"k", "v"}},
                        binary{std::string("\x00\x01\xfe\xff", 4)}};
const object sample_kwargs{{"name", "alice"},
                           {"age", 42},
                           {"tags", array{"a", "b"}},
                           {"nested", object{{"deep", object{{"x", 0.25}}}}}};

// One realistic message of every type, with args/kwargs where the type has them.
std::vector<message> all_samples() {
  const object roles{{"caller", object{{"features", object{{"call_canceling", true}}}}},
                     {"subscriber", object{}}};
  return {
      hello{"com.example.realm", object{{"roles", roles}, {"authmethods", array{"ticket"}}}},
      welcome{9129137332, object{{"roles", object{{"dealer", object{}}}}, {"authid", "alice"}}},
      junction::abort{object{{"message", "no such realm"}}, "wamp.error.no_such_realm", sample_args,
                      sample_kwargs},
      challenge{"wampcra", object{{"challenge", "{\"nonce\":1}"}, {"iterations", 1000}}},
      authenticate{"gir1mSx+deCDUV7FgLvsQNTi6n3W/Z/WcZ/OT9RwdZY=", object{}},
      goodbye{object{{"message", "bye"}}, "wamp.close.normal"},
      error{48, 7814135, object{}, "com.myapp.error", sample_args, sample_kwargs},
      publish{239714735, object{{"acknowledge", true}, {"exclude", array{1, 2}}}, "com.app.topic",
              sample_args, sample_kwargs},
      published{239714735, 4429313566},
      subscribe{713845233, object{{"match", "prefix"}}, "com.app."},
      subscribed{713845233, 5512315355},
      unsubscribe{85346237, 5512315355},
      unsubscribed{0, object{{"subscription", 5512315355}, {"reason", "revoked"}}},
      event{5512315355, 4429313566, object{{"publisher", 1234}}, sample_args, sample_kwargs},
      call{7814135, object{{"timeout", 1000}, {"receive_progress", true}}, "com.app.add",
           sample_args, sample_kwargs},
      cancel{7814135, object{{"mode", "killnowait"}}},
      result_{7814135, object{{"progress", true}}, sample_args, sample_kwargs},
      register_{25349185, object{{"invoke", "roundrobin"}}, "com.app.add"},
      registered{25349185, 2103333224},
      unregister{788923562, 2103333224},
      unregistered{788923562, object{}},
      invocation{6131533, 2103333224, object{{"caller", 1234}}, sample_args, sample_kwargs},
      interrupt{6131533, object{{"mode", "kill"}}},
      yield{6131533, object{{"progress", false}}, sample_args, sample_kwargs},
  };
}

// The sample, plus its shorter wire forms: no ArgumentsKw, then no payload at all.
std::vector<message> all_forms() {
  std::vector<message> forms;
  for (const message& m : all_samples()) {
    forms.push_back(m);
    std::visit(
        [&forms](auto x) {
          if constexpr (traits_of(decltype(x)::type).has_payload) {
            x.kwargs = {};
            forms.emplace_back(x);
            x.args = {};
            forms.emplace_back(x);
            x.kwargs = sample_kwargs;  // kwargs alone still needs an empty Arguments on the wire
            forms.emplace_back(x);
          }
        },
        m);
  }
  return forms;
}

}  // namespace

TEST_CASE("codecs: registry") {
  CHECK(json.kind() == serializer::json);
  CHECK(json.subprotocol() == "wamp.2.json");
  CHECK_FALSE(json.binary_frames());
  CHECK(mp.kind() == serializer::msgpack);
  CHECK(mp.subprotocol() == "wamp.2.msgpack");
  CHECK(mp.binary_frames());
  CHECK(&codec_for(serializer::json) == &json);
  CHECK(&codec_for(serializer::msgpack) == &mp);
  CHECK(find_codec_by_subprotocol("wamp.2.json") == &json);
  CHECK(find_codec_by_subprotocol("wamp.2.msgpack") == &mp);
  CHECK(cb.kind() == serializer::cbor);
  CHECK(cb.subprotocol() == "wamp.2.cbor");
  CHECK(cb.binary_frames());
  CHECK(&codec_for(serializer::cbor) == &cb);
  CHECK(find_codec_by_subprotocol("wamp.2.cbor") == &cb);
  CHECK(find_codec_by_subprotocol("wamp.2.ubjson") == nullptr);
  CHECK(find_codec_by_subprotocol("") == nullptr);
}

TEST_CASE("codecs: every message type round-trips through every codec") {
  const std::vector<message> samples = all_samples();
  std::set<message_type> covered;
  for (const message& m : samples) covered.insert(type_of(m));
  CHECK(covered.size() == std::size(all_traits));

  for (const message& m : all_forms()) {
    for (const codec* c : {&json, &mp, &cb}) {
      CAPTURE(c->subprotocol());
      INFO("message: ", show(m));
      const std::string bytes = encode(*c, m);
      const result<message> back = c->decode(bytes);
      REQUIRE_MESSAGE(back.ok(), back.error().message);
      CHECK(same(*back, m));
      CHECK(encode(*c, *back) == bytes);  // encoding is deterministic
    }
    // Across serializers, as a router bridging a JSON caller and a MessagePack callee does.
    const result<message> via_json = json.decode(encode(json, *mp.decode(encode(mp, m))));
    REQUIRE(via_json.ok());
    CHECK(same(*via_json, m));
    const result<message> via_cbor = mp.decode(encode(mp, *cb.decode(encode(cb, *json.decode(encode(json, m))))));
    REQUIRE(via_cbor.ok());
    CHECK(same(*via_cbor, m));
  }
}

TEST_CASE("codecs: exact JSON and MessagePack bytes") {
  CHECK(encode(json, call{1, {}, "com.x", {}, {}}) == R"([48,1,{},"com.x"])");
  CHECK(encode(json, call{1, {}, "com.x", {1}, {}}) == R"([48,1,{},"com.x",[1]])");
  CHECK(encode(json, call{1, {}, "com.x", {}, {{"a", 1}}}) == R"([48,1,{},"com.x",[],{"a":1}])");
  CHECK(encode(json, unsubscribed{5, {}}) == "[35,5]");
  CHECK(encode(json, unsubscribed{0, {{"reason", "r"}}}) == R"([35,0,{"reason":"r"}])");
  CHECK(encode(json, error{48, 7, {}, "wamp.error.no_such_procedure", {}, {}}) ==
        R"([8,48,7,{},"wamp.error.no_such_procedure"])");
  CHECK(encode(json, hello{"realm1", {{"roles", object{{"caller", object{}}}}}}) ==
        R"([1,"realm1",{"roles":{"caller":{}}}])");
  CHECK(encode(json, yield{9, {}, {1.0, 0.1, -2, "é"}, {}}) ==
        "[70,9,{},[1.0,0.1,-2,\"\xc3\xa9\"]]");

  CHECK(to_hex(encode(mp, call{1, {}, "com.x", {}, {}})) == "94300180a5636f6d2e78");
  CHECK(to_hex(encode(mp, call{1, {}, "com.x", {1}, {}})) == "95300180a5636f6d2e789101");
  // Smallest integer forms: fixint, uint8, uint16, uint32, uint64, negative fixint, int8.
  CHECK(to_hex(encode(mp, value{array{0, 200, 60000, 4000000000LL, max_id, -1, -100}})) ==
        "9700ccc8cdea60ceee6b2800cf0020000000000000ffd09c");
}

TEST_CASE("codecs: a message encodes after what the output already holds") {
  for (const codec* c : {&json, &mp, &cb}) {
    std::string out = "prefix";
    c->encode(published{1, 2}, out);
    CHECK(out.rfind("prefix", 0) == 0);
    CHECK(same(*c->decode(std::string_view(out).substr(6)), published{1, 2}));
  }
}

TEST_CASE("base64: RFC 4648 §10 vectors and rejects") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64_encode(plain) == encoded);
    const result<std::string> back = base64_decode(encoded);
    REQUIRE(back.ok());
    CHECK(*back == plain);
  }
  const std::string all_bytes = [] {
    std::string s;
    for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
    return s;
  }();
  CHECK(*base64_decode(base64_encode(all_bytes)) == all_bytes);
  for (const char* bad :
       {"Zg=", "Zg", "Zm9", "Zg=a", "Z===", "====", "Zm9v\n", "Zm9!", "Zm 9", "=m9v", "Zm=v"}) {
    CAPTURE(bad);
    CHECK_FALSE(base64_decode(bad).ok());
  }
  CHECK(contains(base64_decode("Zm9!").error().message, "offset 3"));
}

TEST_CASE("codecs: binary convention, JSON \\u0000+base64 <-> binary <-> MessagePack bin") {
  const std::string bytes("\x00\x01\xfe\xff", 4);
  const result<message> m = json.decode(R"([36,1,2,{},["\u0000AAH+/w==", "plain"]])");
  REQUIRE(m.ok());
  const auto& args = std::get<event>(*m).args;
  REQUIRE(args.size() == 2);
  REQUIRE(args[0].is_binary());
  CHECK(args[0].as_binary().bytes == bytes);
  CHECK(args[1] == value{"plain"});

  // Re-encoded to MessagePack: bin 8 with the same bytes; and back to JSON: the same text.
  const std::string packed = encode(mp, *m);
  CHECK(contains(to_hex(packed), "c404" + to_hex(bytes)));
  CHECK(encode(json, *mp.decode(packed)) == R"([36,1,2,{},["\u0000AAH+/w==","plain"]])");

  // MessagePack bin decodes to binary, str to string.
  const result<value> v = mp.decode_value(std::string("\x92\xc4\x02\x01\x02\xa2hi", 8));
  REQUIRE(v.ok());
  CHECK(v->as_array()[0] == value{binary{"\x01\x02"}});
  CHECK(v->as_array()[1] == value{"hi"});

  CHECK(encode(json, value{binary{}}) == R"("\u0000")");
  CHECK(*json.decode_value(R"("\u0000")") == value{binary{}});
  CHECK(*json.decode_value(R"("a\u0000b")") == value{std::string("a\0b", 3)});  // only a prefix

  const std::string bad = decode_error(json, R"([36,1,2,{},["\u0000AAH"]])");
  CHECK(contains(bad, "base64"));
  CHECK(contains(decode_error(json, R"([36,1,2,{},["\u0000AA!="]])"), "base64"));
}

TEST_CASE("codecs: ids and integers") {
  CHECK(decode_error(json, "[48,9007199254740992,{},\"p\"]").empty());
  CHECK(std::get<call>(*json.decode("[48,9007199254740992,{},\"p\"]")).request == max_id);
  CHECK(decode_error(json, "[48,1,{},\"p\"]").empty());
  CHECK(decode_error(json, "[35,0]").empty());  // UNSUBSCRIBED's request may be 0 (revocation)
  CHECK(decode_error(json, "[8,0,1,{},\"e\"]").empty());

  for (const char* id : {"0", "9007199254740993", "-1", "18446744073709551615", "0.0", "1.5", "9007199254740994.0",
                         "-1.0", "true", "false", "null", "\"1\""}) {
    CAPTURE(id);
    const std::string err = both_error(std::string("[48,") + id + ",{},\"p\"]");
    CHECK(contains(err, "CALL element 1 (Request) must be an id in [1, 2^53]"));
  }
  CHECK(contains(both_error("[48,true,{},\"p\"]"), "got a bool"));
  CHECK(contains(both_error("[48,1.5,{},\"p\"]"), "got a float"));
  CHECK(contains(both_error("[48,0,{},\"p\"]"), "got 0"));
  CHECK(contains(both_error("[8,-1,1,{},\"e\"]"),
                 "ERROR element 1 (REQUEST.Type) must be an integer in [0, 2^53], got -1"));
  CHECK(contains(both_error("[35,9007199254740993]"), "UNSUBSCRIBED element 1"));
  // An integral float within [1, 2^53] is that id (msgpackr sends integers above 2^32 as float64).
  for (const codec* c : {&json, &mp, &cb}) {
    CAPTURE(c->subprotocol());
    const result<message> m = c->decode(encode(*c, value{array{48, 5000000000.0, object{}, "p"}}));
    REQUIRE_MESSAGE(m.ok(), m.error().message);
    CHECK(std::get<call>(*m).request == 5000000000ULL);
    CHECK(encode(*c, *m) == encode(*c, call{5000000000ULL, {}, "p", {}, {}}));  // an integer on the way out
  }
  CHECK(std::get<call>(*json.decode("[48,1e3,{},\"p\"]")).request == 1000);
  CHECK(std::get<call>(*json.decode("[48,9007199254740992.0,{},\"p\"]")).request == max_id);
}

TEST_CASE("codecs: payload numbers are preserved exactly") {
  const array numbers{0,
                      -1,
                      std::numeric_limits<std::int64_t>::min(),
                      std::numeric_limits<std::int64_t>::max(),
                      std::numeric_limits<std::uint64_t>::max(),
                      max_id + 1,
                      0.1,
                      -0.5,
                      1.0,
                      1e300,
                      5e-324,
                      std::numeric_limits<double>::max()};
  const call c{1, {}, "p", numbers, {}};
  for (const codec* co : {&json, &mp, &cb}) {
    CAPTURE(co->subprotocol());
    const result<message> back = co->decode(encode(*co, c));
    REQUIRE(back.ok());
    const array& got = std::get<call>(*back).args;
    REQUIRE(got.size() == numbers.size());
    for (std::size_t i = 0; i < numbers.size(); ++i) {
      CAPTURE(i);
      CHECK(got[i] == numbers[i]);
      CHECK(got[i].is_double() == numbers[i].is_double());  // 1.0 stays a float
    }
  }
  const result<value> v = json.decode_value("[-9223372036854775808,18446744073709551615,-0,7]");
  REQUIRE(v.ok());
  CHECK(std::holds_alternative<std::int64_t>(v->as_array()[0].get()));
  CHECK(std::holds_alternative<std::uint64_t>(v->as_array()[1].get()));
  CHECK(std::holds_alternative<std::uint64_t>(v->as_array()[2].get()));  // -0 is zero
  CHECK(std::holds_alternative<std::uint64_t>(v->as_array()[3].get()));
  // A zero significand with a large exponent is zero (RapidJSON 1.1's full-precision reader made
  // "0E113" 1.6e296; found by fuzz_json), and fractions are read with correct rounding.
  for (const char* zero : {"0E113", "[0E113]", "0.0e300", "-0E113", "[1,0.000E300]", "1e-400"}) {
    const std::string text = zero;
    CAPTURE(text);
    const auto v = json.decode_value(zero);
    REQUIRE(v);
    const value& x = v->is_array() ? v->as_array().back() : *v;
    REQUIRE(x.is_double());
    CHECK(std::get<double>(x.get()) == 0.0);
  }
  CHECK(std::get<double>(json.decode_value("0.1")->get()) == 0.1);
  CHECK(std::get<double>(json.decode_value("[2.2250738585072014e-308]")->as_array()[0].get()) ==
        2.2250738585072014e-308);
  CHECK(std::get<double>(json.decode_value("1.7976931348623157e308")->get()) == 1.7976931348623157e308);
  CHECK(std::get<double>(json.decode_value("123456789012345678901234567890")->get()) == 123456789012345678901234567890.0);
  CHECK(std::get<double>(json.decode_value("4.9406564584124654e-324")->get()) == 4.9406564584124654e-324);
  // Beyond 64 bits JSON numbers become doubles rather than failing or wrapping.
  CHECK(json.decode_value("18446744073709551616")->is_double());
  // MessagePack float32 widens to double.
  CHECK(*mp.decode_value(std::string("\xca\x3f\xc0\x00\x00", 5)) == value{1.5});
  // A float stays a float64 on the wire even when integral (msgpack-c would pack it as 1).
  CHECK(to_hex(encode(mp, value{1.0})) == "cb3ff0000000000000");
}

TEST_CASE("codecs: non-finite doubles") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  // JSON cannot carry them: null, as JSON.stringify does, so the output stays valid JSON.
  CHECK(encode(json, value{array{nan, inf, -inf}}) == "[null,null,null]");
  // MessagePack can.
  const result<value> back = mp.decode_value(encode(mp, value{array{nan, -inf}}));
  REQUIRE(back.ok());
  CHECK(std::isnan(std::get<double>(back->as_array()[0].get())));
  CHECK(back->as_array()[1] == value{-inf});
}

TEST_CASE("codecs: JSON rejects what RFC 8259 does not allow") {
  for (const char* bad :
       {"[1,NaN]", "[1,Infinity]", "[1,-Infinity]", "[1e400]", "[1,]", "[1 2]", "[01]", "[.5]",
        "[1,/*c*/2]", "['a']", "[\"a\tb\"]", "{\"a\"}", "[", "]", "nul", "[1]]"}) {
    CAPTURE(bad);
    const result<value> r = json.decode_value(bad);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(contains(r.error().message, "invalid JSON at offset"));
  }
}

TEST_CASE("codecs: unicode") {
  const char* emoji = "\xf0\x9f\x98\x80";  // U+1F600
  CHECK(*json.decode_value(R"("\u00e9\u4e2d")") == value{"\xc3\xa9\xe4\xb8\xad"});
  CHECK(*json.decode_value("\"\xc3\xa9\xe4\xb8\xad\"") == value{"\xc3\xa9\xe4\xb8\xad"});
  CHECK(*json.decode_value(R"("\ud83d\ude00")") == value{emoji});
  CHECK(*json.decode_value(std::string("\"") + emoji + "\"") == value{emoji});
  CHECK(*json.decode_value(R"({"\ud83d\ude00":1})") == value{object{{emoji, 1}}});

  const call c{1, {}, "com.app.\xc3\xa9", {emoji, "\xe4\xb8\xad"}, {{emoji, emoji}}};
  for (const codec* co : {&json, &mp, &cb}) {
    const result<message> back = co->decode(encode(*co, c));
    REQUIRE(back.ok());
    CHECK(same(*back, c));
  }
  CHECK(encode(json, value{emoji}) == std::string("\"") + emoji + "\"");  // raw UTF-8 out

  // Invalid UTF-8 and unpaired surrogates are rejected, raw or escaped, in values and keys.
  for (const char* bad : {"\"\xff\"", "\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
                          "\"\xf4\x90\x80\x80\"", R"("\ud800")", R"("\udc00")", R"("x\udfffy")",
                          R"("\ud83d\u0041")", R"({"\udc00":1})", "{\"\xff\":1}"}) {
    CAPTURE(bad);
    CHECK_FALSE(json.decode_value(bad).ok());
  }
  CHECK(contains(json.decode_value(R"("\udc00")").error().message, "surrogate"));

  for (const char* bad : {"\xa1\xff", "\xa2\xc3\x28", "\xa3\xed\xa0\x80", "\xa2\xc0\xaf",
                          "\xa4\xf4\x90\x80\x80", "\x81\xa1\xff\x01"}) {
    CAPTURE(to_hex(bad));
    const result<value> r = mp.decode_value(bad);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(contains(r.error().message, "UTF-8"));
  }
  CHECK(*mp.decode_value("\xa4\xf0\x9f\x98\x80") == value{emoji});
}

TEST_CASE("codecs: nested containers and the depth limit") {
  const value nested{array{object{{"a", array{array{object{{"b", array{1, 2, object{}}}}}}}},
                           array{array{array{}}}, object{}}};
  for (const codec* c : {&json, &mp, &cb}) {
    const result<value> back = c->decode_value(encode(*c, nested));
    REQUIRE(back.ok());
    CHECK(*back == nested);
  }

  const auto json_nesting = [](int depth) {
    return std::string(static_cast<std::size_t>(depth), '[') +
           std::string(static_cast<std::size_t>(depth), ']');
  };
  // depth - 1 one-element arrays around an empty one.
  const auto msgpack_nesting = [](int depth) {
    return std::string(static_cast<std::size_t>(depth - 1), '\x91') + '\x90';
  };
  CHECK(json.decode_value(json_nesting(64)).ok());
  CHECK(mp.decode_value(msgpack_nesting(64)).ok());
  CHECK(contains(json.decode_value(json_nesting(65)).error().message, "nesting deeper than 64"));
  CHECK(contains(mp.decode_value(msgpack_nesting(65)).error().message, "nesting deeper than 64"));
  CHECK(contains(json.decode_value(json_nesting(100000)).error().message, "deeper"));
  CHECK(contains(mp.decode_value(msgpack_nesting(100000)).error().message, "deeper"));
  // Dicts count too.
  std::string dicts;
  for (int i = 0; i < 64; ++i) dicts += "{\"k\":";
  CHECK(contains(json.decode_value("[" + dicts + "1" + std::string(64, '}') + "]").error().message,
                 "nesting deeper than 64"));
}

TEST_CASE("codecs: duplicate dict keys are rejected") {
  const std::string err = decode_error(json, R"([1,"realm",{"roles":{},"roles":{}}])");
  CHECK(contains(err, "duplicate key \"roles\""));
  CHECK(contains(decode_error(json, R"([48,1,{},"p",[{"a":1,"b":{"x":1,"x":2}}]])"),
                 "duplicate key \"x\""));
  // MessagePack: {"a":1,"a":2}
  CHECK(contains(mp.decode_value("\x82\xa1\x61\x01\xa1\x61\x02").error().message,
                 "duplicate key \"a\""));
  std::string big = "{";
  for (int i = 0; i < 30; ++i) big += "\"k" + std::to_string(i) + "\":1,";
  big += "\"k3\":2}";
  CHECK(contains(json.decode_value(big).error().message, "duplicate key \"k3\""));
  object dup;  // encoders do not check, so a duplicate can be put on the wire for the decoder
  for (int i = 0; i < 30; ++i) dup.push_back("k" + std::to_string(i), i);
  dup.push_back("k29", 0);
  CHECK(contains(mp.decode_value(encode(mp, value{dup})).error().message, "duplicate key \"k29\""));
}

TEST_CASE("codecs: trailing bytes are rejected, trailing whitespace in JSON is not") {
  CHECK(decode_error(json, "[6,{},\"wamp.close.normal\"] \n\t").empty());
  CHECK(decode_error(json, " [6,{},\"wamp.close.normal\"]").empty());
  for (const char* bad : {"[6,{},\"r\"] x", "[6,{},\"r\"][]", "[6,{},\"r\"],", "[6,{},\"r\"]0"}) {
    CAPTURE(bad);
    CHECK_FALSE(decode_error(json, bad).empty());
  }
  CHECK(contains(decode_error(json, std::string("[6,{},\"r\"]\0[]", 13)), "NUL"));
  CHECK(contains(decode_error(json, std::string("[6,{},\"r\"]\0", 11)), "NUL"));

  const std::string good = encode(mp, goodbye{{}, "r"});
  CHECK(decode_error(mp, good).empty());
  CHECK(contains(decode_error(mp, good + '\x00'), "1 trailing bytes"));
  CHECK(contains(decode_error(mp, good + "\x90\x90"), "2 trailing bytes"));
}

TEST_CASE("codecs: malformed MessagePack fails without throwing") {
  CHECK(contains(mp.decode_value("\x92\x01").error().message, "truncated"));
  CHECK(contains(mp.decode_value("\xa5hi").error().message, "truncated"));
  CHECK(contains(mp.decode_value("\xc1").error().message, "invalid MessagePack"));  // never used
  CHECK(contains(mp.decode_value("\xd4\x01\x02").error().message, "extension type 1 is not supported"));  // fixext 1
  CHECK(contains(mp.decode_value(from_hex("d40001")).error().message, "extension type 0"));  // not undefined's data
  CHECK(contains(mp.decode_value("\x81\x01\x02").error().message, "key is not a string"));
  // Headers announcing far more elements than the frame holds: refused up front.
  CHECK(contains(mp.decode_value("\xdd\xff\xff\xff\xff").error().message, "exceeds"));
  CHECK(contains(mp.decode_value("\xdf\xff\xff\xff\xff").error().message, "exceeds"));
  CHECK(contains(mp.decode_value("\xdb\xff\xff\xff\xff").error().message, "MessagePack"));
  CHECK(contains(mp.decode_value("\xc6\xff\xff\xff\xff").error().message, "MessagePack"));
  CHECK_FALSE(mp.decode_value("").ok());
}

TEST_CASE("codecs: shape failures name the problem") {
  CHECK(decode_error(json, "") == "empty message");
  CHECK(decode_error(mp, "") == "empty message");
  CHECK(both_error("[]") == "empty message");
  CHECK(both_error("{}") == "message is not an array");
  CHECK(both_error("\"hello\"") == "message is not an array");
  CHECK(both_error("17") == "message is not an array");
  CHECK(contains(both_error("[\"CALL\",1,{},\"p\"]"), "message type must be an integer"));
  CHECK(contains(both_error("[true,\"r\",{}]"), "message type must be an integer"));
  CHECK(contains(both_error("[1.0,\"r\",{}]"), "message type must be an integer"));
  CHECK(both_error("[7]") == "unknown message type 7");
  CHECK(both_error("[0,1]") == "unknown message type 0");
  CHECK(both_error("[255,{}]") == "unknown message type 255");
  CHECK(both_error("[337,5512315355]") == "unknown message type 337");
  CHECK(both_error("[-1]") == "unknown message type -1");

  CHECK(both_error("[1,\"realm\",{},{}]") == "HELLO has 4 elements, expected 3");
  CHECK(both_error("[1,\"realm\"]") == "HELLO has 2 elements, expected 3");
  CHECK(both_error("[48,1,{}]") == "CALL has 3 elements, expected 4 to 6");
  CHECK(both_error("[48,1,{},\"p\",[],{},{}]") == "CALL has 7 elements, expected 4 to 6");
  CHECK(both_error("[35]") == "UNSUBSCRIBED has 1 elements, expected 2 to 3");

  CHECK(contains(both_error("[32,1,{},5]"), "SUBSCRIBE element 3 (Topic) must be a string"));
  CHECK(contains(both_error("[32,1,{},5]"), "got 5"));
  CHECK(contains(both_error("[1,\"realm\",[]]"), "HELLO element 2 (Details) must be a dict"));
  CHECK(contains(both_error("[1,null,{}]"), "HELLO element 1 (Realm) must be a string, got null"));
  CHECK(contains(both_error("[48,1,{},\"p\",{}]"), "CALL element 4 (Arguments) must be a list"));
  CHECK(
      contains(both_error("[48,1,{},\"p\",[],[]]"), "CALL element 5 (ArgumentsKw) must be a dict"));
  CHECK(contains(both_error("[8,48,1,{},5]"), "ERROR element 4 (Error) must be a string"));
  CHECK(contains(both_error("[4,1,{}]"), "CHALLENGE element 1 (AuthMethod) must be a string"));
  CHECK(contains(both_error("[36,1,2,[]]"), "EVENT element 3 (Details) must be a dict"));
  CHECK(contains(both_error("[68,1,0,{}]"),
                 "INVOCATION element 2 (REGISTERED.Registration) must be an id"));
  CHECK(contains(both_error("[70,1,{},\"payload\"]"),
                 "YIELD element 3 (Arguments) must be a list, got a string"));
  // A binary where a URI belongs is not a string.
  CHECK(contains(decode_error(json, R"([32,1,{},"\u0000AA=="])"), "got binary"));
}

TEST_CASE("codecs: empty trailing payload elements are accepted and dropped") {
  const result<message> m = json.decode(R"([48,1,{},"com.x",[],{}])");
  REQUIRE(m.ok());
  CHECK(same(*m, call{1, {}, "com.x", {}, {}}));
  CHECK(encode(json, *m) == R"([48,1,{},"com.x"])");
}

TEST_CASE("codecs: decoding does not check direction (the session does)") {
  CHECK(decode_error(json, "[2,1,{}]").empty());             // WELCOME
  CHECK(decode_error(json, "[68,1,2,{},[1]]").empty());      // INVOCATION
  CHECK(decode_error(json, R"([4,"wampcra",{}])").empty());  // CHALLENGE
}

// ---- CBOR (RFC 8949) --------------------------------------------------------------------------

TEST_CASE("codecs: exact CBOR bytes") {
  // [48, 1, {}, "com.x"]
  CHECK(to_hex(encode(cb, call{1, {}, "com.x", {}, {}})) == "84183001a065636f6d2e78");
  // Shortest heads: 0, 23, 24, 255, 256, 65535, 65536, 2^32-1, 2^32, 2^53; -1, -24, -25, -256, -257, int64 min.
  CHECK(to_hex(encode(cb, value{array{0, 23, 24, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL, max_id}})) ==
        "8a" "00" "17" "1818" "18ff" "190100" "19ffff" "1a00010000" "1affffffff" "1b0000000100000000"
        "1b0020000000000000");
  CHECK(to_hex(encode(cb, value{array{-1, -24, -25, -256, -257, std::numeric_limits<std::int64_t>::min()}})) ==
        "86" "20" "37" "3818" "38ff" "390100" "3b7fffffffffffffff");
  CHECK(to_hex(encode(cb, value{std::numeric_limits<std::uint64_t>::max()})) == "1bffffffffffffffff");
  // Floats as float64, even integral ones; null, booleans; text vs byte strings; maps.
  CHECK(to_hex(encode(cb, value{1.0})) == "fb3ff0000000000000");
  CHECK(to_hex(encode(cb, value{array{null, true, false}})) == "83f6f5f4");
  CHECK(to_hex(encode(cb, value{array{"a", binary{"\x01\x02"}}})) == "826161420102");
  CHECK(to_hex(encode(cb, value{object{{"a", 1}, {"b", array{}}}})) == "a2616101616280");
  CHECK(to_hex(encode(cb, value{std::string(24, 'x')})).substr(0, 4) == "7818");
}

TEST_CASE("codecs: CBOR decodes what RFC 8949 encoders write") {
  // RFC 8949 Appendix A examples that fit the model.
  const std::pair<const char*, value> examples[] = {
      {"00", 0},
      {"17", 23},
      {"1818", 24},
      {"1903e8", 1000},
      {"1b000000e8d4a51000", 1000000000000LL},
      {"1bffffffffffffffff", std::numeric_limits<std::uint64_t>::max()},
      {"20", -1},
      {"3903e7", -1000},
      {"3b7fffffffffffffff", std::numeric_limits<std::int64_t>::min()},
      {"f90000", 0.0},
      {"f93c00", 1.0},
      {"f93e00", 1.5},
      {"f97bff", 65504.0},
      {"f90001", 5.960464477539063e-8},
      {"f90400", 0.00006103515625},
      {"f9c400", -4.0},
      {"fa47c35000", 100000.0},
      {"fb3ff199999999999a", 1.1},
      {"fb7e37e43c8800759c", 1.0e+300},
      {"f4", false},
      {"f5", true},
      {"f6", null},
      {"40", binary{}},
      {"4401020304", binary{"\x01\x02\x03\x04"}},
      {"60", ""},
      {"6449455446", "IETF"},
      {"62225c", "\"\\"},
      {"62c3bc", "\xc3\xbc"},
      {"64f0908591", "\xf0\x90\x85\x91"},
      {"80", array{}},
      {"83010203", array{1, 2, 3}},
      {"8301820203820405", array{1, array{2, 3}, array{4, 5}}},
      {"a0", object{}},
      {"a26161016162820203", object{{"a", 1}, {"b", array{2, 3}}}},
      // Indefinite lengths: strings in chunks, arrays and maps up to a break.
      {"5f42010243030405ff", binary{"\x01\x02\x03\x04\x05"}},
      {"7f657374726561646d696e67ff", "streaming"},
      {"9fff", array{}},
      {"9f018202039f0405ffff", array{1, array{2, 3}, array{4, 5}}},
      {"83018202039f0405ff", array{1, array{2, 3}, array{4, 5}}},
      {"bf61610161629f0203ffff", object{{"a", 1}, {"b", array{2, 3}}}},
      {"bf6346756ef563416d7421ff", object{{"Fun", true}, {"Amt", -2}}},
      // Tag 64 (RFC 8746, a uint8 typed array): how cbor-x writes a JavaScript Uint8Array.
      {"d8404400" "01fe" "ff", binary{std::string("\x00\x01\xfe\xff", 4)}},
      {"81d8405f4100410" "1ff", array{binary{std::string("\x00\x01", 2)}}},
  };
  for (const auto& [hex, expected] : examples) {
    CAPTURE(hex);
    const result<value> v = cb.decode_value(from_hex(hex));
    REQUIRE_MESSAGE(v.ok(), v.error().message);
    CHECK(*v == expected);
    CHECK(v->is_double() == expected.is_double());
  }
  CHECK(std::isinf(std::get<double>(cb.decode_value(from_hex("f97c00"))->get())));
  CHECK(std::isnan(std::get<double>(cb.decode_value(from_hex("f97e00"))->get())));
  CHECK(std::isnan(std::get<double>(cb.decode_value(from_hex("fb7ff8000000000000"))->get())));
}

TEST_CASE("codecs: CBOR undefined is absent; what the model cannot hold is refused by name") {
  // SUBSCRIBE [32, 1, {"match": undefined, "get_retained": undefined}, "com.t"], as JS encoders write it.
  const result<message> m = cb.decode(from_hex("8418200" "1" "a2" "656d61746368" "f7" "6c6765745f7265746169" "6e6564" "f7" "65636f6d2e74"));
  REQUIRE_MESSAGE(m.ok(), m.error().message);
  CHECK(std::get<subscribe>(*m).options.empty());
  CHECK(*cb.decode_value(from_hex("82f701")) == value{array{null, 1}});  // in a list: null
  const std::pair<const char*, const char*> refused[] = {
      {"c074323031332d30332d32315432303a30343a30305a", "CBOR tag 0 is not supported"},
      {"c249010000000000000000", "CBOR tag 2 is not supported"},
      {"d9d9f780", "CBOR tag 55799 is not supported"},
      {"d8406161", "tag 64 (a uint8 array) must hold a byte string"},
      {"d84101", "CBOR tag 65 is not supported"},
      {"3bffffffffffffffff", "negative integer below -2^63"},
      {"3b8000000000000000", "negative integer below -2^63"},
      {"f0", "simple value 16"},
      {"f8ff", "simple value 255"},
      {"ff", "unexpected break"},
      {"1c", "reserved additional information 28"},
      {"1f", "an integer cannot have indefinite length"},
      {"a10102", "dict key is not a text string"},
      {"a1410102", "dict key is not a text string"},
      {"a2616101616102", "duplicate key \"a\""},
      {"62c328", "UTF-8"},
      {"63eda080", "UTF-8"},
      {"7f6161", "truncated"},
      {"7f4101ff", "not a definite string of its type"},
      {"5f7f6161ffff", "not a definite string of its type"},
      {"83", "exceeds"},
      {"8301", "exceeds"},
      {"810101", "1 trailing bytes"},
      {"1a0001", "truncated"},
      {"6568", "exceeds"},
      {"9bffffffffffffffff", "exceeds"},
      {"bbffffffffffffffff", "exceeds"},
      {"5bffffffffffffffff", "exceeds"},
      {"9f01", "truncated"},
      {"bf616101", "truncated"},
      {"0000", "1 trailing bytes"},
      {"", "truncated"},
  };
  for (const auto& [hex, why] : refused) {
    CAPTURE(hex);
    const result<value> r = cb.decode_value(from_hex(hex));
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(contains(r.error().message, why), r.error().message);
    CHECK(contains(r.error().message, "invalid CBOR: "));
  }
  // Depth: 64 nested arrays are fine, 65 are not (definite or indefinite).
  CHECK(cb.decode_value(std::string(63, '\x81') + '\x80').ok());
  CHECK(contains(cb.decode_value(std::string(64, '\x81') + '\x80').error().message, "nesting deeper than 64"));
  CHECK(contains(cb.decode_value(std::string(100000, '\x9f')).error().message, "deeper"));
}

TEST_CASE("codecs: msgpackr's undefined (d4 00 00) is absent") {
  // SUBSCRIBE [32, 1, {"match": undefined, "get_retained": undefined}, "com.t"] as wampy 8 sends it.
  const result<message> m = mp.decode(from_hex("942001" "82" "a56d61746368" "d40000" "ac6765745f72657461696e6564" "d40000" "a5636f6d2e74"));
  REQUIRE_MESSAGE(m.ok(), m.error().message);
  CHECK(std::get<subscribe>(*m).options.empty());
  CHECK(std::get<subscribe>(*m).topic == "com.t");
  // Next to real options, only the undefined ones go.
  const result<value> v = mp.decode_value(from_hex("82a161d40000a16201"));
  REQUIRE(v.ok());
  CHECK(*v == value{object{{"b", 1}}});
  CHECK(*mp.decode_value(from_hex("92d4000001")) == value{array{null, 1}});  // in a list: null
  // Only the entry whose own value is undefined goes: {"a": [undefined]} keeps "a" (the decoder
  // before our own reader dropped it, the flag leaking out of the list).
  CHECK(*mp.decode_value(from_hex("81a16191d40000")) == value{object{{"a", array{null}}}});
  // And the router's decode_routed reads it the same (SUBSCRIBE options, not a payload).
  const result<message> routed = mp.decode_routed(from_hex("942001" "81" "a161" "91d40000" "a5636f6d2e74"));
  REQUIRE(routed.ok());
  CHECK(std::get<subscribe>(*routed).options == object{{"a", array{null}}});
}

TEST_CASE("codecs: decode_routed counts the message's own array as a nesting level, as decode does") {
  // YIELD [70, 1, {"k": 62 nested lists}, []]: the dict sits at depth 2, its deepest list at 65.
  std::string deep = "9446" "01" "81" "a16b";
  for (int i = 0; i < 62; ++i) deep += "91";
  deep += "90" "90";
  const result<message> full = mp.decode(from_hex(deep));
  const result<message> routed = mp.decode_routed(from_hex(deep));
  REQUIRE_FALSE(full.ok());
  REQUIRE_FALSE(routed.ok());
  CHECK(contains(routed.error().message, "nesting deeper than 64"));
  CHECK(full.error().message == routed.error().message);
}
