#include "router/event_loop.hpp"

#include <boost/asio/io_context.hpp>

namespace junction {

void run_event_loop(boost::asio::io_context& io, const std::atomic<std::int64_t>& busy_poll_us) {
  using clock = std::chrono::steady_clock;
  auto last_work = clock::now();
  for (;;) {
    const std::chrono::microseconds busy_poll{busy_poll_us.load(std::memory_order_relaxed)};
    if (busy_poll.count() <= 0) {
      // Plain blocking; one handler at a time, so that a reload turning polling on is seen.
      if (io.run_one() == 0) return;
      continue;
    }
    // poll() runs every ready handler without blocking (one epoll_wait with a zero timeout);
    // it returns 0 and stops the context once no work is left at all (shutdown).
    if (io.poll() != 0) {
      last_work = clock::now();
      continue;
    }
    if (io.stopped()) return;
    if (clock::now() - last_work < busy_poll) continue;
    // The window passed with nothing to do: block until the next handler.
    if (io.run_one() == 0) return;
    last_work = clock::now();
  }
}

}  // namespace junction
