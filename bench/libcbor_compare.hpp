// bench/libcbor_compare.hpp — the same CBOR work done through libcbor (Debian libcbor-dev), for
// `junction-bench --scenario codec --serializer cbor`: the figures that justify our own codec
// (docs/PERFORMANCE.md, "CBOR"). Built only when meson finds libcbor.
#pragma once

#include <string>
#include <string_view>

#include "serializers/value.hpp"

namespace bench {

// cbor_load, then the item tree walked into a junction::value (what the router needs).
bool libcbor_decode(std::string_view bytes, junction::value& out);
// A junction::value built into libcbor items, then cbor_serialize_alloc.
void libcbor_encode(const junction::value& v, std::string& out);

}  // namespace bench
