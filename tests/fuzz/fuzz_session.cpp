// Fuzz target: sessions through the router core (router/session.cpp, realm/, auth/) without
// sockets — HELLO/CHALLENGE/AUTHENTICATE sequences against every authentication method's step
// machine, then whatever the input sends once joined (calls, registrations, publications, the
// meta API, GOODBYE and a second HELLO), next to a well-behaved session that registers a
// procedure and subscribes to a topic.
//
// Input: lines (split at '\n'); each line is one WAMP message in JSON, or, if it starts with '#',
// a command: "#t" moves the clock 1 s (timeouts), "#d" drains the executor (off-loop work,
// dynamic answers), "#c" closes the transport. After the input: the clock runs out and the
// session closes. Crashes, sanitizer reports and aborts are what is looked for; the session must
// also never send a frame its own codec cannot decode.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "router/ops/config_file.hpp"
#include "router/ops/log.hpp"
#include "router/router.hpp"
#include "router/session.hpp"
#include "router/transport/transport.hpp"
#include "tests/support/loop_fakes.hpp"

using namespace junction;

namespace {

// Ticket principals in clear, WAMP-CRA, cryptosign (the spec's test key), Autobahn's SCRAM and
// the spec's WAMP-SCRAM; a realm with roles and a dynamic authorizer; an open realm.
constexpr const char* config_text = R"({
  "auth_throttle": {"failures": 1000},
  "realms": [
    {"name": "open"},
    {"name": "closed",
     "auth": {
       "anonymous": {"role": "guest"},
       "ticket": {"principals": {"joe": {"role": "user", "ticket": "letmein"}}},
       "wampcra": {"principals": {"peter": {"role": "user", "secret": "secret1"}}},
       "cryptosign": {"principals": {"dev": {"role": "user",
         "authorized_keys": ["4c6b2f8a0d5f3e1e2d4c6b8a9f7e5d3c1b2a4c6e8f0a1b3c5d7e9f1a2b4c6d8e"]}}},
       "challenge_timeout_ms": 1000},
     "roles": [
       {"name": "user", "permissions": [{"uri": "com.", "match": "prefix",
          "allow": {"call": true, "register": true, "publish": true, "subscribe": true}},
          {"uri": "wamp.", "match": "prefix", "allow": {"call": true, "subscribe": true}}]},
       {"name": "guest", "authorizer": "com.authorize", "authorizer_realm": "open"}
     ],
     "authorization": {"authorizer_timeout_ms": 500}}
  ]
})";

struct wire final : transport {
  explicit wire(const codec& c) : c(c) {}
  const codec& c;
  bool closed = false;
  bool send_frame(std::string_view bytes) override {
    if (!c.decode(bytes)) std::abort();  // the router never sends what it could not read back
    return true;
  }
  void close(std::string_view) override { closed = true; }
  [[nodiscard]] std::string_view remote() const noexcept override { return "fuzz"; }
  [[nodiscard]] std::string_view kind() const noexcept override { return "in-process"; }
  [[nodiscard]] std::string_view protocol() const noexcept override { return c.subprotocol(); }
};

router_config load() {
  const auto l = config::load_text(config_text);
  if (!l.ok()) std::abort();
  return l.settings;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const router_config settings = [] {
    set_log_level(log_level::off);
    return load();
  }();
  test::manual_timers timers;
  test::queue_executor exec;
  router r(settings, timers);
  r.set_executor(&exec);

  // The well-behaved neighbour: a callee of com.echo and a subscriber of com.topic in both realms.
  wire good_wire(json_codec());
  auto good = std::make_shared<session>(r, good_wire, json_codec());
  good->on_frame(R"([1,"open",{"roles":{"callee":{"features":{"call_canceling":true,"progressive_call_results":true}},"subscriber":{}}}])");
  good->on_frame(R"([64,1,{},"com.echo"])");
  good->on_frame(R"([64,2,{},"com.authorize"])");
  good->on_frame(R"([32,3,{},"com.topic"])");

  wire w(json_codec());
  auto s = std::make_shared<session>(r, w, json_codec());
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const std::size_t nl = input.find('\n');
    const std::string_view line = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
    if (line == "#t") {
      timers.advance(std::chrono::seconds(1));
    } else if (line == "#d") {
      exec.drain();
    } else if (line == "#c") {
      s->on_transport_closed();
      exec.drain();
      return 0;
    } else if (!w.closed) {
      s->on_frame(line);
    }
  }
  exec.drain();
  timers.advance(std::chrono::seconds(10));
  exec.drain();
  s->on_transport_closed();
  good->on_transport_closed();
  exec.drain();
  return 0;
}
