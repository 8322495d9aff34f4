// auth/authenticator.hpp — authentication as a step machine (DESIGN.md §1):
//   HELLO        → success (WELCOME) | challenge (CHALLENGE) | reject (ABORT)
//   AUTHENTICATE → success | reject
// Authenticators never block and never touch sockets. Ticket, WAMP-CRA and cryptosign plug in
// here later; today only anonymous exists.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "serializers/errors.hpp"
#include "serializers/message.hpp"

namespace junction {

struct auth_success {
  std::string authid;
  std::string authrole;
  std::string authmethod;
  std::string authprovider;
  object authextra;
};

struct auth_challenge {
  std::string authmethod;
  object extra;
};

struct auth_reject {
  errc reason;
  std::string message;
};

using auth_step = std::variant<auth_success, auth_challenge, auth_reject>;

class authenticator {
 public:
  virtual ~authenticator() = default;
  [[nodiscard]] virtual std::string_view method() const noexcept = 0;
  virtual auth_step on_hello(const hello& h) = 0;
  virtual auth_step on_authenticate(const authenticate& a) = 0;
};

// Picks the authenticator for a HELLO: the first of the client's HELLO.Details.authmethods
// (default ["anonymous"]) that the realm offers. nullptr → no acceptable method.
std::unique_ptr<authenticator> select_authenticator(const hello& h);

}  // namespace junction
