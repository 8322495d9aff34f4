#include "router/universal_listener.hpp"

#include <list>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "router/acceptor.hpp"
#include "router/log.hpp"
#include "router/rawsocket.hpp"
#include "router/rawsocket_listener.hpp"
#include "router/websocket_listener.hpp"

namespace junction {
namespace asio = boost::asio;

namespace {
// A connection that has not said its first byte within this is closed.
constexpr std::chrono::seconds first_byte_timeout{10};
}  // namespace

struct universal_listener::impl {
  // An accepted connection waiting for its first byte.
  struct pending {
    explicit pending(asio::ip::tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    asio::ip::tcp::socket socket;
    asio::steady_timer timer;
  };

  impl(asio::io_context& io, router& owner, const listener_config& config)
      : config_(config), acceptor_(io), websocket_(io, owner, config), rawsocket_(io, owner, config) {}

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        JLOG(warn) << "accept on " << url() << " failed: " << ec.message();
      } else {
        classify(std::move(s));
      }
      accept();
    });
  }

  void classify(asio::ip::tcp::socket s) {
    auto it = pending_.emplace(pending_.end(), std::move(s));
    it->timer.expires_after(first_byte_timeout);
    it->timer.async_wait([this, it](const boost::system::error_code& ec) {
      if (ec) return;  // the first byte came, or the listener stopped
      JLOG(info) << "closing a connection on " << url() << ": nothing received within "
                 << first_byte_timeout.count() << " s";
      pending_.erase(it);
    });
    it->socket.async_wait(asio::ip::tcp::socket::wait_read,
                          [this, it](const boost::system::error_code& ec) {
                            if (ec == asio::error::operation_aborted) return;
                            dispatch(it, ec);
                          });
  }

  void dispatch(std::list<pending>::iterator it, boost::system::error_code ec) {
    unsigned char first = 0;
    std::size_t n = 0;
    if (!ec) n = it->socket.receive(asio::buffer(&first, 1), asio::socket_base::message_peek, ec);
    boost::system::error_code ignore;
    it->timer.cancel(ignore);
    if (ec || n == 0) {  // closed before saying anything
      pending_.erase(it);
      return;
    }
    const bool ipv6 = it->socket.local_endpoint(ignore).address().is_v6();
    const int fd = it->socket.release(ignore);
    pending_.erase(it);
    if (ignore) return;
    if (first == rawsocket::magic) {
      rawsocket_.adopt(fd, ipv6);
    } else {
      websocket_.adopt(fd, ipv6);
    }
  }

  std::string url() const { return bound_url(config_, acceptor_); }

  listener_config config_;
  asio::ip::tcp::acceptor acceptor_;
  websocket_listener websocket_;
  rawsocket_listener rawsocket_;
  std::list<pending> pending_;  // stable iterators for the handlers
};

universal_listener::universal_listener(asio::io_context& io, router& owner,
                                       const listener_config& config)
    : impl_(std::make_unique<impl>(io, owner, config)) {}

universal_listener::~universal_listener() = default;

void universal_listener::start() {
  const listener_config& c = impl_->config_;
  open_acceptor(impl_->acceptor_, tcp_endpoint(c), c);
  impl_->websocket_.attach();
  impl_->rawsocket_.attach();
  impl_->accept();
  JLOG(info) << "listening on " << impl_->url();
}

void universal_listener::stop() {
  boost::system::error_code ec;
  impl_->acceptor_.close(ec);
  impl_->pending_.clear();
  impl_->websocket_.stop();
  impl_->rawsocket_.stop();
}

}  // namespace junction
