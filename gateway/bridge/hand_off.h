#ifndef ROOMQ_GATEWAY_BRIDGE_HAND_OFF_H_
#define ROOMQ_GATEWAY_BRIDGE_HAND_OFF_H_

// The bound on the bridge -> shard hand-off: the bytes of broker deliveries
// the bridge has posted to one shard and the shard has not yet run.
//
// Every delivery the bridge hands a shard is charged to that shard's
// ShardBudget (its size as Bridge::Options::dispatch_bytes measures it) and
// travels with a HandOff, which gives the bytes back when it is destroyed:
// when the posted work has run on the shard, or is destroyed unrun (the io
// thread stopped). A delivery that would take a shard over its bound is not
// posted (the bridge counts it as dropped): a shard that falls behind (a
// stalled io thread) holds at most the bound in deliveries waiting for it,
// and the other shards and the link thread go on. Deliveries are best
// effort; a socket with connection state recovery gets what it missed when
// it comes back.
//
// Thread safety: TryCharge on one thread only (the link thread); HandOff
// destruction and queued() on any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace roomq::gateway::bridge {

class HandOff;

class ShardBudget {
 public:
  explicit ShardBudget(uint64_t max_bytes) : state_(std::make_shared<State>(max_bytes)) {}

  // A charge of `bytes`, or nullopt when queued() + bytes would exceed the
  // bound (a delivery larger than the bound never fits).
  std::optional<HandOff> TryCharge(uint64_t bytes);
  // Bytes charged and not yet given back.
  uint64_t queued() const { return state_->queued.load(std::memory_order_relaxed); }

 private:
  friend class HandOff;
  struct State {
    explicit State(uint64_t max_bytes) : max_bytes(max_bytes) {}
    const uint64_t max_bytes;
    std::atomic<uint64_t> queued{0};
  };
  std::shared_ptr<State> state_;  // shared with the HandOffs in flight
};

// Move-only; gives its bytes back to its ShardBudget when destroyed.
class HandOff {
 public:
  HandOff(HandOff&& other) noexcept = default;
  HandOff& operator=(HandOff&& other) noexcept;
  HandOff(const HandOff&) = delete;
  HandOff& operator=(const HandOff&) = delete;
  ~HandOff() { Release(); }

  uint64_t bytes() const { return bytes_; }

 private:
  friend class ShardBudget;
  HandOff(std::shared_ptr<ShardBudget::State> state, uint64_t bytes)
      : state_(std::move(state)), bytes_(bytes) {}
  void Release();

  std::shared_ptr<ShardBudget::State> state_;  // null once released or moved from
  uint64_t bytes_ = 0;
};

}  // namespace roomq::gateway::bridge

#endif  // ROOMQ_GATEWAY_BRIDGE_HAND_OFF_H_
