// serializers/codec.cpp — the codec registry, and the decode/encode steps that are the same for
// every serialization format.
#include "serializers/codec.hpp"

#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace junction {
namespace {

class format_codec final : public codec {
 public:
  explicit format_codec(const detail::codec_format& format) noexcept : format_{format} {}

  [[nodiscard]] serializer kind() const noexcept override { return format_.kind; }
  [[nodiscard]] std::string_view subprotocol() const noexcept override {
    return format_.subprotocol;
  }
  [[nodiscard]] bool binary_frames() const noexcept override { return format_.binary_frames; }

  [[nodiscard]] result<message> decode(std::string_view bytes) const override {
    if (bytes.empty()) return fail("empty message");
    return detail::message_from(format_.decode_value(bytes));
  }

  [[nodiscard]] result<message> decode_routed(std::string_view bytes) const override {
    if (format_.decode_routed == nullptr || bytes.empty()) return decode(bytes);
    return format_.decode_routed(bytes);
  }

  void encode(const message& m, std::string& out) const override { format_.encode_message(m, out); }

  [[nodiscard]] result<value> decode_value(std::string_view bytes) const override {
    return format_.decode_value(bytes);
  }

  void encode_value(const value& v, std::string& out) const override {
    format_.encode_value(v, out);
  }

 private:
  const detail::codec_format& format_;
};

}  // namespace

const codec& json_codec() noexcept {
  static const format_codec instance{detail::json_format};
  return instance;
}

const codec& msgpack_codec() noexcept {
  static const format_codec instance{detail::msgpack_format};
  return instance;
}

const codec& cbor_codec() noexcept {
  static const format_codec instance{detail::cbor_format};
  return instance;
}

const codec& codec_for(serializer s) noexcept {
  switch (s) {
    case serializer::msgpack: return msgpack_codec();
    case serializer::cbor: return cbor_codec();
    case serializer::json: break;
  }
  return json_codec();
}

const codec* find_codec_by_subprotocol(std::string_view subprotocol) noexcept {
  for (const codec* c : {&json_codec(), &msgpack_codec(), &cbor_codec()})
    if (c->subprotocol() == subprotocol) return c;
  return nullptr;
}

std::size_t detail::routed_payload_index(std::uint64_t code) noexcept {
  switch (static_cast<message_type>(code)) {
    case message_type::call:
    case message_type::yield:
    case message_type::publish:
    case message_type::error: return traits_of(static_cast<message_type>(code)).min_length;
    default: return 0;
  }
}

result<message> detail::message_from(result<value> decoded) {
  if (!decoded) return decoded.error();
  if (!decoded->is_array()) return fail("message is not an array");
  return from_array(std::move(decoded->as_array()));
}

void detail::set_raw_payload(message& m, std::string_view bytes, std::size_t count, serializer kind) {
  std::visit(
      [&](auto& x) {
        if constexpr (has_raw_payload<std::decay_t<decltype(x)>>::value) {
          x.raw.bytes.assign(bytes.data(), bytes.size());
          x.raw.count = static_cast<std::uint8_t>(count);
          x.raw.kind = kind;
        }
      },
      m);
}

bool detail::decode_raw(const raw_payload& raw, array& args, object& kwargs) {
  // The payload's elements wrapped in an array of their own, as its format writes one.
  std::string whole;
  whole.reserve(raw.bytes.size() + 2);
  switch (raw.kind) {
    case serializer::json:
      whole += '[';
      whole.append(raw.bytes.data(), raw.bytes.size());
      whole += ']';
      break;
    case serializer::msgpack:  // fixarray
    case serializer::cbor:     // major type 4, count in the initial byte
      whole += static_cast<char>((raw.kind == serializer::msgpack ? 0x90 : 0x80) | raw.count);
      whole.append(raw.bytes.data(), raw.bytes.size());
      break;
  }
  result<value> v = codec_for(raw.kind).decode_value(whole);
  if (!v || !v->is_array()) return false;
  array& elements = v->as_array();
  if (elements.size() != raw.count || !elements[0].is_array()) return false;
  if (raw.count > 1 && !elements[1].is_object()) return false;
  args = std::move(elements[0].as_array());
  if (raw.count > 1) kwargs = std::move(elements[1].as_object());
  return true;
}

// ---------------------------------------------------------------------------------------------
// Recycled string buffers: a few per thread, between 16 bytes (past std::string's inline buffer)
// and 1 KiB. Plain std::string objects in a thread_local array: only decoders and the session's
// routing (both on a live thread) touch them.
namespace {
struct string_spares {
  static constexpr std::size_t most = 8;
  static constexpr std::size_t largest = 1024;
  static constexpr std::size_t inline_bytes = 15;  // what std::string holds without the heap
  std::string held[most];
  std::size_t count = 0;
};
thread_local string_spares spares;
}  // namespace

std::string detail::decoded_string(const char* s, std::size_t n) {
  if (n > string_spares::inline_bytes) {
    for (std::size_t i = spares.count; i-- > 0;) {
      if (spares.held[i].capacity() < n) continue;
      std::string out = std::move(spares.held[i]);
      if (i != spares.count - 1) spares.held[i] = std::move(spares.held[spares.count - 1]);
      --spares.count;
      out.assign(s, n);
      return out;
    }
  }
  return std::string(s, n);
}

void recycle_strings(message& m) noexcept {
  std::visit(
      [](auto& x) {
        std::apply(
            [](auto&... field) {
              auto one = [](auto& f) {
                if constexpr (std::is_same_v<std::decay_t<decltype(f)>, std::string>) {
                  if (f.capacity() > string_spares::inline_bytes && f.capacity() <= string_spares::largest &&
                      spares.count < string_spares::most) {
                    spares.held[spares.count++] = std::move(f);
                    f.clear();
                  }
                }
              };
              (one(field), ...);
            },
            x.fields());
      },
      m);
}

bool materialize(raw_payload& raw, array& args, object& kwargs) {
  if (!raw.present()) return true;
  const bool ok = detail::decode_raw(raw, args, kwargs);
  raw = raw_payload{};
  return ok;
}

bool materialize(message& m) {
  return std::visit([](auto& x) { return materialize(x); }, m);
}

}  // namespace junction
