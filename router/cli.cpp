#include "router/cli.hpp"

#include <charconv>

namespace junction {

const char* const usage_text =
    "Usage: junction [options]\n"
    "\n"
    "Junction is a WAMP v2 router. Without options it serves realm 'realm1' to anonymous\n"
    "clients on ws://127.0.0.1:8080/ws (subprotocols wamp.2.json and wamp.2.msgpack).\n"
    "\n"
    "Options:\n"
    "  --host ADDR             listen address (default 127.0.0.1; use 0.0.0.0 to expose)\n"
    "  --port N                listen port (default 8080; 0 picks a free port)\n"
    "  --path PATH             WebSocket path (default /ws); other paths answer 404\n"
    "  --realm NAME            serve realm NAME; repeat for several (default realm1)\n"
    "  --max-message-size N    largest incoming WAMP message in bytes (default 16777216);\n"
    "                          a larger one closes the connection (WebSocket code 1009)\n"
    "  --strict-request-ids    require request ids 1, 2, 3, ... as the spec says (default:\n"
    "                          lenient, because many deployed clients do not send them in order)\n"
    "  --strict-uris           require URI components of [0-9a-z_] (default: loose rules)\n"
    "  --log-level LEVEL       trace, debug, info, warn, error or off (default info)\n"
    "  --version               print the version and exit\n"
    "  --help                  print this help and exit\n";

namespace {

template <class T>
bool parse_number(const std::string& text, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

}  // namespace

cli_result parse_command_line(const std::vector<std::string>& args) {
  cli_result r;
  listener_config& listener = r.config.listeners.front();
  bool strict_uris = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    auto next = [&](std::string& out) {
      if (i + 1 >= args.size()) {
        r.error = flag + " needs a value";
        return false;
      }
      out = args[++i];
      return true;
    };
    std::string v;
    if (flag == "--help" || flag == "-h") {
      r.show_help = true;
    } else if (flag == "--version") {
      r.show_version = true;
    } else if (flag == "--host") {
      if (!next(listener.host)) return r;
    } else if (flag == "--port") {
      if (!next(v)) return r;
      if (!parse_number(v, listener.port)) {
        r.error = "--port: '" + v + "' is not a port number (0-65535)";
        return r;
      }
    } else if (flag == "--path") {
      if (!next(listener.path)) return r;
      if (listener.path.empty() || listener.path[0] != '/') {
        r.error = "--path: '" + listener.path + "' must start with '/'";
        return r;
      }
    } else if (flag == "--realm") {
      if (!next(v)) return r;
      if (v.empty()) {
        r.error = "--realm: the realm name must not be empty";
        return r;
      }
      r.config.realms.push_back(realm_config{v});
    } else if (flag == "--max-message-size") {
      if (!next(v)) return r;
      if (!parse_number(v, listener.max_message_size) || listener.max_message_size < 64) {
        r.error = "--max-message-size: '" + v + "' is not a byte count of at least 64";
        return r;
      }
    } else if (flag == "--strict-request-ids") {
      r.config.strict_request_ids = true;
    } else if (flag == "--strict-uris") {
      strict_uris = true;
    } else if (flag == "--log-level") {
      if (!next(v)) return r;
      if (!parse_log_level(v, r.config.level)) {
        r.error = "--log-level: '" + v + "' is not one of trace, debug, info, warn, error, off";
        return r;
      }
    } else {
      r.error = "unknown option '" + flag + "' (see --help)";
      return r;
    }
  }
  if (r.config.realms.empty()) r.config.realms.push_back(realm_config{"realm1"});
  for (auto& realm : r.config.realms)
    realm.uri_check = strict_uris ? uri_policy::strict : uri_policy::loose;
  return r;
}

}  // namespace junction
