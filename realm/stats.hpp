// realm/stats.hpp — counters for /metrics that cost almost nothing where they are counted.
//
// A `counter` is written by one thread (the one that owns what it counts: the realm's, or an I/O
// thread's) and read by the scrape: an increment is a relaxed load and store — a plain `inc` on
// x86, no lock prefix, no contention — and a scrape reads a value that may be one increment
// behind, which Prometheus does not mind. Built with -Dmetrics=false (meson), counting compiles
// to nothing (the bench compares both builds: bench/run "metrics").
//
// realm_stats is what a realm counts; the router sums the rest per I/O thread
// (router/ops/metrics.hpp) and renders everything on scrape.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#ifndef JUNCTION_METRICS
#define JUNCTION_METRICS 1
#endif

namespace junction {

inline constexpr bool metrics_enabled = JUNCTION_METRICS != 0;

class counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    if constexpr (metrics_enabled) value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A Prometheus histogram of durations with fixed buckets (seconds): from half a millisecond to
// ten seconds, the span of a call's life.
class duration_histogram {
 public:
  static constexpr std::array<double, 14> bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                    0.1,    0.25,  0.5,    1,     2.5,  5,    10};
  void observe(std::chrono::nanoseconds d) noexcept {
    if constexpr (!metrics_enabled) return;
    const double s = std::chrono::duration<double>(d).count();
    std::size_t i = 0;
    while (i < bounds.size() && s > bounds[i]) ++i;
    buckets_[i].add();  // buckets_[bounds.size()] is +Inf
    sum_ns_.add(static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count()));
  }
  // Cumulative count of observations ≤ bounds[i] (i == bounds.size(): all of them).
  [[nodiscard]] std::uint64_t cumulative(std::size_t i) const noexcept {
    std::uint64_t n = 0;
    for (std::size_t b = 0; b <= i && b < buckets_.size(); ++b) n += buckets_[b].get();
    return n;
  }
  [[nodiscard]] double sum_seconds() const noexcept { return static_cast<double>(sum_ns_.get()) / 1e9; }

 private:
  std::array<counter, bounds.size() + 1> buckets_;
  counter sum_ns_;
};

// How a call ended (/metrics: junction_calls_ended_total{outcome}).
enum class call_outcome : std::uint8_t {
  result,       // the callee's final RESULT
  error,        // the callee's ERROR with an application URI
  wamp_error,   // the callee's ERROR with a wamp.error.* URI
  timeout,      // the dealer's timeout (CALL.Options.timeout)
  canceled,     // CANCEL, or a party left, or the router shut down
  too_big,      // the INVOCATION or a RESULT was larger than its receiver accepts
  count_,
};
inline constexpr const char* call_outcome_names[] = {"result", "error", "wamp_error", "timeout",
                                                     "canceled", "payload_size_exceeded"};

// Per-session limits of a realm (realm_config: session_limits), for limit_exceeded refusals.
enum class session_limit : std::uint8_t { calls_in_flight, registrations, subscriptions, count_ };
inline constexpr const char* session_limit_names[] = {"calls_in_flight", "registrations", "subscriptions"};

struct realm_stats {
  counter calls_routed;   // CALLs that reached a callee (INVOCATION sent)
  counter calls_refused;  // CALLs the router answered with ERROR before any callee saw them
  std::array<counter, static_cast<std::size_t>(call_outcome::count_)> calls_ended;
  duration_histogram call_duration;  // from CALL to its final RESULT/ERROR
  counter publications;              // PUBLISH accepted (routed, whatever the receivers)
  counter publications_refused;      // PUBLISH refused (invalid URI, options, disclosure)
  counter events;                    // EVENTs sent (one per receiver)
  counter events_too_big;            // EVENTs skipped for a receiver that does not accept their size
  counter events_dropped;            // EVENTs skipped for a congested receiver (slow_consumer drop-events)
  std::array<counter, static_cast<std::size_t>(session_limit::count_)> limit_refusals;
};

}  // namespace junction
