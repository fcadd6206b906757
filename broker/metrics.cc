#include "broker/metrics.h"

#include "absl/strings/str_format.h"
#include "broker/failover/pair_state.h"
#include "proto/base/prometheus_text.h"

namespace roomq::broker {

void StatsSnapshot::Publish(const BrokerStats& stats) {
  const auto now = std::chrono::steady_clock::now();
  absl::MutexLock lock(&mutex_);
  stats_ = stats;
  published_ = now;
}

BrokerStats StatsSnapshot::Latest(std::chrono::steady_clock::time_point* published_at) const {
  absl::MutexLock lock(&mutex_);
  if (published_at != nullptr) *published_at = published_;
  return stats_;
}

std::string FormatPrometheus(const BrokerStats& stats, std::chrono::milliseconds age,
                             const std::optional<CurveCounters>& curve) {
  base::PrometheusText page("roomq_broker_");
  page.Counter("routed_total", "Envelopes accepted for routing.", stats.routed);
  page.Counter("unrouted_total", "Routed envelopes that matched no subscriber.", stats.unrouted);
  page.Counter("delivered_total", "Deliveries handed to ZeroMQ.", stats.delivered);
  page.Header("dropped_total", "counter",
              "Deliveries lost: hwm = subscriber at its high-water mark, peer_queue_bytes = over "
              "its --max-peer-queue-bytes, unreachable = its connection was gone.");
  page.Sample("dropped_total", {{"reason", "hwm"}}, stats.dropped_hwm);
  page.Sample("dropped_total", {{"reason", "peer_queue_bytes"}}, stats.dropped_peer_bytes);
  page.Sample("dropped_total", {{"reason", "unreachable"}}, stats.dropped_unreachable);
  page.Counter("receipts_total", "PublishReceipts sent.", stats.receipts);
  page.Counter("receipts_dropped_total", "PublishReceipts the publisher could not take.",
               stats.receipts_dropped);
  page.Counter("commands_total", "Subscriber commands handled.", stats.commands);
  page.Header("malformed_total", "counter", "Inputs dropped as malformed, by reason.");
  for (size_t i = 0; i < static_cast<size_t>(Malformed::kCount); ++i) {
    page.Sample("malformed_total", {{"reason", MalformedName(static_cast<Malformed>(i))}},
                stats.malformed[i]);
  }
  page.Gauge("subscribers", "Subscriber peers (sessions) known.", stats.peers);
  page.Gauge("topics", "Topics with at least one subscriber.", stats.topics);
  page.Gauge("peer_queued_bytes",
             "Bytes sent to subscriber peers that ZeroMQ still holds, summed over peers.",
             stats.peer_queued_bytes);
  page.Gauge("peer_queued_bytes_max",
             "Bytes ZeroMQ still holds for the subscriber peer with the most.",
             stats.peer_queued_bytes_max);
  page.Counter("history_kept_total", "Room events kept in history.", stats.kept);
  page.Counter("history_replayed_total", "Deliveries replayed by resumes and recoveries.",
               stats.replayed);
  page.Counter("recoveries_total", "Recover requests answered ok.", stats.recovered);
  page.Counter("recoveries_failed_total", "Recover requests answered not ok.",
               stats.recover_failed);
  page.Counter("presence_queries_total",
               "Presence queries answered (each page is one), from the socket records.",
               stats.presence_queries);
  page.Counter("presence_refused_total",
               "Presence queries refused: a bad namespace or room, too many rooms.",
               stats.presence_refused);
  page.Header("recovery_total", "counter",
              "Recover requests by outcome: recovered (a disconnected record), taken_over (a "
              "record connected on another node), gap (history no longer covers the window), "
              "expired, unknown, epoch_changed, refused.");
  for (size_t i = 0; i < stats.recovery_outcomes.size(); ++i) {
    page.Sample("recovery_total",
                {{"outcome", RecoveryOutcomeName(static_cast<RecoveryOutcome>(i))}},
                stats.recovery_outcomes[i]);
  }
  page.Counter("history_write_failures_total", "History log writes that failed (--data-dir).",
               stats.history_write_failures);
  page.Counter("history_refused_total",
               "Publishes refused because their history record could not be written.",
               stats.history_refused);
  page.Gauge("history_failing", "1 from a failed history log write until a write succeeds.",
             stats.history_failing);
  page.Gauge("history_log_buffered_bytes", "History log records appended and not yet written.",
             stats.log_buffered_bytes);
  page.Gauge("history_entries", "Envelopes held in history.", stats.history_entries);
  page.Gauge("history_bytes", "Bytes of envelopes held in history.", stats.history_bytes);
  page.Header("socket_records", "gauge",
              "Socket records held: connected on a node, or disconnected awaiting recovery.");
  page.Sample("socket_records", {{"state", "connected"}}, stats.socket_records_connected);
  page.Sample("socket_records", {{"state", "disconnected"}}, stats.socket_records_disconnected);
  page.Gauge("socket_records_bytes", "Encoded bytes of the socket records (sessions.max_bytes).",
             stats.socket_records_bytes);
  page.Counter("socket_records_evicted_total",
               "Disconnected socket records evicted at sessions.max_records / max_bytes.",
               stats.socket_records_evicted);
  page.Counter("socket_records_refused_total",
               "Socket records refused at the bounds with every record connected (the socket works "
               "but cannot be recovered).",
               stats.socket_records_refused);
  page.Counter("socket_records_invalid_total",
               "Socket Opens refused: no namespace or id, or over a per-record limit.",
               stats.socket_records_invalid);
  page.Counter("socket_records_expired_total",
               "Disconnected socket records removed at the end of their recovery window.",
               stats.socket_records_expired);
  page.Counter("socket_updates_ignored_total",
               "Socket room changes and closes for a record the node does not hold.",
               stats.socket_updates_ignored);
  page.Counter("socket_log_write_failures_total",
               "Socket record log writes that failed (--data-dir).",
               stats.socket_log_write_failures);
  if (stats.pair_state != 0) {
    page.Header("pair_state", "gauge",
                "This broker's state in its failover pair (1 at the state it is in).");
    for (auto state = static_cast<uint64_t>(failover::PairState::kStartingPrimary);
         state <= static_cast<uint64_t>(failover::PairState::kPassive); ++state) {
      page.Sample("pair_state",
                  {{"state", failover::PairStateName(static_cast<failover::PairState>(state))}},
                  stats.pair_state == state ? 1 : 0);
    }
    page.Gauge("pair_peer_alive", "1 while the pair's other broker is heard within its timeout.",
               stats.pair_peer_alive);
    page.Counter(
        "pair_failovers_total",
        "Times this broker turned active because the active peer was lost and a node came.",
        stats.pair_failovers);
    page.Counter("pair_conflicts_total",
                 "Two active brokers, two passive ones, or both brokers with one role, seen.",
                 stats.pair_conflicts);
    page.Counter("pair_refused_total",
                 "Node commands answered with standby, and envelopes dropped, while not serving.",
                 stats.pair_refused);
    page.Gauge("pair_degraded",
               "1 while this broker is active and no passive peer follows its whole record "
               "stream.",
               stats.pair_degraded);
    page.Gauge("pair_replica_lag_bytes",
               "Replication bytes queued for the passive peer and not yet acknowledged.",
               stats.pair_replica_lag_bytes);
    page.Counter("pair_replicated_records_total",
                 "Records sent to the passive peer (active) or applied from the active (passive).",
                 stats.pair_replicated_records);
    page.Counter("pair_syncs_total",
                 "Replication sessions started: snapshots sent (active) or taken (passive).",
                 stats.pair_syncs);
  }
  page.Header("snapshot_age_seconds", "gauge", "Age of the published counters.");
  page.Sample("snapshot_age_seconds", {},
              absl::StrFormat("%.3f", static_cast<double>(age.count()) / 1000.0));
  if (curve.has_value()) {
    page.Header("curve_auth_total", "counter",
                "CURVE clients asked about by ZAP: accepted = a listed key, refused = an unknown "
                "key, another mechanism or a malformed request.");
    page.Sample("curve_auth_total", {{"result", "accepted"}}, curve->accepted);
    page.Sample("curve_auth_total", {{"result", "refused"}}, curve->refused);
    page.Counter("curve_handshake_failures_total",
                 "Peers that failed the CURVE handshake before ZAP (no CURVE, wrong server key).",
                 curve->handshake_failed);
  }
  page.Gauge("up", "1 while the metrics endpoint answers.", 1);
  return page.Take();
}

Health CheckHealth(const BrokerStats& stats) {
  if (stats.history_failing != 0) {
    return {false, "{\"status\":\"degraded\",\"reason\":\"history_log_failing\"}\n"};
  }
  if (stats.pair_degraded != 0) {
    return {false, "{\"status\":\"degraded\",\"reason\":\"pair_replica_missing\"}\n"};
  }
  return {true, "{\"status\":\"ok\"}\n"};
}

}  // namespace roomq::broker
