#include "realm/dealer.hpp"

#include <algorithm>

#include "realm/replies.hpp"
#include "serializers/codec.hpp"  // materialize

namespace junction {

namespace {

constexpr std::pair<std::string_view, invoke_policy> invoke_names[] = {
    {"single", invoke_policy::single}, {"roundrobin", invoke_policy::roundrobin},
    {"random", invoke_policy::random}, {"first", invoke_policy::first},
    {"last", invoke_policy::last},
};

// The policy named by an optional string option; `fallback` when absent.
template <class Policy, class Parse>
result<Policy> policy_option(const object& options, std::string_view key, Policy fallback,
                             Parse parse) {
  const value* v = options.find(key);
  if (v == nullptr) return fallback;
  if (v->is_string())
    if (auto p = parse(v->as_string())) return *p;
  return fail("unknown " + std::string(key) + " policy " + to_debug_string(*v));
}

// CALL.Options.timeout in ms: absent or 0 = none; anything but a non-negative integer is refused.
result<timer_queue::duration> timeout_option(const object& options) {
  const value* v = options.find("timeout");
  if (v == nullptr) return timer_queue::duration{0};
  std::uint64_t ms = 0;
  if (!v->as_uint(ms)) return fail("CALL.Options.timeout must be a non-negative integer (ms)");
  // Bound it so that now + timeout cannot overflow the clock (about 292 years of nanoseconds).
  constexpr std::uint64_t max_ms = std::uint64_t{1} << 40;  // ~35 years
  return timer_queue::duration{static_cast<std::int64_t>(std::min(ms, max_ms))};
}

}  // namespace

std::optional<invoke_policy> parse_invoke_policy(std::string_view s) noexcept {
  for (const auto& [name, p] : invoke_names)
    if (s == name) return p;
  return std::nullopt;
}

std::string_view to_string(invoke_policy p) noexcept {
  for (const auto& [name, q] : invoke_names)
    if (p == q) return name;
  return "single";
}

dealer::dealer(session_map& sessions, const realm_config& config, timer_queue& timers,
               realm_operations& ops, realm_stats& stats)
    : sessions_(sessions),
      config_(config),
      timers_(timers),
      ops_(ops),
      stats_(stats),
      rng_(config.random_seed != 0 ? config.random_seed : std::random_device{}()) {}

dealer::~dealer() {
  for (auto& [key, pc] : calls_)
    if (pc.timer != 0) timers_.cancel(pc.timer);
}

session_record* dealer::live(id session) {
  auto it = sessions_.find(session);
  return it == sessions_.end() ? nullptr : &it->second;
}

void dealer::send_error(id session, id request, errc code, std::string text) {
  if (session_record* s = live(session))
    s->link->send(make_error(message_type::call, request, code, std::move(text)));
}

const dealer::registration* dealer::find_registration(id registration_id) const {
  auto it = registrations_.find(registration_id);
  return it == registrations_.end() ? nullptr : &it->second;
}

const dealer::registration* dealer::lookup(std::string_view procedure, match_policy match) const {
  const id* found = procedures_.find(procedure, match);
  return found == nullptr ? nullptr : find_registration(*found);
}

const dealer::registration* dealer::match(std::string_view procedure) {
  const id* found = procedures_.best_match(procedure);
  return found == nullptr ? nullptr : find_registration(*found);
}

bool dealer::knows_call(id caller, id request) const {
  auto it = parties_.find(caller);
  if (it == parties_.end()) return false;
  const party& p = it->second;
  return p.calls.count(request) != 0 ||
         std::find(p.ended_progressive.begin(), p.ended_progressive.end(), request) !=
             p.ended_progressive.end();
}

// --- registrations -------------------------------------------------------------------------

void dealer::on_register(session_record& s, register_&& m) {
  auto reject = [&](errc code, std::string text) {
    s.link->send(make_error(message_type::register_, m.request, code, std::move(text)));
  };
  auto match = policy_option(m.options, "match", match_policy::exact, parse_match_policy);
  if (!match) return reject(errc::invalid_argument, match.error().message);
  auto invoke = policy_option(m.options, "invoke", invoke_policy::single, parse_invoke_policy);
  if (!invoke) return reject(errc::invalid_argument, invoke.error().message);
  const uri_form form = *match == match_policy::prefix     ? uri_form::prefix
                        : *match == match_policy::wildcard ? uri_form::wildcard
                                                           : uri_form::plain;
  if (!is_valid_uri(m.procedure, config_.uri_check, form) || is_reserved_uri(m.procedure))
    return reject(errc::invalid_uri, "invalid procedure URI '" + m.procedure + "' for match " +
                                         std::string(to_string(*match)));

  const id session = s.info->session;
  if (const std::size_t cap = config_.limits.registrations; cap != 0) {
    auto mine = parties_.find(session);
    if (mine != parties_.end() && mine->second.registrations.size() >= cap) {
      stats_.limit_refusals[static_cast<std::size_t>(session_limit::registrations)].add();
      return reject(errc::limit_exceeded, "this session has " + std::to_string(cap) +
                                              " registrations, the most its realm allows "
                                              "(session_limits.registrations)");
    }
  }
  auto [slot, created] = procedures_.insert(m.procedure, *match, 0);
  if (!created) {
    registration& reg = registrations_.at(*slot);
    const bool mine = std::any_of(reg.callees.begin(), reg.callees.end(),
                                  [&](const callee_entry& c) { return c.session == session; });
    if (mine)
      return reject(errc::procedure_already_exists,
                    "this session already registered '" + m.procedure + "'");
    if (reg.invoke == invoke_policy::single || reg.invoke != *invoke)
      return reject(errc::procedure_already_exists,
                    "procedure '" + m.procedure + "' is already registered with invoke '" +
                        std::string(to_string(reg.invoke)) + "'");
    reg.callees.push_back({session, m.options.get_bool("disclose_caller", false)});
    party_of(session).registrations.push_back(reg.registration_id);
    s.link->send(registered{m.request, reg.registration_id});
    if (events_) events_->on_add(registry_kind::registration, session, reg.registration_id);
    return;
  }
  const id registration_id = ++next_registration_id_;
  *slot = registration_id;
  registration& reg = registrations_[registration_id];
  reg.registration_id = registration_id;
  reg.procedure = m.procedure;
  reg.match = *match;
  reg.invoke = *invoke;
  reg.created = std::chrono::system_clock::now();
  reg.callees.push_back({session, m.options.get_bool("disclose_caller", false)});
  party_of(session).registrations.push_back(registration_id);
  s.link->send(registered{m.request, registration_id});
  if (events_) {
    events_->on_create(registry_kind::registration, session, registration_id);
    events_->on_add(registry_kind::registration, session, registration_id);
  }
}

void dealer::detach(id registration_id, id callee) {
  auto it = registrations_.find(registration_id);
  if (it == registrations_.end()) return;
  registration& reg = it->second;
  auto& callees = reg.callees;
  auto pos = std::find_if(callees.begin(), callees.end(),
                          [&](const callee_entry& c) { return c.session == callee; });
  if (pos == callees.end()) return;
  const auto index = static_cast<std::size_t>(pos - callees.begin());
  callees.erase(pos);
  // Keep round robin fair: the callee after the removed one is still next.
  if (reg.next_roundrobin > index) --reg.next_roundrobin;
  if (auto p = parties_.find(callee); p != parties_.end()) {
    auto& mine = p->second.registrations;
    mine.erase(std::remove(mine.begin(), mine.end(), registration_id), mine.end());
  }
  const bool last = callees.empty();
  if (last) {
    procedures_.erase(reg.procedure, reg.match);
    registrations_.erase(it);
  }
  if (events_) {
    events_->on_remove(registry_kind::registration, callee, registration_id);
    if (last) events_->on_delete(registry_kind::registration, callee, registration_id);
  }
}

void dealer::on_unregister(session_record& s, unregister&& m) {
  const registration* reg = find_registration(m.registration);
  const bool mine =
      reg != nullptr && std::any_of(reg->callees.begin(), reg->callees.end(),
                                    [&](const callee_entry& c) { return c.session == s.info->session; });
  if (!mine) {
    s.link->send(make_error(message_type::unregister, m.request, errc::no_such_registration,
                            "no registration " + std::to_string(m.registration) +
                                " for this session"));
    return;
  }
  // Calls already routed to this callee still complete: it answers them.
  s.link->send(unregistered{m.request, {}});
  detach(m.registration, s.info->session);  // after the reply: meta events follow it
}

bool dealer::revoke(id registration_id, id callee, const std::string& reason) {
  const registration* reg = find_registration(registration_id);
  if (reg == nullptr ||
      std::none_of(reg->callees.begin(), reg->callees.end(),
                   [&](const callee_entry& c) { return c.session == callee; }))
    return false;
  // The revocation first, then the meta events detach() causes (as UNREGISTER replies first).
  session_record* s = live(callee);
  if (s != nullptr && s->info->features.has(client_role::callee, feature::registration_revocation)) {
    unregistered u;
    u.request = 0;
    u.details.push_back("registration", value(registration_id));
    if (!reason.empty()) u.details.push_back("reason", value(reason));
    s->link->send(std::move(u));
  }
  detach(registration_id, callee);
  return true;
}

// --- calls ---------------------------------------------------------------------------------

std::optional<failure> dealer::on_call(session_record& s, call&& m) {
  party& caller = party_of(s.info->session);
  if (auto it = caller.calls.find(m.request); it != caller.calls.end()) {
    pending_call& pc = calls_.at(it->second);
    if (!pc.invocation_open)
      return failure{"CALL request id " + std::to_string(m.request) +
                     " is already in use by a call in progress"};
    return continue_call(it->second, pc, std::move(m));
  }
  // A continuation of a progressive call that has already ended: dropped without a reply.
  if (std::find(caller.ended_progressive.begin(), caller.ended_progressive.end(), m.request) !=
      caller.ended_progressive.end())
    return std::nullopt;
  const bool progressive = m.options.get_bool("progress", false);
  const id request = m.request;
  auto violation = start_call(s, caller, std::move(m));
  // A progressive call refused at its first CALL (no such procedure, feature not supported, …)
  // has ended too: its continuations, usually already on the wire, are dropped quietly rather
  // than each getting an ERROR or, worse, the last one running as a call of its own.
  if (!violation && progressive && caller.calls.count(request) == 0) remember_ended(caller, request);
  return violation;
}

void dealer::remember_ended(party& caller, id request) {
  caller.ended_progressive.push_back(request);
  while (caller.ended_progressive.size() > config_.progressive_call_memory)
    caller.ended_progressive.pop_front();
}

std::optional<failure> dealer::continue_call(call_key key, pending_call& pc, call&& m) {
  if (m.procedure != pc.procedure)
    return failure{"progressive CALL " + std::to_string(m.request) + " continues '" +
                   pc.procedure + "' but names '" + m.procedure + "'"};
  session_record* callee = live(pc.callee);
  if (callee == nullptr) return std::nullopt;  // the caller is about to get canceled
  // Options are frozen at the first CALL: only `progress` is read from continuations.
  const bool more = m.options.get_bool("progress", false);
  invocation inv{pc.invocation_request, pc.registration_id, {}, std::move(m.args),
                 std::move(m.kwargs), std::move(m.raw)};
  if (more) inv.details.push_back("progress", value(true));
  pc.invocation_open = more;
  if (callee->link->send(std::move(inv)) == delivery::too_big) {
    send_error(pc.caller, pc.caller_request, errc::payload_size_exceeded,
               "a progressive INVOCATION of '" + pc.procedure + "' is larger than the callee accepts");
    send_interrupt(pc, "killnowait", errc::payload_size_exceeded);
    finish(key, call_outcome::too_big);
  }
  return std::nullopt;
}

const dealer::callee_entry* dealer::pick_callee(registration& reg) {
  auto& callees = reg.callees;
  if (callees.empty()) return nullptr;
  switch (reg.invoke) {
    case invoke_policy::single:
    case invoke_policy::first:
      return &callees.front();
    case invoke_policy::last:
      return &callees.back();
    case invoke_policy::roundrobin: {
      if (reg.next_roundrobin >= callees.size()) reg.next_roundrobin = 0;
      return &callees[reg.next_roundrobin++];
    }
    case invoke_policy::random: {
      std::uniform_int_distribution<std::size_t> pick(0, callees.size() - 1);
      return &callees[pick(rng_)];
    }
  }
  return nullptr;
}

std::optional<failure> dealer::start_call(session_record& s, party& caller, call&& m) {
  const id caller_id = s.info->session;
  if (draining_) {
    refuse_call(caller_id, m.request, errc::canceled, "the router is shutting down");
    return std::nullopt;
  }
  if (!is_valid_uri(m.procedure, config_.uri_check)) {
    refuse_call(caller_id, m.request, errc::invalid_uri,
               "invalid procedure URI '" + m.procedure + "'");
    return std::nullopt;
  }
  const bool progressive_call = m.options.get_bool("progress", false);
  if (progressive_call &&
      !s.info->features.has(client_role::caller, feature::progressive_call_invocations))
    return failure{"CALL.Options.progress used, but the caller did not announce "
                   "progressive_call_invocations"};
  auto timeout = timeout_option(m.options);
  if (!timeout) {
    refuse_call(caller_id, m.request, errc::invalid_argument, timeout.error().message);
    return std::nullopt;
  }
  if (const std::size_t cap = config_.limits.calls_in_flight; cap != 0 && caller.calls.size() >= cap) {
    stats_.limit_refusals[static_cast<std::size_t>(session_limit::calls_in_flight)].add();
    refuse_call(caller_id, m.request, errc::limit_exceeded,
                "this session has " + std::to_string(cap) +
                    " calls in flight, the most its realm allows (session_limits.calls_in_flight)");
    return std::nullopt;
  }

  id* found = procedures_.best_match(m.procedure);
  registration* reg = found == nullptr ? nullptr : &registrations_.at(*found);
  const callee_entry* target = reg == nullptr ? nullptr : pick_callee(*reg);
  session_record* callee = target == nullptr ? nullptr : live(target->session);
  if (callee == nullptr) {
    refuse_call(caller_id, m.request, errc::no_such_procedure,
               "no callee registered for procedure '" + m.procedure + "'");
    return std::nullopt;
  }
  const client_features& callee_features = callee->info->features;
  if (progressive_call &&
      !(callee_features.has(client_role::callee, feature::progressive_call_invocations) &&
        callee_features.has(client_role::callee, feature::call_canceling))) {
    refuse_call(caller_id, m.request, errc::feature_not_supported,
               "the callee of '" + m.procedure +
                   "' does not support progressive call invocations");
    return std::nullopt;
  }

  invocation inv;
  inv.registration = reg->registration_id;
  // Caller identification (spec advanced/rpc_caller_identification).
  const bool asked = m.options.get_bool("disclose_me", false);
  bool disclose = false;
  switch (config_.disclose_caller) {
    case disclosure::always: disclose = true; break;
    case disclosure::on_request: disclose = asked || target->disclose_caller; break;
    case disclosure::never:
      if (asked) {
        refuse_call(caller_id, m.request, errc::disclose_me_disallowed,
                   "realm '" + config_.name + "' never discloses callers");
        return std::nullopt;
      }
      break;
  }
  if (disclose) {
    inv.details.push_back("caller", value(caller_id));
    inv.details.push_back("caller_authid", value(s.info->authid));
    inv.details.push_back("caller_authrole", value(s.info->authrole));
  }
  // Progressive results only toward a callee that can send them (never forced on it).
  const bool receive_progress =
      m.options.get_bool("receive_progress", false) &&
      callee_features.has(client_role::callee, feature::progressive_call_results);
  if (receive_progress) inv.details.push_back("receive_progress", value(true));
  if (reg->match != match_policy::exact) inv.details.push_back("procedure", value(m.procedure));
  if (progressive_call) inv.details.push_back("progress", value(true));

  party& callee_party = party_of(callee->info->session);
  // Session-scope ids wrap to 1 after 2^53 (spec §IDs); skip ids still in flight.
  id request = callee_party.last_invocation_request;
  do {
    if (request >= max_id) {
      request = 1;
      callee_party.invocation_ids_wrapped = true;
    } else {
      ++request;
    }
  } while (callee_party.invocations.count(request) != 0);
  callee_party.last_invocation_request = request;
  inv.request = request;

  const call_key key = ++next_call_key_;
  pending_call& pc = calls_[key];
  pc.caller = caller_id;
  pc.caller_request = m.request;
  pc.callee = callee->info->session;
  pc.invocation_request = request;
  pc.registration_id = reg->registration_id;
  // Kept only where it is read again (continuations, the timeout's message): a copy per call
  // is an allocation per call for most URIs.
  if (progressive_call || timeout->count() != 0) pc.procedure = m.procedure;
  pc.timeout = *timeout;
  pc.receive_progress = receive_progress;
  pc.progressive_call = progressive_call;
  pc.invocation_open = progressive_call;
  callee_party.invocations.emplace(request, key);
  caller.calls.emplace(m.request, key);
  arm_timeout(key, pc);
  stats_.calls_routed.add();
  if constexpr (metrics_enabled) pc.started = std::chrono::steady_clock::now();

  inv.args = std::move(m.args);
  inv.kwargs = std::move(m.kwargs);
  inv.raw = std::move(m.raw);  // pass-through: the CALL's payload bytes, never decoded here
  if (callee->link->send(std::move(inv)) == delivery::too_big) {
    // Not sent: the callee never heard of the call, the caller hears why.
    answer_error(calls_.at(key), errc::payload_size_exceeded,
                 "the INVOCATION of '" + m.procedure + "' is larger than the callee accepts");
    finish(key, call_outcome::too_big);
  }
  return std::nullopt;
}

void dealer::arm_timeout(call_key key, pending_call& pc) {
  if (pc.timer != 0) timers_.cancel(pc.timer);
  pc.timer = 0;
  if (pc.timeout.count() == 0) return;
  pc.timer = timers_.schedule(pc.timeout, [this, key] {
    const realm_operations::scope op(ops_);
    on_timeout(key);
  });
}

void dealer::send_interrupt(const pending_call& pc, const char* mode, errc reason) {
  session_record* callee = live(pc.callee);
  if (callee == nullptr ||
      !callee->info->features.has(client_role::callee, feature::call_canceling))
    return;
  junction::interrupt i;
  i.request = pc.invocation_request;
  i.options.push_back("mode", value(mode));
  i.options.push_back("reason", value(std::string(uri_of(reason))));
  callee->link->send(std::move(i));
}

void dealer::on_timeout(call_key key) {
  auto it = calls_.find(key);
  if (it == calls_.end()) return;
  pending_call& pc = it->second;
  pc.timer = 0;  // fired
  // Dealer-initiated timeout (spec advanced/rpc_call_timeout): like a killnowait cancel.
  answer_error(pc, errc::timeout,
               "the call to '" + pc.procedure + "' timed out after " +
                   std::to_string(pc.timeout.count()) + " ms");
  send_interrupt(pc, "killnowait", errc::timeout);
  finish(key, call_outcome::timeout);
}

std::optional<failure> dealer::on_cancel(session_record& s, cancel&& m) {
  auto mode = std::string_view("killnowait");
  if (const value* v = m.options.find("mode")) {
    if (!v->is_string() || (v->as_string() != "skip" && v->as_string() != "kill" &&
                            v->as_string() != "killnowait"))
      return failure{"CANCEL.Options.mode must be \"skip\", \"kill\" or \"killnowait\", not " +
                     to_debug_string(*v)};
    mode = v->as_string();
  }
  auto p = parties_.find(s.info->session);
  if (p == parties_.end()) return std::nullopt;
  auto c = p->second.calls.find(m.request);
  if (c == p->second.calls.end()) return std::nullopt;  // already answered: nothing to cancel
  const call_key key = c->second;
  pending_call& pc = calls_.at(key);
  if (pc.kill_requested) return std::nullopt;  // repeated CANCEL (impatient elevator button)
  session_record* callee = live(pc.callee);
  const bool callee_cancels =
      callee != nullptr && callee->info->features.has(client_role::callee, feature::call_canceling);
  if (!callee_cancels) mode = "skip";  // spec: a callee that cannot cancel gets skip
  if (mode == "kill") {
    // The caller's answer is the callee's: its ERROR (usually canceled) or its RESULT.
    pc.kill_requested = true;
    send_interrupt(pc, "kill", errc::canceled);
    return std::nullopt;
  }
  send_error(pc.caller, pc.caller_request, errc::canceled,
             "the call was canceled");
  if (mode == "killnowait") send_interrupt(pc, "killnowait", errc::canceled);
  finish(key, call_outcome::canceled);
  return std::nullopt;
}

void dealer::answer_error(pending_call& pc, errc code, std::string text) {
  if (pc.internal) {
    pc.internal(answer{false, std::string(uri_of(code)), array{value(std::move(text))}, {}});
    return;
  }
  send_error(pc.caller, pc.caller_request, code, std::move(text));
}

void dealer::call_internal(const std::string& procedure, array args, object kwargs,
                           timer_queue::duration timeout, answer_fn done) {
  id* found = procedures_.best_match(procedure);
  registration* reg = found == nullptr ? nullptr : &registrations_.at(*found);
  const callee_entry* target = reg == nullptr ? nullptr : pick_callee(*reg);
  session_record* callee = target == nullptr ? nullptr : live(target->session);
  if (callee == nullptr) {
    stats_.calls_refused.add();
    done(answer{false, std::string(uri_of(errc::no_such_procedure)),
                array{value("no callee registered for procedure '" + procedure + "'")}, {}});
    return;
  }
  party& callee_party = party_of(callee->info->session);
  id request = callee_party.last_invocation_request;
  do {
    if (request >= max_id) {
      request = 1;
      callee_party.invocation_ids_wrapped = true;
    } else {
      ++request;
    }
  } while (callee_party.invocations.count(request) != 0);
  callee_party.last_invocation_request = request;

  const call_key key = ++next_call_key_;
  pending_call& pc = calls_[key];
  pc.caller = 0;  // the router
  pc.caller_request = ++next_internal_request_;
  pc.callee = callee->info->session;
  pc.invocation_request = request;
  pc.registration_id = reg->registration_id;
  pc.procedure = procedure;
  pc.timeout = timeout;
  pc.internal = std::move(done);
  callee_party.invocations.emplace(request, key);
  arm_timeout(key, pc);
  stats_.calls_routed.add();
  if constexpr (metrics_enabled) pc.started = std::chrono::steady_clock::now();

  invocation inv{request, reg->registration_id, {}, std::move(args), std::move(kwargs)};
  if (reg->match != match_policy::exact) inv.details.push_back("procedure", value(procedure));
  if (callee->link->send(std::move(inv)) == delivery::too_big) {
    answer_error(calls_.at(key), errc::payload_size_exceeded,
                 "the INVOCATION of '" + procedure + "' is larger than the callee accepts");
    finish(key, call_outcome::too_big);
  }
}

void dealer::refuse_call(id caller, id request, errc code, std::string text) {
  stats_.calls_refused.add();
  send_error(caller, request, code, std::move(text));
}

void dealer::finish(call_key key, call_outcome how) {
  auto it = calls_.find(key);
  if (it == calls_.end()) return;
  pending_call& pc = it->second;
  stats_.calls_ended[static_cast<std::size_t>(how)].add();
  if constexpr (metrics_enabled) stats_.call_duration.observe(std::chrono::steady_clock::now() - pc.started);
  if (pc.timer != 0) timers_.cancel(pc.timer);
  if (auto callee = parties_.find(pc.callee); callee != parties_.end())
    callee->second.invocations.erase(pc.invocation_request);
  if (auto caller = parties_.find(pc.caller); caller != parties_.end()) {
    party& p = caller->second;
    p.calls.erase(pc.caller_request);
    if (pc.progressive_call) remember_ended(p, pc.caller_request);
  }
  calls_.erase(it);
}

dealer::pending_call* dealer::find_invocation(id callee, id request, call_key& key, bool& known) {
  known = false;
  auto p = parties_.find(callee);
  if (p == parties_.end()) return nullptr;
  const party& state = p->second;
  known = request != 0 &&
          (state.invocation_ids_wrapped || request <= state.last_invocation_request);
  auto it = state.invocations.find(request);
  if (it == state.invocations.end()) return nullptr;
  key = it->second;
  return &calls_.at(key);
}

std::optional<failure> dealer::on_yield(session_record& s, yield&& m) {
  call_key key = 0;
  bool known = false;
  pending_call* pc = find_invocation(s.info->session, m.request, key, known);
  if (pc == nullptr) {
    if (known) return std::nullopt;  // the call ended first (cancel, timeout, caller gone)
    return failure{"YIELD for unknown INVOCATION request " + std::to_string(m.request)};
  }
  if (m.options.get_bool("progress", false)) {
    // Forwarded at once (spec: progressive call results); dropped if the caller did not ask.
    if (!pc->receive_progress) return std::nullopt;
    if (session_record* caller = live(pc->caller)) {
      result_ r{pc->caller_request, {}, std::move(m.args), std::move(m.kwargs), std::move(m.raw)};
      r.details.push_back("progress", value(true));
      if (caller->link->send(std::move(r)) == delivery::too_big) {
        // The caller cannot take this result: its call ends here, with an ERROR saying why, and
        // the callee is told to stop (the rest of its YIELDs are dropped as for a canceled call).
        send_error(pc->caller, pc->caller_request, errc::payload_size_exceeded,
                   "a progressive RESULT was larger than this connection accepts");
        send_interrupt(*pc, "killnowait", errc::payload_size_exceeded);
        finish(key, call_outcome::too_big);
        return std::nullopt;
      }
    }
    arm_timeout(key, *pc);  // the timeout runs between successive results
    return std::nullopt;
  }
  call_outcome how = call_outcome::result;
  if (pc->internal) {
    (void)materialize(m);  // the router reads this answer itself (decode_routed accepted it)
    pc->internal(answer{true, {}, std::move(m.args), std::move(m.kwargs)});
  } else if (session_record* caller = live(pc->caller)) {
    // Too big for the caller: it got ERROR payload_size_exceeded instead (the YIELD is dropped).
    if (caller->link->send(result_{pc->caller_request, {}, std::move(m.args), std::move(m.kwargs),
                                   std::move(m.raw)}) != delivery::sent)
      how = call_outcome::too_big;
  }
  finish(key, how);
  return std::nullopt;
}

std::optional<failure> dealer::on_error(session_record& s, error&& m) {
  // The session layer has already checked that REQUEST.Type is INVOCATION.
  call_key key = 0;
  bool known = false;
  pending_call* pc = find_invocation(s.info->session, m.request, key, known);
  if (pc == nullptr) {
    if (known) return std::nullopt;
    return failure{"ERROR for unknown INVOCATION request " + std::to_string(m.request)};
  }
  call_outcome how = is_reserved_uri(m.error_uri) ? call_outcome::wamp_error : call_outcome::error;
  if (pc->internal) {
    (void)materialize(m);
    pc->internal(answer{false, std::move(m.error_uri), std::move(m.args), std::move(m.kwargs)});
  } else if (session_record* caller = live(pc->caller)) {
    error e;
    e.request_type = static_cast<std::uint64_t>(message_type::call);
    e.request = pc->caller_request;
    e.error_uri = std::move(m.error_uri);
    e.args = std::move(m.args);
    e.kwargs = std::move(m.kwargs);
    e.raw = std::move(m.raw);
    if (caller->link->send(std::move(e)) != delivery::sent) how = call_outcome::too_big;
  }
  finish(key, how);
  return std::nullopt;
}

void dealer::on_leave(id session) {
  auto it = parties_.find(session);
  if (it == parties_.end()) return;
  // Copies: detach() and finish() edit the party's containers.
  const std::vector<id> registrations = it->second.registrations;
  for (id registration_id : registrations) detach(registration_id, session);

  std::vector<call_key> as_callee;
  for (const auto& [request, key] : it->second.invocations) as_callee.push_back(key);
  for (call_key key : as_callee) {
    // Every caller still waiting on this callee gets an answer (spec: Callee Leaving).
    pending_call& pc = calls_.at(key);
    answer_error(pc, errc::canceled, "the callee left before answering");
    finish(key, call_outcome::canceled);
  }
  std::vector<call_key> as_caller;
  for (const auto& [request, key] : it->second.calls) as_caller.push_back(key);
  for (call_key key : as_caller) {
    // Spec: Caller Leaving — interrupt a callee that can cancel; its late answer is dropped.
    send_interrupt(calls_.at(key), "killnowait", errc::canceled);
    finish(key, call_outcome::canceled);
  }
  parties_.erase(session);
}

void dealer::cancel_all(const std::string& why) {
  std::vector<call_key> keys;
  keys.reserve(calls_.size());
  for (const auto& [key, pc] : calls_) keys.push_back(key);
  for (call_key key : keys) {
    auto it = calls_.find(key);
    if (it == calls_.end()) continue;
    pending_call& pc = it->second;
    answer_error(pc, errc::canceled, why);
    send_interrupt(pc, "killnowait", errc::canceled);
    finish(key, call_outcome::canceled);
  }
}

}  // namespace junction
