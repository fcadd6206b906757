#ifndef ROOMQ_BROKER_HISTORY_SESSION_LOG_H_
#define ROOMQ_BROKER_HISTORY_SESSION_LOG_H_

// SessionLog: the Socket.IO sessions of a SessionStore (session_store.h) on
// disk, so that they survive a broker killed with SIGKILL and restarted with
// the same --data-dir. It lives in <data-dir>/sessions/, a RecordLog
// (broker/storage/record_log.h: CRC-framed records, a torn tail cut on
// open, the same fsync policy as history) of its own, because its retention
// differs from history's: a session must outlive the history entries around
// it, and history's log is cut behind its oldest entry.
//
// Records (type: payload):
//   kSaved  u64 LE wall-clock deadline (microseconds since the epoch) + the
//           v1::Session bytes: the session is kept until then
//   kErased the pid: the session was claimed (a pid recovers once)
// Replaying them in order gives the store back; a session whose deadline has
// passed, or that the store refuses, is skipped. Expiry and evictions are
// not written: a restored store applies its own deadlines and bounds again.
//
// Compaction keeps the log near the size of what it holds: once more than
// max(kMinCompactBytes, 2 x the store's bytes) were appended since the last
// compaction, every live session is appended again and the segments before
// that point are deleted whole. A crash at any moment of it leaves old and
// new records whose replay gives the same sessions.
//
// Thread safety: none; the broker loop's.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "broker/history/session_store.h"
#include "broker/storage/record_log.h"
#include "proto/base/clock.h"
#include "proto/roomq.pb.h"

namespace roomq::broker::history {

inline constexpr uint8_t kRecordSessionSaved = 1;
inline constexpr uint8_t kRecordSessionErased = 2;
inline constexpr size_t kMinCompactBytes = size_t{4} << 20;
// Segments of the session log: small, so compaction frees space soon.
inline constexpr size_t kSessionSegmentBytes = size_t{4} << 20;

class SessionLog {
 public:
  struct Restored {
    uint64_t saved = 0;    // sessions in the store after the replay
    uint64_t skipped = 0;  // expired, refused by the store or unreadable
    storage::OpenReport report;
  };

  // Opens (or creates) the log in options.dir and replays it into `store`,
  // against `clock` (options.clock). The RecordLog's errors.
  static absl::StatusOr<std::unique_ptr<SessionLog>> Open(storage::LogOptions options,
                                                          SessionStore* store, Restored* restored);

  // A session the store took, kept until now + `ttl` (already clamped).
  void Saved(const v1::Session& session, std::chrono::milliseconds ttl);
  // A session claimed (or refused at claim time): gone for good.
  void Erased(std::string_view pid);
  // Writes what is buffered (RecordLog::Flush).
  absl::Status Flush();
  // Compacts when due (see above), then flushes. The RecordLog's errors.
  absl::Status MaybeCompact(const SessionStore& store);

  uint64_t compactions() const { return compactions_; }

 private:
  SessionLog(std::unique_ptr<storage::RecordLog> log, const base::Clock* clock)
      : log_(std::move(log)), clock_(clock) {}
  void Append(uint8_t type, std::string_view payload);

  std::unique_ptr<storage::RecordLog> log_;
  const base::Clock* clock_;
  size_t appended_since_compaction_ = 0;
  uint64_t compactions_ = 0;
  std::string scratch_;
};

}  // namespace roomq::broker::history

#endif  // ROOMQ_BROKER_HISTORY_SESSION_LOG_H_
