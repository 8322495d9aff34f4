// bench/wamp_frames.hpp — pre-encoded WAMP frames and cheap peeks at incoming ones.
//
// Every frame the generator sends in a measured loop is built once with the project's own codecs
// (serializers/codec.hpp) around a sentinel request id, then split into prefix + id + suffix: per
// message only the id is formatted (a few ns) instead of a full encode (~0.3–1 µs, see
// `--scenario codec`). Replies are not decoded either: a peek reads the type code and the first
// integer (the request id of RESULT/INVOCATION/…), and fan-out events carry a sequence number at
// a fixed distance from the end of the frame. Anything a peek does not expect goes through the
// full decoder, so a router that encodes differently still works, just slower for the generator.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "serializers/codec.hpp"
#include "serializers/message.hpp"

namespace bench {

// A message encoded around one integer field: frame = prefix + encode(id) + suffix.
class id_template {
 public:
  id_template() = default;
  // `m` must hold `sentinel_id` in the field to patch (it must occur once in the encoding).
  id_template(const junction::codec& c, const junction::message& m);

  // Replaces `out` with the frame for `id`.
  void build(std::string& out, std::uint64_t id) const {
    out.assign(prefix_);
    append_id(out, id);
    out.append(suffix_);
  }
  [[nodiscard]] const std::string& suffix() const noexcept { return suffix_; }

  void append_id(std::string& out, std::uint64_t id) const;

  // A value no real frame contains by accident: 2^52 + 1 (16 decimal digits; uint64 in msgpack).
  static constexpr std::uint64_t sentinel_id = 4503599627370497ULL;

 private:
  junction::serializer kind_ = junction::serializer::json;
  std::string prefix_;
  std::string suffix_;
};

// The payload the generator sends: one string of `bytes` characters, starting with '#' and a
// 12-digit sequence number (fan-out uses it to tell publications apart; RPC leaves it at 0).
// Below min_payload_bytes it is plain 'x's (fine for rpc and echo; fan-out refuses it).
inline constexpr std::size_t seq_digits = 12;
inline constexpr std::size_t min_payload_bytes = seq_digits + 1;
std::string make_payload(std::size_t bytes);
// Writes `seq` as 12 zero-padded digits at p (the character after the '#').
void write_seq(char* p, std::uint64_t seq) noexcept;
// Reads 12 digits; false when they are not digits.
bool read_seq(const char* p, std::uint64_t& seq) noexcept;

// The head of a message: [Type, A, B, ...] → type and the integers A and B (0 when absent or
// not a non-negative integer). False when the frame is not an array starting with an integer.
struct head {
  std::uint64_t type = 0;
  std::uint64_t a = 0;
  std::uint64_t b = 0;
};
bool peek_head(junction::serializer kind, std::string_view frame, head& out) noexcept;

// A short description of a frame for error messages (decoded when possible).
std::string describe(const junction::codec& c, std::string_view frame);

}  // namespace bench
