// realm/realm_config.hpp — how one realm behaves. Filled from command-line flags today and from
// the config file later; every option has the default a production router would pick.
#pragma once

#include <cstddef>
#include <string>

#include "realm/uri.hpp"

namespace junction {

// Whether the dealer tells callees who called (caller identification) and the broker tells
// subscribers who published (publisher identification).
//   on_request: when the caller asks (CALL.Options.disclose_me) or the callee asks
//               (REGISTER.Options.disclose_caller); PUBLISH.Options.disclose_me for events.
//   always:     always, whatever the client asks.
//   never:      never; a CALL/PUBLISH asking for it gets wamp.error.option_disallowed.disclose_me.
enum class disclosure { on_request, always, never };

// What happens to a subscriber whose connection is congested (more than half of the router's
// max_outbound_bytes waiting to be written; docs/OPERATIONS.md "Slow consumers and floods"):
//   disconnect   its publishers wait while it is congested; a subscriber that takes nothing for
//                slow_consumer_timeout_ms, or passes max_outbound_bytes, is closed (the default:
//                the client learns it fell behind, and reconnects).
//   drop_events  EVENTs to it are skipped while more than event_backlog_bytes wait (counted,
//                logged when it catches up); RESULT, ERROR and INVOCATION are never skipped, so
//                past max_outbound_bytes it is still closed.
enum class slow_consumer_policy { disconnect, drop_events };

// Per-session caps; a request beyond one is answered wamp.error.limit_exceeded. 0: no cap.
struct session_limits {
  std::size_t calls_in_flight = 1000;  // CALLs of one caller not yet answered
  std::size_t registrations = 1000;    // procedures one session has registered
  std::size_t subscriptions = 10000;   // topics one session has subscribed to
};

struct realm_config {
  std::string name;
  // How strictly procedure/topic URIs are checked (Crossbar `uri_check`, Nexus `strict_uri`).
  uri_policy uri_check = uri_policy::loose;
  // Seed for the realm's random ids and random callee choice; 0 draws one from std::random_device.
  unsigned long long random_seed = 0;
  disclosure disclose_caller = disclosure::on_request;
  disclosure disclose_publisher = disclosure::on_request;
  // Progressive calls that ended recently, remembered per caller so that the caller's late
  // continuations are dropped quietly (spec: progressive call invocations, request id rules).
  std::size_t progressive_call_memory = 64;
  // Event retention (spec pubsub_event_retention): how many topics keep their most recent
  // retained event (PUBLISH.Options.retain). When full, the topic published least recently is
  // evicted. Payload size is not bounded here (the transports' message size limit is). 0 turns
  // retention off: retain is then ignored, which the spec allows.
  std::size_t max_retained_events = 10000;
  slow_consumer_policy slow_consumer = slow_consumer_policy::disconnect;
  session_limits limits;
};

}  // namespace junction
