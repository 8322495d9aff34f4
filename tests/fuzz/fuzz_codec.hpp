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
// without a crash.
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
  return 0;
}

}  // namespace junction::fuzz
