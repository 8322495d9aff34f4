// router/transport/rawsocket_listener.hpp — a WAMP RawSocket listener over TCP or a Unix domain socket
// (spec: advanced/transport_rawsocket; reference §3.2). Asio stays behind this pimpl.
#pragma once

#include <memory>
#include <string>

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

class rawsocket_listener final : public listener {
 public:
  // Accepts on loops.main() and spreads connections over the loops (router/transport/loops.hpp).
  rawsocket_listener(loop_set& loops, router& owner, const listener_config& config);
  ~rawsocket_listener() override;
  rawsocket_listener(const rawsocket_listener&) = delete;
  rawsocket_listener& operator=(const rawsocket_listener&) = delete;

  void start() override;
  // For a universal port: serve connections handed over by adopt() instead of listening.
  void attach();
  // Takes an accepted TCP connection (its descriptor) whose first byte says it is ours.
  void adopt(int native_socket, bool ipv6);
  // Takes a connection a universal TLS port has taken through TLS (router/transport/stream_connection.hpp).
  void adopt_tls(stream::tls_handover&& h);
  void stop_accepting() override;
  // Stops accepting, says GOODBYE to established sessions and closes every connection.
  void stop() override;
  void reconfigure(const listener_config& config) override;
  // "rs://127.0.0.1:PORT" (the bound port) or "unix:/path".
  [[nodiscard]] std::string url() const override;
  [[nodiscard]] metrics::listener_view view() const override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace junction
