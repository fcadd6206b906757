// roomq-broker: flags in, Broker out. Everything else lives in the library.

#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "broker/broker.h"
#include "broker/config.h"
#include "broker/metrics.h"
#include "broker/metrics_http.h"
#include "broker/security/curve_server.h"
#include "google/protobuf/stubs/logging.h"
#include "proto/base/command_line.h"
#include "proto/base/flag_file.h"
#include "proto/base/log_options.h"
#include "spdlog/spdlog.h"

namespace {

// How long a clean shutdown may take after SIGINT/SIGTERM before the
// process leaves anyway. The clean path (stop the loop, log the final stats
// line, close the sockets with ZMQ_LINGER 0) takes milliseconds; what can
// hold it forever is a write to stdout when nobody reads the log pipe (an
// orphaned broker whose log reader is gone but whose pipe is still held
// open): the write blocks and restarts after the signal. The broker keeps
// no state worth flushing, so an overdue shutdown still exits 0.
constexpr unsigned kShutdownGraceSeconds = 1;

// How often the loop copies its counters for the metrics endpoint.
constexpr std::chrono::milliseconds kMetricsPublishInterval{100};

roomq::broker::Broker* g_broker = nullptr;
volatile sig_atomic_t g_stopping = 0;

extern "C" void OnShutdownOverdue(int) { _exit(0); }

extern "C" void OnStopSignal(int) {
  if (g_stopping) _exit(0);  // a second signal: no more waiting
  g_stopping = 1;
  alarm(kShutdownGraceSeconds);
  if (g_broker != nullptr) g_broker->Stop();
}

// Protobuf logs an ERROR line for every command with invalid UTF-8; from
// untrusted peers that is a log flood. The broker counts those as malformed
// already, so protobuf's lines go to debug.
void ProtobufLogToDebug(google::protobuf::LogLevel level, const char* filename, int line,
                        const std::string& message) {
  spdlog::debug("protobuf {}:{}: {}", filename, line, message);
}

}  // namespace

int main(int argc, char** argv) {
  using roomq::broker::storage::FsyncPolicy;
  roomq::broker::BrokerOptions options;
  int io_threads = 1;
  std::string config_path;
  std::string curve_secret_key;
  std::string curve_clients;
  std::string metrics_bind;
  CLI::App app{"Routes roomq envelopes from publishers to subscribers by exact topic.",
               "roomq-broker"};
  roomq::base::UseRoomqConventions(app);
  app.add_option("--pub-bind", options.pub_bind,
                 "Endpoint publishers send envelopes to (ROUTER); tcp://host:* picks a free port");
  app.add_option("--sub-bind", options.sub_bind,
                 "Endpoint subscribers receive deliveries from (ROUTER); tcp://host:* picks a free "
                 "port");
  roomq::base::AddMilliseconds(app, "--heartbeat-ms", options.heartbeat,
                               "Heartbeat assumed for subscribers whose Hello gives none; silent "
                               "for 3 of them = expired");
  app.add_option("--hwm", options.hwm,
                 "High-water mark (messages) per socket and peer; a subscriber over it loses "
                 "deliveries");
  app.add_option("--max-message-bytes", options.max_message_bytes,
                 "Largest message (frame) accepted from a peer (ZMQ_MAXMSGSIZE); a peer sending "
                 "more is disconnected by ZeroMQ. The default fits a gateway's largest envelope (a "
                 "1,000,000-byte event to 1000 rooms) with room to spare");
  app.add_option("--max-peer-queue-bytes", options.max_peer_queue_bytes,
                 "Bytes the broker may hold queued for one subscriber peer (deliveries, replays, "
                 "answers); a message over it is dropped and counted (dropped_total{reason="
                 "\"peer_queue_bytes\"}). At least --max-message-bytes + 2 MiB");
  app.add_option("--max-topics-per-peer", options.max_topics_per_peer,
                 "Subscriptions one subscriber may hold");
  roomq::base::AddMilliseconds(app, "--stats-interval-ms", options.stats_interval,
                               "How often counters are logged (when they changed)")
      ->check(roomq::base::AtLeast(1));
  app.add_option("--io-threads", io_threads, "ZeroMQ I/O threads")->check(roomq::base::AtLeast(1));
  app.add_option("--config", config_path,
                 "YAML config file: any flag as a key (hwm: 1000; flags given here win), history "
                 "limits (per namespace) and session store limits; none = defaults (1000 "
                 "messages and 2 min per topic, 256 MiB in all)")
      ->check(CLI::ExistingFile);
  app.add_option("--data-dir", options.data_dir,
                 "Directory of the history log: history survives a restart (same epoch); empty = "
                 "memory only, a new epoch per start");
  roomq::base::AddChoice(app, "--fsync", options.fsync,
                         {{"always", FsyncPolicy::kAlways},
                          {"interval", FsyncPolicy::kInterval},
                          {"never", FsyncPolicy::kNever}},
                         "When the history log is fsynced: always (every write), interval (every "
                         "second), never");
  app.add_option("--curve-secret-key", curve_secret_key,
                 "CURVE: file with this broker's secret key (roomq keygen NAME writes "
                 "NAME.key/.pub); with --curve-clients both sockets accept only CURVE clients "
                 "with a listed key")
      ->check(CLI::ExistingFile);
  app.add_option("--curve-clients", curve_clients,
                 "CURVE: directory of the allowed client public keys (*.pub files, one key each)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--metrics-bind", metrics_bind,
                 "HOST:PORT serving GET /metrics (Prometheus text) on its own thread; port 0 "
                 "picks a free port (logged); none = off")
      ->check(roomq::base::kHostPort);
  using roomq::broker::failover::Role;
  // "none" is a value too, so that --print-config's output reads back.
  enum class PairRole { kNone, kPrimary, kBackup };
  PairRole pair_role = PairRole::kNone;
  roomq::base::AddChoice(
      app, "--pair-role", pair_role,
      {{"none", PairRole::kNone}, {"primary", PairRole::kPrimary}, {"backup", PairRole::kBackup}},
      "Failover: this broker's role in a primary/backup pair "
      "(broker/failover/README.md); none = alone. Needs --pair-bind and "
      "--pair-peer");
  app.add_option("--pair-bind", options.pair.bind,
                 "Failover: endpoint the pair's other broker sends its heartbeats to (ROUTER)");
  app.add_option("--pair-peer", options.pair.peer,
                 "Failover: the other broker's --pair-bind endpoint");
  roomq::base::AddMilliseconds(app, "--pair-heartbeat-ms", options.pair.heartbeat,
                               "Failover: heartbeat between the pair's brokers; the peer is lost "
                               "after 2 silent ones")
      ->check(roomq::base::AtLeast(1));
  roomq::base::AddChoice(app, "--pair-ack", options.pair.ack_both,
                         {{"primary", false}, {"both", true}},
                         "Failover: when a burst's deliveries and publish receipts go out: once "
                         "the active broker's log has it (primary), or once the passive broker "
                         "acknowledged it too (both; the passive then keeps the epoch at "
                         "takeover, so resumes and recoveries carry on)");
  app.add_option("--pair-max-lag-bytes", options.pair.max_lag_bytes,
                 "Failover: replication bytes queued for the passive broker and not "
                 "acknowledged, beyond its snapshot, past which it is dropped (it syncs again)")
      ->capture_default_str()
      ->check(roomq::base::AtLeast(1));
  roomq::base::LogOptions log;
  roomq::base::AddLogOptions(app, log);
  bool print_config = false;
  roomq::base::AddPrintConfigFlag(app, print_config);
  roomq::base::ParseCommandLineOrExit(app, argc, argv);
  const std::string config_text =
      roomq::base::ApplyConfigFileOrExit(app, config_path, print_config, {"history", "sessions"});
  roomq::base::ApplyLogOptions(log);
  options.pair.enabled = pair_role != PairRole::kNone;
  options.pair.role = pair_role == PairRole::kBackup ? Role::kBackup : Role::kPrimary;
  if (!options.pair.enabled && (!options.pair.bind.empty() || !options.pair.peer.empty())) {
    std::fprintf(stderr, "roomq-broker: --pair-bind and --pair-peer need --pair-role\n");
    return 2;
  }

  if (!config_path.empty()) {
    auto config =
        roomq::broker::ParseBrokerConfig(config_text, config_path, roomq::base::FlagKeys(app));
    if (!config.ok()) {
      std::fprintf(stderr, "roomq-broker: --config: %s\n",
                   std::string(config.status().message()).c_str());
      return 2;
    }
    options.history = std::move(config->history);
    options.sessions = config->sessions;
  }

  google::protobuf::SetLogHandler(&ProtobufLogToDebug);
  zmq::context_t context(io_threads);
  // The ZAP handler runs before the sockets bind and is destroyed after them.
  auto curve = roomq::broker::security::SetUpCurveServer(context, curve_secret_key, curve_clients);
  if (!curve.ok()) {
    spdlog::error("roomq-broker: {}", curve.status().ToString());
    return absl::IsInvalidArgument(curve.status()) ? 2 : 1;
  }
  options.curve_secret_key = curve->secret_key;
  auto broker = roomq::broker::Broker::Create(context, options);
  if (!broker.ok()) {
    spdlog::error("roomq-broker: {}", broker.status().ToString());
    return absl::IsInvalidArgument(broker.status()) ? 2 : 1;
  }
  // The metrics endpoint reads only this snapshot, which the loop refreshes
  // every kMetricsPublishInterval.
  roomq::broker::StatsSnapshot metrics_snapshot;
  std::unique_ptr<roomq::broker::MetricsHttpServer> metrics_server;
  if (!metrics_bind.empty()) {
    auto started =
        roomq::broker::MetricsHttpServer::Start(metrics_bind, &metrics_snapshot, curve->zap.get());
    if (!started.ok()) {
      spdlog::error("roomq-broker: --metrics-bind: {}", started.status().ToString());
      return absl::IsInvalidArgument(started.status()) ? 2 : 1;
    }
    metrics_server = *std::move(started);
    metrics_snapshot.Publish((*broker)->stats());
    (*broker)->SetStatsObserver(
        [&metrics_snapshot](const roomq::broker::BrokerStats& stats) {
          metrics_snapshot.Publish(stats);
        },
        kMetricsPublishInterval);
    spdlog::info("roomq-broker metrics on http://{}/metrics", metrics_server->endpoint());
  }
  g_broker = broker->get();
  std::signal(SIGALRM, OnShutdownOverdue);
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGPIPE, SIG_IGN);

  const absl::Status status = (*broker)->Run();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  g_broker = nullptr;
  broker->reset();
  metrics_server.reset();
  if (!status.ok()) {
    spdlog::error("roomq-broker: {}", status.ToString());
    return 1;
  }
  return 0;
}
