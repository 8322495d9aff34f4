// The config file's shape: one walk per settings struct (config_reader.hpp explains the three
// modes). Keep each key's `doc` true: it is the schema's description and docs/CONFIG.md's text.
#include "router/ops/config_file.hpp"

#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "auth/crypto.hpp"
#include "auth/secrets.hpp"
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
           {"PEM file of the CAs that client certificates must chain to: with it a client may present "
            "one (the tls authmethod maps it to a principal), with verify_client it must",
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
  const bool secure = type == listener_type::wss || type == listener_type::rss ||
                      (type == listener_type::universal && l.tls.enabled());
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
    r.object("tls", {"TLS 1.2/1.3: required for wss and rss; on a universal port, every connection "
                     "then starts with TLS and its first plaintext byte picks WebSocket or RawSocket "
                     "(plaintext is refused)"},
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
  r.integer<std::size_t>("max_authenticating", l.max_authenticating, 1, 10'000'000,
                         {"sessions that may be authenticating at once (waiting for AUTHENTICATE, "
                          "a dynamic authenticator or a hash check); more are refused with ABORT "
                          "wamp.error.authentication_failed",
                          "1000"});
  r.milliseconds("handshake_timeout_ms", l.handshake_timeout, 1, 600'000,
                 {"a connection's first byte, TLS handshake and WebSocket/RawSocket handshake must "
                  "be done within this; a kept-alive HTTP connection's next request too",
                  "10000"});
  r.object("keepalive", {"dead-peer detection by the router"}, [&](reader& k) { walk_keepalive(k, l); });
  if (!writing || !rawsocket_only)
    r.optional_boolean("admin", l.admin, "true on a loopback address, false otherwise",
                     {"serve /healthz, /readyz, /metrics and POST /admin/reload over plain HTTP "
                      "here (HTTP-capable types: ws, wss, universal, http)",
                      "true"});
  if (!writing || !rawsocket_only)
    r.optional_boolean("console", l.console, "true on a loopback address, false otherwise",
                       {"serve the web console (/console/, docs/OPERATIONS.md) here: ws, wss and universal "
                        "listeners; it logs in over WAMP like any client",
                        "true"});
  if (!writing || !l.web.empty())
    r.array<web_mount>("web", l.web, 0,
                       {"directories served as static files over HTTP here (docs/OPERATIONS.md, \"Static "
                        "files\"); HTTP-capable types only"},
                       [](reader& w, web_mount& m) {
                         w.describe_object("a directory served under a URL path");
                         w.string("path", m.path, {"the URL path it is served under", "\"/app\"", true}, 1);
                         if (w.loading() && (m.path.front() != '/' || (m.path.size() > 1 && m.path.back() == '/')))
                           w.fail_at("path", "must start with '/' and not end with one (\"/\" alone serves the root)");
                         w.string("directory", m.directory, {"the directory whose files are served", "\"/srv/app\"", true}, 1);
                         w.string("index", m.index, {"the file served for a directory", "\"index.html\""}, 1);
                         w.integer<std::uint32_t>("max_age_s", m.max_age_s, 0, 31'536'000,
                                                  {"Cache-Control max-age in seconds (0: browsers revalidate "
                                                   "every time, with ETag and Last-Modified)",
                                                   "3600"});
                       });
  r.when("type", {"wss", "rss"}, {"tls"}, {});
  r.when("type", {"ws", "rs", "unix", "http"}, {}, {"tls"});
  r.when("type", {"unix"}, {"socket"}, {"host", "port", "path", "admin", "web", "console"});
  r.when("type", {"ws", "wss", "rs", "rss", "universal", "http"}, {}, {"socket"});
  r.when("type", {"rs", "rss"}, {}, {"path", "admin", "web", "console"});
  r.when("type", {"http"}, {}, {"path", "console"});
  if (r.loading()) {
    l.kind = protocol_of(type);
    if (type != listener_type::unix_socket) l.unix_path.clear();
  }
}

// ---- authentication (issue 13) -------------------------------------------------------------------

// A method's section: its principals by authid (static), or the procedure that decides (dynamic).
template <class P>
void walk_method(reader& r, auth::method_config<P>& m, const std::function<void(reader&, P&)>& principal) {
  r.map<P>("principals", m.principals, {"the principals this method knows, by authid (static)"}, principal);
  r.string("authenticator", m.authenticator.procedure,
           {"instead of principals: the procedure that decides (dynamic), called with (realm, authid, "
            "details) and answering {role, authid?, realm?, extra?, ...} or an error",
            "\"com.example.authenticate\""},
           1);
  r.string("authenticator_realm", m.authenticator.realm,
           {"the realm where the authenticator is registered (default: this realm)", "\"auth\""}, 1);
  r.exactly_one("principals", "authenticator");
}

template <class M, class F>
void optional_section(reader& r, const char* key, std::optional<M>& member, doc d, F&& walk) {
  switch (r.current_mode()) {
    case reader::mode::load:
      if (r.has(key)) member.emplace();
      r.object(key, d, [&](reader& x) { walk(x, *member); });
      break;
    case reader::mode::describe: {
      M defaults{};
      r.object(key, d, [&](reader& x) { walk(x, defaults); });
      break;
    }
    case reader::mode::write:
      if (member) r.object(key, d, [&](reader& x) { walk(x, *member); });
      break;
  }
}

void walk_role(reader& r, std::string& role) {
  r.string("role", role, {"the authrole a session of this principal gets", "\"frontend\"", true}, 1);
}

void walk_auth(reader& r, auth::realm_auth& a) {
  r.describe_object("how the realm authenticates; without this section it is anonymous-only");
  if (r.loading()) a.configured = true;
  optional_section(r, "anonymous", a.anonymous,
                   {"accept anonymous sessions (HELLO without authmethods, or with \"anonymous\")"},
                   [](reader& x, auth::anonymous_config& c) {
                     x.string("role", c.role, {"the authrole of anonymous sessions", "\"public\""}, 1);
                   });
  optional_section(r, "ticket", a.ticket,
                   {"ticket: the client sends a shared secret (use TLS); stored hashed"},
                   [](reader& x, auth::method_config<auth::ticket_principal>& m) {
                     walk_method<auth::ticket_principal>(x, m, [](reader& p, auth::ticket_principal& t) {
                       walk_role(p, t.role);
                       p.string("ticket_hash", t.ticket_hash,
                                {"the ticket's salted hash: pbkdf2-sha256$... or argon2id$... (junction "
                                 "--make-secret ticket)",
                                 "\"pbkdf2-sha256$600000$c2FsdHNhbHRzYWx0$...\""},
                                1);
                       p.string("ticket", t.ticket,
                                {"the ticket in clear, for development only (logged as a warning)", "\"secret\""}, 1);
                       p.exactly_one("ticket_hash", "ticket");
                       if (p.loading() && !t.ticket_hash.empty()) {
                         std::string why;
                         if (!auth::parse_ticket_hash(t.ticket_hash, why)) p.fail_at("ticket_hash", why);
                       }
                     });
                   });
  optional_section(r, "wampcra", a.wampcra,
                   {"WAMP-CRA: HMAC-SHA256 challenge-response; salted principals store the derived key"},
                   [](reader& x, auth::method_config<auth::wampcra_principal>& m) {
                     walk_method<auth::wampcra_principal>(x, m, [](reader& p, auth::wampcra_principal& c) {
                       walk_role(p, c.role);
                       p.string("secret", c.secret, {"unsalted: the shared secret", "\"s3cr3t\""}, 1);
                       p.string("derived_key", c.derived_key,
                                {"salted: base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)) "
                                 "(junction --make-secret wampcra)",
                                 "\"q2xjL8...=\""},
                                1);
                       p.string("salt", c.salt, {"salted: the salt the client derives with", "\"Zm9vYmFy\""}, 1);
                       p.integer<std::uint32_t>("iterations", c.iterations, 1, 10'000'000,
                                                {"salted: PBKDF2 iterations", "1000"});
                       p.integer<std::uint32_t>("keylen", c.keylen, 16, 128, {"salted: derived key length", "32"});
                       p.exactly_one("secret", "derived_key");
                       p.when_present("derived_key", {"salt"});
                     });
                   });
  optional_section(r, "cryptosign", a.cryptosign,
                   {"WAMP-Cryptosign: Ed25519 public keys, optional TLS channel binding and router "
                    "authentication"},
                   [](reader& x, auth::cryptosign_config& m) {
                     walk_method<auth::cryptosign_principal>(x, m, [](reader& p, auth::cryptosign_principal& c) {
                       walk_role(p, c.role);
                       p.strings("authorized_keys", c.authorized_keys,
                                 {"the principal's Ed25519 public keys, 64 hex characters each",
                                  "[\"545efb0a2192db8d43f118e9bf9aee081466e1ef36c708b96ee6f62dddad9122\"]", true});
                       if (p.loading())
                         for (std::size_t i = 0; i < c.authorized_keys.size(); ++i) {
                           auto k = crypto::hex_decode(c.authorized_keys[i]);
                           if (!k || k->size() != 32)
                             p.fail_at("authorized_keys", "element " + std::to_string(i) +
                                                              " is not an Ed25519 public key (64 hex characters)");
                         }
                     });
                     x.string("router_key", m.router_key,
                              {"the router's Ed25519 private key (64 hex characters) for router "
                               "authentication: a client's own challenge is signed with it",
                               "\"4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510\""},
                              64);
                   });
  auto scram = [](reader& x, auth::method_config<auth::scram_principal>& m) {
    walk_method<auth::scram_principal>(x, m, [](reader& p, auth::scram_principal& c) {
      walk_role(p, c.role);
      p.string("kdf", c.kdf, {"\"argon2id13\" or \"pbkdf2\"", "\"argon2id13\""}, 1);
      p.string("salt", c.salt, {"base64", "\"6RDSrcRhSxgWGJoFaUJ4yA==\"", true}, 1);
      p.integer<std::uint32_t>("iterations", c.iterations, 1, 100'000'000, {"KDF iterations", "4096"});
      p.integer<std::uint32_t>("memory", c.memory, 8, 4'194'304, {"Argon2id memory in KiB", "65536"});
      p.string("stored_key", c.stored_key, {"base64 StoredKey", nullptr, true}, 1);
      p.string("server_key", c.server_key, {"base64 ServerKey", nullptr, true}, 1);
    });
  };
  optional_section(r, "wamp-scram", a.scram,
                   {"WAMP-SCRAM as the spec says (RFC 5802/7677, SHA-256, argon2id13 or pbkdf2); "
                    "stores salt, KDF parameters, StoredKey and ServerKey (junction --make-secret "
                    "wamp-scram)"},
                   scram);
  optional_section(r, "scram", a.scram_autobahn,
                   {"Autobahn|Python 22.x's prototype of SCRAM (authmethod \"scram\"); same keys "
                    "(junction --make-secret scram)"},
                   scram);
  optional_section(r, "tls", a.tls,
                   {"TLS client certificates verified by the listener's CA (verify_client), mapped "
                    "to principals by CN, subjectAltName or SHA-256 fingerprint"},
                   [](reader& x, auth::method_config<auth::tls_principal>& m) {
                     walk_method<auth::tls_principal>(x, m, [](reader& p, auth::tls_principal& c) {
                       walk_role(p, c.role);
                       p.string("cn", c.cn, {"the certificate's subject common name", "\"alice\""}, 1);
                       p.string("san", c.san, {"one of its subjectAltNames", "\"alice.example.com\""}, 1);
                       p.string("fingerprint", c.fingerprint,
                                {"its SHA-256 fingerprint, hex (colons allowed)", nullptr}, 1);
                       p.at_least_one({"cn", "san", "fingerprint"});
                     });
                   });
  r.milliseconds("challenge_timeout_ms", a.challenge_timeout, 100, 600'000,
                 {"a CHALLENGE must be answered within this, or the connection closes", "10000"});
  r.milliseconds("authenticator_timeout_ms", a.authenticator_timeout, 100, 600'000,
                 {"a dynamic authenticator must answer within this (else ABORT "
                  "wamp.error.authentication_failed)",
                  "5000"});
  r.boolean("kill_removed_principals", a.kill_removed_principals,
            {"on reload, end the sessions of principals no longer in the file (otherwise only new "
             "sessions see the change)"});
}

// ---- authorization (issue 14) ---------------------------------------------------------------------

void walk_permission(reader& r, auth::permission_config& p) {
  r.describe_object("what a role may do on a URI, or a pattern of URIs");
  r.string("uri", p.uri, {"the URI, or the prefix or wildcard pattern", "\"com.example.\"", true}, 1);
  r.choice("match", p.match,
           {{"exact", match_policy::exact}, {"prefix", match_policy::prefix}, {"wildcard", match_policy::wildcard}},
           {"how uri matches: exact, prefix (by characters) or wildcard (empty components match any); "
            "the most specific permission wins, as for registrations",
            "\"prefix\""});
  r.object("allow", {"the actions allowed (all false by default)"}, [&](reader& a) {
    a.boolean("call", p.call, {"CALL"});
    a.boolean("register", p.register_, {"REGISTER"});
    a.boolean("publish", p.publish, {"PUBLISH"});
    a.boolean("subscribe", p.subscribe, {"SUBSCRIBE"});
  });
  r.object("disclose", {"identification forced by this permission"}, [&](reader& d) {
    d.boolean("caller", p.disclose_caller,
              {"callees of the calls it allows learn who calls (unless the realm's disclose_caller is never)"});
    d.boolean("publisher", p.disclose_publisher,
              {"subscribers of the publications it allows learn who published (unless the realm's "
               "disclose_publisher is never)"});
  });
  if (r.loading()) {
    const uri_form form = p.match == match_policy::prefix     ? uri_form::prefix
                          : p.match == match_policy::wildcard ? uri_form::wildcard
                                                              : uri_form::plain;
    if (!p.uri.empty() && !is_valid_uri(p.uri, uri_policy::loose, form))
      r.fail_at("uri", "\"" + p.uri + "\" is not a valid URI for match " + std::string(to_string(p.match)));
  }
}

void walk_role_config(reader& r, auth::role_config& role) {
  r.describe_object("a role: the permissions of the sessions that have it, or the authorizer that decides for them");
  r.string("name", role.name, {"the authrole, as authentication grants it", "\"frontend\"", true}, 1);
  r.array<auth::permission_config>("permissions", role.permissions, 0,
                                   {"what the role may do; anything no permission allows is denied"},
                                   walk_permission);
  r.string("authorizer", role.authorizer,
           {"instead of permissions: the procedure that decides (dynamic), called with (session, uri, "
            "action, options) and answering true/false or {allow, disclose, cache, ttl}",
            "\"com.example.authorize\""},
           1);
  r.string("authorizer_realm", role.authorizer_realm,
           {"the realm where the authorizer is registered (default: this realm)", "\"auth\""}, 1);
  if (r.loading() && r.has("permissions") && r.has("authorizer"))
    r.fail_at("authorizer", "not allowed with permissions (a role is static or dynamic)");
  r.drop_empty_alternative("permissions", "authorizer");
  if (r.loading()) {
    std::map<std::pair<std::string, int>, std::size_t> seen;
    for (std::size_t i = 0; i < role.permissions.size(); ++i) {
      const auto& p = role.permissions[i];
      auto [it, fresh] = seen.emplace(std::make_pair(p.uri, static_cast<int>(p.match)), i);
      if (!fresh)
        r.fail_at("permissions", "element " + std::to_string(i) + " repeats the uri and match of element " +
                                     std::to_string(it->second));
    }
  }
}

void walk_authorization(reader& r, auth::realm_authorization& a) {
  r.milliseconds("authorizer_timeout_ms", a.authorizer_timeout, 100, 600'000,
                 {"a dynamic authorizer must answer within this; otherwise the action is denied", "5000"});
  r.milliseconds("cache_ttl_ms", a.cache_ttl, 0, 86'400'000,
                 {"how long an answer with cache:true and no ttl of its own is kept", "60000"});
  r.integer<std::size_t>("cache_entries", a.cache_entries, 0, 10'000'000,
                         {"cached authorizer answers at most (least recently used go first)", "10000"});
  r.boolean("revoke_on_reload", a.revoke_on_reload,
            {"on reload, revoke the registrations and subscriptions the new roles forbid (false: they "
             "live until their session ends)"});
}

void walk_bridge(reader& r, http_bridge_config& b) {
  r.string("path", b.path,
           {"the bridge's base path: POST PATH/publish and PATH/call (docs/BRIDGE.md)", "\"/bridge/realm1\"", true},
           2);
  if (r.loading() && (b.path.front() != '/' || b.path.back() == '/' || b.path.find_first_of("?# ") != std::string::npos))
    r.fail_at("path", "must start with '/' and end without one, with no '?', '#' or space");
  r.milliseconds("call_timeout_ms", b.call_timeout, 1, 3'600'000,
                 {"a call's timeout unless its options give one; then the request gets 504", "10000"});
  r.integer<std::size_t>("max_body_bytes", b.max_body, 64, std::size_t{64} << 20,
                         {"the largest request body (413 past it)", "1048576"});
  r.array<auth::bridge_token>(
      "tokens", b.auth.tokens, 0, {"bearer tokens (Authorization: Bearer TOKEN), stored as SHA-256"},
      [](reader& t, auth::bridge_token& tok) {
        t.describe_object("a bearer token and the principal it stands for");
        t.string("token_sha256", tok.sha256_hex,
                 {"the token's SHA-256 in hex (printf %s \"$TOKEN\" | sha256sum)",
                  "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"", true},
                 64);
        if (t.loading()) {
          for (char& ch : tok.sha256_hex) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          if (tok.sha256_hex.size() != 64 || tok.sha256_hex.find_first_not_of("0123456789abcdef") != std::string::npos)
            t.fail_at("token_sha256", "must be 64 hex digits (a SHA-256)");
        }
        t.string("authid", tok.authid, {"the principal's authid", "\"billing\"", true}, 1);
        t.string("authrole", tok.authrole, {"the principal's authrole", "\"backend\"", true}, 1);
      });
  r.array<auth::bridge_key>(
      "keys", b.auth.keys, 0,
      {"signing keys for Crossbar-style signed requests (query: key, timestamp, seq, nonce, signature)"},
      [](reader& k, auth::bridge_key& key) {
        k.describe_object("a signing key and the principal it stands for");
        k.string("key", key.key, {"the key's name, as the request's key parameter gives it", "\"billing-app\"", true}, 1);
        k.string("secret", key.secret, {"the shared secret HMAC-SHA256 signs with", "\"kkjH68GiuUZ\"", true}, 16);
        k.string("authid", key.authid, {"the principal's authid", "\"billing\"", true}, 1);
        k.string("authrole", key.authrole, {"the principal's authrole", "\"backend\"", true}, 1);
      });
  r.string("anonymous_role", b.auth.anonymous_role,
           {"requests without credentials run with this role (absent: they get 401)", "\"public\""}, 1);
  std::uint64_t skew = static_cast<std::uint64_t>(b.auth.max_clock_skew.count());
  r.integer<std::uint64_t>("max_clock_skew_s", skew, 1, 86'400,
                           {"a signed request's timestamp may be this far from the router's clock", "300"});
  b.auth.max_clock_skew = std::chrono::seconds(skew);
  if (r.loading()) {
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < b.auth.keys.size(); ++i)
      if (auto [it, fresh] = seen.emplace(b.auth.keys[i].key, i); !fresh)
        r.fail_at("keys", "element " + std::to_string(i) + " repeats the key of element " + std::to_string(it->second));
  }
}

void walk_realm(reader& r, realm_settings& c) {
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
  r.choice("slow_consumer", c.slow_consumer,
           {{"disconnect", slow_consumer_policy::disconnect}, {"drop-events", slow_consumer_policy::drop_events}},
           {"a subscriber that reads too slowly: disconnect (its publishers wait while more than half "
            "of limits.max_outbound_bytes is queued for it; if it takes nothing for "
            "limits.slow_consumer_timeout_ms, or passes max_outbound_bytes, it is closed) or "
            "drop-events (EVENTs to it are skipped while more than limits.event_backlog_bytes wait, "
            "counted in junction_events_dropped_total; RESULT, ERROR and INVOCATION never are)",
            "\"drop-events\""});
  r.object("session_limits",
           {"what one session may hold at once; a request beyond a limit gets wamp.error.limit_exceeded "
            "(0: no limit)"},
           [&](reader& l) {
             l.integer<std::size_t>("calls_in_flight", c.limits.calls_in_flight, 0, 100'000'000,
                                    {"CALLs of one caller not yet answered", "100"});
             l.integer<std::size_t>("registrations", c.limits.registrations, 0, 100'000'000,
                                    {"procedures one session has registered", "100"});
             l.integer<std::size_t>("subscriptions", c.limits.subscriptions, 0, 100'000'000,
                                    {"topics one session has subscribed to", "1000"});
           });
  if (r.current_mode() != reader::mode::write || c.auth.configured)
    r.object("auth", {"how the realm authenticates (docs/AUTH.md); without it: anonymous only"},
             [&](reader& a) { walk_auth(a, c.auth); });
  if (r.loading()) c.authorization.configured = r.has("roles");
  if (r.current_mode() != reader::mode::write || c.authorization.configured)
    r.array<auth::role_config>("roles", c.authorization.roles, 0,
                               {"what each role may do (docs/AUTHORIZATION.md); with this section, "
                                "anything not allowed is denied; without it, everything is allowed"},
                               walk_role_config);
  r.object("authorization", {"settings of the realm's authorization"},
           [&](reader& a) { walk_authorization(a, c.authorization); });
  optional_section(r, "http_bridge", c.bridge,
                   {"HTTP clients publish and call in this realm (docs/BRIDGE.md); absent: no bridge"}, walk_bridge);
  if (r.loading()) {
    std::map<std::string, std::size_t> names;
    for (std::size_t i = 0; i < c.authorization.roles.size(); ++i) {
      auto [it, fresh] = names.emplace(c.authorization.roles[i].name, i);
      if (!fresh)
        r.fail_at("roles", "role \"" + it->first + "\" is defined twice (elements " + std::to_string(it->second) +
                               " and " + std::to_string(i) + ")");
    }
  }
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
                 {"keep polling this long after the last message before sleeping; 0 (the default) "
                  "never spins. 30 cuts a lone call's latency about threefold on a VM and costs "
                  "8-25 % more CPU per call at moderate load (docs/PERFORMANCE.md)",
                  "30"});
  r.integer<unsigned>("threads", c.threads, 0, 1024,
                      {"I/O threads, each an event loop with its share of the connections, all serving "
                       "every realm (docs/THREADING.md); 0: one per CPU the process may run on; 1 (the "
                       "default, docs/PERFORMANCE.md \"Threads\"): single-threaded. Read at start (a "
                       "reload does not change it)",
                       "4"});
  r.boolean("strict_request_ids", c.strict_request_ids,
            {"require client request ids 1, 2, 3, ... as the spec says (off: many deployed "
             "clients do not send them in order)"});
  r.object("limits", {"router-wide limits"}, [&](reader& l) {
    l.integer<std::size_t>("max_outbound_bytes", c.max_outbound_bytes, 65536, std::size_t{1} << 40,
                           {"bytes queued for a client that does not read before it is closed as a "
                            "slow consumer (logged, counted); from half of it the client counts as "
                            "congested: the router stops reading from it and, in drop-events realms, "
                            "skips EVENTs to it (docs/OPERATIONS.md, \"Slow consumers and floods\")",
                            "4194304"});
    l.integer<std::size_t>("event_backlog_bytes", c.event_backlog_bytes, 4096, std::size_t{1} << 40,
                           {"in realms with slow_consumer \"drop-events\": EVENTs to a client with more "
                            "than this waiting to be written are skipped (counted)",
                            "262144"});
    l.milliseconds("slow_consumer_timeout_ms", c.slow_consumer_timeout, 100, 600'000,
                   {"a congested client that takes no bytes for this long is closed as a slow consumer "
                    "(meanwhile, who sends to it waits)",
                    "5000"});
  });
  r.object("auth_throttle",
           {"failed authentications per peer address: after `failures` within `window_ms`, that "
            "address's attempts are refused for `lockout_ms`, doubled at each further lockout"},
           [&](reader& t) {
             auth::throttle_config& a = c.auth_throttle;
             t.integer<std::uint32_t>("failures", a.failures, 0, 1'000'000,
                                      {"failures that start a lockout (0 turns throttling off)", "5"});
             t.milliseconds("window_ms", a.window, 1000, 86'400'000, {"the window they are counted in", "60000"});
             t.milliseconds("lockout_ms", a.lockout, 100, 86'400'000, {"the first lockout", "30000"});
             t.milliseconds("max_lockout_ms", a.max_lockout, 100, 604'800'000,
                            {"the longest lockout", "900000"});
             t.integer<std::size_t>("max_addresses", a.max_addresses, 16, 10'000'000,
                                    {"addresses remembered at most (the oldest is forgotten first)", "65536"});
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
  r.object("console", {"the web console, served on console listeners (docs/OPERATIONS.md, \"Web console\")"},
           [&](reader& w) {
             w.string("path", c.console_path, {"its URL path", "\"/console\""}, 2);
             if (w.loading() && (c.console_path.front() != '/' || c.console_path.back() == '/'))
               w.fail_at("path", "must start with '/' and not end with one");
             w.string("directory", c.console_directory,
                      {"where its files are (index.html, console.js, console.css, vendor/autobahn.min.js); "
                       "default: the build's web/console",
                       "\"/usr/share/junction/console\""},
                      1);
           });
  r.array<listener_config>("listeners", c.listeners, 1,
                           {"where Junction listens; the default is one universal listener on "
                            "127.0.0.1:8080 (WebSocket at /ws, RawSocket, HTTP admin routes)"},
                           walk_listener);
  r.array<realm_settings>("realms", c.realms, 1, {"the realms served; the default is realm1"},
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

std::string realm_auth_json(const auth::realm_auth& auth) {
  rapidjson::Document d;
  auth::realm_auth copy = auth;
  {
    reader r(d, d.GetAllocator());
    walk_auth(r, copy);
  }
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  d.Accept(w);
  return {b.GetString(), b.GetSize()};
}

std::string realm_authorization_json(const auth::realm_authorization& a) {
  rapidjson::Document d;
  auth::realm_authorization copy = a;
  {
    reader r(d, d.GetAllocator());
    r.array<auth::role_config>("roles", copy.roles, 0, {""}, walk_role_config);
    r.boolean("configured", copy.configured, {""});
    walk_authorization(r, copy);
  }
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  d.Accept(w);
  return {b.GetString(), b.GetSize()};
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
