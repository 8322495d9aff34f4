// Heap allocations on the steady-state path of a routed call and a fanned-out event (issue 17:
// "no heap allocation on the steady-state path"; docs/PERFORMANCE.md, "The hot path on one
// core"). The unit binary's operator new counts while a counter is armed; the path is the
// router's from bytes to bytes — decode_routed, the realm, encode — with fake sessions in place
// of the transports. The budgets are today's counts: a change that adds an allocation fails here
// and must say why (or lower the budget when it removes one).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "realm/realm.hpp"
#include "serializers/codec.hpp"
#include "serializers/shared_message.hpp"
#include "support/fakes.hpp"

namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};
}  // namespace

// Under a sanitizer the sanitizer's own operator new stays (it checks new/delete pairing): the
// counts are taken in the plain builds only.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool can_count = false;
#else
constexpr bool can_count = true;
// Counting is on only while `counting` is set; otherwise these are plain malloc/free.
void* operator new(std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

using namespace junction;
using test::fake_peer;

namespace {

// A session that keeps the last message sent to it, as a transport would encode it at once: no
// copies of its own (fake_peer's inbox copies every fan-out EVENT, which would be counted here).
struct lean_peer final : peer {
  message last;
  std::shared_ptr<const shared_message> last_shared;
  std::size_t received = 0;
  delivery send(message&& m) override {
    last = std::move(m);
    ++received;
    return delivery::sent;
  }
  delivery send(const std::shared_ptr<const shared_message>& m) override {
    last_shared = m;
    ++received;
    return delivery::sent;
  }
  void kill(const std::string&, const std::string&) override {}
};

struct routed_fixture {
  test::manual_timers timers;
  realm r{realm_config{"realm1"}, timers};
  std::shared_ptr<lean_peer> callee = std::make_shared<lean_peer>();
  std::shared_ptr<lean_peer> caller = std::make_shared<lean_peer>();
  std::string out;
  routed_fixture() {
    r.join(session_info{1, "callee", "anonymous", "anonymous", "", {}}, callee);
    r.join(session_info{2, "caller", "anonymous", "anonymous", "", {}}, caller);
  }
  // The router's work for one received frame: decode, route, encode what was sent; the
  // allocations it made.
  std::size_t receive(const codec& c, id from, std::string_view frame, lean_peer& to) {
    const std::size_t before = to.received;
    allocations = 0;
    counting = true;
    auto m = c.decode_routed(frame);
    const bool routed = m && !r.handle(from, std::move(*m));
    out.clear();
    if (to.received == before + 1) c.encode(to.last, out);
    counting = false;
    REQUIRE(routed);
    REQUIRE(to.received == before + 1);
    return allocations.load();
  }
};

}  // namespace

// Today's counts (ce478ba; attributed by counting each stage): json 10 per call — each decode 2
// (the array of the fields before the payload, the raw payload's string) plus a procedure name
// over 15 bytes, routing the CALL 3 (the dealer's pending call and its two index entries), each
// encode 1 (the RapidJSON Writer's stack); msgpack 12; a publication to ten subscribers 8.
TEST_CASE_FIXTURE(routed_fixture, "allocations: a routed call, CALL in to RESULT out (json and msgpack)") {
  if (!can_count) return;
  for (const codec* c : {&json_codec(), &msgpack_codec()}) {
    CAPTURE(c->subprotocol());
    const std::string procedure = "com.alloc." + std::string(c->subprotocol());
    REQUIRE_FALSE(r.handle(1, register_{1, {}, procedure}));
    const std::string payload(32, 'x');
    std::string call_frame, yield_frame;
    std::size_t total = 0;
    const int warmup = 200, n = 1000;
    for (int i = 0; i < warmup + n; ++i) {
      // The clients' frames are made outside the count; the router's work is counted.
      call_frame.clear();
      c->encode(call{static_cast<id>(i + 1), {}, procedure, {value(payload)}, {}}, call_frame);
      const std::size_t in = receive(*c, 2, call_frame, *callee);  // CALL → INVOCATION
      const auto inv = c->decode(out);
      REQUIRE(inv);
      yield_frame.clear();
      c->encode(yield{std::get<invocation>(*inv).request, {}, {value(payload)}, {}}, yield_frame);
      const std::size_t back = receive(*c, 1, yield_frame, *caller);  // YIELD → RESULT
      if (i >= warmup) total += in + back;
    }
    const double per_call = static_cast<double>(total) / n;
    MESSAGE(c->subprotocol() << ": " << per_call << " heap allocations per routed call");
    CHECK(per_call <= (c->kind() == serializer::json ? 10 : 12));
  }
}

TEST_CASE_FIXTURE(routed_fixture, "allocations: an EVENT to 10 subscribers (json)") {
  if (!can_count) return;
  std::vector<std::shared_ptr<lean_peer>> subscribers;
  for (id s = 10; s < 20; ++s) {
    subscribers.push_back(std::make_shared<lean_peer>());
    r.join(session_info{s, "sub", "anonymous", "anonymous", "", {}}, subscribers.back());
    REQUIRE_FALSE(r.handle(s, subscribe{1, {}, "com.alloc.topic"}));
  }
  std::string publish_frame;
  json_codec().encode(publish{1, {}, "com.alloc.topic", {value(std::string(32, 'x'))}, {}}, publish_frame);
  std::size_t total = 0;
  const int warmup = 200, n = 1000;
  for (int i = 0; i < warmup + n; ++i) {
    allocations = 0;
    counting = true;
    auto m = json_codec().decode_routed(publish_frame);
    const bool routed = m && !r.handle(2, std::move(*m));
    for (auto& s : subscribers) (void)s->last_shared->encoded(json_codec());  // once, for all ten
    for (auto& s : subscribers) s->last_shared.reset();
    counting = false;
    REQUIRE(routed);
    if (i >= warmup) total += allocations.load();
  }
  const double per_publication = static_cast<double>(total) / n;
  MESSAGE("json: " << per_publication << " heap allocations per publication to 10 subscribers");
  CHECK(per_publication <= 8);
}
