// Unit tests of broker/history/session_log: what a store held comes back
// after a reopen (a restart), claims stay claimed, expired sessions do not
// return, a torn tail loses only its last record, and compaction bounds the
// files while keeping every live session.

#include "broker/history/session_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "proto/base/clock.h"

namespace roomq::broker::history {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

v1::Session MakeSession(const std::string& pid) {
  v1::Session session;
  session.set_pid(pid);
  session.set_namespace_("/chat");
  session.set_socket_id("sid-" + pid);
  session.add_rooms("sid-" + pid);
  session.add_rooms("general");
  return session;
}

class SessionLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "session_log_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // Opens the log into a fresh store, as a restarted broker does.
  std::unique_ptr<SessionLog> Open(SessionStore& store, SessionLog::Restored* restored = nullptr) {
    storage::LogOptions options;
    options.dir = dir_ + "/sessions";
    options.clock = &clock_;
    auto log = SessionLog::Open(options, &store, restored);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }

  // Saves into the store and the log, as the broker does.
  void Save(SessionStore& store, SessionLog& log, const std::string& pid, milliseconds ttl) {
    ASSERT_TRUE(store.Save(MakeSession(pid), ttl, clock_.Now()).ok());
    log.Saved(MakeSession(pid), ttl);
  }

  size_t SegmentFiles() const {
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator(dir_ + "/sessions")) {
      n += entry.path().extension() == ".log";
    }
    return n;
  }

  base::FakeClock clock_;
  std::string dir_;
};

TEST_F(SessionLogTest, SavedSessionsComeBackAndClaimedOnesDoNot) {
  {
    SessionStore store({});
    auto log = Open(store);
    Save(store, *log, "kept", milliseconds(60000));
    Save(store, *log, "claimed", milliseconds(60000));
    ASSERT_TRUE(store.Claim("claimed", clock_.Now()).ok());
    log->Erased("claimed");
    ASSERT_TRUE(log->Flush().ok());
  }  // no Goodbye, no snapshot: what a SIGKILL leaves
  clock_.Advance(milliseconds(20000));
  SessionStore restored_store({});
  SessionLog::Restored restored;
  auto log = Open(restored_store, &restored);
  EXPECT_EQ(restored.saved, 1u);
  auto kept = restored_store.Claim("kept", clock_.Now());
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->socket_id(), "sid-kept");
  EXPECT_TRUE(absl::IsNotFound(restored_store.Claim("claimed", clock_.Now()).status()));
}

TEST_F(SessionLogTest, TheDeadlineIsKeptAcrossTheRestart) {
  {
    SessionStore store({});
    auto log = Open(store);
    Save(store, *log, "short", milliseconds(1000));
    Save(store, *log, "long", milliseconds(60000));
    ASSERT_TRUE(log->Flush().ok());
  }
  clock_.Advance(milliseconds(1500));
  SessionStore store({});
  SessionLog::Restored restored;
  auto log = Open(store, &restored);
  EXPECT_EQ(restored.saved, 1u);
  EXPECT_EQ(restored.skipped, 1u) << "the expired one";
  // "long" has what was left of its 60 s, not 60 s again.
  clock_.Advance(milliseconds(58500));
  EXPECT_TRUE(absl::IsNotFound(store.Claim("long", clock_.Now()).status()));
}

TEST_F(SessionLogTest, ATornLastRecordLosesOnlyItself) {
  {
    SessionStore store({});
    auto log = Open(store);
    Save(store, *log, "first", milliseconds(60000));
    Save(store, *log, "second", milliseconds(60000));
    ASSERT_TRUE(log->Flush().ok());
  }
  for (const auto& entry : fs::directory_iterator(dir_ + "/sessions")) {
    if (entry.path().extension() == ".log") fs::resize_file(entry.path(), entry.file_size() - 3);
  }
  SessionStore store({});
  SessionLog::Restored restored;
  auto log = Open(store, &restored);
  EXPECT_GT(restored.report.truncated_bytes, 0u);
  EXPECT_TRUE(store.Claim("first", clock_.Now()).ok());
  EXPECT_TRUE(absl::IsNotFound(store.Claim("second", clock_.Now()).status()));
}

TEST_F(SessionLogTest, CompactionBoundsTheFilesAndKeepsEveryLiveSession) {
  SessionStore store({});
  auto log = Open(store);
  Save(store, *log, "long-lived", milliseconds(600000));
  // Sessions saved and claimed over and over: the log grows, the store not.
  for (int i = 0; i < 60000; ++i) {
    const std::string pid = "churn-" + std::to_string(i);
    Save(store, *log, pid, milliseconds(60000));
    ASSERT_TRUE(store.Claim(pid, clock_.Now()).ok());
    log->Erased(pid);
    if (i % 1000 == 0) ASSERT_TRUE(log->MaybeCompact(store).ok());
  }
  ASSERT_TRUE(log->MaybeCompact(store).ok());
  EXPECT_GE(log->compactions(), 1u);
  EXPECT_LE(SegmentFiles(), 2u) << "old segments are deleted";
  log.reset();
  SessionStore restored_store({});
  SessionLog::Restored restored;
  auto reopened = Open(restored_store, &restored);
  EXPECT_EQ(restored.saved, 1u);
  EXPECT_TRUE(restored_store.Claim("long-lived", clock_.Now()).ok());
}

}  // namespace
}  // namespace roomq::broker::history
