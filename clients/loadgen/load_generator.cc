// The scenario driver: checks the options, lays the clients out (receivers
// in their rooms, then publishers), connects them (client_pool.h), runs the
// publish (or hold) window at the rate and the drain, and puts the Report
// together from the pool's counts, the DeliveryTally and /proc samples.

#include "clients/loadgen/load_generator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "clients/loadgen/client_pool.h"
#include "clients/loadgen/delivery_tally.h"
#include "clients/loadgen/message.h"
#include "clients/loadgen/proc_stats.h"
#include "proto/base/status_macros.h"

namespace roomq::loadgen {
namespace {

constexpr size_t kMaxQueuedOut = 4u << 20;  // publisher send queue bound
constexpr int kSpareFds = 64;

// The options' ranges, and the server's address; InvalidArgument naming the
// flag at fault.
absl::StatusOr<sockaddr_in> CheckOptions(const LoadOptions& o) {
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
  sockaddr_in server{};
  if (inet_pton(AF_INET, o.host.c_str(), &server.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--host must be an IPv4 address, got ", o.host));
  }
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<uint16_t>(o.port));
  return server;
}

// Raises RLIMIT_NOFILE to its hard limit; FailedPrecondition when
// `connections` and the spare descriptors still do not fit.
absl::Status RaiseFileLimit(int connections) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (static_cast<rlim_t>(connections) + kSpareFds > limit.rlim_cur) {
    return absl::FailedPreconditionError(absl::StrCat(
        connections, " connections need ", connections + kSpareFds, " open files; the limit is ",
        limit.rlim_cur, " (hard limit ", limit.rlim_max, ")"));
  }
  return absl::OkStatus();
}

// The server processes' CPU and RSS now; zeros when no PID was given.
absl::StatusOr<ProcSample> SampleServer(const LoadOptions& o) {
  if (o.server_pids.empty()) return ProcSample{};
  return SampleProcesses(o.server_pids);
}

class Runner {
 public:
  explicit Runner(const LoadOptions& options)
      : options_(options),
        publishers_(options.scenario == Scenario::kIdle ? 0 : options.publishers) {}

  absl::StatusOr<Report> Run();

 private:
  absl::Status Prepare();
  void PublishDue(uint64_t now);
  uint32_t RoomCount() const;

  const LoadOptions& options_;
  const int publishers_;  // 0 in the idle scenario; checked by Prepare
  std::unique_ptr<ClientPool> pool_;
  std::optional<DeliveryTally> tally_;  // once Prepare checked the counts
  std::string args_scratch_;
  uint64_t window_start_ns_ = 0;
  uint64_t published_ = 0;
  uint64_t publish_skipped_ = 0;
  uint64_t expected_ = 0;
  std::vector<uint32_t> room_members_;
  std::vector<std::vector<uint32_t>> pub_seq_;  // [publisher][room]
};

uint32_t Runner::RoomCount() const {
  if (options_.scenario != Scenario::kRooms) return 1;
  return static_cast<uint32_t>((options_.receivers + options_.room_size - 1) / options_.room_size);
}

absl::Status Runner::Prepare() {
  const LoadOptions& o = options_;
  ROOMQ_ASSIGN_OR_RETURN(const sockaddr_in server, CheckOptions(o));
  const int total = o.receivers + publishers_;
  ROOMQ_RETURN_IF_ERROR(RaiseFileLimit(total));
  ROOMQ_ASSIGN_OR_RETURN(
      pool_, ClientPool::Open(server, absl::StrCat(o.host, ":", o.port), o.ns,
                              [this](uint32_t receiver, std::string_view args) {
                                if (std::optional<Message> message = ParseMessageArgs(args)) {
                                  tally_->Record(receiver, *message, MonotonicNs());
                                }
                              }));

  tally_.emplace(o.receivers, publishers_);
  const uint32_t rooms = RoomCount();
  room_members_.assign(rooms, 0);
  for (int i = 0; i < total; ++i) {
    ClientRole role;
    role.publisher = i >= o.receivers;
    role.index = static_cast<uint32_t>(role.publisher ? i - o.receivers : i);
    if (!role.publisher && o.scenario != Scenario::kIdle) {
      role.joins = true;
      role.room =
          o.scenario == Scenario::kRooms ? role.index / static_cast<uint32_t>(o.room_size) : 0;
      ++room_members_[role.room];
    }
    pool_->Add(role);
  }
  pub_seq_.assign(static_cast<size_t>(publishers_), std::vector<uint32_t>(rooms, 0));
  return absl::OkStatus();
}

// Sends what the rate asks for by `now` since the window began, round-robin
// over the publishers, each cycling over the rooms. A message whose publisher
// is not ready or has more than kMaxQueuedOut queued is skipped, not
// delayed, so a slow server cannot make the generator fall behind.
void Runner::PublishDue(uint64_t now) {
  const auto due =
      static_cast<uint64_t>(static_cast<double>(now - window_start_ns_) * 1e-9 * options_.rate);
  const uint32_t rooms = RoomCount();
  const auto publishers = static_cast<uint32_t>(pub_seq_.size());
  const std::string pad = PadArgument(options_.pad_bytes);
  while (published_ + publish_skipped_ < due) {
    const uint64_t k = published_ + publish_skipped_;
    const auto p = static_cast<uint32_t>(k % publishers);
    const auto room = static_cast<uint32_t>((k / publishers) % rooms);
    const size_t id = static_cast<size_t>(options_.receivers) + p;
    if (!pool_->IsReady(id) || pool_->QueuedBytes(id) > kMaxQueuedOut) {
      ++publish_skipped_;
      continue;
    }
    const uint32_t seq = ++pub_seq_[p][room];
    args_scratch_.clear();
    AppendPublishArgs(args_scratch_, room, p, seq, MonotonicNs(), pad);
    pool_->SendEvent(id, args_scratch_);
    ++published_;
    expected_ += room_members_[room];
  }
}

absl::StatusOr<Report> Runner::Run() {
  ROOMQ_RETURN_IF_ERROR(Prepare());
  const LoadOptions& o = options_;
  ClientPool& pool = *pool_;
  Report report;
  report.scenario = o.scenario == Scenario::kFanout  ? "fanout"
                    : o.scenario == Scenario::kRooms ? "rooms"
                                                     : "idle";
  report.connections = static_cast<int>(pool.size());

  ROOMQ_ASSIGN_OR_RETURN(const ProcSample before, SampleServer(o));
  report.server_rss_before = before.rss_bytes;

  // Setup: connect everyone, a bounded number of handshakes at a time.
  const uint64_t setup_start = MonotonicNs();
  const auto setup_deadline = setup_start + static_cast<uint64_t>(o.setup_timeout_s * 1e9);
  const int total = static_cast<int>(pool.size());
  int next_connect = 0;
  while (pool.ready() + pool.failed() < total && MonotonicNs() < setup_deadline) {
    while (next_connect < total && pool.in_flight() < o.connect_concurrency) {
      pool.StartConnect(static_cast<size_t>(next_connect++));
    }
    pool.Poll(5);
  }
  pool.FailUnready("not ready before --setup-timeout-s");
  report.setup_s = static_cast<double>(MonotonicNs() - setup_start) * 1e-9;
  spdlog::info("setup: {} of {} clients ready in {:.2f} s ({} failed)", pool.ready(), total,
               report.setup_s, pool.failed());
  if (pool.ready() == 0)
    return absl::UnavailableError("no client became ready (is the server listening?)");

  ROOMQ_ASSIGN_OR_RETURN(const ProcSample held, SampleServer(o));
  report.server_rss_held = held.rss_bytes;

  // Window: publish at the rate (or just hold), then drain.
  window_start_ns_ = MonotonicNs();
  const auto window_end = window_start_ns_ + static_cast<uint64_t>(o.duration_s * 1e9);
  const bool publishing = o.scenario != Scenario::kIdle;
  const int tick_ms = publishing ? 1 : 50;
  for (uint64_t now = MonotonicNs(); now < window_end; now = MonotonicNs()) {
    if (publishing) PublishDue(now);
    pool.Poll(tick_ms);
  }
  report.window_s = static_cast<double>(MonotonicNs() - window_start_ns_) * 1e-9;
  const auto drain_end = MonotonicNs() + static_cast<uint64_t>(o.drain_s * 1e9);
  while (publishing && tally_->delivered() < expected_ && MonotonicNs() < drain_end) pool.Poll(5);

  ROOMQ_ASSIGN_OR_RETURN(const ProcSample after, SampleServer(o));
  pool.CloseAll();

  report.ready = pool.ready();
  report.connect_failed = pool.failed();
  report.dropped = pool.dropped();
  report.published = published_;
  report.publish_skipped = publish_skipped_;
  report.expected = expected_;
  tally_->AddTo(report);
  const uint64_t delivered = tally_->delivered();
  report.lost = expected_ > delivered ? expected_ - delivered : 0;
  report.pings_answered = pool.pings_answered();
  report.delivered_per_s = static_cast<double>(delivered) / report.window_s;
  report.server_cpu_ns = after.cpu_ns - held.cpu_ns;
  report.server_cpu_ns_per_msg =
      delivered > 0 ? static_cast<double>(report.server_cpu_ns) / static_cast<double>(delivered)
                    : 0;
  report.server_rss_per_conn = static_cast<double>(static_cast<int64_t>(report.server_rss_held) -
                                                   static_cast<int64_t>(report.server_rss_before)) /
                               pool.ready();
  report.loadgen_cpu_ns = SelfCpuNs();
  return report;
}

}  // namespace

absl::StatusOr<Report> RunLoad(const LoadOptions& options) {
  Runner runner(options);
  return runner.Run();
}

}  // namespace roomq::loadgen
