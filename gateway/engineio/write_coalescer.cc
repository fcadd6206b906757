#include "gateway/engineio/write_coalescer.h"

#include <utility>

#include "gateway/engineio/websocket_transport.h"

namespace roomq::gateway::engineio {

WriteCoalescer::WriteCoalescer(boost::asio::any_io_executor executor, base::Clock::Duration delay,
                               TimerService& timers)
    : executor_(std::move(executor)), delay_(delay), timers_(timers) {}

WriteCoalescer::~WriteCoalescer() = default;

void WriteCoalescer::Add(std::shared_ptr<WebSocketTransport> transport) {
  pending_.push_back(std::move(transport));
  if (pending_.size() > 1) return;  // the window is open; its timer is armed
  if (!timer_) timer_ = timers_.NewTimer(executor_);
  timer_->Start(delay_, [this] { EndWindow(); });
}

void WriteCoalescer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (timer_) timer_->Cancel();
  if (!pending_.empty()) EndWindow();
}

void WriteCoalescer::EndWindow() {
  ++windows_;
  // A transport written here may queue more (an answer to what it read, a
  // close after its last frame): that opens the next window, not this one.
  running_.swap(pending_);
  for (auto& transport : running_) transport->FlushNow();
  running_.clear();
}

}  // namespace roomq::gateway::engineio
