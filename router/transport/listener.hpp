// router/transport/listener.hpp — what main() needs from any listener (WebSocket, RawSocket, later TLS and
// universal ports): start, stop, and where it listens.
#pragma once

#include <string>

namespace junction {

class listener {
 public:
  virtual ~listener() = default;
  // Binds and starts accepting; throws std::runtime_error with the reason when it cannot bind.
  virtual void start() = 0;
  // Stops accepting, says GOODBYE to established sessions and closes every connection.
  virtual void stop() = 0;
};

}  // namespace junction
