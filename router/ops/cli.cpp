#include "router/ops/cli.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "router/ops/config_file.hpp"

#include "router/event_loop.hpp"

#include "router/transport/rawsocket.hpp"

namespace junction {

const char* const usage_text =
    "Usage: junction [--config FILE] [options]\n"
    "\n"
    "Junction is a WAMP v2 router. Without a config file or options it serves realm 'realm1' to\n"
    "anonymous clients on one universal port, 127.0.0.1:8080: WebSocket at ws://127.0.0.1:8080/ws\n"
    "(wamp.2.json, wamp.2.msgpack, wamp.2.cbor and their .batched forms), WAMP RawSocket (JSON,\n"
    "MessagePack, CBOR), and the HTTP routes /healthz, /readyz and /metrics.\n"
    "\n"
    "Configuration (docs/CONFIG.md):\n"
    "  --config FILE           read the settings from a JSON file; the options below override\n"
    "                          its values. SIGHUP re-reads it.\n"
    "  --check-config FILE     check a config file (and the options given with it) and exit:\n"
    "                          status 0 when it is good, 2 with one line per problem\n"
    "  --print-config          print the effective settings as a config file and exit\n"
    "  --print-schema          print the config file's JSON Schema and exit\n"
    "  --config-reference      print the config file's key reference (Markdown) and exit\n"
    "  --make-secret METHOD    read a secret from standard input and print what a principal of\n"
    "                          METHOD stores instead (ticket, wampcra, wamp-scram, scram), or\n"
    "                          make an Ed25519 key pair (cryptosign); --kdf pbkdf2|argon2id picks\n"
    "                          the key derivation where there is a choice (docs/AUTH.md)\n"
    "\n"
    "Options:\n"
    "  --host ADDR             the first listener's address (default 127.0.0.1; 0.0.0.0 exposes)\n"
    "  --port N                the first listener's port (default 8080; 0 picks a free port)\n"
    "  --path PATH             the first listener's WebSocket path (default /ws)\n"
    "  --listen URL            a listener; repeat for several (replaces the configured ones):\n"
    "                            ws://HOST:PORT/PATH   WebSocket\n"
    "                            rs://HOST:PORT        WAMP RawSocket over TCP\n"
    "                            unix:/PATH            WAMP RawSocket over a Unix socket\n"
    "                            universal://HOST:PORT/PATH  WebSocket, RawSocket and HTTP on\n"
    "                                                  one port (the first byte decides)\n"
    "                            http://HOST:PORT      the HTTP admin routes only\n"
    "                            wss://HOST:PORT/PATH?cert=PEM&key=PEM   WebSocket over TLS\n"
    "                            rss://HOST:PORT?cert=PEM&key=PEM        RawSocket over TLS\n"
    "                            universal://HOST:PORT/PATH?cert=PEM&key=PEM  both over TLS on\n"
    "                                                  one port (TLS first; plaintext refused)\n"
    "                          (TLS 1.2/1.3; add &ca=PEM&verify-client=true to require\n"
    "                          client certificates)\n"
    "                          options: ?max-message-size=N&keepalive-interval=MS&\n"
    "                          keepalive-timeout=MS override the global flags for it;\n"
    "                          &max-connections=N caps its open connections (RawSocket\n"
    "                          answers over the cap with error 4, WebSocket with HTTP 503);\n"
    "                          &handshake-timeout=MS bounds the wait for a connection's first\n"
    "                          byte and its TLS and WAMP transport handshakes (default 10000);\n"
    "                          &admin=true|false serves the HTTP admin routes there (default:\n"
    "                          on loopback addresses only)\n"
    "  --realm NAME            serve realm NAME; repeat for several (replaces the configured\n"
    "                          realms; default realm1)\n"
    "  --max-message-size N    largest incoming WAMP message in bytes (default 16777216);\n"
    "                          a larger one closes the connection (WebSocket code 1009);\n"
    "                          RawSocket advertises the largest 2^(9+L) <= N (16 MiB at most)\n"
    "  --keepalive-interval MS the router pings a connection idle this long (default 30000;\n"
    "                          0 disables). RawSocket PINGs are sent only when this flag or\n"
    "                          the listener's keepalive-interval is given (some clients drop\n"
    "                          the connection on a PING); RawSocket over TCP always gets TCP\n"
    "                          keepalive\n"
    "  --keepalive-timeout MS  and closes it when nothing answers within this (default 10000)\n"
    "  --strict-request-ids    require request ids 1, 2, 3, ... as the spec says (default:\n"
    "                          lenient, because many deployed clients do not send them in order)\n"
    "  --strict-uris           require URI components of [0-9a-z_] (default: loose rules)\n"
    "  --disclose-caller MODE  tell callees who calls: on-request (CALL disclose_me or\n"
    "                          REGISTER disclose_caller; default), always, or never (a CALL\n"
    "                          asking for it gets wamp.error.option_disallowed.disclose_me)\n"
    "  --disclose-publisher MODE  the same for subscribers and PUBLISH disclose_me\n"
    "  --busy-poll US          keep polling for US microseconds (0-10000) after the last\n"
    "                          message before sleeping (default 0: never spin). 30 cuts the\n"
    "                          latency of a lone call about threefold on VMs, and costs 8-25 %\n"
    "                          more CPU per call at moderate load (docs/PERFORMANCE.md)\n"
    "  --threads N             I/O threads, all serving every realm (default 1; 0: one per\n"
    "                          CPU the process may run on; docs/THREADING.md)\n"
    "  --log-level LEVEL       trace, debug, info, warn, error or off (default info)\n"
    "  --log-format FORMAT     text (default) or json (one JSON object per line)\n"
    "  --version               print the version and build and exit\n"
    "  --help                  print this help and exit\n";

namespace {

template <class T>
bool parse_number(const std::string& text, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

bool parse_size(const std::string& text, std::size_t& out) {
  return parse_number(text, out) && out >= 64;
}

// "ws://HOST:PORT/PATH", "rs://HOST:PORT", "unix:/PATH", each with an optional
// "?max-message-size=N". IPv6 hosts go in brackets: "rs://[::1]:8081".
// Which of a listener's settings its URL gave (the rest come from the global flags).
struct listen_overrides {
  bool max_message_size = false;
  bool keepalive_interval = false;
  bool keepalive_timeout = false;
};

bool parse_listen_url(const std::string& url, listener_config& out, listen_overrides& given,
                      std::string& error) {
  std::string rest = url;
  given = {};
  if (const auto q = rest.find('?'); q != std::string::npos) {
    std::string query = rest.substr(q + 1);
    rest.resize(q);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string option = query.substr(0, amp);
      query = amp == std::string::npos ? "" : query.substr(amp + 1);
      const auto eq = option.find('=');
      const std::string key = option.substr(0, eq);
      const std::string v = eq == std::string::npos ? "" : option.substr(eq + 1);
      long long ms = 0;
      if (key == "max-message-size" && parse_size(v, out.max_message_size)) {
        given.max_message_size = true;
      } else if (key == "keepalive-interval" && parse_number(v, ms) && ms >= 0) {
        out.keepalive.interval = std::chrono::milliseconds(ms);
        given.keepalive_interval = true;
      } else if (key == "max-connections" && parse_number(v, out.max_connections) &&
                 out.max_connections > 0) {
      } else if (key == "cert" && !v.empty()) {
        out.tls.cert_file = v;
      } else if (key == "key" && !v.empty()) {
        out.tls.key_file = v;
      } else if (key == "ca" && !v.empty()) {
        out.tls.ca_file = v;
      } else if (key == "verify-client" && (v == "true" || v == "false")) {
        out.tls.require_client_cert = v == "true";
      } else if (key == "keepalive-timeout" && parse_number(v, ms) && ms > 0) {
        out.keepalive.timeout = std::chrono::milliseconds(ms);
        given.keepalive_timeout = true;
      } else if (key == "handshake-timeout" && parse_number(v, ms) && ms > 0 && ms <= 600000) {
        out.handshake_timeout = std::chrono::milliseconds(ms);
      } else if (key == "admin" && (v == "true" || v == "false")) {
        out.admin = v == "true";
      } else {
        error = "--listen " + url + ": '" + option +
                "' is not one of max-message-size=N (N >= 64), keepalive-interval=MS, "
                "keepalive-timeout=MS, handshake-timeout=MS (1-600000), max-connections=N, "
                "cert=PEM, key=PEM, ca=PEM, verify-client=true|false, admin=true|false";
        return false;
      }
    }
  }
  auto starts = [&](const char* prefix) { return rest.rfind(prefix, 0) == 0; };
  out.kind = listener_config::protocol::websocket;
  if (starts("unix:")) {
    out.kind = listener_config::protocol::rawsocket;
    out.unix_path = rest.substr(5);
    if (out.unix_path.rfind("//", 0) == 0) out.unix_path.erase(0, 2);  // unix:///path
    if (out.unix_path.empty() || out.unix_path[0] != '/') {
      error = "--listen " + url + ": a Unix socket needs an absolute path (unix:/run/junction.sock)";
      return false;
    }
    return true;
  }
  std::string authority;
  const bool secure = starts("wss://") || starts("rss://");
  // universal:// takes TLS optionally: with cert= every connection starts with TLS.
  if (secure != out.tls.enabled() && !(starts("universal://") && out.tls.enabled())) {
    error = "--listen " + url + (secure ? ": wss:// and rss:// need ?cert=PEM&key=PEM"
                                        : ": cert= is for wss://, rss:// and universal:// listeners");
    return false;
  }
  if (out.tls.require_client_cert && out.tls.ca_file.empty()) {
    error = "--listen " + url + ": verify-client=true needs ca=PEM";
    return false;
  }
  if (starts("ws://") || starts("wss://") || starts("universal://")) {
    out.kind = starts("universal://") ? listener_config::protocol::universal
                                      : listener_config::protocol::websocket;
    authority = rest.substr(rest.find("//") + 2);
    const auto slash = authority.find('/');
    out.path = slash == std::string::npos ? "/ws" : authority.substr(slash);
    if (slash != std::string::npos) authority.resize(slash);
  } else if (starts("rs://") || starts("rss://")) {
    out.kind = listener_config::protocol::rawsocket;
    authority = rest.substr(rest.find("//") + 2);
  } else if (starts("http://")) {
    out.kind = listener_config::protocol::http;
    authority = rest.substr(rest.find("//") + 2);
    if (const auto slash = authority.find('/'); slash != std::string::npos) authority.resize(slash);
  } else {
    error = "--listen " + url +
            ": expected ws://HOST:PORT/PATH, rs://HOST:PORT, unix:/PATH, "
            "universal://HOST:PORT/PATH or http://HOST:PORT";
    return false;
  }
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos || colon == 0 || !parse_number(authority.substr(colon + 1), out.port)) {
    error = "--listen " + url + ": expected HOST:PORT with a port number (0-65535)";
    return false;
  }
  out.host = authority.substr(0, colon);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  return true;
}

}  // namespace

std::string apply_flags(const std::vector<std::string>& args, router_config& config) {
  std::string error;
  bool address_flags = false;             // --host/--port/--path
  listener_config first = config.listeners.empty() ? listener_config{} : config.listeners.front();
  std::vector<listener_config> listens;   // --listen
  std::vector<listen_overrides> listen_given;
  std::optional<std::size_t> max_message_size;
  std::optional<std::chrono::milliseconds> keepalive_interval, keepalive_timeout;
  std::vector<realm_settings> realms;     // --realm
  std::optional<disclosure> disclose_caller, disclose_publisher;
  bool strict_uris = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    auto next = [&](std::string& out) {
      if (i + 1 >= args.size()) {
        error = flag + " needs a value";
        return false;
      }
      out = args[++i];
      return true;
    };
    std::string v;
    if (flag == "--host") {
      if (!next(first.host)) return error;
      address_flags = true;
    } else if (flag == "--port") {
      if (!next(v)) return error;
      if (!parse_number(v, first.port)) return "--port: '" + v + "' is not a port number (0-65535)";
      address_flags = true;
    } else if (flag == "--path") {
      if (!next(first.path)) return error;
      if (first.path.empty() || first.path[0] != '/')
        return "--path: '" + first.path + "' must start with '/'";
      address_flags = true;
    } else if (flag == "--listen") {
      if (!next(v)) return error;
      listener_config l;
      listen_overrides given;
      if (!parse_listen_url(v, l, given, error)) return error;
      listens.push_back(std::move(l));
      listen_given.push_back(given);
    } else if (flag == "--realm") {
      if (!next(v)) return error;
      if (v.empty()) return "--realm: the realm name must not be empty";
      realms.emplace_back(v);
    } else if (flag == "--max-message-size") {
      if (!next(v)) return error;
      std::size_t n = 0;
      if (!parse_size(v, n)) return "--max-message-size: '" + v + "' is not a byte count of at least 64";
      max_message_size = n;
    } else if (flag == "--keepalive-interval" || flag == "--keepalive-timeout") {
      if (!next(v)) return error;
      long long ms = 0;
      const bool interval = flag == "--keepalive-interval";
      if (!parse_number(v, ms) || ms < (interval ? 0 : 1))
        return flag + ": '" + v + "' is not a number of milliseconds" +
               (interval ? " (0 disables)" : " (at least 1)");
      (interval ? keepalive_interval : keepalive_timeout) = std::chrono::milliseconds(ms);
    } else if (flag == "--strict-request-ids") {
      config.strict_request_ids = true;
    } else if (flag == "--strict-uris") {
      strict_uris = true;
    } else if (flag == "--disclose-caller" || flag == "--disclose-publisher") {
      if (!next(v)) return error;
      auto& mode = flag == "--disclose-caller" ? disclose_caller : disclose_publisher;
      if (v == "on-request") {
        mode = disclosure::on_request;
      } else if (v == "always") {
        mode = disclosure::always;
      } else if (v == "never") {
        mode = disclosure::never;
      } else {
        return flag + ": '" + v + "' is not one of on-request, always, never";
      }
    } else if (flag == "--busy-poll") {
      if (!next(v)) return error;
      long long us = -1;
      if (!parse_number(v, us) || us < 0 || us > max_busy_poll.count())
        return "--busy-poll: '" + v + "' is not a number of microseconds from 0 to " +
               std::to_string(max_busy_poll.count());
      config.busy_poll = std::chrono::microseconds(us);
    } else if (flag == "--threads") {
      if (!next(v)) return error;
      long long n = -1;
      if (!parse_number(v, n) || n < 0 || n > 1024)
        return "--threads: '" + v + "' is not a number of threads from 0 (one per CPU) to 1024";
      config.threads = static_cast<unsigned>(n);
    } else if (flag == "--log-level") {
      if (!next(v)) return error;
      if (!parse_log_level(v, config.level))
        return "--log-level: '" + v + "' is not one of trace, debug, info, warn, error, off";
    } else if (flag == "--log-format") {
      if (!next(v)) return error;
      if (v == "text") {
        config.format = log_format::text;
      } else if (v == "json") {
        config.format = log_format::json;
      } else {
        return "--log-format: '" + v + "' is not one of text, json";
      }
    } else {
      return "unknown option '" + flag + "' (see --help)";
    }
  }
  if (address_flags && !listens.empty())
    return "--host/--port/--path set the first listener's address; with --listen, write it as "
           "--listen ws://HOST:PORT/PATH";
  if (address_flags) {
    if (!first.unix_path.empty() || first.kind == listener_config::protocol::rawsocket)
      return "--host/--port/--path apply to a WebSocket, universal or HTTP first listener, not to " +
             first.url();
    if (config.listeners.empty()) {
      config.listeners.push_back(first);
    } else {
      config.listeners.front() = first;
    }
  }
  if (!listens.empty()) {
    config.listeners = std::move(listens);
  } else {
    listen_given.assign(config.listeners.size(), listen_overrides{});
  }
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {  // a listener's own options win
    listener_config& l = config.listeners[i];
    if (max_message_size && !listen_given[i].max_message_size) l.max_message_size = *max_message_size;
    if (keepalive_timeout && !listen_given[i].keepalive_timeout) l.keepalive.timeout = *keepalive_timeout;
    if (keepalive_interval && !listen_given[i].keepalive_interval) l.keepalive.interval = *keepalive_interval;
    // RawSocket PINGs only when asked for: Autobahn|Python's asyncio RawSocket client (Debian's
    // 22.x) drops its connection on a PING. TCP keepalive guards RawSocket peers instead.
    if (listen_given[i].keepalive_interval || keepalive_interval) l.rawsocket_pings = true;
    if (l.kind != listener_config::protocol::websocket && l.kind != listener_config::protocol::http &&
        l.max_message_size < rawsocket::min_message_length)
      return "--listen " + l.url() + ": a RawSocket limit cannot be below " +
             std::to_string(rawsocket::min_message_length) + " bytes (the handshake's smallest)";
  }
  if (!realms.empty()) config.realms = std::move(realms);
  for (auto& realm : config.realms) {
    if (strict_uris) realm.uri_check = uri_policy::strict;
    if (disclose_caller) realm.disclose_caller = *disclose_caller;
    if (disclose_publisher) realm.disclose_publisher = *disclose_publisher;
  }
  return {};
}

cli_result parse_command_line(const std::vector<std::string>& args) {
  cli_result r;
  std::vector<std::string> flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      r.show_help = true;
    } else if (flag == "--version") {
      r.show_version = true;
    } else if (flag == "--config" || flag == "--check-config") {
      if (i + 1 >= args.size()) {
        r.error = flag + " needs a file";
        return r;
      }
      if (!r.config_file.empty()) {
        r.error = "only one --config or --check-config file";
        return r;
      }
      r.config_file = args[++i];
      if (flag == "--check-config") r.what = cli_result::action::check_config;
    } else if (flag == "--print-config") {
      r.what = cli_result::action::print_config;
    } else if (flag == "--print-schema") {
      r.what = cli_result::action::print_schema;
    } else if (flag == "--config-reference") {
      r.what = cli_result::action::config_reference;
    } else if (flag == "--make-secret" || flag == "--kdf") {
      if (i + 1 >= args.size()) {
        r.error = flag + " needs a value";
        return r;
      }
      const std::string& v = args[++i];
      if (flag == "--kdf") {
        r.secret_kdf = v;
      } else {
        r.what = cli_result::action::make_secret;
        r.secret_method = v;
      }
    } else {
      flags.push_back(flag);
    }
  }
  if (r.what == cli_result::action::make_secret) {
    static const char* const methods[] = {"ticket", "wampcra", "wamp-scram", "scram", "cryptosign"};
    if (std::find(std::begin(methods), std::end(methods), r.secret_method) == std::end(methods))
      r.error = "--make-secret: '" + r.secret_method + "' is not one of ticket, wampcra, wamp-scram, scram, cryptosign";
    else if (!r.secret_kdf.empty() && r.secret_kdf != "pbkdf2" && r.secret_kdf != "argon2id")
      r.error = "--kdf: '" + r.secret_kdf + "' is not one of pbkdf2, argon2id";
    return r;
  }
  if (!r.secret_kdf.empty()) {
    r.error = "--kdf goes with --make-secret";
    return r;
  }
  if (r.show_help || r.show_version || r.what == cli_result::action::print_schema ||
      r.what == cli_result::action::config_reference)
    return r;
  r.error = load_settings(r.config_file, flags, r.config);
  r.flags = std::move(flags);
  return r;
}

std::string load_settings(const std::string& file, const std::vector<std::string>& flags,
                          router_config& out) {
  router_config settings;
  if (!file.empty()) {
    config::loaded l = config::load_file(file);
    if (!l.ok()) return config::format_problems(file, l.problems);
    settings = std::move(l.settings);
  }
  if (std::string e = apply_flags(flags, settings); !e.empty()) return e;
  std::vector<config::problem> problems;
  config::check_settings(settings, problems);
  if (!problems.empty()) return config::format_problems(file.empty() ? "flags" : file + " with flags", problems);
  out = std::move(settings);
  return {};
}

}  // namespace junction
