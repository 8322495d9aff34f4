// serializers/utf8.hpp — strict UTF-8 validation: of every string of the binary formats (MessagePack
// str, CBOR text strings promise UTF-8; holding peers to it means anything we decode can be
// re-encoded as valid JSON for a JSON peer), and of a whole JSON message before it is parsed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace junction::detail {

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF): the
// offset of the first byte that breaks it, or n when all n bytes are well formed. ASCII runs go
// 8 bytes at a time (WAMP's JSON and URIs are nearly all ASCII).
inline std::size_t utf8_prefix(const char* s, std::size_t n) noexcept {
  const auto* const begin = reinterpret_cast<const unsigned char*>(s);
  const auto* p = begin;
  const auto* end = p + n;
  while (p < end) {
    while (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ULL) != 0) break;
      p += 8;
    }
    if (p == end) break;
    const auto* const at = p;
    const unsigned c = *p++;
    if (c < 0x80) continue;
    std::size_t more = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      more = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return static_cast<std::size_t>(at - begin);
    }
    if (static_cast<std::size_t>(end - p) < more || *p < lo || *p > hi) return static_cast<std::size_t>(at - begin);
    for (std::size_t i = 1; i < more; ++i)
      if ((p[i] & 0xC0) != 0x80) return static_cast<std::size_t>(at - begin);
    p += more;
  }
  return n;
}

inline bool valid_utf8(const char* s, std::size_t n) noexcept { return utf8_prefix(s, n) == n; }

}  // namespace junction::detail
