#include "broker/storage/record_log.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/storage/epoch_file.h"
#include "broker/storage/file_io.h"
#include "broker/storage/record_format.h"
#include "proto/base/absl_compat.h"
#include "proto/base/status_macros.h"

namespace roomq::broker::storage {
namespace {

constexpr size_t kIndexDigits = 20;
constexpr std::string_view kSegmentSuffix = ".log";

std::string SegmentName(uint64_t first_index) {
  char name[kIndexDigits + 1];
  std::snprintf(name, sizeof name, "%020llu", static_cast<unsigned long long>(first_index));
  return absl::StrCat(name, ToAbsl(kSegmentSuffix));
}

// The first index a segment file name stands for, or 0 when `name` is not
// a segment's name ("<20 digits>.log").
uint64_t ParseSegmentName(std::string_view name) {
  if (name.size() != kIndexDigits + kSegmentSuffix.size() ||
      name.substr(kIndexDigits) != kSegmentSuffix) {
    return 0;
  }
  const std::string_view digits = name.substr(0, kIndexDigits);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  uint64_t index = 0;
  if (!absl::SimpleAtoi(ToAbsl(digits), &index)) return 0;
  return index;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RecordLog>> RecordLog::Open(
    LogOptions options, const std::function<void(const Record&)>& replay, OpenReport* report) {
  if (options.dir.empty()) return absl::InvalidArgumentError("record log: empty dir");
  if (options.segment_bytes == 0) return absl::InvalidArgumentError("record log: segment_bytes 0");
  if (options.fsync_interval.count() < 0) {
    return absl::InvalidArgumentError("record log: negative fsync interval");
  }
  if (options.clock == nullptr) return absl::InvalidArgumentError("record log: no clock");
  if (options.env == nullptr) return absl::InvalidArgumentError("record log: no env");
  ROOMQ_RETURN_IF_ERROR(EnsureDirectory(options.dir));
  std::unique_ptr<RecordLog> log(new RecordLog(std::move(options)));
  const std::string& dir = log->options_.dir;

  const std::string lock_path = dir + "/LOCK";
  log->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kPrivateFileMode);
  if (log->lock_fd_ < 0) return ErrnoStatus(errno, "open", lock_path);
  if (::flock(log->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat(dir, " is in use by another record log (", lock_path, " is locked)"));
    }
    return ErrnoStatus(errno, "flock", lock_path);
  }
  ROOMQ_ASSIGN_OR_RETURN(log->epoch_, LoadOrCreateEpoch(dir));

  OpenReport local_report;
  ROOMQ_RETURN_IF_ERROR(log->Recover(replay, report != nullptr ? report : &local_report));
  ROOMQ_RETURN_IF_ERROR(log->OpenNewestForAppend());
  log->buffered_first_index_ = log->next_index_;
  log->last_sync_ = log->options_.clock->Now();
  return log;
}

RecordLog::RecordLog(LogOptions options) : options_(std::move(options)) {}

RecordLog::~RecordLog() {
  if (broken_.ok()) {
    absl::Status status = Flush();
    if (status.ok() && dirty_ && options_.fsync != FsyncPolicy::kNever) status = SyncSegment();
    if (!status.ok()) spdlog::error("record log {}: closing: {}", options_.dir, status.ToString());
  }
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

absl::Status RecordLog::Recover(const std::function<void(const Record&)>& replay,
                                OpenReport* report) {
  const std::string& dir = options_.dir;
  std::error_code error;
  std::vector<std::pair<uint64_t, std::string>> files;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    const std::string name = it->path().filename().string();
    const uint64_t first = ParseSegmentName(name);
    if (first != 0) {
      files.emplace_back(first, it->path().string());
    } else if (name.size() == kIndexDigits + kSegmentSuffix.size() &&
               name.substr(kIndexDigits) == kSegmentSuffix) {
      return absl::DataLossError(absl::StrCat(it->path().string(), ": bad segment name"));
    }
  }
  if (error) return ErrnoStatus(error.value(), "list directory", dir);
  std::sort(files.begin(), files.end());

  uint64_t next = files.empty() ? 1 : files.front().first;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& [first, path] = files[i];
    const bool newest = i + 1 == files.size();
    if (first != next) {
      return absl::DataLossError(absl::StrCat(path, ": segments are not contiguous: expected ",
                                              SegmentName(next), " after the previous one"));
    }
    ROOMQ_ASSIGN_OR_RETURN(const std::string content, ReadWholeFile(path));
    const std::string_view bytes = content;
    size_t offset = 0;
    while (offset < bytes.size()) {
      uint8_t type = 0;
      std::string_view payload;
      size_t size = 0;
      const DecodeResult result = DecodeRecord(bytes.substr(offset), &type, &payload, &size);
      if (result == DecodeResult::kOk) {
        if (replay) replay(Record{next, type, payload});
        ++next;
        ++report->records;
        offset += size;
        continue;
      }
      const std::string where =
          absl::StrCat(path, ": ", DecodeResultName(result), " at offset ", offset);
      if (!newest) return absl::DataLossError(absl::StrCat(where, " (not the newest segment)"));
      if (result == DecodeResult::kBadCrc) {
        // A complete record with a bad CRC followed by an intact one is not a
        // torn write: refuse rather than cut the good records after it.
        uint8_t next_type;
        std::string_view next_payload;
        size_t next_size;
        if (DecodeRecord(bytes.substr(offset + size), &next_type, &next_payload, &next_size) ==
            DecodeResult::kOk) {
          return absl::DataLossError(
              absl::StrCat(where, ", followed by an intact record at offset ", offset + size));
        }
      }
      if (::truncate(path.c_str(), static_cast<off_t>(offset)) != 0) {
        return ErrnoStatus(errno, "truncate the torn tail of", path);
      }
      const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) return ErrnoStatus(errno, "open", path);
      const absl::Status synced = SyncFile(fd, path);
      ::close(fd);
      ROOMQ_RETURN_IF_ERROR(synced);
      report->truncated_bytes = bytes.size() - offset;
      report->truncated_reason = where;
      break;
    }
    segments_.push_back(Segment{first, path, offset});
  }
  report->segments = segments_.size();
  next_index_ = next;
  return absl::OkStatus();
}

absl::Status RecordLog::OpenNewestForAppend() {
  if (segments_.empty()) return absl::OkStatus();
  const std::string& path = segments_.back().path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return ErrnoStatus(errno, "open for append", path);
  return absl::OkStatus();
}

uint64_t RecordLog::first_index() const {
  return segments_.empty() ? buffered_first_index_ : segments_.front().first_index;
}

uint64_t RecordLog::Append(uint8_t type, std::string_view payload) {
  if (payload.size() > kMaxPayloadBytes) {
    oversized_ = true;
  } else {
    EncodeRecord(type, payload, buffer_);
  }
  ++buffered_records_;
  return next_index_++;
}

size_t RecordLog::DiscardBuffered() {
  const size_t dropped = buffered_records_;
  buffer_.clear();
  buffer_.shrink_to_fit();
  buffered_records_ = 0;
  oversized_ = false;
  next_index_ = buffered_first_index_;
  return dropped;
}

absl::Status RecordLog::StartSegment(uint64_t first_index) {
  const std::string path = absl::StrCat(options_.dir, "/", SegmentName(first_index));
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return ErrnoStatus(errno, "create segment", path);
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  dirty_ = false;
  segments_.push_back(Segment{first_index, path, 0});
  ++stats_.segments_created;
  if (options_.fsync != FsyncPolicy::kNever) return SyncDir();
  return absl::OkStatus();
}

absl::Status RecordLog::SyncSegment() {
  absl::Status status = options_.env->Sync(fd_, segments_.back().path);
  if (!status.ok()) {
    // After a failed fdatasync the kernel may have dropped the dirty pages;
    // what is on disk is unknown, so stop rather than pretend.
    broken_ = status;
    return status;
  }
  dirty_ = false;
  last_sync_ = options_.clock->Now();
  ++stats_.syncs;
  return absl::OkStatus();
}

absl::Status RecordLog::SyncDir() { return SyncDirectory(options_.dir); }

absl::Status RecordLog::Flush() {
  if (!broken_.ok()) return broken_;
  if (oversized_) {
    return absl::InvalidArgumentError(
        absl::StrCat("record log: a payload over ", kMaxPayloadBytes, " bytes was appended"));
  }
  if (!buffer_.empty()) {
    if (fd_ < 0) {
      ROOMQ_RETURN_IF_ERROR(StartSegment(buffered_first_index_));
    } else if (segments_.back().bytes >= options_.segment_bytes) {
      if (dirty_ && options_.fsync != FsyncPolicy::kNever) ROOMQ_RETURN_IF_ERROR(SyncSegment());
      ROOMQ_RETURN_IF_ERROR(StartSegment(buffered_first_index_));
    }
    Segment& segment = segments_.back();
    absl::Status written = options_.env->Write(fd_, buffer_, segment.path);
    if (!written.ok()) {
      // Undo a partial write so the segment ends on a record boundary and
      // the buffered records can be retried.
      if (absl::Status undone = options_.env->Truncate(fd_, segment.bytes, segment.path);
          !undone.ok()) {
        broken_ = absl::Status(
            written.code(),
            absl::StrCat(written.message(), "; undoing it failed too: ", undone.message()));
        return broken_;
      }
      return written;
    }
    segment.bytes += buffer_.size();
    ++stats_.writes;
    stats_.bytes_written += buffer_.size();
    buffer_.clear();
    buffered_records_ = 0;
    buffered_first_index_ = next_index_;
    dirty_ = true;
  }
  if (!dirty_) return absl::OkStatus();
  switch (options_.fsync) {
    case FsyncPolicy::kAlways:
      return SyncSegment();
    case FsyncPolicy::kInterval:
      if (options_.clock->Now() - last_sync_ >= options_.fsync_interval) {
        return SyncSegment();
      }
      return absl::OkStatus();
    case FsyncPolicy::kNever:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status RecordLog::DropBefore(uint64_t index) {
  size_t drop = 0;
  while (drop + 1 < segments_.size() && segments_[drop + 1].first_index <= index) ++drop;
  if (drop == 0) return absl::OkStatus();
  size_t deleted = 0;
  absl::Status status;
  for (; deleted < drop; ++deleted) {
    if (::unlink(segments_[deleted].path.c_str()) != 0 && errno != ENOENT) {
      status = ErrnoStatus(errno, "delete segment", segments_[deleted].path);
      break;
    }
  }
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(deleted));
  stats_.segments_deleted += deleted;
  if (deleted > 0 && options_.fsync != FsyncPolicy::kNever) {
    const absl::Status synced = SyncDir();
    if (status.ok()) status = synced;
  }
  return status;
}

}  // namespace roomq::broker::storage
