// tests/support/loop_fakes.hpp — a manual clock for the realms' timers and an executor that runs
// hand-offs when told: what the event loop gives the router, without one. No doctest here (the
// fuzz targets use it too).
#pragma once

#include <functional>
#include <vector>

#include "realm/timer_queue.hpp"
#include "router/router.hpp"

namespace junction::test {

// A timer_queue on a clock that moves only when the test says so: timeouts without sleeping.
struct manual_timers final : timer_queue {
  deadline_queue queue;
  deadline_queue::clock::time_point now{};

  handle schedule(duration after, callback fn) override { return queue.add(now + after, std::move(fn)); }
  void cancel(handle h) noexcept override { queue.remove(h); }
  // Moves the clock forward and runs whatever fell due; returns how many timers fired.
  std::size_t advance(duration by) {
    now += by;
    return queue.run_due(now);
  }
  [[nodiscard]] std::size_t pending() const noexcept { return queue.size(); }
};

// The router's executor, run by hand: hand-offs and "off-loop" work run when drain() is called.
struct queue_executor final : executor {
  std::vector<std::function<void()>> queue;
  void post(std::function<void()> fn) override { queue.push_back(std::move(fn)); }
  void offload(std::function<bool()> work, std::function<void(bool)> done) override {
    queue.push_back([work = std::move(work), done = std::move(done)] { done(work()); });
  }
  // Runs everything queued, including what that queues; returns how many ran.
  std::size_t drain() {
    std::size_t n = 0;
    while (!queue.empty()) {
      auto batch = std::move(queue);
      queue.clear();
      for (auto& fn : batch) fn();
      n += batch.size();
    }
    return n;
  }
};

}  // namespace junction::test
