// router/transport/http.cpp — see http.hpp. The only file that includes Boost.Beast.
#include "router/transport/http.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <cctype>

namespace junction::http {

namespace beast_http = boost::beast::http;
using boost::beast::error_code;

// Beast's parser with our own callbacks: the head has been read already (fields are ignored
// here), the body is appended to `body` as it is decoded. Beast enforces the framing rules and
// body_limit.
struct request_reader::body_parser final : beast_http::basic_parser<true> {
  std::string body;

  void on_request_impl(beast_http::verb, boost::beast::string_view, boost::beast::string_view, int,
                       error_code&) override {}
  void on_response_impl(int, boost::beast::string_view, int, error_code&) override {}
  void on_field_impl(beast_http::field, boost::beast::string_view, boost::beast::string_view, error_code&) override {}
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (length) body.reserve(static_cast<std::size_t>(*length));  // within body_limit: Beast checked
  }
  std::size_t on_body_impl(boost::beast::string_view part, error_code&) override {
    body.append(part.data(), part.size());
    return part.size();
  }
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view part, error_code&) override {
    body.append(part.data(), part.size());
    return part.size();
  }
  void on_finish_impl(error_code&) override {}
};

namespace {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

request_reader::request_reader(limits l) : limits_(l) {}
request_reader::~request_reader() = default;

void request_reader::append(const char* data, std::size_t size) {
  if (status_ == 0) buffer_.append(data, size);
}

request_reader::state request_reader::fail(int status, std::string text) {
  status_ = status;
  error_ = std::move(text);
  body_.reset();
  in_body_ = false;
  std::string().swap(buffer_);
  return state::failed;
}

request_reader::state request_reader::next() {
  if (status_ != 0) return state::failed;
  error_code ec;
  if (!in_body_) {
    const std::size_t length = websocket::head_length(buffer_);
    if (length == 0 || length > limits_.max_head) {
      if (length == 0 && buffer_.size() < limits_.max_head) return state::need_more;
      return fail(431, "request head over " + std::to_string(limits_.max_head) + " bytes");
    }
    auto head = websocket::parse_request(std::string_view(buffer_).substr(0, length));
    if (!head) return fail(400, head.error().message);
    current_ = request{};
    current_.head = std::move(*head);
    const websocket::request& h = current_.head;
    // Keep-alive (RFC 9112 §9.3): the default in 1.1, asked for in 1.0; "close" ends it either way.
    current_.keep_alive = !h.connection_close && (h.version == "HTTP/1.1" || h.connection_keep_alive);
    if (h.content_length.empty() && h.transfer_encoding.empty()) {  // no body (RFC 9112 §6.3)
      buffer_.erase(0, length);
      return state::complete;
    }
    // RFC 9112 §6.1: a coding this server does not know is 501; chunked must be the final (here
    // the only) one, or the body's length cannot be known. Both framings at once is how
    // requests are smuggled past a proxy: refused (§6.3 allows it).
    if (!h.transfer_encoding.empty() && !iequal(h.transfer_encoding, "chunked"))
      return fail(501, "Transfer-Encoding \"" + h.transfer_encoding + "\" is not supported (only chunked)");
    if (!h.transfer_encoding.empty() && !h.content_length.empty())
      return fail(400, "both Content-Length and Transfer-Encoding: the body's length is ambiguous");
    body_ = std::make_unique<body_parser>();
    body_->header_limit(static_cast<std::uint32_t>(limits_.max_head + 2));
    body_->body_limit(limits_.max_body);
    body_->eager(true);
    const std::size_t used = body_->put(boost::asio::buffer(buffer_.data(), length), ec);
    if (ec == beast_http::error::body_limit)
      return fail(413, "request body over " + std::to_string(limits_.max_body) + " bytes");
    if (ec && ec != beast_http::error::need_more)
      return fail(400, "malformed HTTP request: " + ec.message());
    if (!body_->is_header_done() || used != length)
      return fail(400, "malformed HTTP request: the head did not end where expected");
    buffer_.erase(0, length);
    in_body_ = true;
    expect_continue_ = iequal(h.expect, "100-continue");
  }
  while (!body_->is_done()) {
    if (buffer_.empty()) return state::need_more;
    const std::size_t used = body_->put(boost::asio::buffer(buffer_.data(), buffer_.size()), ec);
    buffer_.erase(0, used);
    if (ec == beast_http::error::need_more) {
      if (used != 0) continue;
      // A chunk's header (size, extensions) or the trailer is not complete yet: bounded as a head.
      if (buffer_.size() > limits_.max_head)
        return fail(400, "malformed HTTP request body: a chunk header or trailer over " +
                             std::to_string(limits_.max_head) + " bytes");
      return state::need_more;
    }
    if (ec == beast_http::error::body_limit)
      return fail(413, "request body over " + std::to_string(limits_.max_body) + " bytes");
    if (ec) return fail(400, "malformed HTTP request body: " + ec.message());
  }
  current_.body = std::move(body_->body);
  body_.reset();
  in_body_ = false;
  expect_continue_ = false;
  return state::complete;
}

request request_reader::take_request() { return std::move(current_); }

std::string request_reader::take_rest() {
  std::string rest;
  rest.swap(buffer_);
  return rest;
}

}  // namespace junction::http
