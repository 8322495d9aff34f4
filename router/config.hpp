// router/config.hpp — the router's settings. Filled from command-line flags today; the config
// file (a later issue) fills the same structs, and adds listeners of other kinds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "realm/realm_config.hpp"
#include "router/log.hpp"

namespace junction {

struct listener_config {
  std::string host = "127.0.0.1";  // loopback by default: exposing the router is a decision
  std::uint16_t port = 8080;
  std::string path = "/ws";        // the WebSocket path; any other path answers 404
  std::size_t max_message_size = 16 * 1024 * 1024;  // bytes per incoming WAMP message
};

struct router_config {
  std::vector<listener_config> listeners{listener_config{}};
  std::vector<realm_config> realms;  // empty → the embedded default, realm "realm1"
  // Enforce the spec's sequential client request ids (off by default: many deployed clients
  // send them out of sequence, and neither Crossbar nor Nexus enforces the rule).
  bool strict_request_ids = false;
  log_level level = log_level::info;
};

}  // namespace junction
