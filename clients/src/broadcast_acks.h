#ifndef ROOMQ_CLIENTS_SRC_BROADCAST_ACKS_H_
#define ROOMQ_CLIENTS_SRC_BROADCAST_ACKS_H_

// The answers of broadcasts that asked every target socket for an ack
// (BroadcastOperator::EmitWithAck with a BroadcastAckCallback; Socket.IO's
// io.timeout(ms).to(room).emit(ev, (err, responses) => ...)). How many
// answers to expect comes with the broker's receipt
// (PublishReceipt.ack_sockets, counted from its socket records); the
// answers come from the sockets, in any order relative to the receipt. A
// broadcast completes once, with OK when every expected answer is in,
// DeadlineExceeded at its deadline, the publish's error when the broker
// refused it or did not confirm it, Cancelled when the client closes; each
// with the answers that came.
//
// Thread safety: none; owned by the ClientCore's link thread. Callbacks run
// inside the calls that complete them.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "roomq/client.h"

namespace roomq::internal {

class BroadcastAcks {
 public:
  using Clock = std::chrono::steady_clock;

  void Add(uint64_t ack_id, Clock::time_point deadline, BroadcastAckCallback callback);
  // The broker's receipt of broadcast `ack_id`: the number of answers to
  // expect, or why there will be none.
  void Expect(uint64_t ack_id, absl::StatusOr<uint64_t> sockets);
  // An answer; ignored when `ack_id` is no pending broadcast's (late, or
  // not a broadcast).
  void Answer(uint64_t ack_id, Message message);
  // Completes every broadcast whose deadline is <= now.
  void Expire(Clock::time_point now);
  void CancelAll();
  std::optional<Clock::time_point> NextDeadline() const;

 private:
  struct Pending {
    Clock::time_point deadline;
    BroadcastAckCallback callback;
    std::optional<uint64_t> expected;  // once the receipt came
    std::vector<Message> answers;
  };
  // Completes `it` with `status` if given, else when every answer is in.
  void MaybeComplete(std::map<uint64_t, Pending>::iterator it, absl::Status status);

  std::map<uint64_t, Pending> pending_;  // by ack id
};

}  // namespace roomq::internal

#endif  // ROOMQ_CLIENTS_SRC_BROADCAST_ACKS_H_
