// junction-bench — a native WAMP load generator: flags → one scenario → one JSON line on stdout.
// Exit status: 0 ok, 1 the run finished with errors, 2 bad flags, 3 the run could not finish
// (no progress for --stall seconds, set-up failed).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/scenarios.hpp"

namespace {

const char* usage_text = R"(usage: junction-bench [flags]
  --url URL              ws://host:port/path of a WAMP router or echo server, rs://host:port
                         for a router's WAMP RawSocket listener, or tcp://host:port for the raw
                         TCP echo baseline (default ws://127.0.0.1:8080/ws)
  --realm NAME           realm to join (default realm1)
  --scenario NAME        rpc | rpc-latency | fanout | sessions | echo | codec (default rpc)
  --serializer NAME      json | msgpack | cbor (default json)
  -c, --callers N        rpc: callers; echo: connections (default 8)
  -w, --window N         requests in flight per caller/connection; fanout: publications in
                         flight; sessions: concurrent handshakes (default 16; sessions 64)
  -d, --duration S       measured seconds (default 5)
  --warmup S             unmeasured seconds of load before (default 1)
  -s, --subscribers N    fanout subscribers (default 10)
  -n, --sessions N       sessions to open and hold (default 1000)
  --payload-bytes N      size of the one string argument (default 32, at least 13)
  --router-pid PID       read the router's CPU time and VmRSS from /proc/PID
  --no-wamp              sessions: hold bare WebSocket connections (no HELLO)
  --hold S               sessions: seconds to hold all sessions before reading RSS (default 0.5)
  --stall S              give up when nothing progressed for S seconds (default 5)
  --authorizer PROC      also serve a dynamic authorizer: one more session registers PROC and
                         allows every action it is asked about (bench/run's authorization rows)
  --authorizer-realm R   the realm it joins (default: --realm)
  --authorizer-cache     answer {allow: true, cache: true} instead of true
  --rate N               rpc, echo: at most N calls (echoes)/s in all, spread evenly in time
                         (moderate load, as real clients make it); implies --frame-per-write
  --frame-per-write      every frame in its own write(), as most client libraries send
  -h, --help
)";

bool parse(int argc, char** argv, bench::options& o, std::string& error) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string val;
    bool has_val = false;
    if (const auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      val = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_val = true;
    }
    auto value = [&]() -> const std::string& {
      if (!has_val) {
        if (i + 1 >= args.size()) throw std::invalid_argument(flag + " needs a value");
        val = args[++i];
        has_val = true;
      }
      return val;
    };
    auto number = [&](double min) {
      const std::string& v = value();
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || d < min) throw std::invalid_argument(flag + ": bad value '" + v + "'");
      return d;
    };
    try {
      if (flag == "-h" || flag == "--help") {
        std::fputs(usage_text, stdout);
        std::exit(0);
      } else if (flag == "--url") {
        o.url = value();
      } else if (flag == "--realm") {
        o.realm = value();
      } else if (flag == "--scenario") {
        o.scenario = value();
      } else if (flag == "--serializer") {
        o.serializer = value();
      } else if (flag == "-c" || flag == "--callers") {
        o.callers = static_cast<int>(number(1));
      } else if (flag == "-w" || flag == "--window") {
        o.window = static_cast<int>(number(1));
        o.window_given = true;
      } else if (flag == "-d" || flag == "--duration") {
        o.duration_s = number(0.01);
      } else if (flag == "--warmup") {
        o.warmup_s = number(0);
      } else if (flag == "-s" || flag == "--subscribers") {
        o.subscribers = static_cast<int>(number(1));
      } else if (flag == "-n" || flag == "--sessions") {
        o.sessions = static_cast<int>(number(1));
      } else if (flag == "--payload-bytes") {
        o.payload_bytes = static_cast<std::size_t>(number(0));
      } else if (flag == "--router-pid") {
        o.router_pid = static_cast<long>(number(1));
      } else if (flag == "--no-wamp") {
        o.no_wamp = true;
      } else if (flag == "--hold") {
        o.hold_s = number(0);
      } else if (flag == "--stall") {
        o.stall_s = number(0.1);
      } else if (flag == "--authorizer") {
        o.authorizer = value();
      } else if (flag == "--authorizer-realm") {
        o.authorizer_realm = value();
      } else if (flag == "--authorizer-cache") {
        o.authorizer_cache = true;
      } else if (flag == "--rate") {
        o.rate = number(1);
        o.frame_per_write = true;
      } else if (flag == "--frame-per-write") {
        o.frame_per_write = true;
      } else {
        error = "unknown flag " + flag;
        return false;
      }
    } catch (const std::invalid_argument& e) {
      error = e.what();
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a router closing on us is an error to report, not a crash
  bench::options o;
  std::string error;
  if (!parse(argc, argv, o, error)) {
    std::fprintf(stderr, "junction-bench: %s\n%s", error.c_str(), usage_text);
    return 2;
  }
  try {
    bench::context ctx(o);
    if (o.scenario != "codec" && o.scenario != "echo") bench::start_authorizer(ctx);
    if (o.scenario == "rpc" || o.scenario == "rpc-latency") return bench::run_rpc(ctx);
    if (o.scenario == "fanout") return bench::run_fanout(ctx);
    if (o.scenario == "sessions") return bench::run_sessions(ctx);
    if (o.scenario == "echo") return bench::run_echo(ctx);
    if (o.scenario == "codec") return bench::run_codec(ctx);
    std::fprintf(stderr, "junction-bench: unknown scenario '%s'\n%s", o.scenario.c_str(), usage_text);
    return 2;
  } catch (const bench::bench_error& e) {
    std::fprintf(stderr, "junction-bench: %s: %s\n", o.scenario.c_str(), e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "junction-bench: %s: %s\n", o.scenario.c_str(), e.what());
    return 3;
  }
}
