// router/transport/batching.hpp — the batched WebSocket subprotocols (spec advanced
// transport_batched_websocket; reference §3.1): several WAMP messages in one WebSocket message.
//   wamp.2.json.batched     each message followed by the separator 0x1E; Autobahn|Python uses
//                           0x18, so both are accepted on input (JSON text never contains either
//                           raw: control characters inside strings are escaped)
//   wamp.2.msgpack.batched, wamp.2.cbor.batched
//                           each message prefixed by its 4-byte big-endian length
// Pure code, no sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace junction::batching {

// json: separator-terminated; length_prefixed: MessagePack and CBOR.
enum class mode : std::uint8_t { none, json, length_prefixed };

inline constexpr char json_separator = '\x1e';
inline constexpr char json_separator_autobahn = '\x18';

// The separator a JSON batch uses (the first one in it), or 0 if it has none.
inline char separator_of(std::string_view frame) noexcept {
  const std::size_t at = frame.find_first_of("\x1e\x18");
  return at == std::string_view::npos ? '\0' : frame[at];
}

// Calls on_message(std::string_view) for each message of a transport message. A failure text
// means the batch is malformed (a truncated length prefix or body); messages before it were
// delivered.
template <class OnMessage>
std::optional<std::string> split(mode m, std::string_view frame, OnMessage&& on_message) {
  if (m == mode::none) {
    on_message(frame);
    return std::nullopt;
  }
  if (m == mode::json) {
    while (!frame.empty()) {
      const std::size_t end = frame.find_first_of("\x1e\x18");
      if (end == std::string_view::npos) {  // a last message without its separator: lenient
        on_message(frame);
        break;
      }
      if (end != 0) on_message(frame.substr(0, end));
      frame.remove_prefix(end + 1);
    }
    return std::nullopt;
  }
  while (!frame.empty()) {
    if (frame.size() < 4)
      return "batched binary messages: " + std::to_string(frame.size()) +
             " bytes left, too few for a length prefix";
    const auto* p = reinterpret_cast<const unsigned char*>(frame.data());
    const std::size_t length = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                               (std::size_t{p[2]} << 8) | std::size_t{p[3]};
    if (frame.size() - 4 < length)
      return "batched binary messages: a message of " + std::to_string(length) + " bytes but only " +
             std::to_string(frame.size() - 4) + " follow";
    on_message(frame.substr(4, length));
    frame.remove_prefix(4 + length);
  }
  return std::nullopt;
}

// Appends one message to `out` in mode `m`; encode(std::string&) appends the message itself.
// JSON batches end each message with `separator`: the spec's 0x1E, or 0x18 for a client that
// uses it (Autobahn|Python splits on 0x18 only, and drops what follows the last one).
template <class Encode>
void append(mode m, std::string& out, Encode&& encode, char separator = json_separator) {
  if (m == mode::length_prefixed) {
    const std::size_t at = out.size();
    out.append(4, '\0');
    encode(out);
    const std::size_t length = out.size() - at - 4;
    for (int i = 0; i < 4; ++i)
      out[at + static_cast<std::size_t>(i)] = static_cast<char>((length >> (24 - 8 * i)) & 0xff);
    return;
  }
  encode(out);
  if (m == mode::json) out.push_back(separator);
}

}  // namespace junction::batching
