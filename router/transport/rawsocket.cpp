// router/transport/rawsocket.cpp — RawSocket handshake and frame headers (see rawsocket.hpp).
#include "router/transport/rawsocket.hpp"

#include <cassert>

namespace junction::rawsocket {

namespace {

constexpr std::uint8_t type_bits = 0x07;      // TTT
constexpr std::uint8_t x_bit = 0x08;          // the 25th length bit
constexpr std::uint8_t reserved_bits = 0xF0;  // RRRR

std::string hex_octet(std::uint8_t b) {
  static constexpr char digits[] = "0123456789ABCDEF";
  return std::string("0x") + digits[b >> 4] + digits[b & 0x0F];
}

// Serializer ids on the wire (spec: 0 illegal, 1 JSON, 2 MessagePack, 3 CBOR, 4 UBJSON,
// 5 FlatBuffers, 6-15 reserved). Ours are the first three: the wire id is serializer index + 1.
std::string_view serializer_name(unsigned id) noexcept {
  switch (id) {
    case 0:
      return "illegal";
    case 1:
      return "JSON";
    case 2:
      return "MessagePack";
    case 3:
      return "CBOR";
    case 4:
      return "UBJSON";
    case 5:
      return "FlatBuffers";
    default:
      return "reserved";
  }
}

}  // namespace

std::string_view describe(handshake_error e) noexcept {
  switch (e) {
    case handshake_error::illegal:
      return "illegal (no error)";
    case handshake_error::serializer_unsupported:
      return "serializer unsupported";
    case handshake_error::max_length_unacceptable:
      return "maximum message length unacceptable";
    case handshake_error::reserved_bits_used:
      return "use of reserved bits";
    case handshake_error::max_connections:
      return "maximum connection count reached";
  }
  return "unknown handshake error";
}

std::size_t length_for(std::uint32_t exponent) noexcept {
  assert(exponent <= max_exponent);
  return std::size_t{1} << (9 + exponent);
}

std::uint32_t exponent_for(std::size_t limit) noexcept {
  std::uint32_t e = 0;
  while (e < max_exponent && length_for(e + 1) <= limit) ++e;
  return e;
}

result<client_hello> parse_handshake(const std::array<std::uint8_t, 4>& request,
                                     std::optional<handshake_error>& reply_with) {
  reply_with.reset();
  if (request[0] != magic) {
    return fail("not a RawSocket handshake: first octet is " + hex_octet(request[0]) +
                ", not 0x7F");
  }
  if (request[2] != 0 || request[3] != 0) {
    reply_with = handshake_error::reserved_bits_used;
    return fail("RawSocket handshake sets its reserved octets 3-4 (" + hex_octet(request[2]) + " " +
                hex_octet(request[3]) + "), which must be zero");
  }
  const unsigned ser = request[1] & 0x0F;
  if (ser < 1 || ser > serializer_count) {
    reply_with = handshake_error::serializer_unsupported;
    return fail("RawSocket handshake asks for serializer " + std::to_string(ser) + " (" +
                std::string(serializer_name(ser)) +
                "); Junction speaks 1 (JSON), 2 (MessagePack) and 3 (CBOR)");
  }
  const auto length = static_cast<std::uint32_t>(length_for(request[1] >> 4));
  return client_hello{static_cast<serializer>(ser - 1), length};
}

std::array<std::uint8_t, 4> handshake_reply(serializer ser,
                                            std::size_t router_max_length) noexcept {
  const auto id = static_cast<std::uint8_t>(static_cast<unsigned>(ser) + 1);
  const auto exponent = static_cast<std::uint8_t>(exponent_for(router_max_length));
  return {magic, static_cast<std::uint8_t>(exponent << 4 | id), 0, 0};
}

std::array<std::uint8_t, 4> handshake_error_reply(handshake_error e) noexcept {
  return {magic, static_cast<std::uint8_t>(static_cast<unsigned>(e) << 4), 0, 0};
}

std::array<std::uint8_t, 4> frame_header(frame_type t, std::size_t length) noexcept {
  assert(length <= max_message_length);
  auto first = static_cast<std::uint8_t>(t);
  if (length == max_message_length) first |= x_bit;  // the 24 length bits are then all zero
  return {first, static_cast<std::uint8_t>(length >> 16 & 0xFF),
          static_cast<std::uint8_t>(length >> 8 & 0xFF), static_cast<std::uint8_t>(length & 0xFF)};
}

void append_frame(std::string& out, frame_type t, std::string_view payload) {
  const auto h = frame_header(t, payload.size());
  out.reserve(out.size() + header_size + payload.size());
  out.append(reinterpret_cast<const char*>(h.data()), h.size());
  out.append(payload);
}

result<frame_info> parse_frame_header(const std::array<std::uint8_t, 4>& header,
                                      std::size_t max_length) {
  const std::uint8_t first = header[0];
  if (first & reserved_bits) {
    return fail("reserved bits set in RawSocket frame header (first octet " + hex_octet(first) +
                ")");
  }
  const unsigned type = first & type_bits;
  if (type > static_cast<unsigned>(frame_type::pong)) {
    return fail("RawSocket frame uses reserved type " + std::to_string(type));
  }
  std::size_t length = std::size_t{header[1]} << 16 | std::size_t{header[2]} << 8 | header[3];
  if (first & x_bit) {
    if (length != 0) {
      return fail("RawSocket frame header sets the 16 MiB length bit together with a length of " +
                  std::to_string(length));
    }
    length = max_message_length;
  }
  if (length > max_length) {
    return fail("RawSocket frame of " + std::to_string(length) +
                " bytes exceeds the negotiated maximum of " + std::to_string(max_length));
  }
  return frame_info{static_cast<frame_type>(type), length};
}

bool frame_reader::start_frame() {
  header_have_ = 0;
  auto info = parse_frame_header(header_, max_length_);
  if (!info) {
    error_ = info.error().message;
    return false;
  }
  current_ = *info;
  in_payload_ = true;
  return true;
}

void frame_reader::buffer_payload(std::string_view part) {
  // Grow geometrically, but never past what the header announced: a peer that announces 16 MiB
  // and sends a trickle costs about what it has sent, and capacity stays within max_length.
  const std::size_t need = payload_.size() + part.size();
  if (need > payload_.capacity()) {
    payload_.reserve(std::min(current_.length, std::max(need, 2 * payload_.capacity())));
  }
  payload_.append(part);
}

void frame_reader::end_buffered_frame() noexcept {
  // Keep a small buffer for the next split frame; give a large one back, so that one big message
  // does not pin its size for the rest of the connection.
  constexpr std::size_t keep = 64 * 1024;
  if (payload_.capacity() > keep) {
    std::string().swap(payload_);
  } else {
    payload_.clear();
  }
}

}  // namespace junction::rawsocket
