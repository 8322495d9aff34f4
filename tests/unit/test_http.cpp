// HTTP/1.1 requests (router/transport/http.hpp): keep-alive, pipelining, bodies by Content-Length
// and chunked (split at every byte), the limits, and what is refused with which status.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "router/transport/http.hpp"

using junction::http::limits;
using junction::http::request;
using junction::http::request_reader;
using state = request_reader::state;

namespace {

// Feeds `wire` in pieces cut at `cuts` and collects the requests completed.
struct outcome {
  std::vector<request> requests;
  int status = 0;
  std::string error;
};

outcome read_all(const std::string& wire, std::vector<std::size_t> cuts = {}, limits l = {}) {
  request_reader r(l);
  outcome o;
  std::size_t at = 0;
  cuts.push_back(wire.size());
  for (std::size_t cut : cuts) {
    r.append(wire.data() + at, cut - at);
    at = cut;
    for (;;) {
      const state s = r.next();
      if (s == state::complete) {
        o.requests.push_back(r.take_request());
        continue;
      }
      if (s == state::failed) {
        o.status = r.status();
        o.error = r.error();
        return o;
      }
      break;
    }
  }
  return o;
}

const std::string body = R"({"topic":"com.example.t","args":[1,2,3],"kwargs":{"k":"v"}})";

std::string post_by_length() {
  return "POST /bridge/publish HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
         "Authorization: Bearer abc\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string post_chunked() {
  // Two chunks (one with an extension), an empty last chunk, and a trailer field.
  return "POST /bridge/publish HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
         "a\r\n" + body.substr(0, 10) + "\r\n" +
         "31;name=value\r\n" + body.substr(10) + "\r\n" +  // 0x31: the other 49 bytes
         "0\r\nX-Trailer: t\r\n\r\n";
}

}  // namespace

TEST_CASE("http: a GET without a body, and keep-alive as RFC 9112 §9.3 says") {
  auto o = read_all("GET /metrics HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(o.requests.size() == 1);
  CHECK(o.requests[0].head.method == "GET");
  CHECK(o.requests[0].head.path() == "/metrics");
  CHECK(o.requests[0].body.empty());
  CHECK(o.requests[0].keep_alive);
  CHECK_FALSE(read_all("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").requests.at(0).keep_alive);
  CHECK_FALSE(read_all("GET / HTTP/1.0\r\n\r\n").requests.at(0).keep_alive);
  CHECK(read_all("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").requests.at(0).keep_alive);
  CHECK_FALSE(read_all("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").requests.at(0).keep_alive);
}

TEST_CASE("http: pipelined requests come out one by one, in order") {
  const std::string wire = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n" + post_by_length() + post_chunked() +
                           "GET /d HTTP/1.1\r\nHost: h\r\n\r\n";
  const auto o = read_all(wire);
  REQUIRE(o.requests.size() == 4);
  CHECK(o.requests[0].head.path() == "/a");
  CHECK(o.requests[1].body == body);
  CHECK(o.requests[1].head.content_type == "application/json");
  CHECK(o.requests[1].head.authorization == "Bearer abc");
  CHECK(o.requests[2].body == body);
  CHECK(o.requests[3].head.path() == "/d");
  CHECK(o.status == 0);
}

TEST_CASE("http: a body by Content-Length or chunked, cut at every byte") {
  for (const std::string& wire : {post_by_length(), post_chunked()}) {
    for (std::size_t cut = 1; cut < wire.size(); ++cut) {
      const auto o = read_all(wire, {cut});
      REQUIRE_MESSAGE(o.requests.size() == 1, "cut at " << cut << ": " << o.error);
      CHECK(o.requests[0].body == body);
    }
    // And a byte at a time.
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < wire.size(); ++i) every.push_back(i);
    const auto o = read_all(wire, every);
    REQUIRE(o.requests.size() == 1);
    CHECK(o.requests[0].body == body);
  }
}

TEST_CASE("http: the limits — 431 for a long head, 413 for a long body (announced or chunked)") {
  limits small;
  small.max_head = 256;
  small.max_body = 32;
  auto o = read_all("GET / HTTP/1.1\r\nX: " + std::string(300, 'a') + "\r\n\r\n", {}, small);
  CHECK(o.status == 431);
  o = read_all("GET / HTTP/1.1\r\nX: " + std::string(300, 'a'), {}, small);  // never ends: still 431
  CHECK(o.status == 431);
  o = read_all(post_by_length(), {}, small);  // announced: refused before the body arrives
  CHECK(o.status == 413);
  CHECK(o.error == "request body over 32 bytes");
  o = read_all(post_chunked(), {}, small);
  CHECK(o.status == 413);
  // A chunk header that never ends is bounded as a head.
  o = read_all("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;" + std::string(400, 'x'), {}, small);
  CHECK(o.status == 400);
}

TEST_CASE("http: what is refused, with which status") {
  // An unknown coding is 501; both framings at once (request smuggling) and bad lengths are 400.
  auto o = read_all("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
  CHECK(o.status == 501);
  o = read_all("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc");
  CHECK(o.status == 400);
  CHECK(o.error.find("ambiguous") != std::string::npos);
  o = read_all("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
  CHECK(o.status == 400);
  CHECK(o.error == "repeated Content-Length header");
  for (const char* bad : {"abc", "-1", "1 2", "0x10", "99999999999999999999999"}) {
    o = read_all(std::string("POST / HTTP/1.1\r\nContent-Length: ") + bad + "\r\n\r\n");
    CHECK_MESSAGE(o.status == 400, bad);
  }
  o = read_all("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
  CHECK(o.status == 400);
  o = read_all("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n");  // no CRLF after data
  CHECK(o.status == 400);
  // The head parser's refusals keep their words.
  o = read_all("GET / HTTP/1.1\r\nHost: h\r\n  folded\r\n\r\n");
  CHECK(o.status == 400);
  CHECK(o.error.find("obsolete line folding") != std::string::npos);
  // A failed reader stays failed and keeps nothing.
  request_reader r;
  const std::string bad = "BAD\r\n\r\n";
  r.append(bad.data(), bad.size());
  CHECK(r.next() == state::failed);
  r.append("GET / HTTP/1.1\r\n\r\n", 18);
  CHECK(r.next() == state::failed);
  CHECK(r.take_rest().empty());
}

TEST_CASE("http: an upgrade hands over the frames behind it; Expect: 100-continue is seen once") {
  request_reader r;
  const std::string up = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85mask";
  r.append(up.data(), up.size());
  REQUIRE(r.next() == state::complete);
  CHECK(r.take_request().head.wants_upgrade());
  CHECK(r.take_rest() == "\x81\x85mask");

  request_reader e;
  const std::string head = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
  e.append(head.data(), head.size());
  CHECK(e.next() == state::need_more);
  CHECK(e.take_expect_continue());
  CHECK_FALSE(e.take_expect_continue());
  e.append("ab", 2);
  CHECK(e.next() == state::need_more);
  CHECK_FALSE(e.take_expect_continue());
  e.append("cd", 2);
  REQUIRE(e.next() == state::complete);
  CHECK(e.take_request().body == "abcd");
}
