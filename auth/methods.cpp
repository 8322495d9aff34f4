// The authentication methods (spec advanced/authentication_*; reference §4): each a step machine
// over the realm's configuration (auth/authenticator.hpp explains the steps).
#include <algorithm>
#include <random>

#include "auth/authenticator.hpp"
#include "auth/crypto.hpp"
#include "auth/secrets.hpp"
#include "serializers/base64.hpp"
#include "serializers/codec.hpp"

namespace junction::auth {

step authenticator::on_lookup(const lookup_answer&) {
  return reject_step{errc::authentication_failed, "unexpected authenticator answer"};
}
step authenticator::on_work(bool) { return reject_step{errc::authentication_failed, "unexpected verification"}; }

std::string random_authid() {
  // Crockford-like alphabet: no 0/O or 1/I confusion.
  static constexpr char alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
  const std::string raw = crypto::random_bytes(16);
  std::string out;
  out.reserve(19);
  for (int i = 0; i < 16; ++i) {
    if (i != 0 && i % 4 == 0) out.push_back('-');
    out.push_back(alphabet[static_cast<unsigned char>(raw[static_cast<std::size_t>(i)]) % 32]);
  }
  return out;
}

namespace {

using shared_config = std::shared_ptr<const realm_auth>;

const char* const no_authid = "HELLO.Details.authid is required for this method";

std::string string_of(const object& o, std::string_view key) {
  const value* v = o.find(key);
  return v != nullptr && v->is_string() ? v->as_string() : std::string();
}

// The details a dynamic authenticator is called with (Crossbar's shape): the session, the method
// and what the client sent, the transport. `extra` adds the method's material.
object lookup_details(const client_facts& f, const char* method, object extra = {}) {
  object transport;
  transport.push_back("type", value(f.transport));
  transport.push_back("protocol", value(f.protocol));
  transport.push_back("peer", value(f.peer));
  if (f.certificate) {
    object cert;
    cert.push_back("cn", value(f.certificate->cn));
    array sans;
    for (const auto& s : f.certificate->sans) sans.emplace_back(s);
    cert.push_back("sans", value(std::move(sans)));
    cert.push_back("sha256", value(f.certificate->fingerprint));
    transport.push_back("client_cert", value(std::move(cert)));
  }
  object d;
  d.push_back("session", value(f.session));
  d.push_back("authmethod", value(method));
  if (!f.authrole.empty()) d.push_back("authrole", value(f.authrole));
  d.push_back("authextra", value(f.authextra));
  d.push_back("transport", value(std::move(transport)));
  for (auto& [k, v] : extra) d.push_back(k, std::move(v));
  return d;
}

lookup_step make_lookup(const dynamic_authenticator& a, const client_facts& f, const char* method,
                        object extra = {}) {
  return lookup_step{a.procedure, a.realm.empty() ? f.realm : a.realm,
                     array{value(f.realm), f.authid.empty() ? value() : value(f.authid),
                           value(lookup_details(f, method, std::move(extra)))}};
}

// What a dynamic authenticator granted: a role (and, optionally, another authid or realm, the
// WELCOME's authextra, and the method's material: secret, salt, ...).
struct grant {
  std::string role;
  std::string authid;
  std::string realm;
  object extra;
  object all;  // the whole answer
};

std::optional<grant> read_grant(const lookup_answer& a, std::string& why) {
  if (!a.ok) {
    why = "the authenticator answered " + a.error;
    return std::nullopt;
  }
  grant g;
  const value* first = a.args.empty() ? nullptr : &a.args.front();
  if (first != nullptr && first->is_string()) {
    g.role = first->as_string();
  } else {
    const object* o = first != nullptr && first->is_object() ? &first->as_object() : &a.kwargs;
    g.all = *o;
    g.role = string_of(*o, "role");
    g.authid = string_of(*o, "authid");
    g.realm = string_of(*o, "realm");
    if (const value* e = o->find("extra"); e != nullptr && e->is_object()) g.extra = e->as_object();
  }
  if (g.role.empty()) {
    why = "the authenticator's answer names no role";
    return std::nullopt;
  }
  return g;
}

welcome_step welcome_of(const grant& g, const std::string& authid, const char* method) {
  return welcome_step{g.authid.empty() ? authid : g.authid, g.role, method, "dynamic", g.extra, g.realm};
}

// A deterministic mock value for an unknown authid, the same at every attempt (so that it looks
// like a known principal's, which does not change either).
std::string mock(const router_secrets& s, std::string_view what, std::string_view authid, std::size_t n) {
  std::string out = crypto::hmac_sha256(s.mock_key, std::string(what) + '\0' + std::string(authid));
  out.resize(n);
  return out;
}

// ---- anonymous --------------------------------------------------------------------------------

class anonymous_auth final : public authenticator {
 public:
  explicit anonymous_auth(std::string role) : role_(std::move(role)) {}
  const char* method() const noexcept override { return "anonymous"; }
  step on_hello(const client_facts&) override {
    return welcome_step{random_authid(), role_, "anonymous", "static", {}, {}};
  }
  step on_authenticate(const authenticate&) override {
    return reject_step{errc::protocol_violation, "AUTHENTICATE received, but no CHALLENGE was sent"};
  }

 private:
  std::string role_;
};

// ---- ticket -----------------------------------------------------------------------------------

class ticket_auth final : public authenticator {
 public:
  explicit ticket_auth(shared_config c) : config_(std::move(c)), m_(*config_->ticket) {}
  const char* method() const noexcept override { return "ticket"; }

  step on_hello(const client_facts& f) override {
    facts_ = f;
    if (f.authid.empty()) return reject_step{errc::authentication_failed, no_authid};
    return challenge_step{"ticket", {}};
  }

  step on_authenticate(const authenticate& a) override {
    const std::string& ticket = a.signature;
    if (m_.dynamic()) {
      object extra;
      extra.push_back("ticket", value(ticket));
      return make_lookup(m_.authenticator, facts_, "ticket", std::move(extra));
    }
    auto it = m_.principals.find(facts_.authid);
    known_ = it != m_.principals.end();
    if (known_) role_ = it->second.role;
    // A stored hash is checked off the loop; an unknown authid costs the same as a known one.
    const ticket_principal* model = known_ ? &it->second : hashed_model();
    if (model != nullptr && !model->ticket_hash.empty()) {
      std::string why;
      auto h = parse_ticket_hash(model->ticket_hash, why);
      if (!h) return reject_step{errc::authentication_failed, "stored ticket hash unusable: " + why};
      const bool real = known_;
      return work_step{[h = std::move(*h), ticket, real] { return verify_ticket(h, ticket) && real; }};
    }
    const std::string expected = known_ ? it->second.ticket : crypto::random_bytes(32);
    return on_work(crypto::equal(expected, ticket) && known_);
  }

  step on_work(bool ok) override {
    if (ok) return welcome_step{facts_.authid, role_, "ticket", "static", {}, {}};
    return reject_step{errc::authentication_failed,
                       known_ ? "wrong ticket for authid '" + facts_.authid + "'"
                              : "unknown authid '" + facts_.authid + "'"};
  }

  step on_lookup(const lookup_answer& a) override {
    std::string why;
    auto g = read_grant(a, why);
    if (!g) return reject_step{errc::authentication_failed, "ticket for '" + facts_.authid + "': " + why};
    return welcome_of(*g, facts_.authid, "ticket");
  }

 private:
  // The principal whose hash parameters an unknown authid is checked with.
  const ticket_principal* hashed_model() const {
    for (const auto& [id, p] : m_.principals)
      if (!p.ticket_hash.empty()) return &p;
    return nullptr;
  }

  shared_config config_;
  const method_config<ticket_principal>& m_;
  client_facts facts_;
  bool known_ = false;
  std::string role_;
};

// ---- WAMP-CRA ---------------------------------------------------------------------------------

class wampcra_auth final : public authenticator {
 public:
  wampcra_auth(shared_config c, const router_secrets& s) : config_(std::move(c)), m_(*config_->wampcra), secrets_(s) {}
  const char* method() const noexcept override { return "wampcra"; }

  step on_hello(const client_facts& f) override {
    facts_ = f;
    if (f.authid.empty()) return reject_step{errc::authentication_failed, no_authid};
    if (m_.dynamic()) return make_lookup(m_.authenticator, f, "wampcra");
    auto it = m_.principals.find(f.authid);
    if (it != m_.principals.end()) {
      const wampcra_principal& p = it->second;
      known_ = true;
      role_ = p.role;
      salted_ = !p.salt.empty();
      key_ = salted_ ? p.derived_key : p.secret;
      salt_ = p.salt;
      iterations_ = p.iterations;
      keylen_ = p.keylen;
    } else {
      // An unknown authid gets a challenge of the same shape: salted when the realm's principals
      // are, with a salt that does not change between attempts, and a role one of them has.
      // (The first salted principal is the model if there is one: realms rarely mix the two.)
      const wampcra_principal* model = m_.principals.empty() ? nullptr : &m_.principals.begin()->second;
      for (const auto& [id, p] : m_.principals)
        if (!p.salt.empty()) {
          model = &p;
          break;
        }
      role_ = model != nullptr ? model->role : "user";
      salted_ = model != nullptr && !model->salt.empty();
      if (salted_) {
        salt_ = base64_encode(mock(secrets_, "wampcra-salt", f.authid, 12));
        iterations_ = model->iterations;
        keylen_ = model->keylen;
      }
      key_ = crypto::random_bytes(32);
    }
    return challenge("static");
  }

  step on_lookup(const lookup_answer& a) override {
    std::string why;
    auto g = read_grant(a, why);
    if (!g) return reject_step{errc::authentication_failed, "wampcra for '" + facts_.authid + "': " + why};
    const std::string secret = string_of(g->all, "secret");
    if (secret.empty())
      return reject_step{errc::authentication_failed, "the authenticator's answer has no secret for wampcra"};
    grant_ = std::move(*g);
    known_ = true;
    role_ = grant_->role;
    salt_ = string_of(grant_->all, "salt");
    salted_ = !salt_.empty();
    if (salted_) {
      if (const value* v = grant_->all.find("iterations"); v == nullptr || !v->as_uint(iterations_64_))
        iterations_64_ = 0;
      if (const value* v = grant_->all.find("keylen"); v == nullptr || !v->as_uint(keylen_64_)) keylen_64_ = 0;
      iterations_ = static_cast<std::uint32_t>(iterations_64_ ? iterations_64_ : 1000);
      keylen_ = static_cast<std::uint32_t>(keylen_64_ ? keylen_64_ : 32);
      key_ = wampcra_derive_key(secret, salt_, iterations_, keylen_);
    } else {
      key_ = secret;
    }
    return challenge("dynamic");
  }

  step on_authenticate(const authenticate& a) override {
    const bool ok = crypto::equal(wampcra_sign(key_, challenge_), a.signature) && known_;
    if (!ok)
      return reject_step{errc::authentication_failed,
                         known_ ? "wrong WAMP-CRA signature for authid '" + facts_.authid + "'"
                                : "unknown authid '" + facts_.authid + "'"};
    if (grant_) return welcome_of(*grant_, facts_.authid, "wampcra");
    return welcome_step{facts_.authid, role_, "wampcra", "static", {}, {}};
  }

 private:
  step challenge(const char* provider) {
    // The challenge is a JSON text (spec): serialized with our own JSON codec.
    object c;
    c.push_back("authid", value(facts_.authid));
    c.push_back("authrole", value(role_));
    c.push_back("authmethod", value("wampcra"));
    c.push_back("authprovider", value(provider));
    c.push_back("nonce", value(base64_encode(crypto::random_bytes(24))));
    c.push_back("timestamp", value(facts_.now_iso8601));
    c.push_back("session", value(facts_.session));
    challenge_.clear();
    json_codec().encode_value(value(std::move(c)), challenge_);
    object extra;
    extra.push_back("challenge", value(challenge_));
    if (salted_) {
      extra.push_back("salt", value(salt_));
      extra.push_back("iterations", value(static_cast<std::uint64_t>(iterations_)));
      extra.push_back("keylen", value(static_cast<std::uint64_t>(keylen_)));
    }
    return challenge_step{"wampcra", std::move(extra)};
  }

  shared_config config_;
  const method_config<wampcra_principal>& m_;
  const router_secrets& secrets_;
  client_facts facts_;
  std::optional<grant> grant_;
  bool known_ = false;
  bool salted_ = false;
  std::string role_, key_, salt_, challenge_;
  std::uint32_t iterations_ = 1000, keylen_ = 32;
  std::uint64_t iterations_64_ = 0, keylen_64_ = 0;
};

// ---- WAMP-Cryptosign --------------------------------------------------------------------------

class cryptosign_auth final : public authenticator {
 public:
  explicit cryptosign_auth(shared_config c) : config_(std::move(c)), m_(*config_->cryptosign) {}
  const char* method() const noexcept override { return "cryptosign"; }

  step on_hello(const client_facts& f) override {
    facts_ = f;
    const std::string pubkey_hex = string_of(f.authextra, "pubkey");
    auto pubkey = crypto::hex_decode(pubkey_hex);
    if (!pubkey || pubkey->size() != 32)
      return reject_step{errc::authentication_failed, "HELLO.Details.authextra.pubkey is not 32 bytes of hex"};
    pubkey_ = std::move(*pubkey);
    // Channel binding (spec): the signed message is challenge XOR the TLS channel's id.
    if (const value* cb = f.authextra.find("channel_binding"); cb != nullptr && !cb->is_null()) {
      const std::string type = cb->is_string() ? cb->as_string() : std::string();
      binding_type_ = type;
      channel_id_ = type == "tls-unique" ? f.tls_unique : type == "tls-exporter" ? f.tls_exporter : "";
      if (channel_id_.size() != 32)
        return reject_step{errc::authentication_failed,
                           "channel binding '" + type + "' is not available on this connection"};
    }
    if (m_.dynamic()) return make_lookup(m_.authenticator, f, "cryptosign");
    // The principal whose authorized keys hold this key (and whose authid it is, if one was given).
    for (const auto& [id, p] : m_.principals) {
      if (!f.authid.empty() && id != f.authid) continue;
      for (const std::string& k : p.authorized_keys)
        if (crypto::equal(crypto::hex_decode(k).value_or(std::string()), pubkey_)) {
          known_ = true;
          authid_ = id;
          role_ = p.role;
        }
    }
    return challenge();
  }

  step on_lookup(const lookup_answer& a) override {
    std::string why;
    auto g = read_grant(a, why);
    if (!g) return reject_step{errc::authentication_failed, "cryptosign key " + crypto::hex_encode(pubkey_) + ": " + why};
    grant_ = std::move(*g);
    known_ = true;
    authid_ = grant_->authid.empty() ? (facts_.authid.empty() ? crypto::hex_encode(pubkey_) : facts_.authid)
                                     : grant_->authid;
    return challenge();
  }

  step on_authenticate(const authenticate& a) override {
    const auto signed_message = crypto::hex_decode(a.signature);
    std::string expected = challenge_;
    for (std::size_t i = 0; i < channel_id_.size() && i < expected.size(); ++i) expected[i] ^= channel_id_[i];
    const bool shape = signed_message && signed_message->size() == 96 &&
                       crypto::equal(signed_message->substr(64), expected);
    const bool ok = shape && crypto::ed25519_verify(pubkey_, expected, signed_message->substr(0, 64)) && known_;
    if (!ok)
      return reject_step{errc::authentication_failed,
                         known_ ? "bad cryptosign signature for authid '" + authid_ + "'"
                                : "no principal authorizes key " + crypto::hex_encode(pubkey_)};
    if (grant_) return welcome_of(*grant_, authid_, "cryptosign");
    return welcome_step{authid_, role_, "cryptosign", "static", {}, {}};
  }

 private:
  step challenge() {
    challenge_ = crypto::random_bytes(32);
    object extra;
    extra.push_back("challenge", value(crypto::hex_encode(challenge_)));
    extra.push_back("channel_binding", binding_type_.empty() ? value() : value(binding_type_));
    // Router authentication: the client's own challenge, signed with the router's key.
    const std::string theirs_hex = string_of(facts_.authextra, "challenge");
    if (!theirs_hex.empty() && !m_.router_key.empty()) {
      auto theirs = crypto::hex_decode(theirs_hex);
      auto seed = crypto::hex_decode(m_.router_key);
      if (theirs && theirs->size() == 32 && seed && seed->size() == 32) {
        std::string message = *theirs;
        for (std::size_t i = 0; i < channel_id_.size(); ++i) message[i] ^= channel_id_[i];
        extra.push_back("signature", value(crypto::hex_encode(crypto::ed25519_sign(*seed, message) + message)));
        extra.push_back("pubkey", value(crypto::hex_encode(crypto::ed25519_public_key(*seed))));
      }
    }
    return challenge_step{"cryptosign", std::move(extra)};
  }

  shared_config config_;
  const cryptosign_config& m_;
  client_facts facts_;
  std::optional<grant> grant_;
  std::string pubkey_, challenge_, channel_id_, binding_type_, authid_, role_;
  bool known_ = false;
};

// ---- WAMP-SCRAM -------------------------------------------------------------------------------

class scram_auth final : public authenticator {
 public:
  scram_auth(shared_config c, const router_secrets& s, scram_dialect d)
      : config_(std::move(c)),
        m_(d == scram_dialect::spec ? *config_->scram : *config_->scram_autobahn),
        secrets_(s),
        dialect_(d) {}
  const char* method() const noexcept override { return dialect_ == scram_dialect::spec ? "wamp-scram" : "scram"; }

  step on_hello(const client_facts& f) override {
    facts_ = f;
    if (f.authid.empty()) return reject_step{errc::authentication_failed, no_authid};
    client_nonce_ = string_of(f.authextra, "nonce");
    if (client_nonce_.empty() || client_nonce_.find(',') != std::string::npos)
      return reject_step{errc::authentication_failed, "HELLO.Details.authextra.nonce is missing or malformed"};
    if (dialect_ == scram_dialect::spec) {
      if (const value* cb = f.authextra.find("channel_binding"); cb != nullptr && !cb->is_null()) {
        binding_type_ = cb->is_string() ? cb->as_string() : std::string();
        channel_data_ = binding_type_ == "tls-unique" ? f.tls_unique
                        : binding_type_ == "tls-exporter" ? f.tls_exporter : "";
        if (channel_data_.empty())
          return reject_step{errc::authentication_failed,
                             "channel binding '" + binding_type_ + "' is not available on this connection"};
      }
    }
    if (m_.dynamic()) return make_lookup(m_.authenticator, f, method());
    auto it = m_.principals.find(f.authid);
    if (it != m_.principals.end()) {
      known_ = true;
      return use(it->second);
    }
    // Unknown: the realm's parameters, a salt that does not change between attempts, keys no
    // password matches.
    scram_principal mock_p = m_.principals.empty() ? scram_principal{} : m_.principals.begin()->second;
    mock_p.salt = base64_encode(mock(secrets_, "scram-salt", f.authid, 16));
    mock_p.stored_key = base64_encode(crypto::random_bytes(32));
    mock_p.server_key = base64_encode(crypto::random_bytes(32));
    return use(mock_p);
  }

  step on_lookup(const lookup_answer& a) override {
    std::string why;
    auto g = read_grant(a, why);
    if (!g) return reject_step{errc::authentication_failed, "scram for '" + facts_.authid + "': " + why};
    scram_principal p;
    p.role = g->role;
    p.kdf = string_of(g->all, "kdf");
    p.salt = string_of(g->all, "salt");
    p.stored_key = string_of(g->all, "stored_key");
    p.server_key = string_of(g->all, "server_key");
    std::uint64_t n = 0;
    if (const value* v = g->all.find("iterations"); v != nullptr && v->as_uint(n)) p.iterations = static_cast<std::uint32_t>(n);
    if (const value* v = g->all.find("memory"); v != nullptr && v->as_uint(n)) p.memory = static_cast<std::uint32_t>(n);
    grant_ = std::move(*g);
    known_ = true;
    return use(p);
  }

  step on_authenticate(const authenticate& a) override {
    auto proof = base64_decode(a.signature);
    std::string auth_message;
    const std::string client_first_bare = "n=" + scram_escape(facts_.authid) + ",r=" + client_nonce_;
    const std::string server_first = "r=" + nonce_ + ",s=" + principal_.salt + ",i=" + std::to_string(principal_.iterations);
    if (dialect_ == scram_dialect::spec) {
      // The client repeats the nonce and the binding it asked for; c= is base64(GS2 header + data).
      const object& extra = a.extra;
      if (string_of(extra, "nonce") != nonce_)
        return reject_step{errc::authentication_failed, "AUTHENTICATE.Extra.nonce does not match the challenge"};
      const std::string gs2 = binding_type_.empty() ? "n,," : "p=" + binding_type_ + ",,";
      auth_message = client_first_bare + "," + server_first + ",c=" + base64_encode(gs2 + channel_data_) + ",r=" + nonce_;
    } else {
      auth_message = client_first_bare + "," + server_first + ",c=,r=" + nonce_;
    }
    const bool ok = proof && scram_verify(stored_key_, auth_message, *proof) && known_;
    if (!ok)
      return reject_step{errc::authentication_failed,
                         known_ ? "wrong SCRAM proof for authid '" + facts_.authid + "'"
                                : "unknown authid '" + facts_.authid + "'"};
    object extra;
    const std::string signature = base64_encode(scram_server_signature(server_key_, auth_message));
    extra.push_back(dialect_ == scram_dialect::spec ? "verifier" : "scram_server_signature", value(signature));
    if (grant_) {
      welcome_step w = welcome_of(*grant_, facts_.authid, method());
      for (auto& [k, v] : extra) w.authextra.push_back(k, std::move(v));
      return w;
    }
    return welcome_step{facts_.authid, principal_.role, method(), "static", std::move(extra), {}};
  }

 private:
  step use(const scram_principal& p) {
    principal_ = p;
    auto stored = base64_decode(p.stored_key);
    auto server = base64_decode(p.server_key);
    if (!stored || !server || p.salt.empty())
      return reject_step{errc::authentication_failed, "stored SCRAM credentials of '" + facts_.authid + "' are unusable"};
    stored_key_ = std::move(*stored);
    server_key_ = std::move(*server);
    nonce_ = client_nonce_ + base64_encode(crypto::random_bytes(18));
    object extra;
    extra.push_back("nonce", value(nonce_));
    extra.push_back("salt", value(p.salt));
    const bool pbkdf2 = p.kdf == "pbkdf2";
    if (dialect_ == scram_dialect::spec) {
      extra.push_back("kdf", value(pbkdf2 ? "pbkdf2" : "argon2id13"));
      extra.push_back("iterations", value(static_cast<std::uint64_t>(p.iterations)));
      extra.push_back("memory", pbkdf2 ? value() : value(static_cast<std::uint64_t>(p.memory)));
      extra.push_back("channel_binding", binding_type_.empty() ? value() : value(binding_type_));
    } else {
      // Autobahn|Python refuses any other key, and reads a null channel_binding as "None".
      extra.push_back("kdf", value(pbkdf2 ? "pbkdf2" : "argon2id-13"));
      extra.push_back("iterations", value(static_cast<std::uint64_t>(p.iterations)));
      if (!pbkdf2) extra.push_back("memory", value(static_cast<std::uint64_t>(p.memory)));
    }
    return challenge_step{method(), std::move(extra)};
  }

  shared_config config_;
  const method_config<scram_principal>& m_;
  const router_secrets& secrets_;
  scram_dialect dialect_;
  client_facts facts_;
  std::optional<grant> grant_;
  scram_principal principal_;
  std::string client_nonce_, nonce_, stored_key_, server_key_, binding_type_, channel_data_;
  bool known_ = false;
};

// ---- TLS client certificates ------------------------------------------------------------------

class tls_auth final : public authenticator {
 public:
  explicit tls_auth(shared_config c) : config_(std::move(c)), m_(*config_->tls) {}
  const char* method() const noexcept override { return "tls"; }

  step on_hello(const client_facts& f) override {
    facts_ = f;
    if (!f.certificate)
      return reject_step{errc::authentication_failed, "tls: the connection carries no verified client certificate"};
    const peer_certificate& c = *f.certificate;
    if (m_.dynamic()) return make_lookup(m_.authenticator, f, "tls");
    for (const auto& [id, p] : m_.principals) {
      if (!f.authid.empty() && id != f.authid) continue;
      const bool match = (!p.fingerprint.empty() && crypto::equal(lower(p.fingerprint), c.fingerprint)) ||
                         (!p.cn.empty() && p.cn == c.cn) ||
                         (!p.san.empty() && std::find(c.sans.begin(), c.sans.end(), p.san) != c.sans.end());
      if (match) return welcome_step{id, p.role, "tls", "static", {}, {}};
    }
    return reject_step{errc::authentication_failed,
                       "tls: no principal matches the certificate (CN '" + c.cn + "', SHA-256 " + c.fingerprint + ")"};
  }

  step on_lookup(const lookup_answer& a) override {
    std::string why;
    auto g = read_grant(a, why);
    if (!g) return reject_step{errc::authentication_failed, "tls: " + why};
    return welcome_of(*g, facts_.authid.empty() ? facts_.certificate->cn : facts_.authid, "tls");
  }

  step on_authenticate(const authenticate&) override {
    return reject_step{errc::protocol_violation, "AUTHENTICATE received, but no CHALLENGE was sent"};
  }

 private:
  static std::string lower(std::string s) {
    for (char& ch : s)
      if (ch >= 'A' && ch <= 'F') ch = static_cast<char>(ch - 'A' + 'a');
    s.erase(std::remove(s.begin(), s.end(), ':'), s.end());
    return s;
  }
  shared_config config_;
  const method_config<tls_principal>& m_;
  client_facts facts_;
};

}  // namespace

std::vector<std::string> offered_methods(const realm_auth& c) {
  std::vector<std::string> out;
  if (!c.configured || c.anonymous) out.emplace_back("anonymous");
  if (c.ticket) out.emplace_back("ticket");
  if (c.wampcra) out.emplace_back("wampcra");
  if (c.cryptosign) out.emplace_back("cryptosign");
  if (c.scram) out.emplace_back("wamp-scram");
  if (c.scram_autobahn) out.emplace_back("scram");
  if (c.tls) out.emplace_back("tls");
  return out;
}

std::unique_ptr<authenticator> select(const std::shared_ptr<const realm_auth>& c, const object& details,
                                      const router_secrets& secrets) {
  std::vector<std::string> wanted;
  if (const value* m = details.find("authmethods"); m != nullptr && m->is_array())
    for (const value& v : m->as_array())
      if (v.is_string()) wanted.push_back(v.as_string());
  if (wanted.empty()) wanted.emplace_back("anonymous");  // spec: absent means anonymous
  for (const std::string& w : wanted) {
    if (w == "anonymous" && (!c->configured || c->anonymous))
      return std::make_unique<anonymous_auth>(c->anonymous ? c->anonymous->role : "anonymous");
    if (w == "ticket" && c->ticket) return std::make_unique<ticket_auth>(c);
    if (w == "wampcra" && c->wampcra) return std::make_unique<wampcra_auth>(c, secrets);
    if (w == "cryptosign" && c->cryptosign) return std::make_unique<cryptosign_auth>(c);
    if (w == "wamp-scram" && c->scram) return std::make_unique<scram_auth>(c, secrets, scram_dialect::spec);
    if (w == "scram" && c->scram_autobahn) return std::make_unique<scram_auth>(c, secrets, scram_dialect::autobahn);
    if (w == "tls" && c->tls) return std::make_unique<tls_auth>(c);
  }
  return nullptr;
}

}  // namespace junction::auth
