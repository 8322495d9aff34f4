// Fuzz target: the RFC 6455 frame reader (router/transport/websocket.hpp: frame_reader) fed in
// pieces — fragmentation, control frames in between, UTF-8 split across fragments and feeds. The
// first input byte picks how the rest is cut into feeds. Checks what the reader promises: text
// messages are valid UTF-8, no message is longer than the limit, nothing after a close or an error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "router/transport/websocket.hpp"

namespace ws = junction::websocket;

namespace {

constexpr std::size_t limit = 4096;

struct sink final : ws::frame_sink {
  bool closed = false;
  void on_message(ws::opcode op, std::string_view payload) override {
    if (closed) std::abort();
    if (payload.size() > limit) std::abort();
    if (op == ws::opcode::text) {
      ws::utf8_validator v;
      if (!v.feed(payload) || !v.complete()) std::abort();
    } else if (op != ws::opcode::binary) {
      std::abort();
    }
  }
  void on_ping(std::string_view payload) override {
    if (closed || payload.size() > 125) std::abort();
  }
  void on_pong(std::string_view payload) override {
    if (closed || payload.size() > 125) std::abort();
  }
  void on_close(std::uint16_t code, std::string_view reason) override {
    if (closed) std::abort();
    closed = true;
    if (code != ws::close_code::no_status && !ws::valid_close_code(code)) std::abort();
    ws::utf8_validator v;
    if (!v.feed(reason) || !v.complete()) std::abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned cut = data[0];  // piece size pattern: 1 … 256, varying
  std::vector<char> bytes(data + 1, data + size);
  ws::frame_reader reader(limit);
  sink s;
  std::size_t at = 0, step = 0;
  while (at < bytes.size()) {
    const std::size_t piece = std::min<std::size_t>(bytes.size() - at, 1 + ((cut * (step + 1)) % 257));
    const auto error = reader.feed(bytes.data() + at, piece, s);
    if (error) {
      if (!reader.failed()) std::abort();
      // Failed readers stay failed and hand over nothing more.
      const auto again = reader.feed(bytes.data() + at, piece, s);
      if (!again || again->code != error->code) std::abort();
      break;
    }
    if (reader.buffered() > limit + 14) std::abort();  // header + one frame at most
    at += piece;
    ++step;
  }
  return 0;
}
