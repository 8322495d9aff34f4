// router/transport/websocket_listener.hpp — a WebSocket listener, ws:// or wss:// (router/transport/websocket.hpp on
// Boost.Asio). Asio stays behind this pimpl so no other translation unit compiles it.
#pragma once

#include <memory>

#include "router/ops/config.hpp"
#include "router/transport/listener.hpp"

namespace boost::asio {
class io_context;
}

namespace junction {
namespace stream {
struct tls_handover;
}

class router;
class loop_set;

class websocket_listener final : public listener {
 public:
  // Accepts on loops.main() and spreads connections over the loops (router/transport/loops.hpp).
  websocket_listener(loop_set& loops, router& owner, const listener_config& config);
  ~websocket_listener() override;
  websocket_listener(const websocket_listener&) = delete;
  websocket_listener& operator=(const websocket_listener&) = delete;

  void start() override;
  // For a universal port: serve connections handed over by adopt() instead of listening.
  void attach();
  // Takes an accepted TCP connection (its descriptor) whose first byte says it is ours.
  void adopt(int native_socket, bool ipv6);
  // Takes a connection a universal TLS port has taken through TLS (router/transport/stream_connection.hpp).
  void adopt_tls(stream::tls_handover&& h);
  void stop_accepting() override;
  // Stops accepting and closes every connection (going away).
  void stop() override;
  void reconfigure(const listener_config& config) override;
  [[nodiscard]] std::string url() const override;
  [[nodiscard]] metrics::listener_view view() const override;

  struct impl;  // public so the per-config implementations in the .cpp can derive from it

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace junction
