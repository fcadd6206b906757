#ifndef ROOMQ_BROKER_STORAGE_FILE_IO_H_
#define ROOMQ_BROKER_STORAGE_FILE_IO_H_

// Thin POSIX file helpers for the record log: every failure becomes an
// absl::Status whose code comes from errno (absl::ErrnoToStatus) and whose
// message names the operation and the path. EINTR is retried.
//
// Thread safety: reentrant (they only touch the descriptors passed in).

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace roomq::broker::storage {

// absl::ErrnoToStatus(error, "<what> <path>: <strerror>").
absl::Status ErrnoStatus(int error, std::string_view what, std::string_view path);

// Writes all of `data` (loops over partial writes).
absl::Status WriteAll(int fd, std::string_view data, std::string_view path);
// The whole content of a regular file.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);
// fdatasync(fd).
absl::Status SyncFile(int fd, std::string_view path);
// Opens `dir` and fsyncs it, so created/renamed/deleted entries are durable.
absl::Status SyncDirectory(const std::string& dir);
// Mode of every file the broker stores (owner read/write only: history holds
// every client's events).
inline constexpr int kPrivateFileMode = 0600;

// Creates `dir` and its parents when missing and makes `dir` itself private
// (0700, also when it existed); FailedPrecondition when it exists and is not
// a directory, or its mode cannot be set (not its owner).
absl::Status EnsureDirectory(const std::string& dir);

}  // namespace roomq::broker::storage

#endif  // ROOMQ_BROKER_STORAGE_FILE_IO_H_
