// realm/timer_queue.hpp — how the realm asks for "call me back in N ms" without owning a clock
// or an io_context (DESIGN.md §1: realm/ has no sockets and no threads).
//
// The router implements timer_queue with one Asio steady_timer per router thread over a
// deadline_queue (router/asio_timer_queue.hpp); unit tests implement it with a manual clock they
// advance (tests/support/fakes.hpp), so call timeouts are tested without sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

namespace junction {

class timer_queue {
 public:
  using duration = std::chrono::milliseconds;
  using callback = std::function<void()>;
  using handle = std::uint64_t;  // 0 is never a live timer

  virtual ~timer_queue() = default;
  // Runs `fn` once, `after` from now, on the realm's executor. `fn` must not throw.
  virtual handle schedule(duration after, callback fn) = 0;
  // Forgets a timer that has not fired; a handle that fired or was canceled is ignored.
  virtual void cancel(handle h) noexcept = 0;
};

// Timers ordered by deadline, with cancel by handle. Both timer_queue implementations keep their
// timers here; it never reads a clock: callers pass `now`.
class deadline_queue {
 public:
  using clock = std::chrono::steady_clock;
  using handle = timer_queue::handle;

  handle add(clock::time_point at, timer_queue::callback fn) {
    const handle h = ++last_handle_;
    auto it = by_deadline_.emplace(std::make_pair(at, h), std::move(fn)).first;
    by_handle_.emplace(h, it);
    return h;
  }

  bool remove(handle h) noexcept {
    auto it = by_handle_.find(h);
    if (it == by_handle_.end()) return false;
    by_deadline_.erase(it->second);
    by_handle_.erase(it);
    return true;
  }

  [[nodiscard]] std::optional<clock::time_point> next() const {
    if (by_deadline_.empty()) return std::nullopt;
    return by_deadline_.begin()->first.first;
  }

  // Runs every callback due at or before `now`, earliest first (ties in scheduling order). A
  // callback may add or remove timers; one added already due runs in the same pass.
  std::size_t run_due(clock::time_point now) {
    std::size_t ran = 0;
    while (!by_deadline_.empty() && by_deadline_.begin()->first.first <= now) {
      auto it = by_deadline_.begin();
      timer_queue::callback fn = std::move(it->second);
      by_handle_.erase(it->first.second);
      by_deadline_.erase(it);
      fn();
      ++ran;
    }
    return ran;
  }

  [[nodiscard]] std::size_t size() const noexcept { return by_handle_.size(); }

 private:
  using key = std::pair<clock::time_point, handle>;
  handle last_handle_ = 0;
  std::map<key, timer_queue::callback> by_deadline_;
  std::unordered_map<handle, std::map<key, timer_queue::callback>::iterator> by_handle_;
};

}  // namespace junction
