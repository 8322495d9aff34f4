// Unit tests for the RawSocket codec (router/transport/rawsocket.hpp): handshake requests and replies byte
// for byte, the LENGTH exponent at its edges, frame headers, and the streaming frame reader fed
// whole, in pieces and byte by byte, including the streams it must refuse.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "router/transport/rawsocket.hpp"

using namespace junction;
using namespace junction::rawsocket;

namespace {

using octets = std::array<std::uint8_t, 4>;

constexpr std::size_t mib16 = std::size_t{1} << 24;

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(static_cast<char>(b));
  return s;
}

std::string frame(frame_type t, std::string_view payload) {
  std::string out;
  append_frame(out, t, payload);
  return out;
}

struct seen {
  frame_type type;
  std::string payload;
  bool operator==(const seen& o) const { return type == o.type && payload == o.payload; }
};

// A reader and what its sink has received.
struct reading {
  explicit reading(std::size_t max) : reader(max) {}
  frame_reader reader;
  std::vector<seen> frames;
  // Views into the caller's input (true) or into the reader's buffer (false), per frame.
  std::vector<bool> from_input;

  std::optional<std::string> feed(std::string_view in) {
    return reader.feed(in, [&](frame_type t, std::string_view payload) {
      frames.push_back({t, std::string(payload)});
      from_input.push_back(payload.empty() ||
                           (payload.data() >= in.data() && payload.data() < in.data() + in.size()));
    });
  }
  std::optional<std::string> feed_bytewise(std::string_view in) {
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (auto e = feed(in.substr(i, 1))) return e;
    }
    return std::nullopt;
  }
};

}  // namespace

// ---- handshake --------------------------------------------------------------------------------

TEST_CASE("rawsocket: length_for and exponent_for at the edges") {
  CHECK(length_for(0) == 512);
  CHECK(length_for(1) == 1024);
  CHECK(length_for(14) == (std::size_t{1} << 23));
  CHECK(length_for(15) == mib16);

  CHECK(exponent_for(0) == 0);
  CHECK(exponent_for(1) == 0);
  CHECK(exponent_for(511) == 0);
  CHECK(exponent_for(512) == 0);
  CHECK(exponent_for(513) == 0);
  CHECK(exponent_for(1023) == 0);
  CHECK(exponent_for(1024) == 1);
  CHECK(exponent_for(1025) == 1);
  CHECK(exponent_for(2047) == 1);
  CHECK(exponent_for(2048) == 2);
  CHECK(exponent_for(65536) == 7);
  CHECK(exponent_for(mib16 - 1) == 14);
  CHECK(exponent_for(mib16) == 15);
  CHECK(exponent_for(mib16 + 1) == 15);
  CHECK(exponent_for(64 * 1024 * 1024) == 15);
  CHECK(exponent_for(static_cast<std::size_t>(-1)) == 15);
  // Round trip: every exponent is the exponent of its own length.
  for (std::uint32_t e = 0; e <= 15; ++e) CHECK(exponent_for(length_for(e)) == e);
}

TEST_CASE("rawsocket: handshake_reply advertises the router's limit and echoes the serializer") {
  CHECK(handshake_reply(serializer::json, 512) == octets{0x7F, 0x01, 0, 0});
  CHECK(handshake_reply(serializer::json, 513) == octets{0x7F, 0x01, 0, 0});
  CHECK(handshake_reply(serializer::json, 1023) == octets{0x7F, 0x01, 0, 0});
  CHECK(handshake_reply(serializer::json, 1024) == octets{0x7F, 0x11, 0, 0});
  CHECK(handshake_reply(serializer::json, mib16) == octets{0x7F, 0xF1, 0, 0});
  CHECK(handshake_reply(serializer::json, mib16 + 1) == octets{0x7F, 0xF1, 0, 0});
  CHECK(handshake_reply(serializer::json, 64 * 1024 * 1024) == octets{0x7F, 0xF1, 0, 0});
  // Below 512 the wire cannot say less than 512; the caller enforces its own limit.
  CHECK(handshake_reply(serializer::json, 100) == octets{0x7F, 0x01, 0, 0});
  CHECK(handshake_reply(serializer::json, 0) == octets{0x7F, 0x01, 0, 0});

  CHECK(handshake_reply(serializer::msgpack, 512) == octets{0x7F, 0x02, 0, 0});
  CHECK(handshake_reply(serializer::msgpack, 65536) == octets{0x7F, 0x72, 0, 0});
  CHECK(handshake_reply(serializer::msgpack, mib16) == octets{0x7F, 0xF2, 0, 0});
  CHECK(handshake_reply(serializer::cbor, mib16) == octets{0x7F, 0xF3, 0, 0});
}

TEST_CASE("rawsocket: every handshake error reply, byte for byte") {
  CHECK(handshake_error_reply(handshake_error::illegal) == octets{0x7F, 0x00, 0, 0});
  CHECK(handshake_error_reply(handshake_error::serializer_unsupported) == octets{0x7F, 0x10, 0, 0});
  CHECK(handshake_error_reply(handshake_error::max_length_unacceptable) ==
        octets{0x7F, 0x20, 0, 0});
  CHECK(handshake_error_reply(handshake_error::reserved_bits_used) == octets{0x7F, 0x30, 0, 0});
  CHECK(handshake_error_reply(handshake_error::max_connections) == octets{0x7F, 0x40, 0, 0});
  CHECK(describe(handshake_error::max_connections) == "maximum connection count reached");
  CHECK(describe(handshake_error::serializer_unsupported) == "serializer unsupported");
}

TEST_CASE("rawsocket: parse_handshake accepts JSON, MessagePack and CBOR with every LENGTH") {
  for (std::uint8_t l = 0; l <= 15; ++l) {
    for (std::uint8_t s = 1; s <= 3; ++s) {
      CAPTURE(int(l));
      CAPTURE(int(s));
      std::optional<handshake_error> reply = handshake_error::max_connections;  // must be reset
      const auto hello = parse_handshake(octets{0x7F, std::uint8_t(l << 4 | s), 0, 0}, reply);
      REQUIRE(hello.ok());
      CHECK(hello->ser == (s == 1 ? serializer::json : s == 2 ? serializer::msgpack : serializer::cbor));
      CHECK(hello->max_length == (std::uint32_t{1} << (9 + l)));
      CHECK_FALSE(reply.has_value());
    }
  }
  std::optional<handshake_error> reply;
  auto h = parse_handshake(octets{0x7F, 0xF1, 0, 0}, reply);
  REQUIRE(h.ok());
  CHECK(h->max_length == 16777216u);
  h = parse_handshake(octets{0x7F, 0x02, 0, 0}, reply);
  REQUIRE(h.ok());
  CHECK(h->ser == serializer::msgpack);
  CHECK(h->max_length == 512u);
}

TEST_CASE("rawsocket: parse_handshake of a non-RawSocket first octet: close without a reply") {
  for (std::uint8_t first : {0x00, 0x47 /* 'G' of GET */, 0x7E, 0x80, 0xFF}) {
    CAPTURE(int(first));
    std::optional<handshake_error> reply = handshake_error::max_connections;
    const auto h = parse_handshake(octets{first, 0x11, 0, 0}, reply);
    REQUIRE_FALSE(h.ok());
    CHECK_FALSE(reply.has_value());
    CHECK(h.error().message.find("not a RawSocket handshake") != std::string::npos);
  }
  std::optional<handshake_error> reply;
  const auto h = parse_handshake(octets{'G', 'E', 'T', ' '}, reply);
  REQUIRE_FALSE(h.ok());
  CHECK_FALSE(reply.has_value());
  CHECK(h.error().message == "not a RawSocket handshake: first octet is 0x47, not 0x7F");
}

TEST_CASE("rawsocket: parse_handshake refuses serializers other than JSON, MessagePack and CBOR") {
  for (std::uint8_t s : {0, 4, 5, 6, 15}) {
    for (std::uint8_t l : {0, 15}) {
      CAPTURE(int(s));
      CAPTURE(int(l));
      std::optional<handshake_error> reply;
      const auto h = parse_handshake(octets{0x7F, std::uint8_t(l << 4 | s), 0, 0}, reply);
      REQUIRE_FALSE(h.ok());
      REQUIRE(reply.has_value());
      CHECK(*reply == handshake_error::serializer_unsupported);
      CHECK(h.error().message.find("serializer " + std::to_string(s)) != std::string::npos);
    }
  }
  std::optional<handshake_error> reply;
  auto h = parse_handshake(octets{0x7F, 0x04, 0, 0}, reply);
  CHECK(h.error().message ==
        "RawSocket handshake asks for serializer 4 (UBJSON); Junction speaks 1 (JSON), 2 "
        "(MessagePack) and 3 (CBOR)");
  h = parse_handshake(octets{0x7F, 0x10, 0, 0}, reply);
  CHECK(h.error().message.find("serializer 0 (illegal)") != std::string::npos);
}

TEST_CASE("rawsocket: parse_handshake refuses non-zero reserved octets") {
  for (octets req : {octets{0x7F, 0x11, 0x01, 0x00}, octets{0x7F, 0x11, 0x00, 0x01},
                     octets{0x7F, 0x21, 0x80, 0x00}, octets{0x7F, 0xF2, 0xFF, 0xFF}}) {
    CAPTURE(int(req[2]));
    CAPTURE(int(req[3]));
    std::optional<handshake_error> reply;
    const auto h = parse_handshake(req, reply);
    REQUIRE_FALSE(h.ok());
    REQUIRE(reply.has_value());
    CHECK(*reply == handshake_error::reserved_bits_used);
    CHECK(h.error().message.find("reserved") != std::string::npos);
  }
  // Reserved octets are checked before the serializer: a request using a feature we do not know
  // may mean something else by its other bits.
  std::optional<handshake_error> reply;
  const auto h = parse_handshake(octets{0x7F, 0x13, 0x00, 0x01}, reply);
  REQUIRE_FALSE(h.ok());
  REQUIRE(reply.has_value());
  CHECK(*reply == handshake_error::reserved_bits_used);
}

TEST_CASE("rawsocket: a handshake_reply parses back as the hello it describes") {
  std::optional<handshake_error> reply;
  const auto h = parse_handshake(handshake_reply(serializer::msgpack, 1u << 20), reply);
  REQUIRE(h.ok());
  CHECK(h->ser == serializer::msgpack);
  CHECK(h->max_length == (1u << 20));
}

// ---- frame headers ----------------------------------------------------------------------------

TEST_CASE("rawsocket: frame_header bytes for each type and the length edges") {
  CHECK(frame_header(frame_type::message, 0) == octets{0x00, 0, 0, 0});
  CHECK(frame_header(frame_type::ping, 0) == octets{0x01, 0, 0, 0});
  CHECK(frame_header(frame_type::pong, 0) == octets{0x02, 0, 0, 0});
  CHECK(frame_header(frame_type::message, 1) == octets{0x00, 0x00, 0x00, 0x01});
  CHECK(frame_header(frame_type::message, 255) == octets{0x00, 0x00, 0x00, 0xFF});
  CHECK(frame_header(frame_type::message, 256) == octets{0x00, 0x00, 0x01, 0x00});
  CHECK(frame_header(frame_type::ping, 256) == octets{0x01, 0x00, 0x01, 0x00});
  CHECK(frame_header(frame_type::message, 65536) == octets{0x00, 0x01, 0x00, 0x00});
  CHECK(frame_header(frame_type::pong, 65536) == octets{0x02, 0x01, 0x00, 0x00});
  CHECK(frame_header(frame_type::message, 0x123456) == octets{0x00, 0x12, 0x34, 0x56});
  CHECK(frame_header(frame_type::message, mib16 - 1) == octets{0x00, 0xFF, 0xFF, 0xFF});
  CHECK(frame_header(frame_type::pong, mib16 - 1) == octets{0x02, 0xFF, 0xFF, 0xFF});
  // Exactly 16 MiB: the X bit, the 24 length bits zero (spec §Framing).
  CHECK(frame_header(frame_type::message, mib16) == octets{0x08, 0x00, 0x00, 0x00});
  CHECK(frame_header(frame_type::ping, mib16) == octets{0x09, 0x00, 0x00, 0x00});
}

TEST_CASE("rawsocket: append_frame writes header then payload, after what is already there") {
  std::string out = "x";
  append_frame(out, frame_type::message, "[1]");
  CHECK(out == bytes({'x', 0x00, 0x00, 0x00, 0x03, '[', '1', ']'}));
  append_frame(out, frame_type::pong, "");
  CHECK(out == bytes({'x', 0x00, 0x00, 0x00, 0x03, '[', '1', ']', 0x02, 0, 0, 0}));
}

TEST_CASE("rawsocket: parse_frame_header round trip and refusals") {
  for (auto t : {frame_type::message, frame_type::ping, frame_type::pong}) {
    for (std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{255}, std::size_t{256},
                            std::size_t{65536}, mib16 - 1, mib16}) {
      CAPTURE(len);
      const auto info = parse_frame_header(frame_header(t, len), mib16);
      REQUIRE(info.ok());
      CHECK(info->type == t);
      CHECK(info->length == len);
    }
  }
  CHECK(parse_frame_header(octets{0x00, 0x00, 0x04, 0x00}, 1024).ok());
  CHECK(parse_frame_header(octets{0x00, 0x00, 0x04, 0x01}, 1024).error().message ==
        "RawSocket frame of 1025 bytes exceeds the negotiated maximum of 1024");
  CHECK(parse_frame_header(octets{0x08, 0x00, 0x00, 0x00}, mib16 - 1).error().message ==
        "RawSocket frame of 16777216 bytes exceeds the negotiated maximum of 16777215");
  CHECK(parse_frame_header(octets{0x05, 0x00, 0x00, 0x00}, 1024).error().message ==
        "RawSocket frame uses reserved type 5");
  for (std::uint8_t t = 3; t <= 7; ++t) {
    CHECK(parse_frame_header(octets{t, 0, 0, 1}, 1024).error().message ==
          "RawSocket frame uses reserved type " + std::to_string(t));
  }
  for (std::uint8_t first : {0x10, 0x20, 0x40, 0x80, 0xF0, 0x90}) {
    CAPTURE(int(first));
    const auto info = parse_frame_header(octets{first, 0, 0, 1}, 1024);
    REQUIRE_FALSE(info.ok());
    CHECK(info.error().message.find("reserved bits set in RawSocket frame header") == 0);
  }
  // The X bit with any of the 24 length bits set is not a length.
  const auto bad_x = parse_frame_header(octets{0x08, 0x00, 0x00, 0x01}, mib16);
  REQUIRE_FALSE(bad_x.ok());
  CHECK(bad_x.error().message.find("16 MiB length bit") != std::string::npos);
}

// ---- frame_reader -----------------------------------------------------------------------------

TEST_CASE("rawsocket: frame_reader delivers one whole frame as a view into the input") {
  reading r(1024);
  const std::string in = frame(frame_type::message, R"([1,"realm1",{}])");
  CHECK_FALSE(r.feed(in).has_value());
  REQUIRE(r.frames.size() == 1);
  CHECK(r.frames[0] == seen{frame_type::message, R"([1,"realm1",{}])"});
  CHECK(r.from_input[0]);
  CHECK(r.reader.buffered() == 0);
}

TEST_CASE("rawsocket: frame_reader delivers several frames of one feed in order") {
  reading r(1024);
  const std::string in = frame(frame_type::message, "first") + frame(frame_type::ping, "hb") +
                         frame(frame_type::message, "") + frame(frame_type::pong, "hb") +
                         frame(frame_type::message, "last");
  CHECK_FALSE(r.feed(in).has_value());
  const std::vector<seen> want{{frame_type::message, "first"},
                               {frame_type::ping, "hb"},
                               {frame_type::message, ""},
                               {frame_type::pong, "hb"},
                               {frame_type::message, "last"}};
  CHECK(r.frames == want);
  for (bool v : r.from_input) CHECK(v);
  CHECK(r.reader.buffered() == 0);
}

TEST_CASE("rawsocket: frame_reader fed byte by byte") {
  reading r(1024);
  const std::string payload(300, 'p');  // a length with two non-zero octets
  const std::string in = frame(frame_type::message, "abc") + frame(frame_type::ping, "") +
                         frame(frame_type::message, payload) + frame(frame_type::pong, "z");
  CHECK_FALSE(r.feed_bytewise(in).has_value());
  const std::vector<seen> want{{frame_type::message, "abc"},
                               {frame_type::ping, ""},
                               {frame_type::message, payload},
                               {frame_type::pong, "z"}};
  CHECK(r.frames == want);
  CHECK(r.reader.buffered() == 0);
}

TEST_CASE("rawsocket: frame_reader at every split point of a two-frame stream") {
  const std::string in = frame(frame_type::message, "hello") + frame(frame_type::ping, "xy");
  const std::vector<seen> want{{frame_type::message, "hello"}, {frame_type::ping, "xy"}};
  for (std::size_t cut = 0; cut <= in.size(); ++cut) {
    CAPTURE(cut);
    reading r(1024);
    CHECK_FALSE(r.feed(std::string_view(in).substr(0, cut)).has_value());
    CHECK_FALSE(r.feed(std::string_view(in).substr(cut)).has_value());
    CHECK(r.frames == want);
    CHECK(r.reader.buffered() == 0);
  }
}

TEST_CASE("rawsocket: frame_reader with a header split across feeds") {
  reading r(1024);
  const std::string in = frame(frame_type::message, "[6,{},\"x\"]");
  CHECK_FALSE(r.feed(std::string_view(in).substr(0, 1)).has_value());
  CHECK(r.reader.buffered() == 1);
  CHECK_FALSE(r.feed(std::string_view(in).substr(1, 2)).has_value());
  CHECK(r.reader.buffered() == 3);
  CHECK(r.frames.empty());
  // The rest of the header and the whole payload arrive together: the payload is not copied.
  CHECK_FALSE(r.feed(std::string_view(in).substr(3)).has_value());
  REQUIRE(r.frames.size() == 1);
  CHECK(r.frames[0] == seen{frame_type::message, "[6,{},\"x\"]"});
  CHECK(r.from_input[0]);
}

TEST_CASE("rawsocket: frame_reader buffers a split payload, and only the frame's own octets") {
  reading r(1024);
  const std::string in = frame(frame_type::message, "0123456789") + frame(frame_type::pong, "ab");
  CHECK_FALSE(r.feed(std::string_view(in).substr(0, 7)).has_value());  // header + "012"
  CHECK(r.frames.empty());
  CHECK(r.reader.buffered() == 7);
  CHECK_FALSE(r.feed(std::string_view(in).substr(7)).has_value());
  const std::vector<seen> want{{frame_type::message, "0123456789"}, {frame_type::pong, "ab"}};
  CHECK(r.frames == want);
  CHECK_FALSE(r.from_input[0]);  // assembled in the reader's buffer
  CHECK(r.from_input[1]);        // the next frame is again a view into the input
  CHECK(r.reader.buffered() == 0);
}

TEST_CASE("rawsocket: frame_reader delivers zero-length frames, alone and at a feed's end") {
  reading r(1024);
  CHECK_FALSE(r.feed(frame(frame_type::message, "")).has_value());
  CHECK_FALSE(r.feed(frame(frame_type::ping, "")).has_value());
  CHECK_FALSE(r.feed(frame(frame_type::pong, "")).has_value());
  const std::vector<seen> want{
      {frame_type::message, ""}, {frame_type::ping, ""}, {frame_type::pong, ""}};
  CHECK(r.frames == want);
  // An empty feed is harmless.
  CHECK_FALSE(r.feed("").has_value());
  CHECK(r.frames.size() == 3);
}

TEST_CASE("rawsocket: frame_reader accepts a frame of exactly max_length") {
  reading r(600);
  const std::string payload(600, 'm');
  CHECK_FALSE(r.feed(frame(frame_type::message, payload)).has_value());
  REQUIRE(r.frames.size() == 1);
  CHECK(r.frames[0].payload == payload);
}

TEST_CASE("rawsocket: frame_reader refuses an oversized frame from its header alone") {
  reading r(1024);
  // Only the header: no payload octet has been fed.
  const auto e = r.feed(bytes({0x00, 0x00, 0x04, 0x01}));
  REQUIRE(e.has_value());
  CHECK(*e == "RawSocket frame of 1025 bytes exceeds the negotiated maximum of 1024");
  CHECK(r.reader.failed());
  CHECK(r.frames.empty());
  CHECK(r.reader.buffered() == 0);

  // The largest header there is, against the 16 MiB ceiling minus one, split in two feeds.
  reading big(mib16 - 1);
  CHECK_FALSE(big.feed(bytes({0x08, 0x00})).has_value());
  const auto e2 = big.feed(bytes({0x00, 0x00}));
  REQUIRE(e2.has_value());
  CHECK(*e2 == "RawSocket frame of 16777216 bytes exceeds the negotiated maximum of 16777215");

  // The frame before the oversized one in the same feed is still delivered.
  reading mixed(16);
  const auto e3 = mixed.feed(frame(frame_type::message, "ok") + bytes({0x00, 0x00, 0x00, 17}));
  REQUIRE(e3.has_value());
  CHECK(*e3 == "RawSocket frame of 17 bytes exceeds the negotiated maximum of 16");
  REQUIRE(mixed.frames.size() == 1);
  CHECK(mixed.frames[0] == seen{frame_type::message, "ok"});
}

TEST_CASE("rawsocket: frame_reader refuses reserved types and reserved bits") {
  for (int t = 3; t <= 7; ++t) {
    CAPTURE(t);
    reading r(1024);
    const auto e = r.feed(bytes({t, 0x00, 0x00, 0x02, 'h', 'i'}));
    REQUIRE(e.has_value());
    CHECK(*e == "RawSocket frame uses reserved type " + std::to_string(t));
    CHECK(r.frames.empty());
  }
  for (int first : {0x10, 0x20, 0x40, 0x80, 0xF1}) {
    CAPTURE(first);
    reading r(1024);
    const auto e = r.feed(bytes({first, 0x00, 0x00, 0x02, 'h', 'i'}));
    REQUIRE(e.has_value());
    CHECK(e->find("reserved bits set in RawSocket frame header") == 0);
    CHECK(r.frames.empty());
  }
}

TEST_CASE("rawsocket: frame_reader failure is sticky") {
  reading r(1024);
  const auto first = r.feed(bytes({0x03, 0x00, 0x00, 0x00}));
  REQUIRE(first.has_value());
  CHECK(r.reader.failed());
  // A perfectly valid frame afterwards is not delivered, and the same error comes back.
  const auto again = r.feed(frame(frame_type::message, "[1]"));
  REQUIRE(again.has_value());
  CHECK(*again == *first);
  const auto empty = r.feed("");
  REQUIRE(empty.has_value());
  CHECK(*empty == *first);
  CHECK(r.frames.empty());
}

TEST_CASE("rawsocket: a truncated frame produces no callback") {
  reading r(1024);
  const std::string in = frame(frame_type::message, "complete") + frame(frame_type::message, "cut");
  CHECK_FALSE(r.feed(std::string_view(in).substr(0, in.size() - 1)).has_value());
  REQUIRE(r.frames.size() == 1);
  CHECK(r.frames[0].payload == "complete");
  CHECK(r.reader.buffered() == 4 + 2);
  CHECK_FALSE(r.reader.failed());

  reading header_only(1024);
  CHECK_FALSE(header_only.feed(bytes({0x00, 0x00, 0x00})).has_value());
  CHECK(header_only.frames.empty());
  CHECK(header_only.reader.buffered() == 3);

  reading no_payload(1024);
  CHECK_FALSE(no_payload.feed(bytes({0x00, 0x00, 0x00, 0x05})).has_value());
  CHECK(no_payload.frames.empty());
  CHECK(no_payload.reader.buffered() == 4);
}

TEST_CASE("rawsocket: frame_reader reassembles a large frame fed in uneven pieces") {
  reading r(100000);
  std::string payload(70000, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31 + 7);
  const std::string in = frame(frame_type::message, payload) + frame(frame_type::ping, "t");
  std::size_t at = 0;
  std::size_t step = 1;
  while (at < in.size()) {
    const std::size_t n = std::min(step, in.size() - at);
    REQUIRE_FALSE(r.feed(std::string_view(in).substr(at, n)).has_value());
    at += n;
    step = step * 3 + 1;
  }
  const std::vector<seen> want{{frame_type::message, payload}, {frame_type::ping, "t"}};
  CHECK(r.frames == want);
  CHECK(r.reader.buffered() == 0);
}
