#include "router/ops/config.hpp"

namespace junction {

std::string listener_config::url() const {
  if (!unix_path.empty()) return "unix:" + unix_path;
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const char* secure = tls.enabled() ? "s" : "";
  if (kind == protocol::rawsocket) return std::string("r") + secure + "s://" + h + ":" + std::to_string(port);
  if (kind == protocol::universal)
    return "universal://" + h + ":" + std::to_string(port) + path;
  return std::string("ws") + secure + "://" + h + ":" + std::to_string(port) + path;
}

}  // namespace junction
