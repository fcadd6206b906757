#ifndef ROOMQ_BROKER_STORAGE_RECORD_LOG_H_
#define ROOMQ_BROKER_STORAGE_RECORD_LOG_H_

// RecordLog: the broker's append-only record log on disk (--data-dir).
//
// The broker appends one record per thing it must remember (the history
// layer decides what a record means: `type` is its tag, `payload` its
// bytes) and rebuilds its state on start by replaying every record in order.
// Records get consecutive indexes 1, 2, 3... for the whole life of the log
// (across restarts and segment deletions).
//
// On-disk format (all integers little-endian):
//
//   DIR/EPOCH          the epoch as decimal text + "\n", created once with a
//                      random non-zero value; replaced only atomically
//                      (EPOCH.tmp, fsync, rename, fsync DIR). Never rewritten
//                      while it exists and parses.
//   DIR/LOCK           empty; flock()ed while a RecordLog has DIR open, so a
//                      second broker on the same DIR fails to open it.
//   DIR/<first index, 20 digits>.log
//                      a segment: records back to back, no file header. The
//                      name is the index of its first record; record k of the
//                      file (0-based) has index name + k. Segments are
//                      contiguous: each name is the previous segment's last
//                      index + 1. Only the newest one is ever written to.
//   record             u32 payload length | u32 CRC-32C (Castagnoli,
//                      reflected, init and xorout 0xFFFFFFFF, as iSCSI/ext4)
//                      over (type byte + payload) | u8 type | payload
//                      (9 bytes of header, then `length` bytes).
//
// Durability: Append() only buffers; Flush() writes every buffered record
// with one write() (retried only for a partial write or EINTR) to the
// newest segment, then fsyncs per FsyncPolicy:
//   kAlways    fdatasync after every Flush that wrote something: a Flush
//              that returned OK survives a power loss.
//   kInterval  fdatasync when `fsync_interval` has passed since the last one
//              and something was written since; checked by every Flush (also
//              one with nothing buffered, so the broker's loop must call
//              Flush at least every interval for the bound to hold). A crash
//              of the process loses nothing that Flush wrote; a power loss
//              loses at most the last interval.
//   kNever     the kernel writes back when it likes; a process crash loses
//              nothing flushed, a power loss may lose anything not yet
//              written back, and since rotation does not sync either, it
//              can leave an OLDER segment torn, which Open then refuses as
//              DataLoss (move the damaged files away to start).
// Segment rotation and deletion also fsync the closed segment and DIR,
// except under kNever.
//
// Rotation: when a Flush starts and the newest segment already holds
// `segment_bytes` or more, it is closed and the buffered records go to a new
// segment named after the first of them. A segment therefore exceeds
// `segment_bytes` by at most one Flush's worth of records.
//
// Recovery (Open): segments are read in order and every intact record is
// passed to `replay`. What a crash can leave, a torn tail, is a bad record
// (header cut short, payload cut short, CRC mismatch) in the NEWEST segment
// that is not followed by an intact record: the file is truncated there,
// the cut is fsynced and reported in OpenReport, and Open succeeds. Anything
// else is corruption that a crash does not produce, and Open fails with
// DataLoss naming the file and byte offset rather than silently dropping
// data: a bad record in an older segment, a bad record in the newest
// segment followed by an intact one, a gap between segment names.
//
// Retention: DropBefore(i) deletes whole segments whose every record index
// is < i, oldest first. The newest segment is never deleted (its name keeps
// the next index across a restart), so at least one segment stays once
// anything was written.
//
// Errors: every I/O failure is a Status naming the path and the errno text
// (absl::ErrnoToStatus codes: PermissionDenied, NotFound, ResourceExhausted
// for ENOSPC/EFBIG, ...); nothing here throws or aborts on bad disk contents.
// After a failed write the segment is truncated back to its last good size
// and the records stay buffered, so a later Flush retries them, or the
// caller gives them up with DiscardBuffered (their indexes are handed out
// again). If even that truncation fails, or an fdatasync fails (what reached
// the disk is then unknown), the log is broken(): every later Flush returns
// the same error, and records appended since the last good Flush may or may
// not be found by the next Open. Append keeps buffering in either case: the
// buffer is bounded only by the caller discarding what it cannot write (the
// broker does so after every failed Flush).
//
// Writes, syncs and the cut-back go through LogOptions::env (env.h), the seam
// tests use to make them fail.
//
// Thread safety: none. One thread owns a RecordLog (the broker loop).
//
// Limits: a payload is at most kMaxPayloadBytes (1 GiB); the caller
// (the broker, ZMQ_MAXMSGSIZE 4 MiB by default) stays far below it. Open
// reads one segment at a time wholly into memory (segment_bytes plus one
// Flush, 64 MiB by default).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/storage/env.h"
#include "proto/base/clock.h"

namespace roomq::broker::storage {

enum class FsyncPolicy { kNever, kInterval, kAlways };

inline constexpr size_t kMaxPayloadBytes = size_t{1} << 30;

struct LogOptions {
  std::string dir;                  // created (with parents) if missing
  size_t segment_bytes = 64 << 20;  // a segment is closed and a new one started past this
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  std::chrono::milliseconds fsync_interval{1000};
  // What fsync_interval is measured on (Now()); must outlive the log.
  const base::Clock* clock = &base::Clock::Real();
  // What writes, syncs and cuts back segments; must outlive the log.
  Env* env = Env::Default();
};

// One record as replayed. `payload` points into a buffer valid only during
// the replay callback.
struct Record {
  uint64_t index;  // 1, 2, 3... for the log's life
  uint8_t type;
  std::string_view payload;
};

struct OpenReport {
  uint64_t records = 0;          // intact records replayed
  uint64_t segments = 0;         // segment files found (after the tail cut)
  uint64_t truncated_bytes = 0;  // bytes cut off the newest segment's tail; 0 = clean
  std::string truncated_reason;  // e.g. "00000000000000000042.log: short payload at offset 1234";
                                 // empty = clean
};

class RecordLog {
 public:
  // Opens or creates the log in options.dir; replays every intact record in
  // order through `replay` (may be empty); cuts and reports a torn tail of
  // the newest segment (see Recovery above); loads or creates DIR/EPOCH.
  // `report` may be null.
  // Errors: InvalidArgument for empty dir / zero segment_bytes / negative
  // interval / a null clock or env; DataLoss for corruption or an unreadable EPOCH;
  // FailedPrecondition when another RecordLog holds the dir; the errno-derived code for an I/O
  // failure (a dir that cannot be created or written, ...).
  static absl::StatusOr<std::unique_ptr<RecordLog>> Open(
      LogOptions options, const std::function<void(const Record&)>& replay, OpenReport* report);

  // Flushes what is buffered (a failure is logged, not returned) and closes.
  ~RecordLog();
  RecordLog(const RecordLog&) = delete;
  RecordLog& operator=(const RecordLog&) = delete;

  // Persisted in DIR/EPOCH, random and non-zero on creation.
  uint64_t epoch() const { return epoch_; }

  // Buffers one record and returns its index. Nothing reaches the file
  // until Flush(). Precondition: payload.size() <= kMaxPayloadBytes (larger
  // payloads make every later Flush fail with InvalidArgument).
  uint64_t Append(uint8_t type, std::string_view payload);

  // Writes the buffered records (one write per call), rotates segments,
  // fsyncs per policy. The broker calls it once per loop iteration (after
  // draining what is ready) and on shutdown. OK with nothing to do.
  absl::Status Flush();

  // Deletes whole segments whose every record index < `index` (never the
  // newest segment). OK when there is nothing to delete.
  absl::Status DropBefore(uint64_t index);

  // Gives up the records appended since the last successful Flush: they are
  // not written, and next_index() goes back to the first of them (the next
  // Append gets that index again). Returns how many records were dropped.
  // For a caller that answers a failed Flush by refusing what it appended;
  // on a broken() log those records may still have reached the file.
  size_t DiscardBuffered();

  // The error every Flush returns from now on (see Errors), or OK.
  const absl::Status& broken() const { return broken_; }

  // The index the next Append returns.
  uint64_t next_index() const { return next_index_; }
  // Index of the oldest record still on disk or buffered (next_index() when
  // the log is empty).
  uint64_t first_index() const;
  // Bytes buffered by Append and not yet written.
  size_t buffered_bytes() const { return buffer_.size(); }

  struct Stats {
    uint64_t writes = 0;  // write() calls that wrote records
    uint64_t bytes_written = 0;
    uint64_t syncs = 0;  // fdatasync of segments
    uint64_t segments_created = 0;
    uint64_t segments_deleted = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Segment {
    uint64_t first_index;
    std::string path;
    uint64_t bytes;
  };

  explicit RecordLog(LogOptions options);
  absl::Status Recover(const std::function<void(const Record&)>& replay, OpenReport* report);
  absl::Status OpenNewestForAppend();
  absl::Status StartSegment(uint64_t first_index);
  absl::Status SyncSegment();
  absl::Status SyncDir();

  const LogOptions options_;
  uint64_t epoch_ = 0;
  int lock_fd_ = -1;
  int fd_ = -1;                    // newest segment, O_APPEND; -1 before the first write
  std::vector<Segment> segments_;  // oldest first; back() is the newest
  uint64_t next_index_ = 1;
  uint64_t buffered_first_index_ = 1;  // index of the first record in buffer_
  std::string buffer_;                 // encoded records not yet written
  size_t buffered_records_ = 0;        // records in buffer_
  bool oversized_ = false;             // an Append exceeded kMaxPayloadBytes
  bool dirty_ = false;                 // written since the last fdatasync
  base::Clock::TimePoint last_sync_;
  absl::Status broken_;  // set when a failed write could not be undone
  Stats stats_;
};

}  // namespace roomq::broker::storage

#endif  // ROOMQ_BROKER_STORAGE_RECORD_LOG_H_
