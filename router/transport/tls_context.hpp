// router/transport/tls_context.hpp — an OpenSSL server context for a listener: TLS 1.2 and 1.3 only, no
// compression, the listener's certificate and key, and optional client-certificate verification.
// Includes Asio's SSL headers: only the listeners include this file.
#pragma once

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "router/ops/config.hpp"

namespace junction {

// Throws std::runtime_error naming the file and OpenSSL's reason when the context cannot be
// built (the listener then refuses to start).
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const tls_config& tls);

}  // namespace junction
