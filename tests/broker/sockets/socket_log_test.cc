// Unit tests of broker/sockets/socket_log: the records of an index come back
// after a reopen (a restart) in the same states, a torn tail loses only its
// last change, compaction bounds the files while keeping every record, and
// a log cut at any point of a compaction replays to the same index.

#include "broker/sockets/socket_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace roomq::broker::sockets {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSecond = 1000000;  // microseconds
constexpr int64_t kStart = 1767225600 * kSecond;

v1::Session MakeSession(const std::string& id) {
  v1::Session session;
  session.set_pid("pid-" + id);
  session.set_namespace_("/chat");
  session.set_socket_id(id);
  session.add_rooms(id);
  session.add_rooms("general");
  session.set_ttl_ms(60000);
  return session;
}

v1::SocketRooms Join(const std::string& id, const std::string& room) {
  v1::SocketRooms rooms;
  rooms.set_namespace_("/chat");
  rooms.set_socket_id(id);
  rooms.add_joined(room);
  return rooms;
}

// A comparable picture of an index: one line per record.
std::set<std::string> Picture(const SocketIndex& index) {
  std::set<std::string> lines;
  index.ForEach([&](const SocketRecord& record) {
    std::set<std::string> rooms(record.rooms.begin(), record.rooms.end());
    std::string line = record.key + " pid=" + record.session.pid() +
                       " state=" + std::to_string(static_cast<int>(record.state)) +
                       " node=" + record.session.node() +
                       " deadline=" + std::to_string(record.deadline_us) + " rooms=";
    for (const std::string& room : rooms) line += room + ",";
    lines.insert(line);
  });
  return lines;
}

class SocketLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "socket_log_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::unique_ptr<SocketLog> Open(SocketIndex& index, SocketLogReport* report = nullptr,
                                  size_t min_compact_bytes = size_t{4} << 20,
                                  size_t segment_bytes = size_t{4} << 20) {
    SocketLogOptions options;
    options.dir = dir_;
    options.min_compact_bytes = min_compact_bytes;
    options.segment_bytes = segment_bytes;
    auto log = SocketLog::Open(options, index, report);
    EXPECT_TRUE(log.ok()) << log.status();
    if (!log.ok()) return nullptr;
    index.SetJournal(log->get());
    return std::move(*log);
  }

  std::vector<fs::path> Segments() const {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().extension() == ".log") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  std::string dir_;
};

TEST_F(SocketLogTest, EveryStateComesBackAfterAReopen) {
  std::set<std::string> before;
  {
    SocketIndex index({});
    auto log = Open(index);
    ASSERT_TRUE(index.Open(MakeSession("a"), "gw1", 1).ok());
    ASSERT_TRUE(index.Open(MakeSession("b"), "gw1", 1).ok());
    ASSERT_TRUE(index.Open(MakeSession("c"), "gw2", 1).ok());
    ASSERT_TRUE(index.Open(MakeSession("d"), "gw2", 1).ok());
    ASSERT_TRUE(index.Rooms(Join("a", "lobby"), "gw1").ok());
    ASSERT_TRUE(index.Close("/chat", "b", /*recoverable=*/true, "gw1", kStart).ok());
    ASSERT_TRUE(index.Close("/chat", "c", /*recoverable=*/false, "gw2", kStart).ok());
    EXPECT_TRUE(index
                    .Recover("pid-b", "/chat", "gw2", 2, kStart,
                             [](const SocketRecord&) { return RecoverCheck{}; })
                    .ok());
    EXPECT_EQ(index.NodeDown("gw1", kStart), 1u);  // a: disconnected
    ASSERT_TRUE(log->Flush().ok());
    before = Picture(index);
    ASSERT_EQ(before.size(), 3u);  // a disconnected, b on gw2, d on gw2; c erased
  }
  SocketIndex restored({});
  SocketLogReport report;
  auto log = Open(restored, &report);
  EXPECT_EQ(Picture(restored), before);
  EXPECT_EQ(report.skipped, 0u);
  EXPECT_EQ(restored.FindByPid("pid-b")->session.node(), "gw2");
  EXPECT_TRUE(restored.Find("/chat", "a")->rooms.contains("lobby"));
}

TEST_F(SocketLogTest, ATornTailLosesOnlyTheLastChange) {
  {
    SocketIndex index({});
    auto log = Open(index);
    ASSERT_TRUE(index.Open(MakeSession("a"), "gw1", 1).ok());
    ASSERT_TRUE(log->Flush().ok());
    ASSERT_TRUE(index.Rooms(Join("a", "lobby"), "gw1").ok());
    ASSERT_TRUE(log->Flush().ok());
  }
  const auto segments = Segments();
  ASSERT_EQ(segments.size(), 1u);
  fs::resize_file(segments[0], fs::file_size(segments[0]) - 3);  // a crash mid-write
  SocketIndex restored({});
  SocketLogReport report;
  auto log = Open(restored, &report);
  EXPECT_GT(report.open.truncated_bytes, 0u);
  ASSERT_NE(restored.Find("/chat", "a"), nullptr);
  EXPECT_FALSE(restored.Find("/chat", "a")->rooms.contains("lobby"));
}

TEST_F(SocketLogTest, CompactionBoundsTheFilesAndKeepsEveryRecord) {
  SocketIndex index({});
  auto log = Open(index, nullptr, /*min_compact_bytes=*/16 << 10, /*segment_bytes=*/4 << 10);
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(index.Open(MakeSession(std::to_string(i)), "gw1", 1).ok());
  // Days of joins and leaves by long-lived sockets: the log must not keep
  // them all.
  for (int round = 0; round < 2000; ++round) {
    const std::string id = std::to_string(round % 20);
    const std::string room = "room-" + std::to_string(round % 7);
    v1::SocketRooms change = Join(id, room);
    if (index.Find("/chat", id)->rooms.contains(room)) {
      change.mutable_left()->Swap(change.mutable_joined());
    }
    ASSERT_TRUE(index.Rooms(change, "gw1").ok());
    ASSERT_TRUE(log->MaybeCompact(index).ok());
  }
  EXPECT_GT(log->compactions(), 0u);
  uint64_t on_disk = 0;
  for (const auto& segment : Segments()) on_disk += fs::file_size(segment);
  EXPECT_LT(on_disk, 2 * (size_t{16} << 10) + 3 * index.bytes() + (size_t{8} << 10));
  const auto before = Picture(index);
  log.reset();
  SocketIndex restored({});
  auto reopened = Open(restored);
  EXPECT_EQ(Picture(restored), before);
}

// A SIGKILL can stop a compaction anywhere: the log is cut at every byte
// of the re-appended records, and each replay must give the index as it
// was (a whole record replaces what came before it; the torn one is cut).
TEST_F(SocketLogTest, ACompactionCutAnywhereReplaysToTheSameIndex) {
  std::set<std::string> before;
  std::string bytes;
  uintmax_t head = 0;
  {
    SocketIndex index({});
    auto log = Open(index, nullptr, /*min_compact_bytes=*/1, /*segment_bytes=*/1 << 20);
    ASSERT_TRUE(index.Open(MakeSession("a"), "gw1", 1).ok());
    ASSERT_TRUE(index.Open(MakeSession("b"), "gw1", 1).ok());
    ASSERT_TRUE(index.Open(MakeSession("c"), "gw1", 1).ok());
    ASSERT_TRUE(index.Rooms(Join("a", "x"), "gw1").ok());
    ASSERT_TRUE(index.Close("/chat", "b", true, "gw1", kStart).ok());
    ASSERT_TRUE(index.Close("/chat", "c", false, "gw1", kStart).ok());
    ASSERT_TRUE(log->Flush().ok());
    ASSERT_EQ(Segments().size(), 1u);
    head = fs::file_size(Segments()[0]);
    ASSERT_TRUE(log->MaybeCompact(index).ok());  // one segment: nothing is dropped
    ASSERT_EQ(log->compactions(), 1u);
    before = Picture(index);
    std::ifstream in(Segments()[0], std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
    ASSERT_GT(bytes.size(), head);
  }
  const fs::path segment = Segments()[0];
  for (size_t cut = head; cut <= bytes.size(); ++cut) {
    {
      std::ofstream out(segment, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(cut));
    }
    SocketIndex restored({});
    auto log = Open(restored);
    ASSERT_NE(log, nullptr);
    ASSERT_EQ(Picture(restored), before) << "cut at byte " << cut << " of " << bytes.size();
  }
}

}  // namespace
}  // namespace roomq::broker::sockets
