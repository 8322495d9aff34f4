// auth/anonymous.hpp — anonymous authentication: every session gets a random authid and the
// role "anonymous" (spec advanced/authentication: anonymous).
#pragma once

#include "auth/authenticator.hpp"

namespace junction {

class anonymous_authenticator final : public authenticator {
 public:
  [[nodiscard]] std::string_view method() const noexcept override { return "anonymous"; }
  auth_step on_hello(const hello& h) override;
  auth_step on_authenticate(const authenticate& a) override;
};

// A random, human-readable authid such as "5RQC-PTMW-X3LK-9HAV" (Crossbar's shape).
std::string random_authid();

}  // namespace junction
