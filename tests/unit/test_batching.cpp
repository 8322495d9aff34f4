// The batched WebSocket subprotocols' framing (router/transport/batching.hpp).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "router/transport/batching.hpp"

using namespace junction;

namespace {
std::vector<std::string> split_all(batching::mode m, std::string_view frame,
                                   std::optional<std::string>* error = nullptr) {
  std::vector<std::string> out;
  auto e = batching::split(m, frame, [&](std::string_view x) { out.emplace_back(x); });
  if (error) *error = e;
  return out;
}
}  // namespace

TEST_CASE("batching: JSON messages end with 0x1E, and Autobahn|Python's 0x18 is accepted") {
  using v = std::vector<std::string>;
  CHECK(split_all(batching::mode::json, "[1]\x1e[2]\x1e") == v{"[1]", "[2]"});
  CHECK(split_all(batching::mode::json, "[1]\x18[2]\x18") == v{"[1]", "[2]"});
  CHECK(split_all(batching::mode::json, "[1]\x1e[2]\x18[3]") == v{"[1]", "[2]", "[3]"});
  CHECK(split_all(batching::mode::json, "\x1e\x1e[1]\x1e").size() == 1);  // empty pieces skipped
  CHECK(split_all(batching::mode::none, "[1]\x1e[2]") == v{"[1]\x1e[2]"});
  std::string out;
  batching::append(batching::mode::json, out, [](std::string& o) { o += "[6,{},\"x\"]"; });
  CHECK(out == "[6,{},\"x\"]\x1e");
}

TEST_CASE("batching: MessagePack messages carry a 4-byte big-endian length") {
  std::string out;
  batching::append(batching::mode::length_prefixed, out, [](std::string& o) { o += "abc"; });
  batching::append(batching::mode::length_prefixed, out, [](std::string& o) { o += std::string(300, 'x'); });
  CHECK(out.substr(0, 7) == std::string("\0\0\0\x03" "abc", 7));
  CHECK(out.substr(7, 4) == std::string("\0\0\x01\x2c", 4));
  std::optional<std::string> error;
  const auto parts = split_all(batching::mode::length_prefixed, out, &error);
  CHECK_FALSE(error);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0] == "abc");
  CHECK(parts[1] == std::string(300, 'x'));
}

TEST_CASE("batching: a truncated MessagePack batch is refused after the whole messages") {
  std::optional<std::string> error;
  const std::string whole = std::string("\0\0\0\x01" "a", 5);
  auto parts = split_all(batching::mode::length_prefixed, whole + std::string("\0\0", 2), &error);
  CHECK(parts.size() == 1);
  REQUIRE(error);
  CHECK(error->find("too few for a length prefix") != std::string::npos);
  parts = split_all(batching::mode::length_prefixed, whole + std::string("\0\0\0\x09" "abc", 7), &error);
  CHECK(parts.size() == 1);
  REQUIRE(error);
  CHECK(error->find("9 bytes but only 3 follow") != std::string::npos);
}

TEST_CASE("batching: replies mirror the client's JSON separator") {
  CHECK(batching::separator_of("[1]\x18[2]\x1e") == '\x18');
  CHECK(batching::separator_of("[1]\x1e") == '\x1e');
  CHECK(batching::separator_of("[1]") == '\0');
  std::string out;
  batching::append(batching::mode::json, out, [](std::string& o) { o += "[2]"; }, '\x18');
  CHECK(out == "[2]\x18");
}
