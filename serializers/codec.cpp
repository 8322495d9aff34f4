// serializers/codec.cpp — the codec registry, and the decode/encode steps that are the same for
// every serialization format.
#include "serializers/codec.hpp"

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
    result<value> decoded = format_.decode_value(bytes);
    if (!decoded) return decoded.error();
    if (!decoded->is_array()) return fail("message is not an array");
    return from_array(std::move(decoded->as_array()));
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

}  // namespace junction
