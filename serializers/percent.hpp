// serializers/percent.hpp — percent-decoding (RFC 3986 §2.1), for URL paths and query strings
// (the static files' paths, the HTTP bridge's query parameters).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace junction {

// What a '%' not followed by two hex digits does: stays as it is, or fails the whole decoding.
enum class bad_escape { keep, fail };

// `in` decoded once; `plus_is_space`: '+' stands for a space (query strings).
inline std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space, bad_escape bad) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else if (i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
    } else if (bad == bad_escape::fail) {
      return std::nullopt;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace junction
