// WAMP RawSocket over TCP and Unix domain sockets, on Asio. The framing itself is the pure codec
// in router/rawsocket.hpp; this file owns sockets, reads and writes.
//
// Reads: a connection waits for readability without owning a buffer, then reads into one buffer
// shared by the whole thread, so an idle connection holds no read buffer (µWebSockets does the
// same). Only a frame split across reads is kept, by the frame reader, bounded by the limit.
// Writes: frames queued during one turn of the event loop go out in one write.
#include "router/rawsocket_listener.hpp"

#include <array>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "router/acceptor.hpp"
#include "router/keepalive.hpp"
#include "router/log.hpp"
#include "router/rawsocket.hpp"
#include "router/router.hpp"
#include "router/session.hpp"
#include "router/tls_context.hpp"
#include "router/transport.hpp"

namespace junction {
namespace asio = boost::asio;
namespace {

// RawSocket cannot express more than 2^24 bytes per frame (reference §5 item 14).
constexpr std::size_t rawsocket_ceiling = std::size_t{1} << 24;
// Bytes queued for a peer that does not read before it is closed as a slow consumer.
constexpr std::size_t max_outbound_bytes = std::size_t{64} << 20;

// The kernel probes an idle peer (30 s idle, then every 10 s, 3 tries) and the read fails when
// the peer's host is gone: dead-peer detection that needs nothing from the client.
void enable_tcp_keepalive(int fd) {
  const int on = 1, idle = 30, interval = 10, count = 3;
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

char* shared_read_buffer() {
  thread_local std::array<char, 64 * 1024> buffer;
  return buffer.data();
}
constexpr std::size_t shared_read_buffer_size = 64 * 1024;

// What the listener needs from a connection of either socket family.
class rs_connection_base : public transport {
 public:
  virtual void start() = 0;
  virtual void shutdown() = 0;  // router stopping: GOODBYE to the session, then close
  // The listener's keepalive sweep: PING the idle, end the silent.
  virtual void keepalive_ping() = 0;
  virtual void keepalive_expired(std::chrono::milliseconds timeout) = 0;
  keepalive_state& keepalive() noexcept { return keepalive_; }

 protected:
  keepalive_state keepalive_;
};

template <class T>
struct is_tls_stream : std::false_type {};
template <class S>
struct is_tls_stream<asio::ssl::stream<S>> : std::true_type {};

// Socket: a TCP or Unix stream socket, or a TLS stream over a TCP socket.
template <class Socket>
class rs_connection final : public rs_connection_base,
                            public std::enable_shared_from_this<rs_connection<Socket>> {
 public:
  using socket_type = Socket;
  static constexpr bool tls = is_tls_stream<Socket>::value;
  using forget_fn = std::function<void(rs_connection_base*)>;

  rs_connection(socket_type socket, router& owner, const listener_config& config,
                std::string remote, bool over_limit, forget_fn forget)
      : socket_(std::move(socket)),
        owner_(owner),
        limit_(std::min(config.max_message_size, rawsocket_ceiling)),
        remote_(std::move(remote)),
        over_limit_(over_limit),
        forget_(std::move(forget)) {}

  void start() override {
    boost::system::error_code ec;
    socket_.lowest_layer().non_blocking(true, ec);
    if constexpr (tls) {
      // A client that never completes the TLS handshake must not hold the connection forever.
      handshake_timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
      handshake_timer_->expires_after(std::chrono::seconds(10));
      handshake_timer_->async_wait(
          [self = this->shared_from_this()](const boost::system::error_code& e) {
            if (e) return;
            JLOG(info) << "TLS handshake with " << self->remote_ << " timed out";
            self->terminate({});
          });
      socket_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](const boost::system::error_code& e) {
                                self->handshake_timer_.reset();
                                if (e) {
                                  JLOG(info) << "TLS handshake with " << self->remote_
                                             << " failed: " << e.message();
                                  return self->terminate({});
                                }
                                self->wait_read();
                              });
    } else {
      wait_read();
    }
  }

  void shutdown() override {
    if (session_) session_->shutdown();
    close("router shutting down");
  }

  // transport
  void send_frame(std::string_view bytes) override {
    if (!writable(bytes.size())) return;
    rawsocket::append_frame(out_, rawsocket::frame_type::message, bytes);
    schedule_write();
  }

  void send(const message& m, const codec& c) override {
    if (dead_ || closing_) return;
    // Encode straight after a header placeholder, then fill the header in: no second copy.
    const std::size_t start = out_.size();
    out_.append(4, '\0');
    c.encode(m, out_);
    const std::size_t length = out_.size() - start - 4;
    if (!writable(length)) {
      out_.resize(start);
      return;
    }
    const auto header = rawsocket::frame_header(rawsocket::frame_type::message, length);
    std::copy(header.begin(), header.end(), out_.begin() + static_cast<std::ptrdiff_t>(start));
    schedule_write();
  }

  void send_shared(const shared_message& m, const codec& c) override { send_frame(m.encoded(c)); }

  void keepalive_ping() override {
    if (!reader_ || !writable(0)) return;  // not before the handshake
    rawsocket::append_frame(out_, rawsocket::frame_type::ping, {});
    schedule_write();
  }

  void keepalive_expired(std::chrono::milliseconds timeout) override {
    JLOG(info) << "closing RawSocket connection from " << remote_
               << ": no answer to the keepalive PING within " << timeout.count() << " ms";
    terminate("keepalive timeout");
  }

  void close(std::string_view reason) override {
    if (dead_ || closing_) return;
    JLOG(debug) << "closing RawSocket connection from " << remote_ << ": " << reason;
    closing_ = true;
    if (out_.empty() && !writing_) terminate({});
  }

  [[nodiscard]] std::string_view remote() const noexcept override { return remote_; }

 private:
  // A message the peer cannot take (over its announced limit) or a peer that stopped reading
  // ends the connection with a log line rather than silently losing the message.
  bool writable(std::size_t length) {
    if (dead_ || closing_) return false;
    if (length > peer_limit_) {
      JLOG(warn) << "closing RawSocket connection from " << remote_ << ": an outgoing message of "
                 << length << " bytes exceeds the client's limit of " << peer_limit_ << " bytes";
      close("outgoing message over the client's limit");
      return false;
    }
    if (out_.size() + length > max_outbound_bytes) {
      JLOG(warn) << "closing RawSocket connection from " << remote_ << ": slow consumer ("
                 << out_.size() << " bytes queued)";
      terminate("slow consumer");
      return false;
    }
    return true;
  }

  void wait_read() {
    if constexpr (tls) {
      // Readable bytes on the socket are not readable plaintext: read through the TLS stream,
      // into a buffer of this connection's own (allocated once, for TLS connections only).
      if (!tls_buffer_) tls_buffer_ = std::make_unique<char[]>(tls_buffer_size);
      socket_.async_read_some(
          asio::buffer(tls_buffer_.get(), tls_buffer_size),
          [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
            self->on_read(ec, n);
          });
    } else {
      socket_.async_wait(Socket::wait_read,
                         [self = this->shared_from_this()](const boost::system::error_code& ec) {
                           self->on_readable(ec);
                         });
    }
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (dead_) return;
    if (ec) return terminate(ec == asio::error::eof ? "closed by the peer" : ec.message());
    keepalive_heard(keepalive_);
    consume(std::string_view(tls_buffer_.get(), n));
    if (!dead_ && !closing_) wait_read();
  }

  void on_readable(const boost::system::error_code& ec) {
    if constexpr (!tls) {
    if (dead_) return;
    if (ec) return terminate(ec == asio::error::operation_aborted ? "" : ec.message());
    boost::system::error_code rec;
    const std::size_t n =
        socket_.read_some(asio::buffer(shared_read_buffer(), shared_read_buffer_size), rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) return wait_read();
    if (rec) return terminate(rec == asio::error::eof ? "closed by the peer" : rec.message());
    keepalive_heard(keepalive_);
    consume(std::string_view(shared_read_buffer(), n));
    if (!dead_ && !closing_) wait_read();
    }
  }

  void consume(std::string_view data) {
    if (!reader_) {
      while (handshake_bytes_ < handshake_.size() && !data.empty()) {
        handshake_[handshake_bytes_++] = static_cast<std::uint8_t>(data.front());
        data.remove_prefix(1);
      }
      if (handshake_bytes_ < handshake_.size()) return;
      if (!on_handshake()) return;
    }
    auto error = reader_->feed(data, [this](rawsocket::frame_type type, std::string_view payload) {
      on_frame(type, payload);
    });
    if (error) {
      JLOG(warn) << "closing RawSocket connection from " << remote_ << ": " << *error;
      terminate({});
    }
  }

  bool on_handshake() {
    std::optional<rawsocket::handshake_error> reply_with;
    const auto hello = rawsocket::parse_handshake(handshake_, reply_with);
    if (!hello) {
      if (!reply_with) {
        JLOG(info) << "closing connection from " << remote_ << ": " << hello.error().message;
        terminate({});
        return false;
      }
      return refuse(*reply_with, hello.error().message);
    }
    if (over_limit_) return refuse(rawsocket::handshake_error::max_connections, "connection limit");
    peer_limit_ = hello->max_length;
    const codec& c = codec_for(hello->ser);
    const auto reply = rawsocket::handshake_reply(hello->ser, limit_);
    out_.append(reinterpret_cast<const char*>(reply.data()), reply.size());
    schedule_write();
    reader_.emplace(limit_);
    session_ = std::make_shared<session>(owner_, *this, c);
    JLOG(debug) << "RawSocket connection from " << remote_ << " ("
                << (hello->ser == serializer::json ? "json" : "msgpack") << ")";
    return true;
  }

  bool refuse(rawsocket::handshake_error e, const std::string& what) {
    JLOG(info) << "refused RawSocket connection from " << remote_ << ": " << what << " (replied "
               << rawsocket::describe(e) << ")";
    const auto reply = rawsocket::handshake_error_reply(e);
    out_.append(reinterpret_cast<const char*>(reply.data()), reply.size());
    schedule_write();
    closing_ = true;
    return false;
  }

  void on_frame(rawsocket::frame_type type, std::string_view payload) {
    if (dead_ || closing_) return;
    switch (type) {
      case rawsocket::frame_type::message:
        session_->on_frame(payload);
        break;
      case rawsocket::frame_type::ping:  // answered with the same payload
        if (writable(payload.size())) {
          rawsocket::append_frame(out_, rawsocket::frame_type::pong, payload);
          schedule_write();
        }
        break;
      case rawsocket::frame_type::pong:
        break;
    }
  }

  // Frames queued during this turn of the event loop leave together in one write.
  void schedule_write() {
    if (write_scheduled_ || writing_) return;
    write_scheduled_ = true;
    asio::post(socket_.get_executor(), [self = this->shared_from_this()] { self->do_write(); });
  }

  void do_write() {
    write_scheduled_ = false;
    if (dead_) return;
    if (out_.empty()) {
      if (closing_) terminate({});
      return;
    }
    in_flight_.swap(out_);
    writing_ = true;
    asio::async_write(socket_, asio::buffer(in_flight_),
                      [self = this->shared_from_this()](const boost::system::error_code& ec,
                                                        std::size_t) { self->on_written(ec); });
  }

  void on_written(const boost::system::error_code& ec) {
    writing_ = false;
    in_flight_.clear();
    if (in_flight_.capacity() > 64 * 1024) std::string().swap(in_flight_);  // after a burst
    if (dead_) return;
    if (ec) return terminate(ec.message());
    do_write();
  }

  // The end of the connection, whoever caused it; runs once.
  void terminate(const std::string& why) {
    if (dead_) return;
    dead_ = true;
    if (!why.empty()) JLOG(debug) << "RawSocket connection from " << remote_ << " ended: " << why;
    auto self = this->shared_from_this();
    if (session_) session_->on_transport_closed();
    boost::system::error_code ec;
    socket_.lowest_layer().shutdown(asio::socket_base::shutdown_both, ec);
    socket_.lowest_layer().close(ec);
    forget_(this);
  }

  socket_type socket_;
  router& owner_;
  std::size_t limit_;                       // longest frame we accept
  std::size_t peer_limit_ = rawsocket_ceiling;  // longest frame the client accepts
  std::string remote_;
  bool over_limit_;
  forget_fn forget_;
  std::array<std::uint8_t, 4> handshake_{};
  std::size_t handshake_bytes_ = 0;
  std::optional<rawsocket::frame_reader> reader_;  // after a valid handshake
  std::shared_ptr<session> session_;
  std::string out_;        // frames waiting for the next write
  std::string in_flight_;  // frames being written
  static constexpr std::size_t tls_buffer_size = 16 * 1024;  // one TLS record
  std::unique_ptr<char[]> tls_buffer_;
  std::unique_ptr<asio::steady_timer> handshake_timer_;  // TLS: until the handshake completes
  bool write_scheduled_ = false;
  bool writing_ = false;
  bool closing_ = false;  // flush what is queued, then end
  bool dead_ = false;
};

}  // namespace

struct rawsocket_listener::impl {
  impl(asio::io_context& io, router& owner, const listener_config& config)
      : io_(io),
        owner_(owner),
        config_(config),
        sweep_timer_(io),
        tls_(config.tls.enabled() ? make_server_tls_context(config.tls) : nullptr) {}

  void schedule_sweep() {
    if (!config_.keepalive.enabled() || !config_.rawsocket_pings) return;
    sweep_timer_.expires_after(config_.keepalive.sweep_period());
    sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      const auto now = keepalive_clock::now();
      std::vector<std::shared_ptr<rs_connection_base>> expired;
      for (auto& [raw, conn] : connections_) {
        switch (keepalive_sweep(conn->keepalive(), now, config_.keepalive)) {
          case keepalive_action::ping: conn->keepalive_ping(); break;
          case keepalive_action::expire: expired.push_back(conn); break;
          case keepalive_action::none: break;
        }
      }
      for (auto& conn : expired) conn->keepalive_expired(config_.keepalive.timeout);
      schedule_sweep();
    });
  }

  template <class Acceptor>
  void accept(Acceptor& acceptor) {
    acceptor.async_accept([this, &acceptor](const boost::system::error_code& ec,
                                            typename Acceptor::protocol_type::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors, typically: say so, and keep accepting (retrying after a pause
        // would be kinder to a loaded box; the connection that failed is gone either way).
        JLOG(warn) << "accept on " << url() << " failed: " << ec.message();
      } else {
        on_accepted(std::move(socket));
      }
      accept(acceptor);
    });
  }

  template <class Socket>
  void on_accepted(Socket socket) {
    using protocol = typename Socket::protocol_type;
    std::string remote = "unix";
    if constexpr (std::is_same_v<protocol, asio::ip::tcp>) {
      boost::system::error_code ec;
      socket.set_option(asio::ip::tcp::no_delay(true), ec);
      if (!config_.rawsocket_pings) enable_tcp_keepalive(socket.native_handle());
      const auto ep = socket.remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    const bool over_limit =
        config_.max_connections != 0 && connections_.size() >= config_.max_connections;
    auto forget = [this](rs_connection_base* c) { connections_.erase(c); };
    std::shared_ptr<rs_connection_base> conn;
    if constexpr (std::is_same_v<protocol, asio::ip::tcp>) {
      if (tls_) {
        conn = std::make_shared<rs_connection<asio::ssl::stream<asio::ip::tcp::socket>>>(
            asio::ssl::stream<asio::ip::tcp::socket>(std::move(socket), *tls_), owner_, config_,
            std::move(remote), over_limit, std::move(forget));
      }
    }
    if (!conn) {
      conn = std::make_shared<rs_connection<Socket>>(std::move(socket), owner_, config_,
                                                     std::move(remote), over_limit,
                                                     std::move(forget));
    }
    connections_.emplace(conn.get(), conn);
    conn->start();
  }

  std::string url() const { return tcp_ ? bound_url(config_, *tcp_) : config_.url(); }

  asio::io_context& io_;
  router& owner_;
  listener_config config_;
  std::optional<asio::ip::tcp::acceptor> tcp_;
  std::optional<asio::local::stream_protocol::acceptor> unix_;
  asio::steady_timer sweep_timer_;
  std::shared_ptr<asio::ssl::context> tls_;  // rss:// listeners
  // Open connections, for stop(); each removes itself when it ends.
  std::unordered_map<rs_connection_base*, std::shared_ptr<rs_connection_base>> connections_;
};

rawsocket_listener::rawsocket_listener(asio::io_context& io, router& owner,
                                       const listener_config& config)
    : impl_(std::make_unique<impl>(io, owner, config)) {}

rawsocket_listener::~rawsocket_listener() {
  if (impl_->unix_) ::unlink(impl_->config_.unix_path.c_str());
}

void rawsocket_listener::start() {
  const listener_config& c = impl_->config_;
  if (!c.unix_path.empty()) {
    // A socket file left by a previous run would make bind fail; anything else is not ours.
    struct stat st {};
    if (::lstat(c.unix_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(c.unix_path.c_str());
    auto& a = impl_->unix_.emplace(impl_->io_);
    open_acceptor(a, asio::local::stream_protocol::endpoint(c.unix_path), c);
    impl_->accept(a);
  } else {
    auto& a = impl_->tcp_.emplace(impl_->io_);
    open_acceptor(a, tcp_endpoint(c), c);
    impl_->accept(a);
  }
  JLOG(info) << "listening on " << url();
  impl_->schedule_sweep();
}

void rawsocket_listener::attach() { impl_->schedule_sweep(); }

void rawsocket_listener::adopt(int native_socket, bool ipv6) {
  asio::ip::tcp::socket socket(impl_->io_);
  boost::system::error_code ec;
  socket.assign(ipv6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), native_socket, ec);
  if (ec) {
    JLOG(warn) << "cannot take over a connection on " << url() << ": " << ec.message();
    ::close(native_socket);
    return;
  }
  impl_->on_accepted(std::move(socket));
}

void rawsocket_listener::stop() {
  boost::system::error_code ec;
  impl_->sweep_timer_.cancel();
  if (impl_->tcp_) impl_->tcp_->close(ec);
  if (impl_->unix_) impl_->unix_->close(ec);
  auto open = impl_->connections_;  // shutdown() may remove entries
  for (auto& [raw, conn] : open) conn->shutdown();
}

std::string rawsocket_listener::url() const { return impl_->url(); }

}  // namespace junction
