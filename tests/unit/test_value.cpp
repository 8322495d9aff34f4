// Unit tests for serializers/value.hpp: object, equality rules, the debug rendering.
#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "serializers/value.hpp"

using namespace junction;

TEST_CASE("object: set, find, replace, erase keep insertion order") {
  object o;
  CHECK(o.empty());
  o.set("b", 1);
  o.set("a", "x");
  o.set("c", true);
  CHECK(o.size() == 3);
  REQUIRE(o.find("a") != nullptr);
  CHECK(*o.find("a") == value{"x"});
  CHECK(o.find("missing") == nullptr);
  CHECK(o.contains("c"));

  o.set("b", 2);  // replaces in place
  CHECK(o.size() == 3);
  CHECK(o.begin()->first == "b");
  CHECK(o.begin()->second == value{2});

  CHECK(o.erase("a"));
  CHECK_FALSE(o.erase("a"));
  std::string order;
  for (const auto& [k, v] : o) order += k;
  CHECK(order == "bc");

  value& added = o.set("d", null);
  added = array{1, 2};
  CHECK(*o.find("d") == value{array{1, 2}});
}

TEST_CASE("object: typed getters never coerce") {
  const object o{{"s", "text"}, {"t", true}, {"one", 1}, {"f", false}};
  REQUIRE(o.get_string("s") != nullptr);
  CHECK(*o.get_string("s") == "text");
  CHECK(o.get_string("one") == nullptr);
  CHECK(o.get_string("missing") == nullptr);
  CHECK(o.get_bool("t", false));
  CHECK_FALSE(o.get_bool("f", true));
  CHECK(o.get_bool("one", true));  // an integer is not a boolean: fallback
  CHECK_FALSE(o.get_bool("one", false));
  CHECK(o.get_bool("missing", true));
}

TEST_CASE("object: initializer list keeps keys unique, push_back does not check") {
  const object lit{{"k", 1}, {"k", 2}};
  CHECK(lit.size() == 1);
  CHECK(*lit.find("k") == value{2});
  CHECK(lit.find_duplicate_key() == nullptr);

  object o;
  o.push_back("a", 1);
  o.push_back("b", 2);
  CHECK(o.find_duplicate_key() == nullptr);
  o.push_back("a", 3);
  REQUIRE(o.find_duplicate_key() != nullptr);
  CHECK(*o.find_duplicate_key() == "a");

  object big;  // past the pairwise limit: the sorting path
  for (int i = 0; i < 40; ++i) big.push_back("key" + std::to_string(i), i);
  CHECK(big.find_duplicate_key() == nullptr);
  big.push_back("key17", 0);
  REQUIRE(big.find_duplicate_key() != nullptr);
  CHECK(*big.find_duplicate_key() == "key17");
}

TEST_CASE("object: equality ignores key order") {
  const object a{{"x", 1}, {"y", "z"}};
  const object b{{"y", "z"}, {"x", 1}};
  CHECK(a == b);
  CHECK(a != object{{"x", 1}});
  CHECK(a != object{{"x", 1}, {"y", "other"}});
  CHECK(a != object{{"x", 1}, {"w", "z"}});
}

TEST_CASE("value: integers compare numerically across signed and unsigned") {
  CHECK(value{std::int64_t{5}} == value{std::uint64_t{5}});
  CHECK(value{std::uint64_t{0}} == value{std::int64_t{0}});
  CHECK(value{-1} != value{std::numeric_limits<std::uint64_t>::max()});
  CHECK(value{std::int64_t{-7}} == value{-7});
  CHECK(value{std::uint64_t{1} << 63} != value{std::numeric_limits<std::int64_t>::min()});
  CHECK(value{array{1, 2}} == value{array{std::uint64_t{1}, std::uint64_t{2}}});
}

TEST_CASE("value: doubles and integers are different values, and other kinds never mix") {
  CHECK(value{1.0} != value{1});
  CHECK(value{0.0} != value{std::uint64_t{0}});
  CHECK(value{1.5} == value{1.5});
  CHECK(value{true} != value{1});
  CHECK(value{false} != value{0});
  CHECK(value{"ab"} != value{binary{"ab"}});
  CHECK(value{binary{"ab"}} == value{binary{"ab"}});
  CHECK(value{} == value{null});
  CHECK(value{} != value{array{}});
  CHECK(value{array{}} != value{object{}});
  CHECK(value{""} != value{});
}

TEST_CASE("value: as_uint accepts non-negative integers, and integral floats within [0, 2^53]") {
  std::uint64_t out = 99;
  CHECK(value{std::int64_t{42}}.as_uint(out));
  CHECK(out == 42);
  CHECK(value{std::numeric_limits<std::uint64_t>::max()}.as_uint(out));
  CHECK(out == std::numeric_limits<std::uint64_t>::max());
  CHECK_FALSE(value{-1}.as_uint(out));
  CHECK(value{1.0}.as_uint(out));
  CHECK(out == 1);
  CHECK(value{5000000000.0}.as_uint(out));
  CHECK(out == 5000000000ULL);
  CHECK(value{9007199254740992.0}.as_uint(out));
  CHECK(out == 9007199254740992ULL);
  CHECK_FALSE(value{9007199254740994.0}.as_uint(out));
  CHECK_FALSE(value{1.5}.as_uint(out));
  CHECK_FALSE(value{-1.0}.as_uint(out));
  CHECK_FALSE(value{std::numeric_limits<double>::quiet_NaN()}.as_uint(out));
  CHECK_FALSE(value{std::numeric_limits<double>::infinity()}.as_uint(out));
  CHECK_FALSE(value{true}.as_uint(out));
  CHECK_FALSE(value{"1"}.as_uint(out));
  CHECK(value{-1}.is_integer());
  CHECK_FALSE(value{true}.is_integer());
}

TEST_CASE("value: to_debug_string") {
  CHECK(to_debug_string(value{}) == "null");
  CHECK(to_debug_string(value{true}) == "true");
  CHECK(to_debug_string(value{-12}) == "-12");
  CHECK(to_debug_string(value{std::numeric_limits<std::uint64_t>::max()}) ==
        "18446744073709551615");
  CHECK(to_debug_string(value{1.0}) == "1.0");
  CHECK(to_debug_string(value{0.1}) == "0.1");
  CHECK(to_debug_string(value{"a\"b\\\n"}) == "\"a\\\"b\\\\\\u000a\"");
  CHECK(to_debug_string(value{binary{std::string("\x00\x7f\xff", 3)}}) == "hex\"007fff\"");
  const value nested{object{{"k", array{1, "x", object{}}}, {"e", array{}}}};
  CHECK(to_debug_string(nested) == "{\"k\":[1,\"x\",{}],\"e\":[]}");
}
