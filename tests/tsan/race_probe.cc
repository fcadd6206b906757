// Proves the tsan preset can fail, and that it sees absl::Mutex: the one
// reason it builds Abseil itself (tests/tsan/build-abseil.sh).
//
//   race_probe race     two threads write one int with nothing between them:
//                       ThreadSanitizer must report a data race
//   race_probe locked   the same writes under an absl::Mutex, then a value
//                       handed over through an absl::CondVar: no report
//
// tests/tsan/CMakeLists.txt runs both (tsan.race_reported, tsan.mutex_seen).

#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace {

int counter = 0;
absl::Mutex mutex;
bool handed_over ABSL_GUARDED_BY(mutex) = false;
int payload = 0;  // written before the hand-off, read after it

void Write(bool locked) {
  if (locked) {
    absl::MutexLock lock(&mutex);
    ++counter;
  } else {
    ++counter;
  }
}

void HandOverThroughACondVar() {
  absl::CondVar ready;
  std::thread producer([&] {
    payload = 42;
    absl::MutexLock lock(&mutex);
    handed_over = true;
    ready.Signal();
  });
  {
    absl::MutexLock lock(&mutex);
    while (!handed_over) ready.Wait(&mutex);
  }
  std::printf("payload %d\n", payload);
  producer.join();
}

}  // namespace

int main(int argc, char** argv) {
  const bool locked = argc > 1 && std::strcmp(argv[1], "locked") == 0;
  // Both threads run before either is joined: nothing orders their writes
  // unless the mutex does.
  std::thread first([locked] { Write(locked); });
  std::thread second([locked] { Write(locked); });
  first.join();
  second.join();
  if (locked) HandOverThroughACondVar();
  std::printf("counter %d\n", counter);
  return 0;
}
