// serializers/msgpack_codec.cpp — the MessagePack format (subprotocol wamp.2.msgpack, binary
// frames; spec v5+: str and bin are distinct, reference/wamp-protocol.md §1.6).
//
// msgpack-c throws; every exception is caught here and becomes a failure (DESIGN.md §5: no
// exceptions out of the codecs).
#define MSGPACK_NO_BOOST  // only the core; keeps Boost headers out of the serializers layer
#include <cstring>
#include <exception>
#include <msgpack.hpp>
#include <string>
#include <utility>

#include "serializers/codec.hpp"
#include "serializers/utf8.hpp"

namespace junction {
namespace {

// Converts msgpack-c's object tree (which points into the input frame) into a value.
class converter {
 public:
  bool convert(const msgpack::object& o, value& out) {
    switch (o.type) {
      case msgpack::type::NIL: out = value{}; return true;
      case msgpack::type::BOOLEAN: out = value{o.via.boolean}; return true;
      case msgpack::type::POSITIVE_INTEGER: out = value{o.via.u64}; return true;
      case msgpack::type::NEGATIVE_INTEGER: out = value{o.via.i64}; return true;
      case msgpack::type::FLOAT32:  // msgpack-c widens float32 into via.f64
      case msgpack::type::FLOAT64: out = value{o.via.f64}; return true;
      case msgpack::type::STR:
        if (!detail::valid_utf8(o.via.str.ptr, o.via.str.size)) return stop("string is not valid UTF-8");
        out = value{std::string(o.via.str.ptr, o.via.str.size)};
        return true;
      case msgpack::type::BIN:
        out = value{binary{std::string(o.via.bin.ptr, o.via.bin.size)}};
        return true;
      case msgpack::type::ARRAY: return convert_array(o.via.array, out);
      case msgpack::type::MAP: return convert_map(o.via.map, out);
      case msgpack::type::EXT:
        // msgpackr (wampy's MessagePack) writes JavaScript's `undefined` as fixext1 type 0,
        // data 0 (d4 00 00): read as absent — a dict entry is dropped, an array element is null.
        if (o.via.ext.type() == 0 && o.via.ext.size == 1 && o.via.ext.data()[0] == 0) {
          undefined_ = true;
          out = value{};
          return true;
        }
        return stop("MessagePack extension type " + std::to_string(static_cast<int>(o.via.ext.type())) +
                    " is not supported (only msgpackr's undefined, d4 00 00, is read: as absent)");
    }
    return stop("unknown object type");
  }

  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  bool convert_array(const msgpack::object_array& in, value& out) {
    array a(in.size);
    for (std::uint32_t i = 0; i < in.size; ++i)
      if (!convert(in.ptr[i], a[i])) return false;
    out = value{std::move(a)};
    return true;
  }

  bool convert_map(const msgpack::object_map& in, value& out) {
    object o;
    o.reserve(in.size);
    for (std::uint32_t i = 0; i < in.size; ++i) {
      const msgpack::object& key = in.ptr[i].key;
      if (key.type != msgpack::type::STR) return stop("dict key is not a string");
      if (!detail::valid_utf8(key.via.str.ptr, key.via.str.size))
        return stop("dict key is not valid UTF-8");
      value v;
      undefined_ = false;
      if (!convert(in.ptr[i].val, v)) return false;
      if (undefined_) {  // {"match": undefined} is as if "match" were not sent
        undefined_ = false;
        continue;
      }
      o.push_back(std::string(key.via.str.ptr, key.via.str.size), std::move(v));
    }
    if (const std::string* key = o.find_duplicate_key())
      return stop("duplicate key \"" + *key + "\" in dict");
    out = value{std::move(o)};
    return true;
  }

  bool stop(std::string why) {
    error_ = "invalid MessagePack: " + std::move(why);
    return false;
  }

  std::string error_;
  bool undefined_ = false;  // the value just converted was msgpackr's undefined
};

// Let msgpack-c point str/bin objects into the input instead of copying them into its zone: the
// converter copies each one once, into the value, while the input is still alive.
bool reference_input(msgpack::type::object_type, std::size_t, void*) { return true; }

result<value> decode_msgpack(std::string_view bytes) {
  const std::size_t n = bytes.size();
  // Every element takes at least one byte, so no honest container holds more elements than the
  // frame has bytes (a map entry takes two). Without these limits a 5-byte array header would
  // make msgpack-c allocate for 4 billion elements before reading any of them.
  const msgpack::unpack_limit limit(n, n / 2, n, n, n, detail::max_nesting_depth);
  std::size_t offset = 0;
  // One zone per thread, cleared after each message: clear() keeps the first 8 KiB chunk and
  // frees any larger ones, so small messages never touch the heap for msgpack-c's objects.
  thread_local msgpack::zone zone;
  struct clear_on_exit {
    ~clear_on_exit() { zone.clear(); }
  } guard;
  try {
    const msgpack::object root =
        msgpack::unpack(zone, bytes.data(), n, offset, reference_input, nullptr, limit);
    if (offset != n)
      return fail("invalid MessagePack: " + std::to_string(n - offset) +
                  " trailing bytes after the message");
    converter c;
    value out;
    if (!c.convert(root, out)) return fail(c.error());
    return out;
  } catch (const msgpack::depth_size_overflow&) {
    return fail("invalid MessagePack: nesting deeper than " +
                std::to_string(detail::max_nesting_depth));
  } catch (const msgpack::size_overflow&) {
    return fail("invalid MessagePack: a length exceeds the message size");
  } catch (const msgpack::insufficient_bytes&) {
    return fail("invalid MessagePack: truncated message");
  } catch (const msgpack::parse_error&) {
    return fail("invalid MessagePack: malformed data");
  } catch (const std::exception& e) {
    return fail(std::string("invalid MessagePack: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// decode_routed: the message's array one element at a time; the elements before the payload are
// converted as decode_msgpack converts them, the Arguments/ArgumentsKw of CALL, YIELD, PUBLISH
// and ERROR only checked as the converter checks them (nothing built) and their bytes kept.
// Anything unusual gives up, and the full decode accepts or refuses the message in its words.

// What the converter would accept, without building it. Extensions (even msgpackr's undefined,
// which the converter reads as absent) give up: they would not pass through unchanged.
bool passable(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::STR: return detail::valid_utf8(o.via.str.ptr, o.via.str.size);
    case msgpack::type::ARRAY:
      for (std::uint32_t i = 0; i < o.via.array.size; ++i)
        if (!passable(o.via.array.ptr[i])) return false;
      return true;
    case msgpack::type::MAP: {
      const msgpack::object_map& m = o.via.map;
      if (m.size > 64) return false;  // the full decode checks big dicts for duplicates
      for (std::uint32_t i = 0; i < m.size; ++i) {
        const msgpack::object& key = m.ptr[i].key;
        if (key.type != msgpack::type::STR || !detail::valid_utf8(key.via.str.ptr, key.via.str.size)) return false;
        for (std::uint32_t j = 0; j < i; ++j)
          if (m.ptr[j].key.via.str.size == key.via.str.size &&
              std::memcmp(m.ptr[j].key.via.str.ptr, key.via.str.ptr, key.via.str.size) == 0)
            return false;
        if (!passable(m.ptr[i].val)) return false;
      }
      return true;
    }
    case msgpack::type::EXT: return false;
    default: return true;
  }
}

// Where the `items` MessagePack objects that begin at `at` end (msgpack-c has already checked the
// input: this only walks it); npos if it runs off the end.
std::size_t skip_objects(std::string_view b, std::size_t at, std::size_t items) noexcept {
  const std::size_t npos = std::string_view::npos;
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(b[i]); };
  const auto big_endian = [&](std::size_t i, std::size_t width) {
    std::size_t v = 0;
    for (std::size_t k = 0; k < width; ++k) v = v << 8 | byte(i + k);
    return v;
  };
  while (items > 0) {
    if (at >= b.size()) return npos;
    const unsigned c = byte(at);
    --items;
    std::size_t head = 1, body = 0, width = 0;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
    } else if ((c & 0xf0) == 0x80) {
      items += 2 * (c & 0x0f);
    } else if ((c & 0xf0) == 0x90) {
      items += c & 0x0f;
    } else if ((c & 0xe0) == 0xa0) {
      body = c & 0x1f;
    } else {
      switch (c) {
        case 0xc4: case 0xd9: width = 1; break;             // bin8, str8
        case 0xc5: case 0xda: width = 2; break;             // bin16, str16
        case 0xc6: case 0xdb: width = 4; break;             // bin32, str32
        case 0xc7: width = 1; body = 1; break;              // ext8: + type
        case 0xc8: width = 2; body = 1; break;
        case 0xc9: width = 4; body = 1; break;
        case 0xca: case 0xce: case 0xd2: body = 4; break;
        case 0xcb: case 0xcf: case 0xd3: body = 8; break;
        case 0xcc: case 0xd0: body = 1; break;
        case 0xcd: case 0xd1: body = 2; break;
        case 0xd4: body = 2; break;                         // fixext: type + data
        case 0xd5: body = 3; break;
        case 0xd6: body = 5; break;
        case 0xd7: body = 9; break;
        case 0xd8: body = 17; break;
        case 0xdc: case 0xdd: case 0xde: case 0xdf: {       // array16/32, map16/32
          const std::size_t w = c == 0xdc || c == 0xde ? 2 : 4;
          if (at + 1 + w > b.size()) return npos;
          const std::size_t n = big_endian(at + 1, w);
          items += c >= 0xde ? 2 * n : n;
          head = 1 + w;
          break;
        }
        default: return npos;
      }
      if (width != 0) {
        if (at + 1 + width > b.size()) return npos;
        body += big_endian(at + 1, width);
        head = 1 + width;
      }
    }
    at += head + body;
  }
  return at <= b.size() ? at : npos;
}

result<message> decode_msgpack_message(std::string_view bytes) { return detail::message_from(decode_msgpack(bytes)); }

result<message> decode_msgpack_routed(std::string_view bytes) {
  const std::size_t n = bytes.size();
  const msgpack::unpack_limit limit(n, n / 2, n, n, n, detail::max_nesting_depth);
  thread_local msgpack::zone zone;
  struct clear_on_exit {
    ~clear_on_exit() { zone.clear(); }
  } guard;
  msgpack::object root;
  try {
    std::size_t offset = 0;
    root = msgpack::unpack(zone, bytes.data(), n, offset, reference_input, nullptr, limit);
    if (offset != n) return decode_msgpack_message(bytes);  // its words for what is wrong
  } catch (const std::exception&) {
    return decode_msgpack_message(bytes);
  }
  if (root.type != msgpack::type::ARRAY || root.via.array.size == 0 ||
      root.via.array.ptr[0].type != msgpack::type::POSITIVE_INTEGER)
    return decode_msgpack_message(bytes);
  const msgpack::object_array& elements = root.via.array;
  const std::size_t payload_at = detail::routed_payload_index(elements.ptr[0].via.u64);
  const std::size_t count = elements.size;
  if (payload_at == 0 || count <= payload_at) {  // nothing passes through: decoded as decode does
    converter c;
    value whole;
    if (!c.convert(root, whole)) return fail(c.error());
    return from_array(std::move(whole.as_array()));
  }
  if (count > payload_at + 2 ||
      elements.ptr[payload_at].type != msgpack::type::ARRAY ||
      (count == payload_at + 2 && elements.ptr[payload_at + 1].type != msgpack::type::MAP))
    return decode_msgpack_message(bytes);
  for (std::size_t i = payload_at; i < count; ++i)
    if (!passable(elements.ptr[i])) return decode_msgpack_message(bytes);
  array prefix(payload_at);
  converter c;
  for (std::size_t i = 0; i < payload_at; ++i)
    if (!c.convert(elements.ptr[i], prefix[i])) return decode_msgpack_message(bytes);
  // Where the payload's bytes are: after the array header and the elements before it.
  const std::size_t header = static_cast<unsigned char>(bytes[0]) == 0xdc ? 3 : static_cast<unsigned char>(bytes[0]) == 0xdd ? 5 : 1;
  const std::size_t start = skip_objects(bytes, header, payload_at);
  const std::size_t kwargs_start = skip_objects(bytes, start, 1);
  if (start == std::string_view::npos || kwargs_start == std::string_view::npos) return decode_msgpack_message(bytes);
  result<message> m = from_array(std::move(prefix));
  if (!m) return m;
  // Trailing empty elements are dropped, as the encoders drop them: {} (0x80), then [] (0x90).
  std::size_t elements_kept = count - payload_at, end = n;
  if (elements_kept == 2 && n - kwargs_start == 1 && bytes[kwargs_start] == '\x80') {
    end = kwargs_start;
    elements_kept = 1;
  }
  if (elements_kept == 1 && end - start == 1 && bytes[start] == '\x90') return m;
  detail::set_raw_payload(*m, bytes.substr(start, end - start), elements_kept, serializer::msgpack);
  return m;
}

// msgpack-c output stream that appends to the caller's string.
class string_sink {
 public:
  explicit string_sink(std::string& out) noexcept : out_{out} {}
  void write(const char* p, std::size_t n) { out_.append(p, n); }

 private:
  std::string& out_;
};

// The Writer of write_message/write_value for MessagePack. The packer picks the smallest
// integer form; strings go out as str and byte strings as bin.
class msgpack_writer {
 public:
  explicit msgpack_writer(std::string& out) : sink_{out}, packer_{sink_} {}

  void begin_array(std::size_t n) { packer_.pack_array(length(n)); }
  void end_array() noexcept {}
  void begin_object(std::size_t n) { packer_.pack_map(length(n)); }
  void key(const std::string& k) { (*this)(k); }
  void end_object() noexcept {}

  void operator()(null_t) { packer_.pack_nil(); }
  void operator()(bool b) { b ? packer_.pack_true() : packer_.pack_false(); }
  void operator()(std::int64_t i) { packer_.pack_int64(i); }
  void operator()(std::uint64_t u) { packer_.pack_uint64(u); }
  void operator()(double d) {
    // Always float64: msgpack-c 4's pack_double turns integral doubles into integers, and a
    // float must stay a float on the way through (1.0 and 1 are different values).
    std::uint64_t bits = 0;
    std::memcpy(&bits, &d, sizeof bits);
    char buf[9] = {static_cast<char>(0xcb)};
    for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<char>(bits >> (56 - 8 * i) & 0xff);
    sink_.write(buf, sizeof buf);
  }
  void operator()(const std::string& s) {
    packer_.pack_str(length(s.size()));
    packer_.pack_str_body(s.data(), length(s.size()));
  }
  void operator()(const binary& b) {
    packer_.pack_bin(length(b.bytes.size()));
    packer_.pack_bin_body(b.bytes.data(), length(b.bytes.size()));
  }
  void operator()(const array& a) { write_array(*this, a); }
  void operator()(const object& o) { write_object(*this, o); }
  void payload(const raw_payload& raw) {
    if (raw.kind == serializer::msgpack) {
      sink_.write(raw.bytes.data(), raw.bytes.size());
    } else {
      detail::write_transcoded(*this, raw);
    }
  }

 private:
  // MessagePack lengths are 32-bit; nothing near that size gets past the transports' limits.
  static std::uint32_t length(std::size_t n) noexcept { return static_cast<std::uint32_t>(n); }

  string_sink sink_;
  msgpack::packer<string_sink> packer_;
};

}  // namespace

// The format record codec.cpp turns into the wamp.2.msgpack codec.
constexpr detail::codec_format detail::msgpack_format = detail::make_codec_format<msgpack_writer>(
    serializer::msgpack, "wamp.2.msgpack", true, decode_msgpack, decode_msgpack_routed);

}  // namespace junction
