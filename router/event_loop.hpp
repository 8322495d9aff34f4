// router/event_loop.hpp — how a router thread runs its io_context.
//
// By default the thread blocks in epoll whenever it has nothing to do (Asio's run()). With a
// busy-poll window it keeps polling for that long after the last handler ran before it blocks:
// a message that arrives inside the window is handled without the sleep/wake-up round trip,
// which on a virtual machine costs tens of microseconds of latency per wake-up
// (docs/PERFORMANCE.md, "Busy polling"). The price is CPU: a router that receives something
// every few tens of microseconds keeps its core 100 % busy, and at moderate load (clients that
// send one frame per write, tens of thousands a second) spinning costs 8-25 % more CPU per call
// than sleeping, because a sleeping loop finds several messages waiting when it wakes and a
// spinning one handles them one by one (docs/PERFORMANCE.md, "Moderate load"). Hence blocking
// by default; a window is for deployments that trade CPU for the latency of lone calls. Under
// full load it changes nothing (there is always work); when idle it blocks after one window.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace boost::asio {
class io_context;
}

namespace junction {

// The default: no window (block). 30 µs is the window that pays for latency on a VM: it covers a
// peer's turnaround (a reply within ~20-30 µs).
inline constexpr std::chrono::microseconds default_busy_poll{0};
// The longest busy-poll window the flag accepts (a longer one only burns more CPU when idle).
inline constexpr std::chrono::microseconds max_busy_poll{10000};

// Runs `io` until it is stopped or out of work. `busy_poll` is read again after every wait, so a
// reload can change it; 0: block whenever there is nothing to do.
// (Atomic: every I/O thread reads the window one reload may change.)
void run_event_loop(boost::asio::io_context& io, const std::atomic<std::int64_t>& busy_poll_us);

}  // namespace junction
