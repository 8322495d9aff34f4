// auth/secrets.hpp — stored forms of secrets: what the config file holds instead of the secret,
// how the router checks a secret against it, and how `junction --make-secret` makes them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/config.hpp"

namespace junction::auth {

// ---- tickets ------------------------------------------------------------------------------------
// "pbkdf2-sha256$ITERATIONS$SALT_B64$HASH_B64" or "argon2id$ITERATIONS$MEMORY_KIB$SALT_B64$HASH_B64".
struct ticket_hash {
  enum class kdf { pbkdf2_sha256, argon2id } algorithm = kdf::pbkdf2_sha256;
  std::uint32_t iterations = 0;
  std::uint32_t memory_kib = 0;  // argon2id
  std::string salt;              // raw bytes
  std::string hash;              // raw bytes
};
// nullopt (with `why`) when `text` is not one of the two forms.
[[nodiscard]] std::optional<ticket_hash> parse_ticket_hash(std::string_view text, std::string& why);
[[nodiscard]] std::string format_ticket_hash(const ticket_hash& h);
// Derives `ticket` with h's parameters and compares in constant time. Milliseconds of CPU.
[[nodiscard]] bool verify_ticket(const ticket_hash& h, std::string_view ticket);
// A new hash of `ticket`: PBKDF2-SHA256 with 100,000 iterations or Argon2id with t=2, m=19 MiB
// (about 30 ms each); a random 16-byte salt.
[[nodiscard]] std::string hash_ticket(std::string_view ticket, ticket_hash::kdf algorithm);

// ---- WAMP-CRA -----------------------------------------------------------------------------------
// What a client signs with when the challenge is salted: base64(PBKDF2-HMAC-SHA256(secret, salt,
// iterations, keylen)) — the base64 text itself is the HMAC key (Autobahn, Crossbar).
[[nodiscard]] std::string wampcra_derive_key(std::string_view secret, std::string_view salt,
                                             std::uint32_t iterations, std::uint32_t keylen);
// base64(HMAC-SHA256(key, challenge)): the AUTHENTICATE signature.
[[nodiscard]] std::string wampcra_sign(std::string_view key, std::string_view challenge);

// ---- WAMP-SCRAM ---------------------------------------------------------------------------------
// Two dialects share the principal's shape:
//   spec      "wamp-scram": RFC 5802/7677 with SHA-256; kdf "argon2id13" (SaltedPassword = raw
//             Argon2id output) or "pbkdf2"; c= base64(GS2 header + channel binding data);
//             WELCOME authextra.verifier.
//   autobahn  "scram": Autobahn|Python 22.x's prototype: kdf "argon2id-13", SaltedPassword = the
//             unpadded base64 text of the Argon2id output, c= the challenge's channel_binding
//             text, WELCOME authextra.scram_server_signature.
enum class scram_dialect { spec, autobahn };
struct scram_keys {
  std::string stored_key;  // raw
  std::string server_key;  // raw
};
// SaltedPassword for a principal's parameters (`salt` raw bytes).
[[nodiscard]] std::string scram_salted_password(scram_dialect dialect, std::string_view kdf,
                                                std::string_view password, std::string_view salt,
                                                std::uint32_t iterations, std::uint32_t memory);
[[nodiscard]] scram_keys scram_keys_from(std::string_view salted_password);
// ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage); the router checks
// SHA-256(proof XOR HMAC(StoredKey, AuthMessage)) == StoredKey.
[[nodiscard]] bool scram_verify(std::string_view stored_key, std::string_view auth_message,
                                std::string_view proof);
[[nodiscard]] std::string scram_server_signature(std::string_view server_key, std::string_view auth_message);
// ",", "=" escaped as RFC 5802 says (=2C, =3D).
[[nodiscard]] std::string scram_escape(std::string_view authid);

}  // namespace junction::auth
