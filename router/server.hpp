// router/server.hpp — one running Junction: its event loop, router and listeners, and what an
// operator does to it (docs/OPERATIONS.md):
//   - SIGHUP or POST /admin/reload re-reads the config file and applies what changed (realms
//     added, removed, changed; listeners added, removed, changed), or changes nothing and says why;
//   - SIGTERM or SIGINT shuts down gracefully: /readyz answers 503, new sessions and calls are
//     refused, calls in flight get `shutdown.drain_timeout_ms` to finish (then their callers get
//     wamp.error.canceled), every session is told GOODBYE wamp.close.system_shutdown, connections
//     close, exit status 0; a second signal exits at once (status 1);
//   - /healthz, /readyz and /metrics answer on admin listeners (router::http_routes).
// Asio stays in the .cpp.
#pragma once

#include <memory>

#include "router/ops/cli.hpp"

namespace junction {

class server {
 public:
  explicit server(const cli_result& cli);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds every listener and serves until shut down; returns the process's exit status (1 when
  // a listener cannot start).
  int run();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace junction
