// router/transport/loops.hpp — the server's event loops (docs/THREADING.md, "Several I/O
// threads"): one io_context per I/O thread, loop 0 on the main thread. Includes Asio: only the
// server and the listener .cpp files include it.
//
// Loop 0 also runs the listeners' acceptors, the signals, the timers of the realms and the
// worker's results; every accepted connection goes to the next loop round robin and stays there.
// With one loop nothing is handed over and the io_context runs without locks, exactly the
// single-threaded router.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "router/io_loop.hpp"

namespace junction {

class asio_loop final : public io_loop {
 public:
  asio_loop(unsigned index, bool threaded)
      : io_loop(index), io(threaded ? 1 : BOOST_ASIO_CONCURRENCY_HINT_UNSAFE) {}

  boost::asio::io_context io;

 protected:
  void wake() override {
    boost::asio::post(io, [this] { drain(); });
  }
};

class loop_set {
 public:
  explicit loop_set(unsigned n) {
    if (n == 0) n = 1;
    for (unsigned i = 0; i < n; ++i) loops_.push_back(std::make_unique<asio_loop>(i, n > 1));
  }

  [[nodiscard]] unsigned size() const noexcept { return static_cast<unsigned>(loops_.size()); }
  [[nodiscard]] bool threaded() const noexcept { return loops_.size() > 1; }
  [[nodiscard]] asio_loop& at(unsigned i) noexcept { return *loops_[i]; }
  [[nodiscard]] boost::asio::io_context& main() noexcept { return loops_[0]->io; }

  // The loop for the next connection (round robin; called on loop 0 only).
  [[nodiscard]] asio_loop& pick() noexcept {
    asio_loop& l = *loops_[next_];
    next_ = (next_ + 1) % loops_.size();
    return l;
  }

  // The calling thread's loop (0 with one loop, where this_thread_loop stays null).
  [[nodiscard]] static unsigned current_index() noexcept {
    return this_thread_loop != nullptr ? this_thread_loop->index() : 0;
  }

  // Runs `fn` on loop `i`: inline when this thread is that loop, else posted.
  void run_on(unsigned i, std::function<void()> fn) {
    if (!threaded() || this_thread_loop == loops_[i].get()) return fn();
    boost::asio::post(loops_[i]->io, std::move(fn));
  }

 private:
  std::vector<std::unique_ptr<asio_loop>> loops_;
  std::size_t next_ = 0;
};

}  // namespace junction
