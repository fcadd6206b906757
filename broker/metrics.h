#ifndef ROOMQ_BROKER_METRICS_H_
#define ROOMQ_BROKER_METRICS_H_

// The broker's counters as Prometheus text (exposition format 0.0.4), and
// the hand-over of those counters from the broker loop to the thread that
// serves them (broker/metrics_http.h).
//
// The loop never shares its live BrokerStats: every publish interval
// (Broker::SetStatsObserver, 100 ms in roomq-broker) it copies them into a
// StatsSnapshot under a mutex held for one struct copy; a scrape copies
// them out the same way. So a scrape never touches loop state and the loop
// never waits on a scrape for longer than a copy.
//
// Metric names (all prefixed roomq_broker_):
//   routed_total                 counter  envelopes accepted for routing
//   unrouted_total               counter  ... of which matched no subscriber
//   delivered_total              counter  deliveries handed to ZeroMQ
//   dropped_total{reason}        counter  hwm | peer_queue_bytes | unreachable (deliveries lost)
//   receipts_total               counter  PublishReceipts sent
//   receipts_dropped_total       counter  PublishReceipts the publisher could not take
//   commands_total               counter  subscriber commands handled
//   malformed_total{reason}      counter  every Malformed reason (stats.h), zeros included
//   subscribers                  gauge    subscriber peers (sessions) known
//   topics                       gauge    topics with at least one subscriber
//   peer_queued_bytes / _max     gauge    bytes ZeroMQ holds for subscriber peers: sum / largest
//   history_kept_total           counter  room events kept in history
//   history_replayed_total       counter  deliveries replayed by resumes and recoveries
//   recovery_total{outcome}      counter  recovered | taken_over | gap | expired | unknown |
//                                         epoch_changed | refused (every Recover answered)
//   history_write_failures_total counter  history log writes that failed (--data-dir)
//   history_refused_total        counter  publishes refused: their log record was not written
//   history_failing              gauge    1 from a failed log write until a write succeeds
//   history_log_buffered_bytes   gauge    log records appended, not yet written
//   history_entries / history_bytes   gauge  envelopes / bytes held in history
//   socket_records{state}        gauge    connected | disconnected socket records
//   socket_records_bytes         gauge    their encoded bytes
//   socket_records_evicted_total / _refused_total / _invalid_total / _expired_total  counter
//   socket_updates_ignored_total counter  Rooms / Close for a record the node does not hold
//   socket_log_write_failures_total  counter  socket record log writes that failed
//   snapshot_age_seconds         gauge    how old the published counters are
//   up                           gauge    1 (the endpoint answers)
// Only with CURVE on (--curve-secret-key), read live from the ZapHandler:
//   curve_auth_total{result}     counter  accepted | refused ZAP requests
//   curve_handshake_failures_total  counter  handshakes failed before ZAP
//
// Thread safety: StatsSnapshot is safe from any thread; FormatPrometheus is
// a pure function.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "broker/stats.h"

namespace roomq::broker {

class StatsSnapshot {
 public:
  // Replaces the published counters (the loop thread calls this).
  void Publish(const BrokerStats& stats) ABSL_LOCKS_EXCLUDED(mutex_);
  // The latest published counters and when they were published (a
  // default-constructed time point before the first Publish).
  BrokerStats Latest(std::chrono::steady_clock::time_point* published_at = nullptr) const
      ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  mutable absl::Mutex mutex_;
  BrokerStats stats_ ABSL_GUARDED_BY(mutex_);
  std::chrono::steady_clock::time_point published_ ABSL_GUARDED_BY(mutex_);
};

// The CURVE counters of the broker's ZapHandler (security/zap_handler.h).
struct CurveCounters {
  uint64_t accepted = 0;          // ZAP requests admitted (a listed client key)
  uint64_t refused = 0;           // ZAP requests refused: unknown key, other mechanism, malformed
  uint64_t handshake_failed = 0;  // peers that failed before ZAP: no CURVE, wrong server key
};

// What GET /healthz answers: ok, or degraded while the history log fails
// (publishes history keeps are refused then; everything else is routed).
struct Health {
  bool ok;
  std::string body;  // JSON: {"status":"ok"} or {"status":"degraded","reason":"..."}
};
Health CheckHealth(const BrokerStats& stats);

// The Prometheus text of `stats`; `age` is how old the counters are.
// `curve`: the CURVE counters when CURVE is on; nullopt leaves them out.
std::string FormatPrometheus(const BrokerStats& stats, std::chrono::milliseconds age,
                             const std::optional<CurveCounters>& curve = std::nullopt);

}  // namespace roomq::broker

#endif  // ROOMQ_BROKER_METRICS_H_
