// router/ops/config.hpp — the router's settings: one struct tree filled from the config file
// (router/ops/config_file.hpp), then from flags (router/ops/cli.hpp). Every member's default is
// the one a production router would pick; docs/CONFIG.md lists them all.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/authorizer.hpp"
#include "auth/bridge_auth.hpp"
#include "auth/config.hpp"
#include "realm/realm_config.hpp"
#include "router/event_loop.hpp"
#include "router/ops/log.hpp"
#include "router/transport/keepalive.hpp"

namespace junction {

// TLS for a listener (OpenSSL): PEM files; TLS 1.2 and 1.3 only.
struct tls_config {
  std::string cert_file;      // certificate chain; TLS is on when set
  std::string key_file;       // private key
  std::string ca_file;        // CAs that client certificates must chain to
  bool require_client_cert = false;  // needs ca_file
  [[nodiscard]] bool enabled() const noexcept { return !cert_file.empty(); }
};

// One listening endpoint (config file: /listeners/*, docs/CONFIG.md; flags: --listen URL).
// A directory a listener serves over HTTP (/listeners/*/web, router/transport/static_files.hpp).
struct web_mount {
  std::string path;          // URL prefix: "/app" (or "/")
  std::string directory;     // absolute, or relative to the working directory
  std::string index = "index.html";  // served for a path naming a directory
  std::uint32_t max_age_s = 0;       // Cache-Control: max-age (0: no-cache, revalidate each time)
};

struct listener_config {
  // websocket: ws:// or wss://; rawsocket: rs://, rss:// or a Unix socket; universal: WebSocket
  // and RawSocket on one port (the first byte decides); http: health, metrics and the admin
  // routes only (no WAMP).
  enum class protocol { websocket, rawsocket, universal, http };
  protocol kind = protocol::universal;
  std::string host = "127.0.0.1";  // loopback by default: exposing the router is a decision
  std::uint16_t port = 8080;
  std::string path = "/ws";        // WebSocket: the path (any other answers 404)
  std::string unix_path;           // RawSocket over a Unix domain socket when not empty
  std::size_t max_message_size = 16 * 1024 * 1024;  // bytes per incoming WAMP message
  keepalive_settings keepalive;  // router pings (WebSocket ping / RawSocket PING)
  bool rawsocket_pings = false;  // RawSocket PINGs too (opt-in: see --keepalive-interval)
  // bench-echo-junction only (not a config-file key): a WebSocket listener that accepts an
  // upgrade on any path, with or without a subprotocol, and echoes every message back (text as
  // text, binary as binary) instead of carrying WAMP.
  bool echo = false;
  std::size_t max_connections = 0;  // 0: bounded only by the open-file limit
  // A connection's first byte (universal port), TLS handshake and WebSocket/RawSocket handshake
  // must all be done within this, or it is closed (slowloris).
  std::chrono::milliseconds handshake_timeout{10000};
  tls_config tls;                // wss:// and rss:// listeners
  // Sessions that may be authenticating at once here (waiting for AUTHENTICATE, a dynamic
  // authenticator or a hash check); more are answered ABORT wamp.error.authentication_failed.
  std::size_t max_authenticating = 1000;
  // Serve /healthz, /readyz, /metrics (and the admin routes) over plain HTTP on this port.
  // Absent: yes on a loopback address, no otherwise (metrics reveal a deployment's shape).
  std::optional<bool> admin;
  // Serve the web console (router_config::console_path) here. Absent: on a loopback address only.
  std::optional<bool> console;
  std::vector<web_mount> web;  // static files; none by default

  // "ws://127.0.0.1:8080/ws", "rs://127.0.0.1:8081", "unix:/path",
  // "universal://127.0.0.1:8080/ws", "http://127.0.0.1:9100" — for logs.
  [[nodiscard]] std::string url() const;
  // Whether it serves the HTTP admin routes (see `admin`).
  [[nodiscard]] bool serves_admin() const noexcept;
  // Whether it serves the web console (see `console`).
  [[nodiscard]] bool serves_console() const noexcept;
  // The listener's identity for reloads: the socket it binds (kind, address, TLS or not).
  [[nodiscard]] std::string address_key() const;
};

enum class log_format { text, json };

// The realm's HTTP bridge (/realms/*/http_bridge, router/bridge.hpp): POST {path}/publish and
// {path}/call on every listener that speaks HTTP.
struct http_bridge_config {
  std::string path;  // "/bridge/realm1": no trailing slash
  std::chrono::milliseconds call_timeout{10000};  // a CALL's timeout unless its options give one
  std::size_t max_body = std::size_t{1} << 20;     // a request's body (413 past it)
  auth::bridge_auth_config auth;
};

// A realm as the config file describes it (/realms/*): the realm's own settings (realm/, which
// knows nothing of authentication) and how the router authenticates its sessions.
struct realm_settings : realm_config {
  realm_settings() = default;
  explicit realm_settings(std::string realm_name) { name = std::move(realm_name); }
  auth::realm_auth auth;
  auth::realm_authorization authorization;  // /realms/*/roles and /realms/*/authorization
  std::optional<http_bridge_config> bridge;  // /realms/*/http_bridge; absent: no bridge
};

struct router_config {
  std::vector<listener_config> listeners{listener_config{}};  // the embedded default: universal
  std::vector<realm_settings> realms{realm_settings{"realm1"}};
  // Enforce the spec's sequential client request ids (off by default: many deployed clients
  // send them out of sequence, and neither Crossbar nor Nexus enforces the rule).
  bool strict_request_ids = false;
  log_level level = log_level::info;
  log_format format = log_format::text;
  // How long an I/O thread keeps polling after its last handler before it blocks in epoll
  // (router/event_loop.hpp, docs/PERFORMANCE.md "Busy polling"): shorter than what a sleep and
  // wake-up costs on a VM, so it saves CPU whenever the next message comes within it and costs
  // at most the window when it does not. 0 never spins.
  std::chrono::microseconds busy_poll{default_busy_poll};
  // I/O threads (docs/THREADING.md): one event loop each, connections spread over them round
  // robin, every realm served by all of them. 0: as many as the CPUs the process may run on
  // (sched_getaffinity). Read at start only. Default 1: measured, the core-locked engine of
  // issue 17 does not yet beat one thread (docs/PERFORMANCE.md, "Threads").
  unsigned threads = 1;
  // Graceful shutdown (SIGTERM): how long calls in flight may take to finish before their
  // callers are answered wamp.error.canceled and every session is told GOODBYE.
  std::chrono::milliseconds drain_timeout{10000};
  // /healthz fails when the event loop has not turned for this long.
  std::chrono::milliseconds stall_threshold{2000};
  // POST /admin/reload on admin listeners (from loopback peers only) re-reads the config file.
  bool reload_endpoint = true;
  // The web console (web/console/, issue 18): its URL path, and the directory its files come from
  // ("" : the build's own web/console, JUNCTION_CONSOLE_DIR).
  std::string console_path = "/console";
  std::string console_directory;
  // Bytes queued for a client that does not read before it is closed as a slow consumer; half of
  // it makes the client congested (flow control, router/transport/stream_connection.hpp). 1 MiB:
  // the kernel's send buffer (up to 4 MiB with autotuning) absorbs a healthy client's bursts
  // before anything queues here, a stalled client is found within 1 MiB of traffic, and 1,000
  // stalled clients cost 1 GiB at most. A single message larger than this still goes out.
  std::size_t max_outbound_bytes = std::size_t{1} << 20;
  // A congested client (over half of max_outbound_bytes) that has taken no bytes for this long
  // is stalled: closed as a slow consumer. Long enough for a reading client on a slow link to
  // complete one write, short enough that a stalled one holds its senders back only briefly.
  std::chrono::milliseconds slow_consumer_timeout{2000};
  // In realms with slow_consumer "drop-events": EVENTs to a client with more than this waiting
  // are skipped (64 KiB, µWebSockets' default backpressure limit: 1,000 slow subscribers hold
  // 64 MiB at most).
  std::size_t event_backlog_bytes = 65536;
  // Failed authentications per peer address (auth/throttle.hpp).
  auth::throttle_config auth_throttle;
};

}  // namespace junction
