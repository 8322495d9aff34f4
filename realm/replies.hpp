// realm/replies.hpp — building the router's replies. Error texts go in Arguments[0], where
// Autobahn and most clients show them to the user.
#pragma once

#include <optional>
#include <string>

#include "realm/peer.hpp"
#include "serializers/errors.hpp"
#include "serializers/message.hpp"

namespace junction {

inline error make_error(message_type request_type, id request, errc code, std::string text) {
  error e;
  e.request_type = static_cast<std::uint64_t>(request_type);
  e.request = request;
  e.error_uri = std::string(uri_of(code));
  e.args.emplace_back(std::move(text));
  return e;
}

// What a session sends instead of `m` when its connection does not accept m's size (see
// `delivery`): for a final RESULT, ERROR wamp.error.payload_size_exceeded for the same CALL; for
// an ERROR, the same error with a short note instead of its payload; nothing for the rest, whose
// sender acts. (A RawSocket client accepts at least 512 bytes: these always fit.)
inline std::optional<error> instead_of_too_big(const message& m) {
  if (const auto* e = std::get_if<error>(&m)) {
    // The error itself still tells what happened; only its payload goes.
    error small;
    small.request_type = e->request_type;
    small.request = e->request;
    small.error_uri = e->error_uri;
    small.args.emplace_back("the error's payload was larger than this connection accepts (" +
                            std::string(uri_of(errc::payload_size_exceeded)) + ")");
    return small;
  }
  if (const auto* r = std::get_if<result_>(&m); r != nullptr && !r->details.get_bool("progress", false)) {
    error small;
    small.request_type = static_cast<std::uint64_t>(message_type::call);
    small.request = r->request;
    small.error_uri = std::string(uri_of(errc::payload_size_exceeded));
    small.args.emplace_back("the RESULT was larger than this connection accepts");
    return small;
  }
  return std::nullopt;
}

}  // namespace junction
