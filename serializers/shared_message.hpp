// serializers/shared_message.hpp — one outgoing message shared by many recipients (an EVENT fanned
// out to every subscriber of a subscription), encoded at most once per serializer however many
// sessions receive it (DESIGN.md §2: Beast's chat server shares one buffer).
//
// Not thread-safe: filled lazily under the core lock (docs/THREADING.md). Made with
// make_shared_message: the object and its count in one block from the per-thread block cache.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "serializers/codec.hpp"
#include "serializers/message.hpp"

namespace junction {

class shared_message {
 public:
  explicit shared_message(message m) : msg_(std::move(m)) {}

  [[nodiscard]] const message& get() const noexcept { return msg_; }

  // The encoding of the message by `c`, computed on first use and then reused. Made in a scratch
  // string of the thread's and kept in a buffer from the per-thread block cache (payload_bytes):
  // a publication allocates nothing once warm.
  [[nodiscard]] std::string_view encoded(const codec& c) const {
    payload_bytes& slot = cache_[static_cast<std::size_t>(c.kind())];
    if (slot.empty()) {  // an encoded message is never empty
      thread_local std::string scratch;
      scratch.clear();
      c.encode(msg_, scratch);
      slot.assign(scratch.data(), scratch.size());
      if (scratch.capacity() > 64 * 1024) std::string().swap(scratch);  // after a big one
      ++encode_count_;
    }
    return slot;
  }

  // How many times the message was actually encoded (tests prove fan-out encodes once).
  [[nodiscard]] std::uint32_t encode_count() const noexcept { return encode_count_; }

 private:
  message msg_;
  mutable std::array<payload_bytes, serializer_count> cache_;
  mutable std::uint32_t encode_count_ = 0;
};

inline std::shared_ptr<const shared_message> make_shared_message(message m) {
  return std::allocate_shared<const shared_message>(block_allocator<shared_message>{}, std::move(m));
}

}  // namespace junction
