// Unit tests for the traits table in serializers/message.hpp: one row per message type, codes and
// directions as in reference/wamp-protocol.md §1.1.
#include <doctest/doctest.h>

#include <iterator>
#include <set>
#include <string_view>

#include "serializers/message.hpp"

using namespace junction;

namespace {

struct spec_row {
  std::uint64_t code;
  std::string_view name;
  bool router_receives;
};

// Transcribed from the spec table (§1.1), not from message.hpp.
constexpr spec_row spec_table[] = {
    {1, "HELLO", true},          {2, "WELCOME", false},     {3, "ABORT", true},
    {4, "CHALLENGE", false},     {5, "AUTHENTICATE", true}, {6, "GOODBYE", true},
    {8, "ERROR", true},          {16, "PUBLISH", true},     {17, "PUBLISHED", false},
    {32, "SUBSCRIBE", true},     {33, "SUBSCRIBED", false}, {34, "UNSUBSCRIBE", true},
    {35, "UNSUBSCRIBED", false}, {36, "EVENT", false},      {48, "CALL", true},
    {49, "CANCEL", true},        {50, "RESULT", false},     {64, "REGISTER", true},
    {65, "REGISTERED", false},   {66, "UNREGISTER", true},  {67, "UNREGISTERED", false},
    {68, "INVOCATION", false},   {69, "INTERRUPT", false},  {70, "YIELD", true},
};

}  // namespace

TEST_CASE("traits: one row per message type, matching the spec table") {
  CHECK(std::size(all_traits) == 24);
  CHECK(std::variant_size_v<message> == 24);
  for (const spec_row& row : spec_table) {
    CAPTURE(row.name);
    const message_traits* t = find_traits(row.code);
    REQUIRE(t != nullptr);
    CHECK(static_cast<std::uint64_t>(t->type) == row.code);
    CHECK(t->name == row.name);
    CHECK(t->router_receives == row.router_receives);
    CHECK(t->min_length >= 2);
    CHECK(t->min_length <= t->max_length);
    CHECK(t->max_length <= 7);
    CHECK(&traits_of(t->type) == t);
  }
  std::set<std::uint64_t> codes;
  for (const auto& t : all_traits) codes.insert(static_cast<std::uint64_t>(t.type));
  CHECK(codes.size() == 24);  // no row twice
}

TEST_CASE("traits: exactly the messages a client may send are router_receives") {
  std::set<std::string_view> receives;
  for (const auto& t : all_traits)
    if (t.router_receives) receives.insert(t.name);
  const std::set<std::string_view> expected{
      "HELLO",       "AUTHENTICATE", "ABORT",  "GOODBYE",  "ERROR",      "PUBLISH", "SUBSCRIBE",
      "UNSUBSCRIBE", "CALL",         "CANCEL", "REGISTER", "UNREGISTER", "YIELD"};
  CHECK(receives == expected);
}

TEST_CASE("traits: unknown and reserved codes have no row") {
  CHECK(find_traits(7) == nullptr);  // HEARTBEAT in pre-RC drafts (§5.15)
  CHECK(find_traits(0) == nullptr);
  CHECK(find_traits(255) == nullptr);
  CHECK(find_traits(256) == nullptr);
  CHECK(find_traits(337) == nullptr);  // EVENT_RECEIVED, not ratified
  CHECK(find_traits(~std::uint64_t{0}) == nullptr);
}

TEST_CASE("traits: payload messages end with Arguments|list, ArgumentsKw|dict") {
  for (const auto& t : all_traits) {
    CAPTURE(t.name);
    if (!t.has_payload) continue;
    CHECK(t.max_length == t.min_length + 2);
    CHECK(t.fields[t.max_length - 3] == field_kind::list);
    CHECK(t.fields[t.max_length - 2] == field_kind::dict);
  }
  CHECK(traits_of(message_type::call).has_payload);
  CHECK_FALSE(traits_of(message_type::subscribe).has_payload);
}

TEST_CASE("traits: field kinds of a few rows and their names") {
  const auto& error_row = traits_of(message_type::error);
  CHECK(error_row.fields[0] == field_kind::integer);
  CHECK(error_row.fields[1] == field_kind::id);
  CHECK(traits_of(message_type::unsubscribed).fields[0] == field_kind::integer);
  CHECK(traits_of(message_type::hello).fields[0] == field_kind::uri);
  CHECK(name_of(field_kind::id) == "id");
  CHECK(name_of(field_kind::integer) == "integer");
  CHECK(name_of(field_kind::uri) == "uri");
  CHECK(name_of(field_kind::string) == "string");
  CHECK(name_of(field_kind::dict) == "dict");
  CHECK(name_of(field_kind::list) == "list");
}

TEST_CASE("traits: wire_length drops trailing empty payload elements") {
  call c{1, {}, "com.x", {}, {}};
  CHECK(wire_length(c) == 4);
  c.args.emplace_back(1);
  CHECK(wire_length(c) == 5);
  c.args.clear();
  c.kwargs.set("k", 1);
  CHECK(wire_length(c) == 6);  // ArgumentsKw needs an (empty) Arguments before it
  unsubscribed u{5, {}};
  CHECK(wire_length(u) == 2);
  u.details.set("reason", "revoked");
  CHECK(wire_length(u) == 3);
  CHECK(wire_length(hello{"realm", {}}) == 3);
}
