// router/transport/transport.hpp — what a session needs from its connection. Implemented by the WebSocket
// transport today, RawSocket next, and an in-process fake in tests. No Asio in this header.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>
#include <string_view>

#include "auth/authenticator.hpp"
#include "serializers/codec.hpp"
#include "serializers/shared_message.hpp"

namespace junction {

// A listener's sessions that are authenticating (waiting for AUTHENTICATE, a dynamic
// authenticator or a hash check), and how many it allows: a slow authenticator cannot pile up
// connections beyond this.
struct auth_slots {
  std::size_t pending = 0;
  std::size_t max = 0;
};

class transport {
 public:
  virtual ~transport() = default;
  // Sends one encoded WAMP message as one transport message (WebSocket: text frame for JSON,
  // binary for MessagePack and CBOR). The bytes are copied or written before this returns.
  // false: the message is larger than the peer accepts (a RawSocket client's announced limit,
  // the listener's max_message_size); nothing was sent and the connection stays open, the
  // session decides what to say instead. true: sent, or the connection is closing anyway.
  virtual bool send_frame(std::string_view bytes) = 0;
  // Encodes `m` with `c` and sends it. The default encodes into a reused buffer and calls
  // send_frame; a transport may encode straight into its own frame instead (no copy).
  virtual bool send(const message& m, const codec& c);
  // Sends a message shared with other sessions (fan-out), in this session's serializer. The
  // default writes the cached encoding; a transport may also cache its own framed form.
  virtual bool send_shared(const shared_message& m, const codec& c) { return send_frame(m.encoded(c)); }
  // Closes the connection once queued frames are written; `reason` is logged and, where the
  // transport has a place for it, sent (WebSocket close reason).
  virtual void close(std::string_view reason) = 0;
  // Peer address for logs and the meta API ("127.0.0.1:51234", "unix").
  [[nodiscard]] virtual std::string_view remote() const noexcept = 0;
  // For the meta API's session details (Details.transport): "websocket" or "rawsocket", and the
  // negotiated protocol ("wamp.2.json", "wamp.2.msgpack.batched", ...).
  [[nodiscard]] virtual std::string_view kind() const noexcept = 0;
  [[nodiscard]] virtual std::string_view protocol() const noexcept = 0;
  // TLS facts for authentication: channel bindings and the verified client certificate. A
  // connection without TLS adds nothing.
  virtual void describe_tls(auth::client_facts&) const {}
  // The listener's authentication slots; nullptr: unbounded (in-process transports).
  virtual auth_slots* authenticating() noexcept { return nullptr; }
  // Whether the client reads too slowly: more than half of max_outbound_bytes is waiting to be
  // written (flow control: router/transport/stream_connection.hpp).
  [[nodiscard]] virtual bool congested() const noexcept { return false; }
  // Whether more than limits.event_backlog_bytes waits: a drop-events realm skips EVENTs to it.
  [[nodiscard]] virtual bool backlogged() const noexcept { return false; }
  // Flow control, after a message was sent here on behalf of the connection being read (an
  // INVOCATION for its CALL, an EVENT for its PUBLISH in a disconnect realm): if this connection
  // is congested, that one stops being read until this one drains, or is closed as stalled.
  virtual void throttle_sender() {}

  // Flow control of the connection being read (reading_now): stop reading after the bytes in
  // hand, until resume_reading() (called on the connection's own loop).
  virtual void pause_reading() {}
  virtual void resume_reading() {}
  [[nodiscard]] virtual bool read_paused() const noexcept { return false; }
  [[nodiscard]] virtual std::weak_ptr<transport> weak_transport() { return {}; }

  // ---- Several I/O threads (router/io_loop.hpp) ---------------------------------------------
  // Everything above runs on the connection's own loop, except these, which any thread may call:
  // Whether an encoded message of `bytes` fits what the peer accepts (fixed by the handshake).
  [[nodiscard]] virtual bool fits(std::size_t /*bytes*/) const noexcept { return true; }
  // A message that does not fit: logged (rate-limited) and counted as the transport's own send
  // would; returns false (nothing sent).
  virtual bool report_too_big(std::size_t /*bytes*/) { return false; }
  // congested() and backlogged() as the connection's own thread last saw its queue (they may lag
  // behind by the writes of one loop turn), with `in_transit` more bytes on their way to it.
  [[nodiscard]] virtual bool congested_estimate(std::size_t /*in_transit*/) const noexcept { return false; }
  [[nodiscard]] virtual bool backlogged_estimate(std::size_t /*in_transit*/) const noexcept { return false; }
  // Whether `length` more bytes, behind `in_transit` ones, would pass max_outbound_bytes.
  [[nodiscard]] virtual bool over_outbound_estimate(std::size_t /*in_transit*/, std::size_t /*length*/) const noexcept {
    return false;
  }
  // On the own loop: closes the connection as a slow consumer (its queue passed the limit while
  // messages were on their way to it from other loops).
  virtual void close_slow_consumer() {}
  // Runs `fn` on the connection's own loop: inline when called there, else posted.
  virtual void on_own_loop(std::function<void()> fn) { fn(); }
  // On the own loop: `sender`, paused on its own loop because it sent here while this one was
  // congested, reads again when this one drains or ends (throttle_sender across threads); and
  // the stall clock of this one runs while it is congested (an empty `sender`: only that).
  virtual void add_waiter(const std::weak_ptr<transport>& sender) {
    if (auto s = sender.lock()) s->on_own_loop([s] { s->resume_reading(); });
  }

  // Writes what is queued now (write_batch, below); the connection's own loop only.
  virtual void write_queued() {}
};

// The connection whose bytes this thread is handling, set around the protocol's handling of
// them (flow control: throttle_sender pauses it).
inline thread_local transport* reading_now = nullptr;

// The writes of one round of the event loop: a connection that queues bytes joins this thread's
// batch, and the first one to join posts one flush() for the whole batch, which runs after the
// handlers that are ready now (the reads of this round): each connection then sends what all of
// them queued for it, in one send, with no completion handler to run later. One posted handler
// per round instead of one per connection, and fan-out to many connections from many reads
// still leaves as one write each.
class write_batch {
 public:
  // `t` writes at the next flush(); true when it is the first of the round (post a flush()).
  static bool defer(std::weak_ptr<transport> t) {
    batch& b = state();
    b.pending.push_back(std::move(t));
    return b.pending.size() == 1;
  }
  static void flush() {
    batch& b = state();
    // By index: a write that fails ends its connection, and what that queues joins this pass.
    for (std::size_t i = 0; i < b.pending.size(); ++i)
      if (std::shared_ptr<transport> t = b.pending[i].lock()) t->write_queued();
    b.pending.clear();
  }

 private:
  struct batch {
    // Not owning: a flush that never runs (the loop stopped) keeps no connection, and so no
    // socket, alive past its io_context. Capacity kept: no allocation per round.
    std::vector<std::weak_ptr<transport>> pending;
  };
  static batch& state() noexcept {
    thread_local batch b;
    return b;
  }
};

}  // namespace junction
