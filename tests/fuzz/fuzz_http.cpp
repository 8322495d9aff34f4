// Fuzz target: the HTTP/1.1 request head parser of the WebSocket opening handshake
// (router/transport/websocket.hpp: head_length, parse_request, check_upgrade, accept_key), and
// the request reader (router/transport/http.hpp: pipelined requests, bodies by Content-Length and
// chunked, limits) with an oracle: the same bytes read whole and cut in three give the same
// requests, bodies and refusal.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "router/transport/http.hpp"
#include "router/transport/websocket.hpp"

namespace ws = junction::websocket;
namespace http = junction::http;

namespace {

// What a reader makes of `input` appended in pieces ending at `cuts`: each request's method,
// target and body, then the refusal's status (or 0).
std::vector<std::string> read_requests(std::string_view input, std::vector<std::size_t> cuts) {
  http::limits l;
  l.max_head = 1024;
  l.max_body = 4096;
  http::request_reader r(l);
  std::vector<std::string> out;
  std::size_t at = 0;
  cuts.push_back(input.size());
  for (std::size_t cut : cuts) {
    r.append(input.data() + at, cut - at);
    at = cut;
    for (;;) {
      const auto s = r.next();
      if (s == http::request_reader::state::complete) {
        const http::request q = r.take_request();
        if (q.body.size() > l.max_body) std::abort();
        out.push_back(q.head.method + " " + q.head.target + " " + q.body + (q.keep_alive ? " k" : " c"));
        if (q.head.wants_upgrade()) return out;  // what follows is WebSocket, not HTTP
        continue;
      }
      if (s == http::request_reader::state::failed) {
        if (r.status() < 400 || r.status() > 599) std::abort();
        out.push_back("failed " + std::to_string(r.status()));
        return out;
      }
      break;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (size > 2) {
    const std::size_t a = data[0] % size, b = a + (data[1] % (size - a));
    if (read_requests(input, {}) != read_requests(input, {a, b})) std::abort();
  }
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
