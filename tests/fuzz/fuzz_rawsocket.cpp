// Fuzz target: the RawSocket handshake and frame reader (router/transport/rawsocket.hpp), the
// stream cut into feeds of varying size. Checks: frames are never longer than the limit the
// router announced, and a failed reader stays failed.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "router/transport/rawsocket.hpp"

namespace rs = junction::rawsocket;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  std::array<std::uint8_t, 4> hs{data[0], data[1], data[2], data[3]};
  std::optional<rs::handshake_error> reply;
  auto hello = rs::parse_handshake(hs, reply);
  if (hello && reply) std::abort();
  const std::size_t limit = hello ? std::min<std::size_t>(hello->max_length, 1u << 16) : 4096;
  const unsigned cut = data[4];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 5, size - 5);
  rs::frame_reader reader(limit);
  std::size_t at = 0, step = 0;
  while (at < rest.size()) {
    const std::size_t piece = std::min<std::size_t>(rest.size() - at, 1 + ((cut * (step + 1)) % 300));
    auto error = reader.feed(rest.substr(at, piece), [&](rs::frame_type t, std::string_view payload) {
      if (payload.size() > limit) std::abort();
      if (t != rs::frame_type::message && t != rs::frame_type::ping && t != rs::frame_type::pong) std::abort();
    });
    if (error) {
      if (!reader.failed()) std::abort();
      break;
    }
    if (reader.buffered() > limit + 4) std::abort();
    at += piece;
    ++step;
  }
  return 0;
}
