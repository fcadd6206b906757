#ifndef ROOMQ_BROKER_STORAGE_ENV_H_
#define ROOMQ_BROKER_STORAGE_ENV_H_

// Env: the file operations of the record log's write path, behind a small
// interface so that tests can make them fail (a full disk, an I/O error, a
// write cut short) without a real failing disk, as leveldb's Env does.
//
// Only what can fail while the broker runs goes through it: writing records
// to a segment, syncing a segment, and cutting a segment back after a failed
// write. Opening, recovery, rotation and deletion stay plain POSIX calls
// (file_io.h): they fail at start, where the broker refuses to run, or are
// retried by the next housekeeping.
//
// Env::Default() is the POSIX implementation (file_io.h). A test overrides
// the methods it wants to break and calls the base class for the rest.
//
// Thread safety: Default() is stateless and may be shared; a RecordLog calls
// its Env from its own thread only.

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"

namespace roomq::broker::storage {

class Env {
 public:
  virtual ~Env() = default;

  // Writes all of `data` to `fd` (a segment opened for append). A failure
  // may come after part of it was written (the caller cuts that back).
  virtual absl::Status Write(int fd, std::string_view data, std::string_view path);
  // fdatasync(fd). After a failure what reached the disk is unknown.
  virtual absl::Status Sync(int fd, std::string_view path);
  // ftruncate(fd, size): undoes a partial write.
  virtual absl::Status Truncate(int fd, uint64_t size, std::string_view path);

  // The POSIX Env; lives for the whole program.
  static Env* Default();
};

}  // namespace roomq::broker::storage

#endif  // ROOMQ_BROKER_STORAGE_ENV_H_
