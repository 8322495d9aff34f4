// Fuzz target: the HTTP/1.1 request head parser of the WebSocket opening handshake
// (router/transport/websocket.hpp: head_length, parse_request, check_upgrade, accept_key).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "router/transport/websocket.hpp"

namespace ws = junction::websocket;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t n = ws::head_length(input);
  if (n > input.size()) std::abort();  // a head longer than what was read
  const std::string_view head = n == 0 ? input : input.substr(0, n);
  auto r = ws::parse_request(head);
  if (!r) return 0;
  (void)r->path();
  if (r->path().size() > r->target.size()) std::abort();
  if (auto refusal = ws::check_upgrade(*r)) {
    if (refusal->status < 400 || refusal->status > 499) std::abort();
    (void)ws::http_response(refusal->status, refusal->reason);
    return 0;
  }
  if (!r->wants_upgrade()) std::abort();  // acceptable means an upgrade was asked for
  const std::string accept = ws::accept_key(r->key);
  if (accept.size() != 28) std::abort();  // base64 of a SHA-1
  (void)ws::switching_protocols(r->key, r->protocols.empty() ? std::string_view{} : r->protocols.front());
  return 0;
}
