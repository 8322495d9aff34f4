// bench-echo-junction — Junction's own WebSocket layer alone: the router's listeners, HTTP
// handshake, frame reader (fragmentation, UTF-8 validation, control frames, closing handshake)
// and write path, echoing every message back instead of carrying WAMP.
//
//   bench-echo-junction [junction's flags]     e.g. --listen ws://127.0.0.1:9001/
//
// It takes the router's command line and config file (docs/CONFIG.md) and turns every WebSocket
// listener into an echo listener: any path, any or no subprotocol, text echoed as text and binary
// as binary. Used by bench/run (the "echo" baseline beside websocketpp's bench-echo-ws) and as
// the server for the Autobahn WebSocket test suite (docs/PERFORMANCE.md, "bench-echo-junction").
#include <cstdio>
#include <string>
#include <vector>

#include "router/ops/cli.hpp"
#include "router/server.hpp"

int main(int argc, char** argv) {
  using namespace junction;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) args = {"--listen", "ws://127.0.0.1:9001/"};
  cli_result cli = parse_command_line(args);
  if (cli.show_help) {
    std::puts("bench-echo-junction [junction's flags]: every WebSocket listener echoes (default: "
              "--listen ws://127.0.0.1:9001/)");
    return 0;
  }
  if (!cli.error.empty()) {
    std::fprintf(stderr, "bench-echo-junction: %s", cli.error.c_str());
    return 2;
  }
  for (auto& l : cli.config.listeners)
    if (l.kind == listener_config::protocol::websocket) l.echo = true;
  return server(cli).run();
}
