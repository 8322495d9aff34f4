// serializers/cbor_codec.cpp — the CBOR format (RFC 8949; subprotocol wamp.2.cbor, binary frames,
// RawSocket serializer 3).
//
// Our own decoder and encoder rather than libcbor: CBOR's data model is small (eight major types),
// and a reader that builds junction::value directly from the bytes is one pass with one copy per
// string, where libcbor's cbor_load builds a reference-counted tree of heap items first (bench:
// docs/PERFORMANCE.md, "CBOR"). Its limits are ours: nesting, and no length beyond the bytes left,
// so a 9-byte header cannot make us allocate for 2^64 elements.
//
// What peers send and how it reads:
//   unsigned / negative integers   uint64 / int64 (a negative integer below -2^63 is refused: the
//                                  value model has no such integer, and no WAMP field needs one)
//   byte strings                   binary (JSON peers get "\u0000" + base64, MessagePack peers bin)
//   text strings                   strings, strict UTF-8
//   definite and indefinite-length strings, arrays and maps
//   maps                           text keys only, unique (as JSON and MessagePack)
//   false, true, null              themselves
//   undefined (f7)                 absent: a map entry is dropped, an array element is null (what
//                                  JavaScript encoders write for an unset option)
//   half, single, double floats    double
//   tag 64 around a byte string    binary: RFC 8746's uint8 typed array, which is how cbor-x (wampy's
//                                  CBOR) writes a JavaScript Uint8Array
//   other tags, other simple values refused, with the tag or value named
// What we send: the shortest head for every length and integer, floats as float64 (a float stays
// a float: 1.0 is not 1), definite lengths only.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "serializers/codec.hpp"
#include "serializers/utf8.hpp"

namespace junction {
namespace {

enum major : std::uint8_t {
  unsigned_int = 0,
  negative_int = 1,
  byte_string = 2,
  text_string = 3,
  array_type = 4,
  map_type = 5,
  tag = 6,
  simple = 7,
};

constexpr std::uint8_t break_byte = 0xff;

double half_to_double(std::uint16_t h) noexcept {
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  double v;
  if (exponent == 0) {
    v = std::ldexp(mantissa, -24);
  } else if (exponent != 31) {
    v = std::ldexp(mantissa + 1024, exponent - 25);
  } else {
    v = mantissa == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  }
  return (h & 0x8000) != 0 ? -v : v;
}

class reader {
 public:
  reader(const char* data, std::size_t n) noexcept
      : p_(reinterpret_cast<const std::uint8_t*>(data)), end_(p_ + n) {}

  bool read_root(value& out) {
    bool undefined = false;
    if (!read(out, undefined)) return false;
    if (p_ != end_) return stop(std::to_string(end_ - p_) + " trailing bytes after the message");
    return true;
  }

  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  [[nodiscard]] std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - p_); }

  // One item's head: its major type, and its argument (a value or a length). `indefinite` for
  // additional information 31.
  bool head(std::uint8_t& major_type, std::uint64_t& arg, bool& indefinite) {
    if (p_ == end_) return stop("truncated message");
    const std::uint8_t ib = *p_++;
    major_type = ib >> 5;
    const std::uint8_t ai = ib & 0x1f;
    ai_ = ai;
    indefinite = false;
    if (ai < 24) {
      arg = ai;
      return true;
    }
    if (ai == 31) {
      indefinite = true;
      arg = 0;
      return true;
    }
    if (ai > 27) return stop("reserved additional information " + std::to_string(ai));
    const std::size_t n = std::size_t{1} << (ai - 24);  // 1, 2, 4 or 8 bytes
    if (left() < n) return stop("truncated message");
    arg = 0;
    for (std::size_t i = 0; i < n; ++i) arg = (arg << 8) | p_[i];
    p_ += n;
    return true;
  }

  bool read(value& out, bool& undefined) {
    std::uint8_t mt = 0;
    std::uint64_t arg = 0;
    bool indefinite = false;
    if (!head(mt, arg, indefinite)) return false;
    switch (mt) {
      case unsigned_int:
        if (indefinite) return stop("an integer cannot have indefinite length");
        out = value{arg};
        return true;
      case negative_int:
        if (indefinite) return stop("an integer cannot have indefinite length");
        if (arg > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
          return stop("negative integer below -2^63 (not representable; no WAMP value needs one)");
        out = value{-1 - static_cast<std::int64_t>(arg)};
        return true;
      case byte_string:
      case text_string: {
        std::string s;
        if (!read_string(mt, arg, indefinite, s)) return false;
        if (mt == byte_string) {
          out = value{binary{std::move(s)}};
        } else {
          out = value{std::move(s)};
        }
        return true;
      }
      case array_type: return read_array(arg, indefinite, out);
      case map_type: return read_map(arg, indefinite, out);
      case tag: {
        if (indefinite) return stop("a tag cannot have indefinite length");
        if (arg != 64) return stop("CBOR tag " + std::to_string(arg) + " is not supported");
        // A uint8 typed array (RFC 8746): its content is a byte string.
        std::uint8_t inner = 0;
        std::uint64_t length = 0;
        bool inner_indefinite = false;
        if (!head(inner, length, inner_indefinite)) return false;
        if (inner != byte_string) return stop("CBOR tag 64 (a uint8 array) must hold a byte string");
        std::string s;
        if (!read_string(inner, length, inner_indefinite, s)) return false;
        out = value{binary{std::move(s)}};
        return true;
      }
      default: return read_simple(ai_, arg, out, undefined);
    }
  }

  bool read_chunk(std::uint64_t length, std::string& s, bool text) {
    if (length > left()) return stop("a length exceeds the message size");
    const char* at = reinterpret_cast<const char*>(p_);
    if (text && !detail::valid_utf8(at, static_cast<std::size_t>(length)))
      return stop("text string is not valid UTF-8");
    s.append(at, static_cast<std::size_t>(length));
    p_ += length;
    return true;
  }

  bool read_string(std::uint8_t mt, std::uint64_t arg, bool indefinite, std::string& s) {
    const bool text = mt == text_string;
    if (!indefinite) return read_chunk(arg, s, text);
    // Indefinite length: definite chunks of the same major type until a break.
    for (;;) {
      if (p_ == end_) return stop("truncated message");
      if (*p_ == break_byte) {
        ++p_;
        return true;
      }
      std::uint8_t chunk_type = 0;
      std::uint64_t length = 0;
      bool chunk_indefinite = false;
      if (!head(chunk_type, length, chunk_indefinite)) return false;
      if (chunk_type != mt || chunk_indefinite)
        return stop("a chunk of an indefinite-length string is not a definite string of its type");
      if (!read_chunk(length, s, text)) return false;
    }
  }

  bool enter() {
    if (++depth_ > detail::max_nesting_depth)
      return stop("nesting deeper than " + std::to_string(detail::max_nesting_depth));
    return true;
  }

  // Whether an indefinite-length container ends here (consuming the break).
  bool at_break() {
    if (p_ != end_ && *p_ == break_byte) {
      ++p_;
      return true;
    }
    return false;
  }

  bool read_array(std::uint64_t n, bool indefinite, value& out) {
    if (!enter()) return false;
    array a;
    if (!indefinite) {
      // Every element takes at least one byte.
      if (n > left()) return stop("a length exceeds the message size");
      a.resize(static_cast<std::size_t>(n));
      for (value& e : a) {
        bool undefined = false;
        if (!read(e, undefined)) return false;
      }
    } else {
      while (!at_break()) {
        if (p_ == end_) return stop("truncated message");
        bool undefined = false;
        if (!read(a.emplace_back(), undefined)) return false;
      }
    }
    --depth_;
    out = value{std::move(a)};
    return true;
  }

  bool read_entry(object& o) {
    std::uint8_t mt = 0;
    std::uint64_t arg = 0;
    bool indefinite = false;
    if (!head(mt, arg, indefinite)) return false;
    if (mt != text_string) return stop("dict key is not a text string");
    std::string key;
    if (!read_string(mt, arg, indefinite, key)) return false;
    value v;
    bool undefined = false;
    if (!read(v, undefined)) return false;
    if (!undefined) o.push_back(std::move(key), std::move(v));  // {"match": undefined}: not sent
    return true;
  }

  bool read_map(std::uint64_t n, bool indefinite, value& out) {
    if (!enter()) return false;
    object o;
    if (!indefinite) {
      if (n > left() / 2) return stop("a length exceeds the message size");
      o.reserve(static_cast<std::size_t>(n));
      for (std::uint64_t i = 0; i < n; ++i)
        if (!read_entry(o)) return false;
    } else {
      while (!at_break()) {
        if (p_ == end_) return stop("truncated message");
        if (!read_entry(o)) return false;
      }
    }
    if (const std::string* key = o.find_duplicate_key()) return stop("duplicate key \"" + *key + "\" in dict");
    --depth_;
    out = value{std::move(o)};
    return true;
  }

  bool read_simple(std::uint8_t ai, std::uint64_t arg, value& out, bool& undefined) {
    switch (ai) {
      case 20: out = value{false}; return true;
      case 21: out = value{true}; return true;
      case 22: out = value{}; return true;
      case 23:
        out = value{};
        undefined = true;
        return true;
      case 25: out = value{half_to_double(static_cast<std::uint16_t>(arg))}; return true;
      case 26: {
        const auto bits = static_cast<std::uint32_t>(arg);
        float f;
        std::memcpy(&f, &bits, sizeof f);
        out = value{static_cast<double>(f)};
        return true;
      }
      case 27: {
        double d;
        std::memcpy(&d, &arg, sizeof d);
        out = value{d};
        return true;
      }
      case 31: return stop("unexpected break");
      case 24: return stop("simple value " + std::to_string(arg) + " is not supported");
      default: return stop("simple value " + std::to_string(ai) + " is not supported");
    }
  }

  bool stop(std::string why) {
    if (error_.empty()) error_ = "invalid CBOR: " + std::move(why);
    return false;
  }

  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::size_t depth_ = 0;
  std::uint8_t ai_ = 0;  // the additional information of the last head read
  std::string error_;
};

result<value> decode_cbor(std::string_view bytes) {
  reader r(bytes.data(), bytes.size());
  value out;
  if (!r.read_root(out)) return fail(r.error());
  return out;
}

// The Writer of write_message/write_value for CBOR.
class cbor_writer {
 public:
  explicit cbor_writer(std::string& out) noexcept : out_{out} {}

  void begin_array(std::size_t n) { head(array_type, n); }
  void end_array() noexcept {}
  void begin_object(std::size_t n) { head(map_type, n); }
  void key(const std::string& k) { (*this)(k); }
  void end_object() noexcept {}

  void operator()(null_t) { out_.push_back(static_cast<char>(0xf6)); }
  void operator()(bool b) { out_.push_back(static_cast<char>(b ? 0xf5 : 0xf4)); }
  void operator()(std::int64_t i) {
    if (i >= 0) {
      head(unsigned_int, static_cast<std::uint64_t>(i));
    } else {
      head(negative_int, ~static_cast<std::uint64_t>(i));  // -1 - i
    }
  }
  void operator()(std::uint64_t u) { head(unsigned_int, u); }
  void operator()(double d) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &d, sizeof bits);
    char buf[9] = {static_cast<char>(0xfb)};
    for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<char>(bits >> (56 - 8 * i) & 0xff);
    out_.append(buf, sizeof buf);
  }
  void operator()(const std::string& s) {
    head(text_string, s.size());
    out_.append(s);
  }
  void operator()(const binary& b) {
    head(byte_string, b.bytes.size());
    out_.append(b.bytes);
  }
  void operator()(const array& a) { write_array(*this, a); }
  void operator()(const object& o) { write_object(*this, o); }
  void payload(const raw_payload& raw) {
    if (raw.kind == serializer::cbor) {
      out_.append(raw.bytes.data(), raw.bytes.size());
    } else {
      detail::write_transcoded(*this, raw);
    }
  }

 private:
  void head(std::uint8_t mt, std::uint64_t n) {
    const auto ib = static_cast<std::uint8_t>(mt << 5);
    char buf[9];
    std::size_t len;
    if (n < 24) {
      buf[0] = static_cast<char>(ib | n);
      len = 1;
    } else if (n <= 0xff) {
      buf[0] = static_cast<char>(ib | 24);
      len = 2;
    } else if (n <= 0xffff) {
      buf[0] = static_cast<char>(ib | 25);
      len = 3;
    } else if (n <= 0xffffffffULL) {
      buf[0] = static_cast<char>(ib | 26);
      len = 5;
    } else {
      buf[0] = static_cast<char>(ib | 27);
      len = 9;
    }
    for (std::size_t i = 1; i < len; ++i) buf[i] = static_cast<char>(n >> (8 * (len - 1 - i)) & 0xff);
    out_.append(buf, len);
  }

  std::string& out_;
};

}  // namespace

// The format record codec.cpp turns into the wamp.2.cbor codec.
constexpr detail::codec_format detail::cbor_format =
    detail::make_codec_format<cbor_writer>(serializer::cbor, "wamp.2.cbor", true, decode_cbor);

}  // namespace junction
