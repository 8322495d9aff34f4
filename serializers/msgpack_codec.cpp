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

 private:
  // MessagePack lengths are 32-bit; nothing near that size gets past the transports' limits.
  static std::uint32_t length(std::size_t n) noexcept { return static_cast<std::uint32_t>(n); }

  string_sink sink_;
  msgpack::packer<string_sink> packer_;
};

}  // namespace

// The format record codec.cpp turns into the wamp.2.msgpack codec.
constexpr detail::codec_format detail::msgpack_format = detail::make_codec_format<msgpack_writer>(
    serializer::msgpack, "wamp.2.msgpack", true, decode_msgpack);

}  // namespace junction
