// router/ops/config_reader.hpp — one description of the config file, three uses.
//
// The config file's shape is written once, as code that walks a settings struct with a
// `config_reader` (router/ops/config_file.cpp). The same walk
//   - loads a JSON document into the structs, reporting every problem with the JSON pointer of
//     the bad value (and, for an unknown key, the closest known one);
//   - describes the file: the JSON Schema published as config/junction.schema.json and the key
//     reference of docs/CONFIG.md, with each key's type, default (the struct's own default),
//     meaning and example;
//   - writes a settings tree back as JSON (`junction --print-config`).
// So the loader, the schema and the documentation cannot disagree on a key, a type, a range or a
// default (DESIGN.md §8); tests check the published files against what the binary generates.
//
// Conventions of the file: keys are snake_case; durations are integers in milliseconds with keys
// ending in `_ms` (`_us` for microseconds); a key beginning with "//" is a comment and is ignored
// anywhere (JSON has no comments); `$schema` may name the schema at the top.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

namespace junction::config {

// One thing wrong with a config file: where (a JSON pointer, "" for the whole file) and what.
struct problem {
  std::string pointer;
  std::string message;
};

// A key's documentation: what it means, and an example value as JSON text (optional).
struct doc {
  const char* meaning = "";
  const char* example = nullptr;
  bool required = false;  // the key must be present (else the struct's value is the default)
};

// A documented row of the key reference (docs/CONFIG.md).
struct reference_row {
  std::string pointer;  // "/listeners/*/port"
  std::string type;     // "integer (0–65535)"
  std::string fallback; // the default, as JSON, or "required"
  std::string meaning;
  std::string example;
};

// What describe mode produces.
struct description {
  rapidjson::Document schema;       // the JSON Schema of the whole file
  std::vector<reference_row> rows;  // every key, in file order
};

class reader {
 public:
  enum class mode { load, describe, write };

  // Load: reads `value` (found at `pointer`) into the structs the walk names.
  reader(const rapidjson::Value& value, std::string pointer, std::vector<problem>& problems);
  // Describe: appends to `out` (the schema object at `schema`).
  reader(description& out, rapidjson::Value& schema, std::string pointer);
  // Write: adds each key's current value to `object`.
  reader(rapidjson::Value& object, rapidjson::Document::AllocatorType& allocator);
  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;

  [[nodiscard]] mode current_mode() const noexcept { return mode_; }
  [[nodiscard]] bool loading() const noexcept { return mode_ == mode::load; }
  [[nodiscard]] const std::string& pointer() const noexcept { return pointer_; }
  // Load mode: whether the object has `key` (other than as a comment).
  [[nodiscard]] bool has(std::string_view key) const;

  // The object's own documentation (describe mode: the schema's description).
  void describe_object(const char* meaning);

  void boolean(const char* key, bool& member, doc d);
  // An optional flag whose absence means "decide from context" (`absent` says how, for the docs).
  void optional_boolean(const char* key, std::optional<bool>& member, const char* absent, doc d);
  template <class T>
  void integer(const char* key, T& member, T min, T max, doc d) {
    static_assert(std::is_integral_v<T>);
    std::uint64_t v = static_cast<std::uint64_t>(member);
    integer_value(key, v, static_cast<std::uint64_t>(min), static_cast<std::uint64_t>(max), d);
    member = static_cast<T>(v);
  }
  // Milliseconds as an integer (keys end in _ms).
  void milliseconds(const char* key, std::chrono::milliseconds& member, std::uint64_t min,
                    std::uint64_t max, doc d);
  void microseconds(const char* key, std::chrono::microseconds& member, std::uint64_t min,
                    std::uint64_t max, doc d);
  // min_length 1: must not be empty.
  void string(const char* key, std::string& member, doc d, std::size_t min_length = 0);
  void strings(const char* key, std::vector<std::string>& member, doc d);
  // One of a fixed set of names, stored as E.
  template <class E>
  void choice(const char* key, E& member, std::initializer_list<std::pair<const char*, E>> names,
              doc d) {
    std::vector<const char*> list;
    std::size_t index = 0;
    for (const auto& [name, value] : names) {
      if (value == member) index = list.size();
      list.push_back(name);
    }
    choice_value(key, index, list, d);
    member = std::next(names.begin(), static_cast<std::ptrdiff_t>(index))->second;
  }

  using walk = std::function<void(reader&)>;
  // A nested object; `walk` describes its keys.
  void object(const char* key, doc d, const walk& fn);
  // An array of objects, each read by `fn` into a fresh T (default-constructed): a present
  // array replaces the member's elements.
  template <class T>
  void array(const char* key, std::vector<T>& member, std::size_t min_items, doc d,
             const std::function<void(reader&, T&)>& fn) {
    array_value(
        key, min_items, d, member.size(), [&] { member.clear(); },
        [&](reader& r, std::size_t i) {
          if (r.loading()) {
            member.emplace_back();
            fn(r, member.back());
          } else if (r.current_mode() == mode::describe) {
            T defaults{};
            fn(r, defaults);
          } else {
            fn(r, member[i]);
          }
        });
  }
  // A map from names to objects (e.g. principals by authid), each read into a fresh T.
  template <class T>
  void map(const char* key, std::map<std::string, T, std::less<>>& member, doc d,
           const std::function<void(reader&, T&)>& fn) {
    std::vector<std::string> names;
    for (const auto& [name, v] : member) names.push_back(name);
    map_value(key, d, names, [&] { member.clear(); }, [&](reader& r, const std::string& name) {
      if (r.loading()) {
        fn(r, member[name]);
      } else if (r.current_mode() == mode::describe) {
        T defaults{};
        fn(r, defaults);
      } else {
        fn(r, member.at(name));
      }
    });
  }

  // Cross-key rules of one object, for every mode: when `key` (a choice) has one of `values`,
  // `required` keys must be present and `forbidden` ones absent (the schema says so with if/then).
  void when(const char* key, std::initializer_list<const char*> values,
            std::initializer_list<const char*> required, std::initializer_list<const char*> forbidden);

  // The same for a boolean key that is true.
  void when_true(const char* key, std::initializer_list<const char*> required);
  // When `key` is present, `required` keys must be too.
  void when_present(const char* key, std::initializer_list<const char*> required);
  // Exactly one of two keys is present.
  void exactly_one(const char* a, const char* b);
  // Writing: when both a and b were written and one is empty ("", [], {}), leave that one out
  // (for pairs of which a file may hold only one).
  void drop_empty_alternative(const char* a, const char* b);
  // At least one of `keys` is present.
  void at_least_one(std::initializer_list<const char*> keys);

  // Load mode: a problem with this object, or with one of its keys.
  void fail(std::string message);
  void fail_at(std::string_view key, std::string message);

  // Load mode: reports the keys nobody asked for; called by the reader that made this one.
  void finish();

 private:
  void integer_value(const char* key, std::uint64_t& v, std::uint64_t min, std::uint64_t max, doc d);
  void choice_value(const char* key, std::size_t& index, const std::vector<const char*>& names, doc d);
  // `present` runs (load mode) when the key is there, before its elements are read.
  void array_value(const char* key, std::size_t min_items, doc d, std::size_t size,
                   const std::function<void()>& present,
                   const std::function<void(reader&, std::size_t)>& element);
  void map_value(const char* key, doc d, const std::vector<std::string>& names,
                 const std::function<void()>& present,
                 const std::function<void(reader&, const std::string&)>& entry);
  // Load mode: the value of `key`, or nullptr (absent, or this is not an object).
  const rapidjson::Value* find(const char* key);
  std::string at(std::string_view key) const;
  // Describe mode: the schema of a new property, with its reference row.
  rapidjson::Value& add_property(const char* key, const char* type, std::string type_text,
                                 std::string fallback, doc d);
  void add(rapidjson::Value& object, const char* name, rapidjson::Value&& v);
  // Describe mode: appends a subschema to the object's allOf.
  void add_rule(rapidjson::Value&& rule);

  mode mode_;
  std::string pointer_;
  // load
  const rapidjson::Value* value_ = nullptr;
  std::vector<problem>* problems_ = nullptr;
  std::vector<std::string> known_;
  // describe
  description* out_ = nullptr;
  rapidjson::Value* schema_ = nullptr;
  // write
  rapidjson::Value* object_ = nullptr;
  rapidjson::Document::AllocatorType* allocator_ = nullptr;
};

// "expected an unsigned integer, got "ten"": how a JSON value reads in a message.
[[nodiscard]] std::string describe_value(const rapidjson::Value& v);
// The known key closest to `key` (edit distance), or "" when none is close.
[[nodiscard]] std::string closest(std::string_view key, const std::vector<std::string>& known);
// "~" and "/" escaped as a JSON pointer token (RFC 6901).
[[nodiscard]] std::string pointer_token(std::string_view key);

}  // namespace junction::config
