// auth/throttle.hpp — slows down guessing over the network. Failed authentications are counted
// per peer address (its IP, without the port): after `failures` within `window`, HELLOs that ask
// for a method other than anonymous from that address are refused for `lockout`, and each further
// lockout of the same address doubles it, up to `max_lockout`. A success forgets the address. The
// table is bounded (`max_addresses`: when full, the oldest entry goes). The clock is the caller's.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/config.hpp"

namespace junction::auth {

class throttle {
 public:
  using clock = std::chrono::steady_clock;

  explicit throttle(throttle_config config = {}) : config_(config) {}
  void reconfigure(const throttle_config& config) { config_ = config; }

  // How long `address` is still locked out (zero: it may try).
  [[nodiscard]] std::chrono::milliseconds locked(std::string_view address, clock::time_point now) const;
  // A failed attempt; returns the lockout it started (zero if none).
  std::chrono::milliseconds failure(std::string_view address, clock::time_point now);
  void success(std::string_view address);
  [[nodiscard]] std::size_t tracked() const noexcept { return entries_.size(); }

  // "127.0.0.1:51234" → "127.0.0.1"; "[::1]:5" and "::1:5" → "::1"; anything else unchanged.
  [[nodiscard]] static std::string address_of(std::string_view peer);

 private:
  struct entry {
    std::uint32_t failures = 0;
    clock::time_point window_start{};
    clock::time_point locked_until{};
    std::chrono::milliseconds last_lockout{0};
    std::list<std::string>::iterator age;  // its place in order_
  };
  throttle_config config_;
  std::unordered_map<std::string, entry> entries_;
  std::list<std::string> order_;  // oldest first
};

}  // namespace junction::auth
