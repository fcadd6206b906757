#include "broker/peer_table.h"

#include <gtest/gtest.h>

namespace roomq::broker {
namespace {

using std::chrono::milliseconds;

class PeerTableTest : public ::testing::Test {
 protected:
  RoutingTable routes_;
  PeerTable peers_{routes_, milliseconds(1000)};
  Clock::time_point t0_ = Clock::now();
};

TEST_F(PeerTableTest, APeerIsKnownOnlyAfterHello) {
  Peer& peer = peers_.Touch("id-1", t0_);
  EXPECT_FALSE(peer.known);
  EXPECT_EQ(peers_.Find("id-1"), &peer);
  EXPECT_EQ(routes_.FindSubscriber("id-1"), peer.subscriber);
  peers_.Hello(peer, "gw-1", 500, t0_);
  EXPECT_TRUE(peer.known);
  EXPECT_EQ(peer.node, "gw-1");
  EXPECT_EQ(peer.heartbeat, milliseconds(500));
}

TEST_F(PeerTableTest, HelloStartsAFreshSubscriptionSet) {
  Peer& peer = peers_.Touch("id-1", t0_);
  peers_.Hello(peer, "gw-1", 0, t0_);
  routes_.Subscribe(peer.subscriber, wire::RoomTopic("/chat", "a"));
  peers_.Hello(peer, "gw-1", 0, t0_);
  EXPECT_EQ(peer.subscriber->topic_count(), 0u);
  EXPECT_EQ(routes_.topic_count(), 0u);
  EXPECT_EQ(peer.heartbeat, milliseconds(1000));  // 0 = the default
}

TEST_F(PeerTableTest, ANewIdentityForTheSameNodeReplacesTheOld) {
  Peer& old_peer = peers_.Touch("old", t0_);
  peers_.Hello(old_peer, "gw-1", 0, t0_);
  routes_.Subscribe(old_peer.subscriber, wire::RoomTopic("/chat", "a"));
  Peer& new_peer = peers_.Touch("new", t0_);
  peers_.Hello(new_peer, "gw-1", 0, t0_);
  EXPECT_EQ(peers_.Find("old"), nullptr);
  EXPECT_EQ(routes_.FindSubscriber("old"), nullptr);
  EXPECT_EQ(routes_.topic_count(), 0u);
  EXPECT_EQ(peers_.size(), 1u);
}

TEST_F(PeerTableTest, ExpiresAfterThreeSilentHeartbeats) {
  Peer& fast = peers_.Touch("fast", t0_);
  peers_.Hello(fast, "fast", 100, t0_);
  routes_.Subscribe(fast.subscriber, wire::RoomTopic("/chat", "a"));
  Peer& slow = peers_.Touch("slow", t0_);
  peers_.Hello(slow, "slow", 1000, t0_);

  EXPECT_EQ(peers_.ExpireSilent(t0_ + milliseconds(299)), 0);
  peers_.Touch("fast", t0_ + milliseconds(200));  // any command counts as a sign of life
  EXPECT_EQ(peers_.ExpireSilent(t0_ + milliseconds(450)), 0);
  EXPECT_EQ(peers_.ExpireSilent(t0_ + milliseconds(500)), 1);
  EXPECT_EQ(peers_.Find("fast"), nullptr);
  EXPECT_EQ(routes_.topic_count(), 0u);
  EXPECT_NE(peers_.Find("slow"), nullptr);
  EXPECT_EQ(peers_.ExpireSilent(t0_ + milliseconds(3000)), 1);
  EXPECT_EQ(peers_.size(), 0u);
  EXPECT_EQ(routes_.subscriber_count(), 0u);
}

TEST_F(PeerTableTest, ClampsHeartbeats) {
  Peer& peer = peers_.Touch("id", t0_);
  peers_.Hello(peer, "n", 1, t0_);
  EXPECT_EQ(peer.heartbeat, kMinHeartbeat);
  peers_.Hello(peer, "n", 4000000000u, t0_);
  EXPECT_EQ(peer.heartbeat, kMaxHeartbeat);
}

TEST_F(PeerTableTest, RemoveAndClearDropSubscriptions) {
  for (const char* id : {"a", "b", "c"}) {
    Peer& peer = peers_.Touch(id, t0_);
    routes_.Subscribe(peer.subscriber, wire::RoomTopic("/chat", id));
  }
  peers_.Remove("a", "goodbye");
  peers_.Remove("unknown", "goodbye");  // no-op
  EXPECT_EQ(peers_.size(), 2u);
  EXPECT_EQ(routes_.topic_count(), 2u);
  peers_.Clear("shutdown");
  EXPECT_EQ(peers_.size(), 0u);
  EXPECT_EQ(routes_.topic_count(), 0u);
}

}  // namespace
}  // namespace roomq::broker
