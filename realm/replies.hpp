// realm/replies.hpp — building the router's replies. Error texts go in Arguments[0], where
// Autobahn and most clients show them to the user.
#pragma once

#include <string>

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

}  // namespace junction
