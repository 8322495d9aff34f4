#include "router/ops/config.hpp"

namespace junction {

std::string listener_config::url() const {
  if (!unix_path.empty()) return "unix:" + unix_path;
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const char* secure = tls.enabled() ? "s" : "";
  const std::string authority = h + ":" + std::to_string(port);
  switch (kind) {
    case protocol::rawsocket: return std::string("r") + secure + "s://" + authority;
    case protocol::universal: return "universal://" + authority + path;
    case protocol::http: return std::string("http") + secure + "://" + authority;
    case protocol::websocket: break;
  }
  return std::string("ws") + secure + "://" + authority + path;
}

namespace {
bool loopback_host(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" ||
         (host.size() > 4 && host.compare(0, 4, "127.") == 0);
}
}  // namespace

bool listener_config::serves_admin() const noexcept {
  if (kind == protocol::rawsocket) return false;  // no HTTP on RawSocket
  if (admin) return *admin;
  return loopback_host(host);
}

bool listener_config::serves_console() const noexcept {
  // The console speaks WAMP back to the port that served it: WebSocket ports only.
  if (kind == protocol::rawsocket || kind == protocol::http) return false;
  if (console) return *console;
  return loopback_host(host);
}

std::string listener_config::address_key() const {
  if (!unix_path.empty()) return "unix:" + unix_path;
  const std::string u = url();
  return u.substr(0, u.find('/', u.find("//") + 2));  // the URL without its path
}

}  // namespace junction
