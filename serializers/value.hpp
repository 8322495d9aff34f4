// serializers/value.hpp — the dynamic value carried in WAMP Options/Details dicts and in the
// application payload (Arguments|list, ArgumentsKw|dict).
//
// One type serves both JSON and MessagePack. Byte strings are their own alternative (`binary`) so
// that the JSON codec can apply the binary convention ("\u0000" + base64) and MessagePack can use
// `bin`, and a payload survives a JSON <-> MessagePack hop intact (spec: advanced/serialization_binary_json).
//
// Objects keep insertion order in a flat vector: WAMP dicts are small, lookups are rare and linear
// scans over a few keys beat hashing. No sockets, no clocks here (DESIGN.md §1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace junction {

class value;

using array = std::vector<value>;

// Insertion-ordered string-keyed map. Keys are unique after decoding (duplicates are rejected).
class object {
 public:
  using entry = std::pair<std::string, value>;
  using storage = std::vector<entry>;

  object() = default;
  object(std::initializer_list<entry> init);

  [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  [[nodiscard]] const value* find(std::string_view key) const noexcept;
  [[nodiscard]] value* find(std::string_view key) noexcept;
  [[nodiscard]] bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }

  // Inserts or replaces.
  value& set(std::string key, value v);
  bool erase(std::string_view key);

  // Typed accessors for the common option lookups; nullptr/nullopt-like defaults when absent or
  // of another type.
  [[nodiscard]] const std::string* get_string(std::string_view key) const noexcept;
  [[nodiscard]] bool get_bool(std::string_view key, bool fallback) const noexcept;

  [[nodiscard]] storage::const_iterator begin() const noexcept { return entries_.begin(); }
  [[nodiscard]] storage::const_iterator end() const noexcept { return entries_.end(); }
  storage::iterator begin() noexcept { return entries_.begin(); }
  storage::iterator end() noexcept { return entries_.end(); }
  void reserve(std::size_t n) { entries_.reserve(n); }
  // Appends without a uniqueness check; decoders check duplicates themselves.
  void push_back(std::string key, value v);
  // The first key that occurs twice, or nullptr. Decoders call it once per decoded dict (spec
  // basic/messages.md: dict keys are unique).
  [[nodiscard]] const std::string* find_duplicate_key() const;

  friend bool operator==(const object& a, const object& b);
  friend bool operator!=(const object& a, const object& b) { return !(a == b); }

 private:
  storage entries_;
};

// A byte string (msgpack bin, JSON "\u0000"+base64).
struct binary {
  std::string bytes;
  friend bool operator==(const binary& a, const binary& b) { return a.bytes == b.bytes; }
  friend bool operator!=(const binary& a, const binary& b) { return !(a == b); }
};

struct null_t {
  friend bool operator==(null_t, null_t) { return true; }
  friend bool operator!=(null_t, null_t) { return false; }
};
inline constexpr null_t null{};

class value {
 public:
  // Order matters: index() is used by codecs.
  using variant = std::variant<null_t, bool, std::int64_t, std::uint64_t, double, std::string,
                               binary, array, object>;

  value() noexcept : v_(null_t{}) {}
  value(null_t) noexcept : v_(null_t{}) {}
  value(bool b) noexcept : v_(b) {}
  value(int i) noexcept : v_(static_cast<std::int64_t>(i)) {}
  value(long i) noexcept : v_(static_cast<std::int64_t>(i)) {}
  value(long long i) noexcept : v_(static_cast<std::int64_t>(i)) {}
  value(unsigned u) noexcept : v_(static_cast<std::uint64_t>(u)) {}
  value(unsigned long u) noexcept : v_(static_cast<std::uint64_t>(u)) {}
  value(unsigned long long u) noexcept : v_(static_cast<std::uint64_t>(u)) {}
  value(double d) noexcept : v_(d) {}
  value(const char* s) : v_(std::string(s)) {}
  value(std::string s) noexcept : v_(std::move(s)) {}
  value(std::string_view s) : v_(std::string(s)) {}
  value(binary b) noexcept : v_(std::move(b)) {}
  value(array a) noexcept : v_(std::move(a)) {}
  value(object o) noexcept : v_(std::move(o)) {}

  [[nodiscard]] bool is_null() const noexcept { return std::holds_alternative<null_t>(v_); }
  [[nodiscard]] bool is_bool() const noexcept { return std::holds_alternative<bool>(v_); }
  [[nodiscard]] bool is_string() const noexcept { return std::holds_alternative<std::string>(v_); }
  [[nodiscard]] bool is_binary() const noexcept { return std::holds_alternative<binary>(v_); }
  [[nodiscard]] bool is_array() const noexcept { return std::holds_alternative<array>(v_); }
  [[nodiscard]] bool is_object() const noexcept { return std::holds_alternative<object>(v_); }
  [[nodiscard]] bool is_double() const noexcept { return std::holds_alternative<double>(v_); }
  // True for any integer alternative (signed or unsigned).
  [[nodiscard]] bool is_integer() const noexcept {
    return std::holds_alternative<std::int64_t>(v_) || std::holds_alternative<std::uint64_t>(v_);
  }
  // The value as a non-negative integer, if it is one (WAMP ids and counts are never negative);
  // an integral double within [0, 2^53] counts (clients that send large integers as floats).
  [[nodiscard]] bool as_uint(std::uint64_t& out) const noexcept;

  [[nodiscard]] const std::string& as_string() const { return std::get<std::string>(v_); }
  [[nodiscard]] std::string& as_string() { return std::get<std::string>(v_); }
  [[nodiscard]] bool as_bool() const { return std::get<bool>(v_); }
  [[nodiscard]] const array& as_array() const { return std::get<array>(v_); }
  [[nodiscard]] array& as_array() { return std::get<array>(v_); }
  [[nodiscard]] const object& as_object() const { return std::get<object>(v_); }
  [[nodiscard]] object& as_object() { return std::get<object>(v_); }
  [[nodiscard]] const binary& as_binary() const { return std::get<binary>(v_); }

  [[nodiscard]] const variant& get() const noexcept { return v_; }
  [[nodiscard]] variant& get() noexcept { return v_; }

  // Integers compare by numeric value across signed/unsigned alternatives, so a value decoded
  // from JSON equals the same value decoded from MessagePack.
  friend bool operator==(const value& a, const value& b);
  friend bool operator!=(const value& a, const value& b) { return !(a == b); }

 private:
  variant v_;
};

// A compact JSON-like rendering for logs and test failure messages (binary shown as hex).
std::string to_debug_string(const value& v);

// The one walk over a value's shape, shared by the JSON and MessagePack encoders: containers
// become w.begin_array(n) ... w.end_array() and w.begin_object(n) (w.key(k), value)...
// w.end_object(); every scalar alternative of value::variant becomes w(x).
template <class Writer>
void write_value(Writer& w, const value& v);

template <class Writer>
void write_array(Writer& w, const array& a) {
  w.begin_array(a.size());
  for (const value& e : a) write_value(w, e);
  w.end_array();
}

template <class Writer>
void write_object(Writer& w, const object& o) {
  w.begin_object(o.size());
  for (const auto& [k, e] : o) {
    w.key(k);
    write_value(w, e);
  }
  w.end_object();
}

template <class Writer>
void write_value(Writer& w, const value& v) {
  std::visit(
      [&w](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, array>) {
          write_array(w, x);
        } else if constexpr (std::is_same_v<T, object>) {
          write_object(w, x);
        } else {
          w(x);
        }
      },
      v.get());
}

}  // namespace junction
