// serializers/errors.hpp — the one table from internal error codes to WAMP error/close URIs.
// No `wamp.error.*` literal appears anywhere else in the code (DESIGN.md §5).
// Spec: ../shared/reference/wamp-protocol.md §1.7.
#pragma once

#include <cstdint>
#include <string_view>

namespace junction {

enum class errc : std::uint8_t {
  invalid_uri,
  no_such_procedure,
  procedure_already_exists,
  no_such_registration,
  no_such_subscription,
  invalid_argument,
  canceled,
  protocol_violation,
  not_authorized,
  no_such_realm,
  no_auth_method,
  authentication_failed,
  close_realm,
  goodbye_and_out,
  system_shutdown,
  payload_size_exceeded,
  timeout,
  feature_not_supported,
  disclose_me_disallowed,
  no_such_session,
  session_killed,
  no_such_principal,
  no_such_role,
  limit_exceeded,
};

constexpr std::string_view uri_of(errc e) noexcept {
  switch (e) {
    case errc::invalid_uri: return "wamp.error.invalid_uri";
    case errc::no_such_procedure: return "wamp.error.no_such_procedure";
    case errc::procedure_already_exists: return "wamp.error.procedure_already_exists";
    case errc::no_such_registration: return "wamp.error.no_such_registration";
    case errc::no_such_subscription: return "wamp.error.no_such_subscription";
    case errc::invalid_argument: return "wamp.error.invalid_argument";
    case errc::canceled: return "wamp.error.canceled";
    case errc::protocol_violation: return "wamp.error.protocol_violation";
    case errc::not_authorized: return "wamp.error.not_authorized";
    case errc::no_such_realm: return "wamp.error.no_such_realm";
    // Autobahn|Python knows this one (ApplicationError.NO_AUTH_METHOD), as Crossbar sends it.
    case errc::no_auth_method: return "wamp.error.no_auth_method";
    case errc::authentication_failed: return "wamp.error.authentication_failed";
    case errc::close_realm: return "wamp.close.close_realm";
    case errc::goodbye_and_out: return "wamp.close.goodbye_and_out";
    case errc::system_shutdown: return "wamp.close.system_shutdown";
    case errc::payload_size_exceeded: return "wamp.error.payload_size_exceeded";
    case errc::timeout: return "wamp.error.timeout";
    case errc::feature_not_supported: return "wamp.error.feature_not_supported";
    case errc::disclose_me_disallowed: return "wamp.error.option_disallowed.disclose_me";
    case errc::no_such_session: return "wamp.error.no_such_session";
    case errc::session_killed: return "wamp.close.killed";
    case errc::no_such_principal: return "wamp.error.no_such_principal";
    case errc::no_such_role: return "wamp.error.no_such_role";
    case errc::limit_exceeded: return "wamp.error.limit_exceeded";
  }
  return "wamp.error.protocol_violation";
}

}  // namespace junction
