// bench-echo-tcp — the raw syscall baseline: an epoll TCP server that writes back every byte it
// reads, one read() and one write() per readable socket, no parsing at all. What the generator
// sends are WebSocket-framed (masked) messages; they come back verbatim. Whatever a router does
// beyond this costs CPU the kernel does not.
//
// Flags: --host ADDR (127.0.0.1), --port N (0 = free port). Prints
// "listening on tcp://HOST:PORT" on stderr once it accepts.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

struct peer {
  std::string pending;  // bytes a short write left behind; reading pauses until they are out
};

volatile std::sig_atomic_t stop = 0;

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--host" && i + 1 < argc) {
      host = argv[++i];
    } else if (a == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: bench-echo-tcp [--host ADDR] [--port N]\n");
      return 2;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGTERM, [](int) { stop = 1; });
  std::signal(SIGINT, [](int) { stop = 1; });

  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "bench-echo-tcp: bad address %s\n", host.c_str());
    return 1;
  }
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(listener, 1024) < 0) {
    std::fprintf(stderr, "bench-echo-tcp: cannot listen on %s:%d: %s\n", host.c_str(), port, std::strerror(errno));
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::fprintf(stderr, "listening on tcp://%s:%d\n", host.c_str(), ntohs(addr.sin_port));
  std::fflush(stderr);

  std::unordered_map<int, peer> peers;
  std::vector<char> buf(256 * 1024);
  auto drop = [&](int fd) {
    close(fd);
    peers.erase(fd);
  };
  auto set_events = [&](int fd, std::uint32_t events) {
    epoll_event e{};
    e.events = events;
    e.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
  };
  epoll_event events[256];
  while (stop == 0) {
    const int n = epoll_wait(ep, events, 256, 500);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        for (;;) {
          const int c = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
          peers.emplace(c, peer{});
        }
        continue;
      }
      auto it = peers.find(fd);
      if (it == peers.end()) continue;
      peer& p = it->second;
      if ((events[i].events & EPOLLOUT) != 0 && !p.pending.empty()) {
        const ssize_t w = write(fd, p.pending.data(), p.pending.size());
        if (w < 0 && errno != EAGAIN) {
          drop(fd);
          continue;
        }
        if (w > 0) p.pending.erase(0, static_cast<std::size_t>(w));
        if (p.pending.empty()) set_events(fd, EPOLLIN);
        continue;
      }
      if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0 || !p.pending.empty()) continue;
      const ssize_t r = read(fd, buf.data(), buf.size());
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        drop(fd);
        continue;
      }
      if (r < 0) continue;
      const ssize_t w = write(fd, buf.data(), static_cast<std::size_t>(r));
      if (w < 0 && errno != EAGAIN) {
        drop(fd);
        continue;
      }
      const std::size_t written = w < 0 ? 0 : static_cast<std::size_t>(w);
      if (written < static_cast<std::size_t>(r)) {
        p.pending.assign(buf.data() + written, static_cast<std::size_t>(r) - written);
        set_events(fd, EPOLLOUT);
      }
    }
  }
  for (auto& [fd, p] : peers) close(fd);
  close(listener);
  return 0;
}
