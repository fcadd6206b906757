#ifndef ROOMQ_CLIENTS_LOADGEN_PROC_STATS_H_
#define ROOMQ_CLIENTS_LOADGEN_PROC_STATS_H_

// Server-side cost figures from /proc: CPU time (utime + stime of every
// thread, /proc/<pid>/stat fields 14 and 15) and resident set size
// (/proc/<pid>/statm), summed over the given PIDs.
//
// Thread safety: stateless functions.

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace roomq::loadgen {

struct ProcSample {
  uint64_t cpu_ns = 0;     // utime + stime
  uint64_t rss_bytes = 0;  // resident set size
};

// NotFound when a PID does not exist (any more).
absl::StatusOr<ProcSample> SampleProcess(pid_t pid);
absl::StatusOr<ProcSample> SampleProcesses(const std::vector<pid_t>& pids);

// utime + stime of this process (getrusage), in ns.
uint64_t SelfCpuNs();

}  // namespace roomq::loadgen

#endif  // ROOMQ_CLIENTS_LOADGEN_PROC_STATS_H_
