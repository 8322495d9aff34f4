// router/transport/http.hpp — HTTP/1.1 requests as every listener reads them (issue 18): the
// WebSocket upgrade, the admin routes and whatever comes later (the bridge, the console, static
// files) arrive through one reader on the same port. Pure code: no sockets, no Asio, no clocks.
//
// Two parsers, each doing what it is best at (docs/PERFORMANCE.md, "HTTP requests" has the
// measurement):
//   - the head (request line and headers) is read by websocket.cpp's own strict parser
//     (parse_request): control characters, obsolete line folding, malformed names, repeated
//     single-value headers — each refused with a message that quotes the offending line;
//   - a body — Content-Length or chunked transfer coding, its limit — is decoded by Boost.Beast's
//     parser (header-only, in Debian's Boost; compiled in http.cpp alone): request smuggling
//     lives in those details, and Beast's parser is fuzzed and kept by people who do only that.
//     A request without a body (every WebSocket upgrade, every GET) never reaches it.
// What a listener does with a request is its business; this reader only says when one is
// complete, or why the bytes are not HTTP it will read (a status and a message).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "router/transport/websocket.hpp"

namespace junction::http {

struct limits {
  std::size_t max_head = websocket::max_request_head;  // request line + headers (431 past it)
  std::size_t max_body = 1024 * 1024;                  // the body, decoded (413 past it)
};

// A complete request: its head as the WebSocket layer reads it (method, target, the headers the
// router uses) and its body, decoded from Content-Length or chunked framing.
struct request {
  websocket::request head;
  std::string body;
  bool keep_alive = true;  // HTTP/1.1 without "Connection: close", or 1.0 with "keep-alive"
};

class request_reader {
 public:
  explicit request_reader(limits l = {});
  ~request_reader();
  request_reader(const request_reader&) = delete;
  request_reader& operator=(const request_reader&) = delete;

  enum class state { need_more, complete, failed };

  // Takes bytes as they arrive (they are kept until a request is complete). A failed reader stays
  // failed: the connection answers `status()` and closes.
  void append(const char* data, std::size_t size);
  // Tries to complete the next request from what was appended (several may be pipelined: call
  // again after each). complete: take it with take_request(); failed: status() and error().
  state next();
  [[nodiscard]] request take_request();
  [[nodiscard]] int status() const noexcept { return status_; }              // 400, 413, 431, 501
  [[nodiscard]] const std::string& error() const noexcept { return error_; }  // for the log and the body
  // Bytes appended and not yet part of a request (a pipelined request, or the first WebSocket
  // frames behind an upgrade request).
  [[nodiscard]] std::string take_rest();
  // A head with "Expect: 100-continue" was read and its body is awaited: the connection answers
  // "100 Continue" once (curl waits a second for it before sending a body over 1 KiB).
  [[nodiscard]] bool take_expect_continue() noexcept { return std::exchange(expect_continue_, false); }

 private:
  struct body_parser;  // http.cpp: Beast's
  state fail(int status, std::string text);

  limits limits_;
  std::string buffer_;
  std::unique_ptr<body_parser> body_;  // from a head with a body until the body is complete
  request current_;
  bool in_body_ = false;
  bool expect_continue_ = false;
  int status_ = 0;
  std::string error_;
};

}  // namespace junction::http
