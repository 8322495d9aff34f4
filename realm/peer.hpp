// realm/peer.hpp — how a realm reaches a session, and what it knows about it.
//
// The realm never owns sockets: it holds a `peer` per joined session (implemented by the
// router's session, or by a fake in unit tests) and the session's identity. Phase 1 runs
// everything on one thread; later the peer becomes the hop to the session's own executor
// (DESIGN.md §3), which is why messages are handed over by value (moved).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "realm/features.hpp"
#include "serializers/message.hpp"
#include "serializers/shared_message.hpp"

namespace junction {

// What became of a message handed to a peer. A message larger than the peer's connection accepts
// (a RawSocket client's announced limit, the listener's max_message_size) is not sent, and the
// connection lives on:
//   replaced  an ERROR or a final RESULT: the peer got a small ERROR for the same request instead
//             (wamp.error.payload_size_exceeded, or the same error without its payload;
//             realm/replies.hpp: instead_of_too_big), so a CALL still ends in exactly one answer;
//   too_big   an INVOCATION, an EVENT or a progressive RESULT: nothing was sent, the sender acts
//             (the dealer answers the caller and ends the call, the broker counts the EVENT).
// An EVENT may also be `dropped`: its subscriber's connection is congested and its realm's
// slow_consumer policy is drop-events (realm/realm_config.hpp); the broker counts it.
// A connection that is closing counts as `sent`: its session is about to leave.
enum class delivery : std::uint8_t { sent, replaced, too_big, dropped };

class peer {
 public:
  virtual ~peer() = default;
  // Delivers one message to this session alone.
  virtual delivery send(message&& m) = 0;
  // Delivers a message shared with other recipients (fan-out); encoded once per serializer.
  virtual delivery send(const std::shared_ptr<const shared_message>& m) = 0;
  // The router ended this session (wamp.session.kill*); the realm has already let it go. The peer
  // says GOODBYE with `reason` and Details.message, and awaits the client's GOODBYE.
  virtual void kill(const std::string& reason, const std::string& message) = 0;
};

// Who a session is, as established by authentication.
struct session_info {
  id session = 0;
  std::string authid;
  std::string authrole;
  std::string authmethod;
  std::string authprovider;
  client_features features;  // what HELLO.Details.roles announced
  object authextra;          // WELCOME.Details.authextra (what the method told the client)
  // The connection it arrived on, for the meta API (Details.transport; Crossbar's field names).
  struct transport_info {
    std::string type;      // "websocket", "rawsocket"
    std::string protocol;  // "wamp.2.json", ...
    std::string peer;      // "127.0.0.1:51234", "unix"
  } transport;
};

// `info` is shared with the session itself (router/session.hpp): one copy per session, never
// changed after the join.
struct session_record {
  std::shared_ptr<const session_info> info;
  std::shared_ptr<peer> link;  // filled by realm::join, dropped by realm::leave
};

// The realm's session registry: filled by realm::join, cleaned by realm::leave. The broker and
// dealer read it to reach the sessions they route to.
using session_map = std::unordered_map<id, session_record>;

}  // namespace junction
