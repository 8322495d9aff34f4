#include "bench/libcbor_compare.hpp"

#include <cbor.h>

#include <cstdlib>
#include <type_traits>
#include <variant>

namespace bench {
namespace {

bool convert(const cbor_item_t* item, junction::value& out) {
  switch (cbor_typeof(item)) {
    case CBOR_TYPE_UINT: out = junction::value{static_cast<std::uint64_t>(cbor_get_int(item))}; return true;
    case CBOR_TYPE_NEGINT: out = junction::value{-1 - static_cast<std::int64_t>(cbor_get_int(item))}; return true;
    case CBOR_TYPE_BYTESTRING:
      if (!cbor_bytestring_is_definite(item)) return false;
      out = junction::value{junction::binary{std::string(reinterpret_cast<const char*>(cbor_bytestring_handle(item)),
                                                         cbor_bytestring_length(item))}};
      return true;
    case CBOR_TYPE_STRING:
      if (!cbor_string_is_definite(item)) return false;
      out = junction::value{std::string(reinterpret_cast<const char*>(cbor_string_handle(item)), cbor_string_length(item))};
      return true;
    case CBOR_TYPE_ARRAY: {
      junction::array a(cbor_array_size(item));
      cbor_item_t** h = cbor_array_handle(item);
      for (std::size_t i = 0; i < a.size(); ++i)
        if (!convert(h[i], a[i])) return false;
      out = junction::value{std::move(a)};
      return true;
    }
    case CBOR_TYPE_MAP: {
      junction::object o;
      o.reserve(cbor_map_size(item));
      cbor_pair* h = cbor_map_handle(item);
      for (std::size_t i = 0; i < cbor_map_size(item); ++i) {
        if (!cbor_isa_string(h[i].key)) return false;
        junction::value v;
        if (!convert(h[i].value, v)) return false;
        o.push_back(std::string(reinterpret_cast<const char*>(cbor_string_handle(h[i].key)), cbor_string_length(h[i].key)),
                    std::move(v));
      }
      out = junction::value{std::move(o)};
      return true;
    }
    case CBOR_TYPE_FLOAT_CTRL:
      if (cbor_float_ctrl_is_ctrl(item)) {
        if (cbor_is_null(item)) out = junction::value{};
        else if (cbor_is_bool(item)) out = junction::value{cbor_get_bool(item)};
        else return false;
        return true;
      }
      out = junction::value{cbor_float_get_float(item)};
      return true;
    default: return false;
  }
}

// The smallest width, as our encoder (and RFC 8949's preferred serialization) writes it.
cbor_item_t* uint_item(std::uint64_t u) {
  if (u <= 0xff) return cbor_build_uint8(static_cast<std::uint8_t>(u));
  if (u <= 0xffff) return cbor_build_uint16(static_cast<std::uint16_t>(u));
  if (u <= 0xffffffffULL) return cbor_build_uint32(static_cast<std::uint32_t>(u));
  return cbor_build_uint64(u);
}

cbor_item_t* build(const junction::value& v) {
  return std::visit(
      [](const auto& x) -> cbor_item_t* {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, junction::null_t>) {
          return cbor_new_null();
        } else if constexpr (std::is_same_v<T, bool>) {
          return cbor_build_bool(x);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          if (x >= 0) return uint_item(static_cast<std::uint64_t>(x));
          cbor_item_t* n = uint_item(static_cast<std::uint64_t>(-1 - x));
          cbor_mark_negint(n);
          return n;
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          return uint_item(x);
        } else if constexpr (std::is_same_v<T, double>) {
          return cbor_build_float8(x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return cbor_build_stringn(x.data(), x.size());
        } else if constexpr (std::is_same_v<T, junction::binary>) {
          return cbor_build_bytestring(reinterpret_cast<cbor_data>(x.bytes.data()), x.bytes.size());
        } else if constexpr (std::is_same_v<T, junction::array>) {
          cbor_item_t* a = cbor_new_definite_array(x.size());
          for (const junction::value& e : x) {
            cbor_item_t* item = build(e);
            cbor_array_push(a, item);
            cbor_decref(&item);
          }
          return a;
        } else {
          cbor_item_t* m = cbor_new_definite_map(x.size());
          for (const auto& [k, e] : x) {
            cbor_item_t* key = cbor_build_stringn(k.data(), k.size());
            cbor_item_t* val = build(e);
            cbor_map_add(m, cbor_pair{cbor_move(key), cbor_move(val)});
          }
          return m;
        }
      },
      v.get());
}

}  // namespace

bool libcbor_decode(std::string_view bytes, junction::value& out) {
  cbor_load_result r;
  cbor_item_t* item = cbor_load(reinterpret_cast<cbor_data>(bytes.data()), bytes.size(), &r);
  if (item == nullptr) return false;
  const bool ok = r.read == bytes.size() && convert(item, out);
  cbor_decref(&item);
  return ok;
}

void libcbor_encode(const junction::value& v, std::string& out) {
  cbor_item_t* item = build(v);
  unsigned char* buffer = nullptr;
  std::size_t size = 0;
  const std::size_t n = cbor_serialize_alloc(item, &buffer, &size);
  out.assign(reinterpret_cast<const char*>(buffer), n);
  std::free(buffer);
  cbor_decref(&item);
}

}  // namespace bench
