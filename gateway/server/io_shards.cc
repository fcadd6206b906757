#include "gateway/server/io_shards.h"

#include <spdlog/spdlog.h>

#include "proto/base/start_thread.h"

namespace roomq::gateway::server {

IoShards::IoShards(size_t count) {
  if (count == 0) count = 1;
  for (size_t i = 0; i < count; ++i) {
    auto shard = std::make_unique<Shard>();
    shard->guard.emplace(shard->context.get_executor());
    shards_.push_back(std::move(shard));
  }
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    s->thread = base::StartThread([this, s] {
      for (;;) {
        try {
          s->context.run();
          break;
        } catch (const std::exception& e) {
          // A handler must never throw; log and keep the shard alive.
          spdlog::error("io thread: unhandled exception: {}", e.what());
        }
      }
      absl::MutexLock lock(&mutex_);
      ++finished_;
    });
  }
}

IoShards::~IoShards() { Stop(std::chrono::milliseconds(0)); }

std::vector<boost::asio::any_io_executor> IoShards::executors() {
  std::vector<boost::asio::any_io_executor> out;
  for (auto& shard : shards_) out.push_back(shard->context.get_executor());
  return out;
}

void IoShards::Stop(std::chrono::milliseconds grace) {
  if (stopped_) return;
  stopped_ = true;
  for (auto& shard : shards_) shard->guard.reset();
  {
    absl::MutexLock lock(&mutex_);
    auto all_finished = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
      return finished_ == shards_.size();
    };
    mutex_.AwaitWithTimeout(absl::Condition(&all_finished), absl::FromChrono(grace));
  }
  for (auto& shard : shards_) shard->context.stop();
  for (auto& shard : shards_) {
    if (shard->thread.joinable()) shard->thread.join();
  }
}

}  // namespace roomq::gateway::server
