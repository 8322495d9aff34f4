// serializers/message.hpp — the WAMP message model: one struct per message type, a std::variant of
// all 24, and the one traits table (arity, field kinds, direction).
//
// Each struct lists its fields once, in wire order, through JUNCTION_FIELDS; the generic decoder
// (from_array) and the codecs' encoders walk that tuple, checked against the traits table, so no
// message layout is written twice. Payloads (args/kwargs) are plain members so the realm can move
// them from CALL to INVOCATION and from YIELD to RESULT without copying (DESIGN.md §2.6).
//
// Spec: ../shared/reference/wamp-protocol.md §1.1 (codes and layouts), §1.4 (ids).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <variant>

#include "serializers/result.hpp"
#include "serializers/value.hpp"

namespace junction {

// Ids are integers in [1, 2^53] (spec §IDs); 0 is used only by revocation forms.
using id = std::uint64_t;
inline constexpr id max_id = 9007199254740992ULL;  // 2^53

enum class message_type : std::uint8_t {
  hello = 1,
  welcome = 2,
  abort = 3,
  challenge = 4,
  authenticate = 5,
  goodbye = 6,
  error = 8,
  publish = 16,
  published = 17,
  subscribe = 32,
  subscribed = 33,
  unsubscribe = 34,
  unsubscribed = 35,
  event = 36,
  call = 48,
  cancel = 49,
  result = 50,
  register_ = 64,
  registered = 65,
  unregister = 66,
  unregistered = 67,
  invocation = 68,
  interrupt = 69,
  yield = 70,
};

// Index into per-serializer caches (see shared_message); also the RawSocket serializer id - 1.
enum class serializer : std::uint8_t { json = 0, msgpack = 1, cbor = 2 };
inline constexpr std::size_t serializer_count = 3;

// Payload pass-through (docs/PERFORMANCE.md, "Payload pass-through"): the Arguments and
// ArgumentsKw of a message the router forwards, as the bytes they arrived in — `count` (1 or 2)
// encoded elements of format `kind`, comma-separated for JSON, concatenated for the binary
// formats. A message with a raw payload has empty args/kwargs; the encoder splices the bytes
// into a message of the same format and transcodes them into any other. The router reads a
// payload only after materialize() (codec.hpp), which decodes it into args/kwargs.
//
// The bytes' buffers come from, and go back to, a small cache per thread (message.cpp): once it is
// warm, decoding and forwarding a payload allocates nothing.
class payload_bytes {
 public:
  payload_bytes() noexcept = default;
  payload_bytes(const payload_bytes& o) { assign(o.data(), o.size()); }
  payload_bytes(payload_bytes&& o) noexcept : data_{o.data_}, size_{o.size_}, capacity_{o.capacity_} {
    o.data_ = nullptr;
    o.size_ = o.capacity_ = 0;
  }
  payload_bytes& operator=(const payload_bytes& o) {
    if (this != &o) assign(o.data(), o.size());
    return *this;
  }
  payload_bytes& operator=(payload_bytes&& o) noexcept {
    if (this != &o) {
      release();
      data_ = o.data_;
      size_ = o.size_;
      capacity_ = o.capacity_;
      o.data_ = nullptr;
      o.size_ = o.capacity_ = 0;
    }
    return *this;
  }
  ~payload_bytes() { release(); }

  void assign(const char* p, std::size_t n);
  [[nodiscard]] const char* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  operator std::string_view() const noexcept { return {data_, size_}; }  // NOLINT: implicit on purpose
  friend bool operator==(const payload_bytes& a, std::string_view b) noexcept { return std::string_view(a) == b; }
  friend bool operator!=(const payload_bytes& a, std::string_view b) noexcept { return !(a == b); }

 private:
  void release() noexcept;

  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

namespace detail {
// Blocks from the per-thread cache behind payload_bytes (64 B to 4 KiB; larger ones straight from
// the heap): take_block gives at least n bytes, give_block takes them back with the same n.
void* take_block(std::size_t n);
void give_block(void* p, std::size_t n) noexcept;
}  // namespace detail

// An allocator over those blocks (the shared EVENT of a publication: std::allocate_shared).
template <class T>
struct block_allocator {
  using value_type = T;
  block_allocator() noexcept = default;
  template <class U>
  block_allocator(const block_allocator<U>&) noexcept {}  // NOLINT: rebinding is implicit
  T* allocate(std::size_t n) { return static_cast<T*>(detail::take_block(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { detail::give_block(p, n * sizeof(T)); }
  friend bool operator==(const block_allocator&, const block_allocator&) noexcept { return true; }
  friend bool operator!=(const block_allocator&, const block_allocator&) noexcept { return false; }
};

struct raw_payload {
  payload_bytes bytes;
  std::uint8_t count = 0;  // 0: no raw payload (args/kwargs hold it, decoded)
  serializer kind = serializer::json;
  [[nodiscard]] bool present() const noexcept { return count != 0; }
};

#define JUNCTION_FIELDS(...)                               \
  auto fields() { return std::tie(__VA_ARGS__); }          \
  auto fields() const { return std::tie(__VA_ARGS__); }

// [HELLO, Realm|uri, Details|dict]
struct hello {
  static constexpr message_type type = message_type::hello;
  std::string realm;
  object details;
  JUNCTION_FIELDS(realm, details)
};

// [WELCOME, Session|id, Details|dict]
struct welcome {
  static constexpr message_type type = message_type::welcome;
  id session{};
  object details;
  JUNCTION_FIELDS(session, details)
};

// [ABORT, Details|dict, Reason|uri(, Arguments|list(, ArgumentsKw|dict))]
struct abort {
  static constexpr message_type type = message_type::abort;
  object details;
  std::string reason;
  array args;
  object kwargs;
  JUNCTION_FIELDS(details, reason, args, kwargs)
};

// [CHALLENGE, AuthMethod|string, Extra|dict]
struct challenge {
  static constexpr message_type type = message_type::challenge;
  std::string authmethod;
  object extra;
  JUNCTION_FIELDS(authmethod, extra)
};

// [AUTHENTICATE, Signature|string, Extra|dict]
struct authenticate {
  static constexpr message_type type = message_type::authenticate;
  std::string signature;
  object extra;
  JUNCTION_FIELDS(signature, extra)
};

// [GOODBYE, Details|dict, Reason|uri]
struct goodbye {
  static constexpr message_type type = message_type::goodbye;
  object details;
  std::string reason;
  JUNCTION_FIELDS(details, reason)
};

// [ERROR, REQUEST.Type|int, REQUEST.Request|id, Details|dict, Error|uri(, Arguments|list(, ArgumentsKw|dict))]
struct error {
  static constexpr message_type type = message_type::error;
  std::uint64_t request_type{};
  id request{};
  object details;
  std::string error_uri;
  array args;
  object kwargs;
  raw_payload raw;  // pass-through: set instead of args/kwargs (not a wire field of its own)
  JUNCTION_FIELDS(request_type, request, details, error_uri, args, kwargs)
};

// [PUBLISH, Request|id, Options|dict, Topic|uri(, Arguments|list(, ArgumentsKw|dict))]
struct publish {
  static constexpr message_type type = message_type::publish;
  id request{};
  object options;
  std::string topic;
  array args;
  object kwargs;
  raw_payload raw;  // pass-through: set instead of args/kwargs (not a wire field of its own)
  JUNCTION_FIELDS(request, options, topic, args, kwargs)
};

// [PUBLISHED, PUBLISH.Request|id, Publication|id]
struct published {
  static constexpr message_type type = message_type::published;
  id request{};
  id publication{};
  JUNCTION_FIELDS(request, publication)
};

// [SUBSCRIBE, Request|id, Options|dict, Topic|uri]
struct subscribe {
  static constexpr message_type type = message_type::subscribe;
  id request{};
  object options;
  std::string topic;
  JUNCTION_FIELDS(request, options, topic)
};

// [SUBSCRIBED, SUBSCRIBE.Request|id, Subscription|id]
struct subscribed {
  static constexpr message_type type = message_type::subscribed;
  id request{};
  id subscription{};
  JUNCTION_FIELDS(request, subscription)
};

// [UNSUBSCRIBE, Request|id, SUBSCRIBED.Subscription|id]
struct unsubscribe {
  static constexpr message_type type = message_type::unsubscribe;
  id request{};
  id subscription{};
  JUNCTION_FIELDS(request, subscription)
};

// [UNSUBSCRIBED, UNSUBSCRIBE.Request|id(, Details|dict)] — the Details form is revocation (advanced).
struct unsubscribed {
  static constexpr message_type type = message_type::unsubscribed;
  id request{};
  object details;
  JUNCTION_FIELDS(request, details)
};

// [EVENT, SUBSCRIBED.Subscription|id, PUBLISHED.Publication|id, Details|dict(, Arguments|list(, ArgumentsKw|dict))]
struct event {
  static constexpr message_type type = message_type::event;
  id subscription{};
  id publication{};
  object details;
  array args;
  object kwargs;
  raw_payload raw;  // pass-through: set instead of args/kwargs (not a wire field of its own)
  JUNCTION_FIELDS(subscription, publication, details, args, kwargs)
};

// [CALL, Request|id, Options|dict, Procedure|uri(, Arguments|list(, ArgumentsKw|dict))]
struct call {
  static constexpr message_type type = message_type::call;
  id request{};
  object options;
  std::string procedure;
  array args;
  object kwargs;
  raw_payload raw;  // pass-through: set instead of args/kwargs (not a wire field of its own)
  JUNCTION_FIELDS(request, options, procedure, args, kwargs)
};

// [CANCEL, CALL.Request|id, Options|dict]
struct cancel {
  static constexpr message_type type = message_type::cancel;
  id request{};
  object options;
  JUNCTION_FIELDS(request, options)
};

// [RESULT, CALL.Request|id, Details|dict(, YIELD.Arguments|list(, YIELD.ArgumentsKw|dict))]
// Named result_ (like register_) because result<T> (result.hpp) already owns the plain name.
struct result_ {
  static constexpr message_type type = message_type::result;
  id request{};
  object details;
  array args;
  object kwargs;
  raw_payload raw;  // pass-through: set instead of args/kwargs (not a wire field of its own)
  JUNCTION_FIELDS(request, details, args, kwargs)
};

// [REGISTER, Request|id, Options|dict, Procedure|uri]
struct register_ {
  static constexpr message_type type = message_type::register_;
  id request{};
  object options;
  std::string procedure;
  JUNCTION_FIELDS(request, options, procedure)
};

// [REGISTERED, REGISTER.Request|id, Registration|id]
struct registered {
  static constexpr message_type type = message_type::registered;
  id request{};
  id registration{};
  JUNCTION_FIELDS(request, registration)
};

// [UNREGISTER, Request|id, REGISTERED.Registration|id]
struct unregister {
  static constexpr message_type type = message_type::unregister;
  id request{};
  id registration{};
  JUNCTION_FIELDS(request, registration)
};

// [UNREGISTERED, UNREGISTER.Request|id(, Details|dict)] — the Details form is revocation (advanced).
struct unregistered {
  static constexpr message_type type = message_type::unregistered;
  id request{};
  object details;
  JUNCTION_FIELDS(request, details)
};

// [INVOCATION, Request|id, REGISTERED.Registration|id, Details|dict(, CALL.Arguments|list(, CALL.ArgumentsKw|dict))]
struct invocation {
  static constexpr message_type type = message_type::invocation;
  id request{};
  id registration{};
  object details;
  array args;
  object kwargs;
  raw_payload raw;  // pass-through: set instead of args/kwargs (not a wire field of its own)
  JUNCTION_FIELDS(request, registration, details, args, kwargs)
};

// [INTERRUPT, INVOCATION.Request|id, Options|dict]
struct interrupt {
  static constexpr message_type type = message_type::interrupt;
  id request{};
  object options;
  JUNCTION_FIELDS(request, options)
};

// [YIELD, INVOCATION.Request|id, Options|dict(, Arguments|list(, ArgumentsKw|dict))]
struct yield {
  static constexpr message_type type = message_type::yield;
  id request{};
  object options;
  array args;
  object kwargs;
  raw_payload raw;  // pass-through: set instead of args/kwargs (not a wire field of its own)
  JUNCTION_FIELDS(request, options, args, kwargs)
};

#undef JUNCTION_FIELDS

using message = std::variant<hello, welcome, abort, challenge, authenticate, goodbye, error, publish,
                             published, subscribe, subscribed, unsubscribe, unsubscribed, event,
                             call, cancel, result_, register_, registered, unregister, unregistered,
                             invocation, interrupt, yield>;

// ---------------------------------------------------------------------------------------------
// The traits table: the single description of every message's shape and direction.

enum class field_kind : std::uint8_t {
  id,       // integer in [1, 2^53]
  integer,  // non-negative integer (ERROR's REQUEST.Type)
  uri,      // string (URI rules are checked by the realm, which knows strict/loose)
  string,   // string
  dict,     // map with string keys
  list,     // array
};

struct message_traits {
  message_type type;
  std::string_view name;         // spec name, upper case: "CALL"
  std::uint8_t min_length;       // element count including the type code
  std::uint8_t max_length;       // > min_length when trailing elements are optional
  field_kind fields[6];          // kinds of elements 1..max_length-1
  bool router_receives;          // may a client send this to a router?
  bool has_payload;              // ends with optional Arguments|list, ArgumentsKw|dict
};

using fk = field_kind;
// clang-format off
inline constexpr message_traits all_traits[] = {
  //  type                          name            min max  fields (after the code)                                   router_receives payload
  {message_type::hello,         "HELLO",         3, 3, {fk::uri, fk::dict},                                     true,  false},
  {message_type::welcome,       "WELCOME",       3, 3, {fk::id, fk::dict},                                      false, false},
  {message_type::abort,         "ABORT",         3, 5, {fk::dict, fk::uri, fk::list, fk::dict},                 true,  true},
  {message_type::challenge,     "CHALLENGE",     3, 3, {fk::string, fk::dict},                                  false, false},
  {message_type::authenticate,  "AUTHENTICATE",  3, 3, {fk::string, fk::dict},                                  true,  false},
  {message_type::goodbye,       "GOODBYE",       3, 3, {fk::dict, fk::uri},                                     true,  false},
  {message_type::error,         "ERROR",         5, 7, {fk::integer, fk::id, fk::dict, fk::uri, fk::list, fk::dict}, true, true},
  {message_type::publish,       "PUBLISH",       4, 6, {fk::id, fk::dict, fk::uri, fk::list, fk::dict},         true,  true},
  {message_type::published,     "PUBLISHED",     3, 3, {fk::id, fk::id},                                        false, false},
  {message_type::subscribe,     "SUBSCRIBE",     4, 4, {fk::id, fk::dict, fk::uri},                             true,  false},
  {message_type::subscribed,    "SUBSCRIBED",    3, 3, {fk::id, fk::id},                                        false, false},
  {message_type::unsubscribe,   "UNSUBSCRIBE",   3, 3, {fk::id, fk::id},                                        true,  false},
  {message_type::unsubscribed,  "UNSUBSCRIBED",  2, 3, {fk::integer, fk::dict},                                 false, false},
  {message_type::event,         "EVENT",         4, 6, {fk::id, fk::id, fk::dict, fk::list, fk::dict},          false, true},
  {message_type::call,          "CALL",          4, 6, {fk::id, fk::dict, fk::uri, fk::list, fk::dict},         true,  true},
  {message_type::cancel,        "CANCEL",        3, 3, {fk::id, fk::dict},                                      true,  false},
  {message_type::result,        "RESULT",        3, 5, {fk::id, fk::dict, fk::list, fk::dict},                  false, true},
  {message_type::register_,     "REGISTER",      4, 4, {fk::id, fk::dict, fk::uri},                             true,  false},
  {message_type::registered,    "REGISTERED",    3, 3, {fk::id, fk::id},                                        false, false},
  {message_type::unregister,    "UNREGISTER",    3, 3, {fk::id, fk::id},                                        true,  false},
  {message_type::unregistered,  "UNREGISTERED",  2, 3, {fk::integer, fk::dict},                                 false, false},
  {message_type::invocation,    "INVOCATION",    4, 6, {fk::id, fk::id, fk::dict, fk::list, fk::dict},          false, true},
  {message_type::interrupt,     "INTERRUPT",     3, 3, {fk::id, fk::dict},                                      false, false},
  {message_type::yield,         "YIELD",         3, 5, {fk::id, fk::dict, fk::list, fk::dict},                  true,  true},
};
// clang-format on

// nullptr for unknown or reserved codes (7 was HEARTBEAT in pre-RC drafts and is invalid).
constexpr const message_traits* find_traits(std::uint64_t code) noexcept {
  for (const auto& t : all_traits)
    if (static_cast<std::uint64_t>(t.type) == code) return &t;
  return nullptr;
}
constexpr const message_traits& traits_of(message_type t) noexcept {
  return *find_traits(static_cast<std::uint64_t>(t));
}
inline message_type type_of(const message& m) noexcept {
  return std::visit([](const auto& x) { return x.type; }, m);
}
inline const message_traits& traits_of(const message& m) noexcept { return traits_of(type_of(m)); }
std::string_view name_of(field_kind k) noexcept;

// Validates a decoded top-level array against the traits table and builds the message, moving
// the elements out. The failure text says exactly what was wrong ("CALL element 3 (Procedure)
// must be a string").
result<message> from_array(array&& elements);
// The same over `n` elements in place (a decoder's stack): they are moved from.
result<message> from_elements(value* elements, std::size_t n);

// Whether M carries a pass-through payload (raw_payload member).
template <class M, class = void>
struct has_raw_payload : std::false_type {};
template <class M>
struct has_raw_payload<M, std::void_t<decltype(std::declval<M&>().raw)>> : std::true_type {};

// How many elements the encoder writes for `m` (trailing empty payload elements are omitted, as
// the spec recommends: an empty ArgumentsKw is dropped, and then an empty Arguments; a raw
// payload goes out as it came).
template <class M>
constexpr std::size_t wire_length(const M& m) noexcept {
  constexpr message_traits t = traits_of(M::type);
  static_assert(std::tuple_size_v<decltype(std::declval<const M&>().fields())> + 1 == t.max_length,
                "message struct and traits table disagree");
  if constexpr (has_raw_payload<M>::value) {
    if (m.raw.present()) return t.min_length + m.raw.count;
  }
  if constexpr (t.has_payload) {
    if (!m.kwargs.empty()) return t.max_length;
    if (!m.args.empty()) return t.max_length - 1;
    return t.min_length;
  } else if constexpr (t.min_length != t.max_length) {  // UNSUBSCRIBED / UNREGISTERED revocation
    return m.details.empty() ? t.min_length : t.max_length;
  } else {
    return t.max_length;
  }
}

template <class M>
constexpr std::size_t m_raw_count(const M& m) noexcept {
  if constexpr (has_raw_payload<M>::value) {
    return m.raw.count;
  } else {
    return 0;
  }
}

// Walks the fields of `m` in wire order, calling w(uint64) for the type code and each id/integer,
// w(const std::string&) for strings/URIs, w(const object&) and w(const array&) for containers,
// and w.payload(raw) for a raw payload in place of Arguments/ArgumentsKw.
// Writes exactly wire_length(m) elements after w.begin_array(wire_length(m)).
template <class Writer>
void write_message(Writer& w, const message& msg) {
  std::visit(
      [&w](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        std::size_t n = wire_length(m);
        bool raw = false;
        if constexpr (has_raw_payload<M>::value) {
          if (m.raw.present()) {
            n = traits_of(M::type).min_length;  // the fields before the payload; then the payload
            raw = true;
          }
        }
        w.begin_array(raw ? n + m_raw_count(m) : n);
        w(static_cast<std::uint64_t>(m.type));
        std::size_t written = 1;
        std::apply(
            [&](const auto&... f) {
              auto one = [&](const auto& field) {
                if (written < n) {
                  w(field);
                  ++written;
                }
              };
              (one(f), ...);
            },
            m.fields());
        if constexpr (has_raw_payload<M>::value) {
          if (raw) w.payload(m.raw);
        }
        w.end_array();
      },
      msg);
}

}  // namespace junction
