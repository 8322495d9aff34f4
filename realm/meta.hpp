// realm/meta.hpp — the WAMP meta API of one realm (reference §2.19–2.22): the wamp.session.*,
// wamp.registration.* and wamp.subscription.* procedures, their on_* events, and testaments.
//
// Meta procedures are served in-process: a CALL to a wamp.* URI is answered here before the
// dealer looks for a registration (clients cannot register wamp.* URIs). Meta events are ordinary
// publications on the realm's broker, published by the router itself, so clients subscribe to them
// like any topic (exact or pattern) and they never leave the realm. Runs on the realm's executor.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "realm/peer.hpp"
#include "realm/registry_events.hpp"

namespace junction {

class realm;

class meta_api final : public registry_events {
 public:
  explicit meta_api(realm& owner) : realm_(owner) {}

  // Answers a CALL to a meta procedure with RESULT or ERROR. False if `m.procedure` is not one
  // (the dealer then answers no_such_procedure).
  bool answer(session_record& caller, call& m);

  // A session joined: wamp.session.on_join.
  void on_join(const session_info& info);
  // A session is gone (GOODBYE, lost connection, kill): its testaments are published in the order
  // they were added, then wamp.session.on_leave. Called after the session left the registry.
  void on_leave(const session_info& info);

  // registry_events: wamp.registration.on_* and wamp.subscription.on_*.
  void on_create(registry_kind kind, id session, id entry) override;
  void on_add(registry_kind kind, id session, id entry) override;
  void on_remove(registry_kind kind, id session, id entry) override;
  void on_delete(registry_kind kind, id session, id entry) override;

  // At most this many testaments per session (each a full event held until the session ends).
  static constexpr std::size_t max_testaments = 64;

  struct reply;  // a procedure's outcome: RESULT payload or ERROR

 private:  struct testament {
    bool detached = false;  // scope "detached" (else "destroyed")
    std::string topic;
    array args;
    object kwargs;
    object options;
  };

  reply session_count(session_record& caller, call& m);
  reply session_list(session_record& caller, call& m);
  reply session_get(session_record& caller, call& m);
  reply session_kill(session_record& caller, call& m);
  reply session_kill_by_authid(session_record& caller, call& m);
  reply session_kill_by_authrole(session_record& caller, call& m);
  reply session_kill_all(session_record& caller, call& m);
  reply add_testament(session_record& caller, call& m);
  reply flush_testaments(session_record& caller, call& m);
  reply registration_list(session_record& caller, call& m);
  reply registration_lookup(session_record& caller, call& m);
  reply registration_match(session_record& caller, call& m);
  reply registration_get(session_record& caller, call& m);
  reply registration_list_callees(session_record& caller, call& m);
  reply registration_count_callees(session_record& caller, call& m);
  reply registration_remove_callee(session_record& caller, call& m);
  reply subscription_list(session_record& caller, call& m);
  reply subscription_lookup(session_record& caller, call& m);
  reply subscription_match(session_record& caller, call& m);
  reply subscription_get(session_record& caller, call& m);
  reply subscription_list_subscribers(session_record& caller, call& m);
  reply subscription_count_subscribers(session_record& caller, call& m);
  reply subscription_remove_subscriber(session_record& caller, call& m);

  // Kills every session `pick` selects except the caller; returns the killed ids.
  template <class Pick>
  std::vector<id> kill_where(id caller, const std::string& reason, const std::string& message,
                             Pick pick);
  void publish(std::string topic, array args, object kwargs = {}, const object& options = {});

  realm& realm_;
  // Filled by wamp.session.add_testament, emptied by flush_testaments and on_leave.
  std::unordered_map<id, std::vector<testament>> testaments_;
};

// "2026-11-21T16:38:14.334Z": the ISO 8601 form of RegistrationDetails/SubscriptionDetails.created.
std::string iso8601(std::chrono::system_clock::time_point t);

}  // namespace junction
