// Several I/O threads (router/io_loop.hpp, docs/THREADING.md) as plain objects: the mailbox of a
// loop, the core lock, and the rule that keeps WAMP's ordering guarantees when the realm routes on
// the thread that read a message — a message to a session on another loop is handed over, in
// order, and a message on the session's own loop goes straight to it only when nothing handed
// over before it still waits. Loops here are driven by hand: `on(loop)` plays "this thread is
// that loop's", `run()` is that loop draining its mailbox.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "router/io_loop.hpp"
#include "router/router.hpp"
#include "router/session.hpp"
#include "support/fakes.hpp"

using namespace junction;
using test::fake_transport;

namespace {

struct manual_loop final : io_loop {
  explicit manual_loop(unsigned i) : io_loop(i) {}
  int wakes = 0;
  void wake() override { ++wakes; }
  void run() { drain(); }
};

// Plays the thread of `l` for the life of the scope.
struct on {
  explicit on(io_loop* l) : before(this_thread_loop) { this_thread_loop = l; }
  ~on() { this_thread_loop = before; }
  io_loop* before;
};

router_config one_realm() {
  router_config c;
  c.realms = {realm_settings{"realm1"}};
  return c;
}

// A client on loop `l`: its session is made, and its frames are read, on that loop.
struct client {
  client(router& r, manual_loop& l) : loop(l), wire(json_codec()) {
    const on here(&loop);
    s = std::make_shared<session>(r, wire, json_codec());
  }
  void send(const std::string& json) {
    const on here(&loop);
    s->on_frame(json);
  }
  // HELLO with `roles` (JSON) into realm1; the WELCOME, sent on the session's own loop with
  // nothing handed over waiting, is there at once.
  void join(const std::string& roles) {
    send(R"([1,"realm1",{"roles":)" + roles + "}]");
    wire.take<welcome>();
  }
  manual_loop& loop;
  fake_transport wire;
  std::shared_ptr<session> s;
};

}  // namespace

TEST_CASE("threads: a loop's mailbox runs in order, with one wake-up per batch") {
  manual_loop l(1);
  std::vector<int> ran;
  CHECK_FALSE(l.has_pending());
  l.hand_over([&] { ran.push_back(1); });
  l.hand_over([&] { ran.push_back(2); });
  CHECK(l.wakes == 1);  // one post for the batch
  CHECK(l.has_pending());
  l.run();
  CHECK(ran == std::vector<int>{1, 2});
  CHECK_FALSE(l.has_pending());
  l.hand_over([&] { ran.push_back(3); });
  CHECK(l.wakes == 2);  // the next batch posts again
  l.run();
  CHECK(ran == std::vector<int>{1, 2, 3});
}

TEST_CASE("threads: the core lock excludes other threads and is re-entrant on one") {
  core_mutex m;
  m.enable(true);
  std::atomic<int> other_ran{0};
  std::thread other;
  {
    const core_guard outer(m);
    {
      const core_guard inner(m);  // a guard inside a guard (a timer firing into a session) is free
      other = std::thread([&] {
        const core_guard g(m);  // waits until this thread lets go of the lock
        other_ran = 1;
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      CHECK(other_ran == 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(other_ran == 0);  // the inner guard's end did not release it: the outer one holds it
  }
  other.join();
  CHECK(other_ran == 1);

  core_mutex off;  // one thread: the lock is not even taken
  const core_guard a(off);
  std::thread([&] { const core_guard b(off); other_ran = 2; }).join();
  CHECK(other_ran == 2);
}

TEST_CASE("threads: messages to a session on another loop are handed over, in routing order") {
  test::manual_timers timers;
  router r(one_realm(), timers);
  manual_loop a(0), b(1);
  client caller(r, a), callee(r, b);
  caller.join(R"({"caller":{}})");
  callee.join(R"({"callee":{},"subscriber":{}})");
  callee.send(R"([64,1,{},"com.p"])");
  const auto reg = callee.wire.take<registered>();

  // The CALL is routed on the caller's loop; the INVOCATION waits in the callee's loop.
  caller.send(R"([48,1,{},"com.p",[1]])");
  CHECK(callee.wire.sent.empty());
  CHECK(b.has_pending());
  CHECK(b.wakes == 1);

  // Meanwhile the callee's own loop reads a SUBSCRIBE: its SUBSCRIBED must not overtake the
  // INVOCATION routed before it.
  callee.send(R"([32,2,{},"com.t"])");
  CHECK(callee.wire.sent.empty());
  b.run();
  REQUIRE(callee.wire.sent.size() == 2);
  const auto inv = callee.wire.take<invocation>();
  CHECK(inv.registration == reg.registration);
  callee.wire.take<subscribed>();

  // With nothing waiting, the callee's loop sends straight again.
  callee.send(R"([34,3,1])");
  CHECK_FALSE(callee.wire.sent.empty());
  callee.wire.sent.clear();

  // The YIELD, read on the callee's loop, hands the RESULT to the caller's loop.
  callee.send(R"([70,)" + std::to_string(inv.request) + R"(,{},[2]])");
  CHECK(caller.wire.sent.empty());
  a.run();
  const auto res = caller.wire.take<result_>();
  CHECK(res.request == 1);
}

TEST_CASE("threads: a message too big for a client on another loop is judged where it is routed") {
  test::manual_timers timers;
  router r(one_realm(), timers);
  manual_loop a(0), b(1);
  client caller(r, a), callee(r, b);
  caller.join(R"({"caller":{}})");
  callee.join(R"({"callee":{}})");
  callee.send(R"([64,1,{},"com.p"])");
  callee.wire.take<registered>();
  callee.wire.max_bytes = 64;  // the callee's client takes no more

  // The INVOCATION does not fit: the caller is answered at once, as on one thread, and nothing
  // is handed to the callee's loop.
  caller.send(R"([48,1,{},"com.p",[")" + std::string(200, 'x') + R"("]])");
  CHECK_FALSE(b.has_pending());
  REQUIRE_FALSE(caller.wire.sent.empty());
  const auto e = caller.wire.take<error>();
  CHECK(e.error_uri == "wamp.error.payload_size_exceeded");
}

TEST_CASE("threads: a session whose connection ended before its mailbox ran gets nothing") {
  test::manual_timers timers;
  router r(one_realm(), timers);
  manual_loop a(0), b(1);
  client pub(r, a), sub(r, b);
  pub.join(R"({"publisher":{}})");
  sub.join(R"({"subscriber":{}})");
  sub.send(R"([32,1,{},"com.t"])");
  sub.wire.take<subscribed>();
  pub.send(R"([16,1,{},"com.t",[1]])");
  CHECK(b.has_pending());
  {
    const on here(&b);
    sub.s->on_transport_closed();
  }
  b.run();  // the EVENT finds the connection gone
  CHECK(sub.wire.sent.empty());
  CHECK(r.find_realm("realm1")->session_count() == 1);
}

TEST_CASE("threads: one EVENT fanned out to a loop's subscribers wakes that loop once, in order with the rest") {
  test::manual_timers timers;
  router r(one_realm(), timers);
  manual_loop a(0), b(1);
  client pub(r, a);
  pub.join(R"({"publisher":{}})");
  std::vector<std::unique_ptr<client>> subs;
  for (int i = 0; i < 3; ++i) {
    subs.push_back(std::make_unique<client>(r, b));
    subs.back()->join(R"({"subscriber":{}})");
    subs.back()->send(R"([32,1,{},"com.t"])");
    subs.back()->wire.take<subscribed>();
  }
  pub.send(R"([16,1,{},"com.t",["first"]])");
  pub.send(R"([16,2,{},"com.t",["second"]])");
  CHECK(b.wakes == 1);  // six deliveries, one post
  for (auto& s : subs) CHECK(s->wire.sent.empty());
  b.run();
  for (auto& s : subs) {
    REQUIRE(s->wire.sent.size() == 2);
    CHECK(s->wire.take<event>().args == array{value("first")});
    CHECK(s->wire.take<event>().args == array{value("second")});
  }
  CHECK_FALSE(b.has_pending());
}
