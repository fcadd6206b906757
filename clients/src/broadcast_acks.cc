#include "clients/src/broadcast_acks.h"

#include <utility>

namespace roomq::internal {

void BroadcastAcks::Add(uint64_t ack_id, Clock::time_point deadline,
                        BroadcastAckCallback callback) {
  pending_[ack_id] = Pending{deadline, std::move(callback), std::nullopt, {}};
}

void BroadcastAcks::Expect(uint64_t ack_id, absl::StatusOr<uint64_t> sockets) {
  auto it = pending_.find(ack_id);
  if (it == pending_.end()) return;  // already timed out
  if (!sockets.ok()) {
    MaybeComplete(it, sockets.status());
    return;
  }
  it->second.expected = *sockets;
  MaybeComplete(it, absl::OkStatus());
}

void BroadcastAcks::Answer(uint64_t ack_id, Message message) {
  auto it = pending_.find(ack_id);
  if (it == pending_.end()) return;
  it->second.answers.push_back(std::move(message));
  MaybeComplete(it, absl::OkStatus());
}

void BroadcastAcks::MaybeComplete(std::map<uint64_t, Pending>::iterator it, absl::Status status) {
  Pending& pending = it->second;
  if (status.ok() &&
      (!pending.expected.has_value() || pending.answers.size() < *pending.expected)) {
    return;
  }
  Pending done = std::move(pending);
  pending_.erase(it);
  done.callback(std::move(status), std::move(done.answers));
}

void BroadcastAcks::Expire(Clock::time_point now) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto next = std::next(it);
    if (it->second.deadline <= now) {
      MaybeComplete(it, absl::DeadlineExceededError("not every socket answered in time"));
    }
    it = next;
  }
}

void BroadcastAcks::CancelAll() {
  std::map<uint64_t, Pending> all = std::move(pending_);
  pending_.clear();
  for (auto& [id, pending] : all) {
    pending.callback(absl::CancelledError("roomq client closed"), std::move(pending.answers));
  }
}

std::optional<BroadcastAcks::Clock::time_point> BroadcastAcks::NextDeadline() const {
  std::optional<Clock::time_point> next;
  for (const auto& [id, pending] : pending_) {
    if (!next.has_value() || pending.deadline < *next) next = pending.deadline;
  }
  return next;
}

}  // namespace roomq::internal
