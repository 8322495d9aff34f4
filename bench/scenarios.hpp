// bench/scenarios.hpp — what junction-bench measures: the options, the run context every
// scenario shares (event loop, watchdog, measurement window, /proc accounting), and one entry
// point per scenario. Each scenario prints one JSON line (report::print).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/histogram.hpp"
#include "bench/ws_client.hpp"
#include "serializers/codec.hpp"

namespace bench {

struct options {
  std::string url = "ws://127.0.0.1:8080/ws";
  std::string realm = "realm1";
  std::string scenario = "rpc";
  std::string serializer = "json";
  int callers = 8;
  int window = 16;
  int window_sessions = 64;  // concurrent handshakes in `sessions` unless --window is given
  bool window_given = false;
  double duration_s = 5;
  double warmup_s = 1;
  int subscribers = 10;
  int sessions = 1000;
  long router_pid = 0;
  std::size_t payload_bytes = 32;
  bool no_wamp = false;       // sessions: hold bare WebSocket/TCP connections (baselines)
  double stall_s = 5;         // no progress for this long → exit non-zero
  double hold_s = 0.5;        // sessions: how long all sessions are held before RSS is read
  // A dynamic authorizer served by the generator (bench/run's authorization rows): one more
  // session in authorizer_realm registers this procedure and allows every action, with
  // `cache: true` when authorizer_cache is set.
  std::string authorizer;
  std::string authorizer_realm;
  bool authorizer_cache = false;
  // rpc: cap on CALLs per second over all callers (0: as fast as replies come back). A capped
  // run models real clients at moderate load: calls spread evenly in time, each in its own
  // write (implies frame_per_write).
  double rate = 0;
  // Every frame goes out in its own write() as it is sent, as most client libraries do, instead
  // of the frames of one loop turn gathered into one write.
  bool frame_per_write = false;
};

// A fatal condition: no progress, setup failure. main prints it and exits non-zero.
struct bench_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// CPU time (utime + stime) of a process from /proc/PID/stat, in microseconds; -1 if unreadable.
std::int64_t process_cpu_us(long pid);
// VmRSS of a process from /proc/PID/status, in KiB; -1 if unreadable.
std::int64_t process_rss_kb(long pid);
// This process's CPU time (getrusage), microseconds.
std::int64_t self_cpu_us();
// Busy time of the whole machine (all CPUs: user+nice+system+irq+softirq+steal from /proc/stat),
// microseconds; -1 if unreadable. Minus the router's and ours, it tells how much else ran.
std::int64_t machine_busy_us();

// One JSON object on one line, keys in insertion order.
class report {
 public:
  report& add(const std::string& key, const std::string& text);
  report& add(const std::string& key, const char* text) { return add(key, std::string(text)); }
  report& add(const std::string& key, double number, int decimals = 1);
  report& add_int(const std::string& key, std::int64_t number);
  report& add_null(const std::string& key);
  report& add_bool(const std::string& key, bool b);
  void print() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// What every scenario needs: the loop, the codec, the watchdog and the measurement window.
class context {
 public:
  explicit context(const options& o);

  const options& opts;
  endpoint target;
  const junction::codec& codec;
  loop net;

  // Runs the loop until pred() holds; bench_error when nothing progressed for stall_s.
  template <class Pred>
  void wait_for(Pred pred, const std::string& what) {
    phase_ = what;
    while (!pred()) turn(std::uint64_t(-1));
  }
  // Runs the loop for `seconds`. `quiet`: nothing is expected to move (the sessions scenario's
  // hold), so the no-progress watchdog does not apply.
  void run_for(double seconds, bool quiet = false);
  // Called after every loop turn while set (rpc --rate sends the calls that are due); returns
  // the time of the next thing due in ns on the loop's clock, or 0 when nothing is due.
  std::function<std::uint64_t()> pace;

  // Runs the loop until pred() holds or `seconds` pass, without the watchdog.
  template <class Pred>
  void settle(Pred pred, double seconds) {
    net.refresh_now();
    const std::uint64_t until = net.now() + static_cast<std::uint64_t>(seconds * 1e9);
    while (!pred() && net.now() < until) net.run_once(10);
  }
  // Ends a run politely: lets in-flight requests finish (up to 2 s), then closes every
  // connection with a close handshake (up to 1 s) and drops whatever is left.
  template <class Pred>
  void finish(Pred drained) {
    settle(drained, 2.0);
    net.close_all_gracefully();
    settle([&] { return net.open_connections() == 0; }, 1.0);
    net.close_all();
  }
  // Marks progress (a reply arrived, a session opened): resets the watchdog.
  void progress() noexcept { last_progress_ = net.now(); }
  // Whether the run is inside the measured window (not warm-up, not draining).
  [[nodiscard]] bool measuring() const noexcept { return measuring_; }

  // Opens the measured window: stamps time and CPU of the router and of the generator.
  void begin_measure();
  // Closes it; the report gets duration, router CPU per op and both CPU utilisations.
  void end_measure();
  // ops_per_s is the generic figure every scenario has; `unit` names it too (calls_per_s, …).
  void add_window(report& r, std::uint64_t ops, const char* unit) const;
  [[nodiscard]] double measured_seconds() const noexcept { return static_cast<double>(t1_ - t0_) / 1e9; }
  void add_latency(report& r, const histogram& h, bool with_p999) const;

  // Counts an error and prints the first few to stderr (they would otherwise vanish in a rate).
  void error(const std::string& what);
  [[nodiscard]] std::uint64_t errors() const noexcept { return errors_; }

  // Opens a connection with the run's subprotocol (or none for --no-wamp/tcp://).
  connection* open(connection_handler& h, bool wamp = true);

  std::string scratch;  // frame building buffer, reused for every frame

  // Invocations of the generator's authorizer (--authorizer), in all and in the measured window.
  std::uint64_t authorizer_calls = 0;
  std::uint64_t authorizer_calls_measured = 0;
  // The measured window has closed: connections closing now are the run ending.
  [[nodiscard]] bool ended() const noexcept { return t1_ != 0; }

 private:
  void turn(std::uint64_t until_ns);

  std::string phase_ = "starting";
  std::uint64_t last_progress_ = 0;
  bool measuring_ = false;
  std::uint64_t errors_ = 0;
  std::uint64_t t0_ = 0, t1_ = 0;
  std::int64_t router_cpu0_ = -1, router_cpu1_ = -1;
  std::int64_t self_cpu0_ = 0, self_cpu1_ = 0;
  std::int64_t machine0_ = -1, machine1_ = -1;
};

// Starts the --authorizer session and returns once its procedure is registered (nothing to do
// without --authorizer). It lives as long as the context's loop.
void start_authorizer(context& ctx);

int run_rpc(context& ctx);
int run_fanout(context& ctx);
int run_sessions(context& ctx);
int run_echo(context& ctx);
int run_codec(context& ctx);

}  // namespace bench
