// Unit tests of gateway/bridge/socket_mirror: what the bridge forwards of
// the shards' socket updates, and the full list it sends after a Hello.

#include "gateway/bridge/socket_mirror.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace roomq::gateway::bridge {
namespace {

v1::SocketUpdate Open(const std::string& id, const std::vector<std::string>& rooms) {
  v1::SocketUpdate update;
  v1::Session& session = *update.mutable_open()->mutable_session();
  session.set_namespace_("/");
  session.set_socket_id(id);
  session.set_pid("pid-" + id);
  for (const std::string& room : rooms) session.add_rooms(room);
  return update;
}

v1::SocketUpdate Rooms(const std::string& id, const std::vector<std::string>& joined,
                       const std::vector<std::string>& left) {
  v1::SocketUpdate update;
  v1::SocketRooms& rooms = *update.mutable_rooms();
  rooms.set_namespace_("/");
  rooms.set_socket_id(id);
  for (const std::string& room : joined) rooms.add_joined(room);
  for (const std::string& room : left) rooms.add_left(room);
  return update;
}

v1::SocketUpdate Close(const std::string& id) {
  v1::SocketUpdate update;
  update.mutable_close()->set_namespace_("/");
  update.mutable_close()->set_socket_id(id);
  update.mutable_close()->set_recoverable(true);
  return update;
}

std::vector<v1::Sockets> FullList(const SocketMirror& mirror, size_t max_bytes = 1 << 20) {
  std::vector<v1::Sockets> commands;
  mirror.FullList(max_bytes, [&](v1::Sockets command) { commands.push_back(std::move(command)); });
  return commands;
}

TEST(SocketMirrorTest, UpdatesForASocketItDoesNotHoldAreDropped) {
  SocketMirror mirror;
  EXPECT_FALSE(mirror.Apply(0, Rooms("s1", {"a"}, {})));
  EXPECT_FALSE(mirror.Apply(0, Close("s1")));
  EXPECT_FALSE(mirror.Apply(0, v1::SocketUpdate()));
  EXPECT_TRUE(mirror.Apply(0, Open("s1", {"s1"})));
  EXPECT_TRUE(mirror.Apply(0, Rooms("s1", {"a"}, {})));
  EXPECT_TRUE(mirror.Apply(0, Close("s1")));
  EXPECT_EQ(mirror.size(), 0u);
  EXPECT_FALSE(mirror.Apply(0, Close("s1"))) << "closed once";
}

TEST(SocketMirrorTest, AMovedSocketIsForgottenAndWhatItsShardStillSaysIsDropped) {
  SocketMirror mirror;
  ASSERT_TRUE(mirror.Apply(3, Open("s1", {"s1"})));
  EXPECT_EQ(mirror.Forget("/", "s1"), 3u);
  EXPECT_EQ(mirror.Forget("/", "s1"), std::nullopt);
  EXPECT_FALSE(mirror.Apply(3, Rooms("s1", {"a"}, {})));
  EXPECT_FALSE(mirror.Apply(3, Close("s1")));
  // Recovered here again later: held again, by the shard that recovered it.
  ASSERT_TRUE(mirror.Apply(1, Open("s1", {"s1", "a"})));
  EXPECT_EQ(mirror.Forget("/", "s1"), 1u);
}

TEST(SocketMirrorTest, TheFullListHasEverySocketWithItsCurrentRoomsAndEndsWithFull) {
  SocketMirror mirror;
  std::vector<v1::Sockets> empty = FullList(mirror);
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_TRUE(empty[0].full());
  EXPECT_EQ(empty[0].updates_size(), 0);

  ASSERT_TRUE(mirror.Apply(0, Open("s1", {"s1"})));
  ASSERT_TRUE(mirror.Apply(0, Rooms("s1", {"a", "b"}, {})));
  ASSERT_TRUE(mirror.Apply(0, Rooms("s1", {}, {"a"})));
  ASSERT_TRUE(mirror.Apply(1, Open("s2", {"s2"})));
  ASSERT_TRUE(mirror.Apply(1, Open("s3", {"s3"})));
  ASSERT_TRUE(mirror.Apply(1, Close("s3")));
  std::vector<v1::Sockets> commands = FullList(mirror);
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_TRUE(commands[0].full());
  std::set<std::string> listed;
  for (const v1::SocketUpdate& update : commands[0].updates()) {
    const v1::Session& session = update.open().session();
    std::set<std::string> rooms(session.rooms().begin(), session.rooms().end());
    std::string line = session.socket_id() + ":";
    for (const std::string& room : rooms) line += room + ",";
    listed.insert(line);
    EXPECT_EQ(session.pid(), "pid-" + session.socket_id());
  }
  EXPECT_EQ(listed, (std::set<std::string>{"s1:b,s1,", "s2:s2,"}));
}

TEST(SocketMirrorTest, TheFullListGivesBackEveryFieldOfTheLastOpen) {
  SocketMirror mirror;
  v1::SocketUpdate first = Open("s1", {"s1", "a"});
  ASSERT_TRUE(mirror.Apply(0, first));
  v1::SocketUpdate open = Open("s1", {"s1", "b"});
  v1::Session& sent = *open.mutable_open()->mutable_session();
  sent.set_data(R"({"user":"ada"})");
  sent.set_epoch(7);
  sent.set_since_sequence(41);
  sent.set_subject("ada");
  sent.set_ttl_ms(120000);
  sent.set_address("127.0.0.9");
  sent.set_user_agent("node-XMLHttpRequest");
  ASSERT_TRUE(mirror.Apply(2, open)) << "a repeated Open replaces the entry";

  std::vector<v1::Sockets> commands = FullList(mirror);
  ASSERT_EQ(commands.size(), 1u);
  ASSERT_EQ(commands[0].updates_size(), 1);
  v1::Session listed = commands[0].updates(0).open().session();
  std::set<std::string> rooms(listed.rooms().begin(), listed.rooms().end());
  EXPECT_EQ(rooms, (std::set<std::string>{"s1", "b"}));
  listed.clear_rooms();
  sent.clear_rooms();
  EXPECT_EQ(listed.SerializeAsString(), sent.SerializeAsString());
  EXPECT_EQ(mirror.Forget("/", "s1"), 2u);
}

TEST(SocketMirrorTest, ALongListIsSplitAndOnlyTheLastCommandIsFull) {
  SocketMirror mirror;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(mirror.Apply(0, Open("s" + std::to_string(i), {})));
  std::vector<v1::Sockets> commands = FullList(mirror, /*max_bytes=*/200);
  ASSERT_GT(commands.size(), 5u);
  int listed = 0;
  for (size_t i = 0; i < commands.size(); ++i) {
    EXPECT_EQ(commands[i].full(), i + 1 == commands.size());
    listed += commands[i].updates_size();
  }
  EXPECT_EQ(listed, 100);
}

}  // namespace
}  // namespace roomq::gateway::bridge
