// Shard own rooms: a socket's own (sid) room lives in the shard's (ns, id)
// set, not in the RoomIndex, with the same broker subscription edges; a
// second local socket with the same (ns, id) falls back to the RoomIndex.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "gateway/socketio/config.h"
#include "gateway/socketio/shard.h"
#include "tests/gateway/socketio/fakes.h"

namespace roomq::gateway::socketio {
namespace {

using testing::FakePort;

constexpr char kConfig[] = R"(
namespaces:
  - name: /
    join: 'room-.*'
    relay: broadcast
)";

class ShardOwnRoomTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = ParseConfig(kConfig);
    ASSERT_TRUE(config.ok()) << config.status();
    shard_ = std::make_shared<Shard>(0, io_.get_executor(), std::make_shared<const Config>(*config),
                                     port_);
    ns_ = shard_->namespaces().Find("/");
    ASSERT_NE(ns_, nullptr);
  }

  std::unique_ptr<Socket> NewSocket(std::string id) {
    auto socket = std::make_unique<Socket>();
    socket->id = std::move(id);
    socket->ns = ns_;
    shard_->Register(*socket);
    return socket;
  }

  size_t Count(const std::vector<std::string>& keys, std::string_view room) const {
    return std::count(keys.begin(), keys.end(), "/#" + std::string(room));
  }

  boost::asio::io_context io_;
  std::shared_ptr<FakePort> port_ = std::make_shared<FakePort>(io_);
  std::shared_ptr<Shard> shard_;
  const Namespace* ns_ = nullptr;
};

TEST_F(ShardOwnRoomTest, OwnRoomIsNotARoomIndexEntryButSubscribesAndCounts) {
  auto socket = NewSocket("sid-a");
  shard_->Join(*socket, socket->id, nullptr);
  shard_->Join(*socket, "", nullptr);
  EXPECT_TRUE(socket->in_own_room);
  EXPECT_EQ(Count(port_->subscribed(), "sid-a"), 1u);
  EXPECT_EQ(shard_->rooms().Members("/", "sid-a"), nullptr);
  EXPECT_TRUE(shard_->InRoom(*socket, "sid-a"));
  EXPECT_FALSE(shard_->InRoom(*socket, "sid-b"));
  EXPECT_EQ(shard_->RoomCount(*socket), 2u);
  EXPECT_EQ(shard_->room_count(), 2u);

  // A second join of the own room changes nothing.
  shard_->Join(*socket, socket->id, nullptr);
  EXPECT_EQ(Count(port_->subscribed(), "sid-a"), 1u);
  EXPECT_EQ(shard_->RoomCount(*socket), 2u);

  shard_->Leave(*socket, socket->id);
  EXPECT_FALSE(socket->in_own_room);
  EXPECT_FALSE(shard_->InRoom(*socket, "sid-a"));
  EXPECT_EQ(Count(port_->unsubscribed(), "sid-a"), 1u);
  EXPECT_EQ(shard_->room_count(), 1u);
  shard_->LeaveAll(*socket);
  shard_->Unregister(*socket);
}

TEST_F(ShardOwnRoomTest, LeaveAllNamesTheOwnRoomAndUnsubscribesIt) {
  auto socket = NewSocket("sid-a");
  shard_->Join(*socket, socket->id, nullptr);
  shard_->Join(*socket, "", nullptr);
  shard_->Join(*socket, "room-1", nullptr);
  std::vector<std::string> left = shard_->LeaveAll(*socket);
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"room-1", "sid-a"}));
  EXPECT_EQ(Count(port_->unsubscribed(), "sid-a"), 1u);
  EXPECT_EQ(Count(port_->unsubscribed(), "room-1"), 1u);
  EXPECT_FALSE(socket->in_own_room);
  EXPECT_EQ(shard_->room_count(), 0u);
  shard_->Unregister(*socket);
}

TEST_F(ShardOwnRoomTest, SameIdTwiceSharesOneSubscriptionUntilBothLeave) {
  auto first = NewSocket("sid-a");
  auto second = NewSocket("sid-a");
  shard_->Join(*first, "sid-a", nullptr);
  shard_->Join(*second, "sid-a", nullptr);
  EXPECT_TRUE(first->in_own_room);
  EXPECT_FALSE(second->in_own_room);  // the RoomIndex holds it
  EXPECT_TRUE(shard_->InRoom(*second, "sid-a"));
  EXPECT_EQ(Count(port_->subscribed(), "sid-a"), 1u);

  shard_->LeaveAll(*first);
  EXPECT_TRUE(port_->unsubscribed().empty());
  // The first socket may come back while the second still holds the room.
  shard_->Join(*first, "sid-a", nullptr);
  EXPECT_EQ(Count(port_->subscribed(), "sid-a"), 1u);
  shard_->Leave(*second, "sid-a");
  EXPECT_TRUE(port_->unsubscribed().empty());
  shard_->Leave(*first, "sid-a");
  EXPECT_EQ(Count(port_->unsubscribed(), "sid-a"), 1u);
  shard_->Unregister(*first);
  shard_->Unregister(*second);
}

TEST_F(ShardOwnRoomTest, ExceptRoomsSkipTheSocketInItsOwnRoom) {
  auto socket = NewSocket("sid-a");
  shard_->Join(*socket, socket->id, nullptr);
  v1::Envelope envelope;
  envelope.set_namespace_("/");
  EXPECT_TRUE(shard_->Accepts(*socket, envelope));
  envelope.add_except_rooms("sid-a");
  EXPECT_FALSE(shard_->Accepts(*socket, envelope));
  shard_->LeaveAll(*socket);
  shard_->Unregister(*socket);
}

}  // namespace
}  // namespace roomq::gateway::socketio
