#ifndef ROOMQ_TESTS_INTEGRATION_INBOX_H_
#define ROOMQ_TESTS_INTEGRATION_INBOX_H_

// Thread-safe collectors for integration tests: messages received on a
// client's thread, awaited with a deadline from the test thread.

#include <chrono>
#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "roomq/client.h"

namespace roomq::testing {

class Inbox {
 public:
  MessageHandler Handler() {
    return [this](const Message& message) {
      absl::MutexLock lock(&mutex_);
      messages_.push_back(message);
    };
  }
  // True once at least `count` messages arrived (within `timeout`).
  bool WaitFor(size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    absl::MutexLock lock(&mutex_);
    auto arrived = [this, count]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return messages_.size() >= count; };
    return mutex_.AwaitWithTimeout(absl::Condition(&arrived), absl::FromChrono(timeout));
  }
  std::vector<Message> messages() {
    absl::MutexLock lock(&mutex_);
    return messages_;
  }
  size_t size() {
    absl::MutexLock lock(&mutex_);
    return messages_.size();
  }

 private:
  absl::Mutex mutex_;
  std::vector<Message> messages_ ABSL_GUARDED_BY(mutex_);
};

// Collects one status (publish receipts, readiness) or one ack answer.
template <typename T>
class Latch {
 public:
  std::function<void(T)> Callback() {
    return [this](T value) {
      absl::MutexLock lock(&mutex_);
      values_.push_back(std::move(value));
    };
  }
  bool WaitFor(size_t count = 1, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    absl::MutexLock lock(&mutex_);
    auto arrived = [this, count]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return values_.size() >= count; };
    return mutex_.AwaitWithTimeout(absl::Condition(&arrived), absl::FromChrono(timeout));
  }
  std::vector<T> values() {
    absl::MutexLock lock(&mutex_);
    return values_;
  }

 private:
  absl::Mutex mutex_;
  std::vector<T> values_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace roomq::testing

#endif  // ROOMQ_TESTS_INTEGRATION_INBOX_H_
