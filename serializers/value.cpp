// serializers/value.cpp — object lookups, value equality and the debug rendering.
#include "serializers/value.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

namespace junction {

object::object(std::initializer_list<entry> init) {
  entries_.reserve(init.size());
  // Through set() so that the "keys are unique" invariant holds for literals too (last one wins).
  for (const entry& e : init) set(e.first, e.second);
}

const value* object::find(std::string_view key) const noexcept {
  for (const entry& e : entries_)
    if (e.first == key) return &e.second;
  return nullptr;
}

value* object::find(std::string_view key) noexcept {
  for (entry& e : entries_)
    if (e.first == key) return &e.second;
  return nullptr;
}

value& object::set(std::string key, value v) {
  if (value* existing = find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  return entries_.emplace_back(std::move(key), std::move(v)).second;
}

bool object::erase(std::string_view key) {
  const auto it = std::find_if(entries_.begin(), entries_.end(),
                               [key](const entry& e) { return e.first == key; });
  if (it == entries_.end()) return false;
  entries_.erase(it);  // keeps the order of the others (it is visible on the wire)
  return true;
}

const std::string* object::get_string(std::string_view key) const noexcept {
  const value* v = find(key);
  return v != nullptr && v->is_string() ? &v->as_string() : nullptr;
}

bool object::get_bool(std::string_view key, bool fallback) const noexcept {
  const value* v = find(key);
  // Integers never stand in for booleans (spec basic/messages.md).
  return v != nullptr && v->is_bool() ? v->as_bool() : fallback;
}

void object::push_back(std::string key, value v) {
  entries_.emplace_back(std::move(key), std::move(v));
}

const std::string* object::find_duplicate_key() const {
  // Typical WAMP dicts have a handful of keys: compare pairwise without allocating. Large dicts
  // (payload from a hostile peer) are sorted instead, so the check stays O(n log n).
  constexpr std::size_t pairwise_limit = 16;
  if (entries_.size() <= pairwise_limit) {
    for (std::size_t i = 0; i < entries_.size(); ++i)
      for (std::size_t j = i + 1; j < entries_.size(); ++j)
        if (entries_[i].first == entries_[j].first) return &entries_[i].first;
    return nullptr;
  }
  std::vector<const std::string*> keys;
  keys.reserve(entries_.size());
  for (const entry& e : entries_) keys.push_back(&e.first);
  std::sort(keys.begin(), keys.end(), [](const auto* a, const auto* b) { return *a < *b; });
  const auto dup = std::adjacent_find(keys.begin(), keys.end(),
                                      [](const auto* a, const auto* b) { return *a == *b; });
  return dup == keys.end() ? nullptr : *dup;
}

bool operator==(const object& a, const object& b) {
  if (a.size() != b.size()) return false;
  // Dicts are unordered: equal when every key maps to an equal value, whatever the order.
  return std::all_of(a.begin(), a.end(), [&b](const object::entry& e) {
    const value* other = b.find(e.first);
    return other != nullptr && *other == e.second;
  });
}

bool value::as_uint(std::uint64_t& out) const noexcept {
  if (const auto* u = std::get_if<std::uint64_t>(&v_)) {
    out = *u;
    return true;
  }
  if (const auto* i = std::get_if<std::int64_t>(&v_); i != nullptr && *i >= 0) {
    out = static_cast<std::uint64_t>(*i);
    return true;
  }
  // An integral double within [0, 2^53] is that integer: msgpackr (wampy's MessagePack) writes
  // integers above 2^32 as float64, so a session id comes as cb 43 .. (docs/ARCHITECTURE.md,
  // "Leniency"). 2^53 is where doubles stop being exact.
  if (const auto* d = std::get_if<double>(&v_);
      d != nullptr && *d >= 0 && *d <= 9007199254740992.0 && *d == static_cast<double>(static_cast<std::uint64_t>(*d))) {
    out = static_cast<std::uint64_t>(*d);
    return true;
  }
  return false;
}

bool operator==(const value& a, const value& b) {
  // A non-negative integer may sit in either alternative depending on the codec and the sender
  // (msgpack int64 vs uint64, JSON sign); compare the numbers, not the alternatives.
  if (a.is_integer() && b.is_integer()) {
    std::uint64_t ua = 0;
    std::uint64_t ub = 0;
    const bool a_unsigned = a.as_uint(ua);
    const bool b_unsigned = b.as_uint(ub);
    if (a_unsigned != b_unsigned) return false;
    return a_unsigned ? ua == ub
                      : std::get<std::int64_t>(a.get()) == std::get<std::int64_t>(b.get());
  }
  return a.get() == b.get();  // doubles never equal integers: they are different wire types
}

namespace {

void append_quoted(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_debug(std::string& out, const value& v) {
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, null_t>) {
          out += "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t>) {
          out += std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          char buf[32];
          const auto r = std::to_chars(buf, buf + sizeof buf, x);
          const std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
          out += text;
          // Keep 1.0 distinguishable from the integer 1: they are not equal values.
          if (std::isfinite(x) && text.find_first_of(".e") == std::string_view::npos) out += ".0";
        } else if constexpr (std::is_same_v<T, std::string>) {
          append_quoted(out, x);
        } else if constexpr (std::is_same_v<T, binary>) {
          static constexpr char hex[] = "0123456789abcdef";
          out += "hex\"";
          for (const char c : x.bytes) {
            out += hex[static_cast<unsigned char>(c) >> 4];
            out += hex[static_cast<unsigned char>(c) & 0xf];
          }
          out += '"';
        } else if constexpr (std::is_same_v<T, array>) {
          out += '[';
          for (std::size_t i = 0; i < x.size(); ++i) {
            if (i != 0) out += ',';
            append_debug(out, x[i]);
          }
          out += ']';
        } else {
          out += '{';
          bool first = true;
          for (const auto& [k, e] : x) {
            if (!first) out += ',';
            first = false;
            append_quoted(out, k);
            out += ':';
            append_debug(out, e);
          }
          out += '}';
        }
      },
      v.get());
}

}  // namespace

std::string to_debug_string(const value& v) {
  std::string out;
  append_debug(out, v);
  return out;
}

}  // namespace junction
