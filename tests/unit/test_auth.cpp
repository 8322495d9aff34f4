// Authentication as plain objects (auth/): the primitives against published vectors (the WAMP
// spec's cryptosign vectors, RFC 7677's SCRAM-SHA-256 exchange, Autobahn's WAMP-CRA), each
// method's step machine (known, wrong, unknown, dynamic), the mock challenges that make unknown
// authids look known, method selection, and the throttle on a manual clock.
#include <doctest/doctest.h>

#include <memory>

#include "auth/authenticator.hpp"
#include "auth/crypto.hpp"
#include "auth/secrets.hpp"
#include "auth/throttle.hpp"
#include "serializers/base64.hpp"
#include "serializers/codec.hpp"

using namespace junction;
using namespace junction::auth;

namespace {

std::string unhex(std::string_view s) {
  auto v = crypto::hex_decode(s);
  REQUIRE(v.has_value());
  return *v;
}

std::shared_ptr<const realm_auth> shared(realm_auth a) {
  a.configured = true;
  return std::make_shared<const realm_auth>(std::move(a));
}

object hello_details(std::initializer_list<const char*> methods, const char* authid = nullptr,
                     object authextra = {}) {
  array m;
  for (const char* x : methods) m.emplace_back(x);
  object d;
  d.push_back("authmethods", value(std::move(m)));
  if (authid != nullptr) d.push_back("authid", value(authid));
  if (!authextra.empty()) d.push_back("authextra", value(std::move(authextra)));
  return d;
}

client_facts facts_for(const char* authid, object authextra = {}) {
  client_facts f;
  f.realm = "realm1";
  f.authid = authid == nullptr ? "" : authid;
  f.authextra = std::move(authextra);
  f.session = 4242;
  f.transport = "websocket";
  f.protocol = "wamp.2.json";
  f.peer = "127.0.0.1:5000";
  f.now_iso8601 = "2026-12-04T12:00:00.000Z";
  return f;
}

router_secrets secrets{"a fixed mock key for the tests"};

template <class T>
T& as(step&& s) = delete;
template <class T>
T& as(step& s) {
  REQUIRE_MESSAGE(std::holds_alternative<T>(s), "unexpected step " << s.index());
  return std::get<T>(s);
}

authenticate auth_msg(std::string signature, object extra = {}) {
  authenticate a;
  a.signature = std::move(signature);
  a.extra = std::move(extra);
  return a;
}

std::uint64_t uint_of(const value* v) {
  REQUIRE(v != nullptr);
  std::uint64_t n = 0;
  REQUIRE(v->as_uint(n));
  return n;
}

std::string str(const object& o, std::string_view key) {
  const value* v = o.find(key);
  REQUIRE_MESSAGE(v != nullptr, key);
  REQUIRE(v->is_string());
  return v->as_string();
}

}  // namespace

// ---- primitives ---------------------------------------------------------------------------------

TEST_CASE("auth: the spec's cryptosign test vectors") {
  struct vector {
    const char* channel_id;
    const char* key;
    const char* challenge;
    const char* signature;
  };
  const vector vectors[] = {
      {"", "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
       "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
       "b32675b221f08593213737bef8240e7c15228b07028e19595294678c90d11c0cae80a357331bfc5cc9fb71081464e6e75013517c2cf067ad566a6b7b728e5d03ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
      {"", "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd",
       "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
       "d4209ad10d5aff6bfbc009d7e924795de138a63515efc7afc6b01b7fe5201372190374886a70207b042294af5bd64ce725cd8dceb344e6d11c09d1aaaf4d660fb26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d"},
      {"", "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b",
       "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
       "7beb282184baadd08f166f16dd683b39cab53816ed81e6955def951cb2ddad1ec184e206746fd82bda075af03711d3d5658fc84a76196b0fa8d1ebc92ef9f30bb05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2"},
      {"62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff",
       "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
       "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
       "9b6f41540c9b95b4b7b281c3042fa9c54cef43c842d62ea3fd6030fcb66e70b3e80d49d44c29d1635da9348d02ec93f3ed1ef227dfb59a07b580095c2b82f80f9d16ca518aa0c2b707f2b2a609edeca73bca8dd59817a633f35574ac6fd80d00"},
      {"62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff",
       "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd",
       "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
       "305aaa3ac25e98f651427688b3fc43fe7d8a68a7ec1d7d61c61517c519bd4a427c3015599d83ca28b4c652333920223844ef0725eb5dc2febfd6af7677b73f01d0852a29b460fc92ec943242ac638a053bbacc200512b18b30d15083cbdc9282"},
      {"62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff",
       "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b",
       "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
       "ee3c7644fd8070532bc1fde3d70d742267da545d8c8f03e63bda63f1ad4214f4d2c4bfdb4eb9526def42deeb7e31602a6ff99eba893e0a4ad4d45892ca75e608d2b75e24a189a7f78ca776ba36fc53f6c3e31c32f251f2c524f0a44202f2902d"},
  };
  for (const auto& v : vectors) {
    std::string message = unhex(v.challenge);
    const std::string channel = unhex(v.channel_id);
    for (std::size_t i = 0; i < channel.size(); ++i) message[i] ^= channel[i];
    const std::string seed = unhex(v.key);
    const std::string signature = crypto::ed25519_sign(seed, message);
    CHECK(crypto::hex_encode(signature + message) == v.signature);
    CHECK(crypto::ed25519_verify(crypto::ed25519_public_key(seed), message, signature));
    std::string tampered = message;
    tampered[0] ^= 1;
    CHECK_FALSE(crypto::ed25519_verify(crypto::ed25519_public_key(seed), tampered, signature));
  }
}

TEST_CASE("auth: RFC 7677's SCRAM-SHA-256 exchange") {
  const std::string salt = *base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  const std::string salted = scram_salted_password(scram_dialect::spec, "pbkdf2", "pencil", salt, 4096, 0);
  const scram_keys keys = scram_keys_from(salted);
  const std::string auth_message =
      "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  const std::string proof = *base64_decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  CHECK(scram_verify(keys.stored_key, auth_message, proof));
  std::string wrong = proof;
  wrong[3] ^= 1;
  CHECK_FALSE(scram_verify(keys.stored_key, auth_message, wrong));
  CHECK(base64_encode(scram_server_signature(keys.server_key, auth_message)) ==
        "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  CHECK(scram_escape("a,b=c") == "a=2Cb=3Dc");
}

TEST_CASE("auth: WAMP-CRA as Autobahn computes it") {
  // Reference values from Autobahn|Python's compute_wcs and derive_key.
  CHECK(wampcra_sign("secret", R"({"challenge":1})") == "JNA7w5S9re+fydEZdwsSRNNUbTmsgLscrnUHWfQTUzE=");
  const std::string key = wampcra_derive_key("secret", "salt123", 1000, 32);
  CHECK(key == "MDS8Yxpu4J/vkHJ8dNEgqECYsI0uRDh2oZ5eN0vYPvo=");
  CHECK(wampcra_sign(key, R"({"challenge":1})") == "RjKnpR67WPCwDvtqdNRMNrYPIgM2Rp7e5m7dxivczQk=");
}

TEST_CASE("auth: ticket hashes: format, parse, verify") {
  ticket_hash h;
  h.algorithm = ticket_hash::kdf::pbkdf2_sha256;
  h.iterations = 1000;
  h.salt = "0123456789abcdef";
  h.hash = crypto::pbkdf2_sha256("open sesame", h.salt, h.iterations, 32);
  const std::string text = format_ticket_hash(h);
  CHECK(text.rfind("pbkdf2-sha256$1000$", 0) == 0);
  std::string why;
  auto back = parse_ticket_hash(text, why);
  REQUIRE(back.has_value());
  CHECK(verify_ticket(*back, "open sesame"));
  CHECK_FALSE(verify_ticket(*back, "open sesamE"));
  ticket_hash a;
  a.algorithm = ticket_hash::kdf::argon2id;
  a.iterations = 1;
  a.memory_kib = 64;
  a.salt = "saltsaltsaltsalt";
  a.hash = crypto::argon2id("pw", a.salt, 1, 64, 1, 32);
  auto parsed = parse_ticket_hash(format_ticket_hash(a), why);
  REQUIRE(parsed.has_value());
  CHECK(verify_ticket(*parsed, "pw"));
  CHECK_FALSE(verify_ticket(*parsed, "PW"));
  for (const char* bad : {"", "sha1$1$x$y", "pbkdf2-sha256$0$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",
                          "pbkdf2-sha256$10$not base64$aGFzaA==", "argon2id$1$2$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA=="})
    CHECK_FALSE(parse_ticket_hash(bad, why).has_value());
  CHECK(crypto::equal("abc", "abc"));
  CHECK_FALSE(crypto::equal("abc", "abd"));
  CHECK_FALSE(crypto::equal("abc", "abcd"));
}

// ---- selection ----------------------------------------------------------------------------------

TEST_CASE("auth: the client's first method the realm offers wins; none → no authenticator") {
  const auto anonymous_only = std::make_shared<const realm_auth>();  // no auth section
  CHECK(std::string(select(anonymous_only, {}, secrets)->method()) == "anonymous");
  CHECK(select(anonymous_only, hello_details({"ticket"}), secrets) == nullptr);
  realm_auth a;
  a.ticket.emplace();
  a.wampcra.emplace();
  const auto c = shared(a);
  CHECK(std::string(select(c, hello_details({"cryptosign", "wampcra", "ticket"}), secrets)->method()) == "wampcra");
  CHECK(std::string(select(c, hello_details({"ticket", "wampcra"}), secrets)->method()) == "ticket");
  CHECK(select(c, hello_details({"anonymous"}), secrets) == nullptr);  // not offered here
  CHECK(select(c, {}, secrets) == nullptr);                            // absent = anonymous
  CHECK(offered_methods(*c) == std::vector<std::string>{"ticket", "wampcra"});
}

TEST_CASE("auth: anonymous gets the configured role and a random authid") {
  realm_auth a;
  a.anonymous = anonymous_config{"public"};
  auto m = select(shared(a), {}, secrets);
  auto s = m->on_hello(facts_for(nullptr));
  auto& w = as<welcome_step>(s);
  CHECK(w.authrole == "public");
  CHECK(w.authmethod == "anonymous");
  CHECK(w.authid.size() == 19);
  auto s2 = select(shared(a), {}, secrets)->on_hello(facts_for(nullptr));
  CHECK(as<welcome_step>(s2).authid != w.authid);
}

// ---- ticket -------------------------------------------------------------------------------------

TEST_CASE("auth: ticket, clear and hashed, known and unknown") {
  realm_auth a;
  a.ticket.emplace();
  a.ticket->principals["dev"] = ticket_principal{"frontend", "", "clear-ticket"};
  ticket_hash h;
  h.iterations = 1000;
  h.salt = "0123456789abcdef";
  h.hash = crypto::pbkdf2_sha256("hashed-ticket", h.salt, 1000, 32);
  a.ticket->principals["svc"] = ticket_principal{"backend", format_ticket_hash(h), ""};
  const auto c = shared(a);
  auto run = [&](const char* authid, const char* ticket) -> step {
    auto m = select(c, hello_details({"ticket"}), secrets);
    auto s = m->on_hello(facts_for(authid));
    auto& ch = as<challenge_step>(s);
    CHECK(ch.authmethod == "ticket");
    CHECK(ch.extra.empty());
    auto r = m->on_authenticate(auth_msg(ticket));
    if (auto* w = std::get_if<work_step>(&r)) return m->on_work(w->verify());
    return r;
  };
  auto ok = run("dev", "clear-ticket");
  CHECK(as<welcome_step>(ok).authrole == "frontend");
  CHECK(as<welcome_step>(ok).authprovider == "static");
  auto hashed = run("svc", "hashed-ticket");
  CHECK(as<welcome_step>(hashed).authid == "svc");
  CHECK(as<welcome_step>(hashed).authrole == "backend");
  auto wrong = run("svc", "nope");
  CHECK(as<reject_step>(wrong).reason == errc::authentication_failed);
  CHECK(as<reject_step>(wrong).log.find("wrong ticket") != std::string::npos);
  // An unknown authid is challenged like a known one and verified with the same hash cost.
  auto m = select(c, hello_details({"ticket"}), secrets);
  CHECK(std::holds_alternative<challenge_step>(m->on_hello(facts_for("ghost"))));
  auto r = m->on_authenticate(auth_msg("hashed-ticket"));
  REQUIRE(std::holds_alternative<work_step>(r));
  auto unknown = m->on_work(std::get<work_step>(r).verify());
  CHECK(as<reject_step>(unknown).reason == errc::authentication_failed);
  CHECK(as<reject_step>(unknown).log.find("unknown authid") != std::string::npos);
  // No authid at all: refused at once.
  auto none = select(c, hello_details({"ticket"}), secrets)->on_hello(facts_for(nullptr));
  CHECK(std::holds_alternative<reject_step>(none));
}

TEST_CASE("auth: ticket with a dynamic authenticator") {
  realm_auth a;
  a.ticket.emplace();
  a.ticket->authenticator = {"com.example.authenticate", "auth"};
  auto m = select(shared(a), hello_details({"ticket"}), secrets);
  CHECK(std::holds_alternative<challenge_step>(m->on_hello(facts_for("joe"))));
  auto l = m->on_authenticate(auth_msg("t0ken"));
  auto& lookup = as<lookup_step>(l);
  CHECK(lookup.procedure == "com.example.authenticate");
  CHECK(lookup.realm == "auth");
  REQUIRE(lookup.args.size() == 3);
  CHECK(lookup.args[0] == value("realm1"));
  CHECK(lookup.args[1] == value("joe"));
  const object& details = lookup.args[2].as_object();
  CHECK(str(details, "ticket") == "t0ken");
  CHECK(str(details, "authmethod") == "ticket");
  CHECK(uint_of(details.find("session")) == 4242u);
  CHECK(str(details.find("transport")->as_object(), "peer") == "127.0.0.1:5000");
  lookup_answer yes;
  yes.ok = true;
  yes.args = {value(object{{"role", value("user")}, {"extra", value(object{{"tier", value("gold")}})}})};
  auto w = m->on_lookup(yes);
  CHECK(as<welcome_step>(w).authrole == "user");
  CHECK(as<welcome_step>(w).authprovider == "dynamic");
  CHECK(as<welcome_step>(w).authextra == object{{"tier", value("gold")}});
  // A bare role string, another authid and realm.
  auto m2 = select(shared(a), hello_details({"ticket"}), secrets);
  m2->on_hello(facts_for("joe"));
  m2->on_authenticate(auth_msg("t0ken"));
  lookup_answer other;
  other.ok = true;
  other.kwargs = object{{"role", value("admin")}, {"authid", value("joe@corp")}, {"realm", value("realm2")}};
  auto w2 = m2->on_lookup(other);
  CHECK(as<welcome_step>(w2).authid == "joe@corp");
  CHECK(as<welcome_step>(w2).realm == "realm2");
  // Refusals: an ERROR, or an answer without a role.
  for (lookup_answer no : {lookup_answer{false, "wamp.error.not_authorized", {}, {}},
                           lookup_answer{true, "", {value(object{{"authid", value("x")}})}, {}},
                           lookup_answer{false, "wamp.error.timeout", {}, {}}}) {
    auto m3 = select(shared(a), hello_details({"ticket"}), secrets);
    m3->on_hello(facts_for("joe"));
    m3->on_authenticate(auth_msg("t"));
    auto refused = m3->on_lookup(no);
    CHECK(as<reject_step>(refused).reason == errc::authentication_failed);
  }
}

// ---- WAMP-CRA -----------------------------------------------------------------------------------

TEST_CASE("auth: WAMP-CRA unsalted and salted, and unknown authids that look known") {
  realm_auth a;
  a.wampcra.emplace();
  a.wampcra->principals["plain"] = wampcra_principal{"user", "s3cret", "", "", 1000, 32};
  wampcra_principal salted{"admin", "", wampcra_derive_key("pa55", "NaCl", 100, 32), "NaCl", 100, 32};
  a.wampcra->principals["salty"] = salted;
  const auto c = shared(a);
  auto challenge_of = [&](std::unique_ptr<authenticator>& m, const char* authid) {
    m = select(c, hello_details({"wampcra"}), secrets);
    auto s = m->on_hello(facts_for(authid));
    return as<challenge_step>(s).extra;
  };
  std::unique_ptr<authenticator> m;
  object extra = challenge_of(m, "plain");
  const std::string challenge = str(extra, "challenge");
  auto parsed = json_codec().decode_value(challenge);
  REQUIRE(parsed.ok());
  const object& fields = parsed->as_object();
  CHECK(str(fields, "authid") == "plain");
  CHECK(str(fields, "authrole") == "user");
  CHECK(str(fields, "authmethod") == "wampcra");
  CHECK(str(fields, "authprovider") == "static");
  CHECK(str(fields, "timestamp") == "2026-12-04T12:00:00.000Z");
  CHECK(uint_of(fields.find("session")) == 4242u);
  CHECK(str(fields, "nonce").size() >= 32);
  CHECK(extra.find("salt") == nullptr);
  auto ok = m->on_authenticate(auth_msg(wampcra_sign("s3cret", challenge)));
  CHECK(as<welcome_step>(ok).authrole == "user");

  extra = challenge_of(m, "salty");
  CHECK(str(extra, "salt") == "NaCl");
  CHECK(uint_of(extra.find("iterations")) == 100u);
  const std::string key = wampcra_derive_key("pa55", "NaCl", 100, 32);  // what the client derives
  auto ok2 = m->on_authenticate(auth_msg(wampcra_sign(key, str(extra, "challenge"))));
  CHECK(as<welcome_step>(ok2).authid == "salty");
  extra = challenge_of(m, "salty");
  CHECK(std::holds_alternative<reject_step>(m->on_authenticate(auth_msg(wampcra_sign("pa55", str(extra, "challenge"))))));

  // Unknown: the same keys, a salt that is the same at every attempt, the same failure.
  const object ghost1 = challenge_of(m, "ghost");
  auto r = m->on_authenticate(auth_msg("anything"));
  CHECK(as<reject_step>(r).reason == errc::authentication_failed);
  const object ghost2 = challenge_of(m, "ghost");
  std::vector<std::string> known_keys, ghost_keys;
  for (const auto& [k, v] : extra) known_keys.push_back(k);
  for (const auto& [k, v] : ghost1) ghost_keys.push_back(k);
  CHECK(ghost_keys == known_keys);
  CHECK(str(ghost1, "salt") == str(ghost2, "salt"));
  CHECK(str(challenge_of(m, "ghost-2"), "salt") != str(ghost1, "salt"));
}

TEST_CASE("auth: WAMP-CRA with a dynamic authenticator supplying the secret") {
  realm_auth a;
  a.wampcra.emplace();
  a.wampcra->authenticator = {"com.example.auth", ""};
  auto m = select(shared(a), hello_details({"wampcra"}), secrets);
  auto l = m->on_hello(facts_for("joe"));
  CHECK(as<lookup_step>(l).realm == "realm1");  // its own realm by default
  lookup_answer answer;
  answer.ok = true;
  answer.args = {value(object{{"role", value("user")}, {"secret", value("xyz")}, {"salt", value("pepper")},
                              {"iterations", value(50)}, {"keylen", value(16)}})};
  auto s = m->on_lookup(answer);
  const object& extra = as<challenge_step>(s).extra;
  CHECK(str(extra, "salt") == "pepper");
  const std::string key = wampcra_derive_key("xyz", "pepper", 50, 16);
  auto w = m->on_authenticate(auth_msg(wampcra_sign(key, str(extra, "challenge"))));
  CHECK(as<welcome_step>(w).authprovider == "dynamic");
}

// ---- cryptosign ---------------------------------------------------------------------------------

TEST_CASE("auth: cryptosign with authorized keys, channel binding and router authentication") {
  const std::string client_seed = unhex("4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510");
  const std::string client_pub = crypto::ed25519_public_key(client_seed);
  const std::string router_seed = unhex("d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd");
  realm_auth a;
  a.cryptosign.emplace();
  a.cryptosign->principals["device-1"] = cryptosign_principal{"device", {crypto::hex_encode(client_pub)}};
  a.cryptosign->router_key = crypto::hex_encode(router_seed);
  const auto c = shared(a);
  auto sign = [&](const std::string& seed, const object& extra, const std::string& channel) {
    std::string m = unhex(str(extra, "challenge"));
    for (std::size_t i = 0; i < channel.size(); ++i) m[i] ^= channel[i];
    return crypto::hex_encode(crypto::ed25519_sign(seed, m) + m);
  };
  SUBCASE("no authid: the key names the principal") {
    auto m = select(c, hello_details({"cryptosign"}), secrets);
    auto s = m->on_hello(facts_for(nullptr, object{{"pubkey", value(crypto::hex_encode(client_pub))}}));
    const object extra = as<challenge_step>(s).extra;
    CHECK(extra.find("channel_binding")->is_null());
    auto w = m->on_authenticate(auth_msg(sign(client_seed, extra, "")));
    CHECK(as<welcome_step>(w).authid == "device-1");
    CHECK(as<welcome_step>(w).authrole == "device");
  }
  SUBCASE("a signature by another key, or over another message, fails") {
    auto m = select(c, hello_details({"cryptosign"}), secrets);
    auto s = m->on_hello(facts_for(nullptr, object{{"pubkey", value(crypto::hex_encode(client_pub))}}));
    CHECK(std::holds_alternative<reject_step>(m->on_authenticate(auth_msg(sign(router_seed, as<challenge_step>(s).extra, ""))))); 
  }
  SUBCASE("an unknown key is challenged, then refused") {
    const std::string other = crypto::ed25519_public_key(router_seed);
    auto m = select(c, hello_details({"cryptosign"}), secrets);
    auto s = m->on_hello(facts_for(nullptr, object{{"pubkey", value(crypto::hex_encode(other))}}));
    auto r = m->on_authenticate(auth_msg(sign(router_seed, as<challenge_step>(s).extra, "")));
    CHECK(as<reject_step>(r).log.find("no principal authorizes") != std::string::npos);
  }
  SUBCASE("channel binding tls-unique, and router authentication") {
    client_facts f = facts_for("device-1", object{{"pubkey", value(crypto::hex_encode(client_pub))},
                                                  {"channel_binding", value("tls-unique")},
                                                  {"challenge", value(std::string(64, 'a'))}});
    f.tls_unique = std::string(32, '\x5a');
    auto m = select(c, hello_details({"cryptosign"}), secrets);
    auto s = m->on_hello(f);
    const object extra = as<challenge_step>(s).extra;
    CHECK(str(extra, "channel_binding") == "tls-unique");
    // The router proved it holds its key: its signature over the client's challenge XOR channel.
    std::string theirs = unhex(std::string(64, 'a'));
    for (std::size_t i = 0; i < 32; ++i) theirs[i] ^= f.tls_unique[i];
    const std::string router_sig = unhex(str(extra, "signature"));
    CHECK(router_sig.substr(64) == theirs);
    CHECK(crypto::ed25519_verify(unhex(str(extra, "pubkey")), theirs, router_sig.substr(0, 64)));
    CHECK(std::holds_alternative<reject_step>(m->on_authenticate(auth_msg(sign(client_seed, extra, "")))));
    auto m2 = select(c, hello_details({"cryptosign"}), secrets);
    auto s2 = m2->on_hello(f);
    auto w = m2->on_authenticate(auth_msg(sign(client_seed, as<challenge_step>(s2).extra, f.tls_unique)));
    CHECK(std::holds_alternative<welcome_step>(w));
  }
  SUBCASE("a binding the connection does not have is refused") {
    auto m = select(c, hello_details({"cryptosign"}), secrets);
    auto s = m->on_hello(facts_for(nullptr, object{{"pubkey", value(crypto::hex_encode(client_pub))},
                                                   {"channel_binding", value("tls-unique")}}));
    CHECK(std::holds_alternative<reject_step>(s));
  }
}

// ---- WAMP-SCRAM ---------------------------------------------------------------------------------

namespace {
// What a client computes for one SCRAM exchange (the dialects differ in c= and the kdf name).
std::string scram_client_proof(scram_dialect d, const std::string& authid, const std::string& password,
                               const std::string& client_nonce, const object& challenge, std::string& auth_message) {
  const std::string nonce = str(challenge, "nonce");
  const std::string salt = str(challenge, "salt");
  const auto iterations = static_cast<std::uint32_t>(uint_of(challenge.find("iterations")));
  const std::string kdf = str(challenge, "kdf");
  std::uint32_t memory = 0;
  if (const value* m = challenge.find("memory"); m != nullptr && !m->is_null()) memory = static_cast<std::uint32_t>(uint_of(m));
  const std::string salted = scram_salted_password(d, kdf == "pbkdf2" ? "pbkdf2" : "argon2id13", password,
                                                   *base64_decode(salt), iterations, memory);
  auth_message = "n=" + authid + ",r=" + client_nonce + ",r=" + nonce + ",s=" + salt + ",i=" +
                 std::to_string(iterations) + ",c=" + (d == scram_dialect::spec ? base64_encode("n,,") : "") +
                 ",r=" + nonce;
  const std::string client_key = crypto::hmac_sha256(salted, "Client Key");
  const std::string signature = crypto::hmac_sha256(crypto::sha256(client_key), auth_message);
  std::string proof = client_key;
  for (std::size_t i = 0; i < proof.size(); ++i) proof[i] ^= signature[i];
  return base64_encode(proof);
}

scram_principal scram_credentials(scram_dialect d, const char* kdf, const std::string& password) {
  scram_principal p;
  p.role = "user";
  p.kdf = kdf;
  p.iterations = std::string(kdf) == "pbkdf2" ? 4096 : 2;
  p.memory = 64;
  const std::string salt = "0123456789abcdef";
  p.salt = base64_encode(salt);
  const scram_keys k = scram_keys_from(scram_salted_password(d, kdf, password, salt, p.iterations, p.memory));
  p.stored_key = base64_encode(k.stored_key);
  p.server_key = base64_encode(k.server_key);
  return p;
}
}  // namespace

TEST_CASE("auth: WAMP-SCRAM, both KDFs and both dialects, with the server's proof") {
  for (auto [dialect, method, kdf] : {std::tuple{scram_dialect::spec, "wamp-scram", "pbkdf2"},
                                      std::tuple{scram_dialect::spec, "wamp-scram", "argon2id13"},
                                      std::tuple{scram_dialect::autobahn, "scram", "argon2id13"}}) {
    CAPTURE(method);
    CAPTURE(kdf);
    realm_auth a;
    auto& section = dialect == scram_dialect::spec ? a.scram : a.scram_autobahn;
    section.emplace();
    section->principals["alice"] = scram_credentials(dialect, kdf, "wonderland");
    const auto c = shared(a);
    const std::string client_nonce = "rOprNGfwEbeRWgbNEkqO";
    auto m = select(c, hello_details({method}), secrets);
    auto s = m->on_hello(facts_for("alice", object{{"nonce", value(client_nonce)}}));
    const object challenge = as<challenge_step>(s).extra;
    CHECK(str(challenge, "nonce").rfind(client_nonce, 0) == 0);
    CHECK(str(challenge, "kdf") == (dialect == scram_dialect::autobahn ? "argon2id-13" : kdf));
    std::string auth_message;
    const std::string proof = scram_client_proof(dialect, "alice", "wonderland", client_nonce, challenge, auth_message);
    auto w = m->on_authenticate(auth_msg(proof, object{{"nonce", value(str(challenge, "nonce"))}}));
    const auto& welcome = as<welcome_step>(w);
    CHECK(welcome.authmethod == method);
    const scram_principal& p = section->principals["alice"];
    const std::string expected = base64_encode(scram_server_signature(*base64_decode(p.server_key), auth_message));
    CHECK(str(welcome.authextra, dialect == scram_dialect::spec ? "verifier" : "scram_server_signature") == expected);
    // The wrong password fails; an unknown authid is challenged the same way, salt stable.
    auto m2 = select(c, hello_details({method}), secrets);
    auto s2 = m2->on_hello(facts_for("alice", object{{"nonce", value(client_nonce)}}));
    const std::string bad = scram_client_proof(dialect, "alice", "looking-glass", client_nonce, as<challenge_step>(s2).extra, auth_message);
    CHECK(std::holds_alternative<reject_step>(
        m2->on_authenticate(auth_msg(bad, object{{"nonce", value(str(as<challenge_step>(s2).extra, "nonce"))}}))));
    auto g1 = select(c, hello_details({method}), secrets)->on_hello(facts_for("bob", object{{"nonce", value("n1")}}));
    auto g2 = select(c, hello_details({method}), secrets)->on_hello(facts_for("bob", object{{"nonce", value("n2")}}));
    CHECK(str(as<challenge_step>(g1).extra, "salt") == str(as<challenge_step>(g2).extra, "salt"));
    CHECK(as<challenge_step>(g1).extra.size() == challenge.size());
  }
}

// ---- TLS client certificates --------------------------------------------------------------------

TEST_CASE("auth: tls maps a verified client certificate to a principal") {
  realm_auth a;
  a.tls.emplace();
  a.tls->principals["alice"] = tls_principal{"user", "alice", "", ""};
  a.tls->principals["bob"] = tls_principal{"ops", "", "bob.example.com", ""};
  a.tls->principals["carol"] = tls_principal{"admin", "", "", "AB:CD:EF"};
  const auto c = shared(a);
  auto with_cert = [](std::string cn, std::vector<std::string> sans, std::string fp) {
    client_facts f = facts_for(nullptr);
    f.certificate = peer_certificate{std::move(cn), std::move(sans), std::move(fp)};
    return f;
  };
  auto s1 = select(c, hello_details({"tls"}), secrets)->on_hello(with_cert("alice", {}, "00"));
  CHECK(as<welcome_step>(s1).authid == "alice");
  auto s2 = select(c, hello_details({"tls"}), secrets)->on_hello(with_cert("x", {"bob.example.com"}, "00"));
  CHECK(as<welcome_step>(s2).authrole == "ops");
  auto s3 = select(c, hello_details({"tls"}), secrets)->on_hello(with_cert("y", {}, "abcdef"));
  CHECK(as<welcome_step>(s3).authid == "carol");
  CHECK(std::holds_alternative<reject_step>(select(c, hello_details({"tls"}), secrets)->on_hello(with_cert("mallory", {}, "11"))));
  CHECK(std::holds_alternative<reject_step>(select(c, hello_details({"tls"}), secrets)->on_hello(facts_for(nullptr))));
}

// ---- throttle -----------------------------------------------------------------------------------

TEST_CASE("auth: the throttle locks an address out after repeated failures, longer each time") {
  throttle_config cfg;
  cfg.failures = 3;
  cfg.window = std::chrono::seconds(60);
  cfg.lockout = std::chrono::seconds(10);
  cfg.max_lockout = std::chrono::seconds(25);
  cfg.max_addresses = 2;
  throttle t(cfg);
  auto now = throttle::clock::time_point{} + std::chrono::hours(1);
  CHECK(t.failure("10.0.0.1", now).count() == 0);
  CHECK(t.failure("10.0.0.1", now).count() == 0);
  CHECK(t.failure("10.0.0.1", now) == std::chrono::seconds(10));
  CHECK(t.locked("10.0.0.1", now + std::chrono::seconds(5)) == std::chrono::seconds(5));
  CHECK(t.locked("10.0.0.2", now).count() == 0);
  now += std::chrono::seconds(11);
  CHECK(t.locked("10.0.0.1", now).count() == 0);
  for (int i = 0; i < 2; ++i) t.failure("10.0.0.1", now);
  CHECK(t.failure("10.0.0.1", now) == std::chrono::seconds(20));  // doubled
  now += std::chrono::seconds(21);
  for (int i = 0; i < 2; ++i) t.failure("10.0.0.1", now);
  CHECK(t.failure("10.0.0.1", now) == std::chrono::seconds(25));  // at most max_lockout
  // Failures outside the window do not add up; a success forgets the address.
  t.failure("10.0.0.3", now);
  t.failure("10.0.0.3", now + std::chrono::minutes(2));
  CHECK(t.failure("10.0.0.3", now + std::chrono::minutes(2)).count() == 0);
  t.success("10.0.0.3");
  // Bounded: at most max_addresses remembered.
  t.failure("10.0.0.4", now);
  t.failure("10.0.0.5", now);
  CHECK(t.tracked() == 2);
  CHECK(throttle::address_of("127.0.0.1:5000") == "127.0.0.1");
  CHECK(throttle::address_of("[::1]:5000") == "::1");
  CHECK(throttle::address_of("unix") == "unix");
}
