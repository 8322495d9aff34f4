// router/io_loop.hpp — the I/O threads as the router's code sees them, without Asio
// (docs/THREADING.md, "Several I/O threads").
//
// With `threads` > 1 the server runs one event loop per thread. A connection, and the session on
// it, live on one loop for life: only that loop's thread touches the connection. Whatever a
// session must do to its connection from another thread (a message the realm routed there, a
// close) is handed over: queued in the target loop's mailbox, in order, and run by that loop. The
// router's state (realms, sessions, authentication) is guarded by the core lock below.
//
// With one thread (`threads` = 1) there is no mailbox and no lock: everything runs inline, as in
// the single-threaded router.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "serializers/shared_message.hpp"

namespace junction {

// Who takes a shared message (fan-out) handed over to its loop: the router's session.
class shared_sink {
 public:
  virtual ~shared_sink() = default;
  // On the sink's loop.
  virtual void deliver_handed_over(const std::shared_ptr<const shared_message>& m) = 0;
};

class io_loop;
// The loop whose thread this is; nullptr on every thread with `threads` = 1 (and in unit tests).
inline thread_local io_loop* this_thread_loop = nullptr;

class io_loop {
 public:
  explicit io_loop(unsigned index) : index_(index) {}
  virtual ~io_loop() = default;
  io_loop(const io_loop&) = delete;
  io_loop& operator=(const io_loop&) = delete;

  [[nodiscard]] unsigned index() const noexcept { return index_; }
  [[nodiscard]] bool current() const noexcept { return this_thread_loop == this; }

  // Runs `fn` on this loop's thread after everything handed over before it (FIFO): one post to
  // the event loop per batch, however many messages a routing turn hands to this loop.
  void hand_over(std::function<void()> fn) {
    push([&] { box_.push_back(item{std::move(fn), nullptr, {}}); });
  }

  // The same for one EVENT of a fan-out: the sinks of one shared message that follow each other
  // in the mailbox share one entry (no closure, no copy of the message's pointer per sink).
  void hand_over(const std::shared_ptr<const shared_message>& m, std::shared_ptr<shared_sink> to) {
    push([&] {
      if (box_.empty() || box_.back().shared != m) box_.push_back(item{{}, m, {}});
      box_.back().to.push_back(std::move(to));
    });
  }

  // Whether something handed over has not run yet. Read on the loop's own thread under the core
  // lock, it says whether a message may go straight to a connection (nothing handed over before
  // it is still waiting) or must queue behind.
  [[nodiscard]] bool has_pending() const noexcept { return pending_.load(std::memory_order_acquire) != 0; }

 protected:
  // Posts drain() to the loop's event loop.
  virtual void wake() = 0;

  // Runs what was handed over, in order.
  void drain() {
    std::vector<item> batch;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      batch.swap(box_);
      posted_ = false;
    }
    for (auto& i : batch) {
      if (i.fn) {
        i.fn();
        pending_.fetch_sub(1, std::memory_order_release);
        continue;
      }
      for (auto& sink : i.to) {
        sink->deliver_handed_over(i.shared);
        pending_.fetch_sub(1, std::memory_order_release);
      }
    }
  }

 private:
  // One delivery more (`add` puts it in box_, under the mutex); the loop is woken for the first
  // of a batch.
  template <class Add>
  void push(Add&& add) {
    bool wake_up = false;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      add();
      pending_.fetch_add(1, std::memory_order_relaxed);
      if (!posted_) wake_up = posted_ = true;
    }
    if (wake_up) wake();
  }

  unsigned index_;
  std::mutex mutex_;
  struct item {
    std::function<void()> fn;                      // a closure, or
    std::shared_ptr<const shared_message> shared;  // one shared message for
    std::vector<std::shared_ptr<shared_sink>> to;  // each of these, in order
  };
  std::vector<item> box_;
  std::atomic<std::size_t> pending_{0};
  bool posted_ = false;
};

// The core lock: with several I/O threads, everything that reads or changes the router, its
// realms or a session's state runs under it (session entry points, timers, the worker's results,
// HTTP routes, reload and shutdown). Re-entrant per thread (a guard inside a guard is free), and
// a no-op with one thread.
class core_mutex {
 public:
  void enable(bool on) noexcept { enabled_ = on; }
  [[nodiscard]] bool enabled() const noexcept { return enabled_; }

 private:
  friend class core_guard;
  bool enabled_ = false;
  std::mutex mutex_;
};

inline thread_local int core_depth = 0;

class [[nodiscard]] core_guard {
 public:
  explicit core_guard(core_mutex& m) : m_(m.enabled() ? &m : nullptr) {
    if (m_ != nullptr && core_depth++ == 0) m_->mutex_.lock();
  }
  ~core_guard() {
    if (m_ != nullptr && --core_depth == 0) m_->mutex_.unlock();
  }
  core_guard(const core_guard&) = delete;
  core_guard& operator=(const core_guard&) = delete;

 private:
  core_mutex* m_;
};

}  // namespace junction
