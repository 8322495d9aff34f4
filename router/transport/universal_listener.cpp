#include "router/transport/universal_listener.hpp"

#include <memory>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "router/transport/acceptor.hpp"
#include "router/transport/loops.hpp"
#include "router/transport/stream_connection.hpp"
#include "router/transport/tls_context.hpp"
#include "router/ops/log.hpp"
#include "router/transport/rawsocket.hpp"
#include "router/transport/rawsocket_listener.hpp"
#include "router/transport/websocket_listener.hpp"

namespace junction {
namespace asio = boost::asio;

struct universal_listener::impl {
  // An accepted connection waiting for its first byte. Two completions race for it — the first
  // byte and the first-byte timeout — and both may already be queued when the first runs
  // (canceling a timer does not recall a handler that completed). The first to run takes it
  // (`taken`); the other finds it taken and does nothing. Each handler holds the entry.
  struct pending {
    explicit pending(asio::ip::tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    asio::ip::tcp::socket socket;
    asio::steady_timer timer;
    bool taken = false;
  };
  using pending_ptr = std::shared_ptr<pending>;

  // With TLS: a connection through its TLS handshake and its first plaintext bytes, which say
  // which protocol it speaks. The same race as above (the read, the handshake timeout).
  struct tls_pending {
    tls_pending(asio::ip::tcp::socket s, asio::ssl::context& ctx)
        : stream(std::move(s), ctx), timer(stream.get_executor()) {}
    asio::ssl::stream<asio::ip::tcp::socket> stream;
    asio::steady_timer timer;
    std::string remote;
    std::array<char, 4096> first{};  // the first plaintext (a WebSocket request head, a RawSocket handshake)
    bool taken = false;
  };
  using tls_pending_ptr = std::shared_ptr<tls_pending>;

  // The first byte (and TLS) is read on loop 0; adopt() then hands the connection to the next
  // loop (a TLS connection stays on loop 0).
  impl(loop_set& loops, router& owner, const listener_config& config)
      : config_(config),
        acceptor_(loops.main()),
        websocket_(loops, owner, config),
        rawsocket_(loops, owner, config),
        tls_(config.tls.enabled() ? make_server_tls_context(config.tls) : nullptr) {}

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (!acceptor_.is_open()) return;
      if (ec) {
        JLOG(warn) << "accept failed: " << ec.message() << log_field("listener", url());
      } else {
        metrics::io().accept(metrics::listener_kind::universal);
        classify(std::move(s));
      }
      accept();
    });
  }

  void classify(asio::ip::tcp::socket s) {
    auto p = std::make_shared<pending>(std::move(s));
    pending_.emplace(p.get(), p);
    p->timer.expires_after(config_.handshake_timeout);
    p->timer.async_wait([this, p](const boost::system::error_code& ec) {
      if (ec || !take(*p)) return;  // the first byte came first, or the listener stopped
      boost::system::error_code ignore;
      const auto peer = p->socket.remote_endpoint(ignore);
      JLOG(info) << "closing a connection: nothing received within "
                 << config_.handshake_timeout.count() << " ms" << log_field("listener", url())
                 << log_field("peer", peer.address().to_string() + ":" + std::to_string(peer.port()));
      metrics::io().refuse(metrics::refusal::timeout);
      p->socket.close(ignore);
    });
    p->socket.async_wait(asio::ip::tcp::socket::wait_read,
                         [this, p](const boost::system::error_code& ec) {
                           if (ec == asio::error::operation_aborted || !take(*p)) return;
                           dispatch(*p, ec);
                         });
  }

  // The entry's first completion takes it out of the waiting set; a later one gets false.
  bool take(pending& p) {
    if (p.taken) return false;
    p.taken = true;
    boost::system::error_code ignore;
    p.timer.cancel(ignore);
    pending_.erase(&p);
    return true;
  }

  void dispatch(pending& p, boost::system::error_code ec) {
    unsigned char first = 0;
    std::size_t n = 0;
    if (!ec) n = p.socket.receive(asio::buffer(&first, 1), asio::socket_base::message_peek, ec);
    boost::system::error_code ignore;
    if (ec || n == 0) {  // closed before saying anything
      p.socket.close(ignore);
      return;
    }
    if (tls_) {
      // TLS first, always: a TLS record starts with 0x16 (handshake). Plaintext on a TLS port
      // would bypass what TLS promises, so it is refused.
      if (first != 0x16) {
        JLOG(info) << "closing a connection: plaintext on a TLS port" << log_field("listener", url())
                   << log_field("peer", stream::prepare_tcp(p.socket));
        metrics::io().refuse(metrics::refusal::tls);
        p.socket.close(ignore);
        return;
      }
      start_tls(std::move(p.socket));
      return;
    }
    const bool ipv6 = p.socket.local_endpoint(ignore).address().is_v6();
    const int fd = p.socket.release(ignore);
    if (ignore) return;
    if (first == rawsocket::magic) {
      rawsocket_.adopt(fd, ipv6);
    } else {
      websocket_.adopt(fd, ipv6);
    }
  }

  void start_tls(asio::ip::tcp::socket socket) {
    auto t = std::make_shared<tls_pending>(std::move(socket), *tls_);
    t->remote = stream::prepare_tcp(t->stream.next_layer());
    tls_pending_.emplace(t.get(), t);
    // One deadline for the whole classification (the first byte already came in time).
    t->timer.expires_after(config_.handshake_timeout);
    t->timer.async_wait([this, t](const boost::system::error_code& ec) {
      if (ec || !take_tls(*t)) return;
      JLOG(info) << "closing a connection: TLS handshake and first message not done within "
                 << config_.handshake_timeout.count() << " ms" << log_field("listener", url())
                 << log_field("peer", t->remote);
      metrics::io().refuse(metrics::refusal::timeout);
      boost::system::error_code ignore;
      t->stream.lowest_layer().close(ignore);
    });
    t->stream.async_handshake(asio::ssl::stream_base::server, [this, t](const boost::system::error_code& ec) {
      if (t->taken) return;
      if (ec) {
        if (!take_tls(*t)) return;
        JLOG(info) << "TLS handshake failed: " << ec.message() << log_field("listener", url())
                   << log_field("peer", t->remote);
        metrics::io().refuse(metrics::refusal::tls);
        boost::system::error_code ignore;
        t->stream.lowest_layer().close(ignore);
        return;
      }
      t->stream.async_read_some(asio::buffer(t->first), [this, t](const boost::system::error_code& rec, std::size_t n) {
        if (!take_tls(*t)) return;
        boost::system::error_code ignore;
        if (rec || n == 0) {  // closed after the handshake, before saying anything
          t->stream.lowest_layer().close(ignore);
          return;
        }
        stream::tls_handover h{std::move(t->stream), std::move(t->remote), std::string(t->first.data(), n)};
        if (static_cast<unsigned char>(h.initial[0]) == rawsocket::magic) {
          rawsocket_.adopt_tls(std::move(h));
        } else {
          websocket_.adopt_tls(std::move(h));
        }
      });
    });
  }

  bool take_tls(tls_pending& t) {
    if (t.taken) return false;
    t.taken = true;
    boost::system::error_code ignore;
    t.timer.cancel(ignore);
    tls_pending_.erase(&t);
    return true;
  }

  // Stops waiting for every first byte: the handlers still queued find their entries taken.
  void stop_waiting() {
    auto waiting = std::move(pending_);
    pending_.clear();
    for (auto& [raw, p] : waiting) {
      p->taken = true;
      boost::system::error_code ignore;
      p->timer.cancel(ignore);
      p->socket.close(ignore);
    }
    auto handshaking = std::move(tls_pending_);
    tls_pending_.clear();
    for (auto& [raw, t] : handshaking) {
      t->taken = true;
      boost::system::error_code ignore;
      t->timer.cancel(ignore);
      t->stream.lowest_layer().close(ignore);
    }
  }

  std::string url() const { return bound_url(config_, acceptor_); }

  listener_config config_;
  asio::ip::tcp::acceptor acceptor_;
  websocket_listener websocket_;
  rawsocket_listener rawsocket_;
  std::shared_ptr<asio::ssl::context> tls_;            // TLS first on this port (tls section)
  std::unordered_map<pending*, pending_ptr> pending_;  // waiting for their first byte
  std::unordered_map<tls_pending*, tls_pending_ptr> tls_pending_;  // in TLS, before their first message
};

universal_listener::universal_listener(loop_set& loops, router& owner,
                                       const listener_config& config)
    : impl_(std::make_unique<impl>(loops, owner, config)) {}

universal_listener::~universal_listener() = default;

void universal_listener::start() {
  const listener_config& c = impl_->config_;
  open_acceptor(impl_->acceptor_, tcp_endpoint(c), c);
  impl_->websocket_.attach();
  impl_->rawsocket_.attach();
  impl_->accept();
  JLOG(info) << "listening on " << impl_->url() << (c.tls.enabled() ? " (TLS: WebSocket and RawSocket over TLS)" : "");
}

void universal_listener::stop_accepting() {
  boost::system::error_code ec;
  impl_->acceptor_.close(ec);
  impl_->stop_waiting();
}

void universal_listener::stop() {
  stop_accepting();
  impl_->websocket_.stop();
  impl_->rawsocket_.stop();
}

void universal_listener::reconfigure(const listener_config& config) {
  auto tls = config.tls.enabled() ? make_server_tls_context(config.tls) : nullptr;  // may throw
  impl_->websocket_.reconfigure(config);  // may throw: nothing changed yet
  impl_->rawsocket_.reconfigure(config);
  impl_->tls_ = std::move(tls);
  boost::system::error_code ec;
  const auto ep = impl_->acceptor_.local_endpoint(ec);
  impl_->config_ = config;
  if (!ec) impl_->config_.port = ep.port();
}

std::string universal_listener::url() const { return impl_->url(); }

metrics::listener_view universal_listener::view() const {
  const auto ws = impl_->websocket_.view();
  const auto rs = impl_->rawsocket_.view();
  return {metrics::listener_kind::universal, ws.open + rs.open + impl_->pending_.size() + impl_->tls_pending_.size(),
          ws.queued_bytes + rs.queued_bytes};
}

}  // namespace junction
