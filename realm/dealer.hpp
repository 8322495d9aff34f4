// realm/dealer.hpp — the dealer: REGISTER/UNREGISTER, CALL → INVOCATION, YIELD → RESULT,
// callee ERROR → caller ERROR, and the Advanced Profile RPC features (reference §2.1–2.12):
// progressive call results and invocations, call timeout, call canceling, caller
// identification, pattern-based and shared registrations, registration revocation.
//
// Every call ends with exactly one final RESULT or ERROR to its caller (DESIGN.md §2.8), unless
// the caller left. A call that ends before its callee answered (skip/killnowait cancel, timeout,
// caller gone) is forgotten at once; the callee's late YIELD/ERROR is recognised because
// router→callee request ids are sequential per callee, and is dropped quietly. Payloads are moved
// from CALL to INVOCATION and from YIELD to RESULT, never copied. Runs on the realm's executor;
// no locks.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "realm/node_cache.hpp"
#include "realm/operations.hpp"
#include "realm/peer.hpp"
#include "realm/realm_config.hpp"
#include "realm/registry_events.hpp"
#include "realm/stats.hpp"
#include "realm/timer_queue.hpp"
#include "realm/uri_trie.hpp"
#include "serializers/errors.hpp"
#include "serializers/result.hpp"

namespace junction {

// REGISTER.Options.invoke (spec advanced/rpc_shared_registration).
enum class invoke_policy { single, roundrobin, random, first, last };
[[nodiscard]] std::optional<invoke_policy> parse_invoke_policy(std::string_view s) noexcept;
[[nodiscard]] std::string_view to_string(invoke_policy p) noexcept;

class dealer {
 public:
  // A timeout is an operation of `ops` (the realm's): it runs to completion like a message.
  dealer(session_map& sessions, const realm_config& config, timer_queue& timers,
         realm_operations& ops, realm_stats& stats);
  ~dealer();
  dealer(const dealer&) = delete;
  dealer& operator=(const dealer&) = delete;

  // A failure means the message is a protocol violation the session answers with ABORT.
  void on_register(session_record& s, register_&& m);
  void on_unregister(session_record& s, unregister&& m);
  std::optional<failure> on_call(session_record& s, call&& m);
  std::optional<failure> on_cancel(session_record& s, cancel&& m);
  std::optional<failure> on_yield(session_record& s, yield&& m);
  std::optional<failure> on_error(session_record& s, error&& m);
  // Removes a departed session's registrations, answers its callers with canceled and
  // interrupts the callees of its own calls.
  void on_leave(id session);

  // Router-initiated removal of one callee from a registration (spec: registration revocation).
  // A callee that announced registration_revocation gets [UNREGISTERED, 0, {registration,
  // reason}]; others are removed silently. Calls already routed still complete.
  // Returns false if the session is not a callee of the registration.
  bool revoke(id registration_id, id callee, const std::string& reason);

  // True if `request` names a call of `caller` that is still in flight or a progressive call
  // that ended recently: a CALL reusing it is a continuation, not a new request.
  [[nodiscard]] bool knows_call(id caller, id request) const;

  // The router's own calls (a dynamic authenticator): routed like a CALL from a session that
  // announced no feature, to the best matching registration; `done` gets the callee's RESULT
  // (ok, args, kwargs) or an ERROR URI — the callee's, or wamp.error.no_such_procedure,
  // wamp.error.timeout (after `timeout`; 0: none), wamp.error.canceled (the callee left, the
  // router shut down). `done` runs inside a realm operation, exactly once: it must hand its
  // answer off, not call back into the realm.
  struct answer {
    bool ok = false;
    std::string error;
    array args;
    object kwargs;
  };
  using answer_fn = std::function<void(answer&&)>;
  void call_internal(const std::string& procedure, array args, object kwargs,
                     timer_queue::duration timeout, answer_fn done);

  // Shutdown: while draining, new CALLs are answered wamp.error.canceled ("the router is
  // shutting down") and calls in flight go on; cancel_all then ends those left: their callers get
  // ERROR wamp.error.canceled with `why`, their callees INTERRUPT (killnowait) if they cancel.
  void set_draining(bool on) noexcept { draining_ = on; }
  void cancel_all(const std::string& why);

  [[nodiscard]] std::size_t registration_count() const noexcept { return registrations_.size(); }
  [[nodiscard]] std::size_t in_flight() const noexcept { return calls_.size(); }

  struct callee_entry {
    id session = 0;
    bool disclose_caller = false;  // REGISTER.Options.disclose_caller
  };
  // One procedure (or pattern) and the callees serving it, in registration order. Created by the
  // first REGISTER, deleted when its last callee leaves (UNREGISTER, revocation, session gone).
  struct registration {
    id registration_id = 0;
    std::string procedure;
    match_policy match = match_policy::exact;
    invoke_policy invoke = invoke_policy::single;
    std::vector<callee_entry> callees;
    std::size_t next_roundrobin = 0;
    std::chrono::system_clock::time_point created;  // for the meta API's RegistrationDetails
  };
  [[nodiscard]] const registration* find_registration(id registration_id) const;
  // The registration stored under exactly (procedure, match), and the one a CALL would reach.
  [[nodiscard]] const registration* lookup(std::string_view procedure, match_policy match) const;
  [[nodiscard]] const registration* match(std::string_view procedure);
  template <class F>
  void for_each_registration(F&& fn) const {
    for (const auto& [registration_id, reg] : registrations_) fn(reg);
  }

  // The meta API listens here; nullptr (the default) for none.
  void set_events(registry_events* events) noexcept { events_ = events; }

 private:
  using call_key = std::uint64_t;
  // One call in flight: created by on_call, erased by finish() when its final answer is sent or
  // the call is abandoned (cancel, timeout, a party leaving).
  struct pending_call {
    id caller = 0;
    id caller_request = 0;
    id callee = 0;
    id invocation_request = 0;
    id registration_id = 0;
    std::string procedure;  // only for progressive calls and calls with a timeout
    timer_queue::duration timeout{0};
    timer_queue::handle timer = 0;
    bool receive_progress = false;    // the caller asked and the callee supports it
    bool progressive_call = false;    // started with CALL.Options.progress
    bool invocation_open = false;     // the caller may still send progressive CALLs
    bool kill_requested = false;      // CANCEL kill sent INTERRUPT; the callee's answer ends it
    std::chrono::steady_clock::time_point started;  // for the duration histogram (metrics)
    answer_fn internal;  // the router's own call (call_internal): its answer goes here
  };
  // Per-session dealer state, both roles: filled by REGISTER and CALL, cleaned by on_leave.
  // The per-call maps take their nodes from the dealer's node_cache.
  struct party {
    explicit party(std::pmr::memory_resource* nodes) : invocations{nodes}, calls{nodes} {}
    std::vector<id> registrations;                   // as callee
    id last_invocation_request = 0;                  // as callee: ids run 1, 2, 3, …
    bool invocation_ids_wrapped = false;
    std::pmr::unordered_map<id, call_key> invocations;  // as callee: invocation request → call
    std::pmr::unordered_map<id, call_key> calls;        // as caller: CALL request → call
    std::deque<id> ended_progressive;                // as caller: recently ended progressive calls
  };

  session_record* live(id session);
  party& party_of(id session) { return parties_.try_emplace(session, &nodes_).first->second; }
  void send_error(id session, id request, errc code, std::string text);
  // The caller of `pc` hears an ERROR: a session, or the router's own call.
  void answer_error(pending_call& pc, errc code, std::string text);
  // An ERROR to a CALL that reached no callee (counted as refused).
  void refuse_call(id caller, id request, errc code, std::string text);
  // Starts a new call (the first CALL of a request id).
  std::optional<failure> start_call(session_record& s, party& caller, call&& m);
  // A progressive CALL continuing an open progressive invocation.
  std::optional<failure> continue_call(call_key key, pending_call& pc, call&& m);
  const callee_entry* pick_callee(registration& reg);
  void arm_timeout(call_key key, pending_call& pc);
  void on_timeout(call_key key);
  void send_interrupt(const pending_call& pc, const char* mode, errc reason);
  void remember_ended(party& caller, id request);
  // Forgets a call: indices, timer, and remembers an ended progressive call for its caller;
  // counts how it ended.
  void finish(call_key key, call_outcome how);
  // The callee's answer to one of its invocations, if still pending. `known` tells whether the
  // id was ever issued to this callee (then a missing call is a late answer, dropped quietly).
  pending_call* find_invocation(id callee, id request, call_key& key, bool& known);
  // Removes one callee from a registration; deletes the registration when it has none left.
  void detach(id registration_id, id callee);

  session_map& sessions_;
  const realm_config& config_;
  timer_queue& timers_;
  realm_operations& ops_;
  realm_stats& stats_;
  registry_events* events_ = nullptr;
  bool draining_ = false;
  std::mt19937_64 rng_;
  id next_registration_id_ = 0;
  call_key next_call_key_ = 0;
  id next_internal_request_ = 0;  // request ids of the router's own calls (caller 0)
  node_cache nodes_;  // before the maps that use it, so destroyed after them
  std::unordered_map<id, registration> registrations_;  // registration id → registration
  uri_trie<id> procedures_;                             // (procedure, match) → registration id
  std::pmr::unordered_map<call_key, pending_call> calls_{&nodes_};  // every call in flight
  std::unordered_map<id, party> parties_;               // session → its dealer state
};

}  // namespace junction
