// PeerQueue: bytes sent count as queued until ZeroMQ releases a marked
// frame, which releases everything sent before it; the marked frame shows
// the shared bytes without copying them.

#include "broker/peer_queue.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

namespace roomq::broker {
namespace {

// A zmq message over 33 bytes: its buffer is shared by reference count.
void InitFrame(zmq_msg_t* frame, const std::string& bytes) {
  zmq_msg_init_size(frame, bytes.size());
  std::memcpy(zmq_msg_data(frame), bytes.data(), bytes.size());
}

TEST(PeerQueue, BytesStayQueuedUntilTheMarkedFrameIsReleased) {
  auto queue = std::make_shared<PeerQueue>();
  const std::string bytes(100, 'd');
  zmq_msg_t frame;
  InitFrame(&frame, bytes);

  queue->Sent(300);  // an earlier message, unmarked
  EXPECT_FALSE(queue->WantsMark(/*last_of_operation=*/false));
  queue->Sent(bytes.size());
  EXPECT_TRUE(queue->WantsMark(/*last_of_operation=*/true));
  zmq_msg_t marked;
  ASSERT_TRUE(PeerQueue::MarkFrame(queue, &frame, &marked));
  EXPECT_EQ(queue->queued(), 400u);
  // The same bytes, not a copy.
  EXPECT_EQ(zmq_msg_data(&marked), zmq_msg_data(&frame));
  EXPECT_EQ(zmq_msg_size(&marked), bytes.size());

  queue->Sent(50);         // sent after the mark: still queued once it is released
  zmq_msg_close(&marked);  // what ZeroMQ does once it wrote the frame
  EXPECT_EQ(queue->queued(), 50u);
  // The caller's frame is untouched.
  EXPECT_EQ(std::string(static_cast<const char*>(zmq_msg_data(&frame)), zmq_msg_size(&frame)),
            bytes);
  zmq_msg_close(&frame);
}

TEST(PeerQueue, AMarkOutlivesItsPeerAndAnOlderMarkNeverMovesReleasedBack) {
  auto queue = std::make_shared<PeerQueue>();
  std::weak_ptr<PeerQueue> weak = queue;
  zmq_msg_t frame;
  InitFrame(&frame, std::string(40, 'x'));
  zmq_msg_t first;
  zmq_msg_t second;
  queue->Sent(40);
  ASSERT_TRUE(PeerQueue::MarkFrame(queue, &frame, &first));
  queue->Sent(40);
  ASSERT_TRUE(PeerQueue::MarkFrame(queue, &frame, &second));
  zmq_msg_close(&frame);
  zmq_msg_close(&second);
  EXPECT_EQ(queue->queued(), 0u);
  zmq_msg_close(&first);  // late: released stays at the newer mark
  EXPECT_EQ(queue->queued(), 0u);

  // The peer goes; a frame still in ZeroMQ keeps its queue alive.
  zmq_msg_t frame2;
  InitFrame(&frame2, std::string(40, 'y'));
  zmq_msg_t pending;
  queue->Sent(40);
  ASSERT_TRUE(PeerQueue::MarkFrame(queue, &frame2, &pending));
  zmq_msg_close(&frame2);
  queue.reset();
  EXPECT_FALSE(weak.expired());
  zmq_msg_close(&pending);
  EXPECT_TRUE(weak.expired());
}

TEST(PeerQueue, LongOperationsAreMarkedEveryMebibyte) {
  PeerQueue queue;
  queue.Sent(PeerQueue::kMarkEveryBytes - 1);
  EXPECT_FALSE(queue.WantsMark(false));
  queue.Sent(1);
  EXPECT_TRUE(queue.WantsMark(false));
}

}  // namespace
}  // namespace roomq::broker
