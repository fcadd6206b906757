// Thread-safety probe (tests/lint/CMakeLists.txt): proves the lock checks can
// fail. clang's -Wthread-safety must refuse Counter::Read, which reads an
// ABSL_GUARDED_BY member without its mutex, and accept it with
// -DROOMQ_PROBE_LOCKED, where Read holds the mutex: so the refusal is about
// the lock, not about the probe. Not part of the build.

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace roomq::lint_probe {

class Counter {
 public:
  void Add() ABSL_LOCKS_EXCLUDED(mutex_) {
    absl::MutexLock lock(&mutex_);
    ++value_;
  }
  int Read() {
#ifdef ROOMQ_PROBE_LOCKED
    absl::MutexLock lock(&mutex_);
#endif
    return value_;
  }

 private:
  absl::Mutex mutex_;
  int value_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace roomq::lint_probe
