// realm/dealer.hpp — the Basic Profile dealer: REGISTER/UNREGISTER, CALL → INVOCATION,
// YIELD → RESULT, callee ERROR → caller ERROR.
//
// Every call ends with exactly one RESULT or ERROR to its caller (DESIGN.md §2.8): when the
// callee leaves, each waiting caller gets wamp.error.canceled; when the caller leaves, the
// callee's late answer is discarded quietly. Payloads are moved from CALL to INVOCATION and from
// YIELD to RESULT, never copied. Runs on the realm's executor; no locks.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "realm/peer.hpp"
#include "realm/realm_config.hpp"
#include "serializers/result.hpp"

namespace junction {

class dealer {
 public:
  dealer(session_map& sessions, const realm_config& config)
      : sessions_(sessions), config_(config) {}

  void on_register(session_record& s, register_&& m);
  void on_unregister(session_record& s, unregister&& m);
  void on_call(session_record& s, call&& m);
  // A failure means the message is a protocol violation (YIELD/ERROR for an unknown invocation).
  std::optional<failure> on_yield(session_record& s, yield&& m);
  std::optional<failure> on_error(session_record& s, error&& m);
  // Removes a departed session's registrations and answers its callers with canceled.
  void on_leave(id session);

  [[nodiscard]] std::size_t registration_count() const noexcept { return registrations_.size(); }
  [[nodiscard]] std::size_t in_flight() const noexcept;

 private:
  struct registration {
    id registration_id = 0;
    std::string procedure;
    id callee = 0;
  };
  // One INVOCATION waiting for its YIELD/ERROR, keyed by the callee's invocation request id.
  struct pending_call {
    id caller = 0;
    id caller_request = 0;
  };
  // Per-session dealer state: filled by REGISTER and CALL routing, cleaned by on_leave.
  struct callee_state {
    std::vector<id> registrations;
    id last_invocation_request = 0;  // router→callee request ids are sequential per session
    std::unordered_map<id, pending_call> in_flight;
  };

  // Finds and removes the pending call for a callee's answer; nullopt if unknown.
  std::optional<pending_call> take_pending(id callee, id request);
  // The caller's record if it is still in the realm.
  session_record* live(id session);

  session_map& sessions_;
  const realm_config& config_;
  id next_registration_id_ = 0;
  std::unordered_map<id, registration> registrations_;  // registration id → registration
  std::unordered_map<std::string, id> by_procedure_;     // procedure URI → registration id
  std::unordered_map<id, callee_state> callees_;        // session → its dealer state
};

}  // namespace junction
