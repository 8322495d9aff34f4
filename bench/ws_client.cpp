#include "bench/ws_client.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <random>
#include <stdexcept>

#include "serializers/base64.hpp"

namespace bench {
namespace {

// RFC 3174 SHA-1, only for checking Sec-WebSocket-Accept (a few hundred times per run at most);
// a local copy keeps the generator free of an OpenSSL dependency.
std::string sha1(std::string_view data) {
  std::uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string msg(data);
  const std::uint64_t bit_length = static_cast<std::uint64_t>(data.size()) * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<char>((bit_length >> (i * 8)) & 0xff));
  auto rol = [](std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  for (std::size_t chunk = 0; chunk < msg.size(); chunk += 64) {
    std::uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(msg.data() + chunk + i * 4);
      w[i] = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
    }
    for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      std::uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      const std::uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rol(b, 30);
      b = a;
      a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  std::string out;
  for (std::uint32_t x : h)
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((x >> (i * 8)) & 0xff));
  return out;
}

std::mt19937_64& rng() {
  static std::mt19937_64 r{std::random_device{}()};
  return r;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// XORs `n` bytes with the 4-byte key, 8 bytes at a time (frames are small; this stays a few ns).
void mask_copy(char* dst, const char* src, std::size_t n, std::uint32_t key) {
  const std::uint64_t key64 = (std::uint64_t{key} << 32) | key;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x;
    std::memcpy(&x, src + i, 8);
    x ^= key64;
    std::memcpy(dst + i, &x, 8);
  }
  const auto* k = reinterpret_cast<const unsigned char*>(&key);
  for (; i < n; ++i) dst[i] = static_cast<char>(src[i] ^ k[i & 3]);
}

}  // namespace

std::uint64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

bool parse_url(const std::string& url, endpoint& out, std::string& error) {
  std::string_view rest = url;
  if (rest.rfind("ws://", 0) == 0) {
    rest.remove_prefix(5);
    out.raw_tcp = false;
  } else if (rest.rfind("tcp://", 0) == 0) {
    rest.remove_prefix(6);
    out.raw_tcp = true;
  } else if (rest.rfind("rs://", 0) == 0) {
    rest.remove_prefix(5);
    out.rawsocket = true;
  } else {
    error = "URL must start with ws://, rs:// or tcp:// (TLS is not supported): " + url;
    return false;
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    error = "URL needs an explicit port: " + url;
    return false;
  }
  out.host = std::string(authority.substr(0, colon));
  if (out.host.size() > 2 && out.host.front() == '[') out.host = out.host.substr(1, out.host.size() - 2);
  const std::string port(authority.substr(colon + 1));
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p <= 0 || p > 65535) {
    error = "bad port in URL: " + url;
    return false;
  }
  out.port = static_cast<std::uint16_t>(p);
  return true;
}

// ---------------------------------------------------------------------------------------------
// connection

void connection::send(opcode op, std::string_view payload) {
  if (state_ == state::closed) return;
  const std::size_t n = payload.size();
  if (rs_) {  // 4-octet header: frame type (0 message, 1 PING, 2 PONG), 24-bit length; no mask
    const char type = op == opcode::ping ? 1 : op == opcode::pong ? 2 : 0;
    const char header[4] = {type, static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 8) & 0xff),
                            static_cast<char>(n & 0xff)};
    out_.append(header, 4);
    out_.append(payload.data(), n);
    queued();
    return;
  }
  char header[14];
  std::size_t h = 0;
  header[h++] = static_cast<char>(0x80 | static_cast<unsigned>(op));  // FIN, no fragmentation
  if (n <= 125) {
    header[h++] = static_cast<char>(0x80 | n);
  } else if (n <= 0xffff) {
    header[h++] = static_cast<char>(0x80 | 126);
    header[h++] = static_cast<char>(n >> 8);
    header[h++] = static_cast<char>(n & 0xff);
  } else {
    header[h++] = static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) header[h++] = static_cast<char>((static_cast<std::uint64_t>(n) >> (i * 8)) & 0xff);
  }
  std::memcpy(header + h, &mask_key_, 4);
  h += 4;
  const std::size_t at = out_.size();
  out_.resize(at + h + n);
  std::memcpy(&out_[at], header, h);
  mask_copy(&out_[at + h], payload.data(), n, mask_key_);
  queued();
}

void connection::queued() {
  if (loop_.frame_per_write && state_ == state::open && !want_write_) {
    flush();
    return;
  }
  if (!dirty_) loop_.mark_dirty(*this);
}

void connection::send_raw(std::string_view bytes) {
  if (state_ == state::closed) return;
  out_.append(bytes.data(), bytes.size());
  if (!dirty_) loop_.mark_dirty(*this);
}

void connection::close() {
  if (state_ == state::closed) return;
  state_ = state::closed;
  --loop_.open_;
  ::close(fd_);  // also removes it from the epoll set
  fd_ = -1;
  out_.clear();
  out_.shrink_to_fit();
  in_.clear();
  in_.shrink_to_fit();
  out_off_ = 0;
}

void connection::close_gracefully() {
  if (state_ != state::open) {
    close();
    return;
  }
  if (raw_ || rs_) {  // no close frame in raw TCP or RawSocket: half-close, the server then closes
    flush();
    if (state_ == state::open) ::shutdown(fd_, SHUT_WR);
    closing_ = true;
    return;
  }
  if (closing_) return;
  closing_ = true;
  send(opcode::close, std::string_view("\x03\xe8", 2));  // 1000 normal closure
}

void connection::fail(const std::string& why) {
  if (state_ == state::closed) return;
  close();
  handler_.on_closed(*this, why);
}

void connection::flush() {
  if (state_ == state::closed) return;
  while (out_off_ < out_.size()) {
    const ssize_t n = ::write(fd_, out_.data() + out_off_, out_.size() - out_off_);
    if (n > 0) {
      out_off_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!want_write_) loop_.arm_write(*this, true);
      // Keep the buffer from growing without bound when the peer is slow: drop what was sent.
      if (out_off_ > 65536 && out_off_ * 2 > out_.size()) {
        out_.erase(0, out_off_);
        out_off_ = 0;
      }
      return;
    }
    fail(std::string("write failed: ") + std::strerror(errno));
    return;
  }
  out_.clear();
  out_off_ = 0;
  if (want_write_) loop_.arm_write(*this, false);
}

void connection::on_writable() {
  if (state_ == state::connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      fail(std::string("connect failed: ") + std::strerror(err));
      return;
    }
    if (raw_) {
      state_ = state::open;
      loop_.arm_write(*this, false);
      handler_.on_open(*this);
      return;
    }
    state_ = state::upgrading;
    loop_.arm_write(*this, false);
    flush();  // the upgrade request was queued at connect()
    return;
  }
  flush();
}

bool connection::parse_handshake() {
  if (rs_) {  // the router's 4-octet reply: 0x7F, LLLL SSSS (our serializer), 0, 0
    if (in_.size() < 4) return false;
    const auto b1 = static_cast<unsigned char>(in_[1]);
    if (static_cast<unsigned char>(in_[0]) != 0x7F || (b1 & 0x0F) != rs_serializer_) {
      fail("RawSocket handshake refused (reply octets 0x7F? " + std::to_string(static_cast<unsigned char>(in_[0])) +
           ", error code " + std::to_string(b1 >> 4) + ")");
      return false;
    }
    in_.erase(0, 4);
    state_ = state::open;
    handler_.on_open(*this);
    return true;
  }
  const auto end = in_.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (in_.size() > 16384) fail("upgrade response headers larger than 16 KB");
    return false;
  }
  std::string_view head(in_.data(), end);
  const auto first_eol = head.find("\r\n");
  std::string_view status = head.substr(0, first_eol);
  if (status.size() < 12 || status.substr(0, 5) != "HTTP/" || status.substr(9, 3) != "101") {
    fail("upgrade refused: " + std::string(status));
    return false;
  }
  bool accept_ok = false;
  std::string chosen;
  std::size_t pos = first_eol == std::string_view::npos ? head.size() : first_eol + 2;
  while (pos < head.size()) {
    auto eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = head.size();
    std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = trim(line.substr(0, colon));
    std::string_view val = trim(line.substr(colon + 1));
    if (iequals(name, "Sec-WebSocket-Accept")) accept_ok = val == expected_accept_;
    if (iequals(name, "Sec-WebSocket-Protocol")) chosen = std::string(val);
  }
  if (!accept_ok) {
    fail("upgrade response has a missing or wrong Sec-WebSocket-Accept");
    return false;
  }
  if (!subprotocol_.empty() && chosen != subprotocol_) {
    fail("server did not select subprotocol " + subprotocol_ + " (got '" + chosen + "')");
    return false;
  }
  in_.erase(0, end + 4);
  state_ = state::open;
  handler_.on_open(*this);
  return true;
}

void connection::on_readable() {
  char* buf = loop_.read_buffer_.data();
  const std::size_t cap = loop_.read_buffer_.size();
  const ssize_t n = ::read(fd_, buf, cap);
  if (n == 0) {
    fail("connection closed by peer");
    return;
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    fail(std::string("read failed: ") + std::strerror(errno));
    return;
  }
  const auto got = static_cast<std::size_t>(n);
  if (state_ == state::upgrading) {
    in_.append(buf, got);
    if (!parse_handshake()) return;
    if (in_.empty()) return;
    std::string rest;
    rest.swap(in_);
    parse_frames(rest.data(), rest.size());
    return;
  }
  if (in_.empty()) {
    parse_frames(buf, got);  // the common case: parse straight out of the shared buffer
  } else {
    in_.append(buf, got);
    std::string pending;
    pending.swap(in_);
    parse_frames(pending.data(), pending.size());
  }
}

// Parses every complete frame in [data, data+size); keeps an incomplete tail in in_. Server
// frames are unmasked; masked frames (the raw TCP echo returns ours) are unmasked here.
void connection::parse_frames(const char* data, std::size_t size) {
  if (rs_) return parse_rawsocket_frames(data, size);
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  std::size_t off = 0;
  while (state_ != state::closed) {
    if (size - off < 2) break;
    const unsigned b0 = p[off];
    const unsigned b1 = p[off + 1];
    const bool fin = (b0 & 0x80) != 0;
    const auto op = static_cast<opcode>(b0 & 0x0f);
    const bool masked = (b1 & 0x80) != 0;
    std::uint64_t len = b1 & 0x7f;
    std::size_t h = 2;
    if (len == 126) {
      if (size - off < 4) break;
      len = (std::uint64_t{p[off + 2]} << 8) | p[off + 3];
      h = 4;
    } else if (len == 127) {
      if (size - off < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | p[off + 2 + i];
      h = 10;
    }
    if (len > (1ULL << 31)) {
      fail("frame larger than 2 GB");
      return;
    }
    std::uint32_t key = 0;
    if (masked) {
      if (size - off < h + 4) break;
      std::memcpy(&key, p + off + h, 4);
      h += 4;
    }
    if (size - off < h + len) break;
    char* payload = const_cast<char*>(data) + off + h;  // data is ours (shared buffer or in_)
    if (masked) mask_copy(payload, payload, static_cast<std::size_t>(len), key);
    std::string_view body(payload, static_cast<std::size_t>(len));
    off += h + static_cast<std::size_t>(len);
    switch (op) {
      case opcode::text:
      case opcode::binary:
        if (fin && fragments_.empty()) {
          handler_.on_message(*this, body);
        } else {
          fragments_.assign(body);
          if (fin) {
            handler_.on_message(*this, fragments_);
            fragments_.clear();
          }
        }
        break;
      case opcode::continuation:
        fragments_.append(body);
        if (fin) {
          std::string whole;
          whole.swap(fragments_);
          handler_.on_message(*this, whole);
        }
        break;
      case opcode::ping:
        send(opcode::pong, body);
        break;
      case opcode::pong:
        break;
      case opcode::close: {
        if (closing_) {  // the answer to our close: done
          close();
          return;
        }
        std::string why = "server sent close";
        if (body.size() >= 2) {
          const unsigned code = (static_cast<unsigned char>(body[0]) << 8) | static_cast<unsigned char>(body[1]);
          why += " " + std::to_string(code);
          if (body.size() > 2) why += " (" + std::string(body.substr(2)) + ")";
        }
        send(opcode::close, body.substr(0, 2));  // echo the code, as RFC 6455 §5.5.1 asks
        flush();
        fail(why);
        return;
      }
      default:
        fail("unknown opcode " + std::to_string(static_cast<unsigned>(op)));
        return;
    }
  }
  if (state_ != state::closed && off < size) in_.append(data + off, size - off);
}

// RawSocket frames: a 4-octet header (RRRR XTTT, 24-bit length), then the payload.
void connection::parse_rawsocket_frames(const char* data, std::size_t size) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  std::size_t off = 0;
  while (state_ != state::closed && size - off >= 4) {
    const unsigned type = p[off] & 0x07;
    std::size_t len = (std::size_t{p[off + 1]} << 16) | (std::size_t{p[off + 2]} << 8) | p[off + 3];
    if (p[off] & 0x08) len = std::size_t{1} << 24;  // the X bit: exactly 16 MiB
    if (size - off < 4 + len) break;
    const std::string_view body(data + off + 4, len);
    off += 4 + len;
    switch (type) {
      case 0: handler_.on_message(*this, body); break;
      case 1: send(opcode::pong, body); break;
      case 2: break;
      default:
        fail("RawSocket frame of reserved type " + std::to_string(type));
        return;
    }
  }
  if (state_ != state::closed && off < size) in_.append(data + off, size - off);
}

// ---------------------------------------------------------------------------------------------
// loop

loop::loop() : read_buffer_(256 * 1024) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  now_ = now_ns();
}

loop::~loop() {
  for (auto& c : connections_)
    if (c->fd_ >= 0) ::close(c->fd_);
  ::close(epoll_fd_);
}

connection* loop::connect(const endpoint& ep, const std::string& subprotocol,
                          connection_handler& handler, std::string& error) {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, ep.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(ep.port);
    addr_len = sizeof *v4;
  } else if (inet_pton(AF_INET6, ep.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(ep.port);
    addr_len = sizeof *v6;
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(ep.host.c_str(), std::to_string(ep.port).c_str(), &hints, &res) != 0 || res == nullptr) {
      error = "cannot resolve " + ep.host;
      return nullptr;
    }
    std::memcpy(&addr, res->ai_addr, res->ai_addrlen);
    addr_len = res->ai_addrlen;
    freeaddrinfo(res);
  }
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Thousands of connections from one address to one port make the kernel's ephemeral-port
  // search in connect() linear in the connections already open (__inet_hash_connect was 40 % of
  // the generator's CPU at 15,000 sessions). Towards a loopback address, spread them over source
  // addresses 127.0.0.1, .2, … (1,000 each): every one has its own port space.
  if (addr.ss_family == AF_INET && (ntohl(v4->sin_addr.s_addr) >> 24) == 127) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f000001u + static_cast<std::uint32_t>((connects_ / 1000) % 250));
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) < 0) {
      // Not fatal: the kernel picks the source itself.
    }
  }
  ++connects_;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) < 0 && errno != EINPROGRESS) {
    error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  connections_.push_back(std::unique_ptr<connection>(new connection(*this, handler)));
  connection* c = connections_.back().get();
  c->fd_ = fd;
  c->raw_ = ep.raw_tcp;
  c->rs_ = ep.rawsocket;
  c->subprotocol_ = subprotocol;
  c->mask_key_ = static_cast<std::uint32_t>(rng()());
  ++open_;
  if (ep.rawsocket) {
    // 0x7F, LLLL SSSS (the largest receive limit, 16 MiB; 1 JSON, 2 MessagePack, 3 CBOR), 0, 0
    c->rs_serializer_ = subprotocol.find("msgpack") != std::string::npos ? 2
                        : subprotocol.find("cbor") != std::string::npos  ? 3
                                                                         : 1;
    c->out_ = std::string{'\x7f', static_cast<char>(0xF0 | c->rs_serializer_), '\0', '\0'};
  } else if (!ep.raw_tcp) {
    char key_bytes[16];
    for (char& b : key_bytes) b = static_cast<char>(rng()() & 0xff);
    const std::string key = junction::base64_encode(std::string_view(key_bytes, 16));
    c->expected_accept_ = junction::base64_encode(sha1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
    std::string req = "GET " + ep.path + " HTTP/1.1\r\nHost: " + ep.host + ":" + std::to_string(ep.port) +
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                      "\r\nSec-WebSocket-Version: 13\r\n";
    if (!subprotocol.empty()) req += "Sec-WebSocket-Protocol: " + subprotocol + "\r\n";
    req += "\r\n";
    c->out_ = std::move(req);  // written once the connect completes
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;  // EPOLLOUT signals the end of the non-blocking connect
  ev.data.ptr = c;
  c->want_write_ = true;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    error = std::string("epoll_ctl: ") + std::strerror(errno);
    c->close();
    return nullptr;
  }
  return c;
}

void loop::close_all_gracefully() {
  for (auto& c : connections_) c->close_gracefully();
}

void loop::close_all() {
  for (auto& c : connections_) c->close();
}

void loop::mark_dirty(connection& c) {
  c.dirty_ = true;
  dirty_.push_back(&c);
}

void loop::arm_write(connection& c, bool on) {
  if (c.fd_ < 0) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.ptr = &c;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd_, &ev);
  c.want_write_ = on;
}

void loop::flush_dirty() {
  // Handlers may queue more while we flush (a failed write calls on_closed): index, don't iterate.
  for (std::size_t i = 0; i < dirty_.size(); ++i) {
    connection* c = dirty_[i];
    c->dirty_ = false;
    if (c->state_ == connection::state::open || c->state_ == connection::state::upgrading) c->flush();
  }
  dirty_.clear();
}

void loop::run_once(int timeout_ms) {
  flush_dirty();  // whatever the scenario queued outside a handler
  epoll_event events[256];
  const int n = epoll_wait(epoll_fd_, events, 256, timeout_ms);
  now_ = now_ns();
  if (n < 0) {
    if (errno == EINTR) return;
    throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
  }
  for (int i = 0; i < n; ++i) {
    auto* c = static_cast<connection*>(events[i].data.ptr);
    if (c->state_ == connection::state::closed) continue;
    const std::uint32_t e = events[i].events;
    if ((e & EPOLLOUT) != 0) c->on_writable();
    if (c->state_ == connection::state::closed) continue;
    if ((e & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
      if (c->state_ == connection::state::connecting) {
        c->on_writable();  // a refused connect reports EPOLLERR|EPOLLHUP: let SO_ERROR tell
        continue;
      }
      c->on_readable();
    }
  }
  flush_dirty();
}

}  // namespace bench
