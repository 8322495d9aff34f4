// router/transport/websocket.hpp — the WebSocket protocol (RFC 6455) as the router's server side speaks it:
// the HTTP/1.1 opening handshake and the frame layer. Pure code: no sockets, no Asio, no clocks.
// The listener (websocket_listener.cpp) owns the connection and calls in here with the bytes it
// has read, as rawsocket_listener.cpp does with router/transport/rawsocket.hpp.
//
// Why not websocketpp (DESIGN.md §1 named it): the router reads every connection into one
// per-thread buffer and keeps no buffer for an idle one, unmasks in place, writes a frame header
// plus the encoded message straight into the connection's outgoing bytes, and coalesces all
// frames of a loop turn into one write. websocketpp allocates a message, a std::function and
// shared_ptr copies per frame and holds a read buffer per connection (docs/PERFORMANCE.md,
// "Our own WebSocket layer"). No extension is negotiated (permessage-deflate is refused by
// omission, as websocketpp did).
//
// Wire format of a frame (RFC 6455 §5.2), all integers big-endian:
//   FIN RSV1 RSV2 RSV3 opcode(4) | MASK len(7) | [len16 | len64] | [mask key(4)] | payload
//   len 126 → 16-bit length follows, 127 → 64-bit length follows (most significant bit 0).
//   Client → server frames are always masked; server → client frames never are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serializers/result.hpp"

namespace junction::websocket {

// ---- opening handshake (RFC 6455 §4.2) ---------------------------------------------------------

// The longest request head (request line + headers + blank line) a client may send; a longer one
// is answered 431 and closed.
inline constexpr std::size_t max_request_head = 8192;

// The length of the request head at the start of `buffer`, up to and including the blank line
// ("\r\n\r\n"), or 0 while it is incomplete.
[[nodiscard]] std::size_t head_length(std::string_view buffer) noexcept;

// An HTTP request as far as the router cares. Header names are matched case-insensitively;
// repeated headers that are lists (Connection, Upgrade, Sec-WebSocket-Protocol) are joined.
struct request {
  std::string method;   // "GET"
  std::string target;   // "/ws?x=1", as sent
  std::string version;  // "HTTP/1.1"
  std::string host;
  std::string origin;
  std::string key;                      // Sec-WebSocket-Key, trimmed
  std::string ws_version;               // Sec-WebSocket-Version, trimmed
  std::vector<std::string> protocols;   // Sec-WebSocket-Protocol tokens, in the client's order
  bool upgrade_websocket = false;       // Upgrade has the token "websocket" (any case)
  bool connection_upgrade = false;      // Connection has the token "upgrade" (any case)
  // What plain HTTP requests need (router/transport/http.hpp): the body's framing (values as sent;
  // empty: absent), keep-alive, and the headers the router's own routes read. Each at most once.
  std::string content_length;
  std::string transfer_encoding;
  std::string content_type;
  std::string authorization;
  std::string expect;
  std::string accept;                   // repeated Accept headers are joined with ", "
  std::string if_none_match;            // likewise
  bool connection_close = false;        // Connection has the token "close"
  bool connection_keep_alive = false;   // Connection has the token "keep-alive"

  // The target without its query ("/ws").
  [[nodiscard]] std::string_view path() const noexcept;
  // Upgrade: websocket and Connection: upgrade — the client asks for a WebSocket; anything else
  // is a plain HTTP request.
  [[nodiscard]] bool wants_upgrade() const noexcept { return upgrade_websocket && connection_upgrade; }
};

// Parses a complete request head (as found by head_length). Fails, with the reason for the log,
// on a malformed request line, a version other than HTTP/1.x, or a malformed header line.
[[nodiscard]] result<request> parse_request(std::string_view head);

// Why an upgrade request cannot be accepted, as an HTTP answer.
struct refusal {
  int status;          // 400, 426, ...
  std::string reason;  // for the log and the response body
};

// Checks what RFC 6455 §4.2.1 requires of a client's upgrade request (method GET, HTTP/1.1,
// Upgrade and Connection tokens, a Sec-WebSocket-Key that is the base64 of 16 bytes). A
// Sec-WebSocket-Version other than 13 is refused with 426 (the response must then carry
// "Sec-WebSocket-Version: 13", see http_response). nullopt: acceptable.
[[nodiscard]] std::optional<refusal> check_upgrade(const request& r);

// Sec-WebSocket-Accept for a client's key: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
[[nodiscard]] std::string accept_key(std::string_view client_key);

// "HTTP/1.1 101 Switching Protocols" with Upgrade, Connection, Sec-WebSocket-Accept and, when not
// empty, Sec-WebSocket-Protocol.
[[nodiscard]] std::string switching_protocols(std::string_view client_key, std::string_view subprotocol);

// A complete HTTP/1.1 response (text/plain unless told otherwise) with "Connection: close", or
// "Connection: keep-alive" when `keep_alive` (the connection reads the client's next request).
// A 304 has neither Content-Type nor Content-Length, and no body.
// `extra_headers` are whole lines, each ending in "\r\n" (e.g. "Sec-WebSocket-Version: 13\r\n").
// Headers the status requires are added when extra_headers lacks them: "Allow: GET" on 405,
// "Upgrade: websocket" on 426 (RFC 7231 §6.5.5, §6.5.15).
[[nodiscard]] std::string http_response(int status, std::string_view body,
                                        std::string_view extra_headers = {},
                                        std::string_view content_type = "text/plain; charset=utf-8",
                                        bool keep_alive = false);

// ---- frames (RFC 6455 §5) ------------------------------------------------------------------------

enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Close codes (RFC 6455 §7.4.1) the router sends.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t no_status = 1005;  // never sent: a close frame without a code
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
inline constexpr std::uint16_t try_again_later = 1013;
}  // namespace close_code

// The longest frame header the server writes (2 + 8 octets: unmasked).
inline constexpr std::size_t max_header_size = 10;

// Writes the header of an unmasked final frame with `length` payload octets into `out` (at least
// max_header_size octets); returns how many octets it wrote (2, 4 or 10).
std::size_t write_header(char* out, opcode op, std::uint64_t length) noexcept;
// Appends that header to `out`.
void append_header(std::string& out, opcode op, std::uint64_t length);
// Appends a whole close frame: the code, then the reason cut to fit the 125-octet control-frame
// limit (at most 123 octets, never inside a UTF-8 sequence).
void append_close(std::string& out, std::uint16_t code, std::string_view reason);

// Validates UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) across pieces:
// a sequence may be split between two feeds.
class utf8_validator {
 public:
  // false as soon as the bytes so far cannot start valid UTF-8; stays false.
  bool feed(std::string_view bytes) noexcept;
  // Everything fed is valid and no sequence is left open.
  [[nodiscard]] bool complete() const noexcept { return ok_ && need_ == 0; }
  void reset() noexcept { *this = utf8_validator{}; }

 private:
  bool ok_ = true;
  std::uint8_t need_ = 0;   // continuation octets still expected
  std::uint8_t lower_ = 0x80, upper_ = 0xBF;  // the allowed range of the next continuation octet
};

// Whether the peer may send this close code (RFC 6455 §7.4: 1000-1003, 1007-1014, 3000-4999).
[[nodiscard]] bool valid_close_code(std::uint16_t code) noexcept;

// A frame-level failure: the close code to send and what went wrong, for the log.
struct frame_error {
  std::uint16_t code;
  std::string text;
};

// What the frame reader hands over. Views are valid only during the call.
class frame_sink {
 public:
  virtual ~frame_sink() = default;
  // A complete data message (fragments joined): opcode text (valid UTF-8) or binary.
  virtual void on_message(opcode op, std::string_view payload) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  virtual void on_pong(std::string_view payload) = 0;
  // A close frame: its code (close_code::no_status when it had none) and reason (valid UTF-8).
  // The reader ignores every byte after it.
  virtual void on_close(std::uint16_t code, std::string_view reason) = 0;
};

// Cuts a client's byte stream into frames, unmasks them, joins fragmented messages and checks
// them: RSV bits 0 (no extension is negotiated), known opcodes, every frame masked, control
// frames final and at most 125 octets, continuation only inside a fragmented message and no new
// data message inside one, 64-bit lengths with the top bit clear, text valid UTF-8 (checked per
// fragment, so an invalid one fails before the message ends), close frames with no payload or a
// valid code and UTF-8 reason. A message longer than `max_message_size` fails with 1009 as soon
// as a header says so, before its payload is read.
//
// `feed` takes mutable bytes: a frame wholly inside one feed is unmasked in place and handed over
// as a view into them, without a copy (the common case). Only a frame split across feeds, or a
// fragmented message, is buffered, never beyond max_message_size (control frames: 125 octets).
//
// After an error, or after a close frame, the reader hands over nothing more: feed returns the
// same error (or nullopt after a close) and calls nothing. A sink that closes the connection may
// ignore what follows on its own.
class frame_reader {
 public:
  explicit frame_reader(std::size_t max_message_size) noexcept : max_message_(max_message_size) {}

  std::optional<frame_error> feed(char* data, std::size_t size, frame_sink& sink);

  [[nodiscard]] bool failed() const noexcept { return error_ != nullptr; }
  [[nodiscard]] bool closed() const noexcept { return closed_; }
  // Octets held for an incomplete frame or message (0 between messages).
  [[nodiscard]] std::size_t buffered() const noexcept;

 private:
  // The header's size once its first two octets are in (2 + extended length + 4 mask octets).
  [[nodiscard]] std::size_t header_size() const noexcept;
  // The first two octets are in: refuses what they alone rule out, before the rest arrives.
  std::optional<frame_error> check_first_octets();
  // The whole header is in: reads length and mask, checks the length against the limit.
  std::optional<frame_error> start_frame();
  // A whole ping, pong or close payload (unmasked).
  std::optional<frame_error> end_control(std::string_view payload, frame_sink& sink);
  // Appends to a buffer, growing it geometrically but never past `bound`.
  static void buffer(std::string& into, std::string_view part, std::size_t bound);
  // Sets the sticky error and frees the buffers.
  std::optional<frame_error> fail_frame(std::uint16_t code, std::string text);
  void release() noexcept;

  std::size_t max_message_;
  // The header being read: up to 14 octets (2 + 8 + 4).
  char header_[14] = {};
  std::size_t header_have_ = 0;
  bool in_payload_ = false;
  // The current frame.
  bool fin_ = false;
  opcode op_ = opcode::continuation;
  std::uint64_t length_ = 0;     // payload octets of the current frame
  std::uint64_t consumed_ = 0;   // of them, read so far
  unsigned char mask_[4] = {};
  // A fragmented (or split) data message being assembled, and its opcode.
  std::string message_;
  bool in_message_ = false;      // a non-final data frame started a message
  opcode message_op_ = opcode::binary;
  utf8_validator utf8_;
  // A control frame split across feeds (interleaves with a fragmented message).
  std::string control_;
  bool closed_ = false;
  std::unique_ptr<frame_error> error_;  // the first failure, kept (a pointer: 8 bytes per connection, not 48)
};

}  // namespace junction::websocket
