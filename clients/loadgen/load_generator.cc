#include "clients/loadgen/load_generator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "clients/loadgen/histogram.h"
#include "clients/loadgen/proc_stats.h"
#include "proto/base/absl_compat.h"
#include "proto/websocket/ws_frame.h"

namespace roomq::loadgen {
namespace {

constexpr uint64_t kMaxFrame = 16u << 20;
constexpr size_t kMaxQueuedOut = 4u << 20;  // publisher send queue bound
constexpr int kSpareFds = 64;

uint64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

enum class State {
  kIdle,
  kTcpConnecting,
  kUpgrading,
  kAwaitOpen,
  kAwaitConnect,
  kJoining,
  kReady,
  kClosed
};

struct Conn {
  int fd = -1;
  State state = State::kIdle;
  bool publisher = false;
  uint32_t index = 0;  // publisher number, or receiver number
  uint32_t room = 0;
  bool want_out = false;
  std::string in;
  std::string out;
  size_t out_pos = 0;
  std::vector<uint32_t> last_seq;  // receivers: last seq seen per publisher
};

// Parses the unsigned integer at the front of `s`, advancing past it and one
// following separator.
bool TakeNumber(std::string_view& s, uint64_t* value) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *value);
  if (ec != std::errc() || end == s.data()) return false;
  s.remove_prefix(static_cast<size_t>(end - s.data()));
  if (!s.empty()) s.remove_prefix(1);
  return true;
}

class Runner {
 public:
  explicit Runner(const LoadOptions& options) : options_(options) {}
  ~Runner() {
    for (Conn& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
    }
    if (epoll_ >= 0) ::close(epoll_);
  }

  absl::StatusOr<Report> Run();

 private:
  absl::Status Prepare();
  void StartConnect(Conn& c);
  void Poll(int timeout_ms);
  void OnEvent(Conn& c, uint32_t events);
  void OnReadable(Conn& c);
  bool ProcessInput(Conn& c, std::string_view data, size_t* consumed);
  bool OnText(Conn& c, std::string_view text);
  void OnEvent42(Conn& c, std::string_view args);
  void Send(Conn& c, uint8_t opcode, std::string_view payload);
  void Flush(Conn& c);
  void UpdateInterest(Conn& c);
  void Fail(Conn& c, std::string_view why);
  void BecomeReady(Conn& c);
  void PublishDue(uint64_t now);
  uint32_t RoomCount() const;
  std::string SioPrefix(char type) const;

  const LoadOptions& options_;
  std::vector<Conn> conns_;
  int epoll_ = -1;
  sockaddr_in addr_{};
  std::string upgrade_;
  std::string frame_scratch_;
  std::vector<char> read_buf_ = std::vector<char>(1 << 16);
  int next_connect_ = 0;
  int in_flight_ = 0;
  int ready_ = 0;
  int failed_ = 0;
  int dropped_ = 0;
  bool measuring_ = false;
  bool closing_ = false;
  uint64_t window_start_ns_ = 0;
  uint64_t published_ = 0;
  uint64_t publish_skipped_ = 0;
  uint64_t expected_ = 0;
  uint64_t delivered_ = 0;
  uint64_t gaps_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t pings_ = 0;
  std::vector<uint32_t> room_members_;
  std::vector<std::vector<uint32_t>> pub_seq_;  // [publisher][room]
  Histogram latency_;
  int logged_failures_ = 0;
};

uint32_t Runner::RoomCount() const {
  if (options_.scenario != Scenario::kRooms) return 1;
  return static_cast<uint32_t>((options_.receivers + options_.room_size - 1) / options_.room_size);
}

std::string Runner::SioPrefix(char type) const {
  std::string prefix = {'4', type};
  if (options_.ns != "/") absl::StrAppend(&prefix, ToAbsl(options_.ns), ",");
  return prefix;
}

absl::Status Runner::Prepare() {
  const LoadOptions& o = options_;
  if (o.port <= 0 || o.port > 65535) return absl::InvalidArgumentError("--port must be 1..65535");
  if (o.receivers < 1) return absl::InvalidArgumentError("--receivers must be at least 1");
  if (o.scenario != Scenario::kIdle && o.publishers < 1) {
    return absl::InvalidArgumentError("--publishers must be at least 1");
  }
  if (o.scenario == Scenario::kRooms && o.room_size < 1) {
    return absl::InvalidArgumentError("--room-size must be at least 1");
  }
  if (o.rate <= 0 || o.duration_s <= 0 || o.drain_s < 0) {
    return absl::InvalidArgumentError("--rate and --duration-s must be positive, --drain-s >= 0");
  }
  if (o.ns.empty() || o.ns[0] != '/')
    return absl::InvalidArgumentError("--namespace must start with /");
  if (inet_pton(AF_INET, o.host.c_str(), &addr_.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--host must be an IPv4 address, got ", o.host));
  }
  addr_.sin_family = AF_INET;
  addr_.sin_port = htons(static_cast<uint16_t>(o.port));

  const int publishers = o.scenario == Scenario::kIdle ? 0 : o.publishers;
  const int total = o.receivers + publishers;
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (static_cast<rlim_t>(total) + kSpareFds > limit.rlim_cur) {
    return absl::FailedPreconditionError(
        absl::StrCat(total, " connections need ", total + kSpareFds, " open files; the limit is ",
                     limit.rlim_cur, " (hard limit ", limit.rlim_max, ")"));
  }

  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) return absl::InternalError(absl::StrCat("epoll_create1: ", std::strerror(errno)));
  upgrade_ = websocket::UpgradeRequest(absl::StrCat(o.host, ":", o.port),
                                       "/socket.io/?EIO=4&transport=websocket");

  conns_.resize(static_cast<size_t>(total));
  const uint32_t rooms = RoomCount();
  room_members_.assign(rooms, 0);
  for (int i = 0; i < total; ++i) {
    Conn& c = conns_[static_cast<size_t>(i)];
    c.publisher = i >= o.receivers;
    c.index = static_cast<uint32_t>(c.publisher ? i - o.receivers : i);
    if (!c.publisher) {
      c.room = o.scenario == Scenario::kRooms ? c.index / static_cast<uint32_t>(o.room_size) : 0;
      if (o.scenario != Scenario::kIdle) {
        ++room_members_[c.room];
        c.last_seq.assign(static_cast<size_t>(publishers), 0);
      }
    }
  }
  pub_seq_.assign(static_cast<size_t>(publishers), std::vector<uint32_t>(rooms, 0));
  return absl::OkStatus();
}

void Runner::StartConnect(Conn& c) {
  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    Fail(c, absl::StrCat("socket: ", std::strerror(errno)));
    return;
  }
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ++in_flight_;
  c.state = State::kTcpConnecting;
  const int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof(addr_));
  if (rc != 0 && errno != EINPROGRESS) {
    Fail(c, absl::StrCat("connect: ", std::strerror(errno)));
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u32 = static_cast<uint32_t>(&c - conns_.data());
  c.want_out = true;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
}

void Runner::Fail(Conn& c, std::string_view why) {
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
    spdlog::warn("client {}{} {}: {}", c.publisher ? "publisher " : "receiver ", c.index,
                 was_ready ? "dropped" : "failed", std::string(why));
  }
}

void Runner::BecomeReady(Conn& c) {
  c.state = State::kReady;
  --in_flight_;
  ++ready_;
}

void Runner::UpdateInterest(Conn& c) {
  const bool want = c.state == State::kTcpConnecting || c.out_pos < c.out.size();
  if (want == c.want_out || c.fd < 0) return;
  c.want_out = want;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  ev.data.u32 = static_cast<uint32_t>(&c - conns_.data());
  epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Runner::Flush(Conn& c) {
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

void Runner::Send(Conn& c, uint8_t opcode, std::string_view payload) {
  if (c.fd < 0) return;
  websocket::AppendClientFrame(c.out, opcode, payload, 0x5a17c3e1u ^ c.index);
  Flush(c);
}

void Runner::OnEvent(Conn& c, uint32_t events) {
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

void Runner::OnReadable(Conn& c) {
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
bool Runner::ProcessInput(Conn& c, std::string_view data, size_t* consumed) {
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
bool Runner::OnText(Conn& c, std::string_view text) {
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
      if (!c.publisher && options_.scenario != Scenario::kIdle) {
        c.state = State::kJoining;
        const std::string join = absl::StrCat(SioPrefix('2'), "1[\"join\",\"r", c.room, "\"]");
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
      OnEvent42(c, sio);
      return true;
    default:
      return true;
  }
}

void Runner::OnEvent42(Conn& c, std::string_view args) {
  constexpr std::string_view kPrefix = "[\"m\",";
  if (c.publisher || args.substr(0, kPrefix.size()) != kPrefix) return;
  args.remove_prefix(kPrefix.size());
  uint64_t publisher = 0, seq = 0, sent_ns = 0;
  if (!TakeNumber(args, &publisher) || !TakeNumber(args, &seq) || !TakeNumber(args, &sent_ns))
    return;
  if (publisher >= c.last_seq.size()) return;
  uint32_t& last = c.last_seq[publisher];
  if (seq <= last) {
    ++duplicates_;
    return;
  }
  if (seq > last + 1u) gaps_ += seq - last - 1u;
  last = static_cast<uint32_t>(seq);
  ++delivered_;
  const uint64_t now = NowNs();
  latency_.Record(now > sent_ns ? now - sent_ns : 0);
}

void Runner::PublishDue(uint64_t now) {
  const auto due =
      static_cast<uint64_t>(static_cast<double>(now - window_start_ns_) * 1e-9 * options_.rate);
  const uint32_t rooms = RoomCount();
  const auto publishers = static_cast<uint32_t>(pub_seq_.size());
  const std::string prefix = SioPrefix('2');
  const std::string pad =
      options_.pad_bytes > 0
          ? absl::StrCat(",\"", std::string(static_cast<size_t>(options_.pad_bytes), 'x'), "\"")
          : std::string();
  while (published_ + publish_skipped_ < due) {
    const uint64_t k = published_ + publish_skipped_;
    const auto p = static_cast<uint32_t>(k % publishers);
    const auto room = static_cast<uint32_t>((k / publishers) % rooms);
    Conn& c = conns_[static_cast<size_t>(options_.receivers) + p];
    if (c.state != State::kReady || c.out.size() - c.out_pos > kMaxQueuedOut) {
      ++publish_skipped_;
      continue;
    }
    const uint32_t seq = ++pub_seq_[p][room];
    frame_scratch_.clear();
    absl::StrAppend(&frame_scratch_, prefix, "[\"publish\",\"r", room, "\",\"m\",", p, ",", seq,
                    ",", NowNs(), pad, "]");
    Send(c, websocket::kWsOpText, frame_scratch_);
    ++published_;
    expected_ += room_members_[room];
  }
}

void Runner::Poll(int timeout_ms) {
  epoll_event events[512];
  const int n = epoll_wait(epoll_, events, 512, timeout_ms);
  for (int i = 0; i < n; ++i) {
    Conn& c = conns_[events[i].data.u32];
    if (c.fd >= 0) OnEvent(c, events[i].events);
  }
}

absl::StatusOr<Report> Runner::Run() {
  if (auto status = Prepare(); !status.ok()) return status;
  const LoadOptions& o = options_;
  Report report;
  report.scenario = o.scenario == Scenario::kFanout  ? "fanout"
                    : o.scenario == Scenario::kRooms ? "rooms"
                                                     : "idle";
  report.connections = static_cast<int>(conns_.size());

  absl::StatusOr<ProcSample> before = ProcSample{};
  if (!o.server_pids.empty()) {
    before = SampleProcesses(o.server_pids);
    if (!before.ok()) return before.status();
  }
  report.server_rss_before = before->rss_bytes;

  // Setup: connect everyone, a bounded number of handshakes at a time.
  const uint64_t setup_start = NowNs();
  const auto setup_deadline = setup_start + static_cast<uint64_t>(o.setup_timeout_s * 1e9);
  const int total = static_cast<int>(conns_.size());
  while (ready_ + failed_ < total && NowNs() < setup_deadline) {
    while (next_connect_ < total && in_flight_ < o.connect_concurrency) {
      StartConnect(conns_[static_cast<size_t>(next_connect_++)]);
    }
    Poll(5);
  }
  for (Conn& c : conns_) {
    if (c.state != State::kReady && c.state != State::kClosed)
      Fail(c, "not ready before --setup-timeout-s");
  }
  report.setup_s = static_cast<double>(NowNs() - setup_start) * 1e-9;
  spdlog::info("setup: {} of {} clients ready in {:.2f} s ({} failed)", ready_, total,
               report.setup_s, failed_);
  if (ready_ == 0)
    return absl::UnavailableError("no client became ready (is the server listening?)");

  absl::StatusOr<ProcSample> held = ProcSample{};
  if (!o.server_pids.empty()) {
    held = SampleProcesses(o.server_pids);
    if (!held.ok()) return held.status();
  }
  report.server_rss_held = held->rss_bytes;

  // Window: publish at the rate (or just hold), then drain.
  measuring_ = true;
  window_start_ns_ = NowNs();
  const auto window_end = window_start_ns_ + static_cast<uint64_t>(o.duration_s * 1e9);
  const bool publishing = o.scenario != Scenario::kIdle;
  const int tick_ms = publishing ? 1 : 50;
  for (uint64_t now = NowNs(); now < window_end; now = NowNs()) {
    if (publishing) PublishDue(now);
    Poll(tick_ms);
  }
  report.window_s = static_cast<double>(NowNs() - window_start_ns_) * 1e-9;
  const auto drain_end = NowNs() + static_cast<uint64_t>(o.drain_s * 1e9);
  while (publishing && delivered_ < expected_ && NowNs() < drain_end) Poll(5);

  absl::StatusOr<ProcSample> after = ProcSample{};
  if (!o.server_pids.empty()) {
    after = SampleProcesses(o.server_pids);
    if (!after.ok()) return after.status();
  }
  closing_ = true;
  for (Conn& c : conns_) Fail(c, "done");

  report.ready = ready_;
  report.connect_failed = failed_;
  report.dropped = dropped_;
  report.published = published_;
  report.publish_skipped = publish_skipped_;
  report.expected = expected_;
  report.delivered = delivered_;
  report.lost = expected_ > delivered_ ? expected_ - delivered_ : 0;
  report.gaps = gaps_;
  report.duplicates = duplicates_;
  report.pings_answered = pings_;
  report.delivered_per_s = static_cast<double>(delivered_) / report.window_s;
  report.p50_us = static_cast<double>(latency_.Quantile(0.5)) / 1e3;
  report.p99_us = static_cast<double>(latency_.Quantile(0.99)) / 1e3;
  report.p999_us = static_cast<double>(latency_.Quantile(0.999)) / 1e3;
  report.max_us = static_cast<double>(latency_.max()) / 1e3;
  report.server_cpu_ns = after->cpu_ns - held->cpu_ns;
  report.server_cpu_ns_per_msg =
      delivered_ > 0 ? static_cast<double>(report.server_cpu_ns) / static_cast<double>(delivered_)
                     : 0;
  report.server_rss_per_conn = static_cast<double>(static_cast<int64_t>(report.server_rss_held) -
                                                   static_cast<int64_t>(report.server_rss_before)) /
                               ready_;
  report.loadgen_cpu_ns = SelfCpuNs();
  return report;
}

}  // namespace

absl::StatusOr<Report> RunLoad(const LoadOptions& options) {
  Runner runner(options);
  return runner.Run();
}

}  // namespace roomq::loadgen
