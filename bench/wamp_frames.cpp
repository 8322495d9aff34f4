#include "bench/wamp_frames.hpp"

#include <cstring>
#include <stdexcept>

namespace bench {

using junction::serializer;

id_template::id_template(const junction::codec& c, const junction::message& m) : kind_(c.kind()) {
  std::string encoded;
  c.encode(m, encoded);
  std::string needle;
  append_id(needle, sentinel_id);
  const auto at = encoded.find(needle);
  if (at == std::string::npos || encoded.find(needle, at + 1) != std::string::npos)
    throw std::logic_error("id_template: the sentinel id must occur exactly once");
  prefix_ = encoded.substr(0, at);
  suffix_ = encoded.substr(at + needle.size());
}

// The encodings the codecs themselves produce: shortest decimal for JSON, the smallest unsigned
// form for MessagePack (msgpack-c packs a uint64 the same way), so the frame is byte-identical
// to a full encode.
void id_template::append_id(std::string& out, std::uint64_t id) const {
  if (kind_ == serializer::json) {
    char digits[20];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + id % 10);
      id /= 10;
    } while (id != 0);
    const std::size_t at = out.size();
    out.resize(at + static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) out[at + static_cast<std::size_t>(i)] = digits[n - 1 - i];
    return;
  }
  if (kind_ == serializer::cbor) {  // major type 0, the shortest head
    char b[9];
    std::size_t n;
    if (id < 24) {
      b[0] = static_cast<char>(id);
      n = 1;
    } else {
      const std::size_t bytes = id <= 0xff ? 1 : id <= 0xffff ? 2 : id <= 0xffffffffULL ? 4 : 8;
      b[0] = static_cast<char>(bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27);
      for (std::size_t k = 0; k < bytes; ++k) b[1 + k] = static_cast<char>(id >> (8 * (bytes - 1 - k)));
      n = 1 + bytes;
    }
    out.append(b, n);
    return;
  }
  char b[9];
  std::size_t n = 0;
  if (id < 0x80) {
    b[n++] = static_cast<char>(id);
  } else if (id <= 0xff) {
    b[n++] = static_cast<char>(0xcc);
    b[n++] = static_cast<char>(id);
  } else if (id <= 0xffff) {
    b[n++] = static_cast<char>(0xcd);
    b[n++] = static_cast<char>(id >> 8);
    b[n++] = static_cast<char>(id);
  } else if (id <= 0xffffffffULL) {
    b[n++] = static_cast<char>(0xce);
    for (int i = 3; i >= 0; --i) b[n++] = static_cast<char>(id >> (i * 8));
  } else {
    b[n++] = static_cast<char>(0xcf);
    for (int i = 7; i >= 0; --i) b[n++] = static_cast<char>(id >> (i * 8));
  }
  out.append(b, n);
}

std::string make_payload(std::size_t bytes) {
  std::string p(bytes, 'x');
  if (bytes < min_payload_bytes) return p;  // too short for a sequence number (rpc, echo only)
  p[0] = '#';
  write_seq(&p[1], 0);
  return p;
}

void write_seq(char* p, std::uint64_t seq) noexcept {
  for (std::size_t i = seq_digits; i-- > 0;) {
    p[i] = static_cast<char>('0' + seq % 10);
    seq /= 10;
  }
}

bool read_seq(const char* p, std::uint64_t& seq) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < seq_digits; ++i) {
    const unsigned d = static_cast<unsigned char>(p[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  seq = v;
  return true;
}

namespace {

// JSON: [ ws int ws , ws int ...
bool json_uint(std::string_view s, std::size_t& i, std::uint64_t& out) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
  if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
  std::uint64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + static_cast<unsigned>(s[i++] - '0');
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
  if (i < s.size() && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')) return false;  // not an integer
  out = v;
  return true;
}

bool peek_json(std::string_view s, head& h) {
  std::size_t i = 0;
  while (i < s.size() && s[i] != '[') {
    if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r') return false;
    ++i;
  }
  ++i;
  if (!json_uint(s, i, h.type)) return false;
  if (i >= s.size() || s[i] != ',') return true;
  ++i;
  if (!json_uint(s, i, h.a)) return true;
  if (i >= s.size() || s[i] != ',') return true;
  ++i;
  json_uint(s, i, h.b);
  return true;
}

// MessagePack: array header, then non-negative integers in any width (signed forms too: some
// encoders pack small positive numbers as int8..int64).
bool mp_uint(const unsigned char* p, std::size_t n, std::size_t& i, std::uint64_t& out) {
  if (i >= n) return false;
  const unsigned c = p[i];
  auto be = [&](std::size_t bytes) -> bool {
    if (i + 1 + bytes > n) return false;
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < bytes; ++k) v = (v << 8) | p[i + 1 + k];
    out = v;
    i += 1 + bytes;
    return true;
  };
  if (c < 0x80) {
    out = c;
    ++i;
    return true;
  }
  switch (c) {
    case 0xcc: case 0xd0: return be(1) && (c == 0xcc || out < 0x80);
    case 0xcd: case 0xd1: return be(2) && (c == 0xcd || out < 0x8000);
    case 0xce: case 0xd2: return be(4) && (c == 0xce || out < 0x80000000ULL);
    case 0xcf: case 0xd3: return be(8) && (c == 0xcf || out < 0x8000000000000000ULL);
    default: return false;
  }
}

bool peek_msgpack(std::string_view s, head& h) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  std::uint64_t count = 0;
  if (n == 0) return false;
  if ((p[0] & 0xf0) == 0x90) {
    count = p[0] & 0x0f;
    i = 1;
  } else if (p[0] == 0xdc && n >= 3) {
    count = (std::uint64_t{p[1]} << 8) | p[2];
    i = 3;
  } else if (p[0] == 0xdd && n >= 5) {
    count = (std::uint64_t{p[1]} << 24) | (std::uint64_t{p[2]} << 16) | (std::uint64_t{p[3]} << 8) | p[4];
    i = 5;
  } else {
    return false;
  }
  if (count == 0 || !mp_uint(p, n, i, h.type)) return false;
  if (count >= 2 && !mp_uint(p, n, i, h.a)) return true;
  if (count >= 3) mp_uint(p, n, i, h.b);
  return true;
}

// CBOR: a definite array head, then unsigned integers (major type 0) in any width.
bool cbor_head(const unsigned char* p, std::size_t n, std::size_t& i, unsigned major, std::uint64_t& out) {
  if (i >= n || (p[i] >> 5) != major) return false;
  const unsigned ai = p[i] & 0x1f;
  if (ai < 24) {
    out = ai;
    ++i;
    return true;
  }
  if (ai > 27) return false;
  const std::size_t bytes = std::size_t{1} << (ai - 24);
  if (i + 1 + bytes > n) return false;
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < bytes; ++k) v = (v << 8) | p[i + 1 + k];
  out = v;
  i += 1 + bytes;
  return true;
}

bool peek_cbor(std::string_view s, head& h) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  std::uint64_t count = 0;
  if (!cbor_head(p, n, i, 4, count) || count == 0 || !cbor_head(p, n, i, 0, h.type)) return false;
  if (count >= 2 && !cbor_head(p, n, i, 0, h.a)) return true;
  if (count >= 3) cbor_head(p, n, i, 0, h.b);
  return true;
}

}  // namespace

bool peek_head(serializer kind, std::string_view frame, head& out) noexcept {
  out = head{};
  switch (kind) {
    case serializer::json: return peek_json(frame, out);
    case serializer::msgpack: return peek_msgpack(frame, out);
    case serializer::cbor: return peek_cbor(frame, out);
  }
  return false;
}

std::string describe(const junction::codec& c, std::string_view frame) {
  auto v = c.decode_value(frame);
  std::string text = v ? junction::to_debug_string(*v) : "undecodable frame (" + v.error().message + ")";
  if (text.size() > 300) text = text.substr(0, 300) + "…";
  return text;
}

}  // namespace bench
