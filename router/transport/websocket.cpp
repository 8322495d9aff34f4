// router/transport/websocket.cpp — the WebSocket opening handshake and frame layer (see websocket.hpp).
#include "router/transport/websocket.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <iterator>
#include <utility>

#include "serializers/utf8.hpp"

namespace junction::websocket {

namespace {

// ---- text helpers -------------------------------------------------------------------------------

constexpr char to_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

// Optional whitespace (RFC 7230 §3.2.3): spaces and horizontal tabs.
constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// tchar (RFC 7230 §3.2.6): what header names and methods are made of.
constexpr bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

// A piece of the client's request for a failure text: it ends up in the log and in the 400 body,
// so it is short and printable.
std::string quoted(std::string_view s) {
  constexpr std::size_t most = 60;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < most; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out.push_back(c >= 0x20 && c < 0x7F ? char(c) : '?');
  }
  if (s.size() > most) out += "...";
  out += '"';
  return out;
}

std::string hex_octet(unsigned b) {
  static constexpr char digits[] = "0123456789ABCDEF";
  return std::string("0x") + digits[(b >> 4) & 0x0F] + digits[b & 0x0F];
}

// Calls `each` with every non-empty, trimmed element of a comma-separated list (RFC 7230 §7).
template <class F>
void for_each_element(std::string_view list, F&& each) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trim(list.substr(0, comma));
    if (!element.empty()) each(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

bool has_token(std::string_view list, std::string_view token) {
  bool found = false;
  for_each_element(list, [&](std::string_view t) { found = found || iequals(t, token); });
  return found;
}

// ---- base64 (RFC 4648 §4) -----------------------------------------------------------------------

constexpr char base64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr bool is_base64_digit(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const std::uint32_t v =
        std::uint32_t{data[i]} << 16 | std::uint32_t{data[i + 1]} << 8 | data[i + 2];
    out += base64_digits[v >> 18 & 63];
    out += base64_digits[v >> 12 & 63];
    out += base64_digits[v >> 6 & 63];
    out += base64_digits[v & 63];
  }
  if (i < size) {
    std::uint32_t v = std::uint32_t{data[i]} << 16;
    if (i + 1 < size) v |= std::uint32_t{data[i + 1]} << 8;
    out += base64_digits[v >> 18 & 63];
    out += base64_digits[v >> 12 & 63];
    out += i + 1 < size ? base64_digits[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

// Whether a Sec-WebSocket-Key is the base64 of exactly 16 octets: 22 digits and "==". The 4 bits
// the last digit has beyond the 128 are not required to be zero (RFC 4648 §3.5 lets a decoder
// accept them, and the key is only a nonce we hash as text).
bool is_key_of_16_octets(std::string_view key) noexcept {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  return std::all_of(key.begin(), key.begin() + 22, is_base64_digit);
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";  // the reason phrase may be empty (RFC 7230 §3.1.2)
  }
}

// Whether `lines` (whole header lines) has a header named `name`.
bool has_header_line(std::string_view lines, std::string_view name) {
  while (!lines.empty()) {
    const std::size_t end = lines.find("\r\n");
    const std::string_view line = lines.substr(0, end);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), name)) return true;
    if (end == std::string_view::npos) break;
    lines.remove_prefix(end + 2);
  }
  return false;
}

// ---- the request head ---------------------------------------------------------------------------

// Reads "METHOD SP TARGET SP HTTP/1.x" (RFC 7230 §3.1.1: single spaces, a token method, a
// single-digit minor version).
std::optional<failure> parse_request_line(std::string_view line, request& r) {
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return fail("malformed HTTP request line " + quoted(line) +
                " (expected: METHOD SP TARGET SP HTTP/1.1)");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return fail("malformed HTTP method " + quoted(method));
  if (target.empty()) return fail("HTTP request line without a target: " + quoted(line));
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' ||
      version[7] > '9') {
    return fail("unsupported HTTP version " + quoted(version) + " (only HTTP/1.x is spoken)");
  }
  r.method = method;
  r.target = target;
  r.version = version;
  return std::nullopt;
}

}  // namespace

// ---- opening handshake --------------------------------------------------------------------------

std::size_t head_length(std::string_view buffer) noexcept {
  const std::size_t end = buffer.find("\r\n\r\n");
  return end == std::string_view::npos ? 0 : end + 4;
}

std::string_view request::path() const noexcept {
  const std::string_view t = target;
  return t.substr(0, t.find('?'));
}

result<request> parse_request(std::string_view head) {
  // A control character in the head (a bare CR or LF included) would let one line be read as
  // two or a header value carry a line break: refuse it (RFC 7230 §3.5, §3.2).
  for (std::size_t i = 0; i < head.size(); ++i) {
    const auto c = static_cast<unsigned char>(head[i]);
    if (c == '\r' && i + 1 < head.size() && head[i + 1] == '\n') {
      ++i;
      continue;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7F) {
      return fail("control character " + hex_octet(c) + " in the HTTP request head");
    }
  }
  // RFC 7230 §3.5: a server should ignore empty lines before the request line.
  while (head.substr(0, 2) == "\r\n") head.remove_prefix(2);

  request r;
  std::size_t end = head.find("\r\n");
  if (auto e = parse_request_line(head.substr(0, end), r)) return std::move(*e);
  // Headers that may appear once (a second makes the request ambiguous), and where they go.
  static constexpr std::pair<std::string_view, std::string request::*> single[] = {
      {"Host", &request::host},
      {"Origin", &request::origin},
      {"Sec-WebSocket-Key", &request::key},
      {"Sec-WebSocket-Version", &request::ws_version},
      {"Content-Length", &request::content_length},
      {"Transfer-Encoding", &request::transfer_encoding},
      {"Content-Type", &request::content_type},
      {"Authorization", &request::authorization},
      {"Expect", &request::expect},
  };
  bool seen[std::size(single)] = {};
  // List headers the router reads as one text: repeats are joined with ", " (RFC 9110 §5.3).
  auto join_list = [](std::string& into, std::string_view value) {
    if (!into.empty()) into += ", ";
    into += value;
  };
  while (end != std::string_view::npos) {
    head.remove_prefix(end + 2);
    end = head.find("\r\n");
    const std::string_view line = head.substr(0, end);
    if (line.empty()) break;  // the blank line that ends the head
    if (is_ows(line.front())) {
      return fail("obsolete line folding in HTTP header (a line starting with whitespace): " +
                  quoted(line));
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return fail("HTTP header line without a colon: " + quoted(line));
    const std::string_view name = line.substr(0, colon);
    // No whitespace between name and colon either (RFC 7230 §3.2.4: it must be refused).
    if (!is_token(name)) return fail("malformed HTTP header name " + quoted(name));
    const std::string_view value = trim(line.substr(colon + 1));
    const auto once = std::find_if(std::begin(single), std::end(single),
                                   [&](const auto& h) { return iequals(name, h.first); });
    if (once != std::end(single)) {
      bool& was = seen[once - std::begin(single)];
      if (was) return fail("repeated " + std::string(once->first) + " header");
      was = true;
      r.*(once->second) = value;
    } else if (iequals(name, "Sec-WebSocket-Protocol")) {
      for_each_element(value, [&](std::string_view p) { r.protocols.emplace_back(p); });
    } else if (iequals(name, "Upgrade")) {
      r.upgrade_websocket = r.upgrade_websocket || has_token(value, "websocket");
    } else if (iequals(name, "Connection")) {
      r.connection_upgrade = r.connection_upgrade || has_token(value, "upgrade");
      r.connection_close = r.connection_close || has_token(value, "close");
      r.connection_keep_alive = r.connection_keep_alive || has_token(value, "keep-alive");
    } else if (iequals(name, "Accept")) {
      join_list(r.accept, value);
    } else if (iequals(name, "If-None-Match")) {
      join_list(r.if_none_match, value);
    }
  }
  return r;
}

std::optional<refusal> check_upgrade(const request& r) {
  // 405, not RFC 6455's "such as 400": the resource exists and only GET reaches it (RFC 7231
  // §6.5.5); http_response adds the Allow header that status requires.
  if (r.method != "GET") {
    return refusal{405, "a WebSocket upgrade must be a GET request, not " + r.method};
  }
  // "At least 1.1" (RFC 6455 §4.1); parse_request has already refused HTTP/2 and beyond.
  if (r.version.size() != 8 || r.version.compare(0, 7, "HTTP/1.") != 0 || r.version[7] < '1') {
    return refusal{400, "a WebSocket upgrade needs HTTP/1.1, not " + r.version};
  }
  if (!r.upgrade_websocket) return refusal{400, "no \"Upgrade: websocket\" header"};
  if (!r.connection_upgrade) return refusal{400, "no \"Connection: Upgrade\" header"};
  if (r.host.empty()) return refusal{400, "no Host header"};
  // The version before the key: a client speaking an older draft learns which one we speak
  // (RFC 6455 §4.4) and may try again.
  if (r.ws_version != "13") {
    return refusal{426, r.ws_version.empty()
                            ? std::string("no Sec-WebSocket-Version header (this server speaks 13)")
                            : "Sec-WebSocket-Version " + quoted(r.ws_version) +
                                  " is not supported (this server speaks 13)"};
  }
  if (r.key.empty()) return refusal{400, "no Sec-WebSocket-Key header"};
  if (!is_key_of_16_octets(r.key)) {
    return refusal{400, "Sec-WebSocket-Key " + quoted(r.key) + " is not the base64 of 16 bytes"};
  }
  return std::nullopt;
}

std::string accept_key(std::string_view client_key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string text;
  text.reserve(client_key.size() + guid.size());
  text.append(client_key).append(guid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return base64(digest, sizeof digest);
}

std::string switching_protocols(std::string_view client_key, std::string_view subprotocol) {
  std::string out =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ";
  out += accept_key(client_key);
  out += "\r\n";
  if (!subprotocol.empty()) {
    out += "Sec-WebSocket-Protocol: ";
    out += subprotocol;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

std::string http_response(int status, std::string_view body, std::string_view extra_headers,
                          std::string_view content_type, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + ' ';
  out += reason_phrase(status);
  // 304 has no content, and no Content-Length but the one a 200 would have had (RFC 9110 §8.6):
  // neither header, and no body.
  if (status == 304) {
    body = {};
  } else {
    out += "\r\nContent-Type: ";
    out += content_type;
    out += "\r\nContent-Length: ";
    out += std::to_string(body.size());
  }
  out += keep_alive ? "\r\nConnection: keep-alive\r\n" : "\r\nConnection: close\r\n";
  // The headers these statuses require (RFC 7231 §6.5.5, §6.5.15), unless the caller gave them:
  // the router serves nothing but GET, and what it upgrades to is WebSocket.
  if (status == 405 && !has_header_line(extra_headers, "Allow")) out += "Allow: GET\r\n";
  if (status == 426 && !has_header_line(extra_headers, "Upgrade")) out += "Upgrade: websocket\r\n";
  out += extra_headers;
  out += "\r\n";
  out += body;
  return out;
}

// ---- frames -------------------------------------------------------------------------------------

std::size_t write_header(char* out, opcode op, std::uint64_t length) noexcept {
  assert(length >> 63 == 0);
  out[0] = static_cast<char>(0x80 | static_cast<unsigned>(op));  // FIN, no RSV bits
  if (length < 126) {
    out[1] = static_cast<char>(length);
    return 2;
  }
  if (length <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<char>(length >> 8);
    out[3] = static_cast<char>(length & 0xFF);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<char>(length >> (56 - 8 * i) & 0xFF);
  return 10;
}

void append_header(std::string& out, opcode op, std::uint64_t length) {
  char header[max_header_size];
  out.append(header, write_header(header, op, length));
}

void append_close(std::string& out, std::uint16_t code, std::string_view reason) {
  constexpr std::size_t most = 125 - 2;
  if (reason.size() > most) {
    // Cut before the octet that would not fit, backing off while it continues a sequence.
    std::size_t n = most;
    while (n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) --n;
    reason = reason.substr(0, n);
  }
  append_header(out, opcode::close, 2 + reason.size());
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xFF);
  out += reason;
}

bool utf8_validator::feed(std::string_view bytes) noexcept {
  if (!ok_) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = p + bytes.size();
  // First the rest of a sequence an earlier piece left open.
  while (need_ > 0) {
    if (p == end) return true;
    if (*p < lower_ || *p > upper_) return ok_ = false;
    ++p;
    --need_;
    lower_ = 0x80;
    upper_ = 0xBF;
  }
  while (p != end) {
    // Every whole, well-formed sequence at once (ASCII 8 octets at a time: the common case of
    // WAMP's JSON); what stops it is a broken sequence or one the next piece completes.
    p += detail::utf8_prefix(reinterpret_cast<const char*>(p), static_cast<std::size_t>(end - p));
    if (p == end) break;
    const unsigned char lead = *p++;
    // RFC 3629 §4: the lead octet fixes the count and the range of the first continuation octet,
    // which excludes overlongs (E0, F0), surrogates (ED) and code points above U+10FFFF (F4).
    std::uint8_t need;
    unsigned char lower = 0x80, upper = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      need = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      need = 2;
      if (lead == 0xE0) lower = 0xA0;
      if (lead == 0xED) upper = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      need = 3;
      if (lead == 0xF0) lower = 0x90;
      if (lead == 0xF4) upper = 0x8F;
    } else {
      return ok_ = false;  // a continuation octet without a lead, C0/C1 (overlong) or F5-FF
    }
    while (need > 0) {
      if (p == end) {
        // The sequence goes on in the next piece.
        need_ = need;
        lower_ = lower;
        upper_ = upper;
        return true;
      }
      if (*p < lower || *p > upper) return ok_ = false;
      ++p;
      --need;
      lower = 0x80;
      upper = 0xBF;
    }
  }
  return true;
}

bool valid_close_code(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

namespace {

std::string_view opcode_name(opcode op) noexcept {
  switch (op) {
    case opcode::continuation:
      return "continuation";
    case opcode::text:
      return "text";
    case opcode::binary:
      return "binary";
    case opcode::close:
      return "close";
    case opcode::ping:
      return "ping";
    case opcode::pong:
      return "pong";
  }
  return "unknown";
}

constexpr bool is_control(opcode op) noexcept { return static_cast<unsigned>(op) & 0x8; }

// XORs `size` octets with the mask key, the first of them with key octet `phase` (a frame split
// across feeds resumes where the last piece stopped). Eight octets at a time with the key
// repeated twice and rotated to the phase; memcpy makes the unaligned loads legal and compiles to
// plain moves.
void unmask(char* data, std::size_t size, const unsigned char key[4], std::size_t phase) noexcept {
  unsigned char k[8];
  for (std::size_t i = 0; i < 8; ++i) k[i] = key[(phase + i) & 3];
  std::uint64_t k64;
  std::memcpy(&k64, k, 8);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    word ^= k64;
    std::memcpy(data + i, &word, 8);
  }
  // The tail starts at a multiple of 8, so at the same phase.
  for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ k[i & 3]);
}

// Buffers for a message past this size are given back once it is delivered, so that one large
// message does not pin its memory for the rest of the connection.
constexpr std::size_t keep_capacity = 64 * 1024;

}  // namespace

std::size_t frame_reader::buffered() const noexcept {
  return header_have_ + message_.size() + control_.size();
}

std::size_t frame_reader::header_size() const noexcept {
  const unsigned len7 = static_cast<unsigned char>(header_[1]) & 0x7F;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
}

std::optional<frame_error> frame_reader::fail_frame(std::uint16_t code, std::string text) {
  error_ = std::make_unique<frame_error>(frame_error{code, std::move(text)});
  release();
  return *error_;
}

void frame_reader::release() noexcept {
  header_have_ = 0;
  std::string().swap(message_);
  std::string().swap(control_);
}

std::optional<frame_error> frame_reader::check_first_octets() {
  const auto b0 = static_cast<unsigned char>(header_[0]);
  const auto b1 = static_cast<unsigned char>(header_[1]);
  if (b0 & 0x70) {
    return fail_frame(close_code::protocol_error,
                      "WebSocket frame sets reserved bits (first octet " + hex_octet(b0) +
                          ") but no extension was negotiated");
  }
  const unsigned op = b0 & 0x0F;
  if ((op >= 0x3 && op <= 0x7) || op >= 0xB) {
    return fail_frame(close_code::protocol_error,
                      "WebSocket frame with reserved opcode " + hex_octet(op));
  }
  if (!(b1 & 0x80)) {
    return fail_frame(close_code::protocol_error, "unmasked WebSocket frame from the client");
  }
  fin_ = b0 & 0x80;
  op_ = static_cast<opcode>(op);
  if (is_control(op_)) {
    if (!fin_) {
      return fail_frame(close_code::protocol_error,
                        "fragmented WebSocket " + std::string(opcode_name(op_)) + " frame");
    }
    if ((b1 & 0x7F) > 125) {
      return fail_frame(close_code::protocol_error, "WebSocket " + std::string(opcode_name(op_)) +
                                                        " frame longer than 125 bytes");
    }
  } else if (op_ == opcode::continuation) {
    if (!in_message_) {
      return fail_frame(close_code::protocol_error,
                        "WebSocket continuation frame without a message to continue");
    }
  } else if (in_message_) {
    return fail_frame(close_code::protocol_error,
                      "WebSocket " + std::string(opcode_name(op_)) +
                          " frame inside an unfinished fragmented message");
  }
  return std::nullopt;
}

std::optional<frame_error> frame_reader::start_frame() {
  const auto* h = reinterpret_cast<const unsigned char*>(header_);
  const unsigned len7 = h[1] & 0x7F;
  std::size_t at = 2;
  if (len7 == 126) {
    length_ = std::uint64_t{h[2]} << 8 | h[3];
    at = 4;
  } else if (len7 == 127) {
    length_ = 0;
    for (std::size_t i = 2; i < 10; ++i) length_ = length_ << 8 | h[i];
    at = 10;
    if (length_ >> 63) {
      return fail_frame(close_code::protocol_error,
                        "WebSocket frame length with the most significant bit set");
    }
  } else {
    length_ = len7;
  }
  std::memcpy(mask_, h + at, 4);
  consumed_ = 0;
  if (!is_control(op_)) {
    // Refused from the header alone, before any of the payload is read or buffered.
    if (op_ == opcode::continuation) {
      if (length_ > max_message_ - message_.size()) {
        return fail_frame(close_code::message_too_big,
                          "fragmented WebSocket message grows to " +
                              std::to_string(message_.size() + length_) +
                              " bytes, over the maximum of " + std::to_string(max_message_));
      }
    } else {
      if (length_ > max_message_) {
        return fail_frame(close_code::message_too_big,
                          "WebSocket message of " + std::to_string(length_) +
                              " bytes exceeds the maximum of " + std::to_string(max_message_));
      }
      message_op_ = op_;
      utf8_.reset();
      in_message_ = !fin_;
    }
  }
  in_payload_ = true;
  return std::nullopt;
}

std::optional<frame_error> frame_reader::end_control(std::string_view payload, frame_sink& sink) {
  switch (op_) {
    case opcode::ping:
      sink.on_ping(payload);
      return std::nullopt;
    case opcode::pong:
      sink.on_pong(payload);
      return std::nullopt;
    default:
      break;
  }
  std::uint16_t code = close_code::no_status;
  if (payload.size() == 1) {
    return fail_frame(close_code::protocol_error,
                      "WebSocket close frame with a 1-byte payload (a close code takes 2)");
  }
  if (payload.size() >= 2) {
    code = static_cast<std::uint16_t>(static_cast<unsigned char>(payload[0]) << 8 |
                                      static_cast<unsigned char>(payload[1]));
    if (!valid_close_code(code)) {
      return fail_frame(close_code::protocol_error,
                        "WebSocket close frame with invalid close code " + std::to_string(code));
    }
    payload.remove_prefix(2);
    utf8_validator reason;
    if (!reason.feed(payload) || !reason.complete()) {
      return fail_frame(close_code::invalid_payload, "WebSocket close reason is not valid UTF-8");
    }
  }
  // Nothing the peer sends after its close frame counts (RFC 6455 §5.5.1).
  closed_ = true;
  sink.on_close(code, payload);
  release();  // after the call: `payload` may be a view into control_
  return std::nullopt;
}

void frame_reader::buffer(std::string& into, std::string_view part, std::size_t bound) {
  // Grow geometrically, but never past what can still arrive: a peer that announces a large
  // message and sends a trickle costs about what it has sent.
  const std::size_t need = into.size() + part.size();
  if (need > into.capacity()) into.reserve(std::min(bound, std::max(need, 2 * into.capacity())));
  into.append(part);
}

std::optional<frame_error> frame_reader::feed(char* data, std::size_t size, frame_sink& sink) {
  if (error_) return *error_;
  if (closed_) return std::nullopt;
  for (;;) {
    if (!in_payload_) {
      if (size == 0) break;
      if (header_have_ < 2) {
        const std::size_t take = std::min<std::size_t>(2 - header_have_, size);
        std::memcpy(header_ + header_have_, data, take);
        header_have_ += take;
        data += take;
        size -= take;
        if (header_have_ < 2) break;
        // Fail on what the first two octets say before waiting for the rest of the header.
        if (auto e = check_first_octets()) return e;
      }
      const std::size_t want = header_size();
      const std::size_t take = std::min(want - header_have_, size);
      std::memcpy(header_ + header_have_, data, take);
      header_have_ += take;
      data += take;
      size -= take;
      if (header_have_ < want) break;
      if (auto e = start_frame()) return e;
    }
    // The payload (or the next piece of it). A zero-length frame ends right here.
    const std::uint64_t remaining = length_ - consumed_;
    if (remaining > 0 && size == 0) break;
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, size));
    char* const part = data;
    unmask(part, take, mask_, static_cast<std::size_t>(consumed_ & 3));
    const bool whole = consumed_ == 0 && take == length_;
    consumed_ += take;
    data += take;
    size -= take;
    const std::string_view piece(part, take);

    if (is_control(op_)) {
      if (whole) {
        in_payload_ = false;
        header_have_ = 0;
        if (auto e = end_control(piece, sink)) return e;
      } else {
        buffer(control_, piece, 125);
        if (consumed_ < length_) break;
        in_payload_ = false;
        header_have_ = 0;
        if (auto e = end_control(control_, sink)) return e;
        control_.clear();
      }
      if (closed_) return std::nullopt;
      continue;
    }

    // Text is checked as it arrives, so an invalid message fails at the first bad octet.
    if (message_op_ == opcode::text && !utf8_.feed(piece)) {
      return fail_frame(close_code::invalid_payload, "WebSocket text message is not valid UTF-8");
    }
    if (whole && fin_ && !in_message_) {
      // The common case: a whole unfragmented message inside this feed, unmasked in place and
      // handed over without a copy.
      in_payload_ = false;
      header_have_ = 0;
      if (message_op_ == opcode::text && !utf8_.complete()) {
        return fail_frame(close_code::invalid_payload,
                          "WebSocket text message is not valid UTF-8 (it ends inside a character)");
      }
      sink.on_message(message_op_, piece);
      continue;
    }
    // A frame split across feeds, or a fragment: joined in message_. When the frame is final
    // the message's length is known; otherwise only the limit bounds it.
    buffer(message_, piece,
           fin_ ? static_cast<std::size_t>(message_.size() + piece.size() + (length_ - consumed_))
                : max_message_);
    if (consumed_ < length_) break;
    in_payload_ = false;
    header_have_ = 0;
    if (!fin_) continue;
    if (message_op_ == opcode::text && !utf8_.complete()) {
      return fail_frame(close_code::invalid_payload,
                        "WebSocket text message is not valid UTF-8 (it ends inside a character)");
    }
    in_message_ = false;
    sink.on_message(message_op_, message_);
    if (message_.capacity() > keep_capacity) {
      std::string().swap(message_);
    } else {
      message_.clear();
    }
  }
  return std::nullopt;
}

}  // namespace junction::websocket
