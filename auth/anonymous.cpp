#include "auth/anonymous.hpp"

#include <random>

namespace junction {

std::string random_authid() {
  // Crockford-like alphabet: no 0/O or 1/I confusion.
  static constexpr char alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
  thread_local std::mt19937_64 gen{(static_cast<unsigned long long>(std::random_device{}()) << 32) ^
                                   std::random_device{}()};
  std::uniform_int_distribution<int> pick(0, sizeof(alphabet) - 2);
  std::string out;
  out.reserve(19);
  for (int group = 0; group < 4; ++group) {
    if (group != 0) out.push_back('-');
    for (int i = 0; i < 4; ++i) out.push_back(alphabet[pick(gen)]);
  }
  return out;
}

auth_step anonymous_authenticator::on_hello(const hello&) {
  return auth_success{random_authid(), "anonymous", "anonymous", "static", {}};
}

auth_step anonymous_authenticator::on_authenticate(const authenticate&) {
  // Anonymous never challenges, so an AUTHENTICATE cannot be expected.
  return auth_reject{errc::protocol_violation, "AUTHENTICATE received, but no CHALLENGE was sent"};
}

std::unique_ptr<authenticator> select_authenticator(const hello& h) {
  const value* methods = h.details.find("authmethods");
  if (methods == nullptr || !methods->is_array() || methods->as_array().empty())
    return std::make_unique<anonymous_authenticator>();
  for (const value& m : methods->as_array())
    if (m.is_string() && m.as_string() == "anonymous")
      return std::make_unique<anonymous_authenticator>();
  return nullptr;
}

}  // namespace junction
