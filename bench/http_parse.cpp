// bench-http-parse — what parsing one HTTP request costs (docs/PERFORMANCE.md, "HTTP requests"),
// the measurement behind router/transport/http.hpp's choice of parser. No network.
//
// Three requests: Chromium's WebSocket upgrade (what every WAMP browser session sends), a bridge
// POST with a 120-byte JSON body by Content-Length, and the same body chunked. Each goes through
// http::request_reader (the router's: our strict head parser, then Boost.Beast's parser for the
// framing and the body); the upgrade also through the head parser alone (websocket.cpp's
// parse_request: what the router did before, no bodies) and through Beast's own request_parser
// alone (head into beast::http::fields, body into a string): the alternative for the whole job.
// Figures: median of --reps repetitions, ns per request. Exit status: 0 ok, 1 a parser failed on
// a request, 2 bad flags.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "router/transport/http.hpp"
#include "router/transport/websocket.hpp"

namespace {

const std::string upgrade =
    "GET /ws HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "Connection: Upgrade\r\n"
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "Upgrade: websocket\r\n"
    "Origin: http://127.0.0.1:8080\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "Sec-WebSocket-Protocol: wamp.2.json, wamp.2.msgpack\r\n"
    "\r\n";

const std::string body =
    R"({"topic":"com.example.orders.created","args":[{"id":12345,"total":99.5}],"kwargs":{"source":"billing","n":1}})";

std::string post(bool chunked) {
  std::string r =
      "POST /bridge/publish HTTP/1.1\r\n"
      "Host: 127.0.0.1:8080\r\n"
      "User-Agent: curl/7.88.1\r\n"
      "Accept: */*\r\n"
      "Authorization: Bearer 0123456789abcdef0123456789abcdef\r\n"
      "Content-Type: application/json\r\n";
  if (!chunked) return r + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size() - 20);
  return r + "Transfer-Encoding: chunked\r\n\r\n" + size + "\r\n" + body.substr(0, body.size() - 20) +
         "\r\n14\r\n" + body.substr(body.size() - 20) + "\r\n0\r\n\r\n";
}

template <class F>
double median_ns(int reps, int n, F&& once) {
  std::vector<double> figures;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i)
      if (!once()) {
        std::fprintf(stderr, "bench-http-parse: a parser failed\n");
        std::exit(1);
      }
    const auto t1 = std::chrono::steady_clock::now();
    figures.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / n);
  }
  std::sort(figures.begin(), figures.end());
  return figures[figures.size() / 2];
}

bool reader_parses(const std::string& wire, std::size_t want_body) {
  junction::http::request_reader reader;
  reader.append(wire.data(), wire.size());
  if (reader.next() != junction::http::request_reader::state::complete) return false;
  return reader.take_request().body.size() == want_body;
}

bool beast_alone(const std::string& wire, std::size_t want_body) {
  namespace bh = boost::beast::http;
  bh::request_parser<bh::string_body> p;
  p.eager(true);
  boost::beast::error_code ec;
  p.put(boost::asio::buffer(wire.data(), wire.size()), ec);
  return !ec && p.is_done() && p.get().body().size() == want_body;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7;
  int n = 200000;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--quick") {
      reps = 3;
      n = 2000;
    } else {
      std::fprintf(stderr, "usage: bench-http-parse [--quick]\n");
      return 2;
    }
  }
  const std::string by_length = post(false);
  const std::string chunked = post(true);
  namespace ws = junction::websocket;
  const double ours = median_ns(reps, n, [&] {
    const std::size_t len = ws::head_length(upgrade);
    auto r = ws::parse_request(std::string_view(upgrade).substr(0, len));
    return len == upgrade.size() && r.ok() && r->protocols.size() == 2;
  });
  const double beast_upgrade = median_ns(reps, n, [&] { return reader_parses(upgrade, 0); });
  const double beast_length = median_ns(reps, n, [&] { return reader_parses(by_length, body.size()); });
  const double beast_chunked = median_ns(reps, n, [&] { return reader_parses(chunked, body.size()); });
  const double alone_upgrade = median_ns(reps, n, [&] { return beast_alone(upgrade, 0); });
  const double alone_length = median_ns(reps, n, [&] { return beast_alone(by_length, body.size()); });
  const double alone_chunked = median_ns(reps, n, [&] { return beast_alone(chunked, body.size()); });
  std::printf("| request | bytes | parser | ns per request |\n|---|---|---|---|\n");
  std::printf("| WebSocket upgrade (Chromium) | %zu | hand-written head parser (before) | %.0f |\n", upgrade.size(), ours);
  std::printf("| WebSocket upgrade (Chromium) | %zu | http::request_reader (head parser; no body, so no Beast) | %.0f |\n", upgrade.size(),
              beast_upgrade);
  std::printf("| POST, Content-Length | %zu | http::request_reader (head parser + Beast) | %.0f |\n", by_length.size(), beast_length);
  std::printf("| POST, chunked | %zu | http::request_reader (head parser + Beast) | %.0f |\n", chunked.size(), beast_chunked);
  std::printf("| WebSocket upgrade (Chromium) | %zu | Beast request_parser alone (fields + body) | %.0f |\n",
              upgrade.size(), alone_upgrade);
  std::printf("| POST, Content-Length | %zu | Beast request_parser alone (fields + body) | %.0f |\n", by_length.size(),
              alone_length);
  std::printf("| POST, chunked | %zu | Beast request_parser alone (fields + body) | %.0f |\n", chunked.size(),
              alone_chunked);
  return 0;
}
