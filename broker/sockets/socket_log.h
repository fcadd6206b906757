#ifndef ROOMQ_BROKER_SOCKETS_SOCKET_LOG_H_
#define ROOMQ_BROKER_SOCKETS_SOCKET_LOG_H_

// SocketLog: the socket records on disk (--data-dir: DIR/sockets), a
// storage::SnapshotLog (a snapshot of every record plus a tail of changes
// since) fed as the SocketIndex's journal. Every persistence call of the
// socket records is here.
//
// Records (type byte, then payload; integers little-endian):
//   1 record  u8 state | i64 deadline_us | v1::Session with rooms and node.
//             A whole record: an Open (created or replaced) in the tail,
//             and every record of a snapshot.
//   2 rooms   v1::SocketRooms: the rooms a change added and removed.
//   3 state   u8 state | i64 deadline_us | v1::Session{namespace,
//             socket_id, node}: connected on node / disconnected until
//             deadline (a close, a node's death, a recovery).
//   4 erase   v1::Session{namespace, socket_id}: removed.
// So a tail record costs what its change does (a join writes the room, not
// the record). Deadlines are wall-clock microseconds: they mean the same
// after a restart.
//
// Open replays the snapshot, then the tail, into the index with its
// Restore* calls (no bounds, no counting): a torn end of the tail is cut by
// the SnapshotLog; a record this code cannot parse is skipped and counted
// (SocketLogReport::skipped). Compact writes every record of the index as a
// new snapshot. Durability follows the SnapshotLog (and so the broker's
// --fsync policy): Append buffers, Flush writes.
//
// Thread safety: none; the broker loop thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/sockets/socket_index.h"
#include "broker/storage/env.h"
#include "broker/storage/record_log.h"
#include "broker/storage/snapshot_log.h"
#include "proto/base/clock.h"

namespace roomq::broker::sockets {

struct SocketLogOptions {
  std::string dir;  // created 0700 with its parents
  storage::FsyncPolicy fsync = storage::FsyncPolicy::kInterval;
  // A new snapshot once the tail holds at least this much and more than the
  // snapshot.
  size_t min_compact_bytes = 4 << 20;
  const base::Clock* clock = &base::Clock::Real();
  storage::Env* env = storage::Env::Default();
};

struct SocketLogReport {
  storage::SnapshotOpenReport open;
  uint64_t skipped = 0;  // records not understood
};

class SocketLog final : public SocketJournal {
 public:
  // Opens (or creates) the log and replays it into `index`, which should be
  // empty. The SnapshotLog's errors (DataLoss, FailedPrecondition when
  // another broker holds DIR, I/O errors).
  static absl::StatusOr<std::unique_ptr<SocketLog>> Open(SocketLogOptions options,
                                                         SocketIndex& index,
                                                         SocketLogReport* report);

  // SocketJournal: each buffers one tail record.
  void Put(const SocketRecord& record) override;
  void Rooms(const v1::SocketRooms& applied) override;
  void State(const SocketRecord& record) override;
  void Erase(std::string_view ns, std::string_view socket_id) override;

  // Writes what was buffered (SnapshotLog::Flush).
  absl::Status Flush() { return log_->Flush(); }
  bool ShouldCompact() const { return log_->ShouldCompact(); }
  // A new snapshot of every record of `index` (the one this journals).
  absl::Status Compact(const SocketIndex& index);
  const storage::SnapshotLog& log() const { return *log_; }

 private:
  explicit SocketLog(std::unique_ptr<storage::SnapshotLog> log) : log_(std::move(log)) {}

  std::unique_ptr<storage::SnapshotLog> log_;
  std::string scratch_;
};

}  // namespace roomq::broker::sockets

#endif  // ROOMQ_BROKER_SOCKETS_SOCKET_LOG_H_
