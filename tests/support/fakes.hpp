// tests/support/fakes.hpp — fake sessions and transports for socket-free tests.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "realm/peer.hpp"
#include "realm/replies.hpp"
#include "realm/timer_queue.hpp"
#include "support/loop_fakes.hpp"
#include "router/router.hpp"
#include "router/transport/transport.hpp"
#include "serializers/codec.hpp"

namespace junction::test {

// A session as the realm sees it: records every message sent to it. `on_send`, when set, runs
// after each message is recorded, inside the realm's send — where a real transport that gives up
// on its connection makes the session leave (tests/unit/test_reentrancy.cpp).
struct fake_peer final : peer {
  std::vector<message> inbox;
  std::vector<std::shared_ptr<const shared_message>> shared;  // fan-out deliveries
  std::function<void(const message&)> on_send;
  // The largest message (JSON-encoded) its "connection" accepts; 0: any. A larger one is treated
  // as the router's session treats it (realm/peer.hpp: delivery).
  std::size_t max_bytes = 0;
  // A congested connection in a drop-events realm: fan-out EVENTs are dropped (router/session.cpp).
  bool dropping_events = false;

  delivery send(message&& m) override {
    if (too_big(m)) {
      auto small = instead_of_too_big(m);
      if (!small) return delivery::too_big;
      inbox.emplace_back(std::move(*small));
      if (on_send) on_send(inbox.back());
      return delivery::replaced;
    }
    inbox.push_back(std::move(m));
    if (on_send) on_send(inbox.back());
    return delivery::sent;
  }
  delivery send(const std::shared_ptr<const shared_message>& m) override {
    if (too_big(m->get())) return delivery::too_big;
    if (dropping_events) return delivery::dropped;
    shared.push_back(m);
    inbox.push_back(m->get());
    if (on_send) on_send(inbox.back());
    return delivery::sent;
  }
  bool too_big(const message& m) const {
    if (max_bytes == 0) return false;
    std::string bytes;
    json_codec().encode(m, bytes);
    return bytes.size() > max_bytes;
  }
  // A killed session is told GOODBYE, as the router's session does.
  void kill(const std::string& reason, const std::string& message) override {
    goodbye g;
    g.details.push_back("message", value(message));
    g.reason = reason;
    inbox.push_back(std::move(g));
    killed = true;
  }
  bool killed = false;

  template <class T>
  const T& last() const {
    REQUIRE_FALSE(inbox.empty());
    REQUIRE(std::holds_alternative<T>(inbox.back()));
    return std::get<T>(inbox.back());
  }
  template <class T>
  T take() {
    REQUIRE_FALSE(inbox.empty());
    REQUIRE(std::holds_alternative<T>(inbox.front()));
    T m = std::move(std::get<T>(inbox.front()));
    inbox.erase(inbox.begin());
    return m;
  }
};

// The router's executor as a queue the test drains: what the server would run later on the loop
// (post) or on its worker (offload) runs when the test says so.

// A connection as a session sees it: records frames (decoded back with the same codec).
struct fake_transport final : transport {
  explicit fake_transport(const codec& c) : wire(c) {}
  const codec& wire;
  std::vector<message> sent;
  bool closed = false;
  std::string close_reason;

  // The largest frame the "client" accepts; 0: any.
  std::size_t max_bytes = 0;
  bool send_frame(std::string_view bytes) override {
    if (max_bytes != 0 && bytes.size() > max_bytes) return false;
    auto m = wire.decode(bytes);
    REQUIRE_MESSAGE(m.ok(), "router sent an undecodable frame");
    sent.push_back(std::move(*m));
    return true;
  }
  void close(std::string_view reason) override {
    closed = true;
    close_reason = std::string(reason);
  }
  [[nodiscard]] std::string_view remote() const noexcept override { return "test"; }
  [[nodiscard]] std::string_view kind() const noexcept override { return "in-process"; }
  [[nodiscard]] std::string_view protocol() const noexcept override { return wire.subprotocol(); }
  auth_slots* authenticating() noexcept override { return slots; }
  auth_slots* slots = nullptr;  // the listener's, when a test gives one
  [[nodiscard]] bool fits(std::size_t bytes) const noexcept override { return max_bytes == 0 || bytes <= max_bytes; }
  bool is_congested = false;    // the client reads too slowly (flow control)
  [[nodiscard]] bool congested() const noexcept override { return is_congested; }
  [[nodiscard]] bool backlogged() const noexcept override { return is_congested; }

  template <class T>
  T take() {
    REQUIRE_FALSE(sent.empty());
    REQUIRE_MESSAGE(std::holds_alternative<T>(sent.front()),
                    "unexpected message type " << int(type_of(sent.front())));
    T m = std::move(std::get<T>(sent.front()));
    sent.erase(sent.begin());
    return m;
  }
};

}  // namespace junction::test
