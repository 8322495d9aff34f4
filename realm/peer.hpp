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

class peer {
 public:
  virtual ~peer() = default;
  // Delivers one message to this session alone.
  virtual void send(message&& m) = 0;
  // Delivers a message shared with other recipients (fan-out); encoded once per serializer.
  virtual void send(const std::shared_ptr<const shared_message>& m) = 0;
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

struct session_record {
  session_info info;
  std::shared_ptr<peer> link;  // filled by realm::join, dropped by realm::leave
};

// The realm's session registry: filled by realm::join, cleaned by realm::leave. The broker and
// dealer read it to reach the sessions they route to.
using session_map = std::unordered_map<id, session_record>;

}  // namespace junction
