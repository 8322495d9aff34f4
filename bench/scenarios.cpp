#include "bench/scenarios.hpp"

#ifdef JUNCTION_BENCH_LIBCBOR
#include "bench/libcbor_compare.hpp"
#endif

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <sstream>

#include "bench/wamp_frames.hpp"

namespace bench {

using junction::message_type;

// ---------------------------------------------------------------------------------------------
// /proc accounting

std::int64_t process_cpu_us(long pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return -1;
  // The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  std::uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14 and 15: utime, stime (ticks)
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  static const long ticks = sysconf(_SC_CLK_TCK);
  return static_cast<std::int64_t>((utime + stime) * 1000000ULL / static_cast<std::uint64_t>(ticks));
}

std::int64_t process_rss_kb(long pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  return -1;
}

std::int64_t self_cpu_us() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<std::int64_t>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
         ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

std::int64_t machine_busy_us() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(f >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) || cpu != "cpu")
    return -1;
  static const long ticks = sysconf(_SC_CLK_TCK);
  return static_cast<std::int64_t>((user + nice + system + irq + softirq + steal) * 1000000ULL /
                                   static_cast<std::uint64_t>(ticks));
}

// ---------------------------------------------------------------------------------------------
// report

namespace {
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}
}  // namespace

report& report::add(const std::string& key, const std::string& text) {
  fields_.emplace_back(key, json_string(text));
  return *this;
}
report& report::add(const std::string& key, double number, int decimals) {
  if (!std::isfinite(number)) return add_null(key);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, number);
  fields_.emplace_back(key, buf);
  return *this;
}
report& report::add_int(const std::string& key, std::int64_t number) {
  fields_.emplace_back(key, std::to_string(number));
  return *this;
}
report& report::add_null(const std::string& key) {
  fields_.emplace_back(key, "null");
  return *this;
}
report& report::add_bool(const std::string& key, bool b) {
  fields_.emplace_back(key, b ? "true" : "false");
  return *this;
}
void report::print() const {
  std::string line = "{";
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (i) line += ",";
    line += json_string(fields_[i].first) + ":" + fields_[i].second;
  }
  line += "}\n";
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------
// context

namespace {
const junction::codec& codec_named(const std::string& name) {
  if (name == "json") return junction::json_codec();
  if (name == "msgpack") return junction::msgpack_codec();
  if (name == "cbor") return junction::cbor_codec();
  throw bench_error("--serializer must be json, msgpack or cbor, not '" + name + "'");
}
}  // namespace

context::context(const options& o) : opts(o), codec(codec_named(o.serializer)) {
  std::string err;
  if (!parse_url(o.url, target, err)) throw bench_error(err);
  net.frame_per_write = o.frame_per_write;
  last_progress_ = net.now();
}

void context::turn(std::uint64_t until_ns) {
  const std::uint64_t now = net.now();
  std::uint64_t wait_ns = 50'000'000;  // wake up at least every 50 ms for the watchdog
  if (until_ns > now && until_ns - now < wait_ns) wait_ns = until_ns - now;
  if (pace) {
    // epoll_wait counts in milliseconds: anything due sooner than that is polled for.
    const std::uint64_t due = pace();
    if (due != 0) wait_ns = due <= now + 1'000'000 ? 0 : std::min(wait_ns, due - now);
  }
  net.run_once(static_cast<int>((wait_ns + 999'999) / 1'000'000));
  if (pace) {
    net.refresh_now();
    pace();
  }
  const auto stall_ns = static_cast<std::uint64_t>(opts.stall_s * 1e9);
  if (net.now() - last_progress_ > stall_ns) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f", opts.stall_s);
    throw bench_error("no progress for " + std::string(buf) + " s while " + phase_ + " (" +
                      std::to_string(net.open_connections()) + " connections open, " +
                      std::to_string(errors_) + " errors)");
  }
}

void context::run_for(double seconds, bool quiet) {
  net.refresh_now();
  const std::uint64_t until = net.now() + static_cast<std::uint64_t>(seconds * 1e9);
  phase_ = measuring_ ? "measuring" : "warming up";
  while (net.now() < until) {
    if (quiet) progress();
    turn(until);
  }
}

void context::begin_measure() {
  net.refresh_now();
  t0_ = net.now();
  router_cpu0_ = process_cpu_us(opts.router_pid);
  self_cpu0_ = self_cpu_us();
  machine0_ = machine_busy_us();
  measuring_ = true;
}

void context::end_measure() {
  net.refresh_now();
  t1_ = net.now();
  router_cpu1_ = process_cpu_us(opts.router_pid);
  self_cpu1_ = self_cpu_us();
  machine1_ = machine_busy_us();
  measuring_ = false;
  phase_ = "finishing";
}

void context::add_window(report& r, std::uint64_t ops, const char* unit) const {
  const double wall_s = static_cast<double>(t1_ - t0_) / 1e9;
  const double rate = wall_s > 0 ? static_cast<double>(ops) / wall_s : 0.0;
  r.add("duration_s", wall_s, 3);
  r.add_int("ops", static_cast<std::int64_t>(ops));
  r.add("ops_per_s", rate, 1);
  r.add(std::string(unit) + "_per_s", rate, 1);
  if (router_cpu0_ >= 0 && router_cpu1_ >= 0 && ops > 0) {
    const double cpu_us = static_cast<double>(router_cpu1_ - router_cpu0_);
    r.add("router_cpu_us_per_op", cpu_us / static_cast<double>(ops), 3);
    r.add("router_cpu_util", cpu_us / 1e6 / wall_s, 3);
  } else {
    r.add_null("router_cpu_us_per_op");
    r.add_null("router_cpu_util");
  }
  // Near 1.0 means the generator, not the router, limited this run.
  const double gen_util = static_cast<double>(self_cpu1_ - self_cpu0_) / 1e6 / wall_s;
  r.add("gen_cpu_util", gen_util, 3);
  if (!opts.authorizer.empty()) {
    r.add_int("authorizer_calls", static_cast<std::int64_t>(authorizer_calls_measured));
    r.add("authorizer_calls_per_op", ops > 0 ? static_cast<double>(authorizer_calls_measured) / static_cast<double>(ops) : 0.0, 4);
  }
  // Cores' worth of CPU used by everything else during the window (other processes, interrupts
  // not charged to us): on a shared box, a run with a high figure had its cores stolen.
  if (machine0_ >= 0 && machine1_ >= 0 && router_cpu0_ >= 0 && router_cpu1_ >= 0) {
    const double busy = static_cast<double>(machine1_ - machine0_) / 1e6 / wall_s;
    const double router = static_cast<double>(router_cpu1_ - router_cpu0_) / 1e6 / wall_s;
    r.add("other_cpu_util", std::max(0.0, busy - router - gen_util), 3);
  } else {
    r.add_null("other_cpu_util");
  }
}

void context::add_latency(report& r, const histogram& h, bool with_p999) const {
  r.add_int("samples", static_cast<std::int64_t>(h.count()));
  r.add("p50_us", static_cast<double>(h.quantile(0.50)) / 1e3, 1);
  r.add("p99_us", static_cast<double>(h.quantile(0.99)) / 1e3, 1);
  if (with_p999) r.add("p999_us", static_cast<double>(h.quantile(0.999)) / 1e3, 1);
  r.add("max_us", static_cast<double>(h.max()) / 1e3, 1);
}

void context::error(const std::string& what) {
  if (++errors_ <= 5) std::fprintf(stderr, "junction-bench: error: %s\n", what.c_str());
  if (errors_ == 6) std::fprintf(stderr, "junction-bench: (further errors are only counted)\n");
}

connection* context::open(connection_handler& h, bool wamp) {
  std::string err;
  const bool ws_wamp = wamp && !opts.no_wamp && !target.raw_tcp;
  connection* c = net.connect(target, ws_wamp ? std::string(codec.subprotocol()) : std::string(), h, err);
  if (c == nullptr) throw bench_error("cannot connect to " + opts.url + ": " + err);
  c->data_opcode = codec.binary_frames() ? opcode::binary : opcode::text;
  return c;
}

namespace {

std::size_t pow2_at_least(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

void add_common(report& r, const context& ctx, const char* scenario) {
  r.add("scenario", scenario);
  r.add("serializer", ctx.opts.serializer);
  r.add("url", ctx.opts.url);
  r.add_int("payload_bytes", static_cast<std::int64_t>(ctx.opts.payload_bytes));
}

junction::array payload_args(const options& o) {
  return junction::array{junction::value(make_payload(o.payload_bytes))};
}

// ---------------------------------------------------------------------------------------------
// --rate: requests leave one each 1/rate seconds, round robin over the connections as their
// replies free a window slot (a slot waits in ready_ for its turn). Without --rate, each scenario
// sends the moment a slot frees.

class pacer {
 public:
  explicit pacer(context& ctx) : ctx_(ctx) {}
  [[nodiscard]] bool on() const noexcept { return ctx_.opts.rate > 0; }

  // Every connection's `window` slots wait for their turn; send(i) sends one on connection i.
  void start(std::size_t connections, int window, std::function<void(std::size_t)> send) {
    send_ = std::move(send);
    interval_ns_ = 1e9 / ctx_.opts.rate;
    for (int k = 0; k < window; ++k)
      for (std::size_t i = 0; i < connections; ++i) ready_.push_back(i);
    ctx_.net.refresh_now();
    next_ns_ = static_cast<double>(ctx_.net.now());
    ctx_.pace = [this] { return due(); };
  }
  // Connection i has a free slot again.
  void ready(std::size_t i) { ready_.push_back(i); }
  void stop() {
    stopped_ = true;
    ctx_.pace = nullptr;
  }

 private:
  // Sends what is due; returns when the next one is (0: none waits).
  std::uint64_t due() {
    if (stopped_) return 0;
    const auto now = static_cast<double>(ctx_.net.now());
    // A backlog (every slot was busy for a while) is not caught up in one burst: at most 1 ms.
    if (next_ns_ < now - 1e6) next_ns_ = now - 1e6;
    while (!ready_.empty() && next_ns_ <= now) {
      const std::size_t i = ready_.front();
      ready_.pop_front();
      send_(i);
      next_ns_ += interval_ns_;
    }
    return ready_.empty() ? 0 : static_cast<std::uint64_t>(next_ns_);
  }

  context& ctx_;
  std::function<void(std::size_t)> send_;
  std::deque<std::size_t> ready_;
  double interval_ns_ = 0;
  double next_ns_ = 0;
  bool stopped_ = false;
};

// ---------------------------------------------------------------------------------------------
// A connection that joins the realm: HELLO on open, WELCOME → on_joined, then WAMP frames to
// on_wamp. Everything the generator does over WAMP goes through here.

class wamp_scenario : public connection_handler {
 public:
  explicit wamp_scenario(context& ctx, const std::string& realm = {}) : ctx_(ctx) {
    junction::hello h;
    h.realm = realm.empty() ? ctx.opts.realm : realm;
    junction::object roles;
    for (const char* role : {"caller", "callee", "publisher", "subscriber"})
      roles.push_back(role, junction::value(junction::object{}));
    h.details.push_back("roles", junction::value(std::move(roles)));
    ctx.codec.encode(h, hello_frame_);
  }

  void on_open(connection& c) override {
    ctx_.progress();
    c.send(c.data_opcode, hello_frame_);
  }

  void on_message(connection& c, std::string_view frame) override {
    head h;
    if (!peek_head(ctx_.codec.kind(), frame, h)) {
      ctx_.error("connection " + std::to_string(c.user) + ": not a WAMP message: " + describe(ctx_.codec, frame));
      return;
    }
    if (h.type == static_cast<std::uint64_t>(message_type::welcome)) {
      ctx_.progress();
      on_joined(c);
      return;
    }
    if (h.type == static_cast<std::uint64_t>(message_type::abort) ||
        h.type == static_cast<std::uint64_t>(message_type::goodbye)) {
      if (stopping_) return;
      throw bench_error("connection " + std::to_string(c.user) + " got " + describe(ctx_.codec, frame));
    }
    on_wamp(c, frame, h);
  }

  void on_closed(connection& c, const std::string& why) override {
    if (stopping_) return;
    ctx_.error("connection " + std::to_string(c.user) + " lost: " + why);
    if (!ctx_.measuring() && !loaded_)  // during set-up nothing can go on without it
      throw bench_error("connection " + std::to_string(c.user) + " lost during set-up: " + why);
  }

 protected:
  virtual void on_joined(connection& c) = 0;
  virtual void on_wamp(connection& c, std::string_view frame, const head& h) = 0;

  // Replies of type ERROR are counted and shown; the caller decides what else to do.
  void wamp_error(connection& c, std::string_view frame) {
    ctx_.error("connection " + std::to_string(c.user) + " got " + describe(ctx_.codec, frame));
  }

  context& ctx_;
  std::string hello_frame_;
  bool stopping_ = false;  // the run is over: closes and late replies are expected
  bool loaded_ = false;    // set-up is done and load runs
};

// ---------------------------------------------------------------------------------------------
// rpc / rpc-latency: one callee (connection 0) answers every INVOCATION with a pre-encoded
// YIELD; C callers (1..C) each keep W CALLs in flight. Request ids are sequential per caller;
// the send time lives in a ring indexed by id (replies from one callee come back in order, so
// the ring never wraps onto a live call).

class rpc_scenario final : public wamp_scenario {
 public:
  explicit rpc_scenario(context& ctx)
      : wamp_scenario(ctx),
        callers_(ctx.opts.scenario == "rpc-latency" ? 1 : ctx.opts.callers),
        window_(ctx.opts.scenario == "rpc-latency" ? 1 : ctx.opts.window),
        ring_size_(pow2_at_least(static_cast<std::size_t>(window_) * 4)) {
    procedure_ = "bench.rpc.p" + std::to_string(getpid());
    junction::call c;
    c.request = id_template::sentinel_id;
    c.procedure = procedure_;
    c.args = payload_args(ctx.opts);
    call_ = id_template(ctx.codec, c);
    junction::yield y;
    y.request = id_template::sentinel_id;
    y.args = payload_args(ctx.opts);
    yield_ = id_template(ctx.codec, y);
    ctx.codec.encode(junction::register_{1, {}, procedure_}, register_frame_);
  }

  int run() {
    callee_ = ctx_.open(*this);
    callee_->user = 0;
    for (int i = 1; i <= callers_; ++i) {
      callers_state_.emplace_back();
      callers_state_.back().ring.resize(ring_size_);
    }
    ctx_.wait_for([&] { return registered_; }, "waiting for the callee to join and register");
    for (int i = 1; i <= callers_; ++i) {
      connection* c = ctx_.open(*this);
      c->user = static_cast<std::uint64_t>(i);
      callers_state_[static_cast<std::size_t>(i - 1)].conn = c;
    }
    ctx_.wait_for([&] { return joined_callers_ == callers_; }, "waiting for the callers to join");
    loaded_ = true;
    if (pacer_.on()) {
      pacer_.start(callers_state_.size(), window_, [this](std::size_t i) { send_call(callers_state_[i]); });
    } else {
      for (auto& cs : callers_state_)
        for (int k = 0; k < window_; ++k) send_call(cs);
    }
    if (ctx_.opts.warmup_s > 0) ctx_.run_for(ctx_.opts.warmup_s);
    latency_.reset();
    completed_ = 0;
    ctx_.begin_measure();
    ctx_.run_for(ctx_.opts.duration_s);
    ctx_.end_measure();
    stopping_ = true;
    pacer_.stop();
    ctx_.finish([&] { return in_flight_ == 0; });

    report r;
    add_common(r, ctx_, ctx_.opts.scenario == "rpc-latency" ? "rpc-latency" : "rpc");
    r.add_int("callers", callers_);
    r.add_int("window", window_);
    if (ctx_.opts.rate > 0) r.add("rate_cap", ctx_.opts.rate, 0);
    r.add_bool("frame_per_write", ctx_.opts.frame_per_write);
    ctx_.add_window(r, completed_, "calls");
    ctx_.add_latency(r, latency_, true);
    r.add_int("errors", static_cast<std::int64_t>(ctx_.errors()));
    r.print();
    return ctx_.errors() == 0 ? 0 : 1;
  }

 private:
  struct slot {
    std::uint64_t id = 0;  // 0: free
    std::uint64_t sent_ns = 0;
  };
  struct caller_state {
    connection* conn = nullptr;
    std::uint64_t next_id = 1;
    std::vector<slot> ring;
  };

  void on_joined(connection& c) override {
    if (&c == callee_) {
      c.send(c.data_opcode, register_frame_);
    } else {
      ++joined_callers_;
    }
  }

  void on_wamp(connection& c, std::string_view frame, const head& h) override {
    if (&c == callee_) {
      if (h.type == static_cast<std::uint64_t>(message_type::invocation)) {
        yield_.build(ctx_.scratch, h.a);
        c.send(c.data_opcode, ctx_.scratch);
        return;
      }
      if (h.type == static_cast<std::uint64_t>(message_type::registered)) {
        registered_ = true;
        ctx_.progress();
        return;
      }
      if (h.type == static_cast<std::uint64_t>(message_type::error)) {
        if (!loaded_) throw bench_error("REGISTER failed: " + describe(ctx_.codec, frame));
        wamp_error(c, frame);
        return;
      }
      ctx_.error("callee got an unexpected " + describe(ctx_.codec, frame));
      return;
    }
    caller_state& cs = callers_state_[c.user - 1];
    std::uint64_t request = 0;
    if (h.type == static_cast<std::uint64_t>(message_type::result)) {
      request = h.a;
    } else if (h.type == static_cast<std::uint64_t>(message_type::error)) {
      wamp_error(c, frame);
      request = h.b;  // [ERROR, CALL, Request, ...]
    } else {
      ctx_.error("caller got an unexpected " + describe(ctx_.codec, frame));
      return;
    }
    slot& s = cs.ring[request & (ring_size_ - 1)];
    if (s.id != request) {
      ctx_.error("caller " + std::to_string(c.user) + " got a reply to request " + std::to_string(request) +
                 " it has not sent or already had answered");
      return;
    }
    s.id = 0;
    --in_flight_;
    ctx_.progress();
    if (h.type == static_cast<std::uint64_t>(message_type::result) && ctx_.measuring()) {
      latency_.record(ctx_.net.now() - s.sent_ns);
      ++completed_;
    }
    if (stopping_) return;
    if (pacer_.on()) {
      pacer_.ready(c.user - 1);
    } else {
      send_call(cs);
    }
  }

  void send_call(caller_state& cs) {
    std::uint64_t id = cs.next_id;
    // Out-of-order replies could leave a live call in the slot: skip over it (never with one callee).
    while (cs.ring[id & (ring_size_ - 1)].id != 0) ++id;
    cs.next_id = id + 1;
    slot& s = cs.ring[id & (ring_size_ - 1)];
    s.id = id;
    s.sent_ns = ctx_.net.now();
    ++in_flight_;
    call_.build(ctx_.scratch, id);
    cs.conn->send(cs.conn->data_opcode, ctx_.scratch);
  }

  int callers_;
  int window_;
  std::size_t ring_size_;
  std::string procedure_;
  id_template call_;
  id_template yield_;
  std::string register_frame_;
  connection* callee_ = nullptr;
  bool registered_ = false;
  int joined_callers_ = 0;
  std::vector<caller_state> callers_state_;
  histogram latency_;
  std::uint64_t completed_ = 0;
  std::uint64_t in_flight_ = 0;
  pacer pacer_{ctx_};
};

// ---------------------------------------------------------------------------------------------
// fanout: one publisher (connection 0), S subscribers (1..S) on one topic. Flow control counts
// deliveries: a publication is in flight until every subscriber has its EVENT, and the publisher
// keeps W publications in flight. (PUBLISHED would only say the router accepted the PUBLISH,
// not that it wrote the events; counting deliveries bounds what the router buffers and gives
// publish → last-delivery latency directly.) PUBLISH goes without acknowledge, as most
// publishers send it. Each payload carries the publication's sequence number; every subscriber
// checks that it sees 1, 2, 3… with none lost, duplicated or reordered.

class fanout_scenario final : public wamp_scenario {
 public:
  explicit fanout_scenario(context& ctx)
      : wamp_scenario(ctx),
        subscribers_(ctx.opts.subscribers),
        window_(ctx.opts.window),
        ring_size_(pow2_at_least(static_cast<std::size_t>(window_))),
        ring_(ring_size_) {
    if (ctx.opts.payload_bytes < min_payload_bytes)
      throw bench_error("fanout needs --payload-bytes >= " + std::to_string(min_payload_bytes) +
                        " (the payload carries a sequence number)");
    topic_ = "bench.fanout.t" + std::to_string(getpid());
    junction::publish p;
    p.request = id_template::sentinel_id;
    p.topic = topic_;
    p.args = payload_args(ctx.opts);
    publish_ = id_template(ctx.codec, p);
    publish_seq_tail_ = publish_.suffix().size() - publish_.suffix().find('#') - 1;
    // Where the sequence number sits in an EVENT as this codec writes it, counted from the end.
    std::string ev;
    ctx.codec.encode(junction::event{1234567, 7654321, {}, payload_args(ctx.opts), {}}, ev);
    event_seq_tail_ = ev.size() - ev.find('#') - 1;
    ctx.codec.encode(junction::subscribe{1, {}, topic_}, subscribe_frame_);
    last_seq_.assign(static_cast<std::size_t>(subscribers_) + 1, 0);
  }

  int run() {
    for (int i = 1; i <= subscribers_; ++i) {
      connection* c = ctx_.open(*this);
      c->user = static_cast<std::uint64_t>(i);
    }
    ctx_.wait_for([&] { return subscribed_ == subscribers_; }, "waiting for the subscribers to join and subscribe");
    publisher_ = ctx_.open(*this);
    publisher_->user = 0;
    ctx_.wait_for([&] { return publisher_joined_; }, "waiting for the publisher to join");
    loaded_ = true;
    for (int k = 0; k < window_; ++k) publish_next();
    if (ctx_.opts.warmup_s > 0) ctx_.run_for(ctx_.opts.warmup_s);
    latency_.reset();
    deliveries_ = 0;
    publications_ = 0;
    ctx_.begin_measure();
    ctx_.run_for(ctx_.opts.duration_s);
    ctx_.end_measure();
    stopping_ = true;
    ctx_.finish([&] { return completed_total_ + 1 == next_seq_; });

    report r;
    add_common(r, ctx_, "fanout");
    r.add_int("subscribers", subscribers_);
    r.add_int("window", window_);
    r.add("flow_control", "deliveries");
    ctx_.add_window(r, deliveries_, "deliveries");
    r.add_int("publications", static_cast<std::int64_t>(publications_));
    r.add("publications_per_s", static_cast<double>(publications_) / ctx_.measured_seconds(), 1);
    ctx_.add_latency(r, latency_, true);
    r.add_int("errors", static_cast<std::int64_t>(ctx_.errors()));
    r.print();
    return ctx_.errors() == 0 ? 0 : 1;
  }

 private:
  struct slot {
    std::uint64_t seq = 0;
    std::uint64_t sent_ns = 0;
    int remaining = 0;
  };

  void on_joined(connection& c) override {
    if (c.user == 0) {
      publisher_joined_ = true;
    } else {
      c.send(c.data_opcode, subscribe_frame_);
    }
  }

  void on_wamp(connection& c, std::string_view frame, const head& h) override {
    if (h.type == static_cast<std::uint64_t>(message_type::event)) {
      on_event(c, frame);
      return;
    }
    if (h.type == static_cast<std::uint64_t>(message_type::subscribed)) {
      ++subscribed_;
      ctx_.progress();
      return;
    }
    if (h.type == static_cast<std::uint64_t>(message_type::error) && !loaded_)
      throw bench_error("SUBSCRIBE failed: " + describe(ctx_.codec, frame));
    ctx_.error("connection " + std::to_string(c.user) + " got an unexpected " + describe(ctx_.codec, frame));
  }

  void on_event(connection& c, std::string_view frame) {
    std::uint64_t seq = 0;
    bool ok = false;
    if (frame.size() > event_seq_tail_) {
      const char* digits = frame.data() + frame.size() - event_seq_tail_;
      ok = digits[-1] == '#' && read_seq(digits, seq);
    }
    if (!ok) ok = decode_seq(frame, seq);  // a router that encodes EVENT differently
    if (!ok) {
      ctx_.error("subscriber " + std::to_string(c.user) + " got an EVENT without our payload: " +
                 describe(ctx_.codec, frame));
      return;
    }
    std::uint64_t& last = last_seq_[c.user];
    if (seq != last + 1)
      ctx_.error("subscriber " + std::to_string(c.user) + " got publication " + std::to_string(seq) +
                 " after " + std::to_string(last) + " (lost, duplicated or reordered)");
    last = seq;
    slot& s = ring_[seq & (ring_size_ - 1)];
    if (s.seq != seq || s.remaining <= 0) {
      ctx_.error("EVENT for publication " + std::to_string(seq) + " that is not in flight");
      return;
    }
    ctx_.progress();
    if (ctx_.measuring()) ++deliveries_;
    if (--s.remaining == 0) {
      ++completed_total_;
      if (ctx_.measuring()) {
        latency_.record(ctx_.net.now() - s.sent_ns);
        ++publications_;
      }
      if (!stopping_) publish_next();
    }
  }

  // The slow path, for EVENTs laid out differently (Details filled in, a trailing ArgumentsKw):
  // plain values, not the strict message decoder, so that a peer's quirks (fox-wamp sends
  // ArgumentsKw as null) do not hide the payload.
  bool decode_seq(std::string_view frame, std::uint64_t& seq) {
    auto v = ctx_.codec.decode_value(frame);
    if (!v || !v->is_array() || v->as_array().size() < 5 || !v->as_array()[4].is_array()) return false;
    const junction::array& args = v->as_array()[4].as_array();
    if (args.empty() || !args[0].is_string()) return false;
    const std::string& s = args[0].as_string();
    return s.size() >= min_payload_bytes && s[0] == '#' && read_seq(s.data() + 1, seq);
  }

  void publish_next() {
    const std::uint64_t seq = next_seq_++;
    slot& s = ring_[seq & (ring_size_ - 1)];
    s.seq = seq;
    s.sent_ns = ctx_.net.now();
    s.remaining = subscribers_;
    publish_.build(ctx_.scratch, seq);
    write_seq(&ctx_.scratch[ctx_.scratch.size() - publish_seq_tail_], seq);
    publisher_->send(publisher_->data_opcode, ctx_.scratch);
  }

  int subscribers_;
  int window_;
  std::size_t ring_size_;
  std::vector<slot> ring_;
  std::vector<std::uint64_t> last_seq_;  // per subscriber (index = connection user)
  std::string topic_;
  id_template publish_;
  std::size_t publish_seq_tail_ = 0;
  std::size_t event_seq_tail_ = 0;
  std::string subscribe_frame_;
  connection* publisher_ = nullptr;
  bool publisher_joined_ = false;
  int subscribed_ = 0;
  std::uint64_t next_seq_ = 1;
  histogram latency_;
  std::uint64_t deliveries_ = 0;
  std::uint64_t publications_ = 0;
  std::uint64_t completed_total_ = 0;
};

// ---------------------------------------------------------------------------------------------
// sessions: open N sessions, at most K handshakes at a time (TCP connect → upgrade → HELLO →
// WELCOME), hold them all, and read the router's VmRSS before and after. With --no-wamp (or a
// tcp:// URL) a "session" is the bare WebSocket (or TCP) connection: the transport's own cost.

class sessions_scenario final : public wamp_scenario {
 public:
  explicit sessions_scenario(context& ctx)
      : wamp_scenario(ctx),
        total_(ctx.opts.sessions),
        concurrency_(ctx.opts.window_given ? ctx.opts.window : ctx.opts.window_sessions),
        bare_(ctx.opts.no_wamp || ctx.target.raw_tcp) {}

  int run() {
    conns_.reserve(static_cast<std::size_t>(total_));
    started_ns_.reserve(static_cast<std::size_t>(total_));
    const std::int64_t rss_before = process_rss_kb(ctx_.opts.router_pid);
    ctx_.begin_measure();
    loaded_ = true;
    top_up();
    ctx_.wait_for([&] { return established_ == total_; }, "opening sessions (" + std::to_string(total_) + " wanted; the router may be out of file descriptors)");
    ctx_.end_measure();
    const std::uint64_t opened = static_cast<std::uint64_t>(established_);
    // Hold them: nothing should move, and none may be dropped.
    ctx_.run_for(ctx_.opts.hold_s, /*quiet=*/true);
    std::size_t open = 0;
    for (connection* c : conns_) open += c->is_open() ? 1 : 0;
    if (open != conns_.size())
      ctx_.error(std::to_string(conns_.size() - open) + " sessions were dropped while held");
    const std::int64_t rss_after = process_rss_kb(ctx_.opts.router_pid);
    stopping_ = true;
    ctx_.finish([] { return true; });
    // The router frees what it can once the sockets are gone; allow it a moment.
    ctx_.settle([] { return false; }, 0.2);
    const std::int64_t rss_closed = process_rss_kb(ctx_.opts.router_pid);

    report r;
    add_common(r, ctx_, "sessions");
    r.add_int("sessions", total_);
    r.add_int("concurrency", concurrency_);
    r.add_bool("wamp", !bare_);
    ctx_.add_window(r, opened, "sessions");
    ctx_.add_latency(r, latency_, false);
    if (rss_before >= 0 && rss_after >= 0) {
      r.add_int("rss_before_kb", rss_before);
      r.add_int("rss_after_kb", rss_after);
      r.add_int("rss_after_close_kb", rss_closed);
      r.add("bytes_per_session", static_cast<double>(rss_after - rss_before) * 1024.0 / total_, 0);
    } else {
      r.add_null("rss_before_kb");
      r.add_null("rss_after_kb");
      r.add_null("rss_after_close_kb");
      r.add_null("bytes_per_session");
    }
    r.add_int("errors", static_cast<std::int64_t>(ctx_.errors()));
    r.print();
    return ctx_.errors() == 0 ? 0 : 1;
  }

 private:
  void top_up() {
    while (in_progress_ < concurrency_ && static_cast<int>(conns_.size()) < total_) {
      connection* c = ctx_.open(*this, !bare_);
      c->user = conns_.size();
      conns_.push_back(c);
      started_ns_.push_back(ctx_.net.now());
      ++in_progress_;
    }
  }

  void established(connection& c) {
    ctx_.progress();
    latency_.record(ctx_.net.now() - started_ns_[c.user]);
    ++established_;
    --in_progress_;
    top_up();
  }

  void on_open(connection& c) override {
    if (bare_) {
      established(c);
      return;
    }
    wamp_scenario::on_open(c);
  }

  void on_message(connection& c, std::string_view frame) override {
    if (bare_) {
      ctx_.error("connection " + std::to_string(c.user) + " got an unexpected message");
      return;
    }
    wamp_scenario::on_message(c, frame);
  }

  void on_closed(connection& c, const std::string& why) override {
    if (stopping_) return;
    ctx_.error("session " + std::to_string(c.user) + " lost: " + why);
    // While opening, a refused or reset connection means the router is out of file descriptors
    // or memory: that is the result, stop here.
    if (ctx_.measuring())
      throw bench_error("session " + std::to_string(c.user) + " lost after " + std::to_string(established_) +
                        " of " + std::to_string(total_) + " sessions opened: " + why);
  }

  void on_joined(connection& c) override { established(c); }
  void on_wamp(connection& c, std::string_view frame, const head&) override {
    ctx_.error("session " + std::to_string(c.user) + " got an unexpected " + describe(ctx_.codec, frame));
  }

  int total_;
  int concurrency_;
  bool bare_;
  int in_progress_ = 0;
  int established_ = 0;
  std::vector<connection*> conns_;
  std::vector<std::uint64_t> started_ns_;
  histogram latency_;
};

// ---------------------------------------------------------------------------------------------
// echo: C connections each keep W messages in flight against an echo server. The message is the
// rpc scenario's CALL frame, so sizes match. ws:// → WebSocket frames (the server unmasks and
// answers with unmasked frames); tcp:// → no upgrade, the server returns our masked bytes verbatim
// and the parser unmasks them. Replies come back in order, so a FIFO of send times per
// connection gives the round trip.

class echo_scenario final : public connection_handler {
 public:
  explicit echo_scenario(context& ctx)
      : ctx_(ctx), ring_size_(pow2_at_least(static_cast<std::size_t>(ctx.opts.window))) {
    junction::call c;
    c.request = 1;
    c.procedure = "bench.rpc.p" + std::to_string(getpid());
    c.args = payload_args(ctx.opts);
    ctx.codec.encode(c, message_);
  }

  int run() {
    for (int i = 0; i < ctx_.opts.callers; ++i) {
      connection* c = ctx_.open(*this, false);
      c->user = static_cast<std::uint64_t>(i);
      conns_.push_back(state{c, std::vector<std::uint64_t>(ring_size_), 0, 0});
    }
    ctx_.wait_for([&] { return opened_ == ctx_.opts.callers; }, "waiting for the echo connections to open");
    loaded_ = true;
    if (pacer_.on()) {
      pacer_.start(conns_.size(), ctx_.opts.window, [this](std::size_t i) { send_one(conns_[i]); });
    } else {
      for (auto& s : conns_)
        for (int k = 0; k < ctx_.opts.window; ++k) send_one(s);
    }
    if (ctx_.opts.warmup_s > 0) ctx_.run_for(ctx_.opts.warmup_s);
    latency_.reset();
    messages_ = 0;
    ctx_.begin_measure();
    ctx_.run_for(ctx_.opts.duration_s);
    ctx_.end_measure();
    stopping_ = true;
    pacer_.stop();
    ctx_.finish([&] {
      for (const auto& s : conns_)
        if (s.head != s.tail) return false;
      return true;
    });

    report r;
    add_common(r, ctx_, "echo");
    r.add("transport", ctx_.target.raw_tcp ? "tcp" : ctx_.target.rawsocket ? "rs" : "ws");
    r.add_int("connections", ctx_.opts.callers);
    r.add_int("window", ctx_.opts.window);
    r.add_int("message_bytes", static_cast<std::int64_t>(message_.size()));
    if (ctx_.opts.rate > 0) r.add("rate_cap", ctx_.opts.rate, 0);
    r.add_bool("frame_per_write", ctx_.opts.frame_per_write);
    ctx_.add_window(r, messages_, "messages");
    ctx_.add_latency(r, latency_, true);
    r.add_int("errors", static_cast<std::int64_t>(ctx_.errors()));
    r.print();
    return ctx_.errors() == 0 ? 0 : 1;
  }

 private:
  struct state {
    connection* conn;
    std::vector<std::uint64_t> sent_ns;  // FIFO ring of send times
    std::uint64_t head;                   // next reply's slot
    std::uint64_t tail;                   // next send's slot
  };

  void on_open(connection&) override {
    ++opened_;
    ctx_.progress();
  }

  void on_message(connection& c, std::string_view payload) override {
    state& s = conns_[c.user];
    if (s.head == s.tail) {
      ctx_.error("echo connection " + std::to_string(c.user) + " got a message it did not send");
      return;
    }
    if (payload.size() != message_.size())
      ctx_.error("echo connection " + std::to_string(c.user) + " got " + std::to_string(payload.size()) +
                 " bytes back for " + std::to_string(message_.size()));
    const std::uint64_t sent = s.sent_ns[s.head++ & (ring_size_ - 1)];
    ctx_.progress();
    if (ctx_.measuring()) {
      latency_.record(ctx_.net.now() - sent);
      ++messages_;
    }
    if (stopping_) return;
    if (pacer_.on()) {
      pacer_.ready(c.user);
    } else {
      send_one(s);
    }
  }

  void on_closed(connection& c, const std::string& why) override {
    if (stopping_) return;
    ctx_.error("echo connection " + std::to_string(c.user) + " lost: " + why);
    if (!loaded_) throw bench_error("echo connection lost during set-up: " + why);
  }

  void send_one(state& s) {
    s.sent_ns[s.tail++ & (ring_size_ - 1)] = ctx_.net.now();
    s.conn->send(s.conn->data_opcode, message_);
  }

  context& ctx_;
  std::size_t ring_size_;
  std::string message_;
  std::vector<state> conns_;
  int opened_ = 0;
  bool loaded_ = false;
  bool stopping_ = false;
  histogram latency_;
  std::uint64_t messages_ = 0;
  pacer pacer_{ctx_};
};

// ---------------------------------------------------------------------------------------------
// The authorizer: one session that registers --authorizer and answers every INVOCATION with a
// pre-encoded YIELD allowing the action (`true`, or `{allow: true, cache: true}`). Its CPU is the
// generator's; the router's share (the internal CALL, the INVOCATION out, the YIELD in, the
// cache) is what the authorization rows measure.

class authorizer_peer final : public wamp_scenario {
 public:
  explicit authorizer_peer(context& ctx)
      : wamp_scenario(ctx, ctx.opts.authorizer_realm) {
    junction::yield y;
    y.request = id_template::sentinel_id;
    if (ctx.opts.authorizer_cache) {
      junction::object answer;
      answer.push_back("allow", junction::value(true));
      answer.push_back("cache", junction::value(true));
      y.args = junction::array{junction::value(std::move(answer))};
    } else {
      y.args = junction::array{junction::value(true)};
    }
    yield_ = id_template(ctx.codec, y);
    ctx.codec.encode(junction::register_{1, {}, ctx.opts.authorizer}, register_frame_);
  }

  void start() {
    conn_ = ctx_.open(*this);
    conn_->user = 1u << 30;
    ctx_.wait_for([&] { return registered_; }, "waiting for the authorizer to join and register");
    loaded_ = true;
  }

  void on_closed(connection& c, const std::string& why) override {
    stopping_ = stopping_ || ctx_.ended();
    wamp_scenario::on_closed(c, why);
  }

 private:
  void on_joined(connection& c) override { c.send(c.data_opcode, register_frame_); }

  void on_wamp(connection& c, std::string_view frame, const head& h) override {
    if (h.type == static_cast<std::uint64_t>(message_type::invocation)) {
      ++ctx_.authorizer_calls;
      if (ctx_.measuring()) ++ctx_.authorizer_calls_measured;
      yield_.build(ctx_.scratch, h.a);
      c.send(c.data_opcode, ctx_.scratch);
      return;
    }
    if (h.type == static_cast<std::uint64_t>(message_type::registered)) {
      registered_ = true;
      ctx_.progress();
      return;
    }
    if (!loaded_) throw bench_error("the authorizer's REGISTER failed: " + describe(ctx_.codec, frame));
    ctx_.error("the authorizer got an unexpected " + describe(ctx_.codec, frame));
  }

  connection* conn_ = nullptr;
  id_template yield_;
  std::string register_frame_;
  bool registered_ = false;
};

}  // namespace

void start_authorizer(context& ctx) {
  if (ctx.opts.authorizer.empty()) return;
  static std::unique_ptr<authorizer_peer> peer;  // lives until exit, as the loop's connections do
  peer = std::make_unique<authorizer_peer>(ctx);
  peer->start();
}

int run_rpc(context& ctx) { return rpc_scenario(ctx).run(); }
int run_fanout(context& ctx) { return fanout_scenario(ctx).run(); }
int run_sessions(context& ctx) { return sessions_scenario(ctx).run(); }
int run_echo(context& ctx) { return echo_scenario(ctx).run(); }

// ---------------------------------------------------------------------------------------------
// codec: what the shortcuts save, per frame, for this serializer (no network). Full encode of a
// CALL vs prefix + id + suffix; full decode of a RESULT vs peek_head.

int run_codec(context& ctx) {
  const junction::codec& codec = ctx.codec;
  junction::call call;
  call.procedure = "bench.rpc.procedure";
  call.args = payload_args(ctx.opts);
  junction::call tpl = call;
  tpl.request = id_template::sentinel_id;
  const id_template call_t(codec, tpl);
  std::string result_frame;
  codec.encode(junction::result_{123456, {}, payload_args(ctx.opts), {}}, result_frame);

  auto time_it = [](auto&& fn) {
    std::uint64_t n = 1000;
    for (;;) {
      const std::uint64_t t0 = now_ns();
      for (std::uint64_t i = 0; i < n; ++i) fn(i);
      const std::uint64_t dt = now_ns() - t0;
      if (dt > 200'000'000 || n >= (1ULL << 28)) return static_cast<double>(dt) / static_cast<double>(n);
      n *= 4;
    }
  };
  std::string out;
  std::uint64_t sink = 0;
  const double encode_ns = time_it([&](std::uint64_t i) {
    call.request = i + 1;
    out.clear();
    codec.encode(call, out);
    sink += out.size();
  });
  const double template_ns = time_it([&](std::uint64_t i) {
    call_t.build(out, i + 1);
    sink += out.size();
  });
  const double decode_ns = time_it([&](std::uint64_t) {
    auto m = codec.decode(result_frame);
    sink += m ? 1 : 0;
  });
  const double peek_ns = time_it([&](std::uint64_t) {
    head h;
    peek_head(codec.kind(), result_frame, h);
    sink += h.a;
  });
  const std::size_t call_frame_bytes = out.size();
  // A richer message than the RESULT: an EVENT with details, nested args and kwargs, the shape
  // fan-out encodes and a subscriber's client decodes.
  const junction::value rich = [] {
    junction::object kwargs{{"name", "sensor-17"}, {"readings", junction::array{21.5, 21.7, 22.0, -3}},
                            {"meta", junction::object{{"unit", "C"}, {"ok", true}, {"seq", 123456789}}}};
    return junction::value{junction::array{36, 5512315355ULL, 4429313566ULL,
                                           junction::object{{"publisher", 1234}, {"topic", "com.app.sensors.t17"}},
                                           junction::array{"reading", 42, junction::binary{"\x01\x02\x03"}},
                                           std::move(kwargs)}};
  }();
  std::string rich_frame;
  codec.encode_value(rich, rich_frame);
  const double rich_decode_ns = time_it([&](std::uint64_t) {
    auto v = codec.decode_value(rich_frame);
    sink += v ? 1 : 0;
  });
  const double rich_encode_ns = time_it([&](std::uint64_t) {
    out.clear();
    codec.encode_value(rich, out);
    sink += out.size();
  });
  report r;
  r.add("scenario", "codec");
  r.add("serializer", ctx.opts.serializer);
  r.add_int("payload_bytes", static_cast<std::int64_t>(ctx.opts.payload_bytes));
  r.add_int("call_frame_bytes", static_cast<std::int64_t>(call_frame_bytes));
  r.add("call_encode_ns", encode_ns, 1);
  r.add("call_template_ns", template_ns, 1);
  r.add("result_decode_ns", decode_ns, 1);
  r.add("result_peek_ns", peek_ns, 1);
  r.add_int("event_frame_bytes", static_cast<std::int64_t>(rich_frame.size()));
  r.add("event_decode_ns", rich_decode_ns, 1);
  r.add("event_encode_ns", rich_encode_ns, 1);
#ifdef JUNCTION_BENCH_LIBCBOR
  if (codec.kind() == junction::serializer::cbor) {
    // The same frames through libcbor, into and out of the same value model.
    junction::value check;
    if (!libcbor_decode(result_frame, check) || !libcbor_decode(rich_frame, check) || check != rich)
      throw bench_error("libcbor decoded the frames differently");
    std::string theirs;
    libcbor_encode(rich, theirs);
    if (theirs != rich_frame) throw bench_error("libcbor encoded the EVENT differently");
    r.add("libcbor_result_decode_ns", time_it([&](std::uint64_t) {
      junction::value v;
      sink += libcbor_decode(result_frame, v) ? 1 : 0;
    }), 1);
    r.add("libcbor_event_decode_ns", time_it([&](std::uint64_t) {
      junction::value v;
      sink += libcbor_decode(rich_frame, v) ? 1 : 0;
    }), 1);
    r.add("libcbor_event_encode_ns", time_it([&](std::uint64_t) {
      libcbor_encode(rich, out);
      sink += out.size();
    }), 1);
  }
#endif
  r.add("ops_per_s", 1e9 / template_ns, 1);
  r.add_int("errors", sink == 0 ? 1 : 0);
  r.print();
  return 0;
}

}  // namespace bench
