// router/transport/universal_listener.hpp — one TCP port for WebSocket and RawSocket, as Crossbar's
// "universal" transport: the first byte of a connection decides (0x7F = RawSocket, anything else
// is HTTP: a WebSocket upgrade, or a plain request answered by the WebSocket listener — 404 for
// paths that are not the WAMP path, so health and metrics can live on the same port later).
#pragma once

#include <memory>

#include "router/ops/config.hpp"
#include "router/transport/listener.hpp"

namespace boost::asio {
class io_context;
}

namespace junction {

class router;

class universal_listener final : public listener {
 public:
  universal_listener(boost::asio::io_context& io, router& owner, const listener_config& config);
  ~universal_listener() override;
  universal_listener(const universal_listener&) = delete;
  universal_listener& operator=(const universal_listener&) = delete;

  void start() override;
  void stop() override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace junction
