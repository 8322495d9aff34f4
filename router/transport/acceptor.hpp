// router/transport/acceptor.hpp — opening a listener's Asio acceptor, shared by the WebSocket, RawSocket and
// universal listeners. Includes Asio: only listener .cpp files include it.
#pragma once

#include <stdexcept>
#include <string>
#include <type_traits>

#include <boost/asio/ip/tcp.hpp>

#include "router/ops/config.hpp"

namespace junction {

// The TCP endpoint of a listener; throws when the host is not an address.
inline boost::asio::ip::tcp::endpoint tcp_endpoint(const listener_config& c) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(c.host, ec);
  if (ec) throw std::runtime_error("invalid listen address '" + c.host + "'");
  return {address, c.port};
}

// Opens, binds and listens (TCP acceptors reuse the address); throws naming the listener.
template <class Acceptor>
void open_acceptor(Acceptor& a, const typename Acceptor::endpoint_type& ep,
                   const listener_config& c) {
  boost::system::error_code ec;
  a.open(ep.protocol(), ec);
  if constexpr (std::is_same_v<typename Acceptor::protocol_type, boost::asio::ip::tcp>) {
    if (!ec) a.set_option(boost::asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + c.url() + ": " + ec.message());
}

// The listener's URL with the port the TCP acceptor really bound (port 0 picks one).
inline std::string bound_url(listener_config c, const boost::asio::ip::tcp::acceptor& a) {
  boost::system::error_code ec;
  const auto ep = a.local_endpoint(ec);
  if (!ec) c.port = ep.port();
  return c.url();
}

}  // namespace junction
