// auth/authenticator.hpp — authentication as a step machine (DESIGN.md §7): no I/O, no clock but
// the one it is given, nothing that blocks.
//
//   on_hello(facts)            → welcome | challenge | reject | lookup | work
//   on_authenticate(message)   → welcome | reject | lookup | work
//   on_lookup(answer)          → welcome | challenge | reject        (dynamic authenticators)
//   on_work(ok)                → welcome | reject                   (slow hashes, off the loop)
//
// The session drives it: it sends CHALLENGE and waits for AUTHENTICATE (at most the realm's
// challenge_timeout), performs a `lookup` as a WAMP call to the realm's authenticator procedure,
// runs `work` (a key derivation that takes milliseconds, e.g. a ticket's PBKDF2) on a worker
// thread, and answers WELCOME or ABORT. A `reject` names the precise reason for the log; the client
// hears only wamp.error.authentication_failed "authentication failed", the same for an unknown
// authid as for a wrong secret (an unknown authid is challenged like a known one).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "auth/config.hpp"
#include "serializers/errors.hpp"
#include "serializers/message.hpp"

namespace junction::auth {

// A verified TLS client certificate.
struct peer_certificate {
  std::string cn;                 // subject common name
  std::vector<std::string> sans;  // subjectAltName DNS names, emails, URIs, IPs (text)
  std::string fingerprint;        // SHA-256 of the DER certificate, lower-case hex
};

// What the router knows about a client when it says HELLO.
struct client_facts {
  std::string realm;
  std::string authid;     // HELLO.Details.authid, "" when absent
  std::string authrole;   // HELLO.Details.authrole (a request; the router decides)
  object authextra;       // HELLO.Details.authextra
  id session = 0;         // the session id WELCOME will carry
  std::string transport;  // "websocket", "rawsocket"
  std::string protocol;   // "wamp.2.json", ...
  std::string peer;       // "127.0.0.1:51234", "unix"
  // TLS channel bindings (RFC 5929 tls-unique for TLS 1.2, RFC 9266 tls-exporter for TLS 1.3):
  // 32 bytes each, empty when the connection has none of that kind.
  std::string tls_unique;
  std::string tls_exporter;
  std::optional<peer_certificate> certificate;
  // The time for WAMP-CRA's challenge timestamp (ISO 8601, UTC, milliseconds).
  std::string now_iso8601;
};

struct welcome_step {
  std::string authid;
  std::string authrole;
  std::string authmethod;
  std::string authprovider;  // "static" or "dynamic"
  object authextra;
  std::string realm;  // a dynamic authenticator may send the session to another realm; "" = asked
};

struct challenge_step {
  std::string authmethod;
  object extra;
};

struct reject_step {
  errc reason = errc::authentication_failed;
  std::string log;  // why, for the log only (never a secret)
};

// Call the dynamic authenticator: `procedure` on `realm` with args [realm, authid, details].
struct lookup_step {
  std::string procedure;
  std::string realm;
  array args;
};

// A verification that takes milliseconds of CPU (a ticket's key derivation): the session runs it
// off the event loop and feeds the result to on_work.
struct work_step {
  std::function<bool()> verify;
};

using step = std::variant<welcome_step, challenge_step, reject_step, lookup_step, work_step>;

// The dynamic authenticator's answer: its RESULT (args and kwargs), or its ERROR.
struct lookup_answer {
  bool ok = false;
  std::string error;  // the ERROR's URI, or "wamp.error.timeout", ... when !ok
  array args;
  object kwargs;
};

class authenticator {
 public:
  virtual ~authenticator() = default;
  [[nodiscard]] virtual const char* method() const noexcept = 0;
  virtual step on_hello(const client_facts& facts) = 0;
  virtual step on_authenticate(const authenticate& m) = 0;
  virtual step on_lookup(const lookup_answer& answer);
  virtual step on_work(bool ok);
};

// Secrets the router keeps for itself: the key behind the mock challenges of unknown authids
// (deterministic per configuration, so that they look like a known principal's, which never
// change either).
struct router_secrets {
  std::string mock_key;
};

// The authenticator for a HELLO: the first of HELLO.Details.authmethods (default ["anonymous"])
// that the realm offers; nullptr when none is (ABORT wamp.error.no_auth_method).
// The configuration is shared: a handshake in progress keeps the one it started with across a
// reload.
std::unique_ptr<authenticator> select(const std::shared_ptr<const realm_auth>& config,
                                      const object& hello_details, const router_secrets& secrets);

// The methods a realm offers, for the ABORT message ("this realm offers ticket, wampcra").
std::vector<std::string> offered_methods(const realm_auth& config);

// A random, human-readable authid such as "5RQC-PTMW-X3LK-9HAV" (Crossbar's shape).
std::string random_authid();

}  // namespace junction::auth
