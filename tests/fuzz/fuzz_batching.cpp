// Fuzz target: the batched-subprotocol splitters (router/transport/batching.hpp), both modes, and
// append → split round trips of what they found.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "router/transport/batching.hpp"

namespace b = junction::batching;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  for (b::mode m : {b::mode::json, b::mode::length_prefixed, b::mode::none}) {
    std::vector<std::string> parts;
    std::size_t total = 0;
    const auto error = b::split(m, frame, [&](std::string_view part) {
      if (part.size() > frame.size()) std::abort();
      total += part.size();
      parts.emplace_back(part);
    });
    if (total > frame.size()) std::abort();
    if (error || m == b::mode::none) continue;
    // What was split joins back and splits into the same messages (JSON: messages that hold no
    // separator, which is what a JSON text is).
    std::string joined;
    for (const std::string& p : parts) b::append(m, joined, [&](std::string& o) { o += p; });
    std::vector<std::string> back;
    if (b::split(m, joined, [&](std::string_view part) { back.emplace_back(part); })) std::abort();
    if (back != parts) std::abort();
  }
  return 0;
}
