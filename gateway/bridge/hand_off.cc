#include "gateway/bridge/hand_off.h"

#include <utility>

namespace roomq::gateway::bridge {

std::optional<HandOff> ShardBudget::TryCharge(uint64_t bytes) {
  // Only this thread adds; others only take away, so a check that passes
  // stays true until the add.
  const uint64_t queued = state_->queued.load(std::memory_order_relaxed);
  if (bytes > state_->max_bytes || queued > state_->max_bytes - bytes) return std::nullopt;
  state_->queued.fetch_add(bytes, std::memory_order_relaxed);
  return HandOff(state_, bytes);
}

HandOff& HandOff::operator=(HandOff&& other) noexcept {
  if (this != &other) {
    Release();
    state_ = std::move(other.state_);
    bytes_ = other.bytes_;
  }
  return *this;
}

void HandOff::Release() {
  if (state_ == nullptr) return;
  state_->queued.fetch_sub(bytes_, std::memory_order_relaxed);
  state_.reset();
}

}  // namespace roomq::gateway::bridge
