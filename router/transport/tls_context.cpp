#include "router/transport/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include "auth/crypto.hpp"

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
  } else if (!tls.ca_file.empty()) {
    // A CA without verify_client: a certificate is asked for but optional; one that is sent must
    // chain to the CA (the tls authmethod maps it to a principal).
    ctx->set_verify_mode(ssl::verify_peer);
  }
  return ctx;
}

void describe_tls_session(SSL* ssl, auth::client_facts& f) {
  if (ssl == nullptr) return;
  if (SSL_version(ssl) <= TLS1_2_VERSION) {
    // tls-unique: the first Finished message of the handshake — the client's in a full
    // handshake, the server's when the session was resumed (RFC 5929 §3.1).
    unsigned char finished[64];
    const std::size_t n = SSL_session_reused(ssl) ? SSL_get_finished(ssl, finished, sizeof finished)
                                                  : SSL_get_peer_finished(ssl, finished, sizeof finished);
    if (n > 0 && n <= sizeof finished)
      f.tls_unique = crypto::sha256(std::string_view(reinterpret_cast<const char*>(finished), n));
  } else {
    unsigned char exported[32];
    static constexpr char label[] = "EXPORTER-Channel-Binding";
    if (SSL_export_keying_material(ssl, exported, sizeof exported, label, sizeof label - 1, nullptr, 0, 0) == 1)
      f.tls_exporter.assign(reinterpret_cast<const char*>(exported), sizeof exported);
  }
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return;
  auth::peer_certificate c;
  char cn[256];
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) c.cn = cn;
  if (auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type == GEN_DNS || name->type == GEN_EMAIL || name->type == GEN_URI) {
        const ASN1_IA5STRING* text = name->d.ia5;
        c.sans.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                            static_cast<std::size_t>(ASN1_STRING_length(text)));
      }
    }
    GENERAL_NAMES_free(names);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &len) == 1)
    c.fingerprint = crypto::hex_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
  f.certificate = std::move(c);
}

}  // namespace junction
