#include "auth/throttle.hpp"

#include <algorithm>

namespace junction::auth {

std::string throttle::address_of(std::string_view peer) {
  if (!peer.empty() && peer.front() == '[') {
    const auto close = peer.find(']');
    return std::string(peer.substr(1, close == std::string_view::npos ? peer.size() - 1 : close - 1));
  }
  const auto colon = peer.rfind(':');
  if (colon == std::string_view::npos) return std::string(peer);
  return std::string(peer.substr(0, colon));  // IPv6 as "::1:5" loses its port the same way
}

std::chrono::milliseconds throttle::locked(std::string_view address, clock::time_point now) const {
  auto it = entries_.find(std::string(address));
  if (it == entries_.end() || it->second.locked_until <= now) return std::chrono::milliseconds{0};
  return std::chrono::duration_cast<std::chrono::milliseconds>(it->second.locked_until - now);
}

std::chrono::milliseconds throttle::failure(std::string_view address, clock::time_point now) {
  if (config_.failures == 0) return std::chrono::milliseconds{0};  // throttling off
  std::string key(address);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (!order_.empty() && entries_.size() >= config_.max_addresses) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
    it = entries_.emplace(key, entry{}).first;
    it->second.age = order_.insert(order_.end(), key);
    it->second.window_start = now;
  } else {
    order_.splice(order_.end(), order_, it->second.age);
  }
  entry& e = it->second;
  if (now - e.window_start > config_.window) {
    e.window_start = now;
    e.failures = 0;
  }
  if (++e.failures < config_.failures) return std::chrono::milliseconds{0};
  // Locked out: twice as long as last time, within the bounds.
  e.last_lockout = e.last_lockout.count() == 0 ? config_.lockout
                                               : std::min(e.last_lockout * 2, config_.max_lockout);
  e.locked_until = now + e.last_lockout;
  e.failures = 0;
  e.window_start = now;
  return e.last_lockout;
}

void throttle::success(std::string_view address) {
  auto it = entries_.find(std::string(address));
  if (it == entries_.end()) return;
  order_.erase(it->second.age);
  entries_.erase(it);
}

}  // namespace junction::auth
