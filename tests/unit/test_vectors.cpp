// The spec's single-message test vectors (shared/wamp-testsuite, see its README.md and
// SCHEMA.json) through every codec (JSON, MessagePack, CBOR). Built in when meson's wamp_testsuite option names the
// directory; otherwise the test case is registered as skipped.
#include <doctest/doctest.h>

#ifndef JUNCTION_WAMP_TESTSUITE

#include <cstdio>

TEST_CASE("wamp testsuite vectors" * doctest::skip(true)) {}

namespace {
// A skipped test case never runs, so say why at startup where the run's output shows it.
const bool announced = [] {
  std::puts("wamp testsuite vectors: skipped (meson option wamp_testsuite is unset)");
  return true;
}();
}  // namespace

#else

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "serializers/codec.hpp"

using namespace junction;
namespace fs = std::filesystem;

namespace {

bool same(const message& a, const message& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&b](const auto& x) { return x.fields() == std::get<std::decay_t<decltype(x)>>(b).fields(); },
      a);
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The attribute names the vectors use for each message's fields, in wire order (fields()),
// space-separated.
// clang-format off
const std::map<message_type, std::string_view> attribute_names{
    {message_type::hello,        "realm details"},
    {message_type::welcome,      "session_id details"},
    {message_type::abort,        "details reason args kwargs"},
    {message_type::challenge,    "method extra"},
    {message_type::authenticate, "signature extra"},
    {message_type::goodbye,      "details reason"},
    {message_type::error,        "request_type request_id details error args kwargs"},
    {message_type::publish,      "request_id options topic args kwargs"},
    {message_type::published,    "request_id publication_id"},
    {message_type::subscribe,    "request_id options topic"},
    {message_type::subscribed,   "request_id subscription_id"},
    {message_type::unsubscribe,  "request_id subscription_id"},
    {message_type::unsubscribed, "request_id details"},
    {message_type::event,        "subscription publication details args kwargs"},
    {message_type::call,         "request_id options procedure args kwargs"},
    {message_type::cancel,       "request_id options"},
    {message_type::result,       "request_id details args kwargs"},
    {message_type::register_,    "request_id options procedure"},
    {message_type::registered,   "request_id registration_id"},
    {message_type::unregister,   "request_id registration_id"},
    {message_type::unregistered, "request_id details"},
    {message_type::invocation,   "request_id registration_id details args kwargs"},
    {message_type::interrupt,    "request_id options"},
    {message_type::yield,        "request_id options args kwargs"},
};
// clang-format on

// Our message's fields under the vectors' attribute names ("expected_attributes").
object attributes_of(const message& msg) {
  object out;
  std::visit(
      [&out](const auto& m) {
        std::istringstream names{std::string(attribute_names.at(m.type))};
        const auto next_name = [&names] {
          std::string name;
          names >> name;
          return name;
        };
        std::apply([&](const auto&... f) { (out.set(next_name(), value{f}), ...); }, m.fields());
      },
      msg);
  // HELLO and WELCOME vectors name Details.roles as a top-level attribute.
  if (const value* details = out.find("details"))
    if (const value* roles = details->as_object().find("roles")) out.set("roles", *roles);
  return out;
}

// The vectors write an absent payload as null; we hold it as an empty list/dict.
bool attribute_matches(const value& expected, const value& ours) {
  if (expected.is_null() && ((ours.is_array() && ours.as_array().empty()) ||
                             (ours.is_object() && ours.as_object().empty())))
    return true;
  return expected == ours;
}

struct tally {
  int samples = 0;
  int variants_decoded = 0;
  int validation_accepted = 0;
  int realm_rules = 0;  // validation samples whose expected error is the realm's to raise
  std::vector<std::string> skipped;
  std::set<std::string> unmapped;
};

void check_decoded(const message& m, const object& expected, const codec& c, tally& t) {
  const object ours = attributes_of(m);
  for (const auto& [name, want] : expected) {
    if (name == "message_type") {
      CHECK(want == value{static_cast<std::uint64_t>(type_of(m))});
      continue;
    }
    if (name == "payload" && want.is_null()) continue;  // no passthru payload, as expected
    const value* got = ours.find(name);
    if (got == nullptr) {
      t.unmapped.insert(std::string(traits_of(m).name) + "." + name);
      continue;
    }
    CAPTURE(name);
    CHECK_MESSAGE(attribute_matches(want, *got), to_debug_string(want), " vs ",
                  to_debug_string(*got));
  }
  // Re-encoding gives the same message, in this serializer and in every other one.
  (void)c;
  for (const codec* other : {&json_codec(), &msgpack_codec(), &cbor_codec()}) {
    std::string bytes;
    other->encode(m, bytes);
    const result<message> back = other->decode(bytes);
    REQUIRE_MESSAGE(back.ok(), back.error().message);
    CHECK(same(*back, m));
  }
}

// Why our model refuses a sample on purpose, or "" when it should decode.
std::string intentional_refusal(std::uint64_t code, const object& attributes_or_dict) {
  if (find_traits(code) == nullptr)
    return "message type " + std::to_string(code) + " is not in the model";
  const value* payload = attributes_or_dict.find("payload");
  if ((payload != nullptr && !payload->is_null()) || attributes_or_dict.contains("enc_algo"))
    return "payload passthru (Arguments position holds a binary/string, not a list)";
  return {};
}

void check_serialization_sample(const object& sample, const std::string& where, tally& t) {
  const object& expected = sample.find("expected_attributes")->as_object();
  std::uint64_t code = 0;
  REQUIRE(expected.find("message_type")->as_uint(code));
  if (const std::string why = intentional_refusal(code, expected); !why.empty()) {
    t.skipped.push_back(where + ": " + why);
    return;
  }
  ++t.samples;
  const object& serializers = sample.find("serializers")->as_object();
  for (const codec* c : {&json_codec(), &msgpack_codec(), &cbor_codec()}) {
    const bool is_json = c->kind() == serializer::json;
    const char* key = is_json ? "json" : c->kind() == serializer::msgpack ? "msgpack" : "cbor";
    const value* variants = serializers.find(key);
    if (variants == nullptr) continue;
    CAPTURE(c->subprotocol());
    int decoded = 0;
    std::string failures;
    bool canonical = false;  // our encoding equals at least one variant (spec: at least one)
    for (const value& variant : variants->as_array()) {
      const object& v = variant.as_object();
      const std::string bytes =
          is_json ? v.find("bytes")->as_string() : from_hex(v.find("bytes_hex")->as_string());
      const result<message> m = c->decode(bytes);
      if (!m) {
        failures += m.error().message + "; ";
        continue;
      }
      ++decoded;
      std::string ours;
      c->encode(*m, ours);
      canonical = canonical || ours == bytes;
      check_decoded(*m, expected, *c, t);
    }
    t.variants_decoded += decoded;
    CHECK_MESSAGE(decoded >= 1, failures);
    CHECK(canonical);
  }
}

// Validation samples carry a raw wire message. Those without expected_error must pass our shape
// check; the expected errors are about Options/Details keys, which the realm validates.
void check_validation_sample(const object& sample, const std::string& where, tally& t) {
  const array& wmsg = sample.find("wmsg")->as_array();
  std::uint64_t code = 0;
  REQUIRE(wmsg.at(0).as_uint(code));
  // The Options/Details dict sits at a different position per type; passthru marks it.
  const auto dict = std::find_if(wmsg.begin(), wmsg.end(), [](const value& e) {
    return e.is_object() && e.as_object().contains("enc_algo");
  });
  const std::string why =
      intentional_refusal(code, dict != wmsg.end() ? dict->as_object() : object{});
  if (!why.empty()) {
    t.skipped.push_back(where + ": " + why);
    return;
  }
  if (sample.contains("expected_error")) {
    ++t.realm_rules;
    return;
  }
  const result<message> m = from_array(array(wmsg));
  CHECK_MESSAGE(m.ok(), m.error().message);
  ++t.validation_accepted;
}

}  // namespace

TEST_CASE("wamp testsuite vectors: singlemessage basic and advanced") {
  const fs::path root = fs::path(JUNCTION_WAMP_TESTSUITE) / "singlemessage";
  std::vector<fs::path> files;
  for (const char* profile : {"basic", "advanced"}) {
    REQUIRE_MESSAGE(fs::is_directory(root / profile), (root / profile).string());
    for (const auto& entry : fs::directory_iterator(root / profile))
      if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(!files.empty());

  tally t;
  for (const fs::path& file : files) {
    const std::string name =
        file.parent_path().filename().string() + "/" + file.filename().string();
    CAPTURE(name);
    const result<value> doc = json_codec().decode_value(read_file(file));
    REQUIRE_MESSAGE(doc.ok(), doc.error().message);
    const array& samples = doc->as_object().find("samples")->as_array();
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const object& sample = samples[i].as_object();
      const std::string where = name + " sample " + std::to_string(i);
      CAPTURE(where);
      if (sample.contains("wmsg")) {
        check_validation_sample(sample, where, t);
      } else {
        check_serialization_sample(sample, where, t);
      }
    }
  }

  CHECK(t.samples > 0);
  std::string skipped;
  for (const std::string& s : t.skipped) skipped += "\n  " + s;
  MESSAGE("wamp testsuite vectors: ", files.size(), " files, ", t.samples,
          " serialization samples, ", t.variants_decoded, " json/msgpack/cbor variants decoded, ",
          t.validation_accepted, " validation samples accepted, ", t.realm_rules,
          " validation samples left to the realm (Options/Details rules), ", t.skipped.size(),
          " samples skipped:", skipped);
  for (const std::string& u : t.unmapped) MESSAGE("attribute not mapped: ", u);
}

#endif
