#include "router/session.hpp"

#include "realm/realm.hpp"
#include "realm/replies.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include "router/ops/log.hpp"
#include "router/ops/metrics.hpp"
#include "router/router.hpp"
#include "serializers/overloaded.hpp"

namespace junction {
namespace {
// Messages a session may send while one of its actions waits for a dynamic authorizer.
constexpr std::size_t max_held = 1024;
}  // namespace

const std::shared_ptr<const session_info>& session::no_info() {
  static const auto none = std::make_shared<const session_info>();
  return none;
}

session::session(router& owner, transport& link, const codec& codec)
    : owner_(owner), link_(&link), codec_(codec) {}

// What only an authentication in progress needs (session.hpp: authn_).
struct session::authentication {
  std::unique_ptr<auth::authenticator> machine;
  std::shared_ptr<const auth::realm_auth> config;
  std::string realm;                      // asked for in HELLO
  client_features features;               // what HELLO.Details.roles announced
  id session = 0;                         // reserved for the WELCOME
  timer_queue::handle challenge_timer = 0;
  bool awaiting_authenticate = false;     // a CHALLENGE was sent
};

session::~session() = default;

bool transport::send(const message& m, const codec& c) {
  // One buffer per thread rather than per session: idle sessions should cost little memory.
  thread_local std::string buffer;
  buffer.clear();
  c.encode(m, buffer);
  return send_frame(buffer);
}

void session::on_frame(std::string_view bytes) {
  // Before the core lock: decoding touches nothing shared. Payloads of the messages the router
  // forwards stay encoded (codec::decode_routed, payload pass-through).
  auto decoded = codec_.decode_routed(bytes);
  // Once routed, the message's URI buffers go back to this thread's decoder (after the lock).
  struct recycle_on_exit {
    result<message>& decoded;
    ~recycle_on_exit() {
      if (decoded) recycle_strings(*decoded);
    }
  } recycle{decoded};
  const core_guard lock(owner_.core());
  if (state_ == state::closed) return;  // after ABORT, further input is ignored
  if (!decoded) {
    protocol_violation(decoded.error().message);
    return;
  }
  message& m = *decoded;
  const message_traits& traits = traits_of(m);
  metrics::io().message_in(static_cast<unsigned>(traits.type));
  if (!traits.router_receives) {
    protocol_violation("a router does not receive " + std::string(traits.name) + " messages");
    return;
  }
  if (state_ == state::closing) {
    // Spec basic/sessions: after its GOODBYE the router ignores everything but the reply.
    if (std::holds_alternative<goodbye>(m)) state_ = state::awaiting_hello;
    if (std::holds_alternative<abort>(m)) {
      state_ = state::closed;
      close_link("client sent ABORT");
    }
    return;
  }
  if (state_ == state::awaiting_hello) {
    if (auto* h = std::get_if<hello>(&m)) return on_hello(std::move(*h));
    if (std::holds_alternative<abort>(m)) {  // the client gave up joining
      close_link("client sent ABORT");
      state_ = state::closed;
      return;
    }
    protocol_violation("received " + std::string(traits.name) + " before HELLO");
    return;
  }
  if (state_ == state::established && waiting_authz_) {
    // Behind a pending authorization: in order, and bounded.
    if (held_count() >= max_held) {
      JLOG(warn) << "closing a session: " << held_count()
                 << " messages wait behind a pending authorization" << log_field("session", info_->session)
                 << log_field("peer", link_ ? link_->remote() : "?");
      abort_and_close(errc::limit_exceeded, "too many messages waiting for an authorization");
      return;
    }
    held().push_back(std::move(m));
    return;
  }
  if (state_ == state::authenticating) {
    const bool awaiting = authn_ && authn_->awaiting_authenticate;
    if (auto* a = std::get_if<authenticate>(&m); a != nullptr && awaiting) return on_authenticate(std::move(*a));
    if (std::holds_alternative<abort>(m)) {  // the client gave up authenticating
      abandon_authentication();
      close_link("client sent ABORT");
      state_ = state::closed;
      return;
    }
    protocol_violation("received " + std::string(traits.name) +
                       (awaiting ? " instead of AUTHENTICATE" : " while being authenticated"));
    return;
  }
  route(std::move(m));
}

void session::on_invalid_framing(std::string text) {
  const core_guard lock(owner_.core());
  if (state_ != state::closed) protocol_violation(std::move(text));
}

void session::route(message&& m) {
  std::visit(
      overloaded{
          [&](hello&) { protocol_violation("received HELLO in an established session"); },
          [&](authenticate&) {
            protocol_violation("received AUTHENTICATE in an established session");
          },
          [&](goodbye& g) { on_goodbye(std::move(g)); },
          [&](abort& a) {
            JLOG(debug) << "session aborted by the client: " << a.reason
                        << log_field("session", info_->session);
            leave_realm();
            state_ = state::closed;
            close_link("client sent ABORT");
          },
          [&](error& e) {
            if (e.request_type != static_cast<std::uint64_t>(message_type::invocation)) {
              protocol_violation("received ERROR for request type " +
                                 std::to_string(e.request_type) +
                                 "; a router only receives ERROR for INVOCATION (68)");
              return;
            }
            if (auto f = realm_->handle(info_->session, std::move(m))) protocol_violation(f->message);
          },
          [&](auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, subscribe> || std::is_same_v<T, unsubscribe> ||
                          std::is_same_v<T, publish> || std::is_same_v<T, register_> ||
                          std::is_same_v<T, unregister> || std::is_same_v<T, call>) {
              // A progressive CALL reuses its first CALL's request id (progressive call
              // invocations): the dealer knows those ids, and judges them itself.
              // Asked only when the id is out of sequence (never in lenient mode).
              auto continuation = [&] {
                if constexpr (std::is_same_v<T, call>)
                  return realm_->get_dealer().knows_call(info_->session, x.request);
                return false;
              };
              if (!check_request_id(x.request) && !continuation()) {
                protocol_violation(std::string(traits_of(x.type).name) + " request id " +
                                   std::to_string(x.request) + " is not " +
                                   std::to_string(last_request_id_ + 1) +
                                   " (strict request ids are on)");
                return;
              }
            }
            if constexpr (std::is_same_v<T, publish> || std::is_same_v<T, subscribe> ||
                          std::is_same_v<T, register_> || std::is_same_v<T, call>) {
              switch (authorize(m)) {
                case gate::stop: return;
                case gate::wait:
                  held().push_front(std::move(m));
                  return;
                case gate::pass: break;
              }
            }
            if (auto f = realm_->handle(info_->session, std::move(m))) protocol_violation(f->message);
          },
      },
      m);
}

bool session::check_request_id(id request) {
  if (!owner_.config().strict_request_ids) return true;
  const id expected = last_request_id_ >= max_id ? 1 : last_request_id_ + 1;
  if (request != expected) return false;
  last_request_id_ = request;
  return true;
}

namespace {

std::string now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[40];
  const std::size_t n = std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(out + n, sizeof out - n, ".%03dZ", static_cast<int>(ms.count()));
  return out;
}

std::string string_of(const object& o, std::string_view key) {
  const value* v = o.find(key);
  return v != nullptr && v->is_string() ? v->as_string() : std::string();
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out.empty() ? "none" : out;
}

}  // namespace

void session::on_hello(hello&& h) {
  if (owner_.draining()) {
    abort_and_close(errc::system_shutdown, "the router is shutting down");
    return;
  }
  realm* target = owner_.find_realm(h.realm);
  if (target == nullptr) {
    abort_and_close(errc::no_such_realm, "no realm named '" + h.realm + "' on this router");
    return;
  }
  const value* roles = h.details.find("roles");
  if (roles == nullptr || !roles->is_object() || roles->as_object().empty()) {
    protocol_violation("HELLO.Details.roles must be a non-empty dict");
    return;
  }
  auto config = owner_.auth_of(h.realm);
  auto auth = auth::select(config, h.details, owner_.secrets());
  if (!auth) {
    std::vector<std::string> asked;
    if (const value* m = h.details.find("authmethods"); m != nullptr && m->is_array())
      for (const value& v : m->as_array())
        if (v.is_string()) asked.push_back(v.as_string());
    abort_and_close(errc::no_auth_method, "realm '" + h.realm + "' accepts none of the authmethods offered (" +
                                              join(asked) + "); it accepts " +
                                              join(auth::offered_methods(*config)));
    return;
  }
  const bool anonymous = std::string_view(auth->method()) == "anonymous";
  if (!anonymous && link_ != nullptr) {
    const std::string address = auth::throttle::address_of(link_->remote());
    const auto locked = owner_.auth_throttle().locked(address, std::chrono::steady_clock::now());
    if (locked.count() > 0) {
      JLOG(info) << "authentication refused: the address is locked out after repeated failures"
                 << log_field("peer", link_->remote()) << log_field("realm", h.realm)
                 << log_field("authmethod", auth->method());
      owner_.count_authentication(h.realm, auth->method(), false);
      abort_and_close(errc::authentication_failed,
                      "too many failed authentications from this address; try again in " +
                          std::to_string((locked.count() + 999) / 1000) + " s");
      return;
    }
    if (auth_slots* slots = link_->authenticating()) {
      if (slots->pending >= slots->max) {
        JLOG(warn) << "authentication refused: " << slots->pending
                   << " sessions are authenticating on this listener (its max_authenticating)"
                   << log_field("peer", link_->remote());
        abort_and_close(errc::authentication_failed,
                        "too many sessions are authenticating; try again later");
        return;
      }
      ++slots->pending;
      holds_slot_ = true;
    }
  }
  auth::client_facts facts;
  facts.realm = h.realm;
  facts.authid = string_of(h.details, "authid");
  facts.authrole = string_of(h.details, "authrole");
  if (const value* e = h.details.find("authextra"); e != nullptr && e->is_object()) facts.authextra = e->as_object();
  authentication& started = begin_authentication(h.realm, client_features::from_roles(roles->as_object()));
  facts.session = started.session;
  if (link_ != nullptr) {
    facts.transport = std::string(link_->kind());
    facts.protocol = std::string(link_->protocol());
    facts.peer = std::string(link_->remote());
    link_->describe_tls(facts);
  }
  facts.now_iso8601 = now_iso8601();
  started.config = std::move(config);
  started.machine = std::move(auth);
  drive(started.machine->on_hello(facts));
}

session::authentication& session::begin_authentication(std::string realm, client_features features) {
  auto started = std::make_unique<authentication>();
  started->session = owner_.allocate_session_id();
  started->realm = std::move(realm);
  started->features = features;
  authn_ = std::move(started);
  state_ = state::authenticating;
  ++auth_epoch_;
  return *authn_;
}

void session::join_trusted(const std::string& realm_name, auth::welcome_step who, const object& roles) {
  const core_guard lock(owner_.core());
  if (state_ != state::awaiting_hello) return;
  if (owner_.draining()) return abort_and_close(errc::system_shutdown, "the router is shutting down");
  if (owner_.find_realm(realm_name) == nullptr)
    return abort_and_close(errc::no_such_realm, "no realm named '" + realm_name + "' on this router");
  begin_authentication(realm_name, client_features::from_roles(roles));
  welcome_client(std::move(who));
}

void session::drive(auth::step&& step) {
  auto self = shared_from_this();
  std::weak_ptr<session> weak = self;
  const std::uint64_t epoch = auth_epoch_;
  // A callback from outside (the authenticator's answer, the worker, the timer) still concerns
  // this authentication only if the session waits for it.
  auto current = [weak, epoch]() -> std::shared_ptr<session> {
    auto s = weak.lock();
    return s && s->state_ == state::authenticating && s->auth_epoch_ == epoch ? s : nullptr;
  };
  std::visit(
      overloaded{
          [&](auth::welcome_step& w) { welcome_client(std::move(w)); },
          [&](auth::reject_step& r) { authentication_failed(r); },
          [&](auth::challenge_step& c) {
            challenge ch;
            ch.authmethod = std::move(c.authmethod);
            ch.extra = std::move(c.extra);
            send(std::move(ch));
            if (!authn_) return;  // the send ended the session
            authn_->awaiting_authenticate = true;
            const auto timeout = authn_->config->challenge_timeout;
            authn_->challenge_timer = owner_.timers().schedule(timeout, [current, timeout] {
              if (auto s = current()) {
                s->authn_->challenge_timer = 0;
                s->authentication_failed(auth::reject_step{
                    errc::authentication_failed,
                    "no AUTHENTICATE within " + std::to_string(timeout.count()) + " ms"});
              }
            });
          },
          [&](auth::lookup_step& l) {
            realm* where = owner_.find_realm(l.realm);
            executor* exec = owner_.exec();
            if (where == nullptr || exec == nullptr) {
              authentication_failed(auth::reject_step{
                  errc::authentication_failed, "the authenticator's realm '" + l.realm + "' is not served"});
              return;
            }
            // The answer arrives inside an operation of that realm: it is handed to this session
            // in a handler of its own (docs/THREADING.md).
            where->call_internal(l.procedure, std::move(l.args), {}, authn_->config->authenticator_timeout,
                                 [current, exec](dealer::answer&& a) {
                                   auto shared = std::make_shared<dealer::answer>(std::move(a));
                                   exec->post([current, shared] {
                                     if (auto s = current())
                                       s->drive(s->authn_->machine->on_lookup(auth::lookup_answer{
                                           shared->ok, std::move(shared->error), std::move(shared->args),
                                           std::move(shared->kwargs)}));
                                   });
                                 });
          },
          [&](auth::work_step& w) {
            executor* exec = owner_.exec();
            if (exec == nullptr) {
              drive(authn_->machine->on_work(w.verify()));
              return;
            }
            exec->offload(std::move(w.verify), [current](bool ok) {
              if (auto s = current()) s->drive(s->authn_->machine->on_work(ok));
            });
          },
      },
      step);
}

void session::on_authenticate(authenticate&& a) {
  authn_->awaiting_authenticate = false;
  if (authn_->challenge_timer != 0) {
    owner_.timers().cancel(authn_->challenge_timer);
    authn_->challenge_timer = 0;
  }
  drive(authn_->machine->on_authenticate(a));
}

std::unique_ptr<session::authentication> session::end_authentication() {
  if (authn_ && authn_->challenge_timer != 0) {
    owner_.timers().cancel(authn_->challenge_timer);
    authn_->challenge_timer = 0;
  }
  if (holds_slot_) {
    if (link_ != nullptr)
      if (auth_slots* slots = link_->authenticating(); slots != nullptr && slots->pending > 0) --slots->pending;
    holds_slot_ = false;
  }
  ++auth_epoch_;  // outstanding callbacks find themselves outdated
  return std::move(authn_);
}

std::unique_ptr<session::authentication> session::abandon_authentication() {
  auto ended = end_authentication();
  if (ended) owner_.release_session_id(ended->session);
  return ended;
}

void session::authentication_failed(const auth::reject_step& r) {
  const std::string method = authn_ && authn_->machine ? authn_->machine->method() : "";
  const auto ended = abandon_authentication();
  if (r.reason == errc::protocol_violation) {
    protocol_violation(r.log);
    return;
  }
  const std::string realm_name = ended ? ended->realm : std::string();
  owner_.count_authentication(realm_name, method, false);
  const std::string peer = link_ != nullptr ? std::string(link_->remote()) : "?";
  JLOG(info) << "authentication failed: " << r.log << log_field("realm", realm_name)
             << log_field("authmethod", method) << log_field("peer", peer);
  if (method != "anonymous" && link_ != nullptr) {
    const auto lockout =
        owner_.auth_throttle().failure(auth::throttle::address_of(peer), std::chrono::steady_clock::now());
    if (lockout.count() > 0) {
      JLOG(warn) << "address locked out for " << lockout.count()
                 << " ms after repeated authentication failures" << log_field("peer", peer);
      metrics::io().auth_lockouts.add();
    }
  }
  // The client learns nothing more than that it failed: the same answer for an unknown authid
  // as for a wrong secret.
  abort_and_close(r.reason, r.reason == errc::authentication_failed ? "authentication failed" : r.log);
}

// ---- authorization --------------------------------------------------------------------------

namespace {

struct target {
  auth::action act;
  const std::string* uri;
  object* options;
  id request;
  message_type type;
};

target target_of(message& m) {
  if (auto* c = std::get_if<call>(&m)) return {auth::action::call, &c->procedure, &c->options, c->request, c->type};
  if (auto* r = std::get_if<register_>(&m))
    return {auth::action::register_, &r->procedure, &r->options, r->request, r->type};
  if (auto* p = std::get_if<publish>(&m)) return {auth::action::publish, &p->topic, &p->options, p->request, p->type};
  auto& sub = std::get<subscribe>(m);
  return {auth::action::subscribe, &sub.topic, &sub.options, sub.request, sub.type};
}

}  // namespace

void session::refresh_authorization() {
  if (authz_epoch_ == owner_.authorization_epoch()) return;
  authz_epoch_ = owner_.authorization_epoch();
  authz_ = realm_ != nullptr ? owner_.authorizer_of(realm_->name()) : nullptr;
  role_ = authz_ ? authz_->find(info_->authrole) : nullptr;
  // A dynamic role's authorizer realm and the realm's cache stay put until the next reload.
  authz_cache_ = nullptr;
  authz_where_ = nullptr;
  if (role_ != nullptr && role_->dynamic()) {
    authz_cache_ = &owner_.authorizer_cache(realm_->name());
    authz_where_ = role_->authorizer_realm().empty() ? realm_ : owner_.find_realm(role_->authorizer_realm());
  }
}

session::gate session::authorize(message& m) {
  refresh_authorization();
  if (!authz_ || !authz_->enabled()) return gate::pass;
  const target t = target_of(m);
  if (role_ == nullptr || !role_->dynamic()) {
    // Static (or a role the reload removed: nothing is allowed).
    return apply_decision(m, role_ != nullptr ? role_->decide(*t.uri, t.act) : auth::decision{});
  }
  realm* where = authz_where_;
  const dealer::registration* reg = where != nullptr ? where->get_dealer().match(role_->authorizer()) : nullptr;
  const std::uint64_t registration = reg != nullptr ? reg->registration_id : 0;
  if (auto d = authz_cache_->lookup(role_->name(), info_->session, *t.uri, t.act, registration,
                                    std::chrono::steady_clock::now()))
    return apply_decision(m, *d);
  if (registration == 0) {
    JLOG(warn) << "authorization denied: no authorizer " << role_->authorizer() << " is registered"
               << log_field("realm", realm_->name()) << log_field("authrole", info_->authrole);
    owner_.count_authorizer(realm_->name(), "error");
    return apply_decision(m, auth::decision{});
  }
  // Ask the authorizer: (session details, uri, action, options). The session waits, and so does
  // everything it sends until the answer (WAMP's ordering guarantees).
  object details{{"session", value(info_->session)},
                 {"authid", value(info_->authid)},
                 {"authrole", value(info_->authrole)},
                 {"authmethod", value(info_->authmethod)},
                 {"authprovider", value(info_->authprovider)}};
  if (!info_->transport.type.empty())
    details.push_back("transport", value(object{{"type", value(info_->transport.type)},
                                                {"protocol", value(info_->transport.protocol)},
                                                {"peer", value(info_->transport.peer)}}));
  array args{value(std::move(details)), value(*t.uri), value(auth::name_of(t.act)), value(*t.options)};
  waiting_authz_ = true;
  const std::uint64_t wait = ++authz_wait_;
  std::weak_ptr<session> weak = shared_from_this();
  executor* exec = owner_.exec();
  const std::string uri = *t.uri;
  const auth::action act = t.act;
  where->call_internal(role_->authorizer(), std::move(args), {}, authz_->config().authorizer_timeout,
                       [weak, wait, exec, uri, act, registration](dealer::answer&& a) {
                         auto answer = std::make_shared<dealer::answer>(std::move(a));
                         auto deliver = [weak, wait, answer, uri, act, registration] {
                           auto s = weak.lock();
                           if (s && s->state_ == state::established && s->waiting_authz_ && s->authz_wait_ == wait)
                             s->on_authorizer_answer(*answer, uri, act, registration);
                         };
                         if (exec != nullptr) {
                           exec->post(std::move(deliver));
                         } else {
                           deliver();
                         }
                       });
  return gate::wait;
}

void session::on_authorizer_answer(const dealer::answer& a, const std::string& uri, auth::action act,
                                   std::uint64_t registration) {
  auth::decision d;
  bool cache = false, session_only = false, understood = true;
  std::chrono::milliseconds ttl = authz_ ? authz_->config().cache_ttl : std::chrono::milliseconds{0};
  const std::string& realm_name = realm_->name();
  if (!a.ok) {
    JLOG(warn) << "authorization denied: the authorizer answered " << a.error << log_field("realm", realm_name)
               << log_field("authrole", info_->authrole) << log_field("uri", uri);
    owner_.count_authorizer(realm_name, a.error == uri_of(errc::timeout) ? "timeout" : "error");
  } else {
    const value* first = a.args.empty() ? nullptr : &a.args.front();
    if (first != nullptr && first->is_bool()) {
      d.allow = first->as_bool();
    } else if ((first != nullptr && !first->is_object()) || (first == nullptr && a.kwargs.empty())) {
      // Neither true/false nor {allow, ...}: not an answer (denied like an error).
      understood = false;
    } else {
      const object* o = first != nullptr && first->is_object() ? &first->as_object() : &a.kwargs;
      d.allow = o->get_bool("allow", false);
      if (const value* disclose = o->find("disclose"); disclose != nullptr && disclose->is_bool())
        d.disclose_caller = d.disclose_publisher = disclose->as_bool();
      if (const value* c = o->find("cache")) {
        cache = (c->is_bool() && c->as_bool()) || (c->is_string() && c->as_string() == "session");
        session_only = c->is_string() && c->as_string() == "session";
      }
      std::uint64_t seconds = 0;
      if (const value* t = o->find("ttl"); t != nullptr && t->as_uint(seconds))
        ttl = std::chrono::seconds(std::min<std::uint64_t>(seconds, 86400));
    }
    if (understood) {
      owner_.count_authorizer(realm_name, d.allow ? "allow" : "deny");
    } else {
      JLOG(warn) << "authorization denied: the authorizer's answer is neither true/false nor {allow, ...}"
                 << log_field("realm", realm_name) << log_field("authrole", info_->authrole) << log_field("uri", uri);
      owner_.count_authorizer(realm_name, "error");
    }
  }
  if (cache && ttl.count() > 0 && role_ != nullptr)
    owner_.authorizer_cache(realm_name)
        .put(session_only ? auth::authorizer_cache::session_scope(info_->session) : role_->name(), uri, act,
             registration, d, std::chrono::steady_clock::now() + ttl);
  waiting_authz_ = false;
  message m = std::move(held().front());
  held().pop_front();
  if (apply_decision(m, d) == gate::pass)
    if (auto f = realm_->handle(info_->session, std::move(m))) return protocol_violation(f->message);
  release_held();
}

void session::release_held() {
  auto self = shared_from_this();
  while (held_count() != 0 && !waiting_authz_ && state_ == state::established) {
    message next = std::move(held_->front());
    held_->pop_front();
    route(std::move(next));
  }
  if (state_ != state::established || held_count() == 0) held_.reset();
}

session::gate session::apply_decision(message& m, const auth::decision& d) {
  const target t = target_of(m);
  if (!d.allow) {
    owner_.count_denied(realm_->name(), t.act);
    const std::string text = "role '" + info_->authrole + "' may not " + auth::name_of(t.act) + " '" + *t.uri +
                             "' in realm '" + realm_->name() + "'";
    JLOG(debug) << "authorization denied: " << text << log_field("session", info_->session);
    // A PUBLISH without acknowledge has no reply channel: dropped (and counted).
    const bool answer = t.act != auth::action::publish || t.options->get_bool("acknowledge", false);
    if (answer) send(make_error(t.type, t.request, errc::not_authorized, text));
    return gate::stop;
  }
  // Identification the permission forces, unless the realm never discloses.
  const realm_config& rc = realm_->config();
  if (t.act == auth::action::call && d.disclose_caller && rc.disclose_caller != disclosure::never)
    t.options->set("disclose_me", value(true));
  if (t.act == auth::action::publish && d.disclose_publisher && rc.disclose_publisher != disclosure::never)
    t.options->set("disclose_me", value(true));
  return gate::pass;
}

void session::welcome_client(auth::welcome_step&& w) {
  realm* target = owner_.find_realm(w.realm.empty() ? authn_->realm : w.realm);
  if (target == nullptr) {
    authentication_failed(auth::reject_step{errc::authentication_failed,
                                            "the authenticator chose realm '" + w.realm + "', which is not served"});
    return;
  }
  if (auto authz = owner_.authorizer_of(target->name()); authz && authz->enabled() && authz->find(w.authrole) == nullptr) {
    authentication_failed(auth::reject_step{errc::no_such_role, "role '" + w.authrole + "' is not defined in realm '" +
                                                                     target->name() + "'"});
    return;
  }
  const std::string method = authn_->machine ? authn_->machine->method() : w.authmethod;
  const auto ended = end_authentication();
  if (method != "anonymous" && link_ != nullptr)
    owner_.auth_throttle().success(auth::throttle::address_of(link_->remote()));
  owner_.count_authentication(target->name(), method, true);
  auto info = std::make_shared<session_info>();
  info->session = ended->session;
  info->authid = std::move(w.authid);
  info->authrole = std::move(w.authrole);
  info->authmethod = std::move(w.authmethod);
  info->authprovider = std::move(w.authprovider);
  info->features = ended->features;
  info->authextra = std::move(w.authextra);
  if (link_ != nullptr) {
    info->transport = {std::string(link_->kind()), std::string(link_->protocol()),
                       std::string(link_->remote())};
  }
  info_ = std::move(info);
  last_request_id_ = 0;
  realm_ = target;
  authz_epoch_ = 0;  // the rules of the realm (and role) joined now, not of an earlier session
  state_ = state::established;
  target->join(info_, shared_from_this());

  // Announce only what is implemented (realm/features.cpp lists it).
  welcome wm;
  wm.session = info_->session;
  wm.details.push_back("realm", value(target->name()));
  wm.details.push_back("authid", value(info_->authid));
  wm.details.push_back("authrole", value(info_->authrole));
  wm.details.push_back("authmethod", value(info_->authmethod));
  wm.details.push_back("authprovider", value(info_->authprovider));
  if (!info_->authextra.empty()) wm.details.push_back("authextra", value(info_->authextra));
  wm.details.push_back("roles", router_roles());
  wm.details.push_back("agent", value("Junction/" JUNCTION_VERSION));
  JLOG(debug) << "session joined" << log_field("session", info_->session) << log_field("realm", target->name())
              << log_field("authid", info_->authid) << log_field("authrole", info_->authrole)
              << log_field("authmethod", info_->authmethod)
              << log_field("peer", link_ ? link_->remote() : "?");
  metrics::io().sessions_opened.add();
  if (link_ != nullptr && !send_link(wm)) {
    // A client that takes fewer bytes than the feature announcements need (a RawSocket client
    // may announce 512): the roles without their feature lists, and without the agent string.
    // Its connection carries the session; it just does not learn the advanced features.
    JLOG(info) << "WELCOME without feature announcements: the client accepts too few bytes for them"
               << log_field("session", info_->session) << log_field("peer", link_->remote());
    object compact;
    for (auto& [key, v] : wm.details)
      if (key != "roles" && key != "agent") compact.push_back(key, std::move(v));
    compact.push_back("roles", value(object{{"broker", value(object{})}, {"dealer", value(object{})}}));
    wm.details = std::move(compact);
    send(std::move(wm));  // still too big (a huge authextra): the connection ends, with a log line
    return;
  }
  metrics::io().message_out(static_cast<unsigned>(message_type::welcome));
}

void session::on_goodbye(goodbye&& g) {
  JLOG(debug) << "session said goodbye: " << g.reason << log_field("session", info_->session);
  leave_realm();
  state_ = state::awaiting_hello;  // the connection may carry another session
  goodbye reply;
  reply.reason = std::string(uri_of(errc::goodbye_and_out));
  send(std::move(reply));
}

void session::leave_realm() {
  if (realm_ == nullptr) return;
  realm* r = realm_;
  realm_ = nullptr;
  r->leave(info_->session);  // may drop the realm's reference to this session
  owner_.release_session_id(info_->session);
}

void session::protocol_violation(std::string text) {
  if (log_enabled(log_level::info)) {
    std::vector<log_field> fields{{"peer", link_ ? link_->remote() : std::string_view("?")}};
    if (info_->session != 0) fields.emplace_back("session", info_->session);
    if (realm_ != nullptr) fields.emplace_back("realm", realm_->name());
    log_write(log_level::info, "protocol violation: " + text, fields);
  }
  metrics::io().close(metrics::close_reason::protocol_violation);
  abort_and_close(errc::protocol_violation, std::move(text));
}

void session::abort_and_close(errc reason, std::string text) {
  auto self = shared_from_this();  // leaving the realm must not destroy us mid-call
  waiting_authz_ = false;  // an answer still on its way finds nothing to do
  held_.reset();
  if (state_ == state::authenticating) abandon_authentication();
  leave_realm();
  abort a;
  a.details.push_back("message", value(std::move(text)));
  a.reason = std::string(uri_of(reason));
  send(std::move(a));
  state_ = state::closed;
  close_link(uri_of(reason));
}

void session::shutdown() {
  const core_guard lock(owner_.core());
  if (state_ != state::established) return;
  auto self = shared_from_this();
  leave_realm();
  goodbye g;
  g.details.push_back("message", value("the router is shutting down"));
  g.reason = std::string(uri_of(errc::system_shutdown));
  send(std::move(g));
  state_ = state::closed;  // the reply GOODBYE is not awaited: the connection closes next
}

void session::kill(const std::string& reason, const std::string& message) {
  if (state_ != state::established) return;
  // The realm has already let this session go: only the router-wide id is still ours.
  realm_ = nullptr;
  owner_.release_session_id(info_->session);
  JLOG(info) << "session killed: " << reason << log_field("session", info_->session)
             << log_field("authid", info_->authid);
  goodbye g;
  if (!message.empty()) g.details.push_back("message", value(message));
  g.reason = reason;
  send(std::move(g));
  state_ = state::closing;
}

void session::on_transport_closed() {
  const core_guard lock(owner_.core());
  auto self = shared_from_this();
  waiting_authz_ = false;  // an answer still on its way finds nothing to do
  held_.reset();
  if (state_ == state::authenticating) abandon_authentication();
  leave_realm();
  state_ = state::closed;
  link_ = nullptr;
}

delivery session::send(message&& m) {
  if (link_ == nullptr) return delivery::sent;  // connection gone; the realm is told by on_transport_closed
  const auto type = static_cast<unsigned>(type_of(m));
  if (send_link(m)) {
    metrics::io().message_out(type);
    if (type == static_cast<unsigned>(message_type::invocation)) throttle_link();
    return delivery::sent;
  }
  // Larger than the connection accepts (the transport logged it): say something else.
  if (auto small = instead_of_too_big(m)) {
    if (send_link(*small)) {
      metrics::io().message_out(static_cast<unsigned>(message_type::error));
      return delivery::replaced;
    }
  } else if (std::holds_alternative<invocation>(m) || std::holds_alternative<result_>(m)) {
    return delivery::too_big;  // the dealer answers the caller and ends the call
  }
  // Nothing smaller to say (a WELCOME is made smaller where it is sent): this connection cannot
  // carry the session. (Once: the ABORT itself goes through here.)
  if (closing_too_big_) return delivery::sent;
  closing_too_big_ = true;
  JLOG(warn) << "closing a connection: the router's " << traits_of(type_of(m)).name
             << " does not fit what the client accepts" << log_field("peer", link_->remote());
  metrics::io().close(metrics::close_reason::message_too_big);
  abort_and_close(errc::payload_size_exceeded, "a message to this client exceeds the size it accepts");
  return delivery::sent;
}

delivery session::send(const std::shared_ptr<const shared_message>& m) {
  if (link_ == nullptr) return delivery::sent;
  const bool drop_events = realm_ != nullptr && realm_->config().slow_consumer == slow_consumer_policy::drop_events;
  if (drop_events) {
    if (direct() ? link_->backlogged() : link_->backlogged_estimate(in_transit_.load())) {  // the broker counts it
      ++events_dropped_;
      return delivery::dropped;
    }
    if (events_dropped_ != 0) {  // caught up: say what it missed (WAMP has no way to tell the client)
      JLOG(info) << "a slow subscriber caught up after missing " << events_dropped_
                 << " events (slow_consumer: drop-events)" << log_field("session", info_->session)
                 << log_field("peer", link_->remote());
      events_dropped_ = 0;
    }
  }
  if (!send_link_shared(m)) return delivery::too_big;  // the broker skips it for us
  metrics::io().message_out(static_cast<unsigned>(message_type::event));
  if (!drop_events) throttle_link();  // the publisher waits for a congested subscriber
  return delivery::sent;
}

// ---- the connection, from any I/O thread (router/io_loop.hpp) ---------------------------------

bool session::direct() const noexcept {
  return home_ == nullptr || (home_->current() && !home_->has_pending());
}

bool session::send_link(const message& m) {
  if (direct()) return link_->send(m, codec_);
  auto bytes = std::make_shared<std::string>();
  codec_.encode(m, *bytes);
  const std::size_t size = bytes->size();
  if (!link_->fits(size)) return link_->report_too_big(size);
  if (!admit(size)) return true;  // the connection is being closed as a slow consumer
  in_transit_ += size;
  home_->hand_over([self = shared_from_this(), bytes] {
    if (self->link_ != nullptr) self->link_->send_frame(*bytes);
    self->in_transit_ -= bytes->size();
  });
  return true;
}

bool session::admit(std::size_t size) {
  if (closing_slow_) return false;
  if (!link_->over_outbound_estimate(in_transit_.load(), size)) return true;
  closing_slow_ = true;
  home_->hand_over([self = shared_from_this()] {
    if (self->link_ != nullptr) self->link_->close_slow_consumer();
  });
  return false;
}

bool session::send_link_shared(const std::shared_ptr<const shared_message>& m) {
  if (direct()) return link_->send_shared(*m, codec_);
  // Encoded here, under the core lock; the connection's loop reads the cached encoding.
  const std::size_t size = m->encoded(codec_).size();
  if (!link_->fits(size)) return link_->report_too_big(size);
  if (!admit(size)) return true;  // the connection is being closed as a slow consumer
  in_transit_ += size;
  home_->hand_over(m, shared_from_this());
  return true;
}

void session::deliver_handed_over(const std::shared_ptr<const shared_message>& m) {
  if (link_ != nullptr) link_->send_shared(*m, codec_);
  in_transit_ -= m->encoded(codec_).size();
}

void session::close_link(std::string_view reason) {
  if (link_ == nullptr) return;
  if (direct()) return link_->close(reason);
  home_->hand_over([self = shared_from_this(), r = std::string(reason)] {
    if (self->link_ != nullptr) self->link_->close(r);
  });
}

void session::throttle_link() {
  if (direct()) return link_->throttle_sender();
  // The connection being read is this thread's; the congested one is another loop's: pause the
  // reader here, and let the congested connection resume it when it drains (or ends).
  if (!link_->congested_estimate(in_transit_.load())) return;
  transport* from = reading_now;
  std::weak_ptr<transport> waiter;  // empty: only the stall clock (the reader already waits)
  if (from != nullptr && from != link_ && !from->read_paused()) {
    from->pause_reading();
    waiter = from->weak_transport();
  }
  home_->hand_over([self = shared_from_this(), w = std::move(waiter)] {
    if (self->link_ != nullptr) {
      self->link_->add_waiter(w);
    } else if (auto s = w.lock()) {
      s->on_own_loop([s] { s->resume_reading(); });
    }
  });
}

}  // namespace junction
