// router/ops/make_secret.hpp — `junction --make-secret METHOD`: what a principal's entry in the
// config file holds instead of the secret (docs/AUTH.md).
#pragma once

#include <string>

namespace junction {

// The JSON members to paste into a principal of `method` (ticket, wampcra, wamp-scram, scram),
// derived from `secret`; for cryptosign a new key pair (the secret is not used). `kdf`: "",
// "pbkdf2" or "argon2id".
std::string make_secret(const std::string& method, const std::string& kdf, const std::string& secret);

}  // namespace junction
