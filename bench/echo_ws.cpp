// bench-echo-ws — the websocketpp baseline: a WebSocket echo server on websocketpp and Boost.Asio
// (one io_context, bench/ws_config.hpp: concurrency::none, logging off, TCP_NODELAY), the
// configuration Junction's listener ran before it got its own WebSocket layer. It answers every
// message with the same bytes and opcode. The distance between this and bench-echo-tcp is what
// websocketpp costs; a router below this per message pays less for its WebSocket layer than
// websocketpp alone.
//
// It selects the first subprotocol the client offers (as the router selects the first WAMP one),
// so a generator that asks for wamp.2.json gets through. Flags: --host ADDR (127.0.0.1),
// --port N (0 = free port), --path P (/ws, informational), --busy-poll US (the router's event
// loop and flag, router/event_loop.hpp: the baseline of a busy-polling router). Prints
// "listening on ws://HOST:PORT/ws" on stderr once it accepts.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "router/event_loop.hpp"
#include "bench/ws_config.hpp"

namespace {
using junction::ws_config;
using server_t = junction::ws_server;
}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/ws";
  long busy_poll_us = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--host" && i + 1 < argc) {
      host = argv[++i];
    } else if (a == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else if (a == "--path" && i + 1 < argc) {
      path = argv[++i];
    } else if (a == "--busy-poll" && i + 1 < argc) {
      busy_poll_us = std::atol(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: bench-echo-ws [--host ADDR] [--port N] [--path P] [--busy-poll US]\n");
      return 2;
    }
  }

  boost::asio::io_context io;
  server_t server;
  server.init_asio(&io);
  server.set_reuse_addr(true);
  server.set_listen_backlog(1024);
  server.set_socket_init_handler([](websocketpp::connection_hdl, boost::asio::ip::tcp::socket& s) {
    boost::system::error_code ec;
    s.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  });
  server.set_validate_handler([&server](websocketpp::connection_hdl h) {
    auto con = server.get_con_from_hdl(h);
    const auto& offered = con->get_requested_subprotocols();
    if (!offered.empty()) con->select_subprotocol(offered.front());
    return true;
  });
  server.set_message_handler([&server](websocketpp::connection_hdl h, server_t::message_ptr msg) {
    std::error_code ec;
    server.send(h, msg->get_payload(), msg->get_opcode(), ec);
  });

  std::error_code ec;
  boost::system::error_code addr_ec;
  const auto address = boost::asio::ip::make_address(host, addr_ec);
  if (addr_ec) {
    std::fprintf(stderr, "bench-echo-ws: bad address %s\n", host.c_str());
    return 1;
  }
  server.listen(boost::asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port)), ec);
  if (!ec) server.start_accept(ec);
  if (ec) {
    std::fprintf(stderr, "bench-echo-ws: cannot listen on %s:%d: %s\n", host.c_str(), port, ec.message().c_str());
    return 1;
  }
  boost::system::error_code lep_ec;
  const auto local = server.get_local_endpoint(lep_ec);
  std::fprintf(stderr, "listening on ws://%s:%d%s\n", host.c_str(), local.port(), path.c_str());
  std::fflush(stderr);

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& e, int) {
    if (e) return;
    std::error_code ignored;
    server.stop_listening(ignored);
    io.stop();
  });
  const std::atomic<std::int64_t> window{busy_poll_us};
  junction::run_event_loop(io, window);
  return 0;
}
