// auth/config.hpp — how a realm authenticates (config file: /realms/*/auth, docs/CONFIG.md).
//
// Each method a realm accepts is present; each either lists its principals by authid (static) or
// names a procedure that decides (dynamic, Crossbar's model). Secrets are stored the way the method
// allows without the clear secret: tickets as a salted hash (PBKDF2-SHA256 or Argon2id), WAMP-CRA
// salted as its derived key, WAMP-SCRAM as StoredKey and ServerKey; only an unsalted WAMP-CRA
// secret and a development ticket in clear (logged as a warning) remain secrets in the file.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace junction::auth {

struct ticket_principal {
  std::string role;
  // "pbkdf2-sha256$ITERATIONS$SALT_B64$HASH_B64" or
  // "argon2id$ITERATIONS$MEMORY_KIB$SALT_B64$HASH_B64" (`junction --hash-ticket` makes one).
  std::string ticket_hash;
  std::string ticket;  // in clear: for development only (a warning at start)
};

struct wampcra_principal {
  std::string role;
  std::string secret;       // unsalted WAMP-CRA: the shared secret itself
  // Salted WAMP-CRA: the client derives base64(PBKDF2-HMAC-SHA256(secret, salt, iterations,
  // keylen)) and signs with it; the router stores only that derived key (`junction
  // --derive-wampcra-key` makes one).
  std::string derived_key;  // base64, as the client computes it
  std::string salt;
  std::uint32_t iterations = 1000;
  std::uint32_t keylen = 32;
};

struct cryptosign_principal {
  std::string role;
  std::vector<std::string> authorized_keys;  // Ed25519 public keys, 64 hex characters each
};

struct scram_principal {
  std::string role;
  std::string kdf = "argon2id13";  // or "pbkdf2"
  std::string salt;                // base64
  std::uint32_t iterations = 4096;
  std::uint32_t memory = 65536;    // KiB (argon2id13 only)
  std::string stored_key;          // base64 SHA-256(HMAC(SaltedPassword, "Client Key"))
  std::string server_key;          // base64 HMAC(SaltedPassword, "Server Key")
};

// TLS client certificates (verified against the listener's CA): a principal matches by the
// certificate's subject CN, one of its subjectAltNames, or its SHA-256 fingerprint (hex).
struct tls_principal {
  std::string role;
  std::string cn;
  std::string san;
  std::string fingerprint;
};

// Dynamic: the router calls `procedure` (registered on `realm`, default the session's own) with
// (realm, authid, details) and reads {role, authid?, realm?, extra?, secret?...} from the answer.
struct dynamic_authenticator {
  std::string procedure;
  std::string realm;
};

template <class Principal>
struct method_config {
  std::map<std::string, Principal, std::less<>> principals;  // by authid
  dynamic_authenticator authenticator;                       // procedure empty: static
  [[nodiscard]] bool dynamic() const noexcept { return !authenticator.procedure.empty(); }
};

struct anonymous_config {
  std::string role = "anonymous";
};

struct cryptosign_config : method_config<cryptosign_principal> {
  // Router authentication: when a client sends its own challenge (HELLO authextra.challenge),
  // the router signs it with this Ed25519 key (64 hex characters of seed).
  std::string router_key;
};

struct realm_auth {
  // Absent from the file: the realm is anonymous-only (role "anonymous"), as without an `auth`
  // section. Present: only the methods listed.
  bool configured = false;
  std::optional<anonymous_config> anonymous;
  std::optional<method_config<ticket_principal>> ticket;
  std::optional<method_config<wampcra_principal>> wampcra;
  std::optional<cryptosign_config> cryptosign;
  std::optional<method_config<scram_principal>> scram;           // "wamp-scram" (the spec)
  std::optional<method_config<scram_principal>> scram_autobahn;  // "scram" (Autobahn|Python 22.x)
  std::optional<method_config<tls_principal>> tls;
  std::chrono::milliseconds challenge_timeout{10000};
  std::chrono::milliseconds authenticator_timeout{5000};
  // On reload, sessions of principals no longer in the file are killed (GOODBYE
  // wamp.close.killed); otherwise they live on and only new sessions see the change.
  bool kill_removed_principals = false;
};

// Repeated failures from one peer address: after `failures` within `window`, HELLOs from that
// address are refused for `lockout`, doubled at each further lockout up to `max_lockout`.
struct throttle_config {
  std::uint32_t failures = 5;
  std::chrono::milliseconds window{60000};
  std::chrono::milliseconds lockout{30000};
  std::chrono::milliseconds max_lockout{900000};
  std::size_t max_addresses = 65536;  // the table of recent failures is bounded
};

}  // namespace junction::auth
