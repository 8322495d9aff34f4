// auth/crypto.hpp — the few primitives authentication needs, as thin wrappers over OpenSSL's
// EVP API (and libargon2 for Argon2id). Byte strings are std::string; nothing here logs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace junction::crypto {

// `n` bytes from the operating system's CSPRNG (RAND_bytes); throws if it fails.
[[nodiscard]] std::string random_bytes(std::size_t n);

[[nodiscard]] std::string sha256(std::string_view data);
[[nodiscard]] std::string hmac_sha256(std::string_view key, std::string_view message);
// PBKDF2-HMAC-SHA256 (RFC 8018).
[[nodiscard]] std::string pbkdf2_sha256(std::string_view password, std::string_view salt,
                                        std::uint32_t iterations, std::size_t length);
// Argon2id v1.3 (libargon2), `memory_kib` KiB, `iterations` passes, `parallelism` lanes.
[[nodiscard]] std::string argon2id(std::string_view password, std::string_view salt,
                                   std::uint32_t iterations, std::uint32_t memory_kib,
                                   std::uint32_t parallelism, std::size_t length);

// Equal length and equal bytes, in time that depends only on the length (CRYPTO_memcmp).
[[nodiscard]] bool equal(std::string_view a, std::string_view b) noexcept;

[[nodiscard]] std::string hex_encode(std::string_view bytes);
// Lower or upper case; nullopt on an odd length or a non-hex character.
[[nodiscard]] std::optional<std::string> hex_decode(std::string_view text);

// Ed25519 (RFC 8032) through EVP_PKEY_ED25519. `seed` is the 32-byte private key.
[[nodiscard]] std::string ed25519_public_key(std::string_view seed);
[[nodiscard]] std::string ed25519_sign(std::string_view seed, std::string_view message);
[[nodiscard]] bool ed25519_verify(std::string_view public_key, std::string_view message,
                                  std::string_view signature) noexcept;

}  // namespace junction::crypto
