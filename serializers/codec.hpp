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

// Index into per-serializer caches (see shared_frame); also the RawSocket serializer id - 1.
enum class serializer : std::uint8_t { json = 0, msgpack = 1, cbor = 2 };
inline constexpr std::size_t serializer_count = 3;

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
};
extern const codec_format json_format;
extern const codec_format msgpack_format;
extern const codec_format cbor_format;

// A format from its decoder and its Writer (the write_value/write_message event sink): the
// encoders are the same two generic walks for every format.
template <class Writer>
constexpr codec_format make_codec_format(serializer kind, std::string_view subprotocol,
                                         bool binary_frames,
                                         result<value> (*decode)(std::string_view)) noexcept {
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
          }};
}

// Containers nested deeper than this (the message's own array counts as 1) are refused by every
// decoder: recursion and allocation stay bounded whatever a peer sends.
inline constexpr std::size_t max_nesting_depth = 64;

}  // namespace detail

}  // namespace junction
