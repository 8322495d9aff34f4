// router/ops/config.hpp — the router's settings. Filled from command-line flags today; the config
// file (a later issue) fills the same structs, and adds listeners of other kinds.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "realm/realm_config.hpp"
#include "router/event_loop.hpp"
#include "router/transport/keepalive.hpp"
#include "router/ops/log.hpp"

namespace junction {

// TLS for a listener (OpenSSL): PEM files; TLS 1.2 and 1.3 only.
struct tls_config {
  std::string cert_file;      // certificate chain; TLS is on when set
  std::string key_file;       // private key
  std::string ca_file;        // CAs that client certificates must chain to
  bool require_client_cert = false;  // needs ca_file
  [[nodiscard]] bool enabled() const noexcept { return !cert_file.empty(); }
};

// One listening endpoint: `--listen ws://127.0.0.1:8080/ws`, `--listen rs://127.0.0.1:8081`,
// `--listen unix:/run/junction.sock` (TLS, universal ports and keepalive come next).
struct listener_config {
  enum class protocol { websocket, rawsocket, universal };  // universal: both on one port
  protocol kind = protocol::websocket;
  std::string host = "127.0.0.1";  // loopback by default: exposing the router is a decision
  std::uint16_t port = 8080;
  std::string path = "/ws";        // WebSocket: the path (any other answers 404)
  std::string unix_path;           // RawSocket over a Unix domain socket when not empty
  std::size_t max_message_size = 16 * 1024 * 1024;  // bytes per incoming WAMP message
  keepalive_settings keepalive;  // router pings (WebSocket ping / RawSocket PING)
  bool rawsocket_pings = false;  // RawSocket PINGs too (opt-in: see --keepalive-interval)
  std::size_t max_connections = 0;  // 0: bounded only by the open-file limit
  // A connection's first byte (universal port), TLS handshake and WebSocket/RawSocket handshake
  // must all be done within this, or it is closed (slowloris).
  std::chrono::milliseconds handshake_timeout{10000};
  tls_config tls;                // wss:// and rss:// listeners

  // "ws://127.0.0.1:8080/ws", "rs://127.0.0.1:8081", "unix:/path",
  // "universal://127.0.0.1:8080/ws" — for logs.
  [[nodiscard]] std::string url() const;
};

struct router_config {
  std::vector<listener_config> listeners{listener_config{}};
  std::vector<realm_config> realms;  // empty → the embedded default, realm "realm1"
  // Enforce the spec's sequential client request ids (off by default: many deployed clients
  // send them out of sequence, and neither Crossbar nor Nexus enforces the rule).
  bool strict_request_ids = false;
  log_level level = log_level::info;
  // How long an I/O thread keeps polling after its last handler before it blocks in epoll
  // (router/event_loop.hpp, docs/PERFORMANCE.md "Busy polling"): shorter than what a sleep and
  // wake-up costs on a VM, so it saves CPU whenever the next message comes within it and costs
  // at most the window when it does not. 0 never spins.
  std::chrono::microseconds busy_poll{default_busy_poll};
};

}  // namespace junction
