// router/asio_timer_queue.hpp — the realm's timer_queue on an io_context: one steady_timer for
// all of a router thread's timers, armed for the earliest deadline (a deadline_queue keeps the
// rest), rather than one Asio timer per call. The steady_timer is idle whenever no timer is
// pending, so a stopping router's io_context runs out of work as soon as its sessions are gone.
// Included only by main.cpp: Asio stays out of widely included headers.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "realm/timer_queue.hpp"
#include "router/io_loop.hpp"

namespace junction {

class asio_timer_queue final : public timer_queue {
 public:
  explicit asio_timer_queue(boost::asio::io_context& io) : timer_(io) {}
  // With several I/O threads: the timers run on loop 0 under the core lock, and schedule and
  // cancel are called under it from any loop (router/io_loop.hpp).
  void set_core(core_mutex* core) noexcept { core_ = core; }

  handle schedule(duration after, callback fn) override {
    const auto at = deadline_queue::clock::now() + after;
    const handle h = queue_.add(at, std::move(fn));
    if (!armed_ || at < armed_for_) arm(at);
    return h;
  }

  void cancel(handle h) noexcept override {
    queue_.remove(h);
    if (queue_.size() == 0 && armed_) {
      armed_ = false;
      timer_.cancel();  // nothing left to wait for: let the io_context finish
    }
  }

 private:
  void arm(deadline_queue::clock::time_point at) {
    armed_ = true;
    armed_for_ = at;
    timer_.expires_at(at);
    timer_.async_wait([this, at](const boost::system::error_code& ec) {
      const core_guard lock(*core_);  // the timers call into realms and sessions
      if (ec || !armed_ || armed_for_ != at) return;  // canceled or re-armed since
      armed_ = false;
      queue_.run_due(deadline_queue::clock::now());
      if (auto next = queue_.next()) arm(*next);
    });
  }

  core_mutex unlocked_;  // until set_core: no lock
  core_mutex* core_ = &unlocked_;
  boost::asio::steady_timer timer_;
  deadline_queue queue_;
  bool armed_ = false;
  deadline_queue::clock::time_point armed_for_{};
};

}  // namespace junction
