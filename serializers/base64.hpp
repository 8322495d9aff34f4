// serializers/base64.hpp — RFC 4648 §4 base64 (standard alphabet, '=' padding), for the JSON
// binary convention: a byte string travels as "\u0000" + base64 (spec
// advanced/serialization_binary_json, reference/wamp-protocol.md §1.6).
#pragma once

#include <string>
#include <string_view>

#include "serializers/result.hpp"

namespace junction {

// Appends the padded encoding of `bytes` to `out` (the JSON encoder appends after its "\0").
void base64_encode(std::string_view bytes, std::string& out);
std::string base64_encode(std::string_view bytes);

// Padded input only, no whitespace, nothing outside the alphabet: the convention is machine to
// machine, so anything else is a broken peer. The failure text names the problem.
result<std::string> base64_decode(std::string_view text);

}  // namespace junction
