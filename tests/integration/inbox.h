#ifndef ROOMQ_TESTS_INTEGRATION_INBOX_H_
#define ROOMQ_TESTS_INTEGRATION_INBOX_H_

// Thread-safe collectors for integration tests: messages received on a
// client's thread, awaited with a deadline from the test thread.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "roomq/client.h"

namespace roomq::testing {

class Inbox {
 public:
  MessageHandler Handler() {
    return [this](const Message& message) {
      std::lock_guard lock(mutex_);
      messages_.push_back(message);
      changed_.notify_all();
    };
  }
  // True once at least `count` messages arrived (within `timeout`).
  bool WaitFor(size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return messages_.size() >= count; });
  }
  std::vector<Message> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  size_t size() {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Message> messages_;
};

// Collects one status (publish receipts, readiness) or one ack answer.
template <typename T>
class Latch {
 public:
  std::function<void(T)> Callback() {
    return [this](T value) {
      std::lock_guard lock(mutex_);
      values_.push_back(std::move(value));
      changed_.notify_all();
    };
  }
  bool WaitFor(size_t count = 1, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return values_.size() >= count; });
  }
  std::vector<T> values() {
    std::lock_guard lock(mutex_);
    return values_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<T> values_;
};

}  // namespace roomq::testing

#endif  // ROOMQ_TESTS_INTEGRATION_INBOX_H_
