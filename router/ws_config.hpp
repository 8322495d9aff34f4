// router/ws_config.hpp — the websocketpp configuration of Junction's WebSocket listener, shared
// with bench/echo_ws.cpp so the transport baseline pays exactly what the router pays.
// Includes websocketpp: only the listener and the baseline include this header.
#pragma once

#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

namespace junction {

// websocketpp's asio config for one thread owning every connection: no locks, no strands, and
// its own logging off (Junction logs what matters itself).
struct ws_config : websocketpp::config::asio {
  using type = ws_config;
  using base = websocketpp::config::asio;
  using concurrency_type = websocketpp::concurrency::none;
  using elog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::elevel>;
  using alog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::alevel>;
  struct transport_config : base::transport_config {
    using concurrency_type = type::concurrency_type;
    using alog_type = type::alog_type;
    using elog_type = type::elog_type;
    using request_type = type::request_type;
    using response_type = type::response_type;
    using socket_type = websocketpp::transport::asio::basic_socket::endpoint;
    // No strand per connection: one thread runs everything (docs/THREADING.md).
    static const bool enable_multithreading = false;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;
  static const websocketpp::log::level elog_level = websocketpp::log::elevel::none;
  static const websocketpp::log::level alog_level = websocketpp::log::alevel::none;
};

using ws_server = websocketpp::server<ws_config>;

}  // namespace junction
