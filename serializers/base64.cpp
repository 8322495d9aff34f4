// serializers/base64.cpp — RFC 4648 §4 base64.
#include "serializers/base64.hpp"

#include <array>
#include <cstdint>

namespace junction {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t invalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> t{};
  for (auto& x : t) x = invalid;
  for (std::uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
  return t;
}
constexpr std::array<std::uint8_t, 256> decode_table = make_decode_table();

}  // namespace

void base64_encode(std::string_view bytes, std::string& out) {
  out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto byte = [&bytes](std::size_t k) -> std::uint32_t {
    return static_cast<unsigned char>(bytes[k]);
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    out += alphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return;
  const std::uint32_t n = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
  out += alphabet[n >> 18 & 63];
  out += alphabet[n >> 12 & 63];
  out += rest == 2 ? alphabet[n >> 6 & 63] : '=';
  out += '=';
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  base64_encode(bytes, out);
  return out;
}

result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return fail("base64 length is not a multiple of 4");
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  const std::size_t data_chars = text.size() - padding;
  std::uint32_t acc = 0;
  for (std::size_t i = 0; i < data_chars; ++i) {
    const std::uint8_t d = decode_table[static_cast<unsigned char>(text[i])];
    if (d == invalid) return fail("invalid base64 character at offset " + std::to_string(i));
    acc = acc << 6 | d;
    if (i % 4 == 3) {
      out += static_cast<char>(acc >> 16 & 0xff);
      out += static_cast<char>(acc >> 8 & 0xff);
      out += static_cast<char>(acc & 0xff);
      acc = 0;
    }
  }
  // Non-zero bits left over before the padding are tolerated (RFC 4648 §3.5 lets decoders
  // choose): Python's and browsers' decoders accept them, so rejecting would only hurt interop.
  if (padding == 2) {
    out += static_cast<char>(acc >> 4 & 0xff);
  } else if (padding == 1) {
    out += static_cast<char>(acc >> 10 & 0xff);
    out += static_cast<char>(acc >> 2 & 0xff);
  }
  return out;
}

}  // namespace junction
