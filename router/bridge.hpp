// router/bridge.hpp — the HTTP bridge (issue 18): any HTTP client publishes and calls in a realm.
//
//   POST {path}/publish  {"topic", "args", "kwargs", "options"}     → 200 {"id": publication}
//   POST {path}/call     {"procedure", "args", "kwargs", "options"} → 200 {"args", "kwargs"}
//        with "Accept: text/event-stream": the results as Server-Sent Events, progressive ones
//        as they come ({"args", "kwargs", "progress": true}), the last with "progress": false
//   GET  {path}/subscribe?topic=URI[&match=prefix|wildcard] → Server-Sent Events, one per
//        EVENT: {"topic", "publication", "args", "kwargs"}
//   errors: the status of the WAMP error (docs/BRIDGE.md has the table), body
//           {"error": URI, "args", "kwargs"} — the callee's own, or the router's
//
// Each request is authenticated (auth/bridge_auth.hpp: a bearer token, a Crossbar-style signed
// request, or the configured anonymous role) and then runs as a WAMP session of that principal:
// one session per realm and principal, made on its first request and kept, so the dealer, the
// broker, authorization, caller/publisher disclosure and the meta API treat it like any other
// (wamp.session.list shows it, transport "http"). The session speaks JSON to an in-process
// transport (bridge.cpp) that turns its PUBLISHED, RESULT and ERROR back into HTTP answers.
//
// Threads: handle() may be called on any I/O loop; it takes the core lock for what it touches
// of the router. The reply is called exactly once, from whichever thread routes the answer:
// the listener posts it (and every event of a stream) to the connection's own loop.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "router/ops/config.hpp"
#include "router/transport/http.hpp"

namespace junction {

class router;

struct bridge_response {
  int status = 200;
  std::string body;  // JSON
  std::string headers;  // extra header lines, each ending in \r\n
};
using bridge_reply = std::function<void(bridge_response)>;

// A Server-Sent Events response (text/event-stream), open until end() or until the client goes.
// Thread-safe: events come from whichever thread routes them.
class event_stream {
 public:
  virtual ~event_stream() = default;
  // One whole SSE record ("data: {...}\n\n"); false once the client is gone (drop the stream).
  virtual bool push(std::string record) = 0;
  // Whether the client is still there.
  [[nodiscard]] virtual bool alive() const = 0;
  // No more events: the response, and its connection, end.
  virtual void end() = 0;
};

// How a request is answered: once, by `reply` (a whole response) or by `open_stream` (an SSE
// response; `drop_when_backlogged`: the realm's slow_consumer is drop-events, so events to a
// client that does not keep up are skipped rather than the client closed).
struct bridge_responder {
  bridge_reply reply;
  std::function<std::shared_ptr<event_stream>(bool drop_when_backlogged)> open_stream;
};

// The HTTP status of a WAMP error URI (docs/BRIDGE.md): the router's own by meaning, anything else
// (an application error the callee raised) 500.
[[nodiscard]] int http_status_of(std::string_view error_uri);

class http_bridge {
 public:
  explicit http_bridge(router& owner);
  ~http_bridge();
  http_bridge(const http_bridge&) = delete;
  http_bridge& operator=(const http_bridge&) = delete;

  // The realms' bridge sections, at start and after each reload. A principal (or a whole
  // bridge) no longer configured loses its session; requests of its still in flight get 503.
  void configure(const router_config& config);
  // Whether `path` is under a bridge's path (handle() answers it); safe from any thread.
  [[nodiscard]] bool handles(std::string_view path) const;
  // The largest request body any bridge accepts (the listener's HTTP reader is bounded by it).
  [[nodiscard]] std::size_t max_body() const noexcept { return max_body_.load(std::memory_order_relaxed); }
  // Answers one request whose path handles() accepted, exactly once (see bridge_responder).
  void handle(const http::request& req, bridge_responder respond);
  // The sessions of the bridge leave their realms (router shutdown).
  void close_all();

  class client;  // bridge.cpp: one principal's session in one realm

 private:
  struct endpoint;  // bridge.cpp: one realm's bridge
  [[nodiscard]] endpoint* find_endpoint(std::string_view path) const;
  // The principal's session in the endpoint's realm, joined now if need be; nullptr (and `reply`
  // answered) if it cannot join.
  std::shared_ptr<client> client_for(const endpoint& e, const auth::http_principal& who, const bridge_reply& reply);

  router& owner_;
  std::map<std::string, std::unique_ptr<endpoint>, std::less<>> endpoints_;  // by path
  std::map<std::string, std::shared_ptr<client>> clients_;                   // by realm + principal
  std::atomic<std::size_t> max_body_{0};
};

}  // namespace junction
