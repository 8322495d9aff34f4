// The config file (router/ops/config_file.cpp): good files load with their values and defaults,
// bad ones are refused with the JSON pointer of each bad value; flags override the file.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include <rapidjson/document.h>

#include "router/ops/cli.hpp"
#include "router/ops/config_file.hpp"

using namespace junction;
using proto = listener_config::protocol;

namespace {

// The problems of a config text, as "pointer: message" lines.
std::vector<std::string> problems_of(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& p : config::load_text(text).problems) out.push_back(p.pointer + ": " + p.message);
  return out;
}

bool mentions(const std::vector<std::string>& lines, std::string_view text) {
  for (const auto& l : lines)
    if (l.find(text) != std::string::npos) return true;
  return false;
}

struct temp_file {
  std::string path;
  explicit temp_file(std::string_view text) {
    char name[] = "/tmp/junction-config-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    path = name;
    std::ofstream(path) << text;
    ::close(fd);
  }
  ~temp_file() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("config: an empty object is the embedded default") {
  const auto l = config::load_text("{}");
  REQUIRE(l.ok());
  const router_config defaults;
  REQUIRE(l.settings.listeners.size() == 1);
  CHECK(l.settings.listeners[0].url() == "universal://127.0.0.1:8080/ws");
  REQUIRE(l.settings.realms.size() == 1);
  CHECK(l.settings.realms[0].name == "realm1");
  CHECK(l.settings.busy_poll == defaults.busy_poll);
  CHECK(l.settings.drain_timeout == std::chrono::seconds(10));
}

TEST_CASE("config: every section is read") {
  const auto l = config::load_text(R"({
    "$schema": "junction.schema.json",
    "//": "comments are keys that begin with //",
    "log": {"level": "warn", "format": "json"},
    "busy_poll_us": 0,
    "strict_request_ids": true,
    "limits": {"max_outbound_bytes": 1048576},
    "shutdown": {"drain_timeout_ms": 2500},
    "admin": {"stall_threshold_ms": 500, "reload_endpoint": false},
    "listeners": [
      {"type": "ws", "host": "0.0.0.0", "port": 9000, "path": "/wamp", "admin": true,
       "max_message_size": 65536, "max_connections": 100, "handshake_timeout_ms": 2000,
       "keepalive": {"interval_ms": 1000, "timeout_ms": 500}},
      {"type": "rss", "port": 9001, "tls": {"cert": "c.pem", "key": "k.pem", "ca": "ca.pem",
       "verify_client": true}, "keepalive": {"rawsocket_pings": true}},
      {"type": "unix", "socket": "/run/j.sock", "// why": "local clients"},
      {"type": "http", "port": 9100}
    ],
    "realms": [
      {"name": "a", "uri_check": "strict", "disclose_caller": "always",
       "disclose_publisher": "never", "max_retained_events": 5, "progressive_call_memory": 7},
      {"name": "b"}
    ]
  })");
  REQUIRE_MESSAGE(l.ok(), config::format_problems("-", l.problems));
  const router_config& c = l.settings;
  CHECK(c.level == log_level::warn);
  CHECK(c.format == log_format::json);
  CHECK(c.busy_poll.count() == 0);
  CHECK(c.strict_request_ids);
  CHECK(c.max_outbound_bytes == 1048576);
  CHECK(c.drain_timeout.count() == 2500);
  CHECK(c.stall_threshold.count() == 500);
  CHECK_FALSE(c.reload_endpoint);
  REQUIRE(c.listeners.size() == 4);
  const auto& ws = c.listeners[0];
  CHECK(ws.url() == "ws://0.0.0.0:9000/wamp");
  CHECK(ws.serves_admin());
  CHECK(ws.max_message_size == 65536);
  CHECK(ws.max_connections == 100);
  CHECK(ws.handshake_timeout.count() == 2000);
  CHECK(ws.keepalive.interval.count() == 1000);
  CHECK(ws.keepalive.timeout.count() == 500);
  const auto& rss = c.listeners[1];
  CHECK(rss.url() == "rss://127.0.0.1:9001");
  CHECK(rss.tls.ca_file == "ca.pem");
  CHECK(rss.tls.require_client_cert);
  CHECK(rss.rawsocket_pings);
  CHECK_FALSE(rss.serves_admin());
  CHECK(c.listeners[2].url() == "unix:/run/j.sock");
  CHECK(c.listeners[3].kind == proto::http);
  CHECK(c.listeners[3].serves_admin());  // loopback by default
  REQUIRE(c.realms.size() == 2);
  CHECK(c.realms[0].uri_check == uri_policy::strict);
  CHECK(c.realms[0].disclose_caller == disclosure::always);
  CHECK(c.realms[0].disclose_publisher == disclosure::never);
  CHECK(c.realms[0].max_retained_events == 5);
  CHECK(c.realms[0].progressive_call_memory == 7);
  CHECK(c.realms[1].max_retained_events == 10000);
}

TEST_CASE("config: a listener on a public address serves the admin routes only when told") {
  const auto l = config::load_text(R"({"listeners": [{"type": "universal", "host": "0.0.0.0"},
                                                     {"type": "ws", "host": "10.0.0.1", "port": 1, "admin": true}]})");
  REQUIRE(l.ok());
  CHECK_FALSE(l.settings.listeners[0].serves_admin());
  CHECK(l.settings.listeners[1].serves_admin());
}

TEST_CASE("config: bad files name each problem by its JSON pointer") {
  struct row {
    const char* text;
    const char* expect;  // one line of the problems, or part of it
  };
  const row rows[] = {
      {R"({"realms": [{"name": "a"}, {"name": "b", "max_retained_events": "ten"}]})",
       R"(/realms/1/max_retained_events: expected an unsigned integer, got "ten")"},
      {R"({"realms": [{"name": "a", "max_retained_events": -1}]})",
       "/realms/0/max_retained_events: expected an unsigned integer, got -1"},
      {R"({"realms": [{"name": "a", "max_retained_events": 2.5}]})",
       "/realms/0/max_retained_events: expected an unsigned integer, got 2.5"},
      {R"({"listeners": [{"type": "ws", "prot": 1}]})",
       R"(/listeners/0/prot: unknown key (did you mean "port"?))"},
      {R"({"listeners": [{"type": "ws", "port": 70000}]})",
       "/listeners/0/port: 70000 is out of range: expected an integer from 0 to 65535"},
      {R"({"listeners": [{"type": "ftp"}]})", R"(/listeners/0/type: expected "ws", "wss")"},
      {R"({"listeners": [{"port": 1}]})", "/listeners/0/type: missing (required)"},
      {R"({"listeners": []})", "/listeners: needs at least 1 element"},
      {R"({"listeners": {"type": "ws"}})", "/listeners: expected an array, got an object"},
      {R"({"listeners": [{"type": "wss"}]})", R"(/listeners/0/tls: missing: required when type is "wss")"},
      {R"({"listeners": [{"type": "ws", "tls": {"cert": "c", "key": "k"}}]})",
       R"(/listeners/0/tls: not allowed when type is "ws")"},
      {R"({"listeners": [{"type": "wss", "tls": {"cert": "c"}}]})", "/listeners/0/tls/key: missing (required)"},
      {R"({"listeners": [{"type": "rss", "tls": {"cert": "c", "key": "k", "verify_client": true}}]})",
       "/listeners/0/tls/ca: missing: required when verify_client is true"},
      {R"({"listeners": [{"type": "unix"}]})", R"(/listeners/0/socket: missing: required when type is "unix")"},
      {R"({"listeners": [{"type": "unix", "socket": "/s", "port": 1}]})",
       R"(/listeners/0/port: not allowed when type is "unix")"},
      {R"({"listeners": [{"type": "rs", "path": "/ws"}]})", R"(/listeners/0/path: not allowed when type is "rs")"},
      {R"({"listeners": [{"type": "ws", "port": 1}, {"type": "rs", "port": 1}]})",
       "/listeners/1: listens on 127.0.0.1:1, as /listeners/0 does"},
      {R"({"listeners": [{"type": "rs", "max_message_size": 100}]})",
       "/listeners/0/max_message_size: a RawSocket limit cannot be below 512 bytes"},
      {R"({"realms": [{"name": "a"}, {"name": "a"}]})",
       R"(/realms/1/name: realm "a" is already defined at /realms/0)"},
      {R"({"realms": [{}]})", "/realms/0/name: missing (required)"},
      {R"({"realms": [{"name": ""}]})", "/realms/0/name: must not be empty"},
      {R"({"realms": [{"name": "a", "uri_check": "sloppy"}]})",
       R"(/realms/0/uri_check: expected "loose" or "strict", got "sloppy")"},
      {R"({"log": {"level": "loud"}})", R"(/log/level: expected "trace")"},
      {R"({"log": "info"})", R"(/log: expected an object, got "info")"},
      {R"({"busy_poll_us": 20000})", "/busy_poll_us: 20000 is out of range"},
      {R"({"strict_request_ids": "yes"})", R"(/strict_request_ids: expected true or false, got "yes")"},
      {R"({"a": 1, "a": 2})", "/a: duplicate key"},
      {R"({"listen": []})", R"(/listen: unknown key (did you mean "listeners"?))"},
      {R"({"zzzzzzzzzzzzzz": 1})", "/zzzzzzzzzzzzzz: unknown key; known keys here:"},
      {R"([1, 2])", ": expected a JSON object, got an array"},
      {R"({"realms": [)", ": line 1, column 13: not valid JSON"},
      {"{\n  \"log\": {}\n  \"realms\": []\n}", ": line 3, column 3: not valid JSON"},
      {R"({} {})", "not valid JSON: The document root must not be followed by other values."},
  };
  for (const auto& x : rows) {
    const auto lines = problems_of(x.text);
    const std::string text = x.text;
    CAPTURE(text);
    CAPTURE(lines.empty() ? std::string("(no problem)") : lines.front());
    CHECK(mentions(lines, x.expect));
  }
}

TEST_CASE("config: every problem of a file is reported, not just the first") {
  const auto lines = problems_of(R"({"log": {"level": 1, "format": 2}, "realms": [{"name": 3}], "bogus": 4})");
  CHECK(lines.size() == 4);
}

TEST_CASE("config: flags override the file") {
  const temp_file f(R"({"listeners": [{"type": "ws", "port": 9000, "max_message_size": 1000},
                                      {"type": "rs", "port": 9001}],
                        "realms": [{"name": "a", "disclose_caller": "always"}, {"name": "b"}],
                        "log": {"level": "warn"}, "busy_poll_us": 5})");
  SUBCASE("without flags, the file's values") {
    const auto r = parse_command_line({"--config", f.path});
    REQUIRE_MESSAGE(r.error.empty(), r.error);
    CHECK(r.config_file == f.path);
    CHECK(r.config.listeners.size() == 2);
    CHECK(r.config.level == log_level::warn);
    CHECK(r.config.busy_poll.count() == 5);
    CHECK(r.config.realms[0].disclose_caller == disclosure::always);
  }
  SUBCASE("options win over the file's values") {
    const auto r = parse_command_line({"--config", f.path, "--log-level", "debug", "--busy-poll",
                                       "0", "--max-message-size", "4096", "--disclose-caller",
                                       "never", "--port", "7000"});
    REQUIRE_MESSAGE(r.error.empty(), r.error);
    CHECK(r.config.level == log_level::debug);
    CHECK(r.config.busy_poll.count() == 0);
    REQUIRE(r.config.listeners.size() == 2);
    CHECK(r.config.listeners[0].port == 7000);  // --port: the first listener's
    CHECK(r.config.listeners[0].max_message_size == 4096);
    CHECK(r.config.listeners[1].max_message_size == 4096);
    CHECK(r.config.realms[0].disclose_caller == disclosure::never);
    CHECK(r.config.realms[1].disclose_caller == disclosure::never);
    CHECK(r.flags.size() == 10);  // kept for reloads
  }
  SUBCASE("--listen and --realm replace the file's lists") {
    const auto r = parse_command_line({"--config", f.path, "--listen", "unix:/tmp/x.sock", "--realm", "c"});
    REQUIRE_MESSAGE(r.error.empty(), r.error);
    REQUIRE(r.config.listeners.size() == 1);
    CHECK(r.config.listeners[0].url() == "unix:/tmp/x.sock");
    REQUIRE(r.config.realms.size() == 1);
    CHECK(r.config.realms[0].name == "c");
  }
  SUBCASE("a flag that makes the settings inconsistent is refused") {
    const auto r = parse_command_line({"--config", f.path, "--port", "9001"});
    CHECK(r.error.find("/listeners/1: listens on 127.0.0.1:9001, as /listeners/0 does") != std::string::npos);
  }
}

TEST_CASE("config: a file that is refused names itself and every problem") {
  const temp_file f(R"({"realms": [{"name": "a", "max_retained_events": "ten"}], "bogus": 1})");
  const auto r = parse_command_line({"--config", f.path});
  CHECK(r.error.find(f.path + ": /realms/0/max_retained_events: expected an unsigned integer, got \"ten\"\n") !=
        std::string::npos);
  CHECK(r.error.find(f.path + ": /bogus: unknown key") != std::string::npos);
  CHECK(parse_command_line({"--config", "/nonexistent/junction.json"}).error.find("cannot read") !=
        std::string::npos);
  CHECK(parse_command_line({"--check-config", f.path}).what == cli_result::action::check_config);
}

TEST_CASE("config: --print-config writes what loads back to the same settings") {
  const auto r = parse_command_line({"--listen", "unix:/tmp/a.sock", "--listen",
                                     "wss://0.0.0.0:1/ws?cert=c&key=k&ca=a&verify-client=true",
                                     "--listen", "http://127.0.0.1:9100", "--realm", "x",
                                     "--strict-uris"});
  REQUIRE_MESSAGE(r.error.empty(), r.error);
  const std::string text = config::to_json(r.config);
  const auto back = config::load_text(text);
  REQUIRE_MESSAGE(back.ok(), config::format_problems("printed", back.problems) << text);
  CHECK(config::to_json(back.settings) == text);
  CHECK(back.settings.listeners[1].tls.require_client_cert);
  CHECK(back.settings.realms[0].uri_check == uri_policy::strict);
}

TEST_CASE("config: every shipped config file prints and loads back unchanged") {
  // Found by fuzz_config: optional strings left unset were printed as "" and the unused one of
  // principals/authenticator, permissions/authorizer as {} / [], which a reload refused.
  for (const char* name : {"config/junction.json", "config/container.json"}) {
    CAPTURE(name);
    std::ifstream in(std::string(JUNCTION_SOURCE_ROOT) + "/" + name);
    REQUIRE(in);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto first = config::load_text(text);
    REQUIRE_MESSAGE(first.ok(), config::format_problems(name, first.problems));
    const std::string printed = config::to_json(first.settings);
    const auto back = config::load_text(printed);
    REQUIRE_MESSAGE(back.ok(), config::format_problems("printed", back.problems) << printed);
    CHECK(config::to_json(back.settings) == printed);
  }
}

TEST_CASE("config: the schema is valid JSON and documents every key it takes") {
  rapidjson::Document schema;
  schema.Parse(config::schema_json().c_str());
  REQUIRE_FALSE(schema.HasParseError());
  CHECK(std::string(schema["$schema"].GetString()).find("2020-12") != std::string::npos);
  const auto& listener = schema["properties"]["listeners"]["items"];
  CHECK(listener["additionalProperties"].IsFalse());
  CHECK(listener["properties"]["port"]["maximum"].GetUint() == 65535);
  CHECK(listener["required"][0] == "type");
  const std::string reference = config::reference_markdown();
  for (const char* key : {"`/listeners/*/port`", "`/realms/*/max_retained_events`", "`/shutdown/drain_timeout_ms`",
                          "`/listeners/*/tls/verify_client`", "`/log/format`"})
    CHECK_MESSAGE(reference.find(key) != std::string::npos, key);
}
