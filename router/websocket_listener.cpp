// The WebSocket transport: websocketpp on Boost.Asio, one io_context, no locks.
#include "router/websocket_listener.hpp"

#include <boost/asio/steady_timer.hpp>
#include <map>
#include <optional>
#include <unistd.h>
#include <stdexcept>

#include "router/batching.hpp"
#include "router/keepalive.hpp"
#include "router/log.hpp"
#include "router/router.hpp"
#include "router/session.hpp"
#include "router/transport.hpp"
#include "router/tls_context.hpp"
#include "router/ws_config.hpp"
#include "router/wss_config.hpp"

namespace junction {
namespace {

namespace close_status = websocketpp::close::status;
// Both configs share websocketpp's message type, so one prebuilt frame serves ws and wss alike
// (TLS encrypts below the frame).
using frame_ptr = ws_config::message_type::ptr;
static_assert(std::is_same_v<ws_config::message_type, wss_config::message_type>);

// A WebSocket subprotocol we speak: a codec of the registry ("wamp.2.json", "wamp.2.msgpack"),
// plain or with ".batched" (several messages per WebSocket message), and the slot its prebuilt
// frames use in a shared_message (the bytes differ between plain and batched).
struct subprotocol {
  const codec* wire;
  batching::mode batch;
  std::size_t frame_slot;
};
// JSON batches that answer a client using Autobahn|Python's 0x18 separator get their own slot.
constexpr std::size_t json_batched_0x18_slot = 2 * serializer_count;
static_assert(json_batched_0x18_slot < shared_message::frame_slots);

std::optional<subprotocol> find_subprotocol(std::string_view name) {
  constexpr std::string_view suffix = ".batched";
  const bool batched =
      name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  if (batched) name.remove_suffix(suffix.size());
  const codec* c = find_codec_by_subprotocol(name);
  if (c == nullptr) return std::nullopt;
  const auto kind = static_cast<std::size_t>(c->kind());
  if (!batched) return subprotocol{c, batching::mode::none, kind};
  return subprotocol{c,
                     c->kind() == serializer::json ? batching::mode::json : batching::mode::msgpack,
                     serializer_count + kind};
}

std::string_view path_of(const std::string& resource) {
  std::string_view r = resource;
  return r.substr(0, r.find('?'));
}

}  // namespace

namespace {

// A complete server→client frame (header + payload) that websocketpp writes as is: no second
// copy, no second allocation, and no UTF-8 re-validation of JSON we encoded ourselves. One such
// frame can be queued on any number of connections (fan-out shares it). `fill` appends the
// payload to the string it is given.
template <class Fill>
frame_ptr make_frame(websocketpp::frame::opcode::value op, Fill&& fill) {
  auto msg = std::make_shared<ws_config::message_type>(nullptr, op, 0);
  std::string& payload = msg->get_raw_payload();
  fill(payload);
  const websocketpp::frame::basic_header header(op, payload.size(), true, false);
  const websocketpp::frame::extended_header extended(payload.size());
  msg->set_header(websocketpp::frame::prepare_header(header, extended));
  msg->set_prepared(true);
  return msg;
}

// One accepted WebSocket connection carrying WAMP sessions (Config: ws_config or wss_config).
template <class Config>
class ws_link final : public transport {
 public:
  using connection_ptr = typename websocketpp::server<Config>::connection_ptr;

  ws_link(connection_ptr con, const subprotocol& proto, router& owner)
      : con_(std::move(con)),
        proto_(proto),
        opcode_(proto.wire->binary_frames() ? websocketpp::frame::opcode::binary
                                             : websocketpp::frame::opcode::text),
        remote_(con_->get_remote_endpoint()),
        session_(std::make_shared<session>(owner, *this, *proto.wire)) {}

  // One incoming WebSocket message: one WAMP message, or several in a batched subprotocol.
  void on_message(std::string_view payload) {
    keepalive_heard(keepalive_);
    if (proto_.batch == batching::mode::json && separator_ == batching::json_separator) {
      // Answer in the separator the client speaks (spec 0x1E unless it shows 0x18).
      if (batching::separator_of(payload) == batching::json_separator_autobahn)
        separator_ = batching::json_separator_autobahn;
    }
    auto error = batching::split(proto_.batch, payload,
                                 [this](std::string_view m) { session_->on_frame(m); });
    if (error) session_->on_invalid_framing(std::move(*error));
  }

  void send_frame(std::string_view bytes) override {
    write(make_frame(opcode_, [&](std::string& out) {
      batching::append(proto_.batch, out, [&](std::string& o) { o.append(bytes); }, separator_);
    }));
  }

  void send(const message& m, const codec& c) override {
    write(make_frame(opcode_, [&](std::string& out) {
      batching::append(proto_.batch, out, [&](std::string& o) { c.encode(m, o); }, separator_);
    }));
  }

  void send_shared(const shared_message& m, const codec& c) override {
    const bool autobahn = separator_ == batching::json_separator_autobahn;
    std::shared_ptr<void>& slot = m.frame_slot(autobahn ? json_batched_0x18_slot : proto_.frame_slot);
    if (!slot) {
      slot = make_frame(opcode_, [&](std::string& out) {
        batching::append(
            proto_.batch, out, [&](std::string& o) { o.append(m.encoded(c)); }, separator_);
      });
    }
    write(std::static_pointer_cast<ws_config::message_type>(slot));
  }

  void close(std::string_view reason) override {
    std::error_code ec;
    // A WebSocket close reason holds at most 123 bytes.
    con_->close(close_status::normal, std::string(reason.substr(0, 123)), ec);
  }

  [[nodiscard]] std::string_view remote() const noexcept override { return remote_; }
  session& wamp() noexcept { return *session_; }
  keepalive_state& keepalive() noexcept { return keepalive_; }
  const connection_ptr& connection() const noexcept { return con_; }

 private:
  void write(const frame_ptr& frame) {
    if (slow_) return;
    // A peer that stops reading must not grow the router's memory without bound: past the cap
    // it is closed as a slow consumer, with a log line (never silent drops, DESIGN.md §3).
    if (con_->get_buffered_amount() > max_outbound_bytes) {
      slow_ = true;
      JLOG(warn) << "closing WebSocket connection from " << remote_ << ": slow consumer ("
                 << con_->get_buffered_amount() << " bytes queued)";
      session_->on_transport_closed();
      std::error_code ec;
      con_->close(close_status::try_again_later, "slow consumer", ec);
      return;
    }
    const std::error_code ec = con_->send(frame);
    if (ec) JLOG(debug) << "send to " << remote_ << " failed: " << ec.message();
  }

  static constexpr std::size_t max_outbound_bytes = std::size_t{64} << 20;
  bool slow_ = false;

  connection_ptr con_;  // released when the listener forgets the link (after the close handler)
  subprotocol proto_;
  char separator_ = batching::json_separator;  // JSON batches: what this client separates with
  keepalive_state keepalive_;
  websocketpp::frame::opcode::value opcode_;
  std::string remote_;
  std::shared_ptr<session> session_;
};

}  // namespace

// What websocket_listener needs from its implementation, whichever websocketpp config it runs.
struct websocket_listener::impl {
  virtual ~impl() = default;
  virtual void start() = 0;
  virtual void attach() = 0;
  virtual void adopt(int native_socket, bool ipv6) = 0;
  virtual void stop() = 0;
};

namespace {

template <class Config>
struct ws_impl final : websocket_listener::impl {
  using server_t = websocketpp::server<Config>;
  using connection_ptr = typename server_t::connection_ptr;
  using link_t = ws_link<Config>;

  ws_impl(boost::asio::io_context& io, router& owner, const listener_config& config)
      : owner_(owner), config_(config), sweep_timer_(io) {
    if constexpr (Config::is_tls) {
      auto ctx = make_server_tls_context(config_.tls);  // throws: the listener does not start
      server_.set_tls_init_handler([ctx](websocketpp::connection_hdl) { return ctx; });
    }
    server_.init_asio(&io);
    server_.set_reuse_addr(true);
    server_.set_listen_backlog(1024);
    server_.set_max_message_size(config_.max_message_size);
    // TCP_NODELAY must be set on the accepted socket: websocketpp's socket_init handler runs
    // before accept, when the socket is not open yet (setting it there fails silently).
    // Without it the first INVOCATION after REGISTERED waits ~40 ms on Nagle + delayed ACK.
    server_.set_tcp_post_init_handler([this](websocketpp::connection_hdl h) {
      boost::system::error_code ec;
      server_.get_con_from_hdl(h)->get_raw_socket().set_option(
          boost::asio::ip::tcp::no_delay(true), ec);
      if (ec) JLOG(warn) << "cannot set TCP_NODELAY: " << ec.message();
    });
    server_.set_validate_handler([this](websocketpp::connection_hdl h) { return validate(h); });
    server_.set_http_handler([this](websocketpp::connection_hdl h) { on_http(h); });
    server_.set_open_handler([this](websocketpp::connection_hdl h) { on_open(h); });
  }

  // Upgrade requests: the path must match and the client must offer a WAMP subprotocol; the
  // first one in the client's order of preference that we speak wins.
  bool validate(websocketpp::connection_hdl h) {
    connection_ptr con = server_.get_con_from_hdl(h);
    if (config_.max_connections != 0 && links_.size() >= config_.max_connections) {
      JLOG(info) << "refused WebSocket upgrade from " << con->get_remote_endpoint() << ": "
                 << links_.size() << " connections open, the listener's max-connections";
      con->set_status(websocketpp::http::status_code::service_unavailable);
      con->set_body("connection limit reached\n");
      return false;
    }
    if (path_of(con->get_resource()) != config_.path) {
      con->set_status(websocketpp::http::status_code::not_found);
      con->set_body("no WAMP endpoint at this path\n");
      return false;
    }
    for (const std::string& offered : con->get_requested_subprotocols()) {
      if (find_subprotocol(offered)) {
        con->select_subprotocol(offered);
        return true;
      }
    }
    JLOG(info) << "refused WebSocket upgrade from " << con->get_remote_endpoint()
               << ": no supported WAMP subprotocol offered";
    con->set_status(websocketpp::http::status_code::bad_request);
    con->set_body(
        "no supported WAMP subprotocol offered (wamp.2.json, wamp.2.msgpack, "
        "wamp.2.json.batched, wamp.2.msgpack.batched)\n");
    return false;
  }

  // Plain HTTP: nothing is served yet besides the WAMP endpoint (health and metrics come later).
  void on_http(websocketpp::connection_hdl h) {
    connection_ptr con = server_.get_con_from_hdl(h);
    if (path_of(con->get_resource()) == config_.path) {
      con->set_status(websocketpp::http::status_code::upgrade_required);
      con->append_header("Upgrade", "websocket");
      con->set_body("this is a WAMP WebSocket endpoint\n");
    } else {
      con->set_status(websocketpp::http::status_code::not_found);
      con->set_body("not found\n");
    }
  }

  void on_open(websocketpp::connection_hdl h) {
    connection_ptr con = server_.get_con_from_hdl(h);
    const std::optional<subprotocol> proto = find_subprotocol(con->get_subprotocol());
    // The handshake's request and response (header maps, body) are never read again; websocketpp
    // keeps them for the connection's life, ~1.5 KiB per idle session. Release them.
    using request_t = typename Config::request_type;
    using response_t = typename Config::response_type;
    const_cast<request_t&>(con->get_request()) = request_t();
    const_cast<response_t&>(con->get_response()) = response_t();
    auto link = std::make_unique<link_t>(con, *proto, owner_);
    link_t* raw = link.get();
    links_.emplace(raw, std::move(link));
    con->set_message_handler([raw](websocketpp::connection_hdl, typename server_t::message_ptr msg) {
      raw->on_message(msg->get_payload());
    });
    con->set_close_handler([this, raw](websocketpp::connection_hdl hdl) { on_close(raw, hdl); });
    con->set_pong_handler([raw](websocketpp::connection_hdl, std::string) {
      keepalive_heard(raw->keepalive());
    });
    JLOG(debug) << "WebSocket connection from " << raw->remote() << " (" << con->get_subprotocol() << ")";
  }

  void on_close(link_t* link, websocketpp::connection_hdl h) {
    connection_ptr con = server_.get_con_from_hdl(h);
    if (con->get_local_close_code() == close_status::message_too_big)
      JLOG(warn) << "closed connection from " << link->remote()
                 << ": incoming message larger than max-message-size (" << config_.max_message_size
                 << " bytes)";
    link->wamp().on_transport_closed();
    links_.erase(link);  // the handler that called us is destroyed with the connection later
  }

  // One timer for all connections (router/keepalive.hpp): ping the idle, end the silent.
  void schedule_sweep() {
    if (!config_.keepalive.enabled()) return;
    sweep_timer_.expires_after(config_.keepalive.sweep_period());
    sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      sweep();
      schedule_sweep();
    });
  }

  void sweep() {
    const auto now = keepalive_clock::now();
    std::vector<link_t*> expired;
    for (auto& [raw, link] : links_) {
      switch (keepalive_sweep(link->keepalive(), now, config_.keepalive)) {
        case keepalive_action::ping: {
          std::error_code ec;
          link->connection()->ping("", ec);
          break;
        }
        case keepalive_action::expire:
          expired.push_back(raw);
          break;
        case keepalive_action::none:
          break;
      }
    }
    for (link_t* link : expired) {
      JLOG(info) << "closing WebSocket connection from " << link->remote()
                 << ": no answer to the keepalive ping within "
                 << config_.keepalive.timeout.count() << " ms";
      link->wamp().on_transport_closed();  // leave the realm now, not after a close handshake
      std::error_code ec;
      link->connection()->close(close_status::going_away, "keepalive timeout", ec);
    }
  }

  void start() override {
    std::error_code ec;
    boost::system::error_code addr_ec;
    auto address = boost::asio::ip::make_address(config_.host, addr_ec);
    if (addr_ec) throw std::runtime_error("invalid listen address '" + config_.host + "'");
    server_.listen(boost::asio::ip::tcp::endpoint(address, config_.port), ec);
    if (ec) throw std::runtime_error("cannot listen on " + config_.url() + ": " + ec.message());
    server_.start_accept(ec);
    if (ec) throw std::runtime_error("cannot accept: " + ec.message());
    schedule_sweep();
    listener_config shown = config_;
    boost::system::error_code port_ec;
    const auto ep = server_.get_local_endpoint(port_ec);
    if (!port_ec) shown.port = ep.port();
    JLOG(info) << "listening on " << shown.url();
  }

  void attach() override { schedule_sweep(); }

  void adopt(int native_socket, bool ipv6) override {
    connection_ptr con = server_.get_connection();
    boost::system::error_code ec;
    if (con) {
      con->get_raw_socket().assign(ipv6 ? boost::asio::ip::tcp::v6() : boost::asio::ip::tcp::v4(),
                                   native_socket, ec);
    }
    if (!con || ec) {
      JLOG(warn) << "cannot take over a connection on " << config_.url() << ": "
                 << (ec ? ec.message() : std::string("no connection object"));
      ::close(native_socket);
      return;
    }
    con->start();
  }

  void stop() override {
    std::error_code ec;
    sweep_timer_.cancel();
    server_.stop_listening(ec);
    for (auto& [raw, link] : links_) {
      link->wamp().shutdown();
      link->connection()->close(close_status::going_away, "router shutting down", ec);
    }
  }

  router& owner_;
  listener_config config_;
  boost::asio::steady_timer sweep_timer_;
  server_t server_;
  std::map<link_t*, std::unique_ptr<link_t>> links_;  // open connections, for stop()
};

}  // namespace

websocket_listener::websocket_listener(boost::asio::io_context& io, router& owner,
                                       const listener_config& config) {
  if (config.tls.enabled()) {
    impl_ = std::make_unique<ws_impl<wss_config>>(io, owner, config);
  } else {
    impl_ = std::make_unique<ws_impl<ws_config>>(io, owner, config);
  }
}

websocket_listener::~websocket_listener() = default;

void websocket_listener::start() { impl_->start(); }
void websocket_listener::attach() { impl_->attach(); }
void websocket_listener::adopt(int native_socket, bool ipv6) { impl_->adopt(native_socket, ipv6); }
void websocket_listener::stop() { impl_->stop(); }

}  // namespace junction
