#include "broker/storage/env.h"

#include <unistd.h>

#include <cerrno>

#include "broker/storage/file_io.h"

namespace roomq::broker::storage {

absl::Status Env::Write(int fd, std::string_view data, std::string_view path) {
  return WriteAll(fd, data, path);
}

absl::Status Env::Sync(int fd, std::string_view path) { return SyncFile(fd, path); }

absl::Status Env::Truncate(int fd, uint64_t size, std::string_view path) {
  while (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    if (errno != EINTR) return ErrnoStatus(errno, "ftruncate", path);
  }
  return absl::OkStatus();
}

Env* Env::Default() {
  static Env* const env = new Env();
  return env;
}

}  // namespace roomq::broker::storage
