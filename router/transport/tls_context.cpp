#include "router/transport/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

namespace junction {
namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_server_tls_context(const tls_config& tls) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use | SSL_OP_NO_COMPRESSION |
                   SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  auto load = [&](const std::string& what, const std::string& file, auto&& fn) {
    boost::system::error_code ec;
    fn(ec);
    if (ec) throw std::runtime_error("TLS " + what + " '" + file + "': " + ec.message());
  };
  load("certificate", tls.cert_file,
       [&](auto& ec) { ctx->use_certificate_chain_file(tls.cert_file, ec); });
  load("key", tls.key_file.empty() ? tls.cert_file : tls.key_file, [&](auto& ec) {
    ctx->use_private_key_file(tls.key_file.empty() ? tls.cert_file : tls.key_file,
                              ssl::context::pem, ec);
  });
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    throw std::runtime_error("TLS key '" + tls.key_file + "' does not match certificate '" +
                             tls.cert_file + "'");
  if (!tls.ca_file.empty())
    load("CA file", tls.ca_file, [&](auto& ec) { ctx->load_verify_file(tls.ca_file, ec); });
  if (tls.require_client_cert) {
    if (tls.ca_file.empty())
      throw std::runtime_error("TLS: verify-client needs ca= (the CAs client certificates chain to)");
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

}  // namespace junction
