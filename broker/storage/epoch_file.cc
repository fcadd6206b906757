#include "broker/storage/epoch_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/storage/file_io.h"
#include "proto/base/status_macros.h"

namespace roomq::broker::storage {
namespace {

uint64_t RandomEpoch() {
  std::random_device device;
  uint64_t epoch = 0;
  while (epoch == 0) epoch = (uint64_t{device()} << 32) ^ device();
  return epoch;
}

}  // namespace

absl::Status WriteEpoch(const std::string& dir, uint64_t epoch) {
  if (epoch == 0) return absl::InvalidArgumentError("epoch 0 is reserved");
  const std::string path = dir + "/EPOCH";
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return ErrnoStatus(errno, "create", temp);
  absl::Status status = WriteAll(fd, absl::StrCat(epoch, "\n"), temp);
  if (status.ok()) status = SyncFile(fd, temp);
  ::close(fd);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, "rename to EPOCH", temp);
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return SyncDirectory(dir);
}

absl::StatusOr<uint64_t> LoadOrCreateEpoch(const std::string& dir) {
  const std::string path = dir + "/EPOCH";
  if (::access(path.c_str(), F_OK) != 0) {
    if (errno != ENOENT) return ErrnoStatus(errno, "access", path);
    const uint64_t epoch = RandomEpoch();
    ROOMQ_RETURN_IF_ERROR(WriteEpoch(dir, epoch));
    return epoch;
  }
  ROOMQ_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  uint64_t epoch = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &epoch) || epoch == 0) {
    return absl::DataLossError(
        absl::StrCat(path, ": not a non-zero decimal epoch (", text.size(), " bytes)"));
  }
  return epoch;
}

}  // namespace roomq::broker::storage
