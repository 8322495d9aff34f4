// The config file's shape: one walk per settings struct (config_reader.hpp explains the three
// modes). Keep each key's `doc` true: it is the schema's description and docs/CONFIG.md's text.
#include "router/ops/config_file.hpp"

#include <fstream>
#include <map>
#include <sstream>

#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "router/transport/rawsocket.hpp"

namespace junction::config {
namespace {

using rapidjson::Value;

constexpr std::uint64_t unlimited = std::numeric_limits<std::uint64_t>::max();

// The file's listener types, and how they map onto listener_config.
enum class listener_type { ws, wss, rs, rss, unix_socket, universal, http };

listener_type type_of(const listener_config& l) {
  if (!l.unix_path.empty()) return listener_type::unix_socket;
  switch (l.kind) {
    case listener_config::protocol::websocket:
      return l.tls.enabled() ? listener_type::wss : listener_type::ws;
    case listener_config::protocol::rawsocket:
      return l.tls.enabled() ? listener_type::rss : listener_type::rs;
    case listener_config::protocol::universal: return listener_type::universal;
    case listener_config::protocol::http: return listener_type::http;
  }
  return listener_type::ws;
}

listener_config::protocol protocol_of(listener_type t) {
  switch (t) {
    case listener_type::ws:
    case listener_type::wss: return listener_config::protocol::websocket;
    case listener_type::rs:
    case listener_type::rss:
    case listener_type::unix_socket: return listener_config::protocol::rawsocket;
    case listener_type::universal: return listener_config::protocol::universal;
    case listener_type::http: return listener_config::protocol::http;
  }
  return listener_config::protocol::websocket;
}

void walk_tls(reader& r, tls_config& t) {
  r.string("cert", t.cert_file,
           {"PEM file with the server's certificate chain", "\"/etc/junction/cert.pem\"", true}, 1);
  r.string("key", t.key_file, {"PEM file with the certificate's private key",
                               "\"/etc/junction/key.pem\"", true},
           1);
  r.string("ca", t.ca_file,
           {"PEM file of the CAs that client certificates must chain to (with verify_client)",
            "\"/etc/junction/clients-ca.pem\""});
  r.boolean("verify_client", t.require_client_cert,
            {"require a client certificate from `ca`: a client without one fails the TLS "
             "handshake"});
  r.when_true("verify_client", {"ca"});
}

void walk_keepalive(reader& r, listener_config& l) {
  r.milliseconds("interval_ms", l.keepalive.interval, 0, 86'400'000,
                 {"ping a connection idle this long (WebSocket ping, RawSocket PING); 0 turns "
                  "keepalive off",
                  "30000"});
  r.milliseconds("timeout_ms", l.keepalive.timeout, 1, 86'400'000,
                 {"close the connection when nothing answers the ping within this", "10000"});
  r.boolean("rawsocket_pings", l.rawsocket_pings,
            {"send RawSocket PINGs too (off by default: Autobahn|Python's asyncio RawSocket "
             "client drops its connection on a PING; RawSocket over TCP gets kernel TCP "
             "keepalive instead)"});
}

void walk_listener(reader& r, listener_config& l) {
  r.describe_object("a socket Junction listens on");
  listener_type type = type_of(l);
  r.choice("type", type,
           {{"ws", listener_type::ws},
            {"wss", listener_type::wss},
            {"rs", listener_type::rs},
            {"rss", listener_type::rss},
            {"unix", listener_type::unix_socket},
            {"universal", listener_type::universal},
            {"http", listener_type::http}},
           {"ws: WebSocket; wss: WebSocket over TLS; rs: WAMP RawSocket over TCP; rss: RawSocket "
            "over TLS; unix: RawSocket over a Unix domain socket; universal: WebSocket, RawSocket "
            "and HTTP on one port (the first byte decides); http: only the admin routes "
            "(/healthz, /readyz, /metrics)",
            "\"universal\"", true});
  // Write mode (--print-config) leaves out the keys this type does not take.
  const bool writing = r.current_mode() == reader::mode::write;
  const bool unix_socket = type == listener_type::unix_socket;
  const bool secure = type == listener_type::wss || type == listener_type::rss;
  const bool has_path = type == listener_type::ws || type == listener_type::wss ||
                        type == listener_type::universal;
  const bool rawsocket_only = unix_socket || type == listener_type::rs || type == listener_type::rss;
  if (!writing || !unix_socket) {
  r.string("host", l.host,
           {"address to bind (an IP address); anything but loopback exposes the router", "\"0.0.0.0\""},
           1);
  r.integer<std::uint16_t>("port", l.port, 0, 65535, {"TCP port; 0 picks a free one (logged)", "8080"});
  }
  if (!writing || has_path)
    r.string("path", l.path, {"WebSocket path; other paths answer 404", "\"/ws\""}, 1);
  if (!writing || unix_socket)
    r.string("socket", l.unix_path,
             {"path of the Unix domain socket (type unix)", "\"/run/junction/junction.sock\""}, 1);
  if (!writing || secure)
    r.object("tls", {"TLS 1.2/1.3 for wss and rss (required there)"},
             [&](reader& t) { walk_tls(t, l.tls); });
  r.integer<std::size_t>("max_message_size", l.max_message_size, 64, std::size_t{1} << 32,
                         {"largest incoming WAMP message in bytes; a larger one closes the "
                          "connection (WebSocket code 1009); RawSocket announces the largest "
                          "2^(9+L) at most this (16 MiB at most)",
                          "1048576"});
  r.integer<std::size_t>("max_connections", l.max_connections, 0, 10'000'000,
                         {"open connections at most (0: bounded by the open-file limit); over it "
                          "RawSocket answers handshake error 4 and WebSocket HTTP 503",
                          "10000"});
  r.milliseconds("handshake_timeout_ms", l.handshake_timeout, 1, 600'000,
                 {"a connection's first byte, TLS handshake and WebSocket/RawSocket handshake must "
                  "be done within this",
                  "10000"});
  r.object("keepalive", {"dead-peer detection by the router"}, [&](reader& k) { walk_keepalive(k, l); });
  if (!writing || !rawsocket_only)
    r.optional_boolean("admin", l.admin, "true on a loopback address, false otherwise",
                     {"serve /healthz, /readyz, /metrics and POST /admin/reload over plain HTTP "
                      "here (HTTP-capable types: ws, wss, universal, http)",
                      "true"});
  r.when("type", {"wss", "rss"}, {"tls"}, {});
  r.when("type", {"ws", "rs", "unix", "universal", "http"}, {}, {"tls"});
  r.when("type", {"unix"}, {"socket"}, {"host", "port", "path", "admin"});
  r.when("type", {"ws", "wss", "rs", "rss", "universal", "http"}, {}, {"socket"});
  r.when("type", {"rs", "rss"}, {}, {"path", "admin"});
  r.when("type", {"http"}, {}, {"path"});
  if (r.loading()) {
    l.kind = protocol_of(type);
    if (type != listener_type::unix_socket) l.unix_path.clear();
  }
}

void walk_realm(reader& r, realm_config& c) {
  r.describe_object("a realm: its sessions, registrations and subscriptions are its own");
  r.string("name", c.name, {"the realm's name, as clients give it in HELLO", "\"realm1\"", true}, 1);
  r.choice("uri_check", c.uri_check, {{"loose", uri_policy::loose}, {"strict", uri_policy::strict}},
           {"how procedure and topic URIs are checked: loose (no empty components, no spaces or "
            "'#') or strict (components of [0-9a-z_])",
            "\"strict\""});
  const std::initializer_list<std::pair<const char*, disclosure>> modes = {
      {"on-request", disclosure::on_request}, {"always", disclosure::always}, {"never", disclosure::never}};
  r.choice("disclose_caller", c.disclose_caller, modes,
           {"tell callees who calls: on-request (CALL disclose_me or REGISTER disclose_caller), "
            "always, or never (a CALL asking gets wamp.error.option_disallowed.disclose_me)",
            "\"always\""});
  r.choice("disclose_publisher", c.disclose_publisher, modes,
           {"tell subscribers who published: on-request (PUBLISH disclose_me), always, or never",
            "\"never\""});
  r.integer<std::size_t>("max_retained_events", c.max_retained_events, 0, 10'000'000,
                         {"topics that keep their last retained event (PUBLISH retain); when full "
                          "the topic published least recently is evicted; 0 turns retention off",
                          "1000"});
  r.integer<std::size_t>("progressive_call_memory", c.progressive_call_memory, 0, 100'000,
                         {"ended progressive calls remembered per caller, so that its late "
                          "continuations are dropped quietly",
                          "64"});
}

void walk_router(reader& r, router_config& c) {
  r.describe_object(
      "Junction's configuration (docs/CONFIG.md). Keys beginning with \"//\" are comments.");
  if (r.current_mode() != reader::mode::write) {
    std::string schema_ref;
    r.string("$schema", schema_ref, {"the JSON Schema of this file, for editors (ignored)",
                                     "\"junction.schema.json\""});
  }
  r.object("log", {"logging (to standard error)"}, [&](reader& l) {
    l.choice("level", c.level,
             {{"trace", log_level::trace},
              {"debug", log_level::debug},
              {"info", log_level::info},
              {"warn", log_level::warn},
              {"error", log_level::error},
              {"off", log_level::off}},
             {"the least severe level logged", "\"warn\""});
    l.choice("format", c.format, {{"text", log_format::text}, {"json", log_format::json}},
             {"text: one line per event for people; json: one JSON object per line (time, level, "
              "message and fields such as session, realm, peer)",
              "\"json\""});
  });
  r.microseconds("busy_poll_us", c.busy_poll, 0, static_cast<std::uint64_t>(max_busy_poll.count()),
                 {"keep polling this long after the last message before sleeping (cuts a lone "
                  "call's latency about threefold on a VM, docs/PERFORMANCE.md); 0 never spins",
                  "0"});
  r.boolean("strict_request_ids", c.strict_request_ids,
            {"require client request ids 1, 2, 3, ... as the spec says (off: many deployed "
             "clients do not send them in order)"});
  r.object("limits", {"router-wide limits"}, [&](reader& l) {
    l.integer<std::size_t>("max_outbound_bytes", c.max_outbound_bytes, 65536, std::size_t{1} << 40,
                           {"bytes queued for a client that stopped reading before it is closed "
                            "as a slow consumer (logged, counted)",
                            "8388608"});
  });
  r.object("shutdown", {"graceful shutdown on SIGTERM or SIGINT (a second signal exits at once)"},
           [&](reader& s) {
             s.milliseconds("drain_timeout_ms", c.drain_timeout, 0, 3'600'000,
                            {"how long calls in flight may take to finish; then their callers get "
                             "wamp.error.canceled and every session GOODBYE "
                             "wamp.close.system_shutdown",
                             "30000"});
           });
  r.object("admin", {"the HTTP admin routes served on admin listeners"}, [&](reader& a) {
    a.milliseconds("stall_threshold_ms", c.stall_threshold, 100, 600'000,
                   {"/healthz answers 503 when the event loop has not turned for this long", "2000"});
    a.boolean("reload_endpoint", c.reload_endpoint,
              {"POST /admin/reload re-reads the config file (as SIGHUP does); answered only to "
               "loopback peers"});
  });
  r.array<listener_config>("listeners", c.listeners, 1,
                           {"where Junction listens; the default is one universal listener on "
                            "127.0.0.1:8080 (WebSocket at /ws, RawSocket, HTTP admin routes)"},
                           walk_listener);
  r.array<realm_config>("realms", c.realms, 1, {"the realms served; the default is realm1"},
                        walk_realm);
}

std::string line_column(std::string_view text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

void check_settings(const router_config& c, std::vector<problem>& problems) {
  std::map<std::string, std::size_t> realms;
  for (std::size_t i = 0; i < c.realms.size(); ++i) {
    auto [it, fresh] = realms.emplace(c.realms[i].name, i);
    if (!fresh)
      problems.push_back({"/realms/" + std::to_string(i) + "/name",
                          "realm \"" + c.realms[i].name + "\" is already defined at /realms/" +
                              std::to_string(it->second)});
  }
  std::map<std::string, std::size_t> addresses;
  for (std::size_t i = 0; i < c.listeners.size(); ++i) {
    const listener_config& l = c.listeners[i];
    const std::string at = "/listeners/" + std::to_string(i);
    if (l.kind != listener_config::protocol::websocket && l.kind != listener_config::protocol::http &&
        l.max_message_size < rawsocket::min_message_length)
      problems.push_back({at + "/max_message_size",
                          "a RawSocket limit cannot be below " +
                              std::to_string(rawsocket::min_message_length) +
                              " bytes (the handshake's smallest)"});
    if (l.port == 0 && l.unix_path.empty()) continue;  // every port-0 listener gets its own port
    std::string key = l.unix_path.empty() ? l.host + ":" + std::to_string(l.port) : l.address_key();
    auto [it, fresh] = addresses.emplace(key, i);
    if (!fresh)
      problems.push_back({at, "listens on " + key + ", as /listeners/" + std::to_string(it->second) +
                                  " does"});
  }
}

loaded load_text(std::string_view text) {
  loaded out;
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError()) {
    out.problems.push_back({"", line_column(text, d.GetErrorOffset()) + ": not valid JSON: " +
                                    rapidjson::GetParseError_En(d.GetParseError())});
    return out;
  }
  if (!d.IsObject()) {
    out.problems.push_back({"", "expected a JSON object, got " + describe_value(d)});
    return out;
  }
  reader r(d, "", out.problems);
  walk_router(r, out.settings);
  r.finish();
  check_settings(out.settings, out.problems);
  return out;
}

loaded load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    loaded out;
    out.problems.push_back({"", "cannot read the file"});
    return out;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_text(text.str());
}

std::string format_problems(const std::string& file, const std::vector<problem>& problems) {
  std::string out;
  for (const problem& p : problems)
    out += file + ": " + (p.pointer.empty() ? "" : p.pointer + ": ") + p.message + "\n";
  return out;
}

namespace {
description describe() {
  description d;
  d.schema.SetObject();
  Value root;
  {
    reader r(d, root, "");
    router_config defaults;
    walk_router(r, defaults);
  }
  auto& a = d.schema.GetAllocator();
  d.schema.AddMember("$schema", "https://json-schema.org/draft/2020-12/schema", a);
  d.schema.AddMember("$id", "https://junction.example/junction.schema.json", a);
  d.schema.AddMember("title", "Junction configuration", a);
  for (auto m = root.MemberBegin(); m != root.MemberEnd(); ++m)
    d.schema.AddMember(Value(m->name, a), Value(m->value, a), a);
  return d;
}
}  // namespace

std::string schema_json() {
  const description d = describe();
  rapidjson::StringBuffer b;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(b);
  w.SetIndent(' ', 2);
  d.schema.Accept(w);
  return std::string(b.GetString(), b.GetSize()) + "\n";
}

std::string reference_markdown() {
  const description d = describe();
  auto cell = [](std::string s) {
    std::string out;
    for (char ch : s) {
      if (ch == '|') {
        out += "\\|";
      } else {
        out += ch;
      }
    }
    return out;
  };
  std::string out = "| key | type | default | meaning | example |\n|---|---|---|---|---|\n";
  for (const reference_row& row : d.rows) {
    const bool words = row.fallback.empty() || row.fallback == "required" || row.fallback == "see below";
    out += "| `" + row.pointer + "` | " + cell(row.type) + " | " +
           (words ? row.fallback : "`" + cell(row.fallback) + "`") + " | " + cell(row.meaning) +
           " | " + (row.example.empty() ? "" : "`" + cell(row.example) + "`") + " |\n";
  }
  return out;
}

std::string to_json(const router_config& settings) {
  rapidjson::Document d;
  router_config copy = settings;
  {
    reader r(d, d.GetAllocator());
    walk_router(r, copy);
  }
  rapidjson::StringBuffer b;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(b);
  w.SetIndent(' ', 2);
  d.Accept(w);
  return std::string(b.GetString(), b.GetSize()) + "\n";
}

std::string listener_json(const listener_config& listener) {
  rapidjson::Document d;
  listener_config copy = listener;
  {
    reader r(d, d.GetAllocator());
    walk_listener(r, copy);
  }
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  d.Accept(w);
  return {b.GetString(), b.GetSize()};
}

}  // namespace junction::config
