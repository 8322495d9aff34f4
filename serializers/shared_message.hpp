// serializers/shared_message.hpp — one outgoing message shared by many recipients (an EVENT fanned
// out to every subscriber of a subscription), encoded at most once per serializer however many
// sessions receive it (DESIGN.md §2: Beast's chat server shares one buffer).
//
// Not thread-safe: filled lazily on the thread that owns the realm (phase 1: the only thread).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "serializers/codec.hpp"
#include "serializers/message.hpp"

namespace junction {

class shared_message {
 public:
  explicit shared_message(message m) : msg_(std::move(m)) {}

  [[nodiscard]] const message& get() const noexcept { return msg_; }

  // The encoding of the message by `c`, computed on first use and then reused.
  [[nodiscard]] const std::string& encoded(const codec& c) const {
    std::string& slot = cache_[static_cast<std::size_t>(c.kind())];
    if (slot.empty()) {  // an encoded message is never empty
      c.encode(msg_, slot);
      ++encode_count_;
    }
    return slot;
  }

  // How many times the message was actually encoded (tests prove fan-out encodes once).
  [[nodiscard]] std::uint32_t encode_count() const noexcept { return encode_count_; }

 private:
  message msg_;
  // In place, not behind pointers: one heap block fewer per publication (the encoding's own).
  mutable std::array<std::string, serializer_count> cache_;
  mutable std::uint32_t encode_count_ = 0;
};

}  // namespace junction
