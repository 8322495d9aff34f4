// serializers/codec.hpp — the codec interface and registry (`wamp.2.json` → JSON codec, …).
//
// A codec turns one transport message (a WebSocket frame, later a RawSocket frame) into a
// `message` and back. It never touches sockets. Decoding validates the shape of the message
// against the traits table (from_array); semantic checks (session state, URIs) belong to the
// session and realm.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "serializers/message.hpp"
#include "serializers/result.hpp"
#include "serializers/value.hpp"

namespace junction {

class codec {
 public:
  virtual ~codec() = default;

  [[nodiscard]] virtual serializer kind() const noexcept = 0;
  // The WebSocket subprotocol, e.g. "wamp.2.json".
  [[nodiscard]] virtual std::string_view subprotocol() const noexcept = 0;
  // JSON travels in text frames, MessagePack and CBOR in binary frames.
  [[nodiscard]] virtual bool binary_frames() const noexcept = 0;

  // Decodes and shape-checks one message. The failure text names the problem.
  [[nodiscard]] virtual result<message> decode(std::string_view bytes) const = 0;
  // The same for a message the router routes: the Arguments/ArgumentsKw of CALL, YIELD, PUBLISH
  // and ERROR stay the bytes they came in (raw_payload, checked as decode() checks them, never
  // built into values) where the format supports it (JSON, MessagePack); else as decode().
  // Accepts and refuses exactly what decode() does, with the same failure text.
  [[nodiscard]] virtual result<message> decode_routed(std::string_view bytes) const = 0;
  // Appends the encoding of `m` to `out`.
  virtual void encode(const message& m, std::string& out) const = 0;

  // Plain values, for tests and tools.
  [[nodiscard]] virtual result<value> decode_value(std::string_view bytes) const = 0;
  virtual void encode_value(const value& v, std::string& out) const = 0;
};

const codec& json_codec() noexcept;
const codec& msgpack_codec() noexcept;
const codec& cbor_codec() noexcept;
const codec& codec_for(serializer s) noexcept;
// nullptr when `subprotocol` is not one we speak.
const codec* find_codec_by_subprotocol(std::string_view subprotocol) noexcept;

// Gives the buffers of m's own string fields (a CALL's procedure, a PUBLISH's topic, an ERROR's
// URI, …) back to this thread's decoders, which copy the next message's strings into them
// (detail::decoded_string): once the realm is done with a message (it copies what it keeps), a
// routed call's URI costs no allocation however long it is. The session calls it after routing.
void recycle_strings(message& m) noexcept;

namespace detail {
// A decoded string of n bytes: in a recycled buffer when one of this thread's fits, else new.
std::string decoded_string(const char* s, std::size_t n);
}  // namespace detail

// Decodes a raw payload into args/kwargs and clears it (nothing to do without one). false: the
// bytes do not decode — never for a payload decode_routed accepted.
bool materialize(raw_payload& raw, array& args, object& kwargs);
// The same for a message: where the router itself reads Arguments/ArgumentsKw (meta procedures,
// answers to its own calls), it materializes first.
template <class M>
bool materialize(M& m) {
  if constexpr (has_raw_payload<M>::value) {
    return materialize(m.raw, m.args, m.kwargs);
  } else {
    return true;
  }
}
bool materialize(message& m);

namespace detail {

// What one serialization format supplies (json_codec.cpp, msgpack_codec.cpp, cbor_codec.cpp); codec.cpp wraps
// each in a `codec` and keeps the steps both share (empty input, top-level array, from_array).
struct codec_format {
  serializer kind;
  std::string_view subprotocol;
  bool binary_frames;
  result<value> (*decode_value)(std::string_view bytes);
  void (*encode_value)(const value& v, std::string& out);
  void (*encode_message)(const message& m, std::string& out);  // via write_message
  result<message> (*decode_routed)(std::string_view bytes);    // nullptr: decode_value + from_array
};

// For the formats' decode_routed: where the Arguments of a message whose payload passes through
// sit (CALL, YIELD, PUBLISH, ERROR; 0 for every other type), the full decode of a decoded value,
// and a raw payload given to a decoded message.
std::size_t routed_payload_index(std::uint64_t code) noexcept;
result<message> message_from(result<value> decoded);
void set_raw_payload(message& m, std::string_view bytes, std::size_t count, serializer kind);

// A raw payload decoded into args/kwargs (it stays as it is): the writers transcode with it.
bool decode_raw(const raw_payload& raw, array& args, object& kwargs);

// What a Writer does with a raw payload of another format: decoded, then written as values.
template <class Writer>
void write_transcoded(Writer& w, const raw_payload& raw) {
  array args;
  object kwargs;
  (void)decode_raw(raw, args, kwargs);  // accepted by decode_routed: it decodes
  w(args);
  if (raw.count > 1) w(kwargs);
}
extern const codec_format json_format;
extern const codec_format msgpack_format;
extern const codec_format cbor_format;

// A format from its decoder and its Writer (the write_value/write_message event sink): the
// encoders are the same two generic walks for every format.
template <class Writer>
constexpr codec_format make_codec_format(serializer kind, std::string_view subprotocol,
                                         bool binary_frames,
                                         result<value> (*decode)(std::string_view),
                                         result<message> (*decode_routed)(std::string_view) = nullptr) noexcept {
  return {kind,
          subprotocol,
          binary_frames,
          decode,
          [](const value& v, std::string& out) {
            Writer w(out);
            write_value(w, v);
          },
          [](const message& m, std::string& out) {
            Writer w(out);
            write_message(w, m);
          },
          decode_routed};
}

// Containers nested deeper than this (the message's own array counts as 1) are refused by every
// decoder: recursion and allocation stay bounded whatever a peer sends.
inline constexpr std::size_t max_nesting_depth = 64;

}  // namespace detail

}  // namespace junction
