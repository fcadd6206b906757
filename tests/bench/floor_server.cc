// roomq-bench-floor: the floor of room fan-out over WebSocket, for
// tests/bench/run.sh to measure roomq's gateway against.
//
// It does what every Socket.IO server must do to deliver a room message and
// nothing more: one thread on epoll, the message's WebSocket frame encoded
// once, then one write() per member socket (a socket that cannot take it
// all keeps the rest and gets it on EPOLLOUT). No broker, no per-socket
// queue, no coalescing: its CPU per delivery is what the kernel and the
// least possible user space cost, so roomq's is judged as a multiple of it.
//
// Just enough Engine.IO v4 / Socket.IO v5 for roomq-loadgen
// (clients/loadgen/client_pool.cc): the WebSocket upgrade of
// /socket.io/?EIO=4&transport=websocket, the open packet, CONNECT to "/",
// `join` with its ack, and `publish` [room, event, ...args] re-emitted to
// the room's other members as [event, ...args] (roomq's and the reference
// server's convention). No polling, no heartbeats (its open packet
// announces an interval longer than any run), no namespaces, no limits:
// a measuring stick that listens on loopback only, never a server.
//
// Hand-written on epoll because that is the floor being measured: any
// library between the loop and write() would be cost the floor must not
// have.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "CLI/CLI.hpp"
#include "proto/websocket/ws_frame.h"

namespace {

using roomq::websocket::WsEvent;
using roomq::websocket::WsFrameParser;

constexpr size_t kMaxMessage = 1 << 20;

struct Conn {
  int fd = -1;
  bool upgraded = false;
  std::string in;
  std::string out;  // what write() did not take; sent on EPOLLOUT
  WsFrameParser parser{kMaxMessage};
  std::vector<std::string> rooms;
};

class FloorServer {
 public:
  explicit FloorServer(int listener) : listener_(listener), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    Watch(listener_, EPOLLIN, kListenerKey);
  }

  void Run() {
    epoll_event events[256];
    for (;;) {
      const int n = epoll_wait(epoll_, events, 256, -1);
      if (n < 0 && errno == EINTR) continue;
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == kListenerKey) {
          Accept();
          continue;
        }
        auto it = conns_.find(static_cast<int>(events[i].data.u64));
        if (it == conns_.end()) continue;
        Conn& c = *it->second;
        if (events[i].events & EPOLLOUT) Flush(c);
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) Read(c);
      }
      for (int fd : closing_) Close(fd);
      closing_.clear();
    }
  }

 private:
  static constexpr uint64_t kListenerKey = ~uint64_t{0};

  void Watch(int fd, uint32_t events, uint64_t key) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = key;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
  }

  void Accept() {
    for (;;) {
      const int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      auto conn = std::make_unique<Conn>();
      conn->fd = fd;
      conns_[fd] = std::move(conn);
      Watch(fd, EPOLLIN, static_cast<uint64_t>(fd));
    }
  }

  void Read(Conn& c) {
    char buffer[65536];
    for (;;) {
      const ssize_t n = read(c.fd, buffer, sizeof(buffer));
      if (n > 0) {
        c.in.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      closing_.push_back(c.fd);  // EOF or error
      return;
    }
    if (!c.upgraded && !Upgrade(c)) return;
    size_t pos = 0;
    while (c.upgraded && pos < c.in.size()) {
      WsEvent event;
      const size_t used = c.parser.Next(c.in.data() + pos, c.in.size() - pos, &event);
      if (event.kind == WsEvent::Kind::kError || event.kind == WsEvent::Kind::kClose) {
        closing_.push_back(c.fd);
        return;
      }
      if (used == 0) break;
      pos += used;
      if (event.kind == WsEvent::Kind::kMessage) OnText(c, event.data);
      if (event.kind == WsEvent::Kind::kPing) {
        Write(c, roomq::websocket::EncodeWsFrame(roomq::websocket::kWsOpPong, event.data));
      }
    }
    c.in.erase(0, pos);
  }

  // The HTTP upgrade; false while the request is incomplete or refused.
  bool Upgrade(Conn& c) {
    const size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    std::string request = c.in.substr(0, end);
    for (char& ch : request) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string key;
    const size_t header = request.find("\r\nsec-websocket-key:");
    if (header != std::string::npos) {
      size_t from = header + 20;
      while (from < end && c.in[from] == ' ') ++from;
      const size_t to = c.in.find("\r\n", from);
      key = c.in.substr(from, std::min(to, end) - from);
      while (!key.empty() && key.back() == ' ') key.pop_back();
    }
    if (!roomq::websocket::IsValidWsKey(key)) {
      closing_.push_back(c.fd);
      return false;
    }
    c.in.erase(0, end + 4);
    c.upgraded = true;
    Write(c,
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
              roomq::websocket::WsAcceptKey(key) + "\r\n\r\n");
    SendText(c, R"(0{"sid":"f)" + std::to_string(c.fd) +
                    R"(","upgrades":[],"pingInterval":3600000,"pingTimeout":60000,)"
                    R"("maxPayload":1000000})");
    return true;
  }

  void OnText(Conn& c, std::string_view text) {
    if (text == "40" || text.starts_with("40{")) {
      SendText(c, R"(40{"sid":"s)" + std::to_string(c.fd) + R"("})");
      return;
    }
    if (!text.starts_with("42")) return;  // pongs and the rest
    size_t i = 2;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) ++i;
    const std::string_view ack = text.substr(2, i - 2);
    const std::string_view args = text.substr(i);
    std::string_view room;
    std::string_view rest;
    if (ParseNamed(args, R"(["join",")", &room, &rest)) {
      c.rooms.emplace_back(room);
      rooms_[std::string(room)].push_back(c.fd);
    } else if (ParseNamed(args, R"(["publish",")", &room, &rest)) {
      Publish(c.fd, room, rest);
    } else {
      return;
    }
    if (!ack.empty()) SendText(c, "43" + std::string(ack) + R"([{"ok":true}])");
  }

  // `args` = prefix + name + `"` [+ `,` rest]: the name and what follows the comma.
  static bool ParseNamed(std::string_view args, std::string_view prefix, std::string_view* name,
                         std::string_view* rest) {
    if (!args.starts_with(prefix)) return false;
    args.remove_prefix(prefix.size());
    const size_t quote = args.find('"');
    if (quote == std::string_view::npos) return false;
    *name = args.substr(0, quote);
    *rest = args.substr(quote + 1);
    if (!rest->empty() && rest->front() == ',') rest->remove_prefix(1);
    return true;
  }

  void Publish(int sender, std::string_view room, std::string_view rest) {
    auto it = rooms_.find(std::string(room));
    if (it == rooms_.end() || rest.empty()) return;
    const std::string frame =
        roomq::websocket::EncodeWsFrame(roomq::websocket::kWsOpText, "42[" + std::string(rest));
    for (int fd : it->second) {
      if (fd == sender) continue;
      auto member = conns_.find(fd);
      if (member != conns_.end()) Write(*member->second, frame);
    }
  }

  void SendText(Conn& c, std::string_view text) {
    Write(c, roomq::websocket::EncodeWsFrame(roomq::websocket::kWsOpText, text));
  }

  void Write(Conn& c, std::string_view bytes) {
    if (!c.out.empty()) {
      c.out.append(bytes);
      return;
    }
    const ssize_t n = write(c.fd, bytes.data(), bytes.size());
    const size_t sent = n > 0 ? static_cast<size_t>(n) : 0;
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      closing_.push_back(c.fd);
      return;
    }
    if (sent == bytes.size()) return;
    c.out.assign(bytes.substr(sent));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = static_cast<uint64_t>(c.fd);
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void Flush(Conn& c) {
    const ssize_t n = write(c.fd, c.out.data(), c.out.size());
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) closing_.push_back(c.fd);
      return;
    }
    c.out.erase(0, static_cast<size_t>(n));
    if (!c.out.empty()) return;
    c.out.shrink_to_fit();
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(c.fd);
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void Close(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    for (const std::string& room : it->second->rooms) {
      auto members = rooms_.find(room);
      if (members == rooms_.end()) continue;
      std::erase(members->second, fd);
      if (members->second.empty()) rooms_.erase(members);
    }
    close(fd);
    conns_.erase(it);
  }

  const int listener_;
  const int epoll_;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  std::unordered_map<std::string, std::vector<int>> rooms_;
  std::vector<int> closing_;  // closed after the batch of events
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The floor of room fan-out over WebSocket (tests/bench/run.sh)"};
  int port = 0;
  app.add_option("--port", port, "Loopback port (0: any)");
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);

  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t length = sizeof(address);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(listener, 4096) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::fprintf(stderr, "roomq-bench-floor: %s\n", std::strerror(errno));
    return 1;
  }
  std::printf("roomq-bench-floor listening on http://127.0.0.1:%d\n", ntohs(address.sin_port));
  std::fflush(stdout);
  FloorServer(listener).Run();
}
