#include "clients/loadgen/client_pool.h"

#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"
#include "proto/websocket/ws_frame.h"

namespace roomq::loadgen {
namespace {

constexpr uint64_t kMaxFrame = 16u << 20;

}  // namespace

absl::StatusOr<std::unique_ptr<ClientPool>> ClientPool::Open(const sockaddr_in& server,
                                                             std::string_view host_header,
                                                             std::string ns, EventSink on_event) {
  const int epoll = epoll_create1(EPOLL_CLOEXEC);
  if (epoll < 0) return absl::InternalError(absl::StrCat("epoll_create1: ", std::strerror(errno)));
  return std::unique_ptr<ClientPool>(
      new ClientPool(epoll, server, host_header, std::move(ns), std::move(on_event)));
}

ClientPool::ClientPool(int epoll, const sockaddr_in& server, std::string_view host_header,
                       std::string ns, EventSink on_event)
    : epoll_(epoll),
      server_(server),
      upgrade_(websocket::UpgradeRequest(host_header, "/socket.io/?EIO=4&transport=websocket")),
      ns_(std::move(ns)),
      event_prefix_(SioPrefix('2')),
      on_event_(std::move(on_event)) {}

ClientPool::~ClientPool() {
  for (Client& c : clients_) {
    if (c.fd >= 0) ::close(c.fd);
  }
  ::close(epoll_);
}

void ClientPool::Add(const ClientRole& role) {
  Client& client = clients_.emplace_back();
  client.role = role;
}

bool ClientPool::IsReady(size_t id) const { return clients_[id].state == State::kReady; }

size_t ClientPool::QueuedBytes(size_t id) const {
  const Client& c = clients_[id];
  return c.out.size() - c.out_pos;
}

std::string ClientPool::SioPrefix(char type) const {
  std::string prefix = {'4', type};
  if (ns_ != "/") absl::StrAppend(&prefix, ns_, ",");
  return prefix;
}

void ClientPool::StartConnect(size_t id) {
  Client& c = clients_[id];
  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    Fail(c, absl::StrCat("socket: ", std::strerror(errno)));
    return;
  }
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ++in_flight_;
  c.state = State::kTcpConnecting;
  const int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&server_), sizeof(server_));
  if (rc != 0 && errno != EINPROGRESS) {
    Fail(c, absl::StrCat("connect: ", std::strerror(errno)));
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u32 = static_cast<uint32_t>(id);
  c.want_out = true;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
}

void ClientPool::Fail(Client& c, std::string_view why) {
  if (c.state == State::kClosed) return;
  const bool was_ready = c.state == State::kReady;
  if (!was_ready) --in_flight_;
  if (c.fd >= 0) {
    ::close(c.fd);  // also removes it from the epoll set
    c.fd = -1;
  }
  c.state = State::kClosed;
  c.in.clear();
  c.in.shrink_to_fit();
  c.out.clear();
  c.out_pos = 0;
  if (closing_) return;
  if (was_ready) {
    ++dropped_;
  } else {
    ++failed_;
  }
  if (logged_failures_ < 5) {
    ++logged_failures_;
    spdlog::warn("client {}{} {}: {}", c.role.publisher ? "publisher " : "receiver ", c.role.index,
                 was_ready ? "dropped" : "failed", std::string(why));
  }
}

void ClientPool::FailUnready(std::string_view why) {
  for (Client& c : clients_) {
    if (c.state != State::kReady && c.state != State::kClosed) Fail(c, why);
  }
}

void ClientPool::CloseAll() {
  closing_ = true;
  for (Client& c : clients_) Fail(c, "done");
}

void ClientPool::BecomeReady(Client& c) {
  c.state = State::kReady;
  --in_flight_;
  ++ready_;
}

void ClientPool::UpdateInterest(Client& c) {
  const bool want = c.state == State::kTcpConnecting || c.out_pos < c.out.size();
  if (want == c.want_out || c.fd < 0) return;
  c.want_out = want;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  ev.data.u32 = static_cast<uint32_t>(&c - clients_.data());
  epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
}

void ClientPool::Flush(Client& c) {
  while (c.out_pos < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_pos += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    Fail(c, absl::StrCat("send: ", std::strerror(errno)));
    return;
  }
  if (c.out_pos == c.out.size()) {
    c.out.clear();
    c.out_pos = 0;
  }
  UpdateInterest(c);
}

void ClientPool::Send(Client& c, uint8_t opcode, std::string_view payload) {
  if (c.fd < 0) return;
  websocket::AppendClientFrame(c.out, opcode, payload, 0x5a17c3e1u ^ c.role.index);
  Flush(c);
}

void ClientPool::SendEvent(size_t id, std::string_view args) {
  frame_scratch_ = event_prefix_;
  frame_scratch_.append(args);
  Send(clients_[id], websocket::kWsOpText, frame_scratch_);
}

void ClientPool::Poll(int timeout_ms) {
  epoll_event events[512];
  const int n = epoll_wait(epoll_, events, 512, timeout_ms);
  for (int i = 0; i < n; ++i) {
    Client& c = clients_[events[i].data.u32];
    if (c.fd >= 0) OnEvent(c, events[i].events);
  }
}

void ClientPool::OnEvent(Client& c, uint32_t events) {
  if (c.state == State::kTcpConnecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      Fail(c, absl::StrCat("connect: ", std::strerror(err)));
      return;
    }
    c.state = State::kUpgrading;
    c.out.append(upgrade_);
    Flush(c);
    return;
  }
  if (events & EPOLLOUT) Flush(c);
  if (c.fd >= 0 && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) OnReadable(c);
}

void ClientPool::OnReadable(Client& c) {
  for (;;) {
    const ssize_t n = ::recv(c.fd, read_buf_.data(), read_buf_.size(), 0);
    if (n == 0) {
      Fail(c, "connection closed by the server");
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      Fail(c, absl::StrCat("recv: ", std::strerror(errno)));
      return;
    }
    std::string_view data(read_buf_.data(), static_cast<size_t>(n));
    size_t consumed = 0;
    if (c.in.empty()) {
      if (!ProcessInput(c, data, &consumed)) return;
      if (consumed < data.size()) c.in.assign(data.substr(consumed));
    } else {
      c.in.append(data);
      if (!ProcessInput(c, c.in, &consumed)) return;
      c.in.erase(0, consumed);
    }
    if (c.in.empty() && c.in.capacity() > 4096) c.in.shrink_to_fit();
    if (static_cast<size_t>(n) < read_buf_.size()) return;
  }
}

// Consumes complete units (the HTTP response head, then frames) from `data`;
// false once the connection failed.
bool ClientPool::ProcessInput(Client& c, std::string_view data, size_t* consumed) {
  size_t pos = 0;
  if (c.state == State::kUpgrading) {
    bool switched = false;
    const size_t head = websocket::ParseUpgradeResponse(data, &switched);
    if (head == 0) {
      *consumed = 0;
      return true;
    }
    if (!switched) {
      Fail(c, absl::StrCat("upgrade refused: ", ToAbsl(data.substr(0, data.find("\r\n")))));
      return false;
    }
    c.state = State::kAwaitOpen;
    pos = head;
  }
  while (pos < data.size()) {
    websocket::ServerFrame frame;
    const int64_t n = websocket::ParseServerFrame(data.substr(pos), kMaxFrame, &frame);
    if (n < 0) {
      Fail(c, "malformed WebSocket frame");
      return false;
    }
    if (n == 0) break;
    pos += static_cast<size_t>(n);
    if (!frame.fin) {
      Fail(c, "fragmented WebSocket message (not expected from the server)");
      return false;
    }
    switch (frame.opcode) {
      case websocket::kWsOpText:
        if (!OnText(c, frame.payload)) return false;
        break;
      case websocket::kWsOpBinary:
        break;
      case websocket::kWsOpPing:
        Send(c, websocket::kWsOpPong, frame.payload);
        if (c.fd < 0) return false;
        break;
      case websocket::kWsOpPong:
        break;
      case websocket::kWsOpClose:
        Fail(c, "WebSocket close from the server");
        return false;
      default:
        Fail(c, "unexpected WebSocket opcode");
        return false;
    }
  }
  *consumed = pos;
  return true;
}

// One Engine.IO packet. False once the connection failed.
bool ClientPool::OnText(Client& c, std::string_view text) {
  if (text.empty()) return true;
  switch (text[0]) {
    case '0': {  // open
      if (c.state != State::kAwaitOpen) return true;
      c.state = State::kAwaitConnect;
      const std::string connect = SioPrefix('0');
      Send(c, websocket::kWsOpText,
           connect.size() == 2 ? std::string_view("40") : std::string_view(connect));
      return c.fd >= 0;
    }
    case '2':  // ping
      ++pings_;
      Send(c, websocket::kWsOpText, "3");
      return c.fd >= 0;
    case '1':
      Fail(c, "Engine.IO close");
      return false;
    case '4':
      break;
    default:
      return true;
  }
  // Socket.IO packet: type, optional "/ns,", optional ack id, data.
  std::string_view sio = text.substr(1);
  if (sio.empty()) return true;
  const char type = sio[0];
  sio.remove_prefix(1);
  if (!sio.empty() && sio[0] == '/') {
    const size_t comma = sio.find(',');
    sio.remove_prefix(comma == std::string_view::npos ? sio.size() : comma + 1);
  }
  switch (type) {
    case '0':  // CONNECT answered
      if (c.state != State::kAwaitConnect) return true;
      if (c.role.joins) {
        c.state = State::kJoining;
        const std::string join = absl::StrCat(event_prefix_, "1[\"join\",\"r", c.role.room, "\"]");
        Send(c, websocket::kWsOpText, join);
        return c.fd >= 0;
      }
      BecomeReady(c);
      return true;
    case '4':
      Fail(c, absl::StrCat("CONNECT_ERROR ", ToAbsl(sio)));
      return false;
    case '1':
      Fail(c, "Socket.IO DISCONNECT from the server");
      return false;
    case '3':  // ACK: the join's
      if (c.state != State::kJoining) return true;
      if (sio.find("\"ok\":true") == std::string_view::npos) {
        Fail(c, absl::StrCat("join refused: ", ToAbsl(sio)));
        return false;
      }
      BecomeReady(c);
      return true;
    case '2':
      if (!c.role.publisher) on_event_(c.role.index, sio);
      return true;
    default:
      return true;
  }
}

}  // namespace roomq::loadgen
