#include <doctest/doctest.h>

#include "realm/uri.hpp"

using namespace junction;

TEST_CASE("uri: loose rules (spec: no empty components, no '.', '#' or whitespace)") {
  for (const char* ok : {"com.myapp.topic1", "a", "com.MyApp.Topic", "com.app-1.x", "ü.ñ"})
    CHECK_MESSAGE(is_valid_uri(ok, uri_policy::loose), ok);
  for (const char* bad : {"", ".", "com..topic", ".com.app", "com.app.", "com.my app",
                          "com.app#1", "com.\tapp", "com.app\n"})
    CHECK_FALSE_MESSAGE(is_valid_uri(bad, uri_policy::loose), bad);
}

TEST_CASE("uri: strict rules allow only [0-9a-z_] components") {
  CHECK(is_valid_uri("com.my_app.topic1", uri_policy::strict));
  CHECK_FALSE(is_valid_uri("com.MyApp.topic", uri_policy::strict));
  CHECK_FALSE(is_valid_uri("com.app-1.x", uri_policy::strict));
  CHECK_FALSE(is_valid_uri("com..x", uri_policy::strict));
}

TEST_CASE("uri: pattern forms allow the empty components they need") {
  CHECK(is_valid_uri("com.app.", uri_policy::loose, uri_form::prefix));
  CHECK_FALSE(is_valid_uri("com..app", uri_policy::loose, uri_form::prefix));
  CHECK(is_valid_uri("com..update", uri_policy::strict, uri_form::wildcard));
  CHECK(is_valid_uri("..", uri_policy::loose, uri_form::wildcard));
  CHECK_FALSE(is_valid_uri("com.a b.", uri_policy::loose, uri_form::wildcard));
}

TEST_CASE("uri: the wamp. namespace is reserved") {
  CHECK(is_reserved_uri("wamp.session.count"));
  CHECK(is_reserved_uri("wamp"));
  CHECK_FALSE(is_reserved_uri("wampx.session"));
  CHECK_FALSE(is_reserved_uri("com.wamp.x"));
}

TEST_CASE("uri: match policies parse from and print to the spec's spelling") {
  for (const auto p : {match_policy::exact, match_policy::prefix, match_policy::wildcard})
    CHECK(parse_match_policy(to_string(p)) == p);
  CHECK(to_string(match_policy::prefix) == "prefix");
  CHECK(parse_match_policy("wildcard") == match_policy::wildcard);
  for (const char* bad : {"", "Exact", "prefix ", "glob", "exactly"})
    CHECK_FALSE_MESSAGE(parse_match_policy(bad).has_value(), bad);
}

TEST_CASE("uri: wildcard_matches one pattern against one URI") {
  CHECK(wildcard_matches("com.myapp..myprocedure1", "com.myapp.x.myprocedure1"));
  CHECK_FALSE(wildcard_matches("com.myapp..myprocedure1", "com.myapp.x.myprocedure1.y"));
  CHECK_FALSE(wildcard_matches("com.myapp..myprocedure1", "com.myapp.myprocedure1"));
  CHECK(wildcard_matches(".b.", "a.b.c"));
  CHECK_FALSE(wildcard_matches(".b.", "a.x.c"));
  CHECK(wildcard_matches("a.b.c", "a.b.c"));
  CHECK_FALSE(wildcard_matches("a.b", "a.bc"));
}
