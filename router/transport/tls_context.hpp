// router/transport/tls_context.hpp — an OpenSSL server context for a listener: TLS 1.2 and 1.3 only, no
// compression, the listener's certificate and key, and optional client-certificate verification.
// Includes Asio's SSL headers: only the listeners include this file.
#pragma once

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "auth/authenticator.hpp"
#include "router/ops/config.hpp"

namespace junction {

// Throws std::runtime_error naming the file and OpenSSL's reason when the context cannot be
// built (the listener then refuses to start).
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const tls_config& tls);

// What authentication learns from an established TLS session (auth/authenticator.hpp):
// tls-unique (RFC 5929, TLS 1.2: the first Finished message, hashed with SHA-256 into the
// 32-byte channel id Autobahn uses), tls-exporter (RFC 9266, TLS 1.3: 32 bytes exported with
// the label "EXPORTER-Channel-Binding"), and the client certificate when the listener verified one.
void describe_tls_session(SSL* ssl, auth::client_facts& facts);

}  // namespace junction
