// router/transport/stream_connection.hpp — what the WebSocket and RawSocket listeners share: a connection on
// a byte stream (TCP, Unix, TLS over TCP) that reads and writes, and the listener's set of open
// connections with its keepalive sweep. The protocols (router/transport/websocket.hpp, router/transport/rawsocket.hpp)
// sit on top. Includes Asio: only listener .cpp files include this header.
//
// Reads: a connection waits for readability without owning a buffer, then reads into one buffer
// shared by the whole thread, so an idle connection holds no read buffer (µWebSockets does the
// same). TLS connections read through their stream into a buffer of their own.
// Writes: bytes queued during one turn of the event loop go out in one write; the protocol appends
// straight into out_ (a frame header, then the message encoded in place).
#pragma once

#include <array>
#include <atomic>
#include <mutex>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "router/ops/config.hpp"
#include "router/transport/keepalive.hpp"
#include "router/transport/loops.hpp"
#include "router/transport/tls_context.hpp"
#include "router/ops/log.hpp"
#include "router/ops/metrics.hpp"
#include "router/transport/transport.hpp"

namespace junction::stream {
namespace asio = boost::asio;


inline char* shared_read_buffer() {
  thread_local std::array<char, 64 * 1024> buffer;
  return buffer.data();
}
inline constexpr std::size_t shared_read_buffer_size = 64 * 1024;

// The kernel probes an idle peer (30 s idle, then every 10 s, 3 tries) and the read fails when
// the peer's host is gone: dead-peer detection that needs nothing from the client.
inline void enable_tcp_keepalive(int fd) {
  const int on = 1, idle = 30, interval = 10, count = 3;
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

// Flow control (docs/OPERATIONS.md, "Slow consumers and floods"). A connection is congested when
// more than half of max_outbound_bytes waits to be written, and drained again at a quarter:
//   - reading from a congested connection pauses (its client sends requests but does not read
//     the answers) until it drains;
//   - the connection whose message put an INVOCATION (or, in a disconnect realm, an EVENT) into
//     a congested connection's queue pauses too (throttle_sender), until that one drains or ends:
//     a caller or publisher goes at the pace of its slowest reading receiver instead of piling
//     messages up in the router;
//   - a congested connection that has not completed a write for slow_consumer_timeout_ms is
//     stalled: closed as a slow consumer (and whoever waited on it reads again);
//   - past max_outbound_bytes a connection is closed as a slow consumer at once (one message
//     larger than the limit still goes to a connection with nothing queued).
// In a drop-events realm EVENTs to a congested subscriber are skipped instead (router/session.cpp).
// What a listener needs from a connection of any protocol and socket family.
class connection : public transport {
 public:
  virtual void start() = 0;
  virtual void shutdown() = 0;  // router stopping: GOODBYE to the session, then close
  // The listener's keepalive sweep: ping the idle, end the silent.
  virtual void keepalive_ping() = 0;
  virtual void keepalive_expired(std::chrono::milliseconds timeout) = 0;
  keepalive_state& keepalive() noexcept { return keepalive_; }
  // Bytes queued or being written (the outbound-queue gauge).
  [[nodiscard]] virtual std::size_t queued() const noexcept = 0;
  // The sweep, on the connection's loop: an empty outgoing buffer that kept its capacity (the
  // WELCOME's, a burst's) and saw no write since the last sweep is given back, so an idle
  // session holds no write buffer (docs/PERFORMANCE.md, "Idle sessions"). A busy connection
  // keeps its buffers: reusing them is what keeps its writes free of allocation.
  [[nodiscard]] virtual bool holds_idle_buffer() const noexcept = 0;
  virtual void release_idle_buffer() noexcept = 0;
  // The same, as the connection's own thread last saw it (any thread: the scrape).
  [[nodiscard]] virtual std::size_t queued_estimate() const noexcept = 0;

 protected:
  keepalive_state keepalive_;
};

using forget_fn = std::function<void(connection*)>;

// A TLS connection a universal port has already taken through its TLS handshake and whose first
// plaintext bytes it has read (they told it which protocol it speaks): handed to that protocol's
// listener (adopt_tls), which starts the connection from there.
struct tls_handover {
  asio::ssl::stream<asio::ip::tcp::socket> stream;
  std::string remote;
  std::string initial;  // plaintext already read, fed to the protocol first
};

template <class T>
struct is_tls_stream : std::false_type {};
template <class S>
struct is_tls_stream<asio::ssl::stream<S>> : std::true_type {};

// Socket: a TCP or Unix stream socket, or a TLS stream over a TCP socket. The protocol derives
// and implements on_bytes/on_end; it writes by appending to out_ (after queue_ok) and calling
// schedule_write().
template <class Socket>
class stream_connection : public connection,
                          public std::enable_shared_from_this<stream_connection<Socket>> {
 public:
  static constexpr bool tls = is_tls_stream<Socket>::value;

  // kind: "WebSocket" or "RawSocket", for logs. A connection that has not finished its
  // handshakes (TLS, then the protocol's) within `handshake_timeout` is closed.
  // A peer that lets more than `max_outbound` bytes queue up is closed as a slow consumer
  // (DESIGN.md §3: bounded, and never a silent drop).
  // `slots`: the listener's authentication slots (they outlive the connection, as its set).
  stream_connection(Socket socket, std::string remote, forget_fn forget, const char* kind,
                    std::chrono::milliseconds handshake_timeout, std::size_t max_outbound,
                    auth_slots* slots, std::chrono::milliseconds stall_timeout = std::chrono::milliseconds{2000},
                    std::size_t event_backlog = 65536)
      : socket_(std::move(socket)), remote_(std::move(remote)), forget_(std::move(forget)),
        kind_(kind), handshake_timeout_(handshake_timeout), max_outbound_(max_outbound),
        slots_(slots), stall_timeout_(stall_timeout), event_backlog_(event_backlog) {}

  auth_slots* authenticating() noexcept override { return slots_; }

  [[nodiscard]] std::size_t queued() const noexcept override { return out_.size() + in_flight_.size(); }
  [[nodiscard]] bool congested() const noexcept override { return queued() > max_outbound_ / 2; }
  [[nodiscard]] bool backlogged() const noexcept override { return queued() > event_backlog_; }
  [[nodiscard]] std::size_t queued_estimate() const noexcept override {
    return queued_seen_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] bool congested_estimate(std::size_t in_transit) const noexcept override {
    return queued_seen_.load(std::memory_order_relaxed) + in_transit > max_outbound_ / 2;
  }
  [[nodiscard]] bool backlogged_estimate(std::size_t in_transit) const noexcept override {
    return queued_seen_.load(std::memory_order_relaxed) + in_transit > event_backlog_;
  }
  [[nodiscard]] bool over_outbound_estimate(std::size_t in_transit, std::size_t length) const noexcept override {
    return over_outbound(queued_seen_.load(std::memory_order_relaxed) + in_transit, length);
  }
  void close_slow_consumer() override {
    if (dead_) return;
    JLOG(warn) << "closing " << kind_ << " connection: slow consumer (more than " << max_outbound_
               << " bytes queued or on their way)" << log_field("peer", remote_);
    metrics::io().close(metrics::close_reason::slow_consumer);
    terminate("slow consumer");
  }
  void on_own_loop(std::function<void()> fn) override { asio::dispatch(socket_.get_executor(), std::move(fn)); }
  void add_waiter(const std::weak_ptr<transport>& sender) override {
    if (!dead_ && congested()) {
      watch_stall();
      if (!sender.expired()) waiters_.push_back(sender);
    } else if (auto s = sender.lock()) {
      s->on_own_loop([s] { s->resume_reading(); });
    }
  }

  void pause_reading() override {
    if (paused_ || dead_) return;
    paused_ = true;
    metrics::io().reads_paused.add();
  }
  void resume_reading() override {
    if (!paused_ || dead_ || queued() > max_outbound_ / 4) return;  // its own drain resumes it
    paused_ = false;
    if (!read_armed_ && keep_reading()) wait_read();
  }
  [[nodiscard]] bool read_paused() const noexcept override { return paused_; }
  [[nodiscard]] std::weak_ptr<transport> weak_transport() override {
    return std::weak_ptr<transport>(this->shared_from_this());
  }

  // TLS channel bindings and the verified client certificate (auth/authenticator.hpp).
  void describe_tls(auth::client_facts& f) const override {
    if constexpr (tls) describe_tls_session(const_cast<Socket&>(socket_).native_handle(), f);
  }

  // For a connection handed over by a universal TLS port: its TLS handshake is done and
  // `initial` is the plaintext read so far. Call before start().
  void handed_over(std::string initial) {
    tls_established_ = true;
    initial_ = std::move(initial);
  }

  void start() override {
    boost::system::error_code ec;
    socket_.lowest_layer().non_blocking(true, ec);
    handshake_timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
    arm_handshake_timer();
    if constexpr (tls) {
      if (tls_established_) {
        // The universal port did the TLS handshake and read the first bytes: they come first,
        // in a handler of their own, as if just read.
        asio::post(socket_.get_executor(), [self = this->shared_from_this()] {
          if (self->dead_) return;
          std::string initial = std::move(self->initial_);
          keepalive_heard(self->keepalive_);
          metrics::io().bytes_in.add(initial.size());
          self->on_bytes(initial.data(), initial.size());
          if (self->keep_reading()) self->wait_read();
        });
        return;
      }
      socket_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](const boost::system::error_code& e) {
                                if (self->dead_) return;
                                if (e) {
                                  JLOG(info) << "TLS handshake failed: " << e.message()
                                             << log_field("peer", self->remote_);
                                  metrics::io().refuse(metrics::refusal::tls);
                                  return self->terminate({});
                                }
                                self->wait_read();
                              });
    } else {
      wait_read();
    }
  }

  [[nodiscard]] std::string_view remote() const noexcept override { return remote_; }

 protected:
  // Bytes arrived (mutable: a protocol may unmask in place). Called while reading, including
  // while a lingering close waits for the peer.
  virtual void on_bytes(char* data, std::size_t size) = 0;
  // The connection ended, whoever ended it; called once, in a handler of its own after the
  // socket closed (see terminate).
  virtual void on_end() = 0;

  // (Re)starts the handshake timeout: at the start, and after each HTTP response on a kept-alive
  // connection (its next request, or the upgrade, has as long again).
  void arm_handshake_timer() {
    if (!handshake_timer_) return;
    handshake_timer_->expires_after(handshake_timeout_);
    handshake_timer_->async_wait([self = this->shared_from_this(), armed = ++handshake_armed_](
                                     const boost::system::error_code& e) {
      if (e || self->dead_ || !self->handshake_timer_ || armed != self->handshake_armed_) return;
      JLOG(info) << "closing " << self->kind_ << " connection: handshake not completed within "
                 << self->handshake_timeout_.count() << " ms (or, kept alive, no next HTTP request)"
                 << log_field("peer", self->remote_);
      metrics::io().refuse(metrics::refusal::timeout);
      self->terminate({});
    });
  }

  // The connection's own loop, for work posted to it.
  [[nodiscard]] auto loop_executor() { return socket_.get_executor(); }

  // Stops the handshake timeout until the next arm_handshake_timer().
  void pause_handshake_timer() {
    if (!handshake_timer_) return;
    ++handshake_armed_;
    handshake_timer_->cancel();
  }

  // The protocol's handshake is done: the handshake deadline no longer applies.
  void handshake_done() {
    if (!handshake_timer_) return;
    handshake_timer_->cancel();
    handshake_timer_.reset();
  }

  // Whether `length` more bytes may be queued: not after the end or a close, and not past the
  // slow-consumer cap (which ends the connection with a log line).
  bool queue_ok(std::size_t length) {
    if (dead_ || closing_) return false;
    if (over_outbound(queued(), length)) {
      JLOG(warn) << "closing " << kind_ << " connection: slow consumer (more than " << max_outbound_
                 << " bytes queued)" << log_field("peer", remote_);
      metrics::io().close(metrics::close_reason::slow_consumer);
      terminate("slow consumer");
      return false;
    }
    return true;
  }

  // Whether a message of `length` bytes on top of `already` queued ones passes max_outbound
  // (a message larger than the limit still goes to a connection with nothing queued).
  [[nodiscard]] bool over_outbound(std::size_t already, std::size_t length) const noexcept {
    return already > 0 && already + length > max_outbound_;
  }
  // Bytes queued before `out_` grew to `start` (for protocols that encode in place).
  [[nodiscard]] std::size_t queued_before(std::size_t start) const noexcept { return in_flight_.size() + start; }

  // A message was queued here for the connection being read: if this one is congested, that
  // one stops reading until this one drains or ends (and this one's stall clock runs).
  void throttle_sender() override {
    if (!congested()) return;
    watch_stall();
    transport* from = reading_now;
    if (from == nullptr || from == this || from->read_paused()) return;
    from->pause_reading();
    waiters_.push_back(from->weak_transport());
  }

  // Bytes queued during this round of the event loop leave together in one write, with the
  // writes of every other connection of this loop (write_batch).
  void schedule_write() {
    queued_seen_.store(queued(), std::memory_order_relaxed);
    if (write_scheduled_ || writing_ || dead_) return;
    write_scheduled_ = true;
    if (write_batch::defer(this->weak_from_this()))
      asio::post(socket_.get_executor(), [] { write_batch::flush(); });
  }

 public:
  void write_queued() override {
    if (write_scheduled_) do_write();
  }

 protected:

  // Ends the connection once what is queued is written. With a linger, reading goes on after
  // that (bytes still reach on_bytes) until the peer closes, the protocol calls terminate, or
  // the linger passes: WebSocket's closing handshake waits for the peer's close frame so that
  // the peer has read ours before the TCP connection goes (RFC 6455 §7.1.1).
  void finish(std::chrono::milliseconds linger = std::chrono::milliseconds{0}) {
    if (dead_ || closing_) return;
    closing_ = true;
    linger_ = linger;
    if (out_.empty() && !writing_ && !write_scheduled_) flushed();
  }

  // The end of the connection; runs once. The connection is dead at once (nothing more is
  // queued, written or read) and its socket closes, but the protocol hears of it (on_end: the
  // session leaves its realm) in a handler of its own: terminate may run inside a send — a
  // message over the client's limit, a slow consumer — and a send must never re-enter the
  // session or the realm that is sending (docs/THREADING.md, "Run to completion").
  void terminate(const std::string& why) {
    if (dead_) return;
    dead_ = true;
    if (!why.empty()) JLOG(debug) << kind_ << " connection from " << remote_ << " ended: " << why;
    auto self = this->shared_from_this();
    handshake_timer_.reset();
    linger_timer_.reset();
    if (stall_timer_) stall_timer_->cancel();
    boost::system::error_code ec;
    socket_.lowest_layer().shutdown(asio::socket_base::shutdown_both, ec);
    socket_.lowest_layer().close(ec);
    release_waiters();
    forget_(this);
    asio::post(socket_.get_executor(), [self] { self->on_end(); });
  }

  [[nodiscard]] bool holds_idle_buffer() const noexcept override {
    return !writing_ && !write_scheduled_ && out_.empty() && in_flight_.empty() &&
           out_.capacity() + in_flight_.capacity() > 2 * std::string().capacity();
  }
  void release_idle_buffer() noexcept override {
    if (writes_done_ == writes_at_sweep_ && holds_idle_buffer()) {
      std::string().swap(out_);
      std::string().swap(in_flight_);
    }
    writes_at_sweep_ = writes_done_;
  }

  [[nodiscard]] bool dead() const noexcept { return dead_; }
  [[nodiscard]] bool closing() const noexcept { return closing_; }
  [[nodiscard]] std::size_t max_outbound() const noexcept { return max_outbound_; }

  std::string out_;  // bytes waiting for the next write

 private:
  // Senders paused on this connection (throttle_sender) read again.
  void release_waiters() {
    if (waiters_.empty()) return;
    auto waiting = std::move(waiters_);
    waiters_.clear();
    for (auto& w : waiting)  // each on its own loop (another thread's, with several)
      if (auto c = w.lock()) c->on_own_loop([c] { c->resume_reading(); });
  }

  // Whether reading should pause after the bytes just handled: this connection's own queue is
  // congested (its client is not reading), or a receiver it sent to is (throttle_sender).
  bool pause_after_bytes() {
    if (!paused_ && congested()) {
      pause_reading();
      watch_stall();
    }
    return paused_;
  }

  // From congestion until drained (a quarter of max_outbound): a connection that completes no
  // write within the stall timeout is closed, and whoever waited on it reads again.
  void watch_stall() {
    if (stall_watch_ || dead_ || stall_timeout_.count() <= 0) return;
    if (!stall_timer_) stall_timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
    stall_watch_ = true;
    const std::uint64_t writes = writes_done_;
    stall_timer_->expires_after(stall_timeout_);
    stall_timer_->async_wait([self = this->shared_from_this(), writes](const boost::system::error_code& e) {
      self->stall_watch_ = false;
      if (e || self->dead_) return;
      if (self->writes_done_ != writes) return self->watch_stall();  // slow, but reading
      // Drained, with nothing on its way: the watch ends. A write still pending after no
      // progress for the whole timeout is a stalled client, however little it holds (a partial
      // direct write can leave a small remainder that never completes).
      if (!self->writing_ && self->queued() <= self->max_outbound_ / 4) return;
      JLOG(warn) << "closing " << self->kind_ << " connection: slow consumer (" << self->queued()
                 << " bytes queued and nothing written for " << self->stall_timeout_.count() << " ms)"
                 << log_field("peer", self->remote_);
      metrics::io().close(metrics::close_reason::slow_consumer);
      self->terminate("slow consumer (stalled)");
    });
  }

  // Hands bytes to the protocol with reading_now set (flow control).
  void handle_bytes(char* data, std::size_t n) {
    transport* outer = reading_now;
    reading_now = this;
    on_bytes(data, n);
    reading_now = outer;
  }

  void wait_read() {
    read_armed_ = true;
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

  bool keep_reading() const noexcept { return !dead_ && (!closing_ || linger_.count() > 0); }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    read_armed_ = false;
    if (dead_) return;
    if (ec) return terminate(ec == asio::error::eof ? "closed by the peer" : ec.message());
    keepalive_heard(keepalive_);
    metrics::io().bytes_in.add(n);
    handle_bytes(tls_buffer_.get(), n);
    if (keep_reading() && !pause_after_bytes()) wait_read();
  }

  void on_readable(const boost::system::error_code& ec) {
    if constexpr (!tls) {
      read_armed_ = false;
      if (dead_) return;
      if (ec) return terminate(ec == asio::error::operation_aborted ? "" : ec.message());
      char* buffer = shared_read_buffer();
      // After a full buffer, read on until a short read (the socket is drained) instead of going
      // back to the reactor for bytes that are already waiting — at most a few buffers per
      // turn, then let other connections run and come back without waiting.
      for (int reads = 0; reads < 4; ++reads) {
        boost::system::error_code rec;
        const std::size_t n = socket_.read_some(asio::buffer(buffer, shared_read_buffer_size), rec);
        if (rec == asio::error::would_block || rec == asio::error::try_again) return wait_read();
        if (rec) return terminate(rec == asio::error::eof ? "closed by the peer" : rec.message());
        keepalive_heard(keepalive_);
        metrics::io().bytes_in.add(n);
        handle_bytes(buffer, n);
        if (!keep_reading() || pause_after_bytes()) return;
        if (n < shared_read_buffer_size) return wait_read();
      }
      read_armed_ = true;
      asio::post(socket_.get_executor(), [self = this->shared_from_this()] {
        self->on_readable({});
      });
    }
  }

  void do_write() {
    write_scheduled_ = false;
    if (dead_) return;
    if (out_.empty()) {
      if (closing_) flushed();
      return;
    }
    if constexpr (!tls) {
      // The socket takes it all at once almost always: send it here, with no completion
      // handler to run later; what it does not take goes the asynchronous way.
      boost::system::error_code ec;
      const std::size_t n = socket_.write_some(asio::buffer(out_), ec);
      if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return terminate(ec.message());
      metrics::io().bytes_out.add(n);
      if (n == out_.size()) {
        out_.clear();
        return written({});
      }
      out_.erase(0, n);
      if (n > 0) {
        // Progress, as a completed write is: the stall clock sees it, and if the queue is now
        // drained the senders waiting on it read again (no completion may follow: the rest can
        // be stuck at a client that stopped reading, and the stall timer then ends it).
        ++writes_done_;
        let_go_if_drained();
      }
    }
    in_flight_.swap(out_);
    writing_ = true;
    metrics::io().bytes_out.add(in_flight_.size());
    asio::async_write(socket_, asio::buffer(in_flight_),
                      [self = this->shared_from_this()](const boost::system::error_code& ec,
                                                        std::size_t) { self->on_written(ec); });
  }

  void on_written(const boost::system::error_code& ec) {
    writing_ = false;
    in_flight_.clear();
    if (in_flight_.capacity() > 64 * 1024) std::string().swap(in_flight_);  // after a burst
    written(ec);
  }

  // A write ended (asynchronously, or at once in do_write): flow control, then what was queued
  // meanwhile.
  void written(const boost::system::error_code& ec) {
    queued_seen_.store(out_.size(), std::memory_order_relaxed);
    if (out_.capacity() > 64 * 1024 && out_.empty()) std::string().swap(out_);
    if (dead_) return;
    if (ec) return terminate(ec.message());
    ++writes_done_;
    let_go_if_drained();
    do_write();
  }

  // Drained to a quarter of max_outbound: flow control lets go (this connection reads again, and
  // the senders paused on it).
  void let_go_if_drained() {
    if (queued() > max_outbound_ / 4) return;
    if (paused_) resume_reading();
    release_waiters();
  }

  // Everything queued before finish() is written.
  void flushed() {
    if (linger_.count() <= 0) return terminate({});
    if (linger_timer_) return;
    linger_timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
    linger_timer_->expires_after(linger_);
    linger_timer_->async_wait([self = this->shared_from_this()](const boost::system::error_code& e) {
      if (!e) self->terminate("the peer did not finish closing");
    });
  }

  Socket socket_;
  std::string remote_;
  forget_fn forget_;
  const char* kind_;
  std::chrono::milliseconds handshake_timeout_;
  std::size_t max_outbound_;
  auth_slots* slots_;
  std::string in_flight_;  // bytes being written
  static constexpr std::size_t tls_buffer_size = 16 * 1024;  // one TLS record
  std::unique_ptr<char[]> tls_buffer_;
  std::unique_ptr<asio::steady_timer> handshake_timer_;  // until handshake_done()
  std::uint32_t handshake_armed_ = 0;                    // the latest arming (an earlier wait may still complete)
  std::unique_ptr<asio::steady_timer> linger_timer_;     // a lingering close
  std::chrono::milliseconds linger_{0};
  bool write_scheduled_ = false;
  bool writing_ = false;
  bool closing_ = false;  // flush what is queued, then end (or linger)
  bool dead_ = false;
  bool tls_established_ = false;  // handed over by a universal port (handed_over)
  bool paused_ = false;      // flow control: not reading (pause_reading)
  bool read_armed_ = false;  // a read wait (or a posted read) is outstanding
  std::vector<std::weak_ptr<transport>> waiters_;  // senders paused until this drains
  std::atomic<std::size_t> queued_seen_{0};  // queued() for other threads (the estimates)
  std::unique_ptr<asio::steady_timer> stall_timer_;  // watch_stall
  bool stall_watch_ = false;
  std::uint64_t writes_done_ = 0;
  std::uint64_t writes_at_sweep_ = 0;  // writes_done_ at the last sweep (release_idle_buffer)
  std::chrono::milliseconds stall_timeout_;
  std::size_t event_backlog_;  // drop-events realms skip EVENTs above this (backlogged)
  std::string initial_;           // its first plaintext bytes, until start() feeds them
};

// A listener's open connections, for its keepalive sweep and for stop(). Each connection removes
// itself (through forgetter()) when it ends. With several loops each loop keeps the connections it
// runs (touched by that loop only, but for the count and the scrape); the sweep timer runs on
// loop 0 and sweeps each loop on that loop. The state is shared with what is posted to other
// loops, so a listener may go while they are on their way.
class connection_set {
 public:
  // websocket: keepalive pings whenever keepalive is on; RawSocket only with rawsocket_pings.
  connection_set(loop_set& loops, const listener_config& config, bool websocket)
      : loops_(loops), config_(config), websocket_(websocket), sweep_timer_(loops.main()),
        state_(std::make_shared<state>(loops.size())) {
    slots_.max = config_.max_authenticating;
  }

  // A new connection (not started yet) joins the set and starts; on the loop it runs on.
  void add(const std::shared_ptr<connection>& c) {
    auto& mine = state_->per_loop[loop_set::current_index()];
    {
      const std::lock_guard<std::mutex> lock(mine.mutex);
      mine.connections.emplace(c.get(), c);
    }
    state_->count.fetch_add(1, std::memory_order_relaxed);
    c->start();
  }
  [[nodiscard]] auth_slots* slots() noexcept { return &slots_; }
  // Called by a connection that ends, on its loop.
  [[nodiscard]] forget_fn forgetter() {
    return [st = state_](connection* c) {
      auto& mine = st->per_loop[loop_set::current_index()];
      const std::lock_guard<std::mutex> lock(mine.mutex);
      if (mine.connections.erase(c) != 0) st->count.fetch_sub(1, std::memory_order_relaxed);
    };
  }
  // Whether `max_connections` (the listener's, from the settings the new connection is made
  // with: the set's own config is loop 0's) is reached.
  [[nodiscard]] bool full(std::size_t max_connections) const noexcept {
    return max_connections != 0 && size() >= max_connections;
  }
  [[nodiscard]] std::size_t size() const noexcept { return state_->count.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t queued_bytes() const {
    std::size_t n = 0;
    for (auto& l : state_->per_loop) {
      const std::lock_guard<std::mutex> lock(l.mutex);
      for (const auto& [raw, conn] : l.connections) n += conn->queued_estimate();
    }
    return n;
  }
  // Reload: the sweep follows the listener's new keepalive settings (started if it was off), new
  // handshakes the new max_authenticating.
  void restart_sweep() {
    slots_.max = config_.max_authenticating;
    ++sweep_generation_;  // a sweep already due finds itself outdated
    sweep_timer_.cancel();
    start_sweep();
  }

  // One timer for all connections (router/transport/keepalive.hpp): ping the idle, end the silent.
  void start_sweep() {
    if (!config_.keepalive.enabled() || !(websocket_ || config_.rawsocket_pings)) return;
    sweep_timer_.expires_after(config_.keepalive.sweep_period());
    sweep_timer_.async_wait([this, generation = sweep_generation_](const boost::system::error_code& ec) {
      if (ec || generation != sweep_generation_) return;
      const keepalive_settings settings = config_.keepalive;
      for (unsigned i = 0; i < loops_.size(); ++i)
        loops_.run_on(i, [st = state_, i, settings] { sweep(st->per_loop[i], settings); });
      start_sweep();
    });
  }

  // Stops the sweep and shuts every connection down (GOODBYE, then close), each on its loop.
  void stop() {
    ++sweep_generation_;
    sweep_timer_.cancel();
    for (unsigned i = 0; i < loops_.size(); ++i)
      loops_.run_on(i, [st = state_, i] {
        std::vector<std::shared_ptr<connection>> open;  // shutdown() may remove entries
        {
          const std::lock_guard<std::mutex> lock(st->per_loop[i].mutex);
          for (auto& [raw, conn] : st->per_loop[i].connections) open.push_back(conn);
        }
        for (auto& conn : open) conn->shutdown();
      });
  }

 private:
  struct loop_connections {
    mutable std::mutex mutex;  // the loop's own changes against the scrape
    std::unordered_map<connection*, std::shared_ptr<connection>> connections;
  };
  struct state {
    explicit state(unsigned loops) : per_loop(loops) {}
    std::vector<loop_connections> per_loop;
    std::atomic<std::size_t> count{0};
  };

  // On the loop that runs them.
  static void sweep(loop_connections& l, const keepalive_settings& settings) {
    const auto now = keepalive_clock::now();
    std::vector<std::shared_ptr<connection>> ping, expired, idle;
    {
      const std::lock_guard<std::mutex> lock(l.mutex);
      for (auto& [raw, conn] : l.connections) {
        if (conn->holds_idle_buffer()) idle.push_back(conn);
        // A connection the router stopped reading (flow control) cannot be heard: its silence
        // is ours. It counts as alive; the stall timer judges a client that does not read.
        if (conn->read_paused()) {
          keepalive_heard(conn->keepalive());
          continue;
        }
        switch (keepalive_sweep(conn->keepalive(), now, settings)) {
          case keepalive_action::ping: ping.push_back(conn); break;
          case keepalive_action::expire: expired.push_back(conn); break;
          case keepalive_action::none: break;
        }
      }
    }
    for (auto& conn : idle) conn->release_idle_buffer();
    for (auto& conn : ping) conn->keepalive_ping();
    for (auto& conn : expired) conn->keepalive_expired(settings.timeout);
  }

  loop_set& loops_;
  const listener_config& config_;
  bool websocket_;
  asio::steady_timer sweep_timer_;
  std::uint64_t sweep_generation_ = 0;
  auth_slots slots_;
  std::shared_ptr<state> state_;
};

// An accepted TCP socket's remote address ("127.0.0.1:51234"), with TCP_NODELAY set: without it
// the first INVOCATION after REGISTERED waits ~40 ms on Nagle + delayed ACK.
inline std::string prepare_tcp(asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  if (ec) JLOG(warn) << "cannot set TCP_NODELAY: " << ec.message();
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// A TCP connection handed over as a descriptor (by the universal port) as an Asio socket; nullopt,
// with the descriptor closed and a log line, when it cannot be taken over.
inline std::optional<asio::ip::tcp::socket> adopt_tcp(asio::io_context& io, int native_socket,
                                                      bool ipv6, const std::string& url) {
  asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.assign(ipv6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), native_socket, ec);
  if (ec) {
    JLOG(warn) << "cannot take over a connection on " << url << ": " << ec.message();
    ::close(native_socket);
    return std::nullopt;
  }
  return socket;
}

// What a listener makes new connections with: its settings and TLS context (wss://, rss://),
// replaced whole by a reload (loop 0) and read by the loop that takes a connection
// (std::atomic_load/store on the pointer), so a reload never changes what a connection reads.
struct accept_settings {
  std::shared_ptr<const listener_config> config;
  std::shared_ptr<asio::ssl::context> tls;

  static std::shared_ptr<const accept_settings> make(const listener_config& c,
                                                     std::shared_ptr<asio::ssl::context> tls) {
    return std::make_shared<const accept_settings>(
        accept_settings{std::make_shared<const listener_config>(c), std::move(tls)});
  }
};

// A TCP connection a universal port hands over (on loop 0) as a descriptor: it becomes a socket of
// the next loop, and on_accepted(socket) runs there.
template <class OnAccepted>
void adopt_on_next_loop(loop_set& loops, int native_socket, bool ipv6, const std::string& url,
                        OnAccepted on_accepted) {
  asio_loop& to = loops.pick();
  auto s = adopt_tcp(to.io, native_socket, ipv6, url);
  if (!s) return;
  loops.run_on(to.index(), [on_accepted, sock = std::make_shared<asio::ip::tcp::socket>(std::move(*s))]() mutable {
    on_accepted(std::move(*sock));
  });
}

// Keeps accepting on `acceptor` (on loop 0), handing each socket to on_accepted(socket), counted as
// `kind`, on the loop it goes to (the next one, round robin: docs/THREADING.md).
template <class Acceptor, class OnAccepted>
void accept_loop(loop_set& loops, Acceptor& acceptor, std::string url, metrics::listener_kind kind,
                 OnAccepted on_accepted) {
  asio_loop& to = loops.pick();
  acceptor.async_accept(to.io, [&loops, &acceptor, &to, url = std::move(url), kind, on_accepted](
                            const boost::system::error_code& ec,
                            typename Acceptor::protocol_type::socket socket) mutable {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors, typically: say so, and keep accepting (the connection that failed
      // is gone either way).
      JLOG(warn) << "accept failed: " << ec.message() << log_field("listener", url);
    } else {
      metrics::io().accept(kind);
      if (!loops.threaded()) {
        on_accepted(std::move(socket));
      } else {
        asio::post(to.io, [on_accepted, s = std::make_shared<decltype(socket)>(std::move(socket))]() mutable {
          on_accepted(std::move(*s));
        });
      }
    }
    accept_loop(loops, acceptor, std::move(url), kind, std::move(on_accepted));
  });
}

}  // namespace junction::stream
