// Unit tests for the WebSocket codec (router/transport/websocket.hpp): the request head and the upgrade
// checks, the accept key and the responses byte for byte, frame headers at the length edges, the
// UTF-8 validator on known good and bad sequences, and the frame reader fed whole, split at every
// point and byte by byte, including every stream it must refuse.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "router/transport/websocket.hpp"

using namespace junction;
using namespace junction::websocket;

namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(static_cast<char>(b));
  return s;
}

// A different mask key for every frame, with high and zero octets among them (xorshift32).
std::uint32_t next_mask() {
  static std::uint32_t state = 0x9E3779B9u;
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

enum class length_form { minimal, bits16, bits64 };

// A client frame: `first` is the whole first octet (FIN, RSV, opcode), so tests can set any bit.
std::string raw_frame(int first, std::string_view payload, bool masked = true,
                      length_form form = length_form::minimal) {
  std::string out;
  out.push_back(static_cast<char>(first));
  const std::uint64_t n = payload.size();
  const int mask_bit = masked ? 0x80 : 0;
  if (form == length_form::minimal && n < 126) {
    out.push_back(static_cast<char>(mask_bit | static_cast<int>(n)));
  } else if (form != length_form::bits64 && n <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i) & 0xFF));
  }
  if (!masked) return out.append(payload);
  const std::uint32_t m = next_mask();
  const unsigned char key[4] = {static_cast<unsigned char>(m >> 24),
                                static_cast<unsigned char>(m >> 16),
                                static_cast<unsigned char>(m >> 8), static_cast<unsigned char>(m)};
  out.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out.push_back(static_cast<char>(payload[i] ^ key[i % 4]));
  return out;
}

std::string frame(opcode op, std::string_view payload, bool fin = true) {
  return raw_frame((fin ? 0x80 : 0) | static_cast<int>(op), payload);
}

std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
  return bytes({code >> 8, code & 0xFF}) + std::string(reason);
}

// Everything the sink is told, as text ("text:hello", "close:1000:bye"), and per call whether its
// view pointed into the caller's input (true) or elsewhere.
struct reading final : frame_sink {
  explicit reading(std::size_t max) : reader(max) {}
  frame_reader reader;
  std::vector<std::string> events;
  std::vector<bool> from_input;
  std::string input;  // the mutable copy of the current feed
  // The first error any feed returned.
  std::optional<frame_error> error;

  void seen(std::string event, std::string_view payload) {
    events.push_back(std::move(event));
    from_input.push_back(!payload.empty() && payload.data() >= input.data() &&
                         payload.data() + payload.size() <= input.data() + input.size());
  }
  void on_message(opcode op, std::string_view p) override {
    seen((op == opcode::text     ? "text:"
          : op == opcode::binary ? "binary:"
                                 : "?:") +
             std::string(p),
         p);
  }
  void on_ping(std::string_view p) override { seen("ping:" + std::string(p), p); }
  void on_pong(std::string_view p) override { seen("pong:" + std::string(p), p); }
  void on_close(std::uint16_t code, std::string_view reason) override {
    seen("close:" + std::to_string(code) + ":" + std::string(reason), reason);
  }

  std::optional<frame_error> feed(std::string_view in) {
    input.assign(in.data(), in.size());
    auto e = reader.feed(input.data(), input.size(), *this);
    if (e && !error) error = e;
    return e;
  }
  std::optional<frame_error> feed_bytewise(std::string_view in) {
    std::optional<frame_error> last;
    for (char c : in) last = feed(std::string_view(&c, 1));
    return last;
  }
};

// The events and the error code/text of one run, to compare runs fed in different pieces.
struct outcome {
  std::vector<std::string> events;
  std::uint16_t code = 0;
  std::string text;
  bool closed = false;
  bool operator==(const outcome& o) const {
    return events == o.events && code == o.code && text == o.text && closed == o.closed;
  }
};

outcome result_of(const reading& r) {
  outcome o{r.events, 0, {}, r.reader.closed()};
  if (r.error) {
    o.code = r.error->code;
    o.text = r.error->text;
  }
  return o;
}

outcome run_whole(std::size_t max, std::string_view in) {
  reading r(max);
  r.feed(in);
  return result_of(r);
}

outcome run_split(std::size_t max, std::string_view in, std::size_t cut) {
  reading r(max);
  r.feed(in.substr(0, cut));
  r.feed(in.substr(cut));
  return result_of(r);
}

outcome run_bytewise(std::size_t max, std::string_view in) {
  reading r(max);
  r.feed_bytewise(in);
  return result_of(r);
}

// Fed whole, at every split point and byte by byte, the stream gives the same outcome: returns it.
outcome same_every_way(std::size_t max, std::string_view in) {
  const outcome whole = run_whole(max, in);
  for (std::size_t cut = 0; cut <= in.size(); ++cut) {
    CAPTURE(cut);
    const outcome split = run_split(max, in, cut);
    CHECK(split.events == whole.events);
    CHECK(split.code == whole.code);
    CHECK(split.text == whole.text);
    CHECK(split.closed == whole.closed);
  }
  CHECK(run_bytewise(max, in) == whole);
  return whole;
}

// The error one stream fed whole gets, with the checks every refusal shares: nothing delivered,
// the reader failed and holding nothing.
frame_error refusal_of(std::string_view in, std::size_t max = 1 << 20) {
  reading r(max);
  const auto e = r.feed(in);
  REQUIRE(e.has_value());
  CHECK(r.events.empty());
  CHECK(r.reader.failed());
  CHECK(r.reader.buffered() == 0);
  return *e;
}

const std::string good_request =
    "GET /ws?realm=r1 HTTP/1.1\r\n"
    "Host: router.example:8080\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Origin: https://app.example\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: wamp.2.json, wamp.2.msgpack\r\n"
    "\r\n";

request parsed(std::string_view head) {
  auto r = parse_request(head);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  return *r;
}

std::string parse_failure(std::string_view head) {
  auto r = parse_request(head);
  REQUIRE_FALSE(r.ok());
  return r.error().message;
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

bool valid_utf8(std::string_view s) {
  utf8_validator v;
  return v.feed(s) && v.complete();
}

}  // namespace

// ---- request head -------------------------------------------------------------------------------

TEST_CASE("websocket: head_length finds the blank line, or says 0 while incomplete") {
  CHECK(head_length("") == 0);
  CHECK(head_length("GET / HTTP/1.1\r\nHost: x\r\n") == 0);
  CHECK(head_length("GET / HTTP/1.1\r\nHost: x\r\n\r") == 0);
  CHECK(head_length("GET / HTTP/1.1\r\n\n") == 0);  // bare LFs do not end a head
  CHECK(head_length("GET / HTTP/1.1\n\n") == 0);
  const std::string head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(head_length(head) == head.size());
  // Frames a client sends right behind its request are not part of the head.
  CHECK(head_length(head + "\x81\x85" + "abcdefghi") == head.size());
  CHECK(head_length(good_request) == good_request.size());
  CHECK(head_length("\r\n\r\n") == 4);
}

TEST_CASE("websocket: parse_request reads a browser's upgrade request") {
  const request r = parsed(good_request);
  CHECK(r.method == "GET");
  CHECK(r.target == "/ws?realm=r1");
  CHECK(r.path() == "/ws");
  CHECK(r.version == "HTTP/1.1");
  CHECK(r.host == "router.example:8080");
  CHECK(r.origin == "https://app.example");
  CHECK(r.key == "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(r.ws_version == "13");
  CHECK(r.protocols == std::vector<std::string>{"wamp.2.json", "wamp.2.msgpack"});
  CHECK(r.upgrade_websocket);
  CHECK(r.connection_upgrade);
  CHECK(r.wants_upgrade());
  CHECK_FALSE(check_upgrade(r).has_value());
}

TEST_CASE("websocket: request::path without and with a query") {
  request r;
  r.target = "/ws";
  CHECK(r.path() == "/ws");
  r.target = "/";
  CHECK(r.path() == "/");
  r.target = "/a/b?";
  CHECK(r.path() == "/a/b");
  r.target = "/ws?x=1?y=2";
  CHECK(r.path() == "/ws");
}

TEST_CASE("websocket: parse_request matches header names in any case and trims whitespace") {
  const request r = parsed(
      "GET /ws HTTP/1.1\r\n"
      "HOST:h\r\n"
      "upgrade: \t WebSocket \t\r\n"
      "cOnNeCtIoN:UPGRADE\r\n"
      "sec-websocket-key:   dGhlIHNhbXBsZSBub25jZQ==  \r\n"
      "SEC-WEBSOCKET-VERSION:\t13\r\n"
      "X-Unknown: ignored\r\n"
      "\r\n");
  CHECK(r.host == "h");
  CHECK(r.key == "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(r.ws_version == "13");
  CHECK(r.upgrade_websocket);
  CHECK(r.connection_upgrade);
  CHECK(r.protocols.empty());
  CHECK(r.origin.empty());
  // An empty value is a value.
  const request e = parsed("GET / HTTP/1.1\r\nHost:\r\nOrigin:   \r\n\r\n");
  CHECK(e.host.empty());
  CHECK(e.origin.empty());
}

TEST_CASE("websocket: parse_request joins list headers and finds tokens in them") {
  const request r = parsed(
      "GET /ws HTTP/1.1\r\n"
      "Host: h\r\n"
      "Connection: keep-alive, Upgrade\r\n"  // Firefox
      "Upgrade: h2c\r\n"
      "Upgrade: foo/2, websocket\r\n"
      "Sec-WebSocket-Protocol: wamp.2.json, , wamp.2.msgpack ,\r\n"
      "Sec-WebSocket-Protocol: chat\r\n"
      "Sec-WebSocket-Protocol:\r\n"
      "Sec-WebSocket-Protocol: ,wamp.2.cbor\t,\r\n"
      "\r\n");
  CHECK(r.connection_upgrade);
  CHECK(r.upgrade_websocket);
  CHECK(r.protocols ==
        std::vector<std::string>{"wamp.2.json", "wamp.2.msgpack", "chat", "wamp.2.cbor"});

  // Tokens match whole, not as parts of other tokens.
  const request n = parsed(
      "GET /ws HTTP/1.1\r\n"
      "Connection: keep-alive, upgraded, close\r\n"
      "Upgrade: websockets, web socket, h2c\r\n"
      "\r\n");
  CHECK_FALSE(n.connection_upgrade);
  CHECK_FALSE(n.upgrade_websocket);
  CHECK_FALSE(n.wants_upgrade());

  // A token in an earlier header of a list counts, whatever later ones say.
  const request first = parsed(
      "GET /ws HTTP/1.1\r\n"
      "Upgrade: websocket\r\n"
      "Upgrade: h2c\r\n"
      "Connection: Upgrade\r\n"
      "Connection: keep-alive\r\n"
      "\r\n");
  CHECK(first.upgrade_websocket);
  CHECK(first.connection_upgrade);

  // Either alone is a plain HTTP request.
  CHECK_FALSE(parsed("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n").wants_upgrade());
  CHECK_FALSE(parsed("GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n").wants_upgrade());
  CHECK(parsed("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n")
            .wants_upgrade());
}

TEST_CASE("websocket: parse_request accepts HTTP/1.x and a head without its blank line") {
  CHECK(parsed("GET / HTTP/1.0\r\n\r\n").version == "HTTP/1.0");
  CHECK(parsed("POST /x HTTP/1.1\r\n\r\n").method == "POST");
  CHECK(parsed("BREW /pot HTTP/1.1\r\n\r\n").method == "BREW");
  CHECK(parsed("GET / HTTP/1.1").target == "/");
  CHECK(parsed("GET http://h/ws HTTP/1.1\r\n\r\n").target == "http://h/ws");
  // Empty lines before the request line are ignored (RFC 7230 §3.5).
  CHECK(parsed("\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n").host == "h");
}

TEST_CASE("websocket: parse_request refuses malformed request lines") {
  CHECK(contains(parse_failure("HELLO\r\n\r\n"), "malformed HTTP request line \"HELLO\""));
  CHECK(contains(parse_failure("\r\n\r\n"), "malformed HTTP request line"));
  CHECK(contains(parse_failure("GET /\r\n\r\n"), "malformed HTTP request line"));
  CHECK(contains(parse_failure("GET  / HTTP/1.1\r\n\r\n"), "malformed HTTP request line"));
  CHECK(contains(parse_failure("GET / HTTP/1.1 \r\n\r\n"), "malformed HTTP request line"));
  CHECK(contains(parse_failure("GET / x HTTP/1.1\r\n\r\n"), "malformed HTTP request line"));
  CHECK(contains(parse_failure(" GET / HTTP/1.1\r\n\r\n"), "malformed HTTP request line"));
  CHECK(parse_failure("G(T / HTTP/1.1\r\n\r\n") == "malformed HTTP method \"G(T\"");
  CHECK(parse_failure("GET  HTTP/1.1\r\n\r\n") ==
        "HTTP request line without a target: \"GET  HTTP/1.1\"");
  CHECK(parse_failure("GET / HTTP/2.0\r\n\r\n") ==
        "unsupported HTTP version \"HTTP/2.0\" (only HTTP/1.x is spoken)");
  CHECK(contains(parse_failure("GET / HTTP/1.10\r\n\r\n"), "unsupported HTTP version"));
  CHECK(contains(parse_failure("GET / HTTP/1.\r\n\r\n"), "unsupported HTTP version"));
  CHECK(contains(parse_failure("GET / http/1.1\r\n\r\n"), "unsupported HTTP version"));
  CHECK(contains(parse_failure("GET / HTTP/1.x\r\n\r\n"), "unsupported HTTP version"));
  CHECK(contains(parse_failure("GET / SIP/2.0\r\n\r\n"), "unsupported HTTP version"));
  // Long request lines are cut in the text: it goes to a log and a response body.
  const std::string long_line(500, 'x');
  const std::string text = parse_failure(long_line + "\r\n\r\n");
  CHECK(text.size() < 150);
  CHECK(contains(text, "...\""));
}

TEST_CASE("websocket: parse_request refuses malformed header lines") {
  const std::string line = "GET / HTTP/1.1\r\nHost: h\r\n";
  CHECK(parse_failure(line + "X-Folded: a\r\n  b\r\n\r\n") ==
        "obsolete line folding in HTTP header (a line starting with whitespace): \"  b\"");
  CHECK(contains(parse_failure(line + "\tb\r\n\r\n"), "obsolete line folding"));
  CHECK(parse_failure(line + "no colon here\r\n\r\n") ==
        "HTTP header line without a colon: \"no colon here\"");
  CHECK(parse_failure(line + ": value\r\n\r\n") == "malformed HTTP header name \"\"");
  // Whitespace between the name and the colon must be refused (RFC 7230 §3.2.4).
  CHECK(parse_failure(line + "Host : h\r\n\r\n") == "malformed HTTP header name \"Host \"");
  CHECK(contains(parse_failure(line + "Bad[name]: v\r\n\r\n"), "malformed HTTP header name"));
}

TEST_CASE("websocket: parse_request refuses control characters and bare line ends") {
  CHECK(parse_failure("GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n") ==
        "control character 0x0A in the HTTP request head");
  CHECK(parse_failure("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n") ==
        "control character 0x0D in the HTTP request head");
  CHECK(contains(parse_failure(std::string("GET / HTTP/1.1\r\nHost: h\0\r\n\r\n", 28)),
                 "control character 0x00"));
  CHECK(contains(parse_failure("GET / HTTP/1.1\r\nX: \x1B[31m\r\n\r\n"), "control character 0x1B"));
  CHECK(contains(parse_failure("GET / HTTP/1.1\r\nX: \x7F\r\n\r\n"), "control character 0x7F"));
  CHECK(contains(parse_failure("GET / HTTP/1.1\r"), "control character 0x0D"));
  // A tab is whitespace, and octets above 0x7F are allowed in values (obs-text).
  CHECK(parsed("GET / HTTP/1.1\r\nX: a\tb\r\nY: caf\xC3\xA9\r\n\r\n").method == "GET");
}

TEST_CASE("websocket: parse_request refuses repeated single-value headers") {
  const std::string line = "GET / HTTP/1.1\r\n";
  CHECK(parse_failure(line + "Host: a\r\nHost: b\r\n\r\n") == "repeated Host header");
  CHECK(parse_failure(line + "Origin: a\r\norigin: a\r\n\r\n") == "repeated Origin header");
  CHECK(parse_failure(line + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n") ==
        "repeated Sec-WebSocket-Key header");
  CHECK(parse_failure(line + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 8\r\n\r\n") ==
        "repeated Sec-WebSocket-Version header");
  // Unknown headers may repeat.
  CHECK(parsed(line + "X-A: 1\r\nX-A: 2\r\n\r\n").method == "GET");
}

// ---- check_upgrade ------------------------------------------------------------------------------

namespace {

request upgrade() { return parsed(good_request); }

}  // namespace

TEST_CASE("websocket: check_upgrade accepts what RFC 6455 §4.2.1 asks for") {
  CHECK_FALSE(check_upgrade(upgrade()).has_value());
  request r = upgrade();
  r.protocols.clear();  // offering no subprotocol is the listener's business
  r.origin.clear();     // so is the origin: non-browser clients send none
  CHECK_FALSE(check_upgrade(r).has_value());
  r.version = "HTTP/1.2";  // "at least 1.1": a later minor version is read as 1.1 (RFC 7230 §2.6)
  CHECK_FALSE(check_upgrade(r).has_value());
  // Any 16 octets, including a key whose last digit carries unused bits.
  for (const char* key : {"AAAAAAAAAAAAAAAAAAAAAA==", "/////////////////////w==",
                          "+/+/+/+/+/+/+/+/+/+/+/==", "dGhlIHNhbXBsZSBub25jZR=="}) {
    CAPTURE(key);
    r.key = key;
    CHECK_FALSE(check_upgrade(r).has_value());
  }
}

TEST_CASE("websocket: check_upgrade refuses a method other than GET with 405") {
  for (const char* method : {"POST", "PUT", "HEAD", "get", "BREW"}) {
    CAPTURE(method);
    request r = upgrade();
    r.method = method;
    const auto no = check_upgrade(r);
    REQUIRE(no.has_value());
    CHECK(no->status == 405);
    CHECK(no->reason == std::string("a WebSocket upgrade must be a GET request, not ") + method);
  }
}

TEST_CASE("websocket: check_upgrade refuses HTTP/1.0 and missing upgrade headers with 400") {
  request r = upgrade();
  r.version = "HTTP/1.0";
  auto no = check_upgrade(r);
  REQUIRE(no.has_value());
  CHECK(no->status == 400);
  CHECK(no->reason == "a WebSocket upgrade needs HTTP/1.1, not HTTP/1.0");

  r = upgrade();
  r.upgrade_websocket = false;
  no = check_upgrade(r);
  REQUIRE(no.has_value());
  CHECK(no->status == 400);
  CHECK(no->reason == "no \"Upgrade: websocket\" header");

  r = upgrade();
  r.connection_upgrade = false;
  no = check_upgrade(r);
  REQUIRE(no.has_value());
  CHECK(no->status == 400);
  CHECK(no->reason == "no \"Connection: Upgrade\" header");

  r = upgrade();
  r.host.clear();
  no = check_upgrade(r);
  REQUIRE(no.has_value());
  CHECK(no->status == 400);
  CHECK(no->reason == "no Host header");
}

TEST_CASE("websocket: check_upgrade refuses a Sec-WebSocket-Version other than 13 with 426") {
  for (const char* v : {"8", "7", "0", "14", "13, 8", "", "013", "13 "}) {
    CAPTURE(v);
    request r = upgrade();
    r.ws_version = v;
    const auto no = check_upgrade(r);
    REQUIRE(no.has_value());
    CHECK(no->status == 426);
    CHECK(contains(no->reason, "this server speaks 13"));
  }
  request r = upgrade();
  r.ws_version = "8";
  CHECK(check_upgrade(r)->reason ==
        "Sec-WebSocket-Version \"8\" is not supported (this server speaks 13)");
  r.ws_version.clear();
  CHECK(check_upgrade(r)->reason == "no Sec-WebSocket-Version header (this server speaks 13)");
  // The version is checked before the key: an older client learns the version to speak.
  r = upgrade();
  r.ws_version = "8";
  r.key = "short";
  CHECK(check_upgrade(r)->status == 426);
  // And through parse_request.
  std::string head = good_request;
  head.replace(head.find("Version: 13"), 11, "Version: 8");
  CHECK(check_upgrade(parsed(head))->status == 426);
}

TEST_CASE("websocket: check_upgrade refuses a key that is not the base64 of 16 bytes") {
  request r = upgrade();
  r.key.clear();
  auto no = check_upgrade(r);
  REQUIRE(no.has_value());
  CHECK(no->status == 400);
  CHECK(no->reason == "no Sec-WebSocket-Key header");
  for (const char* key : {
           "a2tra2tra2tra2tra2tr",       // base64 of 15 octets ("k" * 15)
           "a2tra2tra2tra2tra2tra2s=",   // 17 octets
           "AAAAAAAAAAAAAAAAAAAAAAA=",   // 24 digits but one pad: 17 octets
           "AAAAAAAAAAAAAAAAAAAAAAAA",   // 18 octets, no padding
           "AAAAAAAAAAAAAAAAAAAAAA",     // 16 octets without the padding
           "AAAAAAAAAAAAAAAAAAAAAA=",    // one pad short
           "AAAAAAAAAAAAAAAAAAAAAA===",  // one pad too many
           "!!!!!!!!!!!!!!!!!!!!!!!!",   // not base64
           "AAAAAAAAAAAAAAAAAAAAA!==",   // one bad digit
           "AAAAAAAAAAA AAAAAAAAAA==",   // a space inside
           "AAAAAAAAAAAAAAAAAAAAA-==",   // base64url, not base64
           "=AAAAAAAAAAAAAAAAAAAAA=",
       }) {
    CAPTURE(key);
    r.key = key;
    no = check_upgrade(r);
    REQUIRE(no.has_value());
    CHECK(no->status == 400);
    CHECK(no->reason ==
          "Sec-WebSocket-Key \"" + std::string(key) + "\" is not the base64 of 16 bytes");
  }
}

// ---- accept key and responses -------------------------------------------------------------------

TEST_CASE("websocket: accept_key is RFC 6455's example") {
  CHECK(accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  // Another known pair (from the websocketpp and Python websockets test suites).
  CHECK(accept_key("x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  CHECK(accept_key("AAAAAAAAAAAAAAAAAAAAAA==") != accept_key("AAAAAAAAAAAAAAAAAAAAAB=="));
  CHECK(accept_key("").size() == 28);
}

TEST_CASE("websocket: switching_protocols, byte for byte") {
  CHECK(switching_protocols("dGhlIHNhbXBsZSBub25jZQ==", "wamp.2.json") ==
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        "Sec-WebSocket-Protocol: wamp.2.json\r\n"
        "\r\n");
  CHECK(switching_protocols("dGhlIHNhbXBsZSBub25jZQ==", "") ==
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        "\r\n");
  // No extension is negotiated.
  CHECK_FALSE(
      contains(switching_protocols("x3JJHMbDL1EzLkh9GBhXDw==", "wamp.2.msgpack"), "Extensions"));
}

TEST_CASE("websocket: http_response, byte for byte") {
  CHECK(http_response(400, "bad\n") ==
        "HTTP/1.1 400 Bad Request\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 4\r\n"
        "Connection: close\r\n"
        "\r\n"
        "bad\n");
  CHECK(http_response(426, "Sec-WebSocket-Version \"8\" is not supported\n",
                      "Sec-WebSocket-Version: 13\r\n") ==
        "HTTP/1.1 426 Upgrade Required\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 43\r\n"
        "Connection: close\r\n"
        "Upgrade: websocket\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "\r\n"
        "Sec-WebSocket-Version \"8\" is not supported\n");
  // Content-Length counts octets, not characters.
  CHECK(contains(http_response(404, "caf\xC3\xA9"), "\r\nContent-Length: 5\r\n"));
  CHECK(http_response(503, "") ==
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 0\r\n"
        "Connection: close\r\n"
        "\r\n");
}

TEST_CASE("websocket: http_response reason phrases") {
  const std::pair<int, const char*> phrases[] = {
      {400, "Bad Request"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {426, "Upgrade Required"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {503, "Service Unavailable"},
      {401, "Unauthorized"},
      {429, "Too Many Requests"},
      {501, "Not Implemented"},
      {505, "HTTP Version Not Supported"},
  };
  for (const auto& p : phrases) {
    const int status = p.first;
    const std::string phrase = p.second;
    CAPTURE(status);
    const std::string response = http_response(status, "x");
    CHECK(response.rfind("HTTP/1.1 " + std::to_string(status) + " " + phrase + "\r\n", 0) == 0);
  }
  // A status without a known phrase keeps the space and leaves the phrase empty (RFC 7230 §3.1.2).
  CHECK(http_response(599, "x").rfind("HTTP/1.1 599 \r\n", 0) == 0);
}

TEST_CASE("websocket: http_response adds the headers 405 and 426 require, once") {
  // 405 must say what is allowed (RFC 7231 §6.5.5), 426 what to upgrade to (§6.5.15).
  CHECK(contains(http_response(405, "x"), "\r\nAllow: GET\r\n"));
  CHECK(contains(http_response(426, "x"), "\r\nUpgrade: websocket\r\n"));
  // Not when the caller gave them (in any case)...
  const std::string given = http_response(426, "x", "upgrade: websocket\r\n");
  CHECK_FALSE(contains(given, "Upgrade: websocket"));
  CHECK(contains(given, "\r\nupgrade: websocket\r\n"));
  const std::string allow = http_response(405, "x", "X-A: 1\r\nAllow: GET, HEAD\r\n");
  CHECK_FALSE(contains(allow, "Allow: GET\r\n"));
  CHECK(contains(allow, "\r\nX-A: 1\r\nAllow: GET, HEAD\r\n\r\nx"));
  // ... and not on other statuses.
  CHECK_FALSE(contains(http_response(400, "x"), "Allow"));
  CHECK_FALSE(contains(http_response(400, "x"), "Upgrade"));
  CHECK_FALSE(contains(http_response(404, "x", "X-Upgrade-Hint: no\r\n"), "Upgrade: websocket"));
}

// ---- frame headers ------------------------------------------------------------------------------

namespace {

std::string header_of(opcode op, std::uint64_t length) {
  char out[max_header_size + 4];
  std::memset(out, 0x55, sizeof out);
  const std::size_t n = write_header(out, op, length);
  CHECK(static_cast<unsigned char>(out[n]) == 0x55);  // nothing written past the header
  std::string appended = "z";
  append_header(appended, op, length);
  CHECK(appended == "z" + std::string(out, n));
  return std::string(out, n);
}

}  // namespace

TEST_CASE("websocket: write_header and append_header at the length edges") {
  CHECK(header_of(opcode::text, 0) == bytes({0x81, 0x00}));
  CHECK(header_of(opcode::binary, 1) == bytes({0x82, 0x01}));
  CHECK(header_of(opcode::text, 125) == bytes({0x81, 0x7D}));
  CHECK(header_of(opcode::text, 126) == bytes({0x81, 0x7E, 0x00, 0x7E}));
  CHECK(header_of(opcode::binary, 127) == bytes({0x82, 0x7E, 0x00, 0x7F}));
  CHECK(header_of(opcode::binary, 256) == bytes({0x82, 0x7E, 0x01, 0x00}));
  CHECK(header_of(opcode::text, 65535) == bytes({0x81, 0x7E, 0xFF, 0xFF}));
  CHECK(header_of(opcode::text, 65536) ==
        bytes({0x81, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}));
  CHECK(header_of(opcode::binary, 0x0123456789ABCDEFull) ==
        bytes({0x82, 0x7F, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF}));
  CHECK(header_of(opcode::binary, 0x7FFFFFFFFFFFFFFFull) ==
        bytes({0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
  CHECK(header_of(opcode::ping, 0) == bytes({0x89, 0x00}));
  CHECK(header_of(opcode::pong, 125) == bytes({0x8A, 0x7D}));
  CHECK(header_of(opcode::close, 2) == bytes({0x88, 0x02}));
  CHECK(header_of(opcode::continuation, 3) == bytes({0x80, 0x03}));
}

TEST_CASE("websocket: append_close writes code and reason after what is there") {
  std::string out = "x";
  append_close(out, close_code::normal, "bye");
  CHECK(out == "x" + bytes({0x88, 0x05, 0x03, 0xE8}) + "bye");
  out.clear();
  append_close(out, close_code::message_too_big, "");
  CHECK(out == bytes({0x88, 0x02, 0x03, 0xF1}));
  out.clear();
  append_close(out, 4999, "");
  CHECK(out == bytes({0x88, 0x02, 0x13, 0x87}));
}

TEST_CASE("websocket: append_close cuts the reason to 123 bytes, never inside a character") {
  const auto reason_of = [](std::string_view reason) {
    std::string out;
    append_close(out, close_code::going_away, reason);
    REQUIRE(out.size() >= 4);
    CHECK(static_cast<unsigned char>(out[1]) == out.size() - 2);  // the length says it
    CHECK(out.size() - 2 <= 125);
    CHECK(out.substr(2, 2) == bytes({0x03, 0xE9}));
    return out.substr(4);
  };
  const std::string a123(123, 'a');
  CHECK(reason_of(a123) == a123);
  CHECK(reason_of(a123 + "b") == a123);
  CHECK(reason_of(std::string(500, 'c')) == std::string(123, 'c'));
  // A two-octet é at 122-123 fits; at 123-124 it is dropped whole.
  CHECK(reason_of(std::string(121, 'a') + "\xC3\xA9") == std::string(121, 'a') + "\xC3\xA9");
  CHECK(reason_of(std::string(122, 'a') + "\xC3\xA9") == std::string(122, 'a'));
  CHECK(reason_of(std::string(122, 'a') + "\xC3\xA9zz") == std::string(122, 'a'));
  // The three-octet € and four-octet 😀 at every offset around the limit.
  for (const std::string& ch : {std::string("\xE2\x82\xAC"), std::string("\xF0\x9F\x98\x80")}) {
    for (std::size_t before = 116; before <= 124; ++before) {
      CAPTURE(before);
      CAPTURE(ch.size());
      const std::string reason = std::string(before, 'a') + ch + "tail";
      const std::string got = reason_of(reason);
      CHECK(got.size() <= 123);
      CHECK(valid_utf8(got));
      CHECK(reason.compare(0, got.size(), got) == 0);  // a prefix
      // The cut drops only what does not fit: at most the character and what follows.
      const std::size_t expect = before + ch.size() <= 123
                                     ? std::min<std::size_t>(123, before + ch.size() + 4)
                                     : std::min<std::size_t>(before, 123);
      CHECK(got.size() == expect);
    }
  }
  // Multi-octet characters all the way: the cut still lands between two of them.
  std::string euros;
  for (int i = 0; i < 60; ++i) euros += "\xE2\x82\xAC";
  CHECK(reason_of(euros) == euros.substr(0, 123));  // 41 whole characters
  std::string accents;
  for (int i = 0; i < 70; ++i) accents += "\xC3\xA9";
  CHECK(reason_of(accents) == accents.substr(0, 122));
}

// ---- UTF-8 --------------------------------------------------------------------------------------

TEST_CASE("websocket: utf8_validator accepts valid UTF-8 of every length") {
  for (const std::string& s : {
           std::string(""),
           std::string("plain ASCII, longer than eight bytes to use the fast path"),
           std::string("\x00\x7F", 2),
           std::string("\xC2\x80"),  // U+0080, the smallest two-octet one
           std::string("\xDF\xBF"),  // U+07FF
           std::string("caf\xC3\xA9"),
           std::string("\xE0\xA0\x80"),      // U+0800, the smallest three-octet one
           std::string("\xE2\x82\xAC"),      // €
           std::string("\xED\x9F\xBF"),      // U+D7FF, just below the surrogates
           std::string("\xEE\x80\x80"),      // U+E000, just above them
           std::string("\xEF\xBF\xBF"),      // U+FFFF
           std::string("\xF0\x90\x80\x80"),  // U+10000, the smallest four-octet one
           std::string("\xF0\x9F\x98\x80"),  // 😀
           std::string("\xF3\xBF\xBF\xBF"),
           std::string("\xF4\x8F\xBF\xBF"),  // U+10FFFF, the largest code point
           std::string("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5"),  // κόσμε
           std::string("12345678\xE2\x82\xAC"
                       "12345678\xF0\x9F\x98\x80"
                       "1234567"),
       }) {
    CAPTURE(s);
    CHECK(valid_utf8(s));
    // And split anywhere, in two pieces and octet by octet.
    for (std::size_t cut = 0; cut <= s.size(); ++cut) {
      utf8_validator v;
      CHECK(v.feed(std::string_view(s).substr(0, cut)));
      CHECK(v.feed(std::string_view(s).substr(cut)));
      CHECK(v.complete());
    }
    utf8_validator v;
    for (char c : s) CHECK(v.feed(std::string_view(&c, 1)));
    CHECK(v.complete());
  }
}

TEST_CASE(
    "websocket: utf8_validator refuses overlongs, surrogates, out of range and stray octets") {
  for (const std::string& s : {
           std::string("\x80"),  // a lone continuation octet
           std::string("\xBF"),
           std::string("a\x80z"),
           std::string("\xC3\xA9\xA9"),              // one continuation too many
           std::string("\xC0\x80"),                  // overlong NUL
           std::string("\xC1\xBF"),                  // overlong U+007F
           std::string("\xE0\x80\x80"),              // overlong three-octet
           std::string("\xE0\x9F\xBF"),              // overlong U+07FF
           std::string("\xF0\x80\x80\x80"),          // overlong four-octet
           std::string("\xF0\x8F\xBF\xBF"),          // overlong U+FFFF
           std::string("\xED\xA0\x80"),              // U+D800, a surrogate
           std::string("\xED\xBF\xBF"),              // U+DFFF
           std::string("\xED\xA0\xBD\xED\xB8\x80"),  // a surrogate pair (CESU-8)
           std::string("\xF4\x90\x80\x80"),          // U+110000
           std::string("\xF5\x80\x80\x80"),          // F5-FF never occur
           std::string("\xF7\xBF\xBF\xBF"),
           std::string("\xF8\x88\x80\x80\x80"),
           std::string("\xFC\x84\x80\x80\x80\x80"),
           std::string("\xFE"),
           std::string("\xFF"),
           std::string("\xC3\x28"),  // a lead followed by ASCII
           std::string("\xE2\x82\x28"),
           std::string("\xF0\x9F\x98\x28"),
           std::string("\xE2\xC3\xA9"),  // a lead followed by a lead
       }) {
    CAPTURE(s);
    CHECK_FALSE(valid_utf8(s));
    // Split anywhere, the verdict is the same; once false the validator stays false.
    for (std::size_t cut = 0; cut <= s.size(); ++cut) {
      utf8_validator v;
      const bool a = v.feed(std::string_view(s).substr(0, cut));
      const bool b = a && v.feed(std::string_view(s).substr(cut));
      CHECK_FALSE(b);
      CHECK_FALSE(v.complete());
      CHECK_FALSE(v.feed("ok"));
      CHECK_FALSE(v.complete());
    }
  }
}

TEST_CASE("websocket: utf8_validator: a truncated sequence is a prefix, not complete") {
  for (const std::string& s : {std::string("\xC3"), std::string("\xE2\x82"), std::string("\xE2"),
                               std::string("\xF0\x9F\x98"), std::string("abc\xF4\x8F")}) {
    CAPTURE(s);
    utf8_validator v;
    CHECK(v.feed(s));  // could still become valid
    CHECK_FALSE(v.complete());
    CHECK_FALSE(valid_utf8(s));
  }
  // The continuation range is enforced across the split too.
  utf8_validator e0;
  CHECK(e0.feed("\xE0"));
  CHECK_FALSE(e0.feed("\x9F\xBF"));  // overlong once the next octet is seen
  utf8_validator ed;
  CHECK(ed.feed("\xED"));
  CHECK_FALSE(ed.feed("\xA0"));  // surrogate
  utf8_validator f4;
  CHECK(f4.feed("\xF4"));
  CHECK(f4.feed("\x8F"));
  CHECK(f4.feed("\xBF"));
  CHECK_FALSE(f4.feed("\xC0"));  // not a continuation
  utf8_validator f0;
  CHECK(f0.feed("\xF0"));
  CHECK(f0.feed("\x90"));
  CHECK(f0.feed(""));
  CHECK(f0.feed("\x80\x80"));
  CHECK(f0.complete());
  // reset starts over.
  utf8_validator v;
  CHECK_FALSE(v.feed("\xFF"));
  v.reset();
  CHECK(v.feed("ok"));
  CHECK(v.complete());
}

TEST_CASE("websocket: utf8_validator finds a bad octet at every position in ASCII") {
  // The ASCII fast path reads 8 octets at a time: a bad octet in any lane, and after any
  // number of whole words, must still be seen.
  for (std::size_t length = 1; length <= 40; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      for (char bad : {'\x80', '\xFF', '\xC0'}) {
        std::string s(length, 'a');
        s[at] = bad;
        CAPTURE(length);
        CAPTURE(at);
        CHECK_FALSE(valid_utf8(s));
      }
      std::string good(length, 'a');
      good[at] = '\x7F';
      CHECK(valid_utf8(good));
    }
  }
  // A valid character in the middle of a word, and a truncated one at the very end.
  std::string s(16, 'x');
  s.replace(5, 2, "\xC3\xA9");
  CHECK(valid_utf8(s));
  CHECK_FALSE(valid_utf8(std::string(16, 'x') + "\xE2\x82"));
}

TEST_CASE("websocket: valid_close_code") {
  for (int c : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
                4000, 4999}) {
    CAPTURE(c);
    CHECK(valid_close_code(static_cast<std::uint16_t>(c)));
  }
  for (int c : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    CAPTURE(c);
    CHECK_FALSE(valid_close_code(static_cast<std::uint16_t>(c)));
  }
}

// ---- frame_reader: delivery ---------------------------------------------------------------------

TEST_CASE("websocket: frame_reader unmasks a whole frame in place and hands over a view") {
  reading r(1024);
  const std::string in = frame(opcode::text, R"([1,"realm1",{}])");
  CHECK_FALSE(r.feed(in).has_value());
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0] == R"(text:[1,"realm1",{}])");
  CHECK(r.from_input[0]);
  // The payload was unmasked where it lay: right behind the 6-octet header of the input.
  CHECK(r.input.substr(6) == R"([1,"realm1",{}])");
  CHECK(r.reader.buffered() == 0);
  CHECK_FALSE(r.reader.failed());
  CHECK_FALSE(r.reader.closed());
}

TEST_CASE("websocket: frame_reader hands over every frame of one feed as a view, in order") {
  reading r(1 << 20);
  const std::string big(70000, 'B');
  const std::string in = frame(opcode::text, "first") + frame(opcode::ping, "hb") +
                         frame(opcode::binary, std::string("\x00\xFF\x80", 3)) +
                         frame(opcode::pong, "hb") + frame(opcode::binary, std::string(300, 'm')) +
                         frame(opcode::binary, big) + frame(opcode::text, "last");
  CHECK_FALSE(r.feed(in).has_value());
  const std::vector<std::string> want{"text:first",
                                      "ping:hb",
                                      "binary:" + std::string("\x00\xFF\x80", 3),
                                      "pong:hb",
                                      "binary:" + std::string(300, 'm'),
                                      "binary:" + big,
                                      "text:last"};
  CHECK(r.events == want);
  REQUIRE(r.from_input.size() == want.size());
  for (bool v : r.from_input) CHECK(v);
  CHECK(r.reader.buffered() == 0);
}

TEST_CASE("websocket: frame_reader reads 7-, 16- and 64-bit lengths at their edges") {
  for (std::size_t n :
       {std::size_t{0}, std::size_t{1}, std::size_t{125}, std::size_t{126}, std::size_t{127},
        std::size_t{65535}, std::size_t{65536}, std::size_t{65537}}) {
    CAPTURE(n);
    std::string payload(n, '\0');
    for (std::size_t i = 0; i < n; ++i) payload[i] = static_cast<char>(i * 7 + 3);
    const std::string in = frame(opcode::binary, payload);
    // The header the client wrote has the length form the server's own header would have.
    CHECK(in.size() == header_of(opcode::binary, n).size() + 4 + n);
    CHECK((static_cast<unsigned char>(in[1]) & 0x7F) ==
          (static_cast<unsigned char>(header_of(opcode::binary, n)[1])));
    reading r(1 << 20);
    CHECK_FALSE(r.feed(in).has_value());
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0] == "binary:" + payload);
    // Header and all but the last payload octet, then the last: the same payload, buffered.
    if (n > 0) {
      reading s(1 << 20);
      CHECK_FALSE(s.feed(std::string_view(in).substr(0, in.size() - 1)).has_value());
      CHECK(s.events.empty());
      CHECK(s.reader.buffered() == in.size() - 1);  // the header and n - 1 payload octets
      CHECK_FALSE(s.feed(std::string_view(in).substr(in.size() - 1)).has_value());
      REQUIRE(s.events.size() == 1);
      CHECK(s.events[0] == "binary:" + payload);
      // Buffered, unless the header was all the first feed had: then a view again.
      CHECK(s.from_input[0] == (n == 1));
    }
  }
}

TEST_CASE("websocket: frame_reader accepts lengths in a longer form than needed") {
  // RFC 6455 §5.2 says the sender must use the shortest form; reading a longer one is harmless
  // for data frames. (A control frame with a 16- or 64-bit length is refused: see below.)
  reading r(1024);
  CHECK_FALSE(r.feed(raw_frame(0x81, "abc", true, length_form::bits16) +
                     raw_frame(0x82, "de", true, length_form::bits64) +
                     raw_frame(0x02, "", true, length_form::bits16) +
                     raw_frame(0x80, "f", true, length_form::bits64))
                  .has_value());
  CHECK(r.events == std::vector<std::string>{"text:abc", "binary:de", "binary:f"});
}

TEST_CASE("websocket: frame_reader delivers zero-length frames and messages") {
  const std::string in = frame(opcode::text, "") + frame(opcode::binary, "") +
                         frame(opcode::ping, "") + frame(opcode::pong, "") +
                         // a fragmented message of empty fragments
                         frame(opcode::text, "", false) + frame(opcode::continuation, "", false) +
                         frame(opcode::continuation, "") +
                         // and one whose only content is in its middle fragment
                         frame(opcode::binary, "", false) +
                         frame(opcode::continuation, "x", false) + frame(opcode::continuation, "") +
                         frame(opcode::close, "");
  const outcome o = same_every_way(1024, in);
  CHECK(o.events == std::vector<std::string>{
                        "text:", "binary:", "ping:", "pong:", "text:", "binary:x", "close:1005:"});
  CHECK(o.code == 0);
  CHECK(o.closed);
  // An empty feed is harmless.
  reading r(1024);
  CHECK_FALSE(r.feed("").has_value());
  CHECK(r.events.empty());
}

TEST_CASE(
    "websocket: frame_reader gives the same result fed whole, at every split and byte by byte") {
  const std::string in =
      frame(opcode::text, "hello") + frame(opcode::binary, std::string(300, '\xA5')) +
      frame(opcode::ping, "are you there") +
      // A fragmented text message with a ping and a pong between its fragments.
      frame(opcode::text, "[1,\"r\",{\"x\":\"caf", false) + frame(opcode::ping, "p") +
      frame(opcode::continuation, "\xC3\xA9\"", false) + frame(opcode::pong, "") +
      frame(opcode::continuation, "}]") +
      // A message fragmented into single octets.
      frame(opcode::binary, "a", false) + frame(opcode::continuation, "b", false) +
      frame(opcode::continuation, "c") +
      frame(opcode::text, std::string(130, 'q')) +  // a 16-bit length
      frame(opcode::close, close_payload(1000, "bye")) + frame(opcode::text, "never delivered") +
      "and garbage";
  const outcome o = same_every_way(1024, in);
  const std::vector<std::string> want{"text:hello",
                                      "binary:" + std::string(300, '\xA5'),
                                      "ping:are you there",
                                      "ping:p",
                                      "pong:",
                                      "text:[1,\"r\",{\"x\":\"caf\xC3\xA9\"}]",
                                      "binary:abc",
                                      "text:" + std::string(130, 'q'),
                                      "close:1000:bye"};
  CHECK(o.events == want);
  CHECK(o.code == 0);
  CHECK(o.closed);
}

TEST_CASE("websocket: frame_reader: an error ends the stream the same way however it is fed") {
  const std::string in = frame(opcode::text, "ok") + frame(opcode::binary, "one", false) +
                         frame(opcode::ping, "p") + frame(opcode::continuation, "two", false) +
                         frame(opcode::text, "not allowed here") + frame(opcode::text, "after");
  const outcome o = same_every_way(1024, in);
  CHECK(o.events == std::vector<std::string>{"text:ok", "ping:p"});
  CHECK(o.code == close_code::protocol_error);
  CHECK(o.text == "WebSocket text frame inside an unfinished fragmented message");
  CHECK_FALSE(o.closed);
}

TEST_CASE("websocket: frame_reader reassembles a large frame fed in uneven pieces") {
  std::string payload(200000, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31 + 7);
  const std::string in = frame(opcode::binary, payload) + frame(opcode::ping, "t") +
                         frame(opcode::binary, payload.substr(0, 70000), false) +
                         frame(opcode::continuation, payload.substr(70000));
  const std::vector<std::string> want{"binary:" + payload, "ping:t", "binary:" + payload};
  for (std::size_t first : {1, 3, 7, 8, 9, 13, 1000}) {
    CAPTURE(first);
    reading r(payload.size());
    std::size_t at = 0;
    std::size_t step = first;
    while (at < in.size()) {
      const std::size_t n = std::min(step, in.size() - at);
      REQUIRE_FALSE(r.feed(std::string_view(in).substr(at, n)).has_value());
      at += n;
      step = step * 3 + 1;
    }
    CHECK(r.events == want);
    CHECK(r.reader.buffered() == 0);
  }
  CHECK(run_bytewise(payload.size(), in).events == want);
}

TEST_CASE("websocket: frame_reader copies only what is split or fragmented") {
  reading r(1024);
  const std::string a = frame(opcode::text, "0123456789");
  const std::string b = frame(opcode::binary, "whole");
  // The first frame split after 3 payload octets: buffered; the next one whole: a view again.
  CHECK_FALSE(r.feed(a.substr(0, 9)).has_value());
  CHECK(r.events.empty());
  CHECK(r.reader.buffered() == 9);  // 6 header octets and 3 of payload
  CHECK_FALSE(r.feed(a.substr(9) + b).has_value());
  CHECK(r.events == std::vector<std::string>{"text:0123456789", "binary:whole"});
  CHECK(r.from_input == std::vector<bool>{false, true});
  CHECK(r.reader.buffered() == 0);

  // The header split, the payload whole in the next feed: still a view.
  reading h(1024);
  CHECK_FALSE(h.feed(b.substr(0, 1)).has_value());
  CHECK(h.reader.buffered() == 1);
  CHECK_FALSE(h.feed(b.substr(1, 4)).has_value());
  CHECK(h.reader.buffered() == 5);
  CHECK_FALSE(h.feed(b.substr(5)).has_value());
  CHECK(h.events == std::vector<std::string>{"binary:whole"});
  CHECK(h.from_input == std::vector<bool>{true});

  // A fragmented message is joined in the reader even when each fragment is whole; the
  // control frame between its fragments is still a view.
  reading f(1024);
  CHECK_FALSE(f.feed(frame(opcode::text, "ab", false) + frame(opcode::ping, "p") +
                     frame(opcode::continuation, "cd"))
                  .has_value());
  CHECK(f.events == std::vector<std::string>{"ping:p", "text:abcd"});
  CHECK(f.from_input == std::vector<bool>{true, false});
}

TEST_CASE("websocket: frame_reader: a ping split across feeds inside a fragmented message") {
  reading r(1024);
  const std::string ping = frame(opcode::ping, "12345");
  CHECK_FALSE(r.feed(frame(opcode::binary, "abc", false)).has_value());
  CHECK(r.reader.buffered() == 3);
  CHECK_FALSE(r.feed(ping.substr(0, 8)).has_value());  // header and 2 payload octets
  CHECK(r.events.empty());
  CHECK(r.reader.buffered() == 3 + 8);
  CHECK_FALSE(r.feed(ping.substr(8) + frame(opcode::continuation, "def", false)).has_value());
  CHECK(r.events == std::vector<std::string>{"ping:12345"});
  CHECK_FALSE(r.from_input[0]);
  CHECK(r.reader.buffered() == 6);
  const std::string close = frame(opcode::close, close_payload(1001, "going"));
  CHECK_FALSE(r.feed(frame(opcode::continuation, "g") + close.substr(0, 9)).has_value());
  CHECK(r.events == std::vector<std::string>{"ping:12345", "binary:abcdefg"});
  // A close split across feeds: its reason is handed over intact, then nothing is held.
  CHECK_FALSE(r.feed(close.substr(9)).has_value());
  CHECK(r.events == std::vector<std::string>{"ping:12345", "binary:abcdefg", "close:1001:going"});
  CHECK(r.reader.closed());
  CHECK(r.reader.buffered() == 0);
}

TEST_CASE("websocket: frame_reader: text split inside a character across fragments") {
  // "€" (E2 82 AC) and "😀" (F0 9F 98 80) cut at each inner position between two fragments.
  for (const std::string& ch : {std::string("\xE2\x82\xAC"), std::string("\xF0\x9F\x98\x80")}) {
    for (std::size_t cut = 1; cut < ch.size(); ++cut) {
      CAPTURE(cut);
      const std::string in = frame(opcode::text, "x" + ch.substr(0, cut), false) +
                             frame(opcode::ping, "") +
                             frame(opcode::continuation, ch.substr(cut) + "y");
      const outcome o = same_every_way(1024, in);
      CHECK(o.events == std::vector<std::string>{"ping:", "text:x" + ch + "y"});
      CHECK(o.code == 0);
    }
  }
  // Binary messages are not UTF-8 checked at all.
  reading b(1024);
  CHECK_FALSE(b.feed(frame(opcode::binary, "\xFF\xC0", false) + frame(opcode::continuation, "\x80"))
                  .has_value());
  CHECK(b.events == std::vector<std::string>{"binary:\xFF\xC0\x80"});
}

TEST_CASE("websocket: frame_reader fails a text message at the fragment that breaks UTF-8") {
  reading r(1024);
  CHECK_FALSE(r.feed(frame(opcode::text, "ok \xE2\x82", false)).has_value());  // a valid prefix
  CHECK_FALSE(r.feed(frame(opcode::ping, "p")).has_value());
  const auto e = r.feed(frame(opcode::continuation, "(", false));  // not a continuation octet
  REQUIRE(e.has_value());
  CHECK(e->code == close_code::invalid_payload);
  CHECK(e->text == "WebSocket text message is not valid UTF-8");
  CHECK(r.events == std::vector<std::string>{"ping:p"});
  // The final fragment never matters: the reader has failed.
  const auto again = r.feed(frame(opcode::continuation, "fine"));
  REQUIRE(again.has_value());
  CHECK(again->code == close_code::invalid_payload);
  CHECK(r.events.size() == 1);

  // Fail-fast inside one frame too: the first payload octets of a long frame are enough.
  reading f(1 << 20);
  const std::string in = frame(opcode::text, "\xC0\x80" + std::string(5000, 'a'));
  const auto early = f.feed(std::string_view(in).substr(0, 10));  // 8 header octets, 2 payload
  REQUIRE(early.has_value());
  CHECK(early->code == close_code::invalid_payload);

  // And in a fragment of a fragmented message, before the fragment is complete.
  reading g(1 << 20);
  CHECK_FALSE(g.feed(frame(opcode::text, "abc", false)).has_value());
  const std::string bad = frame(opcode::continuation, "de\xED\xA0\x80" + std::string(1000, 'z'));
  const auto mid = g.feed(std::string_view(bad).substr(0, 8 + 5));
  REQUIRE(mid.has_value());
  CHECK(mid->code == close_code::invalid_payload);
}

TEST_CASE("websocket: frame_reader fails a text message that ends inside a character") {
  // Unfragmented (a view) and fragmented (buffered): the octets so far are a valid prefix, but
  // the message ends there.
  for (const std::string& in :
       {frame(opcode::text, "abc\xE2\x82"),
        frame(opcode::text, "abc", false) + frame(opcode::continuation, "\xF0\x9F\x98"),
        frame(opcode::text, "abc\xC3", false) + frame(opcode::continuation, "")}) {
    const outcome o = same_every_way(1024, in);
    CHECK(o.events.empty());
    CHECK(o.code == close_code::invalid_payload);
    CHECK(o.text == "WebSocket text message is not valid UTF-8 (it ends inside a character)");
  }
  // Invalid text fed whole: nothing is delivered.
  const frame_error e = refusal_of(frame(opcode::text,
                                         "a\xFF"
                                         "b"));
  CHECK(e.code == close_code::invalid_payload);
  CHECK(e.text == "WebSocket text message is not valid UTF-8");
  // The same octets as binary are fine.
  reading r(1024);
  CHECK_FALSE(r.feed(frame(opcode::binary,
                           "a\xFF"
                           "b"))
                  .has_value());
  CHECK(r.events.size() == 1);
}

// ---- frame_reader: close ------------------------------------------------------------------------

TEST_CASE("websocket: frame_reader hands over a close frame, then ignores everything") {
  reading r(1024);
  const std::string in = frame(opcode::text, "before") +
                         frame(opcode::close, close_payload(1000, "done \xE2\x82\xAC")) +
                         frame(opcode::text, "after") + bytes({0xFF, 0xFF, 0xFF});
  CHECK_FALSE(r.feed(in).has_value());
  CHECK(r.events == std::vector<std::string>{"text:before", "close:1000:done \xE2\x82\xAC"});
  CHECK(r.from_input == std::vector<bool>{true, true});
  CHECK(r.reader.closed());
  CHECK_FALSE(r.reader.failed());
  CHECK(r.reader.buffered() == 0);
  // Later feeds, valid or not, are ignored.
  CHECK_FALSE(r.feed(frame(opcode::text, "later")).has_value());
  CHECK_FALSE(r.feed(bytes({0x83, 0x00})).has_value());  // would be a reserved opcode
  CHECK(r.events.size() == 2);
  CHECK(r.reader.closed());

  // A close with a code and no reason, and one with no payload at all.
  reading c(1024);
  CHECK_FALSE(c.feed(frame(opcode::close, close_payload(4999))).has_value());
  CHECK(c.events == std::vector<std::string>{"close:4999:"});
  reading n(1024);
  CHECK_FALSE(n.feed(frame(opcode::close, "")).has_value());
  CHECK(n.events == std::vector<std::string>{"close:1005:"});
  // A close interrupts a fragmented message; the partial message is dropped.
  reading m(1024);
  CHECK_FALSE(m.feed(frame(opcode::text, "part", false) + frame(opcode::close, close_payload(1001)))
                  .has_value());
  CHECK(m.events == std::vector<std::string>{"close:1001:"});
  CHECK(m.reader.buffered() == 0);
  // A 125-octet close: 2 for the code and a 123-octet reason.
  reading l(1024);
  CHECK_FALSE(l.feed(frame(opcode::close, close_payload(1000, std::string(123, 'r')))).has_value());
  CHECK(l.events == std::vector<std::string>{"close:1000:" + std::string(123, 'r')});
}

TEST_CASE("websocket: frame_reader accepts every valid close code and refuses the others") {
  for (int c :
       {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999}) {
    CAPTURE(c);
    reading r(1024);
    CHECK_FALSE(r.feed(frame(opcode::close, close_payload(static_cast<std::uint16_t>(c), "x")))
                    .has_value());
    CHECK(r.events == std::vector<std::string>{"close:" + std::to_string(c) + ":x"});
  }
  for (int c : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    CAPTURE(c);
    const frame_error e =
        refusal_of(frame(opcode::close, close_payload(static_cast<std::uint16_t>(c))));
    CHECK(e.code == close_code::protocol_error);
    CHECK(e.text == "WebSocket close frame with invalid close code " + std::to_string(c));
  }
}

TEST_CASE("websocket: frame_reader refuses a 1-octet close and a reason that is not UTF-8") {
  frame_error e = refusal_of(frame(opcode::close, "\x03"));
  CHECK(e.code == close_code::protocol_error);
  CHECK(e.text == "WebSocket close frame with a 1-byte payload (a close code takes 2)");
  for (const std::string& reason :
       {std::string("\xFF"), std::string("ok\xE2\x82"), std::string("\xED\xA0\x80")}) {
    CAPTURE(reason);
    e = refusal_of(frame(opcode::close, close_payload(1000, reason)));
    CHECK(e.code == close_code::invalid_payload);
    CHECK(e.text == "WebSocket close reason is not valid UTF-8");
    CHECK(same_every_way(1024, frame(opcode::close, close_payload(1000, reason))).code ==
          close_code::invalid_payload);
  }
}

// ---- frame_reader: refusals ---------------------------------------------------------------------

TEST_CASE("websocket: frame_reader refuses reserved bits") {
  for (int rsv : {0x40, 0x20, 0x10, 0x70}) {
    for (int op : {0x1, 0x2, 0x9, 0x0}) {
      CAPTURE(rsv);
      CAPTURE(op);
      const frame_error e = refusal_of(raw_frame(0x80 | rsv | op, "x"));
      CHECK(e.code == close_code::protocol_error);
      CHECK(contains(e.text, "WebSocket frame sets reserved bits"));
    }
  }
  CHECK(refusal_of(raw_frame(0xC1, "x")).text ==
        "WebSocket frame sets reserved bits (first octet 0xC1) but no extension was negotiated");
}

TEST_CASE("websocket: frame_reader refuses reserved opcodes") {
  for (int op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    CAPTURE(op);
    const frame_error e = refusal_of(raw_frame(0x80 | op, ""));
    CHECK(e.code == close_code::protocol_error);
    CHECK(e.text ==
          "WebSocket frame with reserved opcode 0x0" + std::string(1, "0123456789ABCDEF"[op]));
  }
}

TEST_CASE("websocket: frame_reader refuses unmasked frames") {
  for (int first : {0x81, 0x82, 0x89, 0x8A, 0x88}) {
    CAPTURE(first);
    const frame_error e = refusal_of(raw_frame(first, "hi", false));
    CHECK(e.code == close_code::protocol_error);
    CHECK(e.text == "unmasked WebSocket frame from the client");
  }
}

TEST_CASE("websocket: frame_reader refuses fragmented and oversized control frames") {
  for (opcode op : {opcode::ping, opcode::pong, opcode::close}) {
    CAPTURE(static_cast<int>(op));
    frame_error e = refusal_of(frame(op, "", false));
    CHECK(e.code == close_code::protocol_error);
    CHECK(contains(e.text, "fragmented WebSocket"));
    // 126 octets (a 16-bit length) is over 125; so is any 16- or 64-bit length, refused from
    // the first two octets even when the length it then gives is short.
    e = refusal_of(frame(op, std::string(126, 'x')));
    CHECK(e.code == close_code::protocol_error);
    CHECK(contains(e.text, "longer than 125 bytes"));
    e = refusal_of(raw_frame(0x80 | static_cast<int>(op), "x", true, length_form::bits64));
    CHECK(e.code == close_code::protocol_error);
    CHECK(contains(e.text, "longer than 125 bytes"));
  }
  CHECK(refusal_of(frame(opcode::ping, "", false)).text == "fragmented WebSocket ping frame");
  CHECK(refusal_of(frame(opcode::pong, std::string(200, 'x'))).text ==
        "WebSocket pong frame longer than 125 bytes");
  // 125 is fine, for every control frame, even with a far smaller message limit.
  reading r(10);
  CHECK_FALSE(r.feed(frame(opcode::ping, std::string(125, 'p')) +
                     frame(opcode::pong, std::string(125, 'q')))
                  .has_value());
  CHECK(r.events ==
        std::vector<std::string>{"ping:" + std::string(125, 'p'), "pong:" + std::string(125, 'q')});
}

TEST_CASE(
    "websocket: frame_reader refuses continuation without a message, and a message inside one") {
  frame_error e = refusal_of(frame(opcode::continuation, "x"));
  CHECK(e.code == close_code::protocol_error);
  CHECK(e.text == "WebSocket continuation frame without a message to continue");
  e = refusal_of(frame(opcode::continuation, "x", false));
  CHECK(e.text == "WebSocket continuation frame without a message to continue");

  // After a complete fragmented message, a continuation has nothing to continue either.
  reading r(1024);
  const auto after = r.feed(frame(opcode::text, "a", false) + frame(opcode::continuation, "b") +
                            frame(opcode::continuation, "c"));
  REQUIRE(after.has_value());
  CHECK(after->text == "WebSocket continuation frame without a message to continue");
  CHECK(r.events == std::vector<std::string>{"text:ab"});

  for (opcode op : {opcode::text, opcode::binary}) {
    reading m(1024);
    const auto inside = m.feed(frame(opcode::binary, "a", false) + frame(op, "b"));
    REQUIRE(inside.has_value());
    CHECK(inside->code == close_code::protocol_error);
    CHECK(contains(inside->text, "frame inside an unfinished fragmented message"));
    CHECK(m.events.empty());
  }
}

TEST_CASE("websocket: frame_reader refuses a 64-bit length with the top bit set") {
  for (int top : {0x80, 0xFF}) {
    const std::string in = bytes({0x82, 0xFF, top, 0, 0, 0, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44});
    const frame_error e = refusal_of(in, static_cast<std::size_t>(-1));
    CHECK(e.code == close_code::protocol_error);
    CHECK(e.text == "WebSocket frame length with the most significant bit set");
  }
}

TEST_CASE("websocket: frame_reader refuses from the first two octets, before the rest arrives") {
  // Every refusal the first two octets decide is returned as soon as they are in.
  for (const std::string& two : {bytes({0xC1, 0x85}),     // RSV1
                                 bytes({0x83, 0x85}),     // reserved opcode
                                 bytes({0x81, 0x05}),     // unmasked
                                 bytes({0x09, 0x80}),     // ping without FIN
                                 bytes({0x89, 0xFE}),     // ping of 126+ octets
                                 bytes({0x80, 0x85})}) {  // continuation of nothing
    reading r(1024);
    CHECK_FALSE(r.feed(two.substr(0, 1)).has_value());
    const auto e = r.feed(two.substr(1));
    REQUIRE(e.has_value());
    CHECK(e->code == close_code::protocol_error);
  }
}

TEST_CASE("websocket: frame_reader failure is sticky") {
  reading r(1024);
  const auto first =
      r.feed(frame(opcode::text, "ok") + bytes({0x83, 0x80}) + frame(opcode::text, "lost"));
  REQUIRE(first.has_value());
  CHECK(r.events == std::vector<std::string>{"text:ok"});  // what came before is delivered
  CHECK(r.reader.failed());
  const auto again = r.feed(frame(opcode::text, "[1]"));
  REQUIRE(again.has_value());
  CHECK(again->code == first->code);
  CHECK(again->text == first->text);
  const auto empty = r.feed("");
  REQUIRE(empty.has_value());
  CHECK(empty->text == first->text);
  CHECK(r.events.size() == 1);
  CHECK_FALSE(r.reader.closed());
}

// ---- frame_reader: max_message_size -------------------------------------------------------------

TEST_CASE("websocket: frame_reader accepts a message of exactly max_message_size") {
  const std::string payload(1000, 'm');
  reading r(1000);
  CHECK_FALSE(r.feed(frame(opcode::binary, payload)).has_value());
  CHECK(r.events == std::vector<std::string>{"binary:" + payload});
  // Fragmented to exactly the limit, fed in pieces.
  const std::string in = frame(opcode::text, payload.substr(0, 400), false) +
                         frame(opcode::ping, "") +
                         frame(opcode::continuation, payload.substr(400, 599), false) +
                         frame(opcode::continuation, payload.substr(999));
  const outcome o = same_every_way(1000, in);
  CHECK(o.events == std::vector<std::string>{"ping:", "text:" + payload});
  CHECK(o.code == 0);
}

TEST_CASE("websocket: frame_reader refuses a message one over the limit from its header alone") {
  // 1001 octets announced: the 8 header octets are all it takes.
  const std::string in = frame(opcode::binary, std::string(1001, 'm'));
  reading r(1000);
  const auto e = r.feed(std::string_view(in).substr(0, 8));
  REQUIRE(e.has_value());
  CHECK(e->code == close_code::message_too_big);
  CHECK(e->text == "WebSocket message of 1001 bytes exceeds the maximum of 1000");
  CHECK(r.events.empty());
  CHECK(r.reader.buffered() == 0);

  // A small limit and a 7-bit length; a huge 64-bit one.
  reading s(10);
  const auto small = s.feed(std::string_view(frame(opcode::text, "01234567890")).substr(0, 6));
  REQUIRE(small.has_value());
  CHECK(small->code == close_code::message_too_big);
  reading h(1 << 20);
  const auto huge =
      h.feed(bytes({0x82, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 1, 2, 3, 4}));
  REQUIRE(huge.has_value());
  CHECK(huge->code == close_code::message_too_big);
  CHECK(huge->text == "WebSocket message of 1099511627776 bytes exceeds the maximum of 1048576");
}

TEST_CASE(
    "websocket: frame_reader refuses a fragmented message once its fragments pass the limit") {
  reading r(1000);
  CHECK_FALSE(r.feed(frame(opcode::binary, std::string(600, 'a'), false)).has_value());
  CHECK(r.reader.buffered() == 600);
  CHECK_FALSE(r.feed(frame(opcode::continuation, std::string(300, 'b'), false)).has_value());
  CHECK(r.reader.buffered() == 900);
  // 900 + 101: refused at the header, before any of the 101 octets.
  const std::string over = frame(opcode::continuation, std::string(101, 'c'));
  const auto e = r.feed(std::string_view(over).substr(0, 6));
  REQUIRE(e.has_value());
  CHECK(e->code == close_code::message_too_big);
  CHECK(e->text == "fragmented WebSocket message grows to 1001 bytes, over the maximum of 1000");
  CHECK(r.events.empty());
  CHECK(r.reader.buffered() == 0);

  // The first fragment alone over the limit.
  reading f(1000);
  const auto first =
      f.feed(std::string_view(frame(opcode::text, std::string(1001, 'a'), false)).substr(0, 8));
  REQUIRE(first.has_value());
  CHECK(first->code == close_code::message_too_big);
}

TEST_CASE("websocket: frame_reader never holds more than the limit or the frame") {
  // Fed in small pieces, what is buffered stays within what has arrived and the limit.
  const std::string payload(5000, 'x');
  const std::string in = frame(opcode::binary, payload.substr(0, 2500), false) +
                         frame(opcode::continuation, payload.substr(2500));
  reading r(5000);
  std::size_t fed = 0;
  for (std::size_t at = 0; at < in.size(); at += 97) {
    const std::string_view piece = std::string_view(in).substr(at, 97);
    REQUIRE_FALSE(r.feed(piece).has_value());
    fed += piece.size();
    CHECK(r.reader.buffered() <= 5000 + 14);
    CHECK(r.reader.buffered() <= fed);
  }
  CHECK(r.events == std::vector<std::string>{"binary:" + payload});
  CHECK(r.reader.buffered() == 0);
}
