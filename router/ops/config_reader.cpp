#include "router/ops/config_reader.hpp"

#include <algorithm>
#include <cmath>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace junction::config {
namespace {

using rapidjson::Value;

bool is_comment(std::string_view key) { return key.size() >= 2 && key.substr(0, 2) == "//"; }

std::string json_text(const Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return {b.GetString(), b.GetSize()};
}

std::string quoted(std::string_view s) {
  Value v(rapidjson::StringRef(s.data(), s.size()));
  return json_text(v);
}

// The value as an unsigned integer, if it is one (integral doubles count: JSON Schema's
// "integer" accepts 1.0, and so does the loader).
std::optional<std::uint64_t> as_unsigned(const Value& v) {
  if (v.IsUint64()) return v.GetUint64();
  if (v.IsDouble()) {
    const double d = v.GetDouble();
    if (d >= 0 && d < 18446744073709551616.0 && std::floor(d) == d) return static_cast<std::uint64_t>(d);
  }
  return std::nullopt;
}

std::string range_text(std::uint64_t min, std::uint64_t max) {
  if (max == std::numeric_limits<std::uint64_t>::max()) return "at least " + std::to_string(min);
  return "from " + std::to_string(min) + " to " + std::to_string(max);
}

}  // namespace

std::string describe_value(const Value& v) {
  if (v.IsString()) {
    std::string_view s(v.GetString(), v.GetStringLength());
    if (s.size() > 60) return quoted(std::string(s.substr(0, 57)) + "...");
    return quoted(s);
  }
  if (v.IsObject()) return "an object";
  if (v.IsArray()) return "an array";
  return json_text(v);  // numbers, true, false, null
}

std::string closest(std::string_view key, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, key.size() / 3) + 1;
  for (const std::string& k : known) {
    // Levenshtein distance, one row at a time.
    std::vector<std::size_t> row(k.size() + 1);
    for (std::size_t j = 0; j <= k.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= key.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= k.size(); ++j) {
        const std::size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (key[i - 1] == k[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    std::size_t distance = row[k.size()];
    // A key typed short or long ("listen" for "listeners") is close whatever its length.
    const std::string_view shorter = key.size() < k.size() ? key : std::string_view(k);
    const std::string_view longer = key.size() < k.size() ? std::string_view(k) : key;
    if (shorter.size() >= 3 && longer.substr(0, shorter.size()) == shorter) distance = 1;
    if (distance < best_distance) {
      best_distance = distance;
      best = k;
    }
  }
  return best;
}

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

reader::reader(const Value& value, std::string pointer, std::vector<problem>& problems)
    : mode_(mode::load), pointer_(std::move(pointer)), value_(&value), problems_(&problems) {
  if (!value.IsObject()) return;
  // Duplicate keys are ambiguous (which one wins depends on the parser): refused.
  for (auto a = value.MemberBegin(); a != value.MemberEnd(); ++a)
    for (auto b = value.MemberBegin(); b != a; ++b)
      if (a->name == b->name) {
        fail_at({a->name.GetString(), a->name.GetStringLength()}, "duplicate key");
        break;
      }
}

reader::reader(description& out, Value& schema, std::string pointer)
    : mode_(mode::describe), pointer_(std::move(pointer)), out_(&out), schema_(&schema) {
  auto& a = out_->schema.GetAllocator();
  schema_->SetObject();
  schema_->AddMember("type", "object", a);
  schema_->AddMember("properties", Value(rapidjson::kObjectType), a);
  Value comments(rapidjson::kObjectType);
  comments.AddMember("^//", Value(rapidjson::kObjectType), a);
  schema_->AddMember("patternProperties", comments, a);
  schema_->AddMember("additionalProperties", false, a);
}

reader::reader(Value& object, rapidjson::Document::AllocatorType& allocator)
    : mode_(mode::write), object_(&object), allocator_(&allocator) {
  object_->SetObject();
}

bool reader::has(std::string_view key) const {
  if (mode_ != mode::load || !value_->IsObject()) return false;
  return value_->FindMember(Value(rapidjson::StringRef(key.data(), key.size()))) != value_->MemberEnd();
}

std::string reader::at(std::string_view key) const { return pointer_ + "/" + pointer_token(key); }

void reader::fail(std::string message) { problems_->push_back({pointer_, std::move(message)}); }

void reader::fail_at(std::string_view key, std::string message) {
  problems_->push_back({at(key), std::move(message)});
}

const Value* reader::find(const char* key) {
  known_.emplace_back(key);
  auto it = value_->FindMember(key);
  return it == value_->MemberEnd() ? nullptr : &it->value;
}

void reader::finish() {
  if (mode_ != mode::load || !value_->IsObject()) return;
  for (auto m = value_->MemberBegin(); m != value_->MemberEnd(); ++m) {
    const std::string_view key(m->name.GetString(), m->name.GetStringLength());
    if (is_comment(key) || std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    const std::string near = closest(key, known_);
    std::string message = "unknown key";
    if (!near.empty()) {
      message += " (did you mean \"" + near + "\"?)";
    } else if (!known_.empty()) {
      message += "; known keys here:";
      for (std::size_t i = 0; i < known_.size(); ++i) message += (i ? ", " : " ") + known_[i];
    }
    fail_at(key, message);
  }
}

void reader::add(Value& object, const char* name, Value&& v) {
  auto& a = out_->schema.GetAllocator();
  object.AddMember(Value(name, a), v, a);
}

Value& reader::add_property(const char* key, const char* type, std::string type_text,
                            std::string fallback, doc d) {
  auto& a = out_->schema.GetAllocator();
  Value p(rapidjson::kObjectType);
  if (type != nullptr) p.AddMember("type", Value(type, a), a);
  p.AddMember("description", Value(d.meaning, a), a);
  if (d.example != nullptr) {
    rapidjson::Document example;
    example.Parse(d.example);
    if (!example.HasParseError()) {
      Value examples(rapidjson::kArrayType);
      examples.PushBack(Value(example, a), a);
      p.AddMember("examples", examples, a);
    }
  }
  if (d.required) {
    auto required = schema_->FindMember("required");
    if (required == schema_->MemberEnd()) {
      schema_->AddMember("required", Value(rapidjson::kArrayType), a);
      required = schema_->FindMember("required");
    }
    required->value.PushBack(Value(key, a), a);
  }
  out_->rows.push_back({at(key), std::move(type_text), d.required ? "required" : std::move(fallback),
                        d.meaning, d.example != nullptr ? d.example : ""});
  Value& properties = (*schema_)["properties"];
  properties.AddMember(Value(key, a), p, a);
  return properties[key];
}

void reader::describe_object(const char* meaning) {
  if (mode_ != mode::describe) return;
  auto& a = out_->schema.GetAllocator();
  auto it = schema_->FindMember("description");
  if (it != schema_->MemberEnd()) {
    it->value.SetString(meaning, a);
  } else {
    schema_->AddMember("description", Value(meaning, a), a);
  }
}

void reader::boolean(const char* key, bool& member, doc d) {
  switch (mode_) {
    case mode::load:
      if (const Value* v = find(key)) {
        if (v->IsBool()) {
          member = v->GetBool();
        } else {
          fail_at(key, "expected true or false, got " + describe_value(*v));
        }
      } else if (d.required) {
        fail_at(key, "missing (required)");
      }
      break;
    case mode::describe: {
      Value& p = add_property(key, "boolean", "boolean", member ? "true" : "false", d);
      p.AddMember("default", member, out_->schema.GetAllocator());
      break;
    }
    case mode::write:
      object_->AddMember(Value(key, *allocator_), Value(member), *allocator_);
      break;
  }
}

void reader::optional_boolean(const char* key, std::optional<bool>& member, const char* absent, doc d) {
  switch (mode_) {
    case mode::load:
      if (const Value* v = find(key)) {
        if (v->IsBool()) {
          member = v->GetBool();
        } else {
          fail_at(key, "expected true or false, got " + describe_value(*v));
        }
      }
      break;
    case mode::describe:
      add_property(key, "boolean", "boolean", absent, d);
      break;
    case mode::write:
      if (member) object_->AddMember(Value(key, *allocator_), Value(*member), *allocator_);
      break;
  }
}

void reader::integer_value(const char* key, std::uint64_t& v, std::uint64_t min, std::uint64_t max,
                           doc d) {
  switch (mode_) {
    case mode::load:
      if (const Value* j = find(key)) {
        const auto n = as_unsigned(*j);
        if (!n) {
          fail_at(key, (min == 0 ? std::string("expected an unsigned integer")
                                 : "expected an integer " + range_text(min, max)) +
                           ", got " + describe_value(*j));
        } else if (*n < min || *n > max) {
          fail_at(key, describe_value(*j) + " is out of range: expected an integer " +
                           range_text(min, max));
        } else {
          v = *n;
        }
      } else if (d.required) {
        fail_at(key, "missing (required)");
      }
      break;
    case mode::describe: {
      auto& a = out_->schema.GetAllocator();
      std::string type_text = "integer";
      if (min != 0 || max != std::numeric_limits<std::uint64_t>::max())
        type_text += " (" + range_text(min, max) + ")";
      Value& p = add_property(key, "integer", type_text, std::to_string(v), d);
      p.AddMember("minimum", Value(min), a);
      // Maxima beyond 2^53 are left out: JSON Schema validators read numbers as doubles.
      if (max <= (std::uint64_t{1} << 53)) p.AddMember("maximum", Value(max), a);
      p.AddMember("default", Value(v), a);
      break;
    }
    case mode::write:
      object_->AddMember(Value(key, *allocator_), Value(v), *allocator_);
      break;
  }
}

void reader::milliseconds(const char* key, std::chrono::milliseconds& member, std::uint64_t min,
                          std::uint64_t max, doc d) {
  std::uint64_t v = static_cast<std::uint64_t>(member.count());
  integer_value(key, v, min, max, d);
  member = std::chrono::milliseconds(static_cast<std::int64_t>(v));
}

void reader::microseconds(const char* key, std::chrono::microseconds& member, std::uint64_t min,
                          std::uint64_t max, doc d) {
  std::uint64_t v = static_cast<std::uint64_t>(member.count());
  integer_value(key, v, min, max, d);
  member = std::chrono::microseconds(static_cast<std::int64_t>(v));
}

void reader::string(const char* key, std::string& member, doc d, std::size_t min_length) {
  switch (mode_) {
    case mode::load:
      if (const Value* v = find(key)) {
        if (!v->IsString()) {
          fail_at(key, "expected a string, got " + describe_value(*v));
        } else if (v->GetStringLength() < min_length) {
          fail_at(key, min_length == 1 ? "must not be empty"
                                       : "must be at least " + std::to_string(min_length) +
                                             " characters long");
        } else {
          member.assign(v->GetString(), v->GetStringLength());
        }
      } else if (d.required) {
        fail_at(key, "missing (required)");
      }
      break;
    case mode::describe: {
      auto& a = out_->schema.GetAllocator();
      Value& p = add_property(key, "string", "string", member.empty() ? "\"\"" : quoted(member), d);
      if (min_length > 0) p.AddMember("minLength", Value(static_cast<std::uint64_t>(min_length)), a);
      if (!d.required) p.AddMember("default", Value(member.c_str(), a), a);
      break;
    }
    case mode::write:
      // An optional string left unset is not written: "" would be refused when read back.
      if (member.size() < min_length && !d.required) break;
      object_->AddMember(Value(key, *allocator_), Value(member.c_str(), *allocator_), *allocator_);
      break;
  }
}

void reader::strings(const char* key, std::vector<std::string>& member, doc d) {
  switch (mode_) {
    case mode::load:
      if (const Value* v = find(key)) {
        if (!v->IsArray()) {
          fail_at(key, "expected an array of strings, got " + describe_value(*v));
          break;
        }
        std::vector<std::string> out;
        for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
          const Value& e = (*v)[i];
          if (!e.IsString()) {
            problems_->push_back({at(key) + "/" + std::to_string(i),
                                  "expected a string, got " + describe_value(e)});
          } else {
            out.emplace_back(e.GetString(), e.GetStringLength());
          }
        }
        member = std::move(out);
      } else if (d.required) {
        fail_at(key, "missing (required)");
      }
      break;
    case mode::describe: {
      auto& a = out_->schema.GetAllocator();
      std::string fallback = "[";
      for (std::size_t i = 0; i < member.size(); ++i) fallback += (i ? ", " : "") + quoted(member[i]);
      fallback += "]";
      Value& p = add_property(key, "array", "array of strings", fallback, d);
      Value items(rapidjson::kObjectType);
      items.AddMember("type", "string", a);
      p.AddMember("items", items, a);
      break;
    }
    case mode::write: {
      Value list(rapidjson::kArrayType);
      for (const auto& s : member) list.PushBack(Value(s.c_str(), *allocator_), *allocator_);
      object_->AddMember(Value(key, *allocator_), list, *allocator_);
      break;
    }
  }
}

void reader::choice_value(const char* key, std::size_t& index, const std::vector<const char*>& names,
                          doc d) {
  switch (mode_) {
    case mode::load:
      if (const Value* v = find(key)) {
        std::size_t found = names.size();
        if (v->IsString())
          for (std::size_t i = 0; i < names.size(); ++i)
            if (std::string_view(v->GetString(), v->GetStringLength()) == names[i]) found = i;
        if (found == names.size()) {
          std::string list;
          for (std::size_t i = 0; i < names.size(); ++i)
            list += std::string(i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + "\"" +
                    names[i] + "\"";
          fail_at(key, "expected " + list + ", got " + describe_value(*v));
        } else {
          index = found;
        }
      } else if (d.required) {
        fail_at(key, "missing (required)");
      }
      break;
    case mode::describe: {
      auto& a = out_->schema.GetAllocator();
      std::string type_text = "one of";
      for (std::size_t i = 0; i < names.size(); ++i) type_text += (i ? ", " : " ") + quoted(names[i]);
      Value& p = add_property(key, "string", type_text, quoted(names[index]), d);
      Value list(rapidjson::kArrayType);
      for (const char* n : names) list.PushBack(Value(n, a), a);
      p.AddMember("enum", list, a);
      if (!d.required) p.AddMember("default", Value(names[index], a), a);
      break;
    }
    case mode::write:
      object_->AddMember(Value(key, *allocator_), Value(names[index], *allocator_), *allocator_);
      break;
  }
}

void reader::object(const char* key, doc d, const walk& fn) {
  switch (mode_) {
    case mode::load:
      if (const Value* v = find(key)) {
        if (!v->IsObject()) {
          fail_at(key, "expected an object, got " + describe_value(*v));
          break;
        }
        reader inner(*v, at(key), *problems_);
        fn(inner);
        inner.finish();
      } else if (d.required) {
        fail_at(key, "missing (required)");
      }
      break;
    case mode::describe: {
      Value& p = add_property(key, nullptr, "object", "{}", d);
      reader inner(*out_, p, at(key));
      fn(inner);
      inner.describe_object(d.meaning);
      break;
    }
    case mode::write: {
      Value inner_object;
      reader inner(inner_object, *allocator_);
      fn(inner);
      object_->AddMember(Value(key, *allocator_), inner_object, *allocator_);
      break;
    }
  }
}

void reader::array_value(const char* key, std::size_t min_items, doc d, std::size_t size,
                         const std::function<void()>& present,
                         const std::function<void(reader&, std::size_t)>& element) {
  switch (mode_) {
    case mode::load:
      if (const Value* v = find(key)) {
        if (!v->IsArray()) {
          fail_at(key, "expected an array, got " + describe_value(*v));
          break;
        }
        if (v->Size() < min_items) {
          fail_at(key, "needs at least " + std::to_string(min_items) +
                           (min_items == 1 ? " element" : " elements"));
          break;
        }
        present();
        for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
          const std::string where = at(key) + "/" + std::to_string(i);
          if (!(*v)[i].IsObject()) {
            problems_->push_back({where, "expected an object, got " + describe_value((*v)[i])});
            continue;
          }
          reader inner((*v)[i], where, *problems_);
          element(inner, i);
          inner.finish();
        }
      } else if (d.required) {
        fail_at(key, "missing (required)");
      }
      break;
    case mode::describe: {
      auto& a = out_->schema.GetAllocator();
      Value& p = add_property(key, "array", "array of objects", "see below", d);
      if (min_items > 0) p.AddMember("minItems", Value(static_cast<std::uint64_t>(min_items)), a);
      p.AddMember("items", Value(rapidjson::kObjectType), a);
      reader inner(*out_, p["items"], at(key) + "/*");
      element(inner, 0);
      break;
    }
    case mode::write: {
      Value list(rapidjson::kArrayType);
      for (std::size_t i = 0; i < size; ++i) {
        Value item;
        reader inner(item, *allocator_);
        element(inner, i);
        list.PushBack(item, *allocator_);
      }
      object_->AddMember(Value(key, *allocator_), list, *allocator_);
      break;
    }
  }
}

void reader::map_value(const char* key, doc d, const std::vector<std::string>& names,
                       const std::function<void()>& present,
                       const std::function<void(reader&, const std::string&)>& entry) {
  switch (mode_) {
    case mode::load:
      if (const Value* v = find(key)) {
        if (!v->IsObject()) {
          fail_at(key, "expected an object, got " + describe_value(*v));
          break;
        }
        reader names_reader(*v, at(key), *problems_);  // reports duplicate names
        present();
        for (auto m = v->MemberBegin(); m != v->MemberEnd(); ++m) {
          const std::string name(m->name.GetString(), m->name.GetStringLength());
          if (is_comment(name)) continue;
          const std::string where = at(key) + "/" + pointer_token(name);
          if (!m->value.IsObject()) {
            problems_->push_back({where, "expected an object, got " + describe_value(m->value)});
            continue;
          }
          reader inner(m->value, where, *problems_);
          entry(inner, name);
          inner.finish();
        }
      } else if (d.required) {
        fail_at(key, "missing (required)");
      }
      break;
    case mode::describe: {
      auto& a = out_->schema.GetAllocator();
      Value& p = add_property(key, "object", "object of objects by name", "{}", d);
      Value comments(rapidjson::kObjectType);
      comments.AddMember("^//", Value(rapidjson::kObjectType), a);
      p.AddMember("patternProperties", comments, a);
      p.AddMember("additionalProperties", Value(rapidjson::kObjectType), a);
      reader inner(*out_, p["additionalProperties"], at(key) + "/*");
      entry(inner, {});
      break;
    }
    case mode::write: {
      Value object(rapidjson::kObjectType);
      for (const std::string& name : names) {
        Value item;
        reader inner(item, *allocator_);
        entry(inner, name);
        object.AddMember(Value(name.c_str(), *allocator_), item, *allocator_);
      }
      object_->AddMember(Value(key, *allocator_), object, *allocator_);
      break;
    }
  }
}

void reader::when(const char* key, std::initializer_list<const char*> values,
                  std::initializer_list<const char*> required,
                  std::initializer_list<const char*> forbidden) {
  switch (mode_) {
    case mode::load: {
      auto it = value_->FindMember(key);
      if (it == value_->MemberEnd() || !it->value.IsString()) return;
      const std::string_view current(it->value.GetString(), it->value.GetStringLength());
      if (std::none_of(values.begin(), values.end(), [&](const char* v) { return current == v; }))
        return;
      const std::string because = " when " + std::string(key) + " is " + quoted(current);
      for (const char* r : required)
        if (!has(r)) fail_at(r, "missing: required" + because);
      for (const char* f : forbidden)
        if (has(f)) fail_at(f, "not allowed" + because);
      break;
    }
    case mode::describe: {
      auto& a = out_->schema.GetAllocator();
      Value condition(rapidjson::kObjectType);
      Value on(rapidjson::kObjectType);
      Value list(rapidjson::kArrayType);
      for (const char* v : values) list.PushBack(Value(v, a), a);
      Value match(rapidjson::kObjectType);
      match.AddMember("enum", list, a);
      on.AddMember(Value(key, a), match, a);
      Value if_(rapidjson::kObjectType);
      if_.AddMember("properties", on, a);
      Value if_required(rapidjson::kArrayType);
      if_required.PushBack(Value(key, a), a);
      if_.AddMember("required", if_required, a);
      Value then(rapidjson::kObjectType);
      if (required.size() != 0) {
        Value r(rapidjson::kArrayType);
        for (const char* k : required) r.PushBack(Value(k, a), a);
        then.AddMember("required", r, a);
      }
      if (forbidden.size() != 0) {
        Value any(rapidjson::kArrayType);
        for (const char* k : forbidden) {
          Value one(rapidjson::kObjectType);
          Value r(rapidjson::kArrayType);
          r.PushBack(Value(k, a), a);
          one.AddMember("required", r, a);
          any.PushBack(one, a);
        }
        Value any_of(rapidjson::kObjectType);
        any_of.AddMember("anyOf", any, a);
        then.AddMember("not", any_of, a);
      }
      condition.AddMember("if", if_, a);
      condition.AddMember("then", then, a);
      auto all = schema_->FindMember("allOf");
      if (all == schema_->MemberEnd()) {
        schema_->AddMember("allOf", Value(rapidjson::kArrayType), a);
        all = schema_->FindMember("allOf");
      }
      all->value.PushBack(condition, a);
      break;
    }
    case mode::write:
      break;
  }
}

void reader::when_true(const char* key, std::initializer_list<const char*> required) {
  if (mode_ == mode::load) {
    auto it = value_->FindMember(key);
    if (it == value_->MemberEnd() || !it->value.IsBool() || !it->value.GetBool()) return;
    for (const char* r : required)
      if (!has(r)) fail_at(r, "missing: required when " + std::string(key) + " is true");
    return;
  }
  if (mode_ != mode::describe) return;
  auto& a = out_->schema.GetAllocator();
  Value on(rapidjson::kObjectType);
  Value is_true(rapidjson::kObjectType);
  is_true.AddMember("const", true, a);
  on.AddMember(Value(key, a), is_true, a);
  Value if_(rapidjson::kObjectType);
  if_.AddMember("properties", on, a);
  Value if_required(rapidjson::kArrayType);
  if_required.PushBack(Value(key, a), a);
  if_.AddMember("required", if_required, a);
  Value then(rapidjson::kObjectType);
  Value r(rapidjson::kArrayType);
  for (const char* k : required) r.PushBack(Value(k, a), a);
  then.AddMember("required", r, a);
  Value condition(rapidjson::kObjectType);
  condition.AddMember("if", if_, a);
  condition.AddMember("then", then, a);
  auto all = schema_->FindMember("allOf");
  if (all == schema_->MemberEnd()) {
    schema_->AddMember("allOf", Value(rapidjson::kArrayType), a);
    all = schema_->FindMember("allOf");
  }
  all->value.PushBack(condition, a);
}

void reader::add_rule(Value&& rule) {
  auto& a = out_->schema.GetAllocator();
  auto all = schema_->FindMember("allOf");
  if (all == schema_->MemberEnd()) {
    schema_->AddMember("allOf", Value(rapidjson::kArrayType), a);
    all = schema_->FindMember("allOf");
  }
  all->value.PushBack(rule, a);
}

namespace {
Value required_list(std::initializer_list<const char*> keys, rapidjson::Document::AllocatorType& a) {
  Value r(rapidjson::kArrayType);
  for (const char* k : keys) r.PushBack(Value(k, a), a);
  return r;
}
}  // namespace

void reader::when_present(const char* key, std::initializer_list<const char*> required) {
  if (mode_ == mode::load) {
    if (!has(key)) return;
    for (const char* r : required)
      if (!has(r)) fail_at(r, "missing: required with " + std::string(key));
    return;
  }
  if (mode_ != mode::describe) return;
  auto& a = out_->schema.GetAllocator();
  Value if_(rapidjson::kObjectType);
  if_.AddMember("required", required_list({key}, a), a);
  Value then(rapidjson::kObjectType);
  then.AddMember("required", required_list(required, a), a);
  Value rule(rapidjson::kObjectType);
  rule.AddMember("if", if_, a);
  rule.AddMember("then", then, a);
  add_rule(std::move(rule));
}

namespace {
bool empty_value(const Value& v) {
  return (v.IsString() && v.GetStringLength() == 0) || (v.IsArray() && v.Empty()) ||
         (v.IsObject() && v.ObjectEmpty());
}
}  // namespace

void reader::drop_empty_alternative(const char* first, const char* second) {
  if (mode_ != mode::write) return;
  auto a = object_->FindMember(first), b = object_->FindMember(second);
  if (a == object_->MemberEnd() || b == object_->MemberEnd()) return;
  // Both written: the one left at its empty default is the alternative not chosen.
  if (empty_value(a->value)) object_->RemoveMember(first);
  else if (empty_value(b->value)) object_->RemoveMember(second);
}

void reader::exactly_one(const char* first, const char* second) {
  if (mode_ == mode::load) {
    const bool x = has(first), y = has(second);
    if (x && y) fail_at(second, "not allowed with " + std::string(first) + " (one or the other)");
    if (!x && !y) fail("missing: " + std::string(first) + " or " + second);
    return;
  }
  if (mode_ == mode::write) {
    drop_empty_alternative(first, second);
    return;
  }
  if (mode_ != mode::describe) return;
  auto& a = out_->schema.GetAllocator();
  Value one(rapidjson::kArrayType);
  for (const char* k : {first, second}) {
    Value alt(rapidjson::kObjectType);
    alt.AddMember("required", required_list({k}, a), a);
    one.PushBack(alt, a);
  }
  Value rule(rapidjson::kObjectType);
  rule.AddMember("oneOf", one, a);
  add_rule(std::move(rule));
}

void reader::at_least_one(std::initializer_list<const char*> keys) {
  if (mode_ == mode::load) {
    for (const char* k : keys)
      if (has(k)) return;
    std::string list;
    for (const char* k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
    fail("missing: at least one of " + list);
    return;
  }
  if (mode_ != mode::describe) return;
  auto& a = out_->schema.GetAllocator();
  Value any(rapidjson::kArrayType);
  for (const char* k : keys) {
    Value alt(rapidjson::kObjectType);
    alt.AddMember("required", required_list({k}, a), a);
    any.PushBack(alt, a);
  }
  Value rule(rapidjson::kObjectType);
  rule.AddMember("anyOf", any, a);
  add_rule(std::move(rule));
}

}  // namespace junction::config
