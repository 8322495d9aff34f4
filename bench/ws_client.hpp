// bench/ws_client.hpp — the generator's network layer: one epoll loop, many client connections,
// each a minimal RFC 6455 client (HTTP upgrade with Sec-WebSocket-Protocol, masked frames, a
// parser for server frames with 7/16/64-bit lengths, ping → pong, close), a WAMP RawSocket client
// (4-octet handshake, 4-octet frame headers, PING → PONG), or, for the raw TCP echo baseline,
// WebSocket frames without the upgrade.
//
// Why hand-written and not websocketpp: the generator must cost less per frame than the router it
// measures. Frames a connection queues during one loop turn are gathered into a single write(),
// and one read() with a large buffer feeds every frame it holds to the handler — the same
// batching a real busy client gets, and one syscall per socket per turn at most each way.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// CLOCK_MONOTONIC in nanoseconds.
std::uint64_t now_ns() noexcept;

struct endpoint {
  bool raw_tcp = false;    // tcp://host:port — no upgrade, frames straight on the socket
  bool rawsocket = false;  // rs://host:port — WAMP RawSocket
  std::string host;
  std::uint16_t port = 0;
  std::string path = "/";
};
// ws://host:port/path, rs://host:port or tcp://host:port; false with `error` set otherwise.
bool parse_url(const std::string& url, endpoint& out, std::string& error);

enum class opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

class connection;

// What a scenario does with a connection's events. Called from inside loop::run_once.
class connection_handler {
 public:
  virtual ~connection_handler() = default;
  // TCP connected and (for ws://) the upgrade answered 101 with the subprotocol we asked for.
  virtual void on_open(connection& c) = 0;
  // One complete data message (fragments already joined), unmasked.
  virtual void on_message(connection& c, std::string_view payload) = 0;
  // The connection is gone (peer closed, error, or a close frame); `why` says which.
  virtual void on_closed(connection& c, const std::string& why) = 0;
};

class loop;

class connection {
 public:
  enum class state : std::uint8_t { connecting, upgrading, open, closed };

  // Queues one masked frame (RawSocket: one frame, WAMP message / PING / PONG by `op`); it goes
  // out with everything else queued this turn in one write().
  void send(opcode op, std::string_view payload);
  // Queues bytes as they are (already framed); for the raw TCP echo, which replays its frames.
  void send_raw(std::string_view bytes);
  // Starts the closing handshake (close frame 1000); the socket closes when the server answers
  // with its close frame or drops the connection. Ending runs this way keeps routers that
  // mishandle a vanished peer (fox-wamp crashes on a write error) measurable.
  void close_gracefully();
  // Closes the socket now. on_closed is not called for a local close.
  void close();

  [[nodiscard]] state current() const noexcept { return state_; }
  [[nodiscard]] bool is_open() const noexcept { return state_ == state::open; }
  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] std::size_t queued_bytes() const noexcept { return out_.size() - out_off_; }

  std::uint64_t user = 0;  // the scenario's index for this connection
  opcode data_opcode = opcode::text;

 private:
  friend class loop;
  connection(loop& owner, connection_handler& handler) : loop_(owner), handler_(handler) {}

  void on_readable();
  void on_writable();
  bool parse_handshake();
  void parse_frames(const char* data, std::size_t size);
  void parse_rawsocket_frames(const char* data, std::size_t size);
  void fail(const std::string& why);
  void flush();
  void queued();  // a frame was appended to out_: write it now or at the end of the turn

  loop& loop_;
  connection_handler& handler_;
  int fd_ = -1;
  state state_ = state::connecting;
  bool dirty_ = false;        // queued on the loop's flush list
  bool want_write_ = false;   // EPOLLOUT armed (the last write was partial)
  bool raw_ = false;
  bool rs_ = false;           // WAMP RawSocket
  std::uint8_t rs_serializer_ = 1;  // RawSocket serializer id: 1 JSON, 2 MessagePack
  bool closing_ = false;      // we sent a close frame
  std::uint32_t mask_key_ = 0;
  std::string subprotocol_;
  std::string expected_accept_;
  std::string in_;            // an incomplete frame (or handshake) carried to the next read
  std::string fragments_;     // data of a fragmented message so far
  std::string out_;           // frames queued and not yet written
  std::size_t out_off_ = 0;
};

class loop {
 public:
  loop();
  ~loop();
  loop(const loop&) = delete;
  loop& operator=(const loop&) = delete;

  // Starts a non-blocking connect; events go to `handler`. The connection lives as long as the
  // loop (scenarios keep raw pointers to it). nullptr with `error` set when the socket fails.
  connection* connect(const endpoint& ep, const std::string& subprotocol, connection_handler& handler,
                      std::string& error);

  // Waits up to timeout_ms for events, dispatches them, then writes what handlers queued.
  void run_once(int timeout_ms);
  // The time taken right after epoll_wait returned: the receive time of everything dispatched in
  // this turn and the send time of everything queued in it.
  [[nodiscard]] std::uint64_t now() const noexcept { return now_; }
  void refresh_now() noexcept { now_ = now_ns(); }

  [[nodiscard]] std::size_t open_connections() const noexcept { return open_; }
  // Every frame in its own write() at send() time, as most client libraries do (default: the
  // frames of one turn gathered into one write per connection).
  bool frame_per_write = false;
  // close_gracefully() / close() on every connection not yet closed.
  void close_all_gracefully();
  void close_all();

 private:
  friend class connection;
  void mark_dirty(connection& c);
  void arm_write(connection& c, bool on);
  void flush_dirty();

  int epoll_fd_ = -1;
  std::uint64_t now_ = 0;
  std::size_t open_ = 0;
  std::uint64_t connects_ = 0;
  std::vector<std::unique_ptr<connection>> connections_;
  std::vector<connection*> dirty_;
  std::vector<char> read_buffer_;  // shared by all connections: reads never need one each
};

}  // namespace bench
