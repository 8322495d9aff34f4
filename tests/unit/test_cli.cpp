// Command-line flags → router_config (router/ops/cli.cpp), socket-free.
#include <doctest/doctest.h>

#include "router/ops/cli.hpp"

using namespace junction;
using proto = listener_config::protocol;

namespace {
cli_result parse(std::vector<std::string> args) { return parse_command_line(args); }
}  // namespace

TEST_CASE("cli: the embedded default is realm1 on a universal port, 127.0.0.1:8080") {
  const auto r = parse({});
  REQUIRE(r.error.empty());
  REQUIRE(r.config.listeners.size() == 1);
  CHECK(r.config.listeners[0].url() == "universal://127.0.0.1:8080/ws");
  CHECK(r.config.listeners[0].serves_admin());
  CHECK(r.config.listeners[0].max_message_size == 16u * 1024 * 1024);
  REQUIRE(r.config.realms.size() == 1);
  CHECK(r.config.realms[0].name == "realm1");
  CHECK_FALSE(r.config.strict_request_ids);
}

TEST_CASE("cli: --listen gives several listeners of different kinds, each with its own limit") {
  const auto r = parse({"--listen", "ws://0.0.0.0:9000/wamp", "--listen",
                        "rs://127.0.0.1:8081?max-message-size=65536", "--listen",
                        "unix:/run/junction.sock", "--listen", "rs://[::1]:0",
                        "--max-message-size", "1024"});
  REQUIRE_MESSAGE(r.error.empty(), r.error);
  REQUIRE(r.config.listeners.size() == 4);
  const auto& ws = r.config.listeners[0];
  CHECK(ws.kind == proto::websocket);
  CHECK(ws.host == "0.0.0.0");
  CHECK(ws.port == 9000);
  CHECK(ws.path == "/wamp");
  CHECK(ws.max_message_size == 1024);  // the --max-message-size default
  const auto& rs = r.config.listeners[1];
  CHECK(rs.kind == proto::rawsocket);
  CHECK(rs.port == 8081);
  CHECK(rs.max_message_size == 65536);  // its own
  const auto& ux = r.config.listeners[2];
  CHECK(ux.kind == proto::rawsocket);
  CHECK(ux.unix_path == "/run/junction.sock");
  CHECK(ux.url() == "unix:/run/junction.sock");
  CHECK(r.config.listeners[3].host == "::1");
  CHECK(r.config.listeners[3].url() == "rs://[::1]:0");
}

TEST_CASE("cli: bad listener URLs and flag mixes are refused with the reason") {
  struct row {
    std::vector<std::string> args;
    const char* says;
  };
  const row rows[] = {
      {{"--listen", "ftp://127.0.0.1:80"}, "expected ws://"},
      {{"--listen", "rs://127.0.0.1"}, "HOST:PORT"},
      {{"--listen", "rs://127.0.0.1:99999"}, "HOST:PORT"},
      {{"--listen", "unix:relative.sock"}, "absolute path"},
      {{"--listen", "rs://127.0.0.1:1?max-message-size=10"}, "max-message-size"},
      {{"--listen", "rs://127.0.0.1:1?bogus=1"}, "is not one of"},
      {{"--port", "9000", "--listen", "rs://127.0.0.1:1"}, "--listen ws://"},
      {{"--max-message-size", "63"}, "at least 64"},
  };
  for (const auto& x : rows) {
    const auto r = parse(x.args);
    CAPTURE(x.args.back());
    CHECK(r.error.find(x.says) != std::string::npos);
  }
}

TEST_CASE("cli: keepalive defaults, global flags and per-listener options") {
  using std::chrono::milliseconds;
  auto r = parse({});
  CHECK(r.config.listeners[0].keepalive.interval == milliseconds(30000));
  CHECK(r.config.listeners[0].keepalive.timeout == milliseconds(10000));
  r = parse({"--keepalive-interval", "5000", "--keepalive-timeout", "2000", "--listen",
             "rs://127.0.0.1:1?keepalive-interval=0", "--listen",
             "ws://127.0.0.1:2/ws?keepalive-timeout=700&max-message-size=4096"});
  REQUIRE_MESSAGE(r.error.empty(), r.error);
  CHECK_FALSE(r.config.listeners[0].keepalive.enabled());
  CHECK(r.config.listeners[0].keepalive.timeout == milliseconds(2000));
  CHECK(r.config.listeners[1].keepalive.interval == milliseconds(5000));
  CHECK(r.config.listeners[1].keepalive.timeout == milliseconds(700));
  CHECK(r.config.listeners[1].max_message_size == 4096);
  CHECK(parse({"--keepalive-timeout", "0"}).error.find("at least 1") != std::string::npos);
  CHECK(parse({"--keepalive-interval", "-5"}).error.find("milliseconds") != std::string::npos);
}

TEST_CASE("cli: a universal listener serves WebSocket and RawSocket on one port") {
  const auto r = parse({"--listen", "universal://127.0.0.1:8080/wamp"});
  REQUIRE_MESSAGE(r.error.empty(), r.error);
  const auto& u = r.config.listeners.at(0);
  CHECK(u.kind == proto::universal);
  CHECK(u.port == 8080);
  CHECK(u.path == "/wamp");
  CHECK(u.url() == "universal://127.0.0.1:8080/wamp");
}

TEST_CASE("cli: RawSocket PINGs are opt-in; RawSocket limits start at 512") {
  auto r = parse({"--listen", "ws://127.0.0.1:1/ws", "--listen", "rs://127.0.0.1:2", "--listen",
                  "rs://127.0.0.1:3?keepalive-interval=1000"});
  REQUIRE_MESSAGE(r.error.empty(), r.error);
  CHECK(r.config.listeners[0].keepalive.enabled());      // WebSocket pings by default
  CHECK_FALSE(r.config.listeners[1].rawsocket_pings);    // Autobahn|Python drops on PING
  CHECK(r.config.listeners[2].rawsocket_pings);          // asked for on this listener
  r = parse({"--keepalive-interval", "5000", "--listen", "rs://127.0.0.1:2"});
  CHECK(r.config.listeners[0].rawsocket_pings);          // asked for globally
  CHECK(parse({"--listen", "rs://127.0.0.1:2?max-message-size=511"}).error.find("below 512") !=
        std::string::npos);
  CHECK(parse({"--listen", "ws://127.0.0.1:2/ws?max-message-size=511"}).error.empty());
}

TEST_CASE("cli: TLS listeners need a certificate, and client verification needs a CA") {
  auto r = parse({"--listen", "wss://127.0.0.1:1/ws?cert=/c.pem&key=/k.pem", "--listen",
                  "rss://127.0.0.1:2?cert=/c.pem&key=/k.pem&ca=/ca.pem&verify-client=true"});
  REQUIRE_MESSAGE(r.error.empty(), r.error);
  CHECK(r.config.listeners[0].tls.enabled());
  CHECK(r.config.listeners[0].url() == "wss://127.0.0.1:1/ws");
  CHECK(r.config.listeners[1].kind == proto::rawsocket);
  CHECK(r.config.listeners[1].tls.require_client_cert);
  CHECK(r.config.listeners[1].url() == "rss://127.0.0.1:2");
  CHECK(parse({"--listen", "wss://127.0.0.1:1/ws"}).error.find("need ?cert") != std::string::npos);
  CHECK(parse({"--listen", "ws://127.0.0.1:1/ws?cert=/c.pem"}).error.find("cert= is for") !=
        std::string::npos);
  // A universal port takes TLS optionally.
  CHECK(parse({"--listen", "universal://127.0.0.1:1/ws?cert=/c.pem&key=/k.pem"}).error.empty());
  CHECK(parse({"--listen", "universal://127.0.0.1:1/ws?cert=/c.pem&key=/k.pem"}).config.listeners.at(0).tls.enabled());
  CHECK(parse({"--listen", "rss://127.0.0.1:1?cert=/c.pem&verify-client=true"})
            .error.find("needs ca=") != std::string::npos);
}

TEST_CASE("cli: max-connections per listener") {
  auto r = parse({"--listen", "rs://127.0.0.1:1?max-connections=100"});
  REQUIRE_MESSAGE(r.error.empty(), r.error);
  CHECK(r.config.listeners[0].max_connections == 100);
  CHECK(parse({"--listen", "rs://127.0.0.1:1"}).config.listeners[0].max_connections == 0);
  CHECK(parse({"--listen", "rs://127.0.0.1:1?max-connections=0"}).error.find("max-connections") !=
        std::string::npos);
}

TEST_CASE("cli: handshake-timeout per listener") {
  auto r = parse({"--listen", "universal://127.0.0.1:1/ws?handshake-timeout=250"});
  REQUIRE_MESSAGE(r.error.empty(), r.error);
  CHECK(r.config.listeners[0].handshake_timeout == std::chrono::milliseconds(250));
  CHECK(parse({"--listen", "rs://127.0.0.1:1"}).config.listeners[0].handshake_timeout ==
        std::chrono::seconds(10));
  for (const char* bad : {"0", "-5", "600001", "soon"})
    CHECK(parse({"--listen", std::string("ws://127.0.0.1:1/ws?handshake-timeout=") + bad})
              .error.find("handshake-timeout") != std::string::npos);
}

TEST_CASE("cli: --disclose-caller and --disclose-publisher set every realm's disclosure") {
  auto r = parse({});
  CHECK(r.config.realms.at(0).disclose_caller == disclosure::on_request);
  CHECK(r.config.realms.at(0).disclose_publisher == disclosure::on_request);
  r = parse({"--realm", "a", "--realm", "b", "--disclose-caller", "always", "--disclose-publisher",
             "never"});
  REQUIRE(r.error.empty());
  for (const auto& realm : r.config.realms) {
    CHECK(realm.disclose_caller == disclosure::always);
    CHECK(realm.disclose_publisher == disclosure::never);
  }
  CHECK(parse({"--disclose-caller", "sometimes"}).error.find("on-request, always, never") !=
        std::string::npos);
}

TEST_CASE("cli: --busy-poll takes microseconds from 0 to 10000 and defaults to 0 (block)") {
  CHECK(parse({}).config.busy_poll.count() == 0);
  CHECK(parse({"--busy-poll", "0"}).config.busy_poll.count() == 0);
  auto r = parse({"--busy-poll", "50"});
  REQUIRE(r.error.empty());
  CHECK(r.config.busy_poll.count() == 50);
  CHECK(parse({"--busy-poll", "10000"}).config.busy_poll.count() == 10000);
  for (const char* bad : {"10001", "-1", "5ms", ""}) {
    CAPTURE(bad);
    CHECK(parse({"--busy-poll", bad}).error.find("--busy-poll: '") == 0);
  }
  CHECK(parse({"--busy-poll"}).error == "--busy-poll needs a value");
}

TEST_CASE("cli: --threads takes 0 (one per CPU) to 1024 and defaults to 1") {
  CHECK(parse({}).config.threads == 1);
  auto r = parse({"--threads", "4"});
  REQUIRE(r.error.empty());
  CHECK(r.config.threads == 4);
  CHECK(parse({"--threads", "0"}).config.threads == 0);
  for (const char* bad : {"1025", "-1", "two", ""}) {
    CAPTURE(bad);
    CHECK(parse({"--threads", bad}).error.find("--threads: '") == 0);
  }
  CHECK(parse({"--threads"}).error == "--threads needs a value");
}
