#ifndef ROOMQ_BROKER_STATS_H_
#define ROOMQ_BROKER_STATS_H_

// The broker's counters. Plain integers: the broker loop thread owns them;
// other threads see them only through the periodic log line or after the
// loop stopped.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/sockets/socket_index.h"

namespace roomq::broker {

// Why an input was dropped as malformed.
enum class Malformed : uint8_t {
  kEnvelopeFrames,  // a publish message with other than one frame after the identity
  kEnvelope,        // not a protobuf message
  kVersion,         // Envelope.version is not VERSION_1
  kKind,            // unknown Envelope.kind
  kChannel,         // unknown Envelope.channel
  kTopic,           // invalid target topic (no namespace, too long, ...)
  kTooManyRooms,    // more rooms than wire::kMaxRoomsPerEnvelope
  kCommandFrames,   // a subscriber message with other than one frame after the identity
  kCommand,         // not a SubscriberCommand, or no command in it
  kHelloVersion,    // Hello.version is not VERSION_1, or no node id
  kCommandTopic,    // Subscribe/Unsubscribe with an invalid topic (the command is refused)
  kNoHello,         // Sockets before the node's Hello (no node to hold the sockets)
  kPairFrame,  // on the pair socket: not one frame of a PairFrame of VERSION_1 that makes sense
  kCount,
};
std::string_view MalformedName(Malformed reason);

// What became of a Recover (roomq_broker_recovery_total{outcome}): the
// socket index's outcomes (broker/sockets/socket_index.h).
using RecoveryOutcome = sockets::RecoverOutcome;
inline std::string_view RecoveryOutcomeName(RecoveryOutcome outcome) {
  return sockets::RecoverOutcomeName(outcome);
}

struct BrokerStats {
  uint64_t routed = 0;               // envelopes accepted for routing
  uint64_t unrouted = 0;             // ... of which matched no subscriber
  uint64_t delivered = 0;            // deliveries handed to ZeroMQ
  uint64_t dropped_hwm = 0;          // deliveries dropped: subscriber at its high-water mark
  uint64_t dropped_unreachable = 0;  // deliveries to a peer whose connection was gone
  uint64_t dropped_peer_bytes = 0;   // deliveries dropped: over the peer's max_peer_queue_bytes
  uint64_t receipts = 0;             // PublishReceipts sent
  uint64_t receipts_dropped = 0;     // PublishReceipts the publisher could not take
  uint64_t commands = 0;             // subscriber commands handled
  std::array<uint64_t, static_cast<size_t>(Malformed::kCount)> malformed{};
  uint64_t peers = 0;   // current, refreshed when logged
  uint64_t topics = 0;  // current, refreshed when logged
  // History (broker/history): envelopes kept, deliveries replayed by
  // resumes and recoveries; then the current held envelopes and bytes,
  // refreshed when logged.
  uint64_t kept = 0;
  uint64_t replayed = 0;
  uint64_t recovered = 0;       // Recover answered ok (recovered + taken_over)
  uint64_t recover_failed = 0;  // ... not ok
  std::array<uint64_t, static_cast<size_t>(RecoveryOutcome::kCount)> recovery_outcomes{};
  uint64_t presence_queries = 0;        // Presence commands answered (each page is one)
  uint64_t presence_refused = 0;        // ... with ok = false (bad namespace, too many rooms)
  uint64_t history_write_failures = 0;  // RecordLog::Flush failures (--data-dir)
  // Publishes history would have kept, refused because their log record
  // could not be written (broker.h "A failed log write").
  uint64_t history_refused = 0;
  uint64_t history_entries = 0;
  uint64_t history_bytes = 0;
  // Socket records (broker/sockets): current connected / disconnected
  // records and their encoded bytes, then the index's counters; refreshed
  // when logged.
  uint64_t socket_records_connected = 0;
  uint64_t socket_records_disconnected = 0;
  uint64_t socket_records_bytes = 0;
  uint64_t socket_records_evicted = 0;
  uint64_t socket_records_refused = 0;
  uint64_t socket_records_invalid = 0;
  uint64_t socket_records_expired = 0;
  uint64_t socket_updates_ignored = 0;     // Rooms / Close for a record the node does not hold
  uint64_t socket_log_write_failures = 0;  // socket record log writes that failed (--data-dir)
  // 1 from a failed log write until a write succeeds; refreshed when logged.
  uint64_t history_failing = 0;
  uint64_t log_buffered_bytes = 0;  // records appended, not yet written; refreshed when logged
  // Bytes queued for subscriber peers (PeerQueue::queued): all of them
  // summed (a shared frame counts once per peer) and the largest; refreshed
  // when logged.
  uint64_t peer_queued_bytes = 0;
  uint64_t peer_queued_bytes_max = 0;
  // The failover pair (broker/failover): the state as v1::PairState's
  // number (0 = no pair) and whether the peer was heard within its timeout,
  // refreshed when logged; the machine's counters; commands answered with
  // standby and envelopes dropped while not serving.
  uint64_t pair_state = 0;
  uint64_t pair_peer_alive = 0;
  uint64_t pair_failovers = 0;
  uint64_t pair_conflicts = 0;
  uint64_t pair_refused = 0;
  // Replication (broker_replica.cc). Active: 1 while no passive follows
  // the complete stream (pair_degraded), the bytes queued for the passive
  // and not yet acknowledged (pair_replica_lag_bytes), records sent.
  // Passive: records applied. Both: sessions started / snapshots taken.
  uint64_t pair_degraded = 0;
  uint64_t pair_replica_lag_bytes = 0;
  uint64_t pair_replicated_records = 0;
  uint64_t pair_syncs = 0;

  uint64_t malformed_total() const;
  uint64_t& malformed_count(Malformed reason) { return malformed[static_cast<size_t>(reason)]; }
  uint64_t& recovery_count(RecoveryOutcome outcome) {
    return recovery_outcomes[static_cast<size_t>(outcome)];
  }
  uint64_t malformed_count(Malformed reason) const {
    return malformed[static_cast<size_t>(reason)];
  }

  uint64_t recovery_count(RecoveryOutcome outcome) const {
    return recovery_outcomes[static_cast<size_t>(outcome)];
  }

  // "routed=10 unrouted=0 delivered=40 dropped_hwm=0 ... malformed=2 (version=1 topic=1) peers=4
  // topics=7
  //  kept=10 replayed=0 recovered=0 recover_failed=0 history=10/2048B sockets=3+1/900B"
  std::string ToString() const;

  friend bool operator==(const BrokerStats&, const BrokerStats&) = default;
};

}  // namespace roomq::broker

#endif  // ROOMQ_BROKER_STATS_H_
