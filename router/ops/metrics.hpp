// router/ops/metrics.hpp — what the router counts outside its realms, and /metrics.
//
// Each I/O thread counts into its own io_counters (plain `counter`s, realm/stats.hpp): no lock,
// no shared cache line, no allocation on the path of a message. A scrape sums every thread's
// counters, reads each realm's realm_stats and gauges (sessions, registrations, subscriptions,
// calls in flight), the listeners' open connections and queued bytes, and the process's own
// figures from /proc, and renders the Prometheus text exposition format (version 0.0.4).
//
// Label values come from closed sets only (message types, outcomes, listener types, refusal
// reasons, realm names from the config): never a URI, a session or a peer address.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "realm/stats.hpp"

namespace junction {

class router;

namespace metrics {

// Listener types, as /listeners/*/type and the accepted-connections label name them.
enum class listener_kind : std::uint8_t { websocket, rawsocket, universal, http, count_ };
inline constexpr const char* listener_kind_names[] = {"websocket", "rawsocket", "universal", "http"};

// Why a connection was refused or ended before it carried a session.
enum class refusal : std::uint8_t {
  limit,      // max_connections reached
  handshake,  // a bad WebSocket upgrade or RawSocket handshake
  timeout,    // no first byte or no handshake within handshake_timeout
  tls,        // the TLS handshake failed
  draining,   // the router is shutting down
  count_,
};
inline constexpr const char* refusal_names[] = {"limit", "handshake", "timeout", "tls", "draining"};

// Why the router closed an established connection.
enum class close_reason : std::uint8_t {
  protocol_violation,  // ABORT wamp.error.protocol_violation
  slow_consumer,       // the outbound queue passed max_outbound_bytes (or an INVOCATION/RESULT
                       // could not be queued to a congested client: see realm slow_consumer)
  message_too_big,     // an incoming message over max_message_size
  keepalive,           // no answer to the keepalive ping
  count_,
};
inline constexpr const char* close_reason_names[] = {"protocol_violation", "slow_consumer",
                                                     "message_too_big", "keepalive"};

inline constexpr std::size_t message_codes = 71;  // WAMP message codes 0–70 (YIELD)

struct io_counters {
  std::array<counter, message_codes> messages_in;   // by WAMP message code
  std::array<counter, message_codes> messages_out;
  counter bytes_in;
  counter bytes_out;
  std::array<counter, static_cast<std::size_t>(listener_kind::count_)> accepted;
  std::array<counter, static_cast<std::size_t>(refusal::count_)> refused;
  std::array<counter, static_cast<std::size_t>(close_reason::count_)> closed;
  counter sessions_opened;  // WELCOME sent
  counter auth_lockouts;    // peer addresses locked out after repeated authentication failures
  counter http_requests;    // plain HTTP requests answered (admin routes, 404, 426)
  counter too_big_out;      // outgoing messages larger than the client accepts: not sent
  counter reads_paused;     // flow control: a connection stopped being read (stream_connection.hpp)

  void message_in(unsigned code) noexcept {
    if (code < message_codes) messages_in[code].add();
  }
  void message_out(unsigned code) noexcept {
    if (code < message_codes) messages_out[code].add();
  }
  void refuse(refusal why) noexcept { refused[static_cast<std::size_t>(why)].add(); }
  void close(close_reason why) noexcept { closed[static_cast<std::size_t>(why)].add(); }
  void accept(listener_kind kind) noexcept { accepted[static_cast<std::size_t>(kind)].add(); }
  void too_big() noexcept { too_big_out.add(); }
};

// This thread's counters (registered for the scrape on first use; never freed: a thread's
// counts outlive it). Inline: one thread-local load on the hot path.
io_counters* register_thread();
inline thread_local io_counters* this_thread_counters = nullptr;
inline io_counters& io() {
  if (this_thread_counters == nullptr) this_thread_counters = register_thread();
  return *this_thread_counters;
}

// One listener's view for the scrape.
struct listener_view {
  listener_kind kind;
  std::size_t open = 0;          // connections
  std::size_t queued_bytes = 0;  // waiting to be written
};

// The whole exposition: router-wide counters, each realm of `r`, the listeners, the process.
[[nodiscard]] std::string render(const router& r, const std::vector<listener_view>& listeners,
                                 std::chrono::steady_clock::time_point started);

}  // namespace metrics
}  // namespace junction
