// router/transport/universal_listener.hpp — one TCP port for WebSocket and RawSocket, as Crossbar's
// "universal" transport: the first byte of a connection decides (0x7F = RawSocket, anything else
// is HTTP: a WebSocket upgrade, or a plain request answered by the WebSocket listener — the
// admin routes /healthz, /readyz, /metrics where the listener serves them, 404 elsewhere).
#pragma once

#include <memory>

#include "router/ops/config.hpp"
#include "router/transport/listener.hpp"

namespace boost::asio {
class io_context;
}

namespace junction {

class router;
class loop_set;

class universal_listener final : public listener {
 public:
  // Accepts on loops.main() and spreads connections over the loops (router/transport/loops.hpp).
  universal_listener(loop_set& loops, router& owner, const listener_config& config);
  ~universal_listener() override;
  universal_listener(const universal_listener&) = delete;
  universal_listener& operator=(const universal_listener&) = delete;

  void start() override;
  void stop_accepting() override;
  void stop() override;
  void reconfigure(const listener_config& config) override;
  [[nodiscard]] std::string url() const override;
  [[nodiscard]] metrics::listener_view view() const override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace junction
