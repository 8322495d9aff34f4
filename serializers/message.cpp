// serializers/message.cpp — from_array: the one shape check of a decoded message against the
// traits table, and the move of its elements into the message struct.
//
// Spec: reference/wamp-protocol.md §1.1 (layouts, type rules), §1.4 (ids), §1.8 (a message of the
// wrong shape is a protocol violation; the text built here goes to ABORT Details.message).
#include "serializers/message.hpp"

#include <cstring>
#include <iterator>
#include <new>
#include <type_traits>
#include <utility>

namespace junction {
namespace {

// The spec's names of the elements after the type code, row for row with all_traits, so that a
// failure can say "CALL element 3 (Procedure)". Checked against the traits table below.
struct element_names {
  message_type type;
  std::string_view names[6];
};

// clang-format off
constexpr element_names all_element_names[] = {
  {message_type::hello,        {"Realm", "Details"}},
  {message_type::welcome,      {"Session", "Details"}},
  {message_type::abort,        {"Details", "Reason", "Arguments", "ArgumentsKw"}},
  {message_type::challenge,    {"AuthMethod", "Extra"}},
  {message_type::authenticate, {"Signature", "Extra"}},
  {message_type::goodbye,      {"Details", "Reason"}},
  {message_type::error,        {"REQUEST.Type", "REQUEST.Request", "Details", "Error", "Arguments",
                                "ArgumentsKw"}},
  {message_type::publish,      {"Request", "Options", "Topic", "Arguments", "ArgumentsKw"}},
  {message_type::published,    {"PUBLISH.Request", "Publication"}},
  {message_type::subscribe,    {"Request", "Options", "Topic"}},
  {message_type::subscribed,   {"SUBSCRIBE.Request", "Subscription"}},
  {message_type::unsubscribe,  {"Request", "SUBSCRIBED.Subscription"}},
  {message_type::unsubscribed, {"UNSUBSCRIBE.Request", "Details"}},
  {message_type::event,        {"SUBSCRIBED.Subscription", "PUBLISHED.Publication", "Details",
                                "PUBLISH.Arguments", "PUBLISH.ArgumentsKw"}},
  {message_type::call,         {"Request", "Options", "Procedure", "Arguments", "ArgumentsKw"}},
  {message_type::cancel,       {"CALL.Request", "Options"}},
  {message_type::result,       {"CALL.Request", "Details", "YIELD.Arguments", "YIELD.ArgumentsKw"}},
  {message_type::register_,    {"Request", "Options", "Procedure"}},
  {message_type::registered,   {"REGISTER.Request", "Registration"}},
  {message_type::unregister,   {"Request", "REGISTERED.Registration"}},
  {message_type::unregistered, {"UNREGISTER.Request", "Details"}},
  {message_type::invocation,   {"Request", "REGISTERED.Registration", "Details", "CALL.Arguments",
                                "CALL.ArgumentsKw"}},
  {message_type::interrupt,    {"INVOCATION.Request", "Options"}},
  {message_type::yield,        {"INVOCATION.Request", "Options", "Arguments", "ArgumentsKw"}},
};
// clang-format on

constexpr bool names_match_traits() {
  if (std::size(all_element_names) != std::size(all_traits)) return false;
  for (std::size_t row = 0; row < std::size(all_traits); ++row) {
    const message_traits& t = all_traits[row];
    if (all_element_names[row].type != t.type) return false;
    for (std::size_t i = 0; i < 6; ++i)
      if (all_element_names[row].names[i].empty() != (i + 1 >= t.max_length)) return false;
  }
  return true;
}
static_assert(names_match_traits(), "element names and the traits table disagree");

// Each struct member must hold what its traits row promises, or from_array's moves below would
// not match the validation above them.
template <class T>
constexpr bool holds_kind(field_kind k) {
  if constexpr (std::is_same_v<T, std::uint64_t>)
    return k == field_kind::id || k == field_kind::integer;
  else if constexpr (std::is_same_v<T, std::string>)
    return k == field_kind::uri || k == field_kind::string;
  else if constexpr (std::is_same_v<T, object>)
    return k == field_kind::dict;
  else if constexpr (std::is_same_v<T, array>)
    return k == field_kind::list;
  else
    return false;
}

template <class M, std::size_t... I>
constexpr bool struct_matches_traits(std::index_sequence<I...>) {
  using fields = decltype(std::declval<M&>().fields());
  constexpr message_traits t = traits_of(M::type);
  return (holds_kind<std::remove_reference_t<std::tuple_element_t<I, fields>>>(t.fields[I]) && ...);
}

template <std::size_t... V>
constexpr bool all_structs_match_traits(std::index_sequence<V...>) {
  return (struct_matches_traits<std::variant_alternative_t<V, message>>(
              std::make_index_sequence<
                  traits_of(std::variant_alternative_t<V, message>::type).max_length - 1>{}) &&
          ...);
}
static_assert(all_structs_match_traits(std::make_index_sequence<std::variant_size_v<message>>{}),
              "a message struct's members disagree with its traits row");

const char* type_name(const value& v) noexcept {
  switch (v.get().index()) {
    case 0: return "null";
    case 1: return "a bool";
    case 2:
    case 3: return "an integer";
    case 4: return "a float";
    case 5: return "a string";
    case 6: return "binary";
    case 7: return "a list";
    default: return "a dict";
  }
}

bool fits(const value& v, field_kind k) noexcept {
  std::uint64_t n = 0;
  switch (k) {
    case field_kind::id: return v.as_uint(n) && n >= 1 && n <= max_id;
    case field_kind::integer: return v.as_uint(n) && n <= max_id;
    case field_kind::uri:
    case field_kind::string: return v.is_string();
    case field_kind::dict: return v.is_object();
    case field_kind::list: return v.is_array();
  }
  return false;
}

const char* expectation(field_kind k) noexcept {
  switch (k) {
    case field_kind::id: return "an id in [1, 2^53]";
    case field_kind::integer: return "an integer in [0, 2^53]";
    case field_kind::uri:
    case field_kind::string: return "a string";
    case field_kind::dict: return "a dict";
    case field_kind::list: return "a list";
  }
  return "?";
}

std::string element_failure(const message_traits& t, std::size_t i, const value& got) {
  const std::size_t row = static_cast<std::size_t>(&t - all_traits);
  std::string text(t.name);
  text += " element " + std::to_string(i) + " (";
  text += all_element_names[row].names[i - 1];
  text += ") must be ";
  text += expectation(t.fields[i - 1]);
  text += ", got ";
  // Out-of-range numbers are shown; anything else by its type (payload may be large).
  text += got.is_integer() ? to_debug_string(got) : type_name(got);
  return text;
}

std::string length_failure(const message_traits& t, std::size_t n) {
  std::string text(t.name);
  text += " has " + std::to_string(n) + " elements, expected " + std::to_string(t.min_length);
  if (t.max_length != t.min_length) text += " to " + std::to_string(t.max_length);
  return text;
}

// The moves: validation already guaranteed each element's alternative.
void take(std::uint64_t& dst, value& v) noexcept { (void)v.as_uint(dst); }
void take(std::string& dst, value& v) noexcept { dst = std::move(v.as_string()); }
void take(object& dst, value& v) noexcept { dst = std::move(v.as_object()); }
void take(array& dst, value& v) noexcept { dst = std::move(v.as_array()); }

template <class M, std::size_t... I>
void fill(M& m, value* elements, std::size_t n, std::index_sequence<I...>) {
  auto fields = m.fields();
  // Trailing optional elements that are absent keep their (empty) defaults.
  ((I + 1 < n ? take(std::get<I>(fields), elements[I + 1]) : void()), ...);
}

template <std::size_t... V>
message build(message_type type, value* elements, std::size_t n, std::index_sequence<V...>) {
  message out;
  const auto try_one = [&](auto tag) {
    constexpr std::size_t index = decltype(tag)::value;
    using M = std::variant_alternative_t<index, message>;
    if (M::type != type) return false;
    M& m = out.emplace<index>();
    fill(m, elements, n, std::make_index_sequence<std::tuple_size_v<decltype(m.fields())>>{});
    return true;
  };
  (void)(try_one(std::integral_constant<std::size_t, V>{}) || ...);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// payload_bytes' buffers, and the blocks of take_block: 64 << k bytes (k = 0..6, 64 B to 4 KiB),
// at most `keep` of each size held per thread; larger ones are exact heap blocks. A buffer freed on another thread than
// the one that took it (a message handed to another loop) joins that thread's cache. Under
// AddressSanitizer nothing is held, so a use after free is still caught.
namespace {

struct byte_cache {
  static constexpr std::size_t classes = 7;
  static constexpr std::size_t smallest = 64;
#if defined(__SANITIZE_ADDRESS__)
  static constexpr std::size_t keep = 0;
#else
  static constexpr std::size_t keep = 256;
#endif
  struct block {
    block* next;
  };
  // Trivially destructible, so a payload freed after the thread's cleanup (a static message at
  // exit) still finds it; `closed` then sends its buffer straight back to the heap.
  struct lists {
    block* heads[classes];
    std::size_t counts[classes];
    bool closed;
  };
  static lists& mine() noexcept {
    static thread_local lists l{};
    static thread_local struct cleanup {
      ~cleanup() {
        lists& c = l;
        c.closed = true;
        for (std::size_t k = 0; k < classes; ++k) {
          while (block* b = c.heads[k]) {
            c.heads[k] = b->next;
            ::operator delete(b);
          }
          c.counts[k] = 0;
        }
      }
    } registered;
    (void)registered;
    return l;
  }
  // The class whose buffers hold n bytes; `classes` when none does.
  static std::size_t class_for(std::size_t n) noexcept {
    std::size_t k = 0;
    while (k < classes && (smallest << k) < n) ++k;
    return k;
  }
};

}  // namespace

void* detail::take_block(std::size_t n) {
  const std::size_t k = byte_cache::class_for(n);
  if (k >= byte_cache::classes) return ::operator new(n);
  byte_cache::lists& c = byte_cache::mine();
  if (byte_cache::block* b = c.heads[k]) {
    c.heads[k] = b->next;
    --c.counts[k];
    return b;
  }
  return ::operator new(byte_cache::smallest << k);
}

void detail::give_block(void* p, std::size_t n) noexcept {
  if (p == nullptr) return;
  const std::size_t k = byte_cache::class_for(n);
  byte_cache::lists& c = byte_cache::mine();
  if (k < byte_cache::classes && !c.closed && c.counts[k] < byte_cache::keep) {
    c.heads[k] = new (p) byte_cache::block{c.heads[k]};
    ++c.counts[k];
  } else {
    ::operator delete(p);
  }
}

void payload_bytes::assign(const char* p, std::size_t n) {
  if (n > capacity_) {
    release();
    const std::size_t k = byte_cache::class_for(n);
    capacity_ = k < byte_cache::classes ? byte_cache::smallest << k : n;
    data_ = static_cast<char*>(detail::take_block(capacity_));
  }
  if (n != 0) std::memcpy(data_, p, n);
  size_ = n;
}

void payload_bytes::release() noexcept {
  detail::give_block(data_, capacity_);
  data_ = nullptr;
  size_ = capacity_ = 0;
}

std::string_view name_of(field_kind k) noexcept {
  switch (k) {
    case field_kind::id: return "id";
    case field_kind::integer: return "integer";
    case field_kind::uri: return "uri";
    case field_kind::string: return "string";
    case field_kind::dict: return "dict";
    case field_kind::list: return "list";
  }
  return "?";
}

result<message> from_array(array&& elements) { return from_elements(elements.data(), elements.size()); }

result<message> from_elements(value* elements, std::size_t n) {
  if (n == 0) return fail("empty message");
  const value& code = elements[0];
  // Booleans are not integers here (spec: "integers MUST NOT be used instead of boolean", and
  // the reverse holds for the type code).
  if (!code.is_integer())
    return fail(std::string("message type must be an integer, got ") + type_name(code));
  std::uint64_t code_number = 0;
  const message_traits* t = code.as_uint(code_number) ? find_traits(code_number) : nullptr;
  if (t == nullptr) return fail("unknown message type " + to_debug_string(code));

  if (n < t->min_length || n > t->max_length) return fail(length_failure(*t, n));
  for (std::size_t i = 1; i < n; ++i)
    if (!fits(elements[i], t->fields[i - 1])) return fail(element_failure(*t, i, elements[i]));

  return build(t->type, elements, n, std::make_index_sequence<std::variant_size_v<message>>{});
}

}  // namespace junction
