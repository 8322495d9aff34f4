// realm/features.hpp — the advanced features a client announced in HELLO.Details.roles, and the
// ones this router announces in WELCOME.Details.roles (spec advanced/features; reference §1.3).
//
// A three-party feature (caller–dealer–callee) is used toward a peer only if that peer announced
// it: the dealer never forces `receive_progress`, INTERRUPT or revocation on a callee that did not
// ask for them (issue 4 item 9). Feature keys are parsed once at HELLO into a few bits per role.
#pragma once

#include <cstdint>

#include "serializers/value.hpp"

namespace junction {

enum class client_role : std::uint8_t { caller, callee, publisher, subscriber };

enum class feature : std::uint8_t {
  progressive_call_results,
  progressive_call_invocations,
  call_timeout,
  call_canceling,
  caller_identification,
  pattern_based_registration,
  shared_registration,
  registration_revocation,
  publisher_identification,
  publisher_exclusion,
  subscriber_blackwhite_listing,
  pattern_based_subscription,
  subscription_revocation,
  event_retention,
  // Router-only (no client role announces them): the meta API.
  session_meta_api,
  registration_meta_api,
  subscription_meta_api,
  testament_meta_api,
  count_,
};

// The feature's key as the spec spells it.
[[nodiscard]] const char* feature_key(feature f) noexcept;

class client_features {
 public:
  // Reads HELLO.Details.roles: roles other than the four client roles and unknown feature keys
  // are ignored (forward compatibility); a feature counts only if its value is `true`.
  [[nodiscard]] static client_features from_roles(const object& roles);

  [[nodiscard]] bool plays(client_role r) const noexcept { return (roles_ >> index(r)) & 1U; }
  [[nodiscard]] bool has(client_role r, feature f) const noexcept {
    return (bits_[index(r)] >> static_cast<unsigned>(f)) & 1U;
  }
  void set(client_role r, feature f) noexcept {
    roles_ |= 1U << index(r);
    bits_[index(r)] |= 1U << static_cast<unsigned>(f);
  }
  void set_role(client_role r) noexcept { roles_ |= 1U << index(r); }

 private:
  static unsigned index(client_role r) noexcept { return static_cast<unsigned>(r); }
  std::uint32_t bits_[4] = {0, 0, 0, 0};
  std::uint8_t roles_ = 0;
};

// WELCOME.Details.roles: the broker and dealer with every feature this router implements.
[[nodiscard]] const value& router_roles();

}  // namespace junction
