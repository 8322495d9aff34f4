#include "router/ops/make_secret.hpp"

#include "auth/crypto.hpp"
#include "auth/secrets.hpp"
#include "serializers/base64.hpp"

namespace junction {

std::string make_secret(const std::string& method, const std::string& kdf, const std::string& secret) {
  using namespace auth;
  auto quoted = [](const std::string& s) { return "\"" + s + "\""; };
  if (method == "ticket") {
    const auto algorithm = kdf == "argon2id" ? ticket_hash::kdf::argon2id : ticket_hash::kdf::pbkdf2_sha256;
    return "\"ticket_hash\": " + quoted(hash_ticket(secret, algorithm)) + "\n";
  }
  if (method == "wampcra") {
    // Clients derive this at each login with the parameters of the CHALLENGE.
    const std::string salt = base64_encode(crypto::random_bytes(16));
    const std::uint32_t iterations = 10000, keylen = 32;
    return "\"derived_key\": " + quoted(wampcra_derive_key(secret, salt, iterations, keylen)) +
           ", \"salt\": " + quoted(salt) + ", \"iterations\": " + std::to_string(iterations) +
           ", \"keylen\": " + std::to_string(keylen) + "\n";
  }
  if (method == "wamp-scram" || method == "scram") {
    const auto dialect = method == "scram" ? scram_dialect::autobahn : scram_dialect::spec;
    const bool pbkdf2 = kdf == "pbkdf2";
    const std::string salt = crypto::random_bytes(16);
    const std::uint32_t iterations = pbkdf2 ? 100000 : 3, memory = 65536;
    const scram_keys keys = scram_keys_from(
        scram_salted_password(dialect, pbkdf2 ? "pbkdf2" : "argon2id13", secret, salt, iterations, memory));
    std::string out = "\"kdf\": " + quoted(pbkdf2 ? "pbkdf2" : "argon2id13") + ", \"salt\": " +
                      quoted(base64_encode(salt)) + ", \"iterations\": " + std::to_string(iterations);
    if (!pbkdf2) out += ", \"memory\": " + std::to_string(memory);
    return out + ", \"stored_key\": " + quoted(base64_encode(keys.stored_key)) + ", \"server_key\": " +
           quoted(base64_encode(keys.server_key)) + "\n";
  }
  // cryptosign: a key pair; the private key goes to the client (or to router_key).
  const std::string seed = crypto::random_bytes(32);
  return "\"private_key\": " + quoted(crypto::hex_encode(seed)) + "  (for the client, or router_key)\n" +
         "\"authorized_keys\": [" + quoted(crypto::hex_encode(crypto::ed25519_public_key(seed))) + "]\n";
}

}  // namespace junction
