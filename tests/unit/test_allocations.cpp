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
#include <memory_resource>
#include <string>
#include <string_view>
#include <unordered_map>

#include "realm/node_cache.hpp"
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
    if (m) recycle_strings(*m);  // as session::on_frame does
    out.clear();
    if (to.received == before + 1) c.encode(to.last, out);
    counting = false;
    REQUIRE(routed);
    REQUIRE(to.received == before + 1);
    return allocations.load();
  }
};

}  // namespace

// The counts: a routed call allocates nothing once warm, in either serializer, whatever the length
// of its procedure URI (a longer one than std::string's inline 15 bytes is decoded into a buffer
// the session gave back after routing the previous message, recycle_strings). What was removed
// to get here (issue 17; it was 10 per
// call in JSON, 12 in MessagePack): the decoders' arrays of the fields before the payload (built
// in place now), msgpack-c's unpack stacks (our own reader), the RapidJSON Writer's level stack
// (a buffer in the writer), the raw payload's buffer (payload_bytes' per-thread cache) and the
// dealer's call records and indexes (node_cache); for a publication (it was 8), the shared EVENT
// and its encoding (block_allocator, payload_bytes).
TEST_CASE_FIXTURE(routed_fixture, "allocations: a routed call, CALL in to RESULT out (json and msgpack)") {
  if (!can_count) return;
  for (const codec* c : {&json_codec(), &msgpack_codec()}) {
    // A 7-byte procedure (inline) and one of 21 or 24 bytes (a recycled buffer).
    for (const std::string& procedure : {std::string("p.short"), "com.alloc." + std::string(c->subprotocol())}) {
      CAPTURE(c->subprotocol());
      CAPTURE(procedure);
      const id request = procedure.size() + 100 * static_cast<id>(c->kind());
      REQUIRE_FALSE(r.handle(1, register_{request, {}, procedure}));
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
      MESSAGE(c->subprotocol() << ", procedure of " << procedure.size() << " bytes: " << per_call
                               << " heap allocations per routed call");
      CHECK(per_call == 0);
    }
  }
}

TEST_CASE_FIXTURE(routed_fixture, "allocations: an EVENT to 10 subscribers (json)") {
  if (!can_count) return;
  std::vector<std::shared_ptr<lean_peer>> subscribers;
  for (id s = 10; s < 20; ++s) {
    subscribers.push_back(std::make_shared<lean_peer>());
    r.join(session_info{s, "sub", "anonymous", "anonymous", "", {}}, subscribers.back());
    REQUIRE_FALSE(r.handle(s, subscribe{1, {}, "com.alloc.topic.of.some.length"}));
  }
  std::string publish_frame;
  json_codec().encode(publish{1, {}, "com.alloc.topic.of.some.length", {value(std::string(32, 'x'))}, {}}, publish_frame);
  std::size_t total = 0;
  const int warmup = 200, n = 1000;
  for (int i = 0; i < warmup + n; ++i) {
    allocations = 0;
    counting = true;
    auto m = json_codec().decode_routed(publish_frame);
    const bool routed = m && !r.handle(2, std::move(*m));
    if (m) recycle_strings(*m);  // as session::on_frame does
    for (auto& s : subscribers) (void)s->last_shared->encoded(json_codec());  // once, for all ten
    for (auto& s : subscribers) s->last_shared.reset();
    counting = false;
    REQUIRE(routed);
    if (i >= warmup) total += allocations.load();
  }
  const double per_publication = static_cast<double>(total) / n;
  // None: the shared EVENT (one block with its shared_ptr count, make_shared_message) and its one
  // JSON encoding, which every subscriber's connection sends, both come from the per-thread block
  // cache; the topic's buffer is recycled as a procedure's is.
  MESSAGE("json: " << per_publication << " heap allocations per publication to 10 subscribers");
  CHECK(per_publication == 0);
}

TEST_CASE("allocations: payload_bytes keeps its value through copies and moves, and reuses buffers") {
  payload_bytes a;
  CHECK(a.empty());
  CHECK(a == "");
  a.assign("[1,2]", 5);
  CHECK(a == "[1,2]");
  payload_bytes b = a;  // a copy of its own
  a.assign("[3]", 3);
  CHECK(b == "[1,2]");
  CHECK(a == "[3]");
  payload_bytes c = std::move(b);
  CHECK(c == "[1,2]");
  CHECK(b.empty());  // NOLINT: moved-from is empty by contract
  const std::string big(10000, 'x');  // past the cached sizes: an exact block of its own
  c.assign(big.data(), big.size());
  CHECK(std::string_view(c) == big);
  c = a;
  CHECK(c == "[3]");
  if (!can_count) return;
  // A buffer given back is taken again by the next payload of its size class: no heap.
  { payload_bytes warm; warm.assign(big.data(), 100); }
  allocations = 0;
  counting = true;
  for (int i = 0; i < 100; ++i) {
    payload_bytes p;
    p.assign(big.data(), 90 + static_cast<std::size_t>(i % 30));  // all within 65..128 bytes
  }
  counting = false;
  CHECK(allocations.load() == 0);
}

TEST_CASE("allocations: node_cache hands freed nodes to the next insert, and keeps at most `keep`") {
#if defined(__SANITIZE_ADDRESS__)
  return;  // it caches nothing there (a use after erase must reach AddressSanitizer)
#endif
  node_cache nodes(2);
  {
    std::pmr::unordered_map<id, id> m(&nodes);
    m.reserve(16);  // the bucket array first
    for (id i = 1; i <= 5; ++i) m.emplace(i, i);
    CHECK(nodes.cached() == 0);
    for (id i = 1; i <= 5; ++i) m.erase(i);
    CHECK(nodes.cached() == 2);  // three went back to the heap
    allocations = 0;
    counting = true;
    m.emplace(7, 7);
    m.emplace(8, 8);
    counting = false;
    if (can_count) CHECK(allocations.load() == 0);
    CHECK(nodes.cached() == 0);
    CHECK(m.at(7) == 7);
    CHECK(m.at(8) == 8);
  }
  // Its last two nodes, and its bucket array (17 buckets, 136 bytes: a size class of its own).
  CHECK(nodes.cached() == 3);
}
