#include "realm/dealer.hpp"

#include <algorithm>

#include "realm/replies.hpp"

namespace junction {

std::size_t dealer::in_flight() const noexcept {
  std::size_t n = 0;
  for (const auto& [session, state] : callees_) n += state.in_flight.size();
  return n;
}

session_record* dealer::live(id session) {
  auto it = sessions_.find(session);
  return it == sessions_.end() ? nullptr : &it->second;
}

void dealer::on_register(session_record& s, register_&& m) {
  if (!is_valid_uri(m.procedure, config_.uri_check) || is_reserved_uri(m.procedure)) {
    s.link->send(make_error(message_type::register_, m.request, errc::invalid_uri,
                            "invalid procedure URI '" + m.procedure + "'"));
    return;
  }
  auto [it, created] = by_procedure_.try_emplace(m.procedure, 0);
  if (!created) {
    s.link->send(make_error(message_type::register_, m.request, errc::procedure_already_exists,
                            "procedure '" + m.procedure + "' is already registered"));
    return;
  }
  const id registration_id = ++next_registration_id_;
  it->second = registration_id;
  registrations_.emplace(registration_id,
                         registration{registration_id, m.procedure, s.info.session});
  callees_[s.info.session].registrations.push_back(registration_id);
  s.link->send(registered{m.request, registration_id});
}

void dealer::on_unregister(session_record& s, unregister&& m) {
  auto it = registrations_.find(m.registration);
  if (it == registrations_.end() || it->second.callee != s.info.session) {
    s.link->send(make_error(message_type::unregister, m.request, errc::no_such_registration,
                            "no registration " + std::to_string(m.registration) +
                                " for this session"));
    return;
  }
  by_procedure_.erase(it->second.procedure);
  registrations_.erase(it);
  auto& mine = callees_[s.info.session].registrations;
  mine.erase(std::remove(mine.begin(), mine.end(), m.registration), mine.end());
  // Calls already routed to this registration still complete: the callee answers them.
  s.link->send(unregistered{m.request, {}});
}

void dealer::on_call(session_record& s, call&& m) {
  if (!is_valid_uri(m.procedure, config_.uri_check)) {
    s.link->send(make_error(message_type::call, m.request, errc::invalid_uri,
                            "invalid procedure URI '" + m.procedure + "'"));
    return;
  }
  auto it = by_procedure_.find(m.procedure);
  session_record* callee = it == by_procedure_.end() ? nullptr
                                                     : live(registrations_.at(it->second).callee);
  if (callee == nullptr) {
    s.link->send(make_error(message_type::call, m.request, errc::no_such_procedure,
                            "no callee registered for procedure '" + m.procedure + "'"));
    return;
  }
  auto& state = callees_[callee->info.session];
  // Session-scope ids wrap to 1 after 2^53 (spec §IDs).
  id request = state.last_invocation_request >= max_id ? 1 : state.last_invocation_request + 1;
  while (state.in_flight.count(request) != 0) request = request >= max_id ? 1 : request + 1;
  state.last_invocation_request = request;
  state.in_flight.emplace(request, pending_call{s.info.session, m.request});
  callee->link->send(
      invocation{request, it->second, {}, std::move(m.args), std::move(m.kwargs)});
}

std::optional<dealer::pending_call> dealer::take_pending(id callee, id request) {
  auto state = callees_.find(callee);
  if (state == callees_.end()) return std::nullopt;
  auto it = state->second.in_flight.find(request);
  if (it == state->second.in_flight.end()) return std::nullopt;
  pending_call p = it->second;
  state->second.in_flight.erase(it);
  return p;
}

std::optional<failure> dealer::on_yield(session_record& s, yield&& m) {
  auto pending = take_pending(s.info.session, m.request);
  if (!pending)
    return failure{"YIELD for unknown INVOCATION request " + std::to_string(m.request)};
  if (session_record* caller = live(pending->caller))  // a caller that left gets nothing
    caller->link->send(result_{pending->caller_request, {}, std::move(m.args), std::move(m.kwargs)});
  return std::nullopt;
}

std::optional<failure> dealer::on_error(session_record& s, error&& m) {
  // The session layer has already checked that REQUEST.Type is INVOCATION.
  auto pending = take_pending(s.info.session, m.request);
  if (!pending)
    return failure{"ERROR for unknown INVOCATION request " + std::to_string(m.request)};
  if (session_record* caller = live(pending->caller)) {
    error e;
    e.request_type = static_cast<std::uint64_t>(message_type::call);
    e.request = pending->caller_request;
    e.error_uri = std::move(m.error_uri);
    e.args = std::move(m.args);
    e.kwargs = std::move(m.kwargs);
    caller->link->send(std::move(e));
  }
  return std::nullopt;
}

void dealer::on_leave(id session) {
  auto it = callees_.find(session);
  if (it == callees_.end()) return;
  for (id registration_id : it->second.registrations) {
    auto reg = registrations_.find(registration_id);
    if (reg == registrations_.end()) continue;
    by_procedure_.erase(reg->second.procedure);
    registrations_.erase(reg);
  }
  // Every caller still waiting on this callee gets an answer (spec: Callee Leaving).
  for (auto& [request, pending] : it->second.in_flight)
    if (session_record* caller = live(pending.caller))
      caller->link->send(make_error(message_type::call, pending.caller_request, errc::canceled,
                                    "the callee left before answering"));
  callees_.erase(it);
}

}  // namespace junction
