#ifndef ROOMQ_BROKER_STORAGE_EPOCH_FILE_H_
#define ROOMQ_BROKER_STORAGE_EPOCH_FILE_H_

// DIR/EPOCH: the log's epoch, decimal text + "\n". Created once with a
// random non-zero value, written atomically (DIR/EPOCH.tmp, fdatasync,
// rename over DIR/EPOCH, fsync DIR) so a crash leaves either no EPOCH or a
// complete one, never a partial one.
//
// Thread safety: reentrant; two processes must not create the same DIR's
// epoch at once (RecordLog holds DIR/LOCK around it).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace roomq::broker::storage {

// Returns the epoch stored in `dir`, or creates one. DataLoss when EPOCH
// exists but is not a non-zero decimal number; an errno-derived status for
// an I/O failure.
absl::StatusOr<uint64_t> LoadOrCreateEpoch(const std::string& dir);

// Writes `epoch` (non-zero) to `dir`/EPOCH atomically, replacing any.
absl::Status WriteEpoch(const std::string& dir, uint64_t epoch);

}  // namespace roomq::broker::storage

#endif  // ROOMQ_BROKER_STORAGE_EPOCH_FILE_H_
