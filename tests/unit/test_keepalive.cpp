// The keepalive decision with a fake clock (router/transport/keepalive.hpp): no sleeping.
#include <doctest/doctest.h>

#include "router/transport/keepalive.hpp"

using namespace junction;
using namespace std::chrono_literals;

TEST_CASE("keepalive: a chatty peer is never pinged; an idle one is pinged, then expired") {
  const keepalive_settings k{1000ms, 500ms};
  keepalive_state s;
  const auto t0 = keepalive_clock::time_point{} + 1h;
  CHECK(keepalive_sweep(s, t0, k) == keepalive_action::none);  // the handshake counted as heard
  for (int i = 1; i <= 10; ++i) {  // traffic between every sweep
    keepalive_heard(s);
    CHECK(keepalive_sweep(s, t0 + i * 900ms, k) == keepalive_action::none);
  }
  const auto quiet = t0 + 9000ms;  // last heard
  CHECK(keepalive_sweep(s, quiet + 999ms, k) == keepalive_action::none);
  CHECK(keepalive_sweep(s, quiet + 1000ms, k) == keepalive_action::ping);
  CHECK(keepalive_sweep(s, quiet + 1200ms, k) == keepalive_action::none);  // waiting for pong
  CHECK(keepalive_sweep(s, quiet + 1499ms, k) == keepalive_action::none);
  CHECK(keepalive_sweep(s, quiet + 1500ms, k) == keepalive_action::expire);
}

TEST_CASE("keepalive: a pong (or any frame) answers the ping") {
  const keepalive_settings k{1000ms, 500ms};
  keepalive_state s;
  const auto t0 = keepalive_clock::time_point{} + 1h;
  keepalive_sweep(s, t0, k);
  CHECK(keepalive_sweep(s, t0 + 1000ms, k) == keepalive_action::ping);
  keepalive_heard(s);  // the pong
  CHECK(keepalive_sweep(s, t0 + 1600ms, k) == keepalive_action::none);
  CHECK(keepalive_sweep(s, t0 + 2599ms, k) == keepalive_action::none);
  CHECK(keepalive_sweep(s, t0 + 2600ms, k) == keepalive_action::ping);  // idle again: ping again
}

TEST_CASE("keepalive: settings") {
  CHECK_FALSE(keepalive_settings{0ms, 500ms}.enabled());
  CHECK(keepalive_settings{30000ms, 10000ms}.sweep_period() == 5000ms);
  CHECK(keepalive_settings{100ms, 20ms}.sweep_period() == 50ms);  // never busier than 20 Hz
}
