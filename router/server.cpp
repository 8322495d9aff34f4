#include "router/server.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <vector>

#include <sys/eventfd.h>

#include <condition_variable>
#include <future>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "router/asio_timer_queue.hpp"
#include "router/event_loop.hpp"
#include "router/ops/config_file.hpp"
#include "router/ops/log.hpp"
#include "router/ops/metrics.hpp"
#include "router/router.hpp"
#include "router/transport/rawsocket_listener.hpp"
#include "router/transport/loops.hpp"
#include "router/transport/universal_listener.hpp"
#include "router/transport/websocket_listener.hpp"

namespace junction {
namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {

// A router holds a descriptor per connection: take every descriptor the hard limit allows
// (the soft default of 1024 would cap Junction near a thousand clients).
void raise_open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    const rlim_t before = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) rl.rlim_cur = before;
  }
  JLOG(info) << "open-file limit " << rl.rlim_cur;
}

// Secrets the file holds in clear say so at every start and reload (never the secret itself).
void warn_about_clear_secrets(const router_config& c) {
  for (const auto& rc : c.realms) {
    if (rc.auth.ticket)
      for (const auto& [authid, p] : rc.auth.ticket->principals)
        if (!p.ticket.empty())
          JLOG(warn) << "ticket in clear in the config (for development only): store ticket_hash instead "
                        "(junction --make-secret ticket)"
                     << log_field("realm", rc.name) << log_field("authid", authid);
    if (rc.auth.wampcra)
      for (const auto& [authid, p] : rc.auth.wampcra->principals)
        if (!p.secret.empty())
          JLOG(warn) << "unsalted WAMP-CRA secret in the config: a salted derived_key keeps the secret "
                        "out of it (junction --make-secret wampcra)"
                     << log_field("realm", rc.name) << log_field("authid", authid);
  }
}

void apply_log_settings(const router_config& c) {
  set_log_level(c.level);
  set_log_output(c.format == log_format::json ? log_output::json : log_output::text);
}

// How often the event loop proves it turns (/healthz) and suppressed log lines are summarised.
constexpr std::chrono::milliseconds tick_period{250};
// How often a draining or closing router looks at what is left.
constexpr std::chrono::milliseconds drain_poll{20};
// How long the last step of a shutdown waits for connections to finish their closing handshakes.
constexpr std::chrono::seconds close_wait{3};

}  // namespace

// Threads for work that takes milliseconds of CPU (a ticket's key derivation), so that the event
// loop never waits for it. Results come back through an eventfd the loop watches: the io_context
// runs without the scheduler's locks (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE), so no other thread may
// post to it.
class worker {
 public:
  explicit worker(asio::io_context& io) : io_(io), wake_(io) {}
  ~worker() { stop(); }

  void run(std::function<bool()> work, std::function<void(bool)> done) {
    if (threads_.empty()) start();
    const std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back({std::move(work), std::move(done)});
    cv_.notify_one();
  }

  void stop() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      cv_.notify_all();
    }
    for (auto& t : threads_) t.join();
    threads_.clear();
    boost::system::error_code ec;
    wake_.close(ec);
  }

 private:
  struct job {
    std::function<bool()> work;
    std::function<void(bool)> done;
  };

  void start() {
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) throw std::runtime_error("eventfd failed");
    wake_.assign(fd);
    wait_for_results();
    // A thread per core, four at most: key derivations of many reconnecting clients at once.
    const unsigned n = std::clamp(std::thread::hardware_concurrency(), 1U, 4U);
    for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { loop(); });
  }

  void loop() {
    for (;;) {
      job j;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        j = std::move(jobs_.front());
        jobs_.pop_front();
      }
      bool ok = false;
      try {
        ok = j.work();
      } catch (const std::exception&) {
        ok = false;  // a malformed stored secret: a failed authentication, never a crash
      }
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        results_.emplace_back(std::move(j.done), ok);
      }
      const std::uint64_t one = 1;
      [[maybe_unused]] const auto n = ::write(wake_.native_handle(), &one, sizeof one);
    }
  }

  void wait_for_results() {
    wake_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
      if (ec) return;
      std::uint64_t count = 0;
      [[maybe_unused]] const auto n = ::read(wake_.native_handle(), &count, sizeof count);
      std::deque<std::pair<std::function<void(bool)>, bool>> ready;
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        ready.swap(results_);
      }
      for (auto& [done, ok] : ready) done(ok);
      wait_for_results();
    });
  }

  asio::io_context& io_;
  asio::posix::stream_descriptor wake_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<job> jobs_;
  std::deque<std::pair<std::function<void(bool)>, bool>> results_;
  bool stopping_ = false;
};

struct server::impl final : http_routes, executor {
  enum class phase { starting, serving, draining, closing };

  struct running_listener {
    listener_config config;  // as configured (port 0 stays 0)
    std::unique_ptr<listener> l;
  };

  explicit impl(const cli_result& cli)
      : loops_(thread_count(cli.config.threads)),  // docs/THREADING.md
        io_(loops_.main()),
        timers_(io_),
        settings_(cli.config),
        config_file_(cli.config_file),
        flags_(cli.flags),
        router_(settings_, timers_),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        tick_(io_),
        drain_timer_(io_),
        worker_(io_) {
    router_.set_http_routes(this);
    router_.set_executor(this);
    router_.core().enable(loops_.threaded());
    timers_.set_core(&router_.core());
    busy_poll_us_.store(settings_.busy_poll.count());
  }

  // `threads` from the config: 0 is one per CPU this process may run on.
  static unsigned thread_count(unsigned configured) {
    if (configured != 0) return configured;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
    return std::max(1U, std::thread::hardware_concurrency());
  }

  // executor
  // Both run what they are given on loop 0, under the core lock.
  void post(std::function<void()> fn) override {
    asio::post(io_, [this, fn = std::move(fn)] {
      const core_guard lock(router_.core());
      fn();
    });
  }
  void offload(std::function<bool()> work, std::function<void(bool)> done) override {
    worker_.run(std::move(work), [this, done = std::move(done)](bool ok) {
      const core_guard lock(router_.core());
      done(ok);
    });
  }

  int run() {
    apply_log_settings(settings_);
    raise_open_file_limit();
    started_ = last_tick_ = clock::now();
    try {
      for (const auto& lc : settings_.listeners) listeners_.push_back(start_listener(lc));
    } catch (const std::exception& e) {
      JLOG(error) << e.what();
      return 1;
    }
    for (const auto& rc : settings_.realms) JLOG(info) << "serving realm " << rc.name;
    warn_about_clear_secrets(settings_);
    if (!config_file_.empty()) JLOG(info) << "configuration from " << config_file_;
    wait_for_signal();
    tick();
    phase_ = phase::serving;
    run_loops();
    JLOG(info) << "stopped";
    return 0;
  }

  // Loop 0 on this thread, the others on threads of their own, until the shutdown stops them.
  void run_loops() {
    if (loops_.threaded()) {
      JLOG(info) << loops_.size() << " I/O threads";
      for (unsigned i = 1; i < loops_.size(); ++i) {
        asio_loop& l = loops_.at(i);
        guards_.emplace_back(l.io.get_executor());
        threads_.emplace_back([this, &l] {
          this_thread_loop = &l;
          run_event_loop(l.io, busy_poll_us_);
        });
      }
      this_thread_loop = &loops_.at(0);
    }
    run_event_loop(io_, busy_poll_us_);
    for (auto& t : threads_) t.join();
    threads_.clear();
    this_thread_loop = nullptr;
  }

  running_listener start_listener(const listener_config& lc) {
    running_listener r{lc, nullptr};
    switch (lc.kind) {
      case listener_config::protocol::rawsocket:
        r.l = std::make_unique<rawsocket_listener>(loops_, router_, lc);
        break;
      case listener_config::protocol::universal:
        r.l = std::make_unique<universal_listener>(loops_, router_, lc);
        break;
      case listener_config::protocol::websocket:
      case listener_config::protocol::http:
        r.l = std::make_unique<websocket_listener>(loops_, router_, lc);
        break;
    }
    r.l->start();  // throws with the reason when it cannot bind
    return r;
  }

  // ---- signals ------------------------------------------------------------------------------

  void wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      const core_guard lock(router_.core());
      if (sig == SIGHUP) {
        reload("SIGHUP");
      } else if (phase_ == phase::serving || phase_ == phase::starting) {
        JLOG(info) << "signal " << sig << ": shutting down (a second signal exits at once)";
        begin_shutdown();
      } else {
        JLOG(warn) << "signal " << sig << " during shutdown: exiting now";
        std::fflush(stderr);
        ::_exit(1);
      }
      wait_for_signal();
    });
  }

  void tick() {
    const core_guard lock(router_.core());
    last_tick_ = clock::now();
    log_flush_suppressed();
    retiring_.erase(std::remove_if(retiring_.begin(), retiring_.end(),
                                   [](const std::unique_ptr<listener>& l) { return l->view().open == 0; }),
                    retiring_.end());
    tick_.expires_after(tick_period);
    tick_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  }

  // ---- reload -------------------------------------------------------------------------------

  struct reload_result {
    bool ok = false;
    std::vector<std::string> lines;  // what changed, or why nothing did
  };

  reload_result reload(const std::string& trigger) {
    reload_result out;
    if (config_file_.empty()) {
      out.lines.push_back("Junction was started without --config: there is no file to re-read");
      JLOG(warn) << "reload (" << trigger << ") refused: " << out.lines.back();
      return out;
    }
    if (phase_ != phase::serving) {
      out.lines.push_back("the router is shutting down");
      JLOG(warn) << "reload (" << trigger << ") refused: " << out.lines.back();
      return out;
    }
    router_config next;
    if (std::string problems = load_settings(config_file_, flags_, next); !problems.empty()) {
      std::size_t start = 0;
      while (start < problems.size()) {
        const std::size_t end = problems.find('\n', start);
        out.lines.push_back(problems.substr(start, end == std::string::npos ? end : end - start));
        if (end == std::string::npos) break;
        start = end + 1;
      }
      for (const auto& line : out.lines)
        JLOG(error) << "reload (" << trigger << ") refused, nothing changed: " << line;
      return out;
    }
    out.ok = true;
    std::vector<std::string>& changes = out.lines;
    apply_listeners(next, changes);
    for (auto& line : router_.apply(next)) changes.push_back(std::move(line));
    if (next.level != settings_.level || next.format != settings_.format) {
      apply_log_settings(next);
      changes.push_back("log settings changed");
    }
    auto changed = [&](const char* what, bool differs) {
      if (differs) changes.push_back(std::string(what) + " changed");
    };
    changed("busy_poll_us", next.busy_poll != settings_.busy_poll);
    busy_poll_us_.store(next.busy_poll.count());
    if (next.threads != settings_.threads) {
      changes.push_back("threads changed: applies at the next start");
      next.threads = settings_.threads;
    }
    changed("strict_request_ids", next.strict_request_ids != settings_.strict_request_ids);
    changed("limits.max_outbound_bytes (for new connections)",
            next.max_outbound_bytes != settings_.max_outbound_bytes);
    changed("limits.slow_consumer_timeout_ms (for new connections)",
            next.slow_consumer_timeout != settings_.slow_consumer_timeout);
    changed("limits.event_backlog_bytes (for new connections)",
            next.event_backlog_bytes != settings_.event_backlog_bytes);
    changed("shutdown.drain_timeout_ms", next.drain_timeout != settings_.drain_timeout);
    changed("admin.stall_threshold_ms", next.stall_threshold != settings_.stall_threshold);
    changed("admin.reload_endpoint", next.reload_endpoint != settings_.reload_endpoint);
    warn_about_clear_secrets(next);
    settings_ = std::move(next);
    if (changes.empty()) {
      JLOG(info) << "reload (" << trigger << "): no changes";
    } else {
      for (const auto& line : changes) JLOG(info) << "reload (" << trigger << "): " << line;
    }
    return out;
  }

  // Listeners are matched by their socket (type, address, port, TLS or not): a listener no
  // longer configured stops (its sessions are told GOODBYE), a new one starts, one whose other
  // settings changed takes them for its new connections.
  void apply_listeners(router_config& next, std::vector<std::string>& changes) {
    std::vector<running_listener> kept;
    std::map<std::string, std::size_t> wanted;
    for (std::size_t i = 0; i < next.listeners.size(); ++i) wanted.emplace(next.listeners[i].address_key(), i);
    for (auto& r : listeners_) {
      auto it = wanted.find(r.config.address_key());
      if (it == wanted.end()) {
        const std::string url = r.l->url();
        r.l->stop();
        changes.push_back("listener " + url + " removed");
        // Its connections finish their closing handshakes first: it goes when they have.
        retiring_.push_back(std::move(r.l));
        continue;
      }
      const listener_config& want = next.listeners[it->second];
      if (config::listener_json(want) != config::listener_json(r.config)) {
        try {
          r.l->reconfigure(want);
          r.config = want;
          changes.push_back("listener " + r.l->url() + ": settings changed (for new connections)");
        } catch (const std::exception& e) {
          changes.push_back("listener " + r.l->url() + ": new settings refused, the old ones stay: " +
                            e.what());
          next.listeners[it->second] = r.config;
        }
      }
      kept.push_back(std::move(r));
      wanted.erase(it);
    }
    // Whatever is left in `wanted` is new; start them in the file's order.
    std::vector<std::size_t> fresh;
    for (const auto& [key, i] : wanted) fresh.push_back(i);
    std::sort(fresh.begin(), fresh.end());
    for (std::size_t i : fresh) {
      try {
        kept.push_back(start_listener(next.listeners[i]));
        changes.push_back("listener " + kept.back().l->url() + " added");
      } catch (const std::exception& e) {
        changes.push_back("listener " + next.listeners[i].url() + " not started: " + e.what());
      }
    }
    listeners_ = std::move(kept);
  }

  // ---- shutdown -----------------------------------------------------------------------------

  void begin_shutdown() {
    phase_ = phase::draining;
    router_.drain();
    const std::size_t calls = router_.calls_in_flight();
    drain_deadline_ = clock::now() + settings_.drain_timeout;
    JLOG(info) << "shutdown: /readyz answers 503, new sessions and calls are refused; " << calls
               << " calls in flight may take up to " << settings_.drain_timeout.count() << " ms";
    drain_step();
  }

  void drain_step() {
    const core_guard lock(router_.core());
    if (router_.calls_in_flight() == 0 || clock::now() >= drain_deadline_) return close_sessions();
    drain_timer_.expires_after(drain_poll);
    drain_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) drain_step();
    });
  }

  void close_sessions() {
    if (const std::size_t left = router_.calls_in_flight(); left > 0) {
      JLOG(info) << "shutdown: " << left << " calls did not finish in time; their callers get "
                 << "wamp.error.canceled";
      router_.end_calls("the router shut down before the call ended");
    }
    JLOG(info) << "shutdown: saying GOODBYE to every session and closing connections";
    phase_ = phase::closing;
    for (auto& r : listeners_) r.l->stop();
    closing_deadline_ = clock::now() + close_wait;
    closing_step();
  }

  void closing_step() {
    const core_guard lock(router_.core());
    std::size_t open = 0;
    for (const auto& r : listeners_) open += r.l->view().open;
    if (open == 0 || clock::now() >= closing_deadline_) {
      if (open != 0) JLOG(info) << "shutdown: " << open << " connections did not close in time";
      signals_.cancel();
      tick_.cancel();
      worker_.stop();
      for (auto& g : guards_) g.reset();
      for (unsigned i = 0; i < loops_.size(); ++i) loops_.at(i).io.stop();
      return;
    }
    drain_timer_.expires_after(drain_poll);
    drain_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) closing_step();
    });
  }

  // ---- HTTP routes --------------------------------------------------------------------------

  std::optional<http_answer> answer(std::string_view method, std::string_view path,
                                    bool loopback_peer) override {
    // The routes read and change what loop 0 runs (listeners, reload, the tick): asked on
    // another loop, they are answered on loop 0 while the asking loop waits.
    if (loops_.threaded() && this_thread_loop != &loops_.at(0)) {
      auto done = std::make_shared<std::promise<std::optional<http_answer>>>();
      auto result = done->get_future();
      asio::post(io_, [this, done, m = std::string(method), p = std::string(path), loopback_peer] {
        done->set_value(answer(m, p, loopback_peer));
      });
      if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
        return http_answer{503, "text/plain; charset=utf-8", "the router's main loop did not answer in time\n"};
      return result.get();
    }
    const core_guard lock(router_.core());
    const bool get = method == "GET" || method == "HEAD";
    auto wrong_method = [](const char* allow) {
      return http_answer{405, "text/plain; charset=utf-8", "method not allowed\n",
                         std::string("Allow: ") + allow + "\r\n"};
    };
    if (path == "/healthz") {
      if (!get) return wrong_method("GET, HEAD");
      const auto stalled = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - last_tick_);
      if (stalled > settings_.stall_threshold)
        return http_answer{503, "text/plain; charset=utf-8",
                           "unhealthy: the event loop did not turn for " + std::to_string(stalled.count()) +
                               " ms\n"};
      return http_answer{200, "text/plain; charset=utf-8", "ok\n"};
    }
    if (path == "/readyz") {
      if (!get) return wrong_method("GET, HEAD");
      if (phase_ != phase::serving) return http_answer{503, "text/plain; charset=utf-8", "shutting down\n"};
      return http_answer{200, "text/plain; charset=utf-8", "ready\n"};
    }
    if (path == "/metrics") {
      if (!get) return wrong_method("GET, HEAD");
      std::vector<metrics::listener_view> views;
      for (const auto& r : listeners_) views.push_back(r.l->view());
      return http_answer{200, "text/plain; version=0.0.4; charset=utf-8",
                         metrics::render(router_, views, started_)};
    }
    if (path == "/admin/reload" && settings_.reload_endpoint) {
      if (method != "POST") return wrong_method("POST");
      if (!loopback_peer)
        return http_answer{403, "text/plain; charset=utf-8", "reload is answered to loopback peers only\n"};
      const reload_result r = reload("POST /admin/reload");
      std::string body = r.ok ? (r.lines.empty() ? "reloaded: no changes\n" : "reloaded:\n")
                              : "reload refused, nothing changed:\n";
      for (const auto& line : r.lines) body += "  " + line + "\n";
      return http_answer{r.ok ? 200 : 409, "text/plain; charset=utf-8", body};
    }
    return std::nullopt;
  }

  loop_set loops_;
  asio::io_context& io_;  // loop 0's
  std::atomic<std::int64_t> busy_poll_us_{0};
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;  // loops 1..N-1
  std::vector<std::thread> threads_;
  asio_timer_queue timers_;
  router_config settings_;
  std::string config_file_;
  std::vector<std::string> flags_;
  router router_;
  std::vector<running_listener> listeners_;
  std::vector<std::unique_ptr<listener>> retiring_;  // removed by a reload, still closing
  asio::signal_set signals_;
  asio::steady_timer tick_;
  asio::steady_timer drain_timer_;
  phase phase_ = phase::starting;
  clock::time_point started_{};
  clock::time_point last_tick_{};
  clock::time_point drain_deadline_{};
  clock::time_point closing_deadline_{};
  worker worker_;  // last: joined first, while everything its results reach still exists
};

server::server(const cli_result& cli) : impl_(std::make_unique<impl>(cli)) {}
server::~server() = default;
int server::run() { return impl_->run(); }

}  // namespace junction
