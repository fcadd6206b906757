#include "broker/stats.h"

#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"

namespace roomq::broker {

std::string_view MalformedName(Malformed reason) {
  switch (reason) {
    case Malformed::kEnvelopeFrames:
      return "envelope_frames";
    case Malformed::kEnvelope:
      return "envelope";
    case Malformed::kVersion:
      return "version";
    case Malformed::kKind:
      return "kind";
    case Malformed::kChannel:
      return "channel";
    case Malformed::kTopic:
      return "topic";
    case Malformed::kTooManyRooms:
      return "too_many_rooms";
    case Malformed::kCommandFrames:
      return "command_frames";
    case Malformed::kCommand:
      return "command";
    case Malformed::kHelloVersion:
      return "hello";
    case Malformed::kCommandTopic:
      return "command_topic";
    case Malformed::kNoHello:
      return "no_hello";
    case Malformed::kPairFrame:
      return "pair_frame";
    case Malformed::kCount:
      break;
  }
  return "unknown";
}

uint64_t BrokerStats::malformed_total() const {
  uint64_t total = 0;
  for (uint64_t count : malformed) total += count;
  return total;
}

std::string BrokerStats::ToString() const {
  std::string out =
      absl::StrCat("routed=", routed, " unrouted=", unrouted, " delivered=", delivered,
                   " dropped_hwm=", dropped_hwm, " dropped_unreachable=", dropped_unreachable,
                   " dropped_peer_bytes=", dropped_peer_bytes, " receipts=", receipts,
                   " receipts_dropped=", receipts_dropped, " commands=", commands,
                   " malformed=", malformed_total());
  if (malformed_total() > 0) {
    std::string_view sep = " (";
    for (size_t i = 0; i < malformed.size(); ++i) {
      if (malformed[i] == 0) continue;
      absl::StrAppend(&out, ToAbsl(sep), ToAbsl(MalformedName(static_cast<Malformed>(i))), "=",
                      malformed[i]);
      sep = " ";
    }
    out += ")";
  }
  absl::StrAppend(&out, " peers=", peers, " queued=", peer_queued_bytes, "B", " topics=", topics,
                  " kept=", kept, " replayed=", replayed, " recovered=", recovered,
                  " recover_failed=", recover_failed, " history=", history_entries, "/",
                  history_bytes, "B sockets=", socket_records_connected, "+",
                  socket_records_disconnected, "/", socket_records_bytes, "B",
                  " socket_records_evicted=", socket_records_evicted,
                  " socket_records_refused=", socket_records_refused,
                  " history_write_failures=", history_write_failures,
                  " history_refused=", history_refused, " history_failing=", history_failing);
  if (pair_state != 0) {
    absl::StrAppend(&out, " pair_state=", pair_state, " pair_peer_alive=", pair_peer_alive,
                    " pair_failovers=", pair_failovers, " pair_conflicts=", pair_conflicts,
                    " pair_refused=", pair_refused, " pair_degraded=", pair_degraded,
                    " pair_replica_lag_bytes=", pair_replica_lag_bytes,
                    " pair_replicated_records=", pair_replicated_records,
                    " pair_syncs=", pair_syncs);
  }
  return out;
}

}  // namespace roomq::broker
