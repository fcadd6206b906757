#include "broker/metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "proto/base/absl_compat.h"

namespace roomq::broker {
namespace {

void AppendHeader(std::string* out, std::string_view name, std::string_view type,
                  std::string_view help) {
  absl::StrAppend(out, "# HELP roomq_broker_", ToAbsl(name), " ", ToAbsl(help), "\n",
                  "# TYPE roomq_broker_", ToAbsl(name), " ", ToAbsl(type), "\n");
}

void AppendMetric(std::string* out, std::string_view name, std::string_view type,
                  std::string_view help, uint64_t value) {
  AppendHeader(out, name, type, help);
  absl::StrAppend(out, "roomq_broker_", ToAbsl(name), " ", value, "\n");
}

// Label values here are our own fixed reason names ([a-z_]), so they need
// no escaping.
void AppendLabeled(std::string* out, std::string_view name, std::string_view label,
                   std::string_view value, uint64_t count) {
  absl::StrAppend(out, "roomq_broker_", ToAbsl(name), "{", ToAbsl(label), "=\"", ToAbsl(value),
                  "\"} ", count, "\n");
}

}  // namespace

void StatsSnapshot::Publish(const BrokerStats& stats) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  stats_ = stats;
  published_ = now;
}

BrokerStats StatsSnapshot::Latest(std::chrono::steady_clock::time_point* published_at) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (published_at != nullptr) *published_at = published_;
  return stats_;
}

std::string FormatPrometheus(const BrokerStats& stats, std::chrono::milliseconds age,
                             const std::optional<CurveCounters>& curve) {
  std::string out;
  out.reserve(4096);
  AppendMetric(&out, "routed_total", "counter", "Envelopes accepted for routing.", stats.routed);
  AppendMetric(&out, "unrouted_total", "counter", "Routed envelopes that matched no subscriber.",
               stats.unrouted);
  AppendMetric(&out, "delivered_total", "counter", "Deliveries handed to ZeroMQ.", stats.delivered);
  AppendHeader(&out, "dropped_total", "counter",
               "Deliveries lost: hwm = subscriber at its high-water mark, peer_queue_bytes = over "
               "its --max-peer-queue-bytes, unreachable = its connection was gone.");
  AppendLabeled(&out, "dropped_total", "reason", "hwm", stats.dropped_hwm);
  AppendLabeled(&out, "dropped_total", "reason", "peer_queue_bytes", stats.dropped_peer_bytes);
  AppendLabeled(&out, "dropped_total", "reason", "unreachable", stats.dropped_unreachable);
  AppendMetric(&out, "receipts_total", "counter", "PublishReceipts sent.", stats.receipts);
  AppendMetric(&out, "receipts_dropped_total", "counter",
               "PublishReceipts the publisher could not take.", stats.receipts_dropped);
  AppendMetric(&out, "commands_total", "counter", "Subscriber commands handled.", stats.commands);
  AppendHeader(&out, "malformed_total", "counter", "Inputs dropped as malformed, by reason.");
  for (size_t i = 0; i < static_cast<size_t>(Malformed::kCount); ++i) {
    AppendLabeled(&out, "malformed_total", "reason", MalformedName(static_cast<Malformed>(i)),
                  stats.malformed[i]);
  }
  AppendMetric(&out, "subscribers", "gauge", "Subscriber peers (sessions) known.", stats.peers);
  AppendMetric(&out, "topics", "gauge", "Topics with at least one subscriber.", stats.topics);
  AppendMetric(&out, "peer_queued_bytes", "gauge",
               "Bytes sent to subscriber peers that ZeroMQ still holds, summed over peers.",
               stats.peer_queued_bytes);
  AppendMetric(&out, "peer_queued_bytes_max", "gauge",
               "Bytes ZeroMQ still holds for the subscriber peer with the most.",
               stats.peer_queued_bytes_max);
  AppendMetric(&out, "history_kept_total", "counter", "Room events kept in history.", stats.kept);
  AppendMetric(&out, "history_replayed_total", "counter",
               "Deliveries replayed by resumes and recoveries.", stats.replayed);
  AppendMetric(&out, "recoveries_total", "counter", "Recover requests answered ok.",
               stats.recovered);
  AppendMetric(&out, "recoveries_failed_total", "counter", "Recover requests answered not ok.",
               stats.recover_failed);
  AppendHeader(&out, "recovery_total", "counter",
               "Recover requests by outcome: recovered (a disconnected record), taken_over (a "
               "record connected on another node), gap (history no longer covers the window), "
               "expired, unknown, epoch_changed, refused.");
  for (size_t i = 0; i < stats.recovery_outcomes.size(); ++i) {
    AppendLabeled(&out, "recovery_total", "outcome",
                  RecoveryOutcomeName(static_cast<RecoveryOutcome>(i)), stats.recovery_outcomes[i]);
  }
  AppendMetric(&out, "history_write_failures_total", "counter",
               "History log writes that failed (--data-dir).", stats.history_write_failures);
  AppendMetric(&out, "history_refused_total", "counter",
               "Publishes refused because their history record could not be written.",
               stats.history_refused);
  AppendMetric(&out, "history_failing", "gauge",
               "1 from a failed history log write until a write succeeds.", stats.history_failing);
  AppendMetric(&out, "history_log_buffered_bytes", "gauge",
               "History log records appended and not yet written.", stats.log_buffered_bytes);
  AppendMetric(&out, "history_entries", "gauge", "Envelopes held in history.",
               stats.history_entries);
  AppendMetric(&out, "history_bytes", "gauge", "Bytes of envelopes held in history.",
               stats.history_bytes);
  AppendHeader(&out, "socket_records", "gauge",
               "Socket records held: connected on a node, or disconnected awaiting recovery.");
  AppendLabeled(&out, "socket_records", "state", "connected", stats.socket_records_connected);
  AppendLabeled(&out, "socket_records", "state", "disconnected", stats.socket_records_disconnected);
  AppendMetric(&out, "socket_records_bytes", "gauge",
               "Encoded bytes of the socket records (sessions.max_bytes).",
               stats.socket_records_bytes);
  AppendMetric(&out, "socket_records_evicted_total", "counter",
               "Disconnected socket records evicted at sessions.max_records / max_bytes.",
               stats.socket_records_evicted);
  AppendMetric(&out, "socket_records_refused_total", "counter",
               "Socket records refused at the bounds with every record connected (the socket works "
               "but cannot be recovered).",
               stats.socket_records_refused);
  AppendMetric(&out, "socket_records_invalid_total", "counter",
               "Socket Opens refused: no namespace or id, or over a per-record limit.",
               stats.socket_records_invalid);
  AppendMetric(&out, "socket_records_expired_total", "counter",
               "Disconnected socket records removed at the end of their recovery window.",
               stats.socket_records_expired);
  AppendMetric(&out, "socket_updates_ignored_total", "counter",
               "Socket room changes and closes for a record the node does not hold.",
               stats.socket_updates_ignored);
  AppendMetric(&out, "socket_log_write_failures_total", "counter",
               "Socket record log writes that failed (--data-dir).",
               stats.socket_log_write_failures);
  AppendHeader(&out, "snapshot_age_seconds", "gauge", "Age of the published counters.");
  absl::StrAppend(&out, "roomq_broker_snapshot_age_seconds ",
                  absl::StrFormat("%.3f", static_cast<double>(age.count()) / 1000.0), "\n");
  if (curve.has_value()) {
    AppendHeader(&out, "curve_auth_total", "counter",
                 "CURVE clients asked about by ZAP: accepted = a listed key, refused = an unknown "
                 "key, another mechanism or a malformed request.");
    AppendLabeled(&out, "curve_auth_total", "result", "accepted", curve->accepted);
    AppendLabeled(&out, "curve_auth_total", "result", "refused", curve->refused);
    AppendMetric(&out, "curve_handshake_failures_total", "counter",
                 "Peers that failed the CURVE handshake before ZAP (no CURVE, wrong server key).",
                 curve->handshake_failed);
  }
  AppendMetric(&out, "up", "gauge", "1 while the metrics endpoint answers.", 1);
  return out;
}

Health CheckHealth(const BrokerStats& stats) {
  if (stats.history_failing != 0) {
    return {false, "{\"status\":\"degraded\",\"reason\":\"history_log_failing\"}\n"};
  }
  return {true, "{\"status\":\"ok\"}\n"};
}

}  // namespace roomq::broker
