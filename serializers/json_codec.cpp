// serializers/json_codec.cpp — the JSON format (subprotocol wamp.2.json, text frames).
//
// Decoding runs RapidJSON's SAX reader straight into junction::value: no rapidjson::Document in
// between, so each string is copied once. Encoding runs rapidjson::Writer into the caller's
// std::string. Byte strings use the binary convention "\u0000" + base64 both ways
// (reference/wamp-protocol.md §1.6).
#include <rapidjson/allocators.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstddef>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "serializers/base64.hpp"
#include "serializers/codec.hpp"
#include "serializers/utf8.hpp"

namespace junction {
namespace {

// RFC 8259 strictly: valid UTF-8, no NaN/Infinity, no comments, no trailing commas, one root
// value (RapidJSON reports anything after it as an error, since kParseStopWhenDoneFlag is unset).
// UTF-8 is checked over the whole message before the parse (utf8_prefix), not by RapidJSON's
// kParseValidateEncodingFlag: its check decodes every character of every string through a table
// (8 % of the router's CPU at rpc saturation), ours skips ASCII 8 bytes at a time. Outside
// strings a non-ASCII byte is a syntax error either way; escapes (\u...) RapidJSON turns into
// UTF-8 itself, and has_lone_surrogate catches the one it gets wrong.
// Not kParseFullPrecisionFlag: RapidJSON 1.1's full-precision path reads a zero significand with
// a large exponent wrongly ("0E113" became 1.6e296, "0.0e300" -1.1e-280; found by fuzz_json: its
// DiyFp calls clz(0)). Fractions and exponents are re-read exactly instead (exact_double).
constexpr unsigned parse_flags = rapidjson::kParseDefaultFlags;

failure not_utf8(std::size_t offset) {
  return fail("invalid JSON at offset " + std::to_string(offset) + ": not valid UTF-8");
}

// The number that ends at `end` (RapidJSON has just read it, so it is valid JSON), read with
// correct rounding: std::from_chars, or strtod where from_chars reports under- or overflow
// (strtod gives 0 or a denormal for the former; the latter RapidJSON has already refused).
double exact_double(const char* text, const char* end, double fallback) noexcept {
  const char* begin = end;
  while (begin > text && begin[-1] != '\0' && std::strchr("0123456789+-.eE", begin[-1]) != nullptr) --begin;
  double d = 0;
  const auto [stop, ec] = std::from_chars(begin, end, d);
  if (ec == std::errc{} && stop == end) return d;
  if (ec == std::errc::result_out_of_range && end - begin < 1024) {
    char copy[1024];
    std::memcpy(copy, begin, static_cast<std::size_t>(end - begin));
    copy[end - begin] = '\0';
    d = std::strtod(copy, nullptr);  // the C locale: Junction never calls setlocale
    if (std::isfinite(d)) return d;
  }
  return fallback;
}

// RapidJSON 1.1 validates raw UTF-8 but lets an escaped lone low surrogate ("\udc00") through as
// the bytes ED B0 80, which are not UTF-8. Raw ED A0..BF cannot get past the validation, so such
// a pair in a decoded string always comes from that escape.
bool has_lone_surrogate(const char* s, std::size_t n) noexcept {
  const char* end = s + n;
  for (const char* p = s; p < end; ++p) {
    p = static_cast<const char*>(std::memchr(p, 0xED, static_cast<std::size_t>(end - p)));
    if (p == nullptr) return false;
    if (p + 1 < end && static_cast<unsigned char>(p[1]) >= 0xA0) return true;
  }
  return false;
}

// SAX handler building a value on a flat stack, as rapidjson::Document does: scalars and dict
// keys are pushed as they come, and a container's elements are moved into it when it closes,
// when RapidJSON tells their count, so each array and dict is allocated once at its exact size.
// The stack is the caller's, reused from message to message (no heap churn per message).
class value_builder {
 public:
  // `text` and `in`: the input and the stream over it, to re-read fractions (exact_double).
  value_builder(std::vector<value>& stack, const char* text, const rapidjson::MemoryStream& in) noexcept
      : stack_{stack}, text_{text}, in_{in} {}

  bool Null() { return push(value{}); }
  bool Bool(bool b) { return push(value{b}); }
  // Non-negative integers are uint64 and negative ones int64, whichever RapidJSON callback
  // delivers them (it reports "-0" through Int).
  bool Int(int i) { return Int64(i); }
  bool Uint(unsigned u) { return push(value{std::uint64_t{u}}); }
  bool Int64(std::int64_t i) {
    return i < 0 ? push(value{i}) : push(value{static_cast<std::uint64_t>(i)});
  }
  bool Uint64(std::uint64_t u) { return push(value{u}); }
  bool Double(double d) { return push(value{exact_double(text_, text_ + in_.Tell(), d)}); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return false; }  // flag not set

  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (n > 0 && s[0] == '\0') {  // the binary convention
      result<std::string> bytes = base64_decode(std::string_view(s + 1, n - 1));
      if (!bytes) return stop("invalid binary string (\\u0000 + base64): " + bytes.error().message);
      return push(value{binary{std::move(*bytes)}});
    }
    if (has_lone_surrogate(s, n)) return stop("lone surrogate escape in string");
    return push(value{detail::decoded_string(s, n)});
  }

  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (has_lone_surrogate(s, n)) return stop("lone surrogate escape in dict key");
    return push(value{std::string(s, n)});
  }

  bool StartObject() { return enter(); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    const auto first = stack_.end() - 2 * static_cast<std::ptrdiff_t>(members);
    object o;
    o.reserve(members);
    for (auto it = first; it != stack_.end(); it += 2)
      o.push_back(std::move(it->as_string()), std::move(*(it + 1)));
    stack_.erase(first, stack_.end());
    if (const std::string* key = o.find_duplicate_key())
      return stop("duplicate key \"" + *key + "\" in dict");
    return push(value{std::move(o)});
  }
  bool StartArray() { return enter(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    const auto first = stack_.end() - static_cast<std::ptrdiff_t>(elements);
    array a(std::make_move_iterator(first), std::make_move_iterator(stack_.end()));
    stack_.erase(first, stack_.end());
    return push(value{std::move(a)});
  }

  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  bool push(value v) {
    stack_.push_back(std::move(v));
    return true;
  }

  bool enter() {
    if (++depth_ > detail::max_nesting_depth)
      return stop("nesting deeper than " + std::to_string(detail::max_nesting_depth));
    return true;
  }

  bool stop(std::string why) {
    error_ = std::move(why);
    return false;
  }

  std::vector<value>& stack_;
  const char* text_;
  const rapidjson::MemoryStream& in_;
  std::size_t depth_ = 0;
  std::string error_;
};

// Per-thread parser state reused across messages: RapidJSON's own stack and the value stack keep
// their capacity (bounded: a hostile message's huge stack is released afterwards).
struct json_decoder_state {
  rapidjson::Reader reader;
  std::vector<value> stack;

  void reset() {
    constexpr std::size_t keep = 1024;
    if (stack.capacity() > keep) {
      std::vector<value>().swap(stack);
    } else {
      stack.clear();
    }
  }
};

result<value> decode_json(std::string_view bytes) {
  if (const std::size_t ok = detail::utf8_prefix(bytes.data(), bytes.size()); ok != bytes.size())
    return not_utf8(ok);
  thread_local json_decoder_state state;
  struct reset_on_exit {
    json_decoder_state& s;
    ~reset_on_exit() { s.reset(); }
  } guard{state};
  rapidjson::MemoryStream in(bytes.data(), bytes.size());
  value_builder builder(state.stack, bytes.data(), in);
  const rapidjson::ParseResult ok = state.reader.Parse<parse_flags>(in, builder);
  if (!ok) {
    if (!builder.error().empty()) return fail(builder.error());
    return fail("invalid JSON at offset " + std::to_string(ok.Offset()) + ": " +
                rapidjson::GetParseError_En(ok.Code()));
  }
  // MemoryStream reports a NUL byte as the end of input, so "[1]\0junk" parses; the rest of the
  // frame must still be accounted for.
  if (in.Tell() != bytes.size())
    return fail("invalid JSON at offset " + std::to_string(in.Tell()) + ": NUL byte");
  return std::move(state.stack.back());
}

// ---------------------------------------------------------------------------------------------
// decode_routed: the elements before the payload are built as decode_json builds them; the
// Arguments and ArgumentsKw of CALL, YIELD, PUBLISH and ERROR are only checked — the same checks
// value_builder makes, nothing built — and their bytes kept (raw_payload). Anything unusual
// (a wrong type or count, a check failing, a duplicate key) gives up with `bail`, and the full
// decode then accepts or refuses the message with its own words: the fast path never decides
// an error.

class routed_builder {
 public:
  routed_builder(value_builder& b, const rapidjson::MemoryStream& in, std::vector<std::uint64_t>& keys,
                 std::vector<std::size_t>& objects) noexcept
      : b_{b}, in_{in}, keys_{keys}, objects_{objects} {}

  bool Null() { return scalar() && (skipping_ || b_.Null()); }
  bool Bool(bool v) { return scalar() && (skipping_ || b_.Bool(v)); }
  bool Int(int i) { return code(i < 0 ? 0 : static_cast<std::uint64_t>(i), i >= 0) && (skipping_ || b_.Int(i)); }
  bool Uint(unsigned u) { return code(u, true) && (skipping_ || b_.Uint(u)); }
  bool Int64(std::int64_t i) {
    return code(i < 0 ? 0 : static_cast<std::uint64_t>(i), i >= 0) && (skipping_ || b_.Int64(i));
  }
  bool Uint64(std::uint64_t u) { return code(u, true) && (skipping_ || b_.Uint64(u)); }
  bool Double(double d) { return scalar() && (skipping_ || b_.Double(d)); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return give_up(); }

  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    if (!scalar()) return false;
    if (!skipping_) return b_.String(s, n, copy);
    if (n > 0 && s[0] == '\0') return base64_decode(std::string_view(s + 1, n - 1)) ? true : give_up();
    return has_lone_surrogate(s, n) ? give_up() : true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    if (!skipping_) return b_.Key(s, n, copy);
    if (has_lone_surrogate(s, n)) return give_up();
    keys_.push_back(hash(s, n));
    return true;
  }

  bool StartObject() {
    if (!begin(false)) return false;
    if (!skipping_) return b_.StartObject();
    objects_.push_back(keys_.size());
    return true;
  }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    if (!skipping_) return b_.EndObject(members);
    // Duplicate keys (or a hash collision): the full decode decides.
    const auto first = keys_.begin() + static_cast<std::ptrdiff_t>(objects_.back());
    std::sort(first, keys_.end());
    const bool unique = std::adjacent_find(first, keys_.end()) == keys_.end();
    keys_.erase(first, keys_.end());
    objects_.pop_back();
    return unique ? true : give_up();
  }
  bool StartArray() {
    if (!begin(true)) return false;
    return skipping_ || b_.StartArray();
  }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    if (depth_ > 0) return skipping_ || b_.EndArray(elements);
    if (!skipping_) return true;  // the whole message is on the stack
    // The message's own array: where the payload ends (before the ']'). Its elements before the
    // payload stay on the stack, where from_elements takes them (no array built).
    end_ = in_.Tell() - 1;
    count_ = index_ - payload_at_;
    skipping_ = false;
    return true;
  }

  [[nodiscard]] bool bailed() const noexcept { return bail_; }
  // How many elements of the message were built: all of them, or those before the payload.
  [[nodiscard]] std::size_t built() const noexcept { return count_ != 0 ? payload_at_ : index_; }
  // The payload's bytes in the input, when one was kept.
  [[nodiscard]] std::size_t count() const noexcept { return count_; }
  [[nodiscard]] std::size_t start() const noexcept { return start_; }
  [[nodiscard]] std::size_t end() const noexcept { return end_; }
  [[nodiscard]] std::size_t kwargs_start() const noexcept { return kw_start_; }

 private:
  // An element of the message's array begins here: the type code, or the payload.
  bool element(bool array) {
    const std::size_t i = index_++;
    if (payload_at_ == 0 || i < payload_at_) return true;
    if (i == payload_at_) {  // Arguments: a list, kept from its '['
      if (!array) return give_up();
      start_ = in_.Tell() - 1;
      skipping_ = true;
      return true;
    }
    // ArgumentsKw: a dict; nothing after it.
    kw_start_ = in_.Tell() - 1;
    return i == payload_at_ + 1 && !array ? true : give_up();
  }
  bool scalar() {
    if (depth_ != 1) return true;
    if (index_ >= payload_at_ && payload_at_ != 0) return give_up();
    ++index_;
    return true;
  }
  // Integers: element 0 of the message array is its type code.
  bool code(std::uint64_t n, bool non_negative) {
    const bool first = depth_ == 1 && index_ == 0;
    if (!scalar()) return false;
    if (first && non_negative) payload_at_ = detail::routed_payload_index(n);
    return true;
  }
  bool begin(bool array) {
    if (depth_ == 0 && !array) return give_up();  // not an array: the full decode says so
    if (depth_ == 1 && !element(array)) return false;
    if (++depth_ > detail::max_nesting_depth) return give_up();
    return true;
  }
  bool give_up() {
    bail_ = true;
    return false;
  }
  static std::uint64_t hash(const char* s, std::size_t n) noexcept {  // FNV-1a
    std::uint64_t h = 1469598103934665603ULL;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(s[i])) * 1099511628211ULL;
    return h;
  }

  value_builder& b_;
  const rapidjson::MemoryStream& in_;
  std::vector<std::uint64_t>& keys_;    // keys of the open dicts of the payload (hashes)
  std::vector<std::size_t>& objects_;   // where each open dict's keys begin in keys_
  std::size_t depth_ = 0;
  std::size_t index_ = 0;               // next element of the message's array
  std::size_t payload_at_ = 0;          // where Arguments is (0: nothing passes through)
  bool skipping_ = false;
  bool bail_ = false;
  std::size_t start_ = 0, end_ = 0, count_ = 0, kw_start_ = 0;
};

result<message> decode_json_message(std::string_view bytes) { return detail::message_from(decode_json(bytes)); }

result<message> decode_json_routed(std::string_view bytes) {
  if (!detail::valid_utf8(bytes.data(), bytes.size())) return decode_json_message(bytes);  // its words
  thread_local json_decoder_state state;
  thread_local std::vector<std::uint64_t> keys;
  thread_local std::vector<std::size_t> objects;
  struct reset_on_exit {
    json_decoder_state& s;
    ~reset_on_exit() {
      s.reset();
      keys.clear();
      objects.clear();
    }
  } guard{state};
  rapidjson::MemoryStream in(bytes.data(), bytes.size());
  value_builder builder(state.stack, bytes.data(), in);
  routed_builder routed(builder, in, keys, objects);
  const rapidjson::ParseResult ok = state.reader.Parse<parse_flags>(in, routed);
  // The message's elements (those before a payload that passes through) are the whole stack.
  if (!ok || routed.bailed() || in.Tell() != bytes.size() || state.stack.size() != routed.built())
    return decode_json_message(bytes);  // an error, or something the fast path leaves alone
  result<message> m = from_elements(state.stack.data(), state.stack.size());
  if (!m || routed.count() == 0) return m;
  // Trailing empty elements are dropped, as the encoders drop them: ", {}", then "[]".
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  // "[ ]" or "{ }": an empty container (the parse already checked the brackets match).
  const auto empty = [](std::string_view text) {
    return text.size() >= 2 && text.find_first_not_of(" \t\n\r", 1) == text.size() - 1;
  };
  std::size_t count = routed.count();
  std::size_t end = routed.end();
  while (end > routed.start() && space(bytes[end - 1])) --end;
  if (count == 2 && empty(bytes.substr(routed.kwargs_start(), end - routed.kwargs_start()))) {
    end = routed.kwargs_start();
    while (end > routed.start() && (space(bytes[end - 1]) || bytes[end - 1] == ',')) --end;
    count = 1;
  }
  const std::string_view payload = bytes.substr(routed.start(), end - routed.start());
  if (count == 1 && empty(payload)) return m;
  detail::set_raw_payload(*m, payload, count, serializer::json);
  return m;
}

// rapidjson output stream over the caller's string. The Writer reserves before it writes
// (PutReserve, below) and then stores by pointer (PutUnsafe): no capacity check per character, as
// push_back would make. The string grows ahead of the writing and is cut to what was written
// when the sink ends (the encoders' Writer lives only for one message).
class string_sink {
 public:
  using Ch = char;
  explicit string_sink(std::string& out) noexcept : out_{out}, used_{out.size()} {}
  string_sink(const string_sink&) = delete;
  string_sink& operator=(const string_sink&) = delete;
  ~string_sink() { out_.resize(used_); }

  void Put(char c) {
    reserve(1);
    put_unsafe(c);
  }
  void Flush() noexcept {}
  // Room for n more, and 256 bytes beyond, so a small message takes one step (std::string
  // doubles its capacity when it must grow). Never up to the whole capacity: resize() writes
  // every byte it adds, and a congested connection's buffer may hold megabytes of capacity.
  void reserve(std::size_t n) {
    if (out_.size() - used_ < n) out_.resize(used_ + n + 256);
  }
  void put_unsafe(char c) noexcept { out_.data()[used_++] = c; }

 private:
  std::string& out_;
  std::size_t used_;  // out_'s bytes written so far; the rest is room reserved ahead
};
// Found by argument-dependent lookup from inside rapidjson::Writer, before its generic templates.
inline void PutReserve(string_sink& s, std::size_t n) { s.reserve(n); }
inline void PutUnsafe(string_sink& s, char c) noexcept { s.put_unsafe(c); }

// The Writer's stack of open containers lives in a buffer inside json_writer (no heap allocation
// per message; a nesting deeper than it holds takes heap chunks, freed with the writer).
using json_stack_allocator = rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>;

// The Writer of write_message/write_value for JSON.
class json_writer {
 public:
  explicit json_writer(std::string& out) : sink_{out}, stack_{stack_buffer_, sizeof stack_buffer_}, writer_{sink_, &stack_} {}

  void begin_array(std::size_t) { writer_.StartArray(); }
  void end_array() { writer_.EndArray(); }
  void begin_object(std::size_t) { writer_.StartObject(); }
  void key(const std::string& k) { writer_.Key(k.data(), size(k)); }
  void end_object() { writer_.EndObject(); }

  void operator()(null_t) { writer_.Null(); }
  void operator()(bool b) { writer_.Bool(b); }
  void operator()(std::int64_t i) { writer_.Int64(i); }
  void operator()(std::uint64_t u) { writer_.Uint64(u); }
  void operator()(double d) {
    // JSON has no NaN/Infinity; null is what JSON.stringify and Python's strict encoders emit.
    // Finite doubles come out shortest-round-trip (Grisu2), with ".0" kept on integral values.
    if (std::isfinite(d)) {
      writer_.Double(d);
    } else {
      writer_.Null();
    }
  }
  void operator()(const std::string& s) { writer_.String(s.data(), size(s)); }
  void operator()(const binary& b) {
    scratch_.assign(1, '\0');
    base64_encode(b.bytes, scratch_);
    writer_.String(scratch_.data(), size(scratch_));
  }
  void operator()(const array& a) { write_array(*this, a); }
  void operator()(const object& o) { write_object(*this, o); }
  // The elements as they came ("[...]" or "[...],{...}"): one raw value for the Writer, which
  // puts the comma before it.
  void payload(const raw_payload& raw) {
    if (raw.kind == serializer::json) {
      writer_.RawValue(raw.bytes.data(), raw.bytes.size(), rapidjson::kArrayType);
    } else {
      detail::write_transcoded(*this, raw);
    }
  }

 private:
  static rapidjson::SizeType size(const std::string& s) noexcept {
    return static_cast<rapidjson::SizeType>(s.size());
  }

  // 32 levels of 16 bytes (the Writer's first reservation) and the pool's header fit.
  alignas(std::max_align_t) char stack_buffer_[1024];
  string_sink sink_;
  json_stack_allocator stack_;
  rapidjson::Writer<string_sink, rapidjson::UTF8<>, rapidjson::UTF8<>, json_stack_allocator> writer_;
  std::string scratch_;  // reused for every binary in the message
};

}  // namespace

// The format record codec.cpp turns into the wamp.2.json codec.
constexpr detail::codec_format detail::json_format =
    detail::make_codec_format<json_writer>(serializer::json, "wamp.2.json", false, decode_json,
                                           decode_json_routed);

}  // namespace junction
