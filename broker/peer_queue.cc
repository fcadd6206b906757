#include "broker/peer_queue.h"

namespace roomq::broker {
namespace {

// What a marked frame carries to its free function.
struct Mark {
  std::shared_ptr<PeerQueue> queue;
  uint64_t at;      // the queue's sent bytes when the mark was made
  zmq_msg_t frame;  // the reference to the bytes the marked frame shows
  // ZeroMQ's pipe already orders the mark's making before its release on the
  // I/O thread, but with libzmq's own atomics, which ThreadSanitizer does not
  // see (libzmq is not built for it); this release/acquire pair states that
  // order where it can be checked.
  std::atomic<bool> made{false};
};

}  // namespace

bool PeerQueue::MarkFrame(const std::shared_ptr<PeerQueue>& queue, zmq_msg_t* frame,
                          zmq_msg_t* out) {
  auto* mark = new Mark{queue, queue->sent_, {}};
  zmq_msg_init(&mark->frame);
  zmq_msg_copy(&mark->frame, frame);
  mark->made.store(true, std::memory_order_release);
  if (zmq_msg_init_data(out, zmq_msg_data(&mark->frame), zmq_msg_size(&mark->frame),
                        &PeerQueue::Release, mark) == 0) {
    queue->unmarked_ = 0;
    return true;
  }
  zmq_msg_close(&mark->frame);
  delete mark;
  zmq_msg_init(out);
  zmq_msg_copy(out, frame);
  return false;
}

void PeerQueue::Release(void* /*data*/, void* hint) {
  auto* mark = static_cast<Mark*>(hint);
  [[maybe_unused]] const bool made = mark->made.load(std::memory_order_acquire);
  // Marks of one connection come back in order; a peer whose old connection
  // is torn down while a new one runs may interleave, so keep the largest.
  std::atomic<uint64_t>& released = mark->queue->released_;
  uint64_t seen = released.load(std::memory_order_relaxed);
  while (seen < mark->at &&
         !released.compare_exchange_weak(seen, mark->at, std::memory_order_release,
                                         std::memory_order_relaxed)) {
  }
  zmq_msg_close(&mark->frame);
  delete mark;
}

}  // namespace roomq::broker
