#include "router/session.hpp"

#include "realm/realm.hpp"
#include "router/ops/log.hpp"
#include "router/ops/metrics.hpp"
#include "router/router.hpp"
#include "serializers/overloaded.hpp"

namespace junction {

session::session(router& owner, transport& link, const codec& codec)
    : owner_(owner), link_(&link), codec_(codec) {}

session::~session() = default;

void transport::send(const message& m, const codec& c) {
  // One buffer per thread rather than per session: idle sessions should cost little memory.
  thread_local std::string buffer;
  buffer.clear();
  c.encode(m, buffer);
  send_frame(buffer);
}

void session::on_frame(std::string_view bytes) {
  if (state_ == state::closed) return;  // after ABORT, further input is ignored
  auto decoded = codec_.decode(bytes);
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
      if (link_) link_->close("client sent ABORT");
    }
    return;
  }
  if (state_ == state::awaiting_hello) {
    if (auto* h = std::get_if<hello>(&m)) return on_hello(std::move(*h));
    if (std::holds_alternative<abort>(m)) {  // the client gave up joining
      if (link_) link_->close("client sent ABORT");
      state_ = state::closed;
      return;
    }
    protocol_violation("received " + std::string(traits.name) + " before HELLO");
    return;
  }
  route(std::move(m));
}

void session::on_invalid_framing(std::string text) {
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
                        << log_field("session", info_.session);
            leave_realm();
            state_ = state::closed;
            if (link_) link_->close("client sent ABORT");
          },
          [&](error& e) {
            if (e.request_type != static_cast<std::uint64_t>(message_type::invocation)) {
              protocol_violation("received ERROR for request type " +
                                 std::to_string(e.request_type) +
                                 "; a router only receives ERROR for INVOCATION (68)");
              return;
            }
            if (auto f = realm_->handle(info_.session, std::move(m))) protocol_violation(f->message);
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
                  return realm_->get_dealer().knows_call(info_.session, x.request);
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
            if (auto f = realm_->handle(info_.session, std::move(m))) protocol_violation(f->message);
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
  auto auth = select_authenticator(h);
  if (!auth) {
    abort_and_close(errc::no_matching_auth_method,
                    "none of the requested authmethods is offered by realm '" + h.realm + "'");
    return;
  }
  auto step = auth->on_hello(h);
  if (auto* reject = std::get_if<auth_reject>(&step)) {
    abort_and_close(reject->reason, reject->message);
    return;
  }
  auto* ok = std::get_if<auth_success>(&step);
  if (ok == nullptr) {  // no challenge-based method exists yet
    abort_and_close(errc::no_matching_auth_method, "challenge-response authentication is not available");
    return;
  }
  info_ = session_info{owner_.allocate_session_id(), std::move(ok->authid),
                       std::move(ok->authrole), std::move(ok->authmethod),
                       std::move(ok->authprovider), client_features::from_roles(roles->as_object()),
                       {}};
  if (link_ != nullptr) {
    info_.transport = {std::string(link_->kind()), std::string(link_->protocol()),
                       std::string(link_->remote())};
  }
  last_request_id_ = 0;
  realm_ = target;
  state_ = state::established;
  target->join(info_, shared_from_this());

  // Announce only what is implemented (realm/features.cpp lists it).
  welcome w;
  w.session = info_.session;
  w.details.push_back("realm", value(h.realm));
  w.details.push_back("authid", value(info_.authid));
  w.details.push_back("authrole", value(info_.authrole));
  w.details.push_back("authmethod", value(info_.authmethod));
  w.details.push_back("authprovider", value(info_.authprovider));
  w.details.push_back("roles", router_roles());
  w.details.push_back("agent", value("Junction/" JUNCTION_VERSION));
  JLOG(debug) << "session joined" << log_field("session", info_.session) << log_field("realm", h.realm)
              << log_field("authid", info_.authid) << log_field("peer", link_ ? link_->remote() : "?");
  metrics::io().sessions_opened.add();
  send(std::move(w));
}

void session::on_goodbye(goodbye&& g) {
  JLOG(debug) << "session said goodbye: " << g.reason << log_field("session", info_.session);
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
  r->leave(info_.session);  // may drop the realm's reference to this session
  owner_.release_session_id(info_.session);
}

void session::protocol_violation(std::string text) {
  if (log_enabled(log_level::info)) {
    std::vector<log_field> fields{{"peer", link_ ? link_->remote() : std::string_view("?")}};
    if (info_.session != 0) fields.emplace_back("session", info_.session);
    if (realm_ != nullptr) fields.emplace_back("realm", realm_->name());
    log_write(log_level::info, "protocol violation: " + text, fields);
  }
  metrics::io().close(metrics::close_reason::protocol_violation);
  abort_and_close(errc::protocol_violation, std::move(text));
}

void session::abort_and_close(errc reason, std::string text) {
  auto self = shared_from_this();  // leaving the realm must not destroy us mid-call
  leave_realm();
  abort a;
  a.details.push_back("message", value(std::move(text)));
  a.reason = std::string(uri_of(reason));
  send(std::move(a));
  state_ = state::closed;
  if (link_) link_->close(uri_of(reason));
}

void session::shutdown() {
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
  owner_.release_session_id(info_.session);
  JLOG(info) << "session killed: " << reason << log_field("session", info_.session)
             << log_field("authid", info_.authid);
  goodbye g;
  if (!message.empty()) g.details.push_back("message", value(message));
  g.reason = reason;
  send(std::move(g));
  state_ = state::closing;
}

void session::on_transport_closed() {
  auto self = shared_from_this();
  leave_realm();
  state_ = state::closed;
  link_ = nullptr;
}

void session::send(message&& m) {
  if (link_ == nullptr) return;  // connection gone; the realm is told by on_transport_closed
  metrics::io().message_out(static_cast<unsigned>(type_of(m)));
  link_->send(m, codec_);
}

void session::send(const std::shared_ptr<const shared_message>& m) {
  if (link_ == nullptr) return;
  metrics::io().message_out(static_cast<unsigned>(message_type::event));
  link_->send_shared(*m, codec_);
}

}  // namespace junction
