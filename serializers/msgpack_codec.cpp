// serializers/msgpack_codec.cpp — the MessagePack format (subprotocol wamp.2.msgpack, binary
// frames; spec v5+: str and bin are distinct, reference/wamp-protocol.md §1.6).
//
// Decoding is our own reader (below); msgpack-c packs. Neither throws here (DESIGN.md §5: no
// exceptions out of the codecs): the packer only appends to a string.
#define MSGPACK_NO_BOOST  // only the core; keeps Boost headers out of the serializers layer
#include <cstring>
#include <cstdint>
#include <msgpack.hpp>
#include <string>
#include <utility>

#include "serializers/codec.hpp"
#include "serializers/utf8.hpp"

namespace junction {
namespace {

// One pass over the frame, building junction::value straight from the bytes (no msgpack-c object
// tree in between: issue 17, one copy per string and no heap allocation but the values'). Limits:
// nesting, and no count or length beyond what the frame could hold (a container header is checked
// before anything is allocated for it: an array of more elements than the frame has bytes, a map
// of more entries than half of them; a string longer than the bytes left is truncated).
class reader {
 public:
  explicit reader(std::string_view bytes) noexcept
      : begin_{reinterpret_cast<const std::uint8_t*>(bytes.data())}, p_{begin_}, end_{begin_ + bytes.size()} {}

  // One value. `undefined`: it was msgpackr's undefined (d4 00 00, JavaScript's `undefined`):
  // read as absent — a dict entry is dropped, an array element is null.
  bool read(value& out, bool& undefined) {
    undefined = false;
    item it;
    if (!next(it)) return false;
    switch (it.k) {
      case kind::nil: out = value{}; return true;
      case kind::boolean: out = value{it.u != 0}; return true;
      case kind::uint: out = value{it.u}; return true;
      case kind::sint: out = value{it.i}; return true;
      case kind::real: out = value{it.d}; return true;
      case kind::str:
        if (!detail::valid_utf8(it.data, it.n)) return stop("string is not valid UTF-8");
        out = value{detail::decoded_string(it.data, it.n)};
        return true;
      case kind::bin: out = value{binary{std::string(it.data, it.n)}}; return true;
      case kind::ext:
        if (it.ext_type == 0 && it.n == 1 && it.data[0] == 0) {
          undefined = true;
          out = value{};
          return true;
        }
        return stop("MessagePack extension type " + std::to_string(static_cast<int>(it.ext_type)) +
                    " is not supported (only msgpackr's undefined, d4 00 00, is read: as absent)");
      case kind::array: {
        if (!enter()) return false;
        array a(it.n);
        bool ignored = false;
        for (value& e : a)
          if (!read(e, ignored)) return false;
        --depth_;
        out = value{std::move(a)};
        return true;
      }
      case kind::map: {
        if (!enter()) return false;
        object o;
        o.reserve(it.n);
        for (std::size_t i = 0; i < it.n; ++i) {
          item key;
          if (!next(key)) return false;
          if (key.k != kind::str) return stop("dict key is not a string");
          if (!detail::valid_utf8(key.data, key.n)) return stop("dict key is not valid UTF-8");
          value v;
          bool absent = false;
          if (!read(v, absent)) return false;
          if (absent) continue;  // {"match": undefined} is as if "match" were not sent
          o.push_back(std::string(key.data, key.n), std::move(v));
        }
        --depth_;
        if (const std::string* key = o.find_duplicate_key())
          return stop("duplicate key \"" + *key + "\" in dict");
        out = value{std::move(o)};
        return true;
      }
    }
    return stop("malformed data");
  }

  // One value checked as read() would accept it, nothing built (a payload that passes through).
  // False also for what read() would accept but not unchanged (msgpackr's undefined, any
  // extension) and for dicts over 64 keys (read() checks those for duplicates): the caller then
  // leaves the message to the full decode.
  bool check() {
    item it;
    if (!next(it)) return false;
    switch (it.k) {
      case kind::str: return detail::valid_utf8(it.data, it.n);
      case kind::ext: return false;
      case kind::array:
        if (!enter()) return false;
        for (std::size_t i = 0; i < it.n; ++i)
          if (!check()) return false;
        --depth_;
        return true;
      case kind::map: {
        if (it.n > 64 || !enter()) return false;
        std::string_view keys[64];
        for (std::size_t i = 0; i < it.n; ++i) {
          item key;
          if (!next(key) || key.k != kind::str || !detail::valid_utf8(key.data, key.n)) return false;
          keys[i] = std::string_view(key.data, key.n);
          for (std::size_t j = 0; j < i; ++j)
            if (keys[j] == keys[i]) return false;
          if (!check()) return false;
        }
        --depth_;
        return true;
      }
      default: return true;
    }
  }

  // The header of an array (the message's own): its element count. Its elements are read one
  // level deeper, as read() reads them.
  bool array_header(std::size_t& count) {
    item it;
    if (!next(it) || it.k != kind::array || !enter()) return false;
    count = it.n;
    return true;
  }
  // The next byte starts an array / a map (without reading it).
  [[nodiscard]] bool at_array() const noexcept {
    return p_ != end_ && ((*p_ & 0xf0) == 0x90 || *p_ == 0xdc || *p_ == 0xdd);
  }
  [[nodiscard]] bool at_map() const noexcept {
    return p_ != end_ && ((*p_ & 0xf0) == 0x80 || *p_ == 0xde || *p_ == 0xdf);
  }
  [[nodiscard]] std::size_t offset() const noexcept { return static_cast<std::size_t>(p_ - begin_); }
  [[nodiscard]] std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  enum class kind : std::uint8_t { nil, boolean, uint, sint, real, str, bin, ext, array, map };
  // One item's head: scalars read whole; str/bin/ext their bytes (data, n); containers their count.
  struct item {
    kind k = kind::nil;
    std::uint64_t u = 0;
    std::int64_t i = 0;
    double d = 0;
    const char* data = nullptr;
    std::size_t n = 0;
    std::int8_t ext_type = 0;
  };

  bool next(item& it) {
    if (p_ == end_) return stop("truncated message");
    const std::uint8_t c = *p_++;
    if (c <= 0x7f) return scalar(it, kind::uint, c);
    if (c >= 0xe0) {
      it.k = kind::sint;
      it.i = static_cast<std::int8_t>(c);
      return true;
    }
    if ((c & 0xf0) == 0x80) return container(it, kind::map, c & 0x0f);
    if ((c & 0xf0) == 0x90) return container(it, kind::array, c & 0x0f);
    if ((c & 0xe0) == 0xa0) return body(it, kind::str, c & 0x1f);
    std::uint64_t v = 0;
    switch (c) {
      case 0xc0: it.k = kind::nil; return true;
      case 0xc2: return scalar(it, kind::boolean, 0);
      case 0xc3: return scalar(it, kind::boolean, 1);
      case 0xc4: return big_endian(1, v) && body(it, kind::bin, v);
      case 0xc5: return big_endian(2, v) && body(it, kind::bin, v);
      case 0xc6: return big_endian(4, v) && body(it, kind::bin, v);
      case 0xc7: return big_endian(1, v) && ext(it, v);
      case 0xc8: return big_endian(2, v) && ext(it, v);
      case 0xc9: return big_endian(4, v) && ext(it, v);
      case 0xca: {  // float32, widened
        if (!big_endian(4, v)) return false;
        const auto bits = static_cast<std::uint32_t>(v);
        float f;
        std::memcpy(&f, &bits, sizeof f);
        it.k = kind::real;
        it.d = f;
        return true;
      }
      case 0xcb:
        if (!big_endian(8, v)) return false;
        it.k = kind::real;
        std::memcpy(&it.d, &v, sizeof it.d);
        return true;
      case 0xcc: return big_endian(1, v) && scalar(it, kind::uint, v);
      case 0xcd: return big_endian(2, v) && scalar(it, kind::uint, v);
      case 0xce: return big_endian(4, v) && scalar(it, kind::uint, v);
      case 0xcf: return big_endian(8, v) && scalar(it, kind::uint, v);
      case 0xd0: return big_endian(1, v) && signed_int(it, static_cast<std::int8_t>(v));
      case 0xd1: return big_endian(2, v) && signed_int(it, static_cast<std::int16_t>(v));
      case 0xd2: return big_endian(4, v) && signed_int(it, static_cast<std::int32_t>(v));
      case 0xd3: return big_endian(8, v) && signed_int(it, static_cast<std::int64_t>(v));
      case 0xd4: return ext(it, 1);
      case 0xd5: return ext(it, 2);
      case 0xd6: return ext(it, 4);
      case 0xd7: return ext(it, 8);
      case 0xd8: return ext(it, 16);
      case 0xd9: return big_endian(1, v) && body(it, kind::str, v);
      case 0xda: return big_endian(2, v) && body(it, kind::str, v);
      case 0xdb: return big_endian(4, v) && body(it, kind::str, v);
      case 0xdc: return big_endian(2, v) && container(it, kind::array, v);
      case 0xdd: return big_endian(4, v) && container(it, kind::array, v);
      case 0xde: return big_endian(2, v) && container(it, kind::map, v);
      case 0xdf: return big_endian(4, v) && container(it, kind::map, v);
      default: return stop("malformed data");  // 0xc1, never used
    }
  }

  bool big_endian(std::size_t width, std::uint64_t& v) {
    if (left() < width) return stop("truncated message");
    v = 0;
    for (std::size_t k = 0; k < width; ++k) v = v << 8 | p_[k];
    p_ += width;
    return true;
  }
  static bool scalar(item& it, kind k, std::uint64_t v) noexcept {
    it.k = k;
    it.u = v;
    return true;
  }
  // Non-negative integers are uint64 and negative ones int64, whatever form they came in.
  static bool signed_int(item& it, std::int64_t v) noexcept {
    if (v >= 0) return scalar(it, kind::uint, static_cast<std::uint64_t>(v));
    it.k = kind::sint;
    it.i = v;
    return true;
  }
  bool container(item& it, kind k, std::uint64_t count) {
    const std::size_t frame = static_cast<std::size_t>(end_ - begin_);
    if (count > (k == kind::map ? frame / 2 : frame)) return stop("a length exceeds the message size");
    it.k = k;
    it.n = static_cast<std::size_t>(count);
    return true;
  }
  bool body(item& it, kind k, std::uint64_t length) {
    if (length > left()) return stop("truncated message");  // nothing is allocated before this
    it.k = k;
    it.data = reinterpret_cast<const char*>(p_);
    it.n = static_cast<std::size_t>(length);
    p_ += length;
    return true;
  }
  bool ext(item& it, std::uint64_t length) {
    if (left() < 1) return stop("truncated message");
    const auto type = static_cast<std::int8_t>(*p_++);
    if (!body(it, kind::ext, length)) return false;
    it.ext_type = type;
    return true;
  }
  bool enter() {
    if (++depth_ > detail::max_nesting_depth)
      return stop("nesting deeper than " + std::to_string(detail::max_nesting_depth));
    return true;
  }
  bool stop(std::string why) {
    if (error_.empty()) error_ = "invalid MessagePack: " + std::move(why);
    return false;
  }

  const std::uint8_t* begin_;
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::size_t depth_ = 0;
  std::string error_;
};

result<value> decode_msgpack(std::string_view bytes) {
  reader r(bytes);
  value out;
  bool undefined = false;
  if (!r.read(out, undefined)) return fail(r.error());
  if (r.left() != 0)
    return fail("invalid MessagePack: " + std::to_string(r.left()) + " trailing bytes after the message");
  return out;
}

result<message> decode_msgpack_message(std::string_view bytes) { return detail::message_from(decode_msgpack(bytes)); }

// ---------------------------------------------------------------------------------------------
// decode_routed: the message's elements are read into a local array (no message has more than
// 7), those before the payload as decode_msgpack reads them; the Arguments/ArgumentsKw of CALL,
// YIELD, PUBLISH and ERROR only checked (reader::check, nothing built) and their bytes kept.
// Anything unusual gives up, and the full decode accepts or refuses the message in its words.
result<message> decode_msgpack_routed(std::string_view bytes) {
  constexpr std::size_t most = 7;
  reader r(bytes);
  std::size_t count = 0;
  if (!r.array_header(count) || count == 0 || count > most) return decode_msgpack_message(bytes);
  value elements[most];
  bool undefined = false;
  std::uint64_t code = 0;
  if (!r.read(elements[0], undefined) || !elements[0].is_integer() || !elements[0].as_uint(code))
    return decode_msgpack_message(bytes);
  const std::size_t payload_at = detail::routed_payload_index(code);
  const bool passes = payload_at != 0 && count > payload_at;
  const std::size_t built = passes ? payload_at : count;
  for (std::size_t i = 1; i < built; ++i)
    if (!r.read(elements[i], undefined)) return decode_msgpack_message(bytes);
  if (!passes) {
    if (r.left() != 0) return decode_msgpack_message(bytes);
    return from_elements(elements, count);
  }
  if (count > payload_at + 2) return decode_msgpack_message(bytes);
  const std::size_t start = r.offset();
  if (!r.at_array() || !r.check()) return decode_msgpack_message(bytes);
  const std::size_t kwargs_start = r.offset();
  if (count == payload_at + 2 && (!r.at_map() || !r.check())) return decode_msgpack_message(bytes);
  if (r.left() != 0) return decode_msgpack_message(bytes);
  result<message> m = from_elements(elements, payload_at);
  if (!m) return m;
  // Trailing empty elements are dropped, as the encoders drop them: {} (0x80), then [] (0x90).
  const std::size_t n = bytes.size();
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
