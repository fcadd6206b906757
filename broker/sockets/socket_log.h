#ifndef ROOMQ_BROKER_SOCKETS_SOCKET_LOG_H_
#define ROOMQ_BROKER_SOCKETS_SOCKET_LOG_H_

// SocketLog: the socket records on disk (--data-dir: DIR/sockets), a
// storage::RecordLog of its own (CRC-framed records, a torn tail cut on
// open, the broker's --fsync policy) fed as the SocketIndex's journal. Every
// persistence call of the socket records is here. It is not history's log
// because the retention differs: history's log is cut behind its oldest
// entry, and a socket connected for days must not pin days of segments.
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
// Open replays every record, in order, into the index with its Restore*
// calls (no bounds, no counting): a torn end is cut by the RecordLog; a
// record this code cannot parse is skipped and counted
// (SocketLogReport::skipped). Durability follows the RecordLog: the journal
// calls buffer, Flush writes.
//
// Compaction keeps the log near the size of what it holds: once more than
// max(min_compact_bytes, 2 x the index's bytes) were appended since the last
// one, every record of the index is appended again whole (type 1) and the
// segments wholly before that point are deleted. Replay stays right at any
// crash point: a whole record replaces whatever came before it, a change to
// a record not (yet) restored is ignored, and a record erased before the
// compaction is not re-appended, so older records of it that survive are
// followed by their erase.
//
// Thread safety: none; the broker loop thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/sockets/socket_index.h"
#include "broker/storage/env.h"
#include "broker/storage/record_log.h"
#include "proto/base/clock.h"

namespace roomq::broker::sockets {

// The journal's records without a log: each change encoded as SocketLog
// writes it (the record types above), handed to `sink`. The broker's
// journal, which feeds the SocketLog and a failover pair's replication
// stream (broker/broker_replica.cc).
class SocketRecordEncoder final : public SocketJournal {
 public:
  using Sink = std::function<void(uint8_t type, std::string_view payload)>;
  explicit SocketRecordEncoder(Sink sink) : sink_(std::move(sink)) {}

  void Put(const SocketRecord& record) override;
  void Rooms(const v1::SocketRooms& applied) override;
  void State(const SocketRecord& record) override;
  void Erase(std::string_view ns, std::string_view socket_id) override;

 private:
  Sink sink_;
  std::string scratch_;
};

// Applies one record (a type and payload as SocketRecordEncoder made them)
// to `index` with its Restore* calls; false when it is not understood.
bool ApplySocketRecord(uint8_t type, std::string_view payload, SocketIndex& index);

struct SocketLogOptions {
  std::string dir;  // created 0700 with its parents
  storage::FsyncPolicy fsync = storage::FsyncPolicy::kInterval;
  // Compaction is due once this much, and twice the index's bytes, was
  // appended since the last one.
  size_t min_compact_bytes = size_t{4} << 20;
  // Small segments, so that compaction frees space soon.
  size_t segment_bytes = size_t{4} << 20;
  const base::Clock* clock = &base::Clock::Real();
  storage::Env* env = storage::Env::Default();
};

struct SocketLogReport {
  storage::OpenReport open;
  uint64_t skipped = 0;  // records not understood
};

class SocketLog final : public SocketJournal {
 public:
  // Opens (or creates) the log and replays it into `index`, which should be
  // empty. The RecordLog's errors (DataLoss, FailedPrecondition when
  // another broker holds DIR, I/O errors).
  static absl::StatusOr<std::unique_ptr<SocketLog>> Open(SocketLogOptions options,
                                                         SocketIndex& index,
                                                         SocketLogReport* report);

  // SocketJournal: each buffers one tail record.
  void Put(const SocketRecord& record) override { encoder_.Put(record); }
  void Rooms(const v1::SocketRooms& applied) override { encoder_.Rooms(applied); }
  void State(const SocketRecord& record) override { encoder_.State(record); }
  void Erase(std::string_view ns, std::string_view socket_id) override {
    encoder_.Erase(ns, socket_id);
  }
  // Buffers one record encoded elsewhere (SocketRecordEncoder).
  void Append(uint8_t type, std::string_view payload);

  // Writes what was buffered (RecordLog::Flush).
  absl::Status Flush() { return log_->Flush(); }
  // Compacts against `index` (the one this journals) when due, then
  // flushes. The RecordLog's errors.
  absl::Status MaybeCompact(const SocketIndex& index);

  uint64_t compactions() const { return compactions_; }
  const storage::RecordLog& log() const { return *log_; }

 private:
  SocketLog(std::unique_ptr<storage::RecordLog> log, size_t min_compact_bytes)
      : log_(std::move(log)), min_compact_bytes_(min_compact_bytes) {}

  std::unique_ptr<storage::RecordLog> log_;
  const size_t min_compact_bytes_;
  size_t appended_since_compaction_ = 0;
  uint64_t compactions_ = 0;
  SocketRecordEncoder encoder_{
      [this](uint8_t type, std::string_view payload) { Append(type, payload); }};
};

}  // namespace roomq::broker::sockets

#endif  // ROOMQ_BROKER_SOCKETS_SOCKET_LOG_H_
