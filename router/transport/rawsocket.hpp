// router/transport/rawsocket.hpp — the RawSocket codec (spec advanced/transport_rawsocket.md; reference
// wamp-protocol.md §3.2): the 4-octet opening handshake and the 4-octet frame headers, with a
// streaming frame reader. Pure code: no sockets, no Asio, no clocks. The listener
// (rawsocket_listener.*) owns the connection and calls in here with the bytes it has read.
//
// All integers on the wire are big-endian.
//
//   handshake (both ways)  0111 1111 | LLLL SSSS | 0000 0000 | 0000 0000
//       L: the sender's receive limit, 2^(9+L) octets (512 B … 16 MiB); S: serializer
//   error reply            0111 1111 | EEEE 0000 | 0000 0000 | 0000 0000
//   frame header           RRRR XTTT | 24-bit payload length
//       T: 0 WAMP message, 1 PING, 2 PONG, 3-7 reserved; R: reserved (0);
//       X: a 25th length bit, set only for a payload of exactly 16 MiB (the 24 bits then zero)
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "serializers/codec.hpp"
#include "serializers/result.hpp"

namespace junction::rawsocket {

inline constexpr std::uint8_t magic = 0x7F;
inline constexpr std::size_t handshake_size = 4;
inline constexpr std::size_t header_size = 4;
// Limits a handshake can express: 2^9 … 2^24. The ceiling holds whatever a config file asks for
// (wamp-protocol.md §5 item 14): a larger limit cannot be said on the wire.
inline constexpr std::size_t min_message_length = std::size_t{1} << 9;
inline constexpr std::size_t max_message_length = std::size_t{1} << 24;
inline constexpr std::uint32_t max_exponent = 15;

// ---- handshake --------------------------------------------------------------------------------

// The error codes of a handshake error reply (the high nibble of its second octet).
enum class handshake_error : std::uint8_t {
  illegal = 0,  // never sent (spec: 0 means "no error" to implementations)
  serializer_unsupported = 1,
  max_length_unacceptable = 2,
  reserved_bits_used = 3,
  max_connections = 4,
};

// "serializer unsupported", … — for logs.
[[nodiscard]] std::string_view describe(handshake_error e) noexcept;

// What an accepted client asked for.
struct client_hello {
  serializer ser;
  // The longest message the client accepts, i.e. the longest the router may send it (512 … 2^24).
  std::uint32_t max_length;
};

// The length a LENGTH nibble stands for: 2^(9+exponent). Precondition: exponent <= 15.
[[nodiscard]] std::size_t length_for(std::uint32_t exponent) noexcept;
// The largest exponent L with 2^(9+L) <= limit, clamped to 0..15. A limit below 512 gives 0: the
// wire cannot say less, so the caller still enforces its own smaller limit.
[[nodiscard]] std::uint32_t exponent_for(std::size_t limit) noexcept;

// Reads a client's 4 handshake octets. On success: the serializer and the client's limit. On
// failure: the text says why, for the log, and `reply_with` says how to answer —
//   an error code: send handshake_error_reply(*reply_with), then close;
//   nullopt: the first octet is not 0x7F, so this is not RawSocket at all: close without a reply.
// Checked in this order: magic, reserved octets (reserved_bits_used), serializer (only 1 JSON and
// 2 MessagePack are spoken; 0 is illegal; all → serializer_unsupported). Every LENGTH is fine.
[[nodiscard]] result<client_hello> parse_handshake(const std::array<std::uint8_t, 4>& request,
                                                   std::optional<handshake_error>& reply_with);

// The router's success reply: the client's serializer echoed and the router's own receive limit,
// as exponent_for(router_max_length). A client's request has the same shape, so tests and tools
// build one with this too.
[[nodiscard]] std::array<std::uint8_t, 4> handshake_reply(serializer ser,
                                                          std::size_t router_max_length) noexcept;
// 0x7F, code << 4, 0, 0.
[[nodiscard]] std::array<std::uint8_t, 4> handshake_error_reply(handshake_error e) noexcept;

// ---- frames -----------------------------------------------------------------------------------

enum class frame_type : std::uint8_t { message = 0, ping = 1, pong = 2 };

// The header of a frame with `length` payload octets. Precondition: length <= 2^24 (2^24 itself
// is sent with the X bit).
[[nodiscard]] std::array<std::uint8_t, 4> frame_header(frame_type t, std::size_t length) noexcept;
// Appends header and payload to `out`. Precondition: payload.size() <= 2^24.
void append_frame(std::string& out, frame_type t, std::string_view payload);

struct frame_info {
  frame_type type;
  std::size_t length;  // payload octets, without the header
};

// Reads one frame header and checks it against the receive limit `max_length` (the router's
// own). The failure text names the problem in an operator's words: reserved bits, a reserved
// type, a length over the limit.
[[nodiscard]] result<frame_info> parse_frame_header(const std::array<std::uint8_t, 4>& header,
                                                    std::size_t max_length);

// Cuts a byte stream into frames. Bytes go in as they arrive, in pieces of any size; each
// complete frame goes to the sink as (frame_type, std::string_view payload). A payload that lies
// wholly inside one feed is a view into that input; only a frame split across feeds is buffered,
// and never more than its header announced (at most max_length + 4 octets). A header over the
// limit is refused as soon as its 4 octets are in, before any payload is read.
//
// The payload view is valid only during the call. The sink must not destroy the reader; a caller
// that closes the connection from inside the sink should ignore the frames that follow in the
// same feed.
class frame_reader {
 public:
  explicit frame_reader(std::size_t max_length) noexcept : max_length_(max_length) {}

  // nullopt while the stream is valid; otherwise why it is not (then fail the connection). After
  // an error the reader stays failed: later feeds return the same text and call nothing.
  template <class Sink>
  std::optional<std::string> feed(std::string_view bytes, Sink&& on_frame);

  [[nodiscard]] bool failed() const noexcept { return error_.has_value(); }
  // Octets held of an incomplete frame (header and payload).
  [[nodiscard]] std::size_t buffered() const noexcept {
    return in_payload_ ? header_size + payload_.size() : header_have_;
  }

 private:
  // A whole header is in header_: checks it and starts its payload (false: error_ is set).
  bool start_frame();
  void buffer_payload(std::string_view part);
  void end_buffered_frame() noexcept;

  std::size_t max_length_;
  std::array<std::uint8_t, 4> header_{};
  std::size_t header_have_ = 0;
  bool in_payload_ = false;
  frame_info current_{frame_type::message, 0};
  std::string payload_;  // the part of a split payload received so far
  std::optional<std::string> error_;
};

template <class Sink>
std::optional<std::string> frame_reader::feed(std::string_view bytes, Sink&& on_frame) {
  if (error_) return error_;
  while (!bytes.empty()) {
    if (!in_payload_) {
      const std::size_t take = std::min(header_size - header_have_, bytes.size());
      std::memcpy(header_.data() + header_have_, bytes.data(), take);
      header_have_ += take;
      bytes.remove_prefix(take);
      if (header_have_ < header_size) break;
      if (!start_frame()) return error_;
    }
    if (payload_.empty() && bytes.size() >= current_.length) {
      // The whole payload is in this input (the common case): no copy.
      const std::string_view payload = bytes.substr(0, current_.length);
      bytes.remove_prefix(current_.length);
      in_payload_ = false;
      on_frame(current_.type, payload);
      continue;
    }
    const std::size_t take = std::min(current_.length - payload_.size(), bytes.size());
    buffer_payload(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (payload_.size() < current_.length) break;
    in_payload_ = false;
    on_frame(current_.type, std::string_view(payload_));
    end_buffered_frame();
  }
  return std::nullopt;
}

}  // namespace junction::rawsocket
