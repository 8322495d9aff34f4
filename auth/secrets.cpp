#include "auth/secrets.hpp"

#include <charconv>
#include <vector>

#include "auth/crypto.hpp"
#include "serializers/base64.hpp"

namespace junction::auth {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = text.find(sep, start);
    out.push_back(text.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

bool parse_u32(std::string_view text, std::uint32_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && out > 0;
}

// Tickets are usually long random tokens, for which any salted hash makes a leaked config useless;
// these costs (about 30 ms of one core each here) also slow guessing of short ones without making
// a thousand reconnecting clients wait a minute: OWASP's floor for Argon2id (m=19 MiB, t=2) and
// 100,000 PBKDF2-SHA256 iterations.
constexpr std::uint32_t pbkdf2_default_iterations = 100000;
constexpr std::uint32_t argon2_default_iterations = 2;
constexpr std::uint32_t argon2_default_memory = 19456;

std::string unpadded_base64(std::string_view bytes) {
  std::string s = base64_encode(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

}  // namespace

std::optional<ticket_hash> parse_ticket_hash(std::string_view text, std::string& why) {
  const auto parts = split(text, '$');
  ticket_hash h;
  std::string_view salt, hash;
  if (parts.size() == 4 && parts[0] == "pbkdf2-sha256") {
    h.algorithm = ticket_hash::kdf::pbkdf2_sha256;
    if (!parse_u32(parts[1], h.iterations)) {
      why = "the iteration count is not a positive integer";
      return std::nullopt;
    }
    salt = parts[2];
    hash = parts[3];
  } else if (parts.size() == 5 && parts[0] == "argon2id") {
    h.algorithm = ticket_hash::kdf::argon2id;
    if (!parse_u32(parts[1], h.iterations) || !parse_u32(parts[2], h.memory_kib) || h.memory_kib < 8) {
      why = "the iteration count and memory (KiB, at least 8) must be positive integers";
      return std::nullopt;
    }
    salt = parts[3];
    hash = parts[4];
  } else {
    why = "expected pbkdf2-sha256$ITERATIONS$SALT$HASH or argon2id$ITERATIONS$MEMORY_KIB$SALT$HASH "
          "(junction --make-secret ticket)";
    return std::nullopt;
  }
  auto s = base64_decode(salt);
  auto d = base64_decode(hash);
  if (!s || !d || s->size() < 8 || d->size() < 16) {
    why = "the salt (at least 8 bytes) and hash (at least 16 bytes) must be padded base64";
    return std::nullopt;
  }
  h.salt = std::move(*s);
  h.hash = std::move(*d);
  return h;
}

std::string format_ticket_hash(const ticket_hash& h) {
  if (h.algorithm == ticket_hash::kdf::argon2id)
    return "argon2id$" + std::to_string(h.iterations) + "$" + std::to_string(h.memory_kib) + "$" +
           base64_encode(h.salt) + "$" + base64_encode(h.hash);
  return "pbkdf2-sha256$" + std::to_string(h.iterations) + "$" + base64_encode(h.salt) + "$" +
         base64_encode(h.hash);
}

bool verify_ticket(const ticket_hash& h, std::string_view ticket) {
  const std::string derived =
      h.algorithm == ticket_hash::kdf::argon2id
          ? crypto::argon2id(ticket, h.salt, h.iterations, h.memory_kib, 1, h.hash.size())
          : crypto::pbkdf2_sha256(ticket, h.salt, h.iterations, h.hash.size());
  return crypto::equal(derived, h.hash);
}

std::string hash_ticket(std::string_view ticket, ticket_hash::kdf algorithm) {
  ticket_hash h;
  h.algorithm = algorithm;
  h.salt = crypto::random_bytes(16);
  if (algorithm == ticket_hash::kdf::argon2id) {
    h.iterations = argon2_default_iterations;
    h.memory_kib = argon2_default_memory;
    h.hash = crypto::argon2id(ticket, h.salt, h.iterations, h.memory_kib, 1, 32);
  } else {
    h.iterations = pbkdf2_default_iterations;
    h.hash = crypto::pbkdf2_sha256(ticket, h.salt, h.iterations, 32);
  }
  return format_ticket_hash(h);
}

std::string wampcra_derive_key(std::string_view secret, std::string_view salt, std::uint32_t iterations,
                               std::uint32_t keylen) {
  return base64_encode(crypto::pbkdf2_sha256(secret, salt, iterations, keylen));
}

std::string wampcra_sign(std::string_view key, std::string_view challenge) {
  return base64_encode(crypto::hmac_sha256(key, challenge));
}

std::string scram_salted_password(scram_dialect dialect, std::string_view kdf, std::string_view password,
                                  std::string_view salt, std::uint32_t iterations, std::uint32_t memory) {
  if (kdf == "pbkdf2") return crypto::pbkdf2_sha256(password, salt, iterations, 32);
  const std::string raw = crypto::argon2id(password, salt, iterations, memory, 1, 32);
  return dialect == scram_dialect::autobahn ? unpadded_base64(raw) : raw;
}

scram_keys scram_keys_from(std::string_view salted_password) {
  const std::string client_key = crypto::hmac_sha256(salted_password, "Client Key");
  return {crypto::sha256(client_key), crypto::hmac_sha256(salted_password, "Server Key")};
}

bool scram_verify(std::string_view stored_key, std::string_view auth_message, std::string_view proof) {
  const std::string signature = crypto::hmac_sha256(stored_key, auth_message);
  if (proof.size() != signature.size()) return false;
  std::string client_key(proof);
  for (std::size_t i = 0; i < client_key.size(); ++i) client_key[i] ^= signature[i];
  return crypto::equal(crypto::sha256(client_key), stored_key);
}

std::string scram_server_signature(std::string_view server_key, std::string_view auth_message) {
  return crypto::hmac_sha256(server_key, auth_message);
}

std::string scram_escape(std::string_view authid) {
  std::string out;
  for (char c : authid) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace junction::auth
