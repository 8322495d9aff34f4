// tests/support/fakes.hpp — fake sessions and transports for socket-free tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "realm/peer.hpp"
#include "router/transport.hpp"
#include "serializers/codec.hpp"

namespace junction::test {

// A session as the realm sees it: records every message sent to it.
struct fake_peer final : peer {
  std::vector<message> inbox;
  std::vector<std::shared_ptr<const shared_message>> shared;  // fan-out deliveries

  void send(message&& m) override { inbox.push_back(std::move(m)); }
  void send(const std::shared_ptr<const shared_message>& m) override {
    shared.push_back(m);
    inbox.push_back(m->get());
  }

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

// A connection as a session sees it: records frames (decoded back with the same codec).
struct fake_transport final : transport {
  explicit fake_transport(const codec& c) : wire(c) {}
  const codec& wire;
  std::vector<message> sent;
  bool closed = false;
  std::string close_reason;

  void send_frame(std::string_view bytes) override {
    auto m = wire.decode(bytes);
    REQUIRE_MESSAGE(m.ok(), "router sent an undecodable frame");
    sent.push_back(std::move(*m));
  }
  void close(std::string_view reason) override {
    closed = true;
    close_reason = std::string(reason);
  }
  [[nodiscard]] std::string_view remote() const noexcept override { return "test"; }

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
