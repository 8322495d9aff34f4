// router/wss_config.hpp — the websocketpp configuration for WebSocket over TLS: the same settings
// as ws_config (router/ws_config.hpp) on websocketpp's TLS socket. Pulls in Asio's SSL headers:
// only the WebSocket listener includes it.
#pragma once

#include <websocketpp/config/asio.hpp>

#include "router/ws_config.hpp"

namespace junction {

using wss_config = basic_ws_config<websocketpp::config::asio_tls,
                                   websocketpp::transport::asio::tls_socket::endpoint, true>;

}  // namespace junction
