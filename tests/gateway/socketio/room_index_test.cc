#include "gateway/socketio/room_index.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace roomq::gateway::socketio {
namespace {

TEST(RoomIndexTest, JoinReportsFirstMember) {
  RoomIndex index;
  auto first = index.Join(1, "/", "a");
  EXPECT_TRUE(first.changed);
  EXPECT_TRUE(first.edge);
  auto second = index.Join(2, "/", "a");
  EXPECT_TRUE(second.changed);
  EXPECT_FALSE(second.edge);
  auto again = index.Join(1, "/", "a");
  EXPECT_FALSE(again.changed);
  EXPECT_FALSE(again.edge);
  ASSERT_NE(index.Members("/", "a"), nullptr);
  EXPECT_EQ(index.Members("/", "a")->size(), 2u);
}

TEST(RoomIndexTest, LeaveReportsLastMember) {
  RoomIndex index;
  index.Join(1, "/", "a");
  index.Join(2, "/", "a");
  auto one = index.Leave(1, "a");
  EXPECT_TRUE(one.changed);
  EXPECT_FALSE(one.edge);
  EXPECT_FALSE(index.Leave(1, "a").changed) << "not a member any more";
  auto last = index.Leave(2, "a");
  EXPECT_TRUE(last.changed);
  EXPECT_TRUE(last.edge);
  EXPECT_EQ(index.Members("/", "a"), nullptr);
  EXPECT_EQ(index.room_count(), 0u);
  EXPECT_EQ(index.member_count(), 0u);
}

TEST(RoomIndexTest, NamespacesAreSeparate) {
  RoomIndex index;
  index.Join(1, "/", "a");
  EXPECT_TRUE(index.Join(2, "/chat", "a").edge) << "(/chat, a) is another room";
  EXPECT_EQ(index.Members("/", "a")->size(), 1u);
  EXPECT_EQ(index.Members("/chat", "a")->size(), 1u);
  EXPECT_EQ(index.Members("/cha", "ta"), nullptr);
  EXPECT_FALSE(index.Join(1, "/chat", "b").changed) << "a member stays in its namespace";
}

TEST(RoomIndexTest, TwoWayIndex) {
  RoomIndex index;
  index.Join(1, "/", "");
  index.Join(1, "/", "sid1");
  index.Join(1, "/", "a");
  index.Join(2, "/", "a");
  const RoomIndex::RoomSet* rooms = index.RoomsOf(1);
  ASSERT_NE(rooms, nullptr);
  EXPECT_EQ(rooms->size(), 2u) << "the namespace room is not in the set";
  EXPECT_FALSE(rooms->contains(""));
  EXPECT_EQ(index.RoomCount(1), 3u);
  EXPECT_EQ(index.RoomCount(2), 1u);
  EXPECT_EQ(index.RoomCount(3), 0u);
  EXPECT_TRUE(index.Contains(1, "a"));
  EXPECT_TRUE(index.Contains(1, ""));
  EXPECT_FALSE(index.Contains(2, "sid1"));
  EXPECT_FALSE(index.Contains(3, "a"));
}

TEST(RoomIndexTest, LeaveAllInOnePass) {
  RoomIndex index;
  index.Join(1, "/", "");
  index.Join(1, "/", "sid1");
  index.Join(1, "/", "a");
  index.Join(2, "/", "");
  index.Join(2, "/", "a");
  auto left = index.LeaveAll(1);
  std::sort(left.begin(), left.end(), [](const auto& x, const auto& y) { return x.room < y.room; });
  ASSERT_EQ(left.size(), 3u);
  EXPECT_EQ(left[0].room, "");
  EXPECT_FALSE(left[0].last);
  EXPECT_EQ(left[1].room, "a");
  EXPECT_FALSE(left[1].last);
  EXPECT_EQ(left[2].room, "sid1");
  EXPECT_TRUE(left[2].last);
  EXPECT_EQ(index.RoomsOf(1), nullptr);
  EXPECT_EQ(index.Members("/", "sid1"), nullptr);
  EXPECT_EQ(index.Members("/", "a")->size(), 1u);
  EXPECT_TRUE(index.LeaveAll(1).empty());
  auto rest = index.LeaveAll(2);
  EXPECT_EQ(rest.size(), 2u);
  for (const auto& room : rest) EXPECT_TRUE(room.last);
  EXPECT_EQ(index.room_count(), 0u);
}

TEST(RoomIndexTest, NamespaceRoomAloneIsAMembership) {
  RoomIndex index;
  EXPECT_TRUE(index.Join(1, "/", "").edge);
  EXPECT_FALSE(index.Join(1, "/", "").changed);
  ASSERT_NE(index.RoomsOf(1), nullptr);
  EXPECT_TRUE(index.RoomsOf(1)->empty());
  EXPECT_TRUE(index.Contains(1, ""));
  EXPECT_EQ(index.member_count(), 1u);
  index.Join(1, "/", "a");
  auto left = index.Leave(1, "");
  EXPECT_TRUE(left.changed);
  EXPECT_TRUE(left.edge);
  EXPECT_FALSE(index.Contains(1, ""));
  EXPECT_TRUE(index.Contains(1, "a")) << "still a member elsewhere";
  EXPECT_FALSE(index.Leave(1, "").changed);
  EXPECT_TRUE(index.Leave(1, "a").edge);
  EXPECT_EQ(index.member_count(), 0u);
  EXPECT_EQ(index.RoomsOf(1), nullptr);
}

}  // namespace
}  // namespace roomq::gateway::socketio
