#ifndef ROOMQ_GATEWAY_SERVER_IO_SHARDS_H_
#define ROOMQ_GATEWAY_SERVER_IO_SHARDS_H_

// N io threads, each running its own io_context ("shard"). A connection and
// every session on it live on one shard; work for another shard is posted to
// its executor.
//
// Thread safety: construct, executors() and Stop() from one controlling
// thread. The io_contexts run on their threads until Stop().

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace roomq::gateway::server {

class IoShards {
 public:
  // Starts `count` (>= 1) threads.
  explicit IoShards(size_t count);
  ~IoShards();  // Stop(0)
  IoShards(const IoShards&) = delete;
  IoShards& operator=(const IoShards&) = delete;

  size_t size() const { return shards_.size(); }
  boost::asio::io_context& context(size_t shard) { return shards_[shard]->context; }
  boost::asio::any_io_executor executor(size_t shard) {
    return shards_[shard]->context.get_executor();
  }
  std::vector<boost::asio::any_io_executor> executors();

  // Lets the threads finish outstanding work for up to `grace`, then stops
  // the io_contexts and joins the threads. Idempotent.
  void Stop(std::chrono::milliseconds grace) ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  struct Shard {
    boost::asio::io_context context{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
    std::thread thread;
  };
  std::vector<std::unique_ptr<Shard>> shards_;
  absl::Mutex mutex_;
  size_t finished_ ABSL_GUARDED_BY(mutex_) = 0;  // threads whose run() returned
  bool stopped_ = false;                         // controlling thread only
};

}  // namespace roomq::gateway::server

#endif  // ROOMQ_GATEWAY_SERVER_IO_SHARDS_H_
