// The WebSocket transport (ws:// and wss://) on Asio: the protocol is router/transport/websocket.hpp (pure),
// reading and writing are router/transport/stream_connection.hpp (one per-thread read buffer, frames queued
// during a loop turn leave in one write), shared with the RawSocket listener.
//
// A connection goes through three phases:
//   handshake  the HTTP request head is collected (at most websocket::max_request_head bytes)
//              and answered: 101 with the chosen WAMP subprotocol, or an HTTP error and close;
//   open       frames in, WAMP messages to the session, frames out;
//   closing    a close frame went out (ours or our answer to the peer's); nothing more reaches
//              the session, and the TCP connection ends once the closing handshake is done.
#include "router/transport/websocket_listener.hpp"

#include <cstring>
#include <optional>
#include <stdexcept>

#include "router/transport/acceptor.hpp"
#include "router/transport/loops.hpp"
#include "router/transport/batching.hpp"
#include "router/transport/http.hpp"
#include "router/transport/static_files.hpp"
#include "router/ops/log.hpp"
#include "router/bridge.hpp"
#include "router/router.hpp"
#include "router/session.hpp"
#include "router/transport/stream_connection.hpp"
#include "router/transport/tls_context.hpp"
#include "router/transport/websocket.hpp"

namespace junction {
namespace asio = boost::asio;
namespace {

namespace ws = websocket;
using stream::connection;

// How long a connection that sent its close frame waits for the peer's before it simply ends.
constexpr std::chrono::milliseconds close_linger{1000};

// A WebSocket subprotocol we speak: a codec of the registry ("wamp.2.json", "wamp.2.msgpack",
// "wamp.2.cbor"),
// plain or with ".batched" (several messages per WebSocket message).
struct subprotocol {
  const codec* wire;
  batching::mode batch;
  const char* name;  // as negotiated ("wamp.2.json.batched"); static storage
};

const char* subprotocol_name(serializer kind, bool batched) noexcept {
  switch (kind) {
    case serializer::json: return batched ? "wamp.2.json.batched" : "wamp.2.json";
    case serializer::msgpack: return batched ? "wamp.2.msgpack.batched" : "wamp.2.msgpack";
    case serializer::cbor: return batched ? "wamp.2.cbor.batched" : "wamp.2.cbor";
  }
  return "";
}

std::optional<subprotocol> find_subprotocol(std::string_view name) {
  constexpr std::string_view suffix = ".batched";
  const bool batched =
      name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  if (batched) name.remove_suffix(suffix.size());
  const codec* c = find_codec_by_subprotocol(name);
  if (c == nullptr) return std::nullopt;
  const char* canonical = subprotocol_name(c->kind(), batched);
  if (!batched) return subprotocol{c, batching::mode::none, canonical};
  return subprotocol{c, c->kind() == serializer::json ? batching::mode::json : batching::mode::length_prefixed,
                     canonical};
}

// One accepted WebSocket connection carrying WAMP sessions. Socket: a TCP socket, or a TLS
// stream over one.
template <class Socket>
class ws_connection final : public stream::stream_connection<Socket>, private ws::frame_sink {
  using base = stream::stream_connection<Socket>;

 public:
  // `config`: the listener's settings when the connection was accepted (a reload's new ones apply
  // to later connections).
  ws_connection(Socket socket, router& owner, std::shared_ptr<const listener_config> config, std::string remote,
                bool over_limit, stream::forget_fn forget, auth_slots* slots)
      : base(std::move(socket), std::move(remote), std::move(forget), "WebSocket",
             config->handshake_timeout, owner.config().max_outbound_bytes, slots,
             owner.config().slow_consumer_timeout, owner.config().event_backlog_bytes),
        owner_(owner),
        config_holder_(std::move(config)),
        config_(*config_holder_),
        over_limit_(over_limit) {}

  void shutdown() override {
    if (session_) session_->shutdown();
    close_with(ws::close_code::going_away, "router shutting down", close_linger);
  }

  // transport
  // Bytes already encoded (fan-out's shared encoding): their length is known, so the header is
  // written first, in its final size — no placeholder to widen for payloads over 125 bytes.
  bool send_frame(std::string_view bytes) override {
    if (phase_ != phase::open || this->dead() || this->closing()) return true;
    if (bytes.size() > config_.max_message_size) return too_big(bytes.size());
    const std::size_t length = bytes.size() + (proto_.batch == batching::mode::json      ? 1
                                               : proto_.batch == batching::mode::length_prefixed ? 4
                                                                                         : 0);
    if (!this->queue_ok(length + ws::max_header_size)) return true;
    ws::append_header(this->out_, opcode_, length);
    batching::append(proto_.batch, this->out_, [&](std::string& o) { o.append(bytes); }, separator_);
    this->schedule_write();
    return true;
  }

  bool report_too_big(std::size_t bytes) override { return too_big(bytes); }
  [[nodiscard]] bool fits(std::size_t bytes) const noexcept override {
    const std::size_t batch = proto_.batch == batching::mode::json            ? 1
                              : proto_.batch == batching::mode::length_prefixed ? 4
                                                                                : 0;
    return bytes + batch <= config_.max_message_size;
  }

  bool send(const message& m, const codec& c) override {
    return append_message([&](std::string& o) { c.encode(m, o); });
  }

  // The cached encoding is copied behind a two-byte header: cheaper than sharing a prebuilt
  // frame across subscribers (a reference count per delivery) at WAMP message sizes.
  bool send_shared(const shared_message& m, const codec& c) override { return send_frame(m.encoded(c)); }

  void keepalive_ping() override {
    if (phase_ == phase::handshake) {
      // Plain HTTP outlives the handshake timer only while a bridge request is answered or an
      // event stream runs: the client has nothing to say meanwhile, so its silence proves
      // nothing (it counts as heard). A stream gets an SSE comment: proxies keep it open, and a
      // write to a peer that has gone fails and ends the connection.
      keepalive_heard(this->keepalive());
      if (streaming_ && this->queue_ok(3)) {
        this->out_ += ":\n\n";
        this->schedule_write();
      }
      return;
    }
    if (phase_ != phase::open || !this->queue_ok(2)) return;
    ws::append_header(this->out_, ws::opcode::ping, 0);
    this->schedule_write();
  }

  void keepalive_expired(std::chrono::milliseconds timeout) override {
    JLOG(info) << "closing WebSocket connection: no answer to the keepalive ping within "
               << timeout.count() << " ms" << log_field("peer", this->remote());
    metrics::io().close(metrics::close_reason::keepalive);
    this->terminate("keepalive timeout");
  }

  void close(std::string_view reason) override {
    close_with(ws::close_code::normal, reason, close_linger);
  }

  [[nodiscard]] std::string_view kind() const noexcept override { return "websocket"; }
  [[nodiscard]] std::string_view protocol() const noexcept override { return proto_.name; }

 private:
  enum class phase : std::uint8_t { handshake, open, closing };

  // One WAMP message as one WebSocket message (or one entry of a batch), encoded in place behind
  // its frame header: two header octets are reserved and widened when the payload turns out
  // longer than 125 bytes (the length is known only after encoding).
  template <class Encode>
  bool append_message(Encode&& encode) {
    if (phase_ != phase::open || this->dead() || this->closing()) return true;
    std::string& out = this->out_;
    const std::size_t start = out.size();
    out.append(2, '\0');
    batching::append(proto_.batch, out, encode, separator_);
    const std::size_t length = out.size() - start - 2;
    if (length > config_.max_message_size) {  // the batch framing's few bytes count too
      out.resize(start);
      return too_big(length);
    }
    if (this->over_outbound(this->queued_before(start), length)) {
      out.resize(start);
      this->queue_ok(length);  // says why and ends the connection
      return true;
    }
    char header[ws::max_header_size];
    const std::size_t h = ws::write_header(header, opcode_, length);
    if (h > 2) out.insert(start + 2, h - 2, '\0');
    std::memcpy(&out[start], header, h);
    this->schedule_write();
    return true;
  }

  // A message the client cannot take (over the listener's max_message_size) is not sent; the
  // session says something else instead. Logged (rate-limited) and counted.
  bool too_big(std::size_t length) {
    JLOG(info) << "not sent: an outgoing message of " << length << " bytes exceeds max_message_size ("
               << config_.max_message_size << " bytes)" << log_field("peer", this->remote());
    metrics::io().too_big();
    return false;
  }

  void on_bytes(char* data, std::size_t size) override {
    if (phase_ == phase::handshake) return on_request_bytes(data, size);
    if (!reader_) return;
    if (auto error = reader_->feed(data, size, *this)) fail(*error);
  }

  void on_end() override {
    if (session_) session_->on_transport_closed();
  }

  // ---- HTTP and the opening handshake --------------------------------------------------------

  // A kept-alive connection answers this many requests, then closes (as nginx's keepalive_requests:
  // no client holds one connection, and what it costs, for ever).
  static constexpr std::uint32_t max_requests_per_connection = 1000;

  // HTTP/1.1 (router/transport/http.hpp): requests are answered in order, one at a time, on a
  // kept-alive connection until the client closes, asks to, or upgrades to WebSocket.
  void on_request_bytes(const char* data, std::size_t size) {
    if (!http_) {
      http::limits l;
      l.max_body = std::max(l.max_body, owner_.bridge().max_body());
      http_ = std::make_unique<http::request_reader>(l);
    }
    http_->append(data, size);
    serve_requests();
  }

  // Answers the requests read so far, in order; stops while one waits for the bridge's answer.
  void serve_requests() {
    while (phase_ == phase::handshake && !awaiting_answer_ && !this->dead() && !this->closing()) {
      const auto state = http_->next();
      if (state == http::request_reader::state::need_more) {
        if (http_->take_expect_continue()) {
          this->out_ += "HTTP/1.1 100 Continue\r\n\r\n";
          this->schedule_write();
        }
        return;
      }
      if (state == http::request_reader::state::failed) {
        JLOG(info) << "refused HTTP request: " << http_->error() << log_field("peer", this->remote());
        metrics::io().refuse(metrics::refusal::handshake);
        return refuse(http_->status(), http_->error() + "\n");
      }
      http::request req = http_->take_request();
      if (req.head.wants_upgrade()) {
        std::string rest = http_->take_rest();  // frames a client sent right behind its request
        http_.reset();
        if (!upgrade(req.head)) return;
        if (!rest.empty()) on_bytes(rest.data(), rest.size());
        return;
      }
      answer_plain(req);
    }
  }

  // A request that is not an upgrade: the admin routes (health, metrics, reload) where this
  // listener serves them, 426 on the WAMP path, 404 elsewhere. The connection stays open for the
  // next request unless the client or a bound says otherwise.
  void answer_plain(const http::request& req) {
    metrics::io().http_requests.add();
    const bool wamp = config_.kind != listener_config::protocol::http;  // http: admin routes only
    const bool our_path = wamp && req.head.path() == config_.path;
    const bool keep_alive = req.keep_alive && ++requests_ < max_requests_per_connection && !owner_.draining();
    const bool head = req.head.method == "HEAD";
    auto respond = [this, keep_alive, head](int status, std::string_view body, std::string_view headers,
                                            std::string_view type) {
      std::string response = ws::http_response(status, body, headers, type, keep_alive);
      if (head && status != 304) response.resize(response.size() - body.size());
      this->out_ += response;
      this->schedule_write();
      if (keep_alive) {
        this->arm_handshake_timer();
      } else {
        this->finish();
      }
    };
    constexpr std::string_view text = "text/plain; charset=utf-8";
    if (wamp && owner_.bridge().handles(req.head.path())) {
      // The answer comes later, maybe from another loop: posted to this connection's loop, never
      // run inside the routing that produced it. Meanwhile later requests wait, and the
      // handshake timer does not run (a call may take longer).
      awaiting_answer_ = true;
      this->pause_handshake_timer();
      std::weak_ptr<ws_connection> weak = std::static_pointer_cast<ws_connection>(this->shared_from_this());
      auto executor = this->loop_executor();
      bridge_responder answer;
      answer.reply = [weak, executor, respond](bridge_response r) mutable {
        asio::post(executor, [weak, respond, r = std::move(r)]() mutable {
          auto self = weak.lock();
          if (!self || self->dead()) return;
          self->awaiting_answer_ = false;
          respond(r.status, r.body, r.headers, "application/json");
          self->serve_requests();
        });
      };
      answer.open_stream = [weak, executor](bool drop_when_backlogged) -> std::shared_ptr<event_stream> {
        asio::post(executor, [weak] {
          if (auto self = weak.lock(); self && !self->dead()) self->start_event_stream();
        });
        return std::make_shared<sse_stream>(weak, executor, drop_when_backlogged);
      };
      owner_.bridge().handle(req, std::move(answer));
      return;
    }
    if (config_.serves_admin() && owner_.routes() != nullptr) {
      if (auto a = owner_.routes()->answer(req.head.method, req.head.path(), loopback_peer()))
        return respond(a->status, a->body, a->headers, a->content_type);
    }
    if (our_path) return respond(426, "this is a WAMP WebSocket endpoint\n", "Upgrade: websocket\r\n", text);
    if (config_.serves_console() && answer_console(req, respond)) return;
    if (const web_mount* m = web::find_mount(config_.web, req.head.path())) {
      const web::answer a = web::serve(*m, req.head.method, req.head.path(), req.head.if_none_match);
      return respond(a.status, a.body, a.headers, a.content_type);
    }
    respond(404, "not found\n", {}, text);
  }

  // The web console (web/console/): its files, and info.json — where the page connects back to
  // (this listener's WAMP path), the realms to choose from, and whether /metrics is here. False:
  // the path is not the console's.
  template <class Respond>
  bool answer_console(const http::request& req, Respond& respond) {
    web_mount m;
    {
      const core_guard lock(owner_.core());  // the router's settings change on reload
      m.path = owner_.config().console_path;
      m.directory = owner_.config().console_directory.empty() ? std::string(JUNCTION_CONSOLE_DIR)
                                                              : owner_.config().console_directory;
    }
    const std::string_view path = req.head.path();
    if (!web::under(m.path, path)) return false;
    if (path == m.path + "/info.json") {
      std::string realms;
      {
        const core_guard lock(owner_.core());
        for (const auto& r : owner_.config().realms) realms += (realms.empty() ? "" : ",") + json_quoted(r.name);
      }
      respond(200,
              "{\"ws_path\":" + json_quoted(config_.path) + ",\"realms\":[" + realms +
                  "],\"metrics\":" + (config_.serves_admin() ? "true" : "false") + "}",
              "Cache-Control: no-store\r\n", "application/json");
      return true;
    }
    const web::answer a = web::serve(m, req.head.method, path, req.head.if_none_match);
    respond(a.status, a.body, a.headers, a.content_type);
    return true;
  }

  static std::string json_quoted(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
  }

  // ---- Server-Sent Events (the bridge's subscribe and progressive calls) ----------------------

  // A bridge stream on this connection: records are posted to its loop and written there; the
  // connection carries nothing else until it closes.
  class sse_stream final : public event_stream {
   public:
    sse_stream(std::weak_ptr<ws_connection> c, asio::any_io_executor ex, bool drop)
        : connection_(std::move(c)), executor_(std::move(ex)), drop_(drop) {}
    bool push(std::string record) override {
      if (connection_.expired()) return false;
      asio::post(executor_, [c = connection_, record = std::move(record), drop = drop_] {
        if (auto self = c.lock()) self->write_event(record, drop);
      });
      return true;
    }
    void end() override {
      asio::post(executor_, [c = connection_] {
        if (auto self = c.lock()) self->finish();
      });
    }
    [[nodiscard]] bool alive() const override { return !connection_.expired(); }

   private:
    std::weak_ptr<ws_connection> connection_;
    asio::any_io_executor executor_;
    bool drop_;
  };

  void start_event_stream() {
    streaming_ = true;
    this->out_ +=
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "Connection: close\r\nX-Accel-Buffering: no\r\n\r\n";
    this->schedule_write();
  }

  // One event to an SSE client; one that does not keep up is handled by the realm's
  // slow_consumer policy: skipped (drop-events; not yet counted in junction_events_dropped_total,
  // a realm counter this loop may not write) or, past max_outbound_bytes, closed.
  void write_event(const std::string& record, bool drop_when_backlogged) {
    if (this->dead() || this->closing()) return;
    if (drop_when_backlogged && this->backlogged()) return;
    if (!this->queue_ok(record.size())) return;
    this->out_ += record;
    this->schedule_write();
  }

  // Accepts the upgrade (true) or answers with an HTTP error and closes (false).
  bool upgrade(const ws::request& req) {
    const bool wamp = config_.kind != listener_config::protocol::http;  // http: admin routes only
    const bool our_path = wamp && req.path() == config_.path;
    if (over_limit_) {
      JLOG(info) << "refused WebSocket upgrade: the listener's max_connections ("
                 << config_.max_connections << ") are open" << log_field("peer", this->remote());
      metrics::io().refuse(metrics::refusal::limit);
      refuse(503, "connection limit reached\n");
      return false;
    }
    if (owner_.draining()) {
      metrics::io().refuse(metrics::refusal::draining);
      refuse(503, "the router is shutting down\n");
      return false;
    }
    if (auto no = ws::check_upgrade(req)) {
      JLOG(info) << "refused WebSocket upgrade: " << no->reason << log_field("peer", this->remote());
      metrics::io().refuse(metrics::refusal::handshake);
      refuse(no->status, no->reason + "\n",
             no->status == 426 ? "Sec-WebSocket-Version: 13\r\n" : std::string_view{});
      return false;
    }
    if (config_.echo) {  // bench-echo-junction: the WebSocket layer alone
      this->out_ += ws::switching_protocols(req.key, {});
      this->schedule_write();
      this->handshake_done();
      phase_ = phase::open;
      reader_.emplace(config_.max_message_size);
      return true;
    }
    if (!our_path) {
      metrics::io().refuse(metrics::refusal::handshake);
      refuse(404, wamp ? "no WAMP endpoint at this path\n" : "this port serves no WAMP endpoint\n");
      return false;
    }
    // The first subprotocol in the client's order of preference that we speak wins.
    std::optional<subprotocol> chosen;
    for (const std::string& offered : req.protocols) {
      if ((chosen = find_subprotocol(offered))) break;
    }
    if (!chosen) {
      JLOG(info) << "refused WebSocket upgrade: no supported WAMP subprotocol offered"
                 << log_field("peer", this->remote());
      metrics::io().refuse(metrics::refusal::handshake);
      refuse(400,
             "no supported WAMP subprotocol offered (wamp.2.json, wamp.2.msgpack, wamp.2.cbor, "
             "and each with .batched)\n");
      return false;
    }
    this->out_ += ws::switching_protocols(req.key, chosen->name);
    this->schedule_write();
    this->handshake_done();
    proto_ = *chosen;
    opcode_ = proto_.wire->binary_frames() ? ws::opcode::binary : ws::opcode::text;
    phase_ = phase::open;
    reader_.emplace(config_.max_message_size);
    session_ = std::make_shared<session>(owner_, *this, *proto_.wire);
    JLOG(debug) << "WebSocket connection (" << proto_.name << ")" << log_field("peer", this->remote());
    return true;
  }

  // The admin routes that change things answer loopback peers only.
  bool loopback_peer() const {
    const std::string_view r = this->remote();
    return r.rfind("127.", 0) == 0 || r.rfind("::1:", 0) == 0 || r.rfind("::ffff:127.", 0) == 0;
  }

  void refuse(int status, std::string_view body, std::string_view extra_headers = {}) {
    this->out_ += ws::http_response(status, body, extra_headers);
    this->schedule_write();
    this->finish();
  }

  // ---- frames in --------------------------------------------------------------------------------

  // One incoming WebSocket message: one WAMP message, or several in a batched subprotocol.
  void on_message(ws::opcode op, std::string_view payload) override {
    if (phase_ != phase::open) return;
    if (config_.echo) {  // bench-echo-junction
      if (!this->queue_ok(payload.size() + ws::max_header_size)) return;
      ws::append_header(this->out_, op, payload.size());
      this->out_.append(payload);
      this->schedule_write();
      return;
    }
    if (proto_.batch == batching::mode::json && separator_ == batching::json_separator) {
      // Answer in the separator the client speaks (spec 0x1E unless it shows 0x18).
      if (batching::separator_of(payload) == batching::json_separator_autobahn)
        separator_ = batching::json_separator_autobahn;
    }
    auto error = batching::split(proto_.batch, payload, [this](std::string_view m) {
      if (phase_ == phase::open) session_->on_frame(m);
    });
    if (error && phase_ == phase::open) session_->on_invalid_framing(std::move(*error));
  }

  void on_ping(std::string_view payload) override {
    if (phase_ != phase::open || !this->queue_ok(payload.size() + 2)) return;
    ws::append_header(this->out_, ws::opcode::pong, payload.size());
    this->out_.append(payload);
    this->schedule_write();
  }

  void on_pong(std::string_view) override {}  // reading anything counts for the keepalive

  void on_close(std::uint16_t code, std::string_view reason) override {
    if (phase_ == phase::closing) return this->terminate({});  // the answer to our close
    JLOG(debug) << "WebSocket connection closed by the peer (" << code
                << (reason.empty() ? "" : ": ") << reason << ")" << log_field("peer", this->remote());
    // The peer closes: leave the realm, answer with its code (RFC 6455 §5.5.1), and close the
    // TCP connection once the answer is written (the server closes first, §7.1.1).
    phase_ = phase::closing;
    if (session_) session_->on_transport_closed();
    ws::append_close(this->out_, code == ws::close_code::no_status ? ws::close_code::normal : code, {});
    this->schedule_write();
    this->finish();
  }

  // The peer broke the protocol (or sent more than max-message-size): close with the code the
  // reader chose and end without waiting (RFC 6455 §7.1.7, "fail the WebSocket connection").
  void fail(const ws::frame_error& e) {
    // Garbage while waiting for the peer's close frame: nothing left to say, end now (the reader
    // would report the same error on every later read).
    if (phase_ == phase::closing) return this->terminate(e.text);
    if (e.code == ws::close_code::message_too_big) {
      JLOG(warn) << "closed connection: incoming message larger than max_message_size ("
                 << config_.max_message_size << " bytes)" << log_field("peer", this->remote());
      metrics::io().close(metrics::close_reason::message_too_big);
    } else {
      JLOG(info) << "closing WebSocket connection: " << e.text << log_field("peer", this->remote());
      metrics::io().close(metrics::close_reason::protocol_violation);
    }
    if (session_) session_->on_transport_closed();
    close_with(e.code, e.text, std::chrono::milliseconds{0});
  }

  // Sends a close frame and ends the connection after the closing handshake (or `linger`).
  void close_with(std::uint16_t code, std::string_view reason, std::chrono::milliseconds linger) {
    if (this->dead() || this->closing()) return;
    if (phase_ != phase::open) return this->terminate({});
    phase_ = phase::closing;
    ws::append_close(this->out_, code, reason);
    this->schedule_write();
    this->finish(linger);
  }

  router& owner_;
  std::shared_ptr<const listener_config> config_holder_;
  const listener_config& config_;  // *config_holder_
  bool over_limit_;
  phase phase_ = phase::handshake;
  std::unique_ptr<http::request_reader> http_;  // HTTP requests until the upgrade
  std::uint32_t requests_ = 0;                   // answered on this connection
  bool awaiting_answer_ = false;                 // a bridge request is being answered
  bool streaming_ = false;                       // its answer is an event stream (SSE)
  subprotocol proto_{nullptr, batching::mode::none, ""};
  ws::opcode opcode_ = ws::opcode::text;
  char separator_ = batching::json_separator;  // JSON batches: what this client separates with
  std::optional<ws::frame_reader> reader_;       // once open
  std::shared_ptr<session> session_;
};

}  // namespace

struct websocket_listener::impl {
  impl(loop_set& loops, router& owner, const listener_config& config)
      : loops_(loops),
        owner_(owner),
        config_(config),
        acceptor_(loops.main()),
        connections_(loops, config_, true),
        settings_(stream::accept_settings::make(
            config, config.tls.enabled() ? make_server_tls_context(config.tls) : nullptr)) {}

  // On the loop the connection goes to.
  void on_accepted(asio::ip::tcp::socket socket) {
    std::string remote = stream::prepare_tcp(socket);
    const auto settings = std::atomic_load(&settings_);
    const bool over_limit = connections_.full(settings->config->max_connections);
    const core_guard lock(owner_.core());  // the router's settings the connection starts with
    std::shared_ptr<connection> conn;
    if (settings->tls) {
      using tls_socket = asio::ssl::stream<asio::ip::tcp::socket>;
      conn = std::make_shared<ws_connection<tls_socket>>(tls_socket(std::move(socket), *settings->tls),
                                                         owner_, settings->config, std::move(remote),
                                                         over_limit, connections_.forgetter(), connections_.slots());
    } else {
      conn = std::make_shared<ws_connection<asio::ip::tcp::socket>>(
          std::move(socket), owner_, settings->config, std::move(remote), over_limit,
          connections_.forgetter(), connections_.slots());
    }
    connections_.add(conn);
  }

  loop_set& loops_;
  router& owner_;
  listener_config config_;
  asio::ip::tcp::acceptor acceptor_;
  stream::connection_set connections_;
  std::shared_ptr<const stream::accept_settings> settings_;  // std::atomic_load/store
};

websocket_listener::websocket_listener(loop_set& loops, router& owner,
                                       const listener_config& config)
    : impl_(std::make_unique<impl>(loops, owner, config)) {}

websocket_listener::~websocket_listener() = default;

void websocket_listener::start() {
  open_acceptor(impl_->acceptor_, tcp_endpoint(impl_->config_), impl_->config_);
  const std::string bound = url();
  const auto kind = impl_->config_.kind == listener_config::protocol::http ? metrics::listener_kind::http
                                                                          : metrics::listener_kind::websocket;
  stream::accept_loop(impl_->loops_, impl_->acceptor_, bound, kind,
                      [this](asio::ip::tcp::socket s) { impl_->on_accepted(std::move(s)); });
  impl_->connections_.start_sweep();
  JLOG(info) << "listening on " << bound;
}

std::string websocket_listener::url() const {
  return impl_->acceptor_.is_open() ? bound_url(impl_->config_, impl_->acceptor_) : impl_->config_.url();
}

metrics::listener_view websocket_listener::view() const {
  return {impl_->config_.kind == listener_config::protocol::http ? metrics::listener_kind::http
                                                                 : metrics::listener_kind::websocket,
          impl_->connections_.size(), impl_->connections_.queued_bytes()};
}

void websocket_listener::reconfigure(const listener_config& config) {
  auto tls = config.tls.enabled() ? make_server_tls_context(config.tls) : nullptr;  // may throw
  boost::system::error_code ec;
  const auto ep = impl_->acceptor_.local_endpoint(ec);
  impl_->config_ = config;
  if (!ec) impl_->config_.port = ep.port();
  std::atomic_store(&impl_->settings_, stream::accept_settings::make(impl_->config_, std::move(tls)));
  impl_->connections_.restart_sweep();
}

void websocket_listener::stop_accepting() {
  boost::system::error_code ec;
  impl_->acceptor_.close(ec);
}

void websocket_listener::attach() { impl_->connections_.start_sweep(); }

void websocket_listener::adopt(int native_socket, bool ipv6) {
  stream::adopt_on_next_loop(impl_->loops_, native_socket, ipv6, impl_->config_.url(),
                             [this](asio::ip::tcp::socket s) { impl_->on_accepted(std::move(s)); });
}

// A TLS stream lives on the loop it was accepted on (loop 0, the universal port's).
void websocket_listener::adopt_tls(stream::tls_handover&& h) {
  using tls_socket = asio::ssl::stream<asio::ip::tcp::socket>;
  const core_guard lock(impl_->owner_.core());
  auto conn = std::make_shared<ws_connection<tls_socket>>(std::move(h.stream), impl_->owner_,
                                                          std::atomic_load(&impl_->settings_)->config,
                                                          std::move(h.remote), impl_->connections_.full(impl_->config_.max_connections),
                                                          impl_->connections_.forgetter(), impl_->connections_.slots());
  conn->handed_over(std::move(h.initial));
  impl_->connections_.add(conn);
}

void websocket_listener::stop() {
  boost::system::error_code ec;
  impl_->acceptor_.close(ec);
  impl_->connections_.stop();
}

}  // namespace junction
