// bench/ws_config.hpp — the websocketpp configuration of bench-echo-ws, the baseline "on the same
// websocketpp/Asio stack" (issue 6): the tuned configuration Junction's own WebSocket listener ran
// until it got its own WebSocket layer (router/transport/websocket.hpp): one thread, no locks, no strands,
// access log off, error log routed into Junction's log, a 1 KiB read buffer.
#pragma once

#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include "router/ops/log.hpp"

#ifndef JUNCTION_WS_READ_BUFFER
#define JUNCTION_WS_READ_BUFFER 1024
#endif

namespace junction {

// websocketpp's error log, routed into Junction's log so its errors are never lost (an accept
// that fails because the process is out of file descriptors is only reported here):
// fatal → error, rerror (a connection failed: reset, bad handshake) → info, the rest → debug.
class ws_error_log {
 public:
  using level = websocketpp::log::level;
  explicit ws_error_log(websocketpp::log::channel_type_hint::value = {}) {}
  ws_error_log(level, websocketpp::log::channel_type_hint::value) {}
  void set_channels(level) {}
  void clear_channels(level) {}
  void write(level channel, const std::string& msg) { write(channel, msg.c_str()); }
  void write(level channel, const char* msg) {
    using e = websocketpp::log::elevel;
    const log_level ours = channel == e::fatal    ? log_level::error
                           : channel == e::rerror ? log_level::info
                           : channel == e::warn   ? log_level::warn
                                                  : log_level::debug;
    if (log_enabled(ours)) log_write(ours, std::string("websocket: ") + msg, {});
  }
  [[nodiscard]] constexpr bool static_test(level) const { return true; }
  [[nodiscard]] bool dynamic_test(level) const { return true; }
};

// websocketpp's asio config for one thread owning every connection: no locks, no strands, its
// access log off and its error log routed into Junction's log. (A template over websocketpp's own
// base config and socket: the router once ran ws:// and wss:// on it.)
template <class Base, class Socket, bool Tls>
struct basic_ws_config : Base {
  using type = basic_ws_config;
  using base = Base;
  using concurrency_type = websocketpp::concurrency::none;
  using elog_type = ws_error_log;
  using alog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::alevel>;
  using request_type = typename Base::request_type;
  using response_type = typename Base::response_type;
  using message_type = typename Base::message_type;
  struct transport_config : Base::transport_config {
    using concurrency_type = typename type::concurrency_type;
    using alog_type = typename type::alog_type;
    using elog_type = typename type::elog_type;
    using request_type = typename type::request_type;
    using response_type = typename type::response_type;
    using socket_type = Socket;
    // No strand per connection: one thread runs everything (docs/THREADING.md).
    static const bool enable_multithreading = false;
    // After a close, a TLS connection waits for the peer's close_notify (websocketpp: 5 s),
    // holding the socket and delaying router shutdown; many clients never send one.
    static const long timeout_socket_shutdown = 1000;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;
  static const websocketpp::log::level elog_level = websocketpp::log::elevel::all;
  static const websocketpp::log::level alog_level = websocketpp::log::alevel::none;
  // The read buffer lives inside every connection object (websocketpp's default is 16 KiB, most
  // of a connection's size). Measured per idle WAMP session: 16 KiB → 12.5 KB, 4 KiB → 10.8 KB,
  // 2 KiB → 8.8 KB, 1 KiB → 7.7 KB, with no change in fan-out throughput; pipelined RPC pays a
  // read per KiB (docs/PERFORMANCE.md has the measurements).
  static const std::size_t connection_read_buffer_size = JUNCTION_WS_READ_BUFFER;
  static constexpr bool is_tls = Tls;
};

using ws_config = basic_ws_config<websocketpp::config::asio,
                                  websocketpp::transport::asio::basic_socket::endpoint, false>;
using ws_server = websocketpp::server<ws_config>;

}  // namespace junction
