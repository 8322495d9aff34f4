#include "router/ops/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include "router/router.hpp"
#include "serializers/message.hpp"

namespace junction::metrics {
namespace {

std::mutex registry_mutex;
std::vector<std::unique_ptr<io_counters>>& registry() {
  static std::vector<std::unique_ptr<io_counters>> all;
  return all;
}


// A label value, escaped as the exposition format requires.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class exposition {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  template <class V>
  void sample(const std::string& name, const std::string& labels, V v) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << v << '\n';
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

std::string realm_label(const std::string& name) { return "realm=\"" + label(name) + "\""; }

std::string format_le(double bound) {
  std::ostringstream s;
  s << bound;
  return s.str();
}

// Process figures from /proc (Linux).
struct process_view {
  double cpu_seconds = 0;
  double start_time = 0;  // seconds since the epoch
  std::uint64_t rss_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::size_t open_fds = 0;
  std::uint64_t max_fds = 0;
};

process_view read_process() {
  process_view p;
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  if (FILE* f = std::fopen("/proc/self/stat", "r")) {
    char buf[1024];
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    // Fields after the command name (which may hold spaces) start past its closing ')'.
    if (const char* after = std::strrchr(buf, ')')) {
      unsigned long utime = 0, stime = 0;
      unsigned long long starttime = 0, vsize = 0;
      long rss = 0;
      // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
      // cutime cstime priority nice threads itrealvalue starttime vsize rss
      if (std::sscanf(after + 2,
                      "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d "
                      "%llu %llu %ld",
                      &utime, &stime, &starttime, &vsize, &rss) == 5) {
        p.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks);
        p.virtual_bytes = vsize;
        p.rss_bytes = static_cast<std::uint64_t>(rss) * static_cast<std::uint64_t>(page);
        double boot = 0;
        if (FILE* s = std::fopen("/proc/stat", "r")) {
          char line[256];
          while (std::fgets(line, sizeof line, s))
            if (std::sscanf(line, "btime %lf", &boot) == 1) break;
          std::fclose(s);
        }
        p.start_time = boot + static_cast<double>(starttime) / static_cast<double>(ticks);
      }
    }
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    while (const dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++p.open_fds;
    closedir(d);
    if (p.open_fds > 0) --p.open_fds;  // the directory's own descriptor
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) p.max_fds = rl.rlim_cur;
  return p;
}

}  // namespace

io_counters* register_thread() {
  const std::lock_guard<std::mutex> lock(registry_mutex);
  registry().push_back(std::make_unique<io_counters>());
  return registry().back().get();
}

std::string render(const router& r, const std::vector<listener_view>& listeners,
                   std::chrono::steady_clock::time_point started) {
  exposition e;
  // Sum every thread's counters.
  io_counters total;
  {
    const std::lock_guard<std::mutex> lock(registry_mutex);
    for (const auto& t : registry()) {
      for (std::size_t i = 0; i < message_codes; ++i) {
        total.messages_in[i].add(t->messages_in[i].get());
        total.messages_out[i].add(t->messages_out[i].get());
      }
      total.bytes_in.add(t->bytes_in.get());
      total.bytes_out.add(t->bytes_out.get());
      for (std::size_t i = 0; i < total.accepted.size(); ++i) total.accepted[i].add(t->accepted[i].get());
      for (std::size_t i = 0; i < total.refused.size(); ++i) total.refused[i].add(t->refused[i].get());
      for (std::size_t i = 0; i < total.closed.size(); ++i) total.closed[i].add(t->closed[i].get());
      total.sessions_opened.add(t->sessions_opened.get());
      total.auth_lockouts.add(t->auth_lockouts.get());
      total.http_requests.add(t->http_requests.get());
      total.too_big_out.add(t->too_big_out.get());
      total.reads_paused.add(t->reads_paused.get());
    }
  }

  e.family("junction_build_info", "gauge", "Junction's version and build (value 1).");
  e.sample("junction_build_info",
           std::string("version=\"") + JUNCTION_VERSION + "\",metrics=\"" +
               (metrics_enabled ? "on" : "off") + "\"",
           1);
  e.family("junction_uptime_seconds", "gauge", "Seconds since the router started.");
  e.sample("junction_uptime_seconds", "",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  // Sessions, by realm and transport; the realms' registries.
  e.family("junction_sessions", "gauge", "Sessions joined, by realm and transport.");
  r.for_each_realm([&](const realm& rl) {
    std::map<std::string, std::size_t> by_transport{{"websocket", 0}, {"rawsocket", 0}};
    for (const auto& [id, record] : rl.sessions()) {
      const std::string& type = record.info->transport.type;
      ++by_transport[type.empty() ? "other" : type];
    }
    for (const auto& [type, n] : by_transport)
      e.sample("junction_sessions", realm_label(rl.name()) + ",transport=\"" + label(type) + "\"", n);
  });
  e.family("junction_sessions_opened_total", "counter", "Sessions welcomed (WELCOME sent).");
  e.sample("junction_sessions_opened_total", "", total.sessions_opened.get());
  e.family("junction_registrations", "gauge", "Registrations, by realm.");
  r.for_each_realm([&](const realm& rl) {
    e.sample("junction_registrations", realm_label(rl.name()), rl.get_dealer().registration_count());
  });
  e.family("junction_subscriptions", "gauge", "Subscriptions, by realm.");
  r.for_each_realm([&](const realm& rl) {
    e.sample("junction_subscriptions", realm_label(rl.name()), rl.get_broker().subscription_count());
  });

  // Authentication.
  e.family("junction_authentications_total", "counter",
           "Authentications, by realm, method and outcome (success, failure).");
  r.for_each_authentication([&](const std::string& realm, const std::string& method, bool ok, std::uint64_t n) {
    e.sample("junction_authentications_total",
             realm_label(realm) + ",method=\"" + label(method) + "\",outcome=\"" + (ok ? "success" : "failure") + "\"", n);
  });
  e.family("junction_auth_lockouts_total", "counter",
           "Peer addresses locked out after repeated authentication failures (auth_throttle).");
  e.sample("junction_auth_lockouts_total", "", total.auth_lockouts.get());

  // Authorization.
  e.family("junction_authorization_denied_total", "counter",
           "Actions a role was not allowed, by realm and action (call, register, publish, subscribe).");
  for (const auto& [key, n] : r.denied_counts())
    e.sample("junction_authorization_denied_total",
             realm_label(key.first) + ",action=\"" + auth::action_names[static_cast<std::size_t>(key.second)] + "\"", n);
  e.family("junction_authorizer_calls_total", "counter",
           "Calls of dynamic authorizers, by realm and outcome (allow, deny, error, timeout).");
  for (const auto& [key, n] : r.authorizer_counts())
    e.sample("junction_authorizer_calls_total", realm_label(key.first) + ",outcome=\"" + label(key.second) + "\"", n);
  e.family("junction_authorizer_cache_hits_total", "counter", "Authorizer answers found in the cache, by realm.");
  for (const auto& [realm, cache] : r.authorizer_caches())
    e.sample("junction_authorizer_cache_hits_total", realm_label(realm), cache.hits());
  e.family("junction_authorizer_cache_misses_total", "counter", "Authorizer answers not in the cache, by realm.");
  for (const auto& [realm, cache] : r.authorizer_caches())
    e.sample("junction_authorizer_cache_misses_total", realm_label(realm), cache.misses());
  e.family("junction_authorizer_cache_entries", "gauge", "Authorizer answers cached, by realm.");
  for (const auto& [realm, cache] : r.authorizer_caches())
    e.sample("junction_authorizer_cache_entries", realm_label(realm), cache.size());

  // Messages, by WAMP type.
  // Only the types that travel that way: a client sends what a router receives; a router sends
  // the rest, and ABORT, GOODBYE and ERROR go both ways.
  auto messages = [&](const char* name, const char* help, const std::array<counter, message_codes>& c,
                      bool received) {
    e.family(name, "counter", help);
    for (std::size_t code = 0; code < message_codes; ++code) {
      const message_traits* t = find_traits(code);
      if (t == nullptr) continue;
      const bool both = t->type == message_type::abort || t->type == message_type::goodbye ||
                        t->type == message_type::error;
      if (!both && t->router_receives != received) continue;
      e.sample(name, "type=\"" + std::string(t->name) + "\"", c[code].get());
    }
  };
  messages("junction_messages_received_total", "WAMP messages received, by type.", total.messages_in, true);
  messages("junction_messages_sent_total", "WAMP messages sent, by type.", total.messages_out, false);

  // Calls.
  e.family("junction_calls_total", "counter", "Calls routed to a callee, by realm.");
  r.for_each_realm([&](const realm& rl) {
    e.sample("junction_calls_total", realm_label(rl.name()), rl.stats().calls_routed.get());
  });
  e.family("junction_calls_refused_total", "counter",
           "Calls the router answered with an ERROR before any callee (no such procedure, invalid "
           "URI or options, shutting down), by realm.");
  r.for_each_realm([&](const realm& rl) {
    e.sample("junction_calls_refused_total", realm_label(rl.name()), rl.stats().calls_refused.get());
  });
  e.family("junction_calls_in_flight", "gauge", "Calls routed and not yet answered, by realm.");
  r.for_each_realm([&](const realm& rl) {
    e.sample("junction_calls_in_flight", realm_label(rl.name()), rl.get_dealer().in_flight());
  });
  e.family("junction_calls_ended_total", "counter",
           "Calls ended, by realm and outcome: result, error (an application URI), wamp_error (a "
           "wamp.error.* URI from the callee), timeout, canceled, payload_size_exceeded (the "
           "INVOCATION or a RESULT was larger than its receiver accepts).");
  r.for_each_realm([&](const realm& rl) {
    for (std::size_t o = 0; o < rl.stats().calls_ended.size(); ++o)
      e.sample("junction_calls_ended_total",
               realm_label(rl.name()) + ",outcome=\"" + call_outcome_names[o] + "\"",
               rl.stats().calls_ended[o].get());
  });
  e.family("junction_call_duration_seconds", "histogram",
           "Time from a routed CALL to its final RESULT or ERROR, by realm.");
  r.for_each_realm([&](const realm& rl) {
    const duration_histogram& h = rl.stats().call_duration;
    const std::string rlabel = realm_label(rl.name());
    for (std::size_t i = 0; i < duration_histogram::bounds.size(); ++i)
      e.sample("junction_call_duration_seconds_bucket",
               rlabel + ",le=\"" + format_le(duration_histogram::bounds[i]) + "\"", h.cumulative(i));
    const std::uint64_t count = h.cumulative(duration_histogram::bounds.size());
    e.sample("junction_call_duration_seconds_bucket", rlabel + ",le=\"+Inf\"", count);
    e.sample("junction_call_duration_seconds_sum", rlabel, h.sum_seconds());
    e.sample("junction_call_duration_seconds_count", rlabel, count);
  });

  // Publications.
  e.family("junction_publications_total", "counter", "Publications accepted, by realm.");
  r.for_each_realm([&](const realm& rl) {
    e.sample("junction_publications_total", realm_label(rl.name()), rl.stats().publications.get());
  });
  e.family("junction_publications_refused_total", "counter",
           "Publications refused (invalid topic or options), by realm.");
  r.for_each_realm([&](const realm& rl) {
    e.sample("junction_publications_refused_total", realm_label(rl.name()),
             rl.stats().publications_refused.get());
  });
  e.family("junction_events_delivered_total", "counter", "EVENTs sent to subscribers, by realm.");
  r.for_each_realm([&](const realm& rl) {
    e.sample("junction_events_delivered_total", realm_label(rl.name()), rl.stats().events.get());
  });
  e.family("junction_events_too_big_total", "counter",
           "EVENTs not delivered to a subscriber because they are larger than its connection accepts "
           "(skipped for that subscriber), by realm.");
  r.for_each_realm([&](const realm& rl) {
    e.sample("junction_events_too_big_total", realm_label(rl.name()), rl.stats().events_too_big.get());
  });
  e.family("junction_messages_too_big_total", "counter",
           "Outgoing messages not sent because the client does not accept their size (its RawSocket "
           "limit, the listener's max_message_size); the router sent an ERROR instead or skipped the EVENT.");
  e.sample("junction_messages_too_big_total", "", total.too_big_out.get());
  e.family("junction_events_dropped_total", "counter",
           "EVENTs not delivered to a subscriber whose connection was congested (more than half of "
           "max_outbound_bytes waiting), in realms with slow_consumer \"drop-events\", by realm.");
  r.for_each_realm([&](const realm& rl) {
    e.sample("junction_events_dropped_total", realm_label(rl.name()), rl.stats().events_dropped.get());
  });
  e.family("junction_session_limit_refusals_total", "counter",
           "Requests refused with wamp.error.limit_exceeded because the session reached one of its "
           "realm's session_limits (calls_in_flight, registrations, subscriptions), by realm and limit.");
  r.for_each_realm([&](const realm& rl) {
    for (std::size_t k = 0; k < rl.stats().limit_refusals.size(); ++k)
      e.sample("junction_session_limit_refusals_total",
               realm_label(rl.name()) + ",limit=\"" + session_limit_names[k] + "\"",
               rl.stats().limit_refusals[k].get());
  });
  e.family("junction_reads_paused_total", "counter",
           "Times the router stopped reading from a connection (flow control): its client did not "
           "read its answers, or it called a callee whose connection was congested.");
  e.sample("junction_reads_paused_total", "", total.reads_paused.get());

  // Transports.
  e.family("junction_received_bytes_total", "counter", "Bytes read from clients.");
  e.sample("junction_received_bytes_total", "", total.bytes_in.get());
  e.family("junction_sent_bytes_total", "counter", "Bytes written to clients.");
  e.sample("junction_sent_bytes_total", "", total.bytes_out.get());
  e.family("junction_connections_accepted_total", "counter", "Connections accepted, by listener type.");
  for (std::size_t k = 0; k < total.accepted.size(); ++k)
    e.sample("junction_connections_accepted_total", std::string("listener=\"") + listener_kind_names[k] + "\"",
             total.accepted[k].get());
  e.family("junction_connections_refused_total", "counter",
           "Connections refused before they carried a session, by reason: limit (max_connections), "
           "handshake (a bad WebSocket upgrade or RawSocket handshake), timeout (no handshake in "
           "time), tls (TLS handshake failed), draining (shutting down).");
  for (std::size_t k = 0; k < total.refused.size(); ++k)
    e.sample("junction_connections_refused_total", std::string("reason=\"") + refusal_names[k] + "\"",
             total.refused[k].get());
  e.family("junction_connections_closed_total", "counter",
           "Connections the router closed because of the client, by reason: protocol_violation, "
           "slow_consumer, message_too_big, keepalive.");
  for (std::size_t k = 0; k < total.closed.size(); ++k)
    e.sample("junction_connections_closed_total", std::string("reason=\"") + close_reason_names[k] + "\"",
             total.closed[k].get());
  std::array<std::size_t, static_cast<std::size_t>(listener_kind::count_)> open{}, queued{};
  for (const listener_view& l : listeners) {
    open[static_cast<std::size_t>(l.kind)] += l.open;
    queued[static_cast<std::size_t>(l.kind)] += l.queued_bytes;
  }
  e.family("junction_connections_open", "gauge", "Open connections, by listener type.");
  for (std::size_t k = 0; k < open.size(); ++k)
    e.sample("junction_connections_open", std::string("listener=\"") + listener_kind_names[k] + "\"", open[k]);
  e.family("junction_outbound_queue_bytes", "gauge",
           "Bytes queued for clients and not yet written, by listener type.");
  for (std::size_t k = 0; k < queued.size(); ++k)
    e.sample("junction_outbound_queue_bytes", std::string("listener=\"") + listener_kind_names[k] + "\"",
             queued[k]);
  e.family("junction_http_requests_total", "counter", "Plain HTTP requests answered.");
  e.sample("junction_http_requests_total", "", total.http_requests.get());

  // The process (the names the Prometheus client libraries use).
  const process_view p = read_process();
  e.family("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
  e.sample("process_cpu_seconds_total", "", p.cpu_seconds);
  e.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  e.sample("process_resident_memory_bytes", "", p.rss_bytes);
  e.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  e.sample("process_virtual_memory_bytes", "", p.virtual_bytes);
  e.family("process_open_fds", "gauge", "Open file descriptors.");
  e.sample("process_open_fds", "", p.open_fds);
  e.family("process_max_fds", "gauge", "The limit on open file descriptors.");
  e.sample("process_max_fds", "", p.max_fds);
  e.family("process_start_time_seconds", "gauge", "Start time of the process since the epoch, in seconds.");
  e.sample("process_start_time_seconds", "", static_cast<std::uint64_t>(p.start_time));
  return e.str();
}

}  // namespace junction::metrics
