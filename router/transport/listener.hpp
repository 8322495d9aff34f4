// router/transport/listener.hpp — what the server needs from any listener (WebSocket, RawSocket,
// universal, HTTP): start, drain, stop, take new settings, be counted.
#pragma once

#include <string>

#include "router/ops/config.hpp"
#include "router/ops/metrics.hpp"

namespace junction {

class listener {
 public:
  virtual ~listener() = default;
  // Binds and starts accepting; throws std::runtime_error with the reason when it cannot bind.
  virtual void start() = 0;
  // Stops accepting new connections; open ones go on (shutdown, last step before stop()).
  virtual void stop_accepting() = 0;
  // Stops accepting, says GOODBYE to established sessions and closes every connection.
  virtual void stop() = 0;
  // Reload: settings for the same socket (same type, address and port). They apply to
  // connections accepted from now on, and to the keepalive sweep; a TLS listener loads its
  // certificate and key again. Throws std::runtime_error (the old settings stay) when the new
  // TLS files cannot be used.
  virtual void reconfigure(const listener_config& config) = 0;
  // The URL it listens on, with the port it really bound.
  [[nodiscard]] virtual std::string url() const = 0;
  [[nodiscard]] virtual metrics::listener_view view() const = 0;
};

}  // namespace junction
