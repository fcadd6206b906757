#ifndef ROOMQ_BROKER_PEER_QUEUE_H_
#define ROOMQ_BROKER_PEER_QUEUE_H_

// PeerQueue: how many bytes the broker has handed ZeroMQ for one subscriber
// and ZeroMQ has not yet let go of; what --max-peer-queue-bytes bounds.
//
// ZeroMQ's queues count messages, not bytes, and say nothing about what they
// hold. What the broker can observe is when ZeroMQ releases a frame it was
// given: a frame made with zmq_msg_init_data calls its free function once
// ZeroMQ's I/O thread is done with it (written to the connection, or thrown
// away with the connection or at close). One peer's messages leave in the
// order they were sent, so when the last frame of a message is released,
// every byte sent to that peer before it has left ZeroMQ as well.
//
// So the broker counts the bytes of every message it sends a peer (Sent, on
// the loop thread) and marks the last message of each send operation (a
// burst's batch for that peer, a replay, a reply, a Recovered answer) with
// MarkFrame: when ZeroMQ releases that frame, `released` becomes the byte
// count at the mark. queued() = sent - released:
//  - is never less than what ZeroMQ holds for the peer (messages sent after
//    the newest released mark count as queued until a later mark is
//    released; at most one send operation's bytes too many);
//  - is 0 once the peer has taken everything (every operation ends with a
//    mark);
//  - counts a delivery frame shared by many peers (one buffer, reference
//    counted) in full for each of them: per peer it is what that peer holds.
// Bytes are the frames' sizes (the ROUTER identity frame is left out); what
// ZeroMQ keeps per connection besides (its encoder's batch buffer, socket
// buffers) is bounded by constants and not counted.
//
// Cost: one MarkFrame per send operation: an allocation here and one in
// libzmq (zmq_msg_init_data), both freed on ZeroMQ's I/O thread; the other
// frames are still shared with zmq_msg_copy.
//
// Thread safety: Sent, MarkFrame and queued() on the broker loop thread;
// the free function runs on a ZeroMQ I/O thread and only stores `released_`
// (atomic, monotone). A mark holds a reference, so a PeerQueue outlives its
// Peer until ZeroMQ released every marked frame.

#include <zmq.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace roomq::broker {

class PeerQueue {
 public:
  PeerQueue() = default;
  PeerQueue(const PeerQueue&) = delete;
  PeerQueue& operator=(const PeerQueue&) = delete;

  // Bytes handed to ZeroMQ and not yet known to be released.
  uint64_t queued() const { return sent_ - released_.load(std::memory_order_acquire); }
  // Counts a message of `bytes` handed to ZeroMQ (call before MarkFrame of
  // its last frame).
  void Sent(size_t bytes) {
    sent_ += bytes;
    unmarked_ += bytes;
  }
  // Whether the message just counted should be marked: the last one of a
  // send operation always is, others once kMarkEveryBytes went unmarked (so
  // a long operation cut short by the high-water mark leaves at most that
  // many bytes counted after they left, until the peer's next operation).
  bool WantsMark(bool last_of_operation) const {
    return last_of_operation || unmarked_ >= kMarkEveryBytes;
  }
  static constexpr uint64_t kMarkEveryBytes = 1 << 20;

  // Makes `out` (uninitialised) a frame with the bytes of `frame` (shared,
  // not copied: `frame` keeps its own reference) whose release by ZeroMQ
  // marks everything Sent so far as released. `out` is to be sent as the
  // last frame of its message; zmq_msg_close(out) without sending releases
  // the mark at once. Returns false (and leaves `out` a plain copy of
  // `frame`) when libzmq cannot allocate.
  static bool MarkFrame(const std::shared_ptr<PeerQueue>& queue, zmq_msg_t* frame, zmq_msg_t* out);

 private:
  static void Release(void* data, void* hint);

  uint64_t sent_ = 0;                  // loop thread only
  uint64_t unmarked_ = 0;              // loop thread only: Sent since the last mark
  std::atomic<uint64_t> released_{0};  // written by ZeroMQ's I/O thread
};

}  // namespace roomq::broker

#endif  // ROOMQ_BROKER_PEER_QUEUE_H_
