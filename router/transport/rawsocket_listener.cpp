// WAMP RawSocket over TCP and Unix domain sockets, on Asio. The framing itself is the pure codec
// in router/transport/rawsocket.hpp; reading and writing (one per-thread read buffer, coalesced writes) are
// router/transport/stream_connection.hpp, shared with the WebSocket listener. Only a frame split across
// reads is kept, by the frame reader, bounded by the limit.
#include "router/transport/rawsocket_listener.hpp"

#include <array>
#include <optional>
#include <stdexcept>

#include <boost/asio/local/stream_protocol.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "router/transport/acceptor.hpp"
#include "router/transport/loops.hpp"
#include "router/ops/log.hpp"
#include "router/transport/rawsocket.hpp"
#include "router/router.hpp"
#include "router/session.hpp"
#include "router/transport/stream_connection.hpp"
#include "router/transport/tls_context.hpp"

namespace junction {
namespace asio = boost::asio;
namespace {

using stream::connection;

// RawSocket cannot express more than 2^24 bytes per frame (reference §5 item 14).
constexpr std::size_t rawsocket_ceiling = std::size_t{1} << 24;

// Socket: a TCP or Unix stream socket, or a TLS stream over a TCP socket.
template <class Socket>
class rs_connection final : public stream::stream_connection<Socket> {
  using base = stream::stream_connection<Socket>;

 public:
  rs_connection(Socket socket, router& owner, const listener_config& config, std::string remote,
                bool over_limit, stream::forget_fn forget, auth_slots* slots)
      : base(std::move(socket), std::move(remote), std::move(forget), "RawSocket",
             config.handshake_timeout, owner.config().max_outbound_bytes, slots,
             owner.config().slow_consumer_timeout, owner.config().event_backlog_bytes),
        owner_(owner),
        limit_(std::min(config.max_message_size, rawsocket_ceiling)),
        over_limit_(over_limit) {}

  void shutdown() override {
    if (session_) session_->shutdown();
    close("router shutting down");
  }

  // transport
  bool send_frame(std::string_view bytes) override {
    if (this->dead() || this->closing()) return true;
    if (bytes.size() > out_limit()) return too_big(bytes.size());
    if (!this->queue_ok(bytes.size())) return true;
    rawsocket::append_frame(this->out_, rawsocket::frame_type::message, bytes);
    this->schedule_write();
    return true;
  }

  bool send(const message& m, const codec& c) override {
    if (this->dead() || this->closing()) return true;
    // Encode straight after a header placeholder, then fill the header in: no second copy.
    std::string& out = this->out_;
    const std::size_t start = out.size();
    out.append(4, '\0');
    c.encode(m, out);
    const std::size_t length = out.size() - start - 4;
    if (length > out_limit()) {
      out.resize(start);
      return too_big(length);
    }
    if (this->over_outbound(this->queued_before(start), length)) {
      out.resize(start);
      this->queue_ok(length);  // says why and ends the connection (a slow consumer)
      return true;
    }
    const auto header = rawsocket::frame_header(rawsocket::frame_type::message, length);
    std::copy(header.begin(), header.end(), out.begin() + static_cast<std::ptrdiff_t>(start));
    this->schedule_write();
    return true;
  }

  bool send_shared(const shared_message& m, const codec& c) override { return send_frame(m.encoded(c)); }

  bool report_too_big(std::size_t bytes) override { return too_big(bytes); }
  [[nodiscard]] bool fits(std::size_t bytes) const noexcept override { return bytes <= out_limit(); }

  void keepalive_ping() override {
    if (!reader_ || this->dead() || this->closing() || !this->queue_ok(0)) return;  // not before the handshake
    rawsocket::append_frame(this->out_, rawsocket::frame_type::ping, {});
    this->schedule_write();
  }

  void keepalive_expired(std::chrono::milliseconds timeout) override {
    JLOG(info) << "closing RawSocket connection: no answer to the keepalive PING within "
               << timeout.count() << " ms" << log_field("peer", this->remote());
    metrics::io().close(metrics::close_reason::keepalive);
    this->terminate("keepalive timeout");
  }

  [[nodiscard]] std::string_view kind() const noexcept override { return "rawsocket"; }
  // RawSocket negotiates a serializer; it is named like the WebSocket subprotocol of that codec.
  [[nodiscard]] std::string_view protocol() const noexcept override {
    return wire_ != nullptr ? wire_->subprotocol() : std::string_view{};
  }

  void close(std::string_view reason) override {
    if (this->dead() || this->closing()) return;
    JLOG(debug) << "closing RawSocket connection: " << reason << log_field("peer", this->remote());
    this->finish();
  }

 private:
  // The largest message this client takes: its announced limit, and never more than ours.
  [[nodiscard]] std::size_t out_limit() const noexcept { return std::min<std::size_t>(peer_limit_, limit_); }

  // A message the client cannot take is not sent; the session says something else instead
  // (an ERROR to the caller, the EVENT skipped). Logged (rate-limited) and counted.
  bool too_big(std::size_t length) {
    JLOG(info) << "not sent: an outgoing message of " << length << " bytes exceeds the client's limit of "
               << out_limit() << " bytes" << log_field("peer", this->remote());
    metrics::io().too_big();
    return false;
  }

  void on_bytes(char* data, std::size_t size) override {
    if (this->closing()) return;
    std::string_view bytes(data, size);
    if (!reader_) {
      while (handshake_bytes_ < handshake_.size() && !bytes.empty()) {
        handshake_[handshake_bytes_++] = static_cast<std::uint8_t>(bytes.front());
        bytes.remove_prefix(1);
      }
      if (handshake_bytes_ < handshake_.size()) return;
      if (!on_handshake()) return;
    }
    auto error = reader_->feed(bytes, [this](rawsocket::frame_type type, std::string_view payload) {
      on_frame(type, payload);
    });
    if (error) {
      JLOG(warn) << "closing RawSocket connection: " << *error << log_field("peer", this->remote());
      metrics::io().close(metrics::close_reason::protocol_violation);
      this->terminate({});
    }
  }

  void on_end() override {
    if (session_) session_->on_transport_closed();
  }

  bool on_handshake() {
    std::optional<rawsocket::handshake_error> reply_with;
    const auto hello = rawsocket::parse_handshake(handshake_, reply_with);
    if (!hello) {
      if (!reply_with) {
        JLOG(info) << "closing connection: " << hello.error().message << log_field("peer", this->remote());
        metrics::io().refuse(metrics::refusal::handshake);
        this->terminate({});
        return false;
      }
      metrics::io().refuse(metrics::refusal::handshake);
      return refuse(*reply_with, hello.error().message);
    }
    // Over the cap, or shutting down: "maximum connection count reached" is the spec's way of
    // saying "not here, not now".
    if (over_limit_) {
      metrics::io().refuse(metrics::refusal::limit);
      return refuse(rawsocket::handshake_error::max_connections, "connection limit");
    }
    if (owner_.draining()) {
      metrics::io().refuse(metrics::refusal::draining);
      return refuse(rawsocket::handshake_error::max_connections, "the router is shutting down");
    }
    this->handshake_done();
    peer_limit_ = hello->max_length;
    const codec& c = codec_for(hello->ser);
    wire_ = &c;
    const auto reply = rawsocket::handshake_reply(hello->ser, limit_);
    this->out_.append(reinterpret_cast<const char*>(reply.data()), reply.size());
    this->schedule_write();
    reader_.emplace(limit_);
    session_ = std::make_shared<session>(owner_, *this, c);
    JLOG(debug) << "RawSocket connection (" << c.subprotocol() << ")" << log_field("peer", this->remote());
    return true;
  }

  bool refuse(rawsocket::handshake_error e, const std::string& what) {
    JLOG(info) << "refused RawSocket connection: " << what << " (replied " << rawsocket::describe(e)
               << ")" << log_field("peer", this->remote());
    const auto reply = rawsocket::handshake_error_reply(e);
    this->out_.append(reinterpret_cast<const char*>(reply.data()), reply.size());
    this->schedule_write();
    this->finish();
    return false;
  }

  void on_frame(rawsocket::frame_type type, std::string_view payload) {
    if (this->dead() || this->closing()) return;
    switch (type) {
      case rawsocket::frame_type::message:
        session_->on_frame(payload);
        break;
      case rawsocket::frame_type::ping:  // answered with the same payload
        // (A PING larger than the client itself accepts gets no PONG: it could not take it.)
        if (payload.size() <= out_limit() && this->queue_ok(payload.size())) {
          rawsocket::append_frame(this->out_, rawsocket::frame_type::pong, payload);
          this->schedule_write();
        }
        break;
      case rawsocket::frame_type::pong:
        break;
    }
  }

  router& owner_;
  std::size_t limit_;                           // longest frame we accept
  std::size_t peer_limit_ = rawsocket_ceiling;  // longest frame the client accepts
  bool over_limit_;
  std::array<std::uint8_t, 4> handshake_{};
  std::size_t handshake_bytes_ = 0;
  std::optional<rawsocket::frame_reader> reader_;  // after a valid handshake
  const codec* wire_ = nullptr;  // after a valid handshake
  std::shared_ptr<session> session_;
};

}  // namespace

struct rawsocket_listener::impl {
  impl(loop_set& loops, router& owner, const listener_config& config)
      : loops_(loops),
        owner_(owner),
        config_(config),
        connections_(loops, config_, false),
        settings_(stream::accept_settings::make(
            config, config.tls.enabled() ? make_server_tls_context(config.tls) : nullptr)) {}

  template <class Acceptor>
  void accept(Acceptor& acceptor) {
    stream::accept_loop(loops_, acceptor, url(), metrics::listener_kind::rawsocket,
                        [this](auto socket) { on_accepted(std::move(socket)); });
  }

  template <class Socket>
  void on_accepted(Socket socket) {
    using protocol = typename Socket::protocol_type;
    constexpr bool tcp = std::is_same_v<protocol, asio::ip::tcp>;
    const auto settings = std::atomic_load(&settings_);
    const listener_config& config = *settings->config;
    std::string remote = "unix";
    if constexpr (tcp) {
      remote = stream::prepare_tcp(socket);
      if (!config.rawsocket_pings) stream::enable_tcp_keepalive(socket.native_handle());
    }
    const bool over_limit = connections_.full(config.max_connections);
    const core_guard lock(owner_.core());  // the router's settings the connection starts with
    std::shared_ptr<connection> conn;
    if constexpr (tcp) {
      if (settings->tls) {
        using tls_socket = asio::ssl::stream<asio::ip::tcp::socket>;
        conn = std::make_shared<rs_connection<tls_socket>>(
            tls_socket(std::move(socket), *settings->tls), owner_, config, std::move(remote), over_limit,
            connections_.forgetter(), connections_.slots());
      }
    }
    if (!conn) {
      conn = std::make_shared<rs_connection<Socket>>(std::move(socket), owner_, config,
                                                     std::move(remote), over_limit,
                                                     connections_.forgetter(), connections_.slots());
    }
    connections_.add(conn);
  }

  std::string url() const { return tcp_ ? bound_url(config_, *tcp_) : config_.url(); }
  std::uint16_t tcp_port() const {
    boost::system::error_code ec;
    const auto ep = tcp_->local_endpoint(ec);
    return ec ? config_.port : ep.port();
  }

  loop_set& loops_;
  router& owner_;
  listener_config config_;
  std::optional<asio::ip::tcp::acceptor> tcp_;
  std::optional<asio::local::stream_protocol::acceptor> unix_;
  stream::connection_set connections_;
  std::shared_ptr<const stream::accept_settings> settings_;  // std::atomic_load/store
};

rawsocket_listener::rawsocket_listener(loop_set& loops, router& owner,
                                       const listener_config& config)
    : impl_(std::make_unique<impl>(loops, owner, config)) {}

rawsocket_listener::~rawsocket_listener() {
  if (impl_->unix_) ::unlink(impl_->config_.unix_path.c_str());
}

void rawsocket_listener::start() {
  const listener_config& c = impl_->config_;
  if (!c.unix_path.empty()) {
    // A socket file left by a previous run would make bind fail; anything else is not ours.
    struct stat st {};
    if (::lstat(c.unix_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(c.unix_path.c_str());
    auto& a = impl_->unix_.emplace(impl_->loops_.main());
    open_acceptor(a, asio::local::stream_protocol::endpoint(c.unix_path), c);
    impl_->accept(a);
  } else {
    auto& a = impl_->tcp_.emplace(impl_->loops_.main());
    open_acceptor(a, tcp_endpoint(c), c);
    impl_->accept(a);
  }
  JLOG(info) << "listening on " << url();
  impl_->connections_.start_sweep();
}

void rawsocket_listener::attach() { impl_->connections_.start_sweep(); }

void rawsocket_listener::adopt(int native_socket, bool ipv6) {
  stream::adopt_on_next_loop(impl_->loops_, native_socket, ipv6, url(),
                             [this](asio::ip::tcp::socket s) { impl_->on_accepted(std::move(s)); });
}

// A TLS stream lives on the loop it was accepted on (loop 0, the universal port's).
void rawsocket_listener::adopt_tls(stream::tls_handover&& h) {
  using tls_socket = asio::ssl::stream<asio::ip::tcp::socket>;
  if (!impl_->config_.rawsocket_pings) stream::enable_tcp_keepalive(h.stream.next_layer().native_handle());
  const core_guard lock(impl_->owner_.core());
  auto conn = std::make_shared<rs_connection<tls_socket>>(std::move(h.stream), impl_->owner_, impl_->config_,
                                                          std::move(h.remote), impl_->connections_.full(impl_->config_.max_connections),
                                                          impl_->connections_.forgetter(), impl_->connections_.slots());
  conn->handed_over(std::move(h.initial));
  impl_->connections_.add(conn);
}

void rawsocket_listener::stop_accepting() {
  boost::system::error_code ec;
  if (impl_->tcp_) impl_->tcp_->close(ec);
  if (impl_->unix_) impl_->unix_->close(ec);
}

void rawsocket_listener::stop() {
  stop_accepting();
  impl_->connections_.stop();
}

void rawsocket_listener::reconfigure(const listener_config& config) {
  auto tls = config.tls.enabled() ? make_server_tls_context(config.tls) : nullptr;  // may throw
  const std::uint16_t bound = impl_->tcp_ ? impl_->tcp_port() : impl_->config_.port;
  impl_->config_ = config;
  impl_->config_.port = bound;
  std::atomic_store(&impl_->settings_, stream::accept_settings::make(impl_->config_, std::move(tls)));
  impl_->connections_.restart_sweep();
}

std::string rawsocket_listener::url() const { return impl_->url(); }

metrics::listener_view rawsocket_listener::view() const {
  return {metrics::listener_kind::rawsocket, impl_->connections_.size(),
          impl_->connections_.queued_bytes()};
}

}  // namespace junction
