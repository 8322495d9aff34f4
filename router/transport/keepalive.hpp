// router/transport/keepalive.hpp — the router's keepalive decision (pure; clocks come from the caller).
//
// Each listener runs one sweep timer over all its connections rather than a timer per
// connection, so an idle connection costs two timestamps and two flags. At every sweep:
//   the peer sent anything since the last sweep → it is alive;
//   idle for `interval` with no ping outstanding → ping it;
//   a ping unanswered (and nothing else received) for `timeout` → end the connection,
// so a dead client never holds its registrations and subscriptions for long.
#pragma once

#include <algorithm>
#include <chrono>

namespace junction {

using keepalive_clock = std::chrono::steady_clock;

struct keepalive_settings {
  std::chrono::milliseconds interval{30000};  // 0 disables keepalive
  std::chrono::milliseconds timeout{10000};
  [[nodiscard]] bool enabled() const noexcept { return interval.count() > 0; }
  // How often the listener sweeps: detection is late by at most one period.
  [[nodiscard]] std::chrono::milliseconds sweep_period() const noexcept {
    return std::max(std::chrono::milliseconds{50}, std::min(interval, timeout) / 2);
  }
};

struct keepalive_state {
  bool heard = true;      // something arrived since the last sweep (set on every inbound frame)
  bool ping_outstanding = false;
  keepalive_clock::time_point last_heard{};
  keepalive_clock::time_point ping_sent{};
};

enum class keepalive_action { none, ping, expire };

// Call on every inbound frame, pong included: cheap, no clock read.
inline void keepalive_heard(keepalive_state& s) noexcept { s.heard = true; }

inline keepalive_action keepalive_sweep(keepalive_state& s, keepalive_clock::time_point now,
                                        const keepalive_settings& k) noexcept {
  if (s.heard) {
    s.heard = false;
    s.ping_outstanding = false;
    s.last_heard = now;
    return keepalive_action::none;
  }
  if (s.ping_outstanding) return now - s.ping_sent >= k.timeout ? keepalive_action::expire
                                                                : keepalive_action::none;
  if (now - s.last_heard >= k.interval) {
    s.ping_outstanding = true;
    s.ping_sent = now;
    return keepalive_action::ping;
  }
  return keepalive_action::none;
}

}  // namespace junction
