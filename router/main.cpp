// junction — the WAMP router executable: flags → config → router → listeners → run.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <sys/resource.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "router/asio_timer_queue.hpp"
#include "router/ops/cli.hpp"
#include "router/ops/config_file.hpp"
#include "router/event_loop.hpp"
#include "router/ops/log.hpp"
#include "router/router.hpp"
#include "router/transport/rawsocket_listener.hpp"
#include "router/transport/universal_listener.hpp"
#include "router/transport/websocket_listener.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  using namespace junction;
  const cli_result cli = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (cli.show_help) {
    std::fputs(usage_text, stdout);
    return 0;
  }
  if (cli.show_version) {
    std::printf("junction %s\n", JUNCTION_VERSION);
    return 0;
  }
  switch (cli.what) {
    case cli_result::action::print_schema:
      std::fputs(config::schema_json().c_str(), stdout);
      return 0;
    case cli_result::action::config_reference:
      std::fputs(config::reference_markdown().c_str(), stdout);
      return 0;
    default:
      break;
  }
  if (!cli.error.empty()) {
    // One line per problem, each naming where it is (a JSON pointer for the config file).
    std::string text = cli.error;
    if (!text.empty() && text.back() == '\n') text.pop_back();
    std::size_t start = 0;
    for (;;) {
      const std::size_t end = text.find('\n', start);
      std::fprintf(stderr, "junction: %s\n", text.substr(start, end - start).c_str());
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return 2;
  }
  if (cli.what == cli_result::action::check_config) {
    std::printf("%s: ok\n", cli.config_file.c_str());
    return 0;
  }
  if (cli.what == cli_result::action::print_config) {
    std::fputs(config::to_json(cli.config).c_str(), stdout);
    return 0;
  }
  set_log_level(cli.config.level);
  raise_open_file_limit();

  // One thread runs the io_context (docs/THREADING.md): Asio may skip every lock in its
  // scheduler and reactor. Revisit with the multi-core engine.
  boost::asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  asio_timer_queue timers(io);
  router r(cli.config, timers);
  std::vector<std::unique_ptr<listener>> listeners;
  try {
    for (const auto& lc : cli.config.listeners) {
      if (lc.kind == listener_config::protocol::rawsocket) {
        listeners.push_back(std::make_unique<rawsocket_listener>(io, r, lc));
      } else if (lc.kind == listener_config::protocol::universal) {
        listeners.push_back(std::make_unique<universal_listener>(io, r, lc));
      } else {
        listeners.push_back(std::make_unique<websocket_listener>(io, r, lc));
      }
      listeners.back()->start();
    }
  } catch (const std::exception& e) {
    JLOG(error) << e.what();
    return 1;
  }
  for (const auto& rc : cli.config.realms) JLOG(info) << "serving realm " << rc.name;

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    JLOG(info) << "signal " << sig << ": shutting down";
    for (auto& l : listeners) l->stop();
  });
  run_event_loop(io, cli.config.busy_poll);
  JLOG(info) << "stopped";
  return 0;
}
