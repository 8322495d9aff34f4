// tests/fuzz/fuzz_codec.hpp — the body of the three decoder targets (fuzz_json, fuzz_msgpack,
// fuzz_cbor): bytes → message model, and the properties a decoder owes the router.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "serializers/codec.hpp"

namespace junction::fuzz {

// Decode as a message and as a plain value. Whatever decodes re-encodes, and the re-encoding is a
// fixed point (decode(encode(x)) encodes to the same bytes); it also crosses to every other codec
// without a crash. decode_routed (payload pass-through) is checked against decode: it accepts
// and refuses the same inputs with the same words, and what it keeps raw encodes — spliced or
// transcoded, and materialized — as the full decode does (up to the spelling of JSON numbers and
// strings inside a spliced payload, which pass through unchanged: compared after a round trip).
inline int decode_one(const codec& c, const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto v = c.decode_value(input)) {
    std::string once;
    c.encode_value(*v, once);
    auto again = c.decode_value(once);
    if (!again) std::abort();
    std::string twice;
    c.encode_value(*again, twice);
    if (once != twice) std::abort();
    for (const codec* other : {&json_codec(), &msgpack_codec(), &cbor_codec()}) {
      std::string bytes;
      other->encode_value(*v, bytes);
      (void)other->decode_value(bytes);
    }
  }
  if (auto m = c.decode(input)) {
    std::string once;
    c.encode(*m, once);
    auto again = c.decode(once);
    if (!again) std::abort();
    std::string twice;
    c.encode(*again, twice);
    if (once != twice) std::abort();
    if (type_of(*again) != type_of(*m)) std::abort();
  }
  const auto full = c.decode(input);
  const auto routed = c.decode_routed(input);
  if (bool(full) != bool(routed)) std::abort();
  if (!full) {
    if (full.error().message != routed.error().message) std::abort();
    return 0;
  }
  for (const codec* other : {&json_codec(), &msgpack_codec(), &cbor_codec()}) {
    std::string a, b;
    other->encode(*full, a);
    other->encode(*routed, b);
    if (other->kind() != c.kind() && a != b) std::abort();  // transcoded: exactly the full decode's
    if (other->kind() == c.kind()) {  // spliced: the same message once decoded again
      auto again = other->decode(b);
      if (!again) std::abort();
      std::string normal;
      other->encode(*again, normal);
      if (normal != a) std::abort();
    }
  }
  message copy = *routed;
  if (!materialize(copy)) std::abort();
  std::string a, b;
  c.encode(*full, a);
  c.encode(copy, b);
  if (a != b) std::abort();
  return 0;
}

}  // namespace junction::fuzz
