#include "broker/storage/record_log.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "broker/storage/record_format.h"
#include "proto/base/clock.h"

namespace roomq::broker::storage {
namespace {

namespace fs = std::filesystem;

struct Replayed {
  uint64_t index;
  uint8_t type;
  std::string payload;
  bool operator==(const Replayed&) const = default;
};

class RecordLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "record_log_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    dir_ = root_ + "/data";
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  LogOptions Options(size_t segment_bytes = 64 << 20) const {
    LogOptions options;
    options.dir = dir_;
    options.segment_bytes = segment_bytes;
    return options;
  }

  // Opens the log, collecting what it replays into replayed_.
  absl::StatusOr<std::unique_ptr<RecordLog>> Open(LogOptions options,
                                                  OpenReport* report = nullptr) {
    replayed_.clear();
    return RecordLog::Open(
        std::move(options),
        [this](const Record& r) {
          replayed_.push_back({r.index, r.type, std::string(r.payload)});
        },
        report);
  }

  // Writes `count` records "payload-<index>" (type = index % 256), flushing every
  // `per_flush`; returns what a replay should give back.
  std::vector<Replayed> Write(RecordLog& log, int count, int per_flush = 1) {
    std::vector<Replayed> written;
    for (int i = 0; i < count; ++i) {
      char payload[16];  // "payload-0001": every record is 9 + 12 = 21 bytes
      std::snprintf(payload, sizeof payload, "payload-%04llu",
                    static_cast<unsigned long long>(log.next_index()));
      const uint8_t type = static_cast<uint8_t>(log.next_index() % 256);
      const uint64_t index = log.Append(type, payload);
      written.push_back({index, type, payload});
      if ((i + 1) % per_flush == 0) {
        EXPECT_TRUE(log.Flush().ok());
      }
    }
    EXPECT_TRUE(log.Flush().ok());
    return written;
  }

  std::vector<std::string> SegmentFiles() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().extension() == ".log") names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string SegmentPath(const std::string& name) const { return dir_ + "/" + name; }

  static void FlipByte(const std::string& path, uintmax_t offset) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    file.read(&c, 1);
    c ^= 0x20;
    file.seekp(static_cast<std::streamoff>(offset));
    file.write(&c, 1);
  }

  std::string root_;
  std::string dir_;
  std::vector<Replayed> replayed_;
};

// History holds every client's events: nobody but the broker's user may
// read it, also when the operator created the directory with a looser mode.
TEST_F(RecordLogTest, DirectoryAndFilesArePrivate) {
  fs::create_directories(dir_);
  fs::permissions(dir_, fs::perms(0755), fs::perm_options::replace);
  {
    auto log = Open(Options());
    ASSERT_TRUE(log.ok()) << log.status();
    Write(**log, 3);
  }
  EXPECT_EQ(fs::status(dir_).permissions() & fs::perms::all, fs::perms(0700));
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    ++files;
    EXPECT_EQ(entry.status().permissions() & fs::perms::all, fs::perms(0600)) << entry.path();
  }
  EXPECT_GE(files, 2);  // at least the lock and a segment
}

TEST_F(RecordLogTest, RoundTripAcrossReopen) {
  std::vector<Replayed> written;
  uint64_t epoch = 0;
  {
    auto log = Open(Options());
    ASSERT_TRUE(log.ok()) << log.status();
    epoch = (*log)->epoch();
    EXPECT_NE(epoch, 0u);
    EXPECT_EQ((*log)->Append(0, ""), 1u);
    written.push_back({1, 0, ""});
    EXPECT_EQ((*log)->Append(255, std::string(1000, '\0')), 2u);
    written.push_back({2, 255, std::string(1000, '\0')});
    ASSERT_TRUE((*log)->Flush().ok());
    auto more = Write(**log, 10, 3);
    written.insert(written.end(), more.begin(), more.end());
  }
  OpenReport report;
  auto log = Open(Options(), &report);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(replayed_, written);
  EXPECT_EQ(report.records, 12u);
  EXPECT_EQ(report.segments, 1u);
  EXPECT_EQ(report.truncated_bytes, 0u);
  EXPECT_EQ(report.truncated_reason, "");
  EXPECT_EQ((*log)->epoch(), epoch);
  EXPECT_EQ((*log)->next_index(), 13u);
  EXPECT_EQ((*log)->first_index(), 1u);
}

TEST_F(RecordLogTest, AppendWritesNothingUntilFlushAndFlushIsOneWrite) {
  auto log = Open(Options());
  ASSERT_TRUE(log.ok()) << log.status();
  for (int i = 0; i < 50; ++i) (*log)->Append(1, "x");
  EXPECT_TRUE(SegmentFiles().empty());
  EXPECT_EQ((*log)->buffered_bytes(), 50 * (kRecordHeaderBytes + 1));
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->buffered_bytes(), 0u);
  EXPECT_EQ((*log)->stats().writes, 1u);
  EXPECT_EQ((*log)->stats().bytes_written, 50 * (kRecordHeaderBytes + 1));
  ASSERT_EQ(SegmentFiles(), std::vector<std::string>{"00000000000000000001.log"});
  EXPECT_EQ(fs::file_size(SegmentPath(SegmentFiles()[0])), 50 * (kRecordHeaderBytes + 1));
  ASSERT_TRUE((*log)->Flush().ok());  // nothing buffered: no write
  EXPECT_EQ((*log)->stats().writes, 1u);
}

TEST_F(RecordLogTest, ContinuesIndexesAfterReopen) {
  std::vector<Replayed> written;
  for (int round = 0; round < 3; ++round) {
    auto log = Open(Options());
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_EQ(replayed_, written);
    auto more = Write(**log, 4);
    EXPECT_EQ(more.front().index, 1u + 4 * round);
    written.insert(written.end(), more.begin(), more.end());
  }
}

TEST_F(RecordLogTest, RotatesSegmentsBySize) {
  std::vector<Replayed> written;
  {
    auto log = Open(Options(/*segment_bytes=*/100));
    ASSERT_TRUE(log.ok()) << log.status();
    // 21-byte records, 3 per flush (63 bytes per write): a segment reaches
    // 126 bytes after its second flush and the third goes to a new one.
    written = Write(**log, 30, 3);
    EXPECT_EQ((*log)->stats().segments_created, 5u);
  }
  const std::vector<std::string> expected = {"00000000000000000001.log", "00000000000000000007.log",
                                             "00000000000000000013.log", "00000000000000000019.log",
                                             "00000000000000000025.log"};
  ASSERT_EQ(SegmentFiles(), expected);
  for (const auto& name : expected) EXPECT_EQ(fs::file_size(SegmentPath(name)), 126u) << name;
  OpenReport report;
  auto log = Open(Options(100), &report);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(replayed_, written);
  EXPECT_EQ(report.segments, 5u);
  EXPECT_EQ((*log)->next_index(), 31u);
}

// A crash can cut the last write anywhere: at every byte inside the last
// record the tail is cut, reported, and nothing before it is lost.
TEST_F(RecordLogTest, TornTailAtEveryBytePositionOfTheLastRecord) {
  const std::string last_payload = "the-last-record-payload";
  const uintmax_t last_size = kRecordHeaderBytes + last_payload.size();
  LogOptions options = Options(/*segment_bytes=*/60);
  options.fsync = FsyncPolicy::kNever;  // recovery, not durability, is tested here: keep it fast
  for (uintmax_t cut = 1; cut < last_size; ++cut) {
    SCOPED_TRACE(cut);
    fs::remove_all(dir_);
    std::vector<Replayed> written;
    {
      auto log = Open(options);
      ASSERT_TRUE(log.ok()) << log.status();
      written = Write(**log, 5);
      (*log)->Append(9, last_payload);
      ASSERT_TRUE((*log)->Flush().ok());
    }
    const std::string newest = SegmentPath(SegmentFiles().back());
    const uintmax_t full = fs::file_size(newest);
    const uintmax_t start = full - last_size;
    fs::resize_file(newest, start + cut);

    OpenReport report;
    auto log = Open(options, &report);
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_EQ(replayed_, written);
    EXPECT_EQ(report.truncated_bytes, cut);
    EXPECT_NE(report.truncated_reason.find(SegmentFiles().back()), std::string::npos)
        << report.truncated_reason;
    EXPECT_NE(
        report.truncated_reason.find(cut < kRecordHeaderBytes ? "short header" : "short payload"),
        std::string::npos)
        << report.truncated_reason;
    EXPECT_EQ(fs::file_size(newest), start);
    // The log goes on from there: the lost record's index is reused.
    EXPECT_EQ((*log)->Append(9, "again"), 6u);
    ASSERT_TRUE((*log)->Flush().ok());
    log->reset();
    written.push_back({6, 9, "again"});
    OpenReport clean;
    ASSERT_TRUE(Open(options, &clean).ok());
    EXPECT_EQ(replayed_, written);
    EXPECT_EQ(clean.truncated_bytes, 0u);
  }
}

TEST_F(RecordLogTest, CrcMismatchInTheLastRecordIsCutAsATornTail) {
  std::vector<Replayed> written;
  {
    auto log = Open(Options(60));
    ASSERT_TRUE(log.ok()) << log.status();
    written = Write(**log, 8);
  }
  const std::string newest = SegmentPath(SegmentFiles().back());
  FlipByte(newest, fs::file_size(newest) - 1);  // last payload byte
  OpenReport report;
  auto log = Open(Options(60), &report);
  ASSERT_TRUE(log.ok()) << log.status();
  written.pop_back();
  EXPECT_EQ(replayed_, written);
  EXPECT_EQ(report.truncated_bytes, kRecordHeaderBytes + written.back().payload.size());
  EXPECT_NE(report.truncated_reason.find("CRC mismatch"), std::string::npos);
}

TEST_F(RecordLogTest, CrcMismatchInAnOlderSegmentIsDataLossNamingFileAndOffset) {
  {
    auto log = Open(Options(60));
    ASSERT_TRUE(log.ok()) << log.status();
    Write(**log, 12);
  }
  const auto files = SegmentFiles();
  ASSERT_GE(files.size(), 3u);
  const std::string older = SegmentPath(files[1]);
  FlipByte(older, 21 + kRecordHeaderBytes + 2);  // second record's payload
  const auto size_before = fs::file_size(older);
  auto log = Open(Options(60));
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(log.status().message().find(files[1]), std::string_view::npos) << log.status();
  EXPECT_NE(log.status().message().find("CRC mismatch at offset 21"), std::string_view::npos)
      << log.status();
  EXPECT_EQ(fs::file_size(older), size_before);  // nothing was cut
}

TEST_F(RecordLogTest, CorruptRecordFollowedByAnIntactOneInTheNewestSegmentIsDataLoss) {
  {
    auto log = Open(Options());
    ASSERT_TRUE(log.ok()) << log.status();
    Write(**log, 5);
  }
  const std::string only = SegmentPath(SegmentFiles().front());
  FlipByte(only, 21 + kRecordHeaderBytes);  // second record's payload
  auto log = Open(Options());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(log.status().message().find(
                "CRC mismatch at offset 21, followed by an intact record at offset 42"),
            std::string_view::npos)
      << log.status();
}

// Whatever a crash leaves after the last good record (random bytes here,
// fixed seed) is cut; the records before it are all replayed.
TEST_F(RecordLogTest, RandomGarbageAfterTheLastRecordIsCutAndNothingBeforeIsLost) {
  std::mt19937 random(1234);
  LogOptions options = Options();
  options.fsync = FsyncPolicy::kNever;
  for (int round = 0; round < 30; ++round) {
    SCOPED_TRACE(round);
    fs::remove_all(dir_);
    std::vector<Replayed> written;
    {
      auto log = Open(options);
      ASSERT_TRUE(log.ok()) << log.status();
      written = Write(**log, 4);
    }
    const std::string segment = SegmentPath(SegmentFiles().front());
    const auto size = fs::file_size(segment);
    std::string garbage(1 + random() % 64, '\0');
    for (char& c : garbage) c = static_cast<char>(random());
    if (round % 3 == 0) garbage.assign(garbage.size(), '\0');  // unwritten blocks read as zeros
    std::ofstream(segment, std::ios::app | std::ios::binary) << garbage;
    OpenReport report;
    auto log = Open(options, &report);
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_EQ(replayed_, written);
    EXPECT_EQ(report.truncated_bytes, garbage.size());
    EXPECT_EQ(fs::file_size(segment), size);
  }
}

TEST_F(RecordLogTest, MissingMiddleSegmentIsDataLoss) {
  {
    auto log = Open(Options(60));
    ASSERT_TRUE(log.ok()) << log.status();
    Write(**log, 12);
  }
  const auto files = SegmentFiles();
  ASSERT_GE(files.size(), 3u);
  fs::remove(SegmentPath(files[1]));
  auto log = Open(Options(60));
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(log.status().message().find("not contiguous"), std::string_view::npos) << log.status();
}

TEST_F(RecordLogTest, DropBeforeDeletesWholeOldSegmentsButNeverTheNewest) {
  std::vector<Replayed> written;
  auto log = Open(Options(60));
  ASSERT_TRUE(log.ok()) << log.status();
  written = Write(**log, 12);  // 3 records (63 bytes) per segment
  const auto files = SegmentFiles();
  ASSERT_EQ(files.size(), 4u);
  ASSERT_EQ(files[1], "00000000000000000004.log");
  ASSERT_EQ(files[2], "00000000000000000007.log");

  ASSERT_TRUE((*log)->DropBefore(1).ok());
  ASSERT_TRUE((*log)->DropBefore(3).ok());  // segment 1..3 still holds index 3
  EXPECT_EQ(SegmentFiles().size(), 4u);
  ASSERT_TRUE((*log)->DropBefore(4).ok());  // 1..3 are all < 4
  EXPECT_EQ(SegmentFiles().front(), "00000000000000000004.log");
  EXPECT_EQ((*log)->first_index(), 4u);
  ASSERT_TRUE((*log)->DropBefore(1000).ok());
  EXPECT_EQ(SegmentFiles(), std::vector<std::string>{"00000000000000000010.log"});
  EXPECT_EQ((*log)->stats().segments_deleted, 3u);
  log->reset();

  auto reopened = Open(Options(60));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(replayed_, std::vector<Replayed>(written.begin() + 9, written.end()));
  EXPECT_EQ((*reopened)->first_index(), 10u);
  EXPECT_EQ((*reopened)->next_index(), 13u);
}

// A process crash (no destructor) right after Flush loses nothing Flush
// wrote, under every policy; what was only appended is gone.
TEST_F(RecordLogTest, FlushedRecordsSurviveAProcessCrashUnderEveryFsyncPolicy) {
  for (FsyncPolicy policy : {FsyncPolicy::kNever, FsyncPolicy::kInterval, FsyncPolicy::kAlways}) {
    SCOPED_TRACE(static_cast<int>(policy));
    fs::remove_all(dir_);
    LogOptions options = Options(200);
    options.fsync = policy;
    options.fsync_interval = std::chrono::hours(1);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto log = RecordLog::Open(options, nullptr, nullptr);
      if (!log.ok()) ::_exit(1);
      for (int i = 0; i < 40; ++i) {
        (*log)->Append(1, "flushed-" + std::to_string(i));
        if (!(*log)->Flush().ok()) ::_exit(2);
      }
      (*log)->Append(1, "never-flushed");
      ::_exit(0);  // no destructor, no final flush
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    OpenReport report;
    auto log = Open(options, &report);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_EQ(replayed_.size(), 40u);
    for (int i = 0; i < 40; ++i) EXPECT_EQ(replayed_[i].payload, "flushed-" + std::to_string(i));
    EXPECT_EQ(report.truncated_bytes, 0u);
  }
}

TEST_F(RecordLogTest, FsyncPolicyDecidesWhenSegmentsAreSynced) {
  const auto syncs_after_three_flushes = [&](FsyncPolicy policy,
                                             std::chrono::milliseconds interval) {
    fs::remove_all(dir_);
    LogOptions options = Options();
    options.fsync = policy;
    options.fsync_interval = interval;
    auto log = Open(options);
    EXPECT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < 3; ++i) {
      (*log)->Append(1, "x");
      EXPECT_TRUE((*log)->Flush().ok());
    }
    EXPECT_TRUE((*log)->Flush().ok());  // nothing new
    return (*log)->stats().syncs;
  };
  EXPECT_EQ(syncs_after_three_flushes(FsyncPolicy::kAlways, std::chrono::hours(1)), 3u);
  EXPECT_EQ(syncs_after_three_flushes(FsyncPolicy::kNever, std::chrono::milliseconds(0)), 0u);
  EXPECT_EQ(syncs_after_three_flushes(FsyncPolicy::kInterval, std::chrono::hours(1)), 0u);
  EXPECT_EQ(syncs_after_three_flushes(FsyncPolicy::kInterval, std::chrono::milliseconds(0)), 3u);
}

TEST_F(RecordLogTest, IntervalPolicySyncsOnAnEmptyFlushOnceTheIntervalPassed) {
  base::FakeClock clock;
  LogOptions options = Options();
  options.fsync = FsyncPolicy::kInterval;
  options.fsync_interval = std::chrono::milliseconds(20);
  options.clock = &clock;
  auto log = Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  (*log)->Append(1, "x");
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->stats().syncs, 0u);  // opened just now
  clock.Advance(std::chrono::milliseconds(19));
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->stats().syncs, 0u);  // the interval has not passed yet
  clock.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->stats().syncs, 1u);
  ASSERT_TRUE((*log)->Flush().ok());  // nothing written since: no second sync
  clock.Advance(std::chrono::milliseconds(30));
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->stats().syncs, 1u);
}

TEST_F(RecordLogTest, EpochIsPersistedAndACorruptEpochIsDataLoss) {
  uint64_t epoch = 0;
  {
    auto log = Open(Options());
    ASSERT_TRUE(log.ok()) << log.status();
    epoch = (*log)->epoch();
  }
  EXPECT_FALSE(fs::exists(dir_ + "/EPOCH.tmp"));
  std::ifstream in(dir_ + "/EPOCH");
  std::string text;
  in >> text;
  EXPECT_EQ(text, std::to_string(epoch));
  {
    auto log = Open(Options());
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_EQ((*log)->epoch(), epoch);
  }
  std::ofstream(dir_ + "/EPOCH", std::ios::trunc) << "12ab\n";
  auto log = Open(Options());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(log.status().message().find("EPOCH"), std::string_view::npos);
}

TEST_F(RecordLogTest, NewLogsGetDifferentEpochs) {
  auto a = Open(Options());
  ASSERT_TRUE(a.ok()) << a.status();
  LogOptions other = Options();
  other.dir = root_ + "/other";
  auto b = Open(other);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE((*a)->epoch(), (*b)->epoch());
}

TEST_F(RecordLogTest, ASecondOpenOfTheSameDirIsRefused) {
  auto first = Open(Options());
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = Open(Options());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  first->reset();
  EXPECT_TRUE(Open(Options()).ok());
}

TEST_F(RecordLogTest, ADirThatCannotBeCreatedOrWrittenIsAStatus) {
  std::ofstream(root_ + "/file") << "not a dir";
  LogOptions under_file = Options();
  under_file.dir = root_ + "/file/data";
  auto log = Open(under_file);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find(root_ + "/file"), std::string_view::npos) << log.status();

  // An existing directory nobody (not even root) can make private or create
  // files in.
  LogOptions proc = Options();
  proc.dir = "/proc/self";
  log = Open(proc);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("/proc/self"), std::string_view::npos) << log.status();

  LogOptions empty;
  EXPECT_EQ(Open(empty).status().code(), absl::StatusCode::kInvalidArgument);
}

// A write that fails half-way (here: RLIMIT_FSIZE, which also fails as
// root) leaves the segment on a record boundary and keeps the records
// buffered; the next Flush after the cause is gone writes them.
TEST_F(RecordLogTest, AFailedWriteIsAStatusAndIsRetriedByTheNextFlush) {
  auto log = Open(Options());
  ASSERT_TRUE(log.ok()) << log.status();
  std::vector<Replayed> written = Write(**log, 3);
  const std::string segment = SegmentPath(SegmentFiles().front());
  const auto size = fs::file_size(segment);

  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limited = saved;
  limited.rlim_cur = size + 100;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  const std::string big(1000, 'b');
  (*log)->Append(3, big);
  const absl::Status failed = (*log)->Flush();
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  ::signal(SIGXFSZ, old_handler);

  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find(segment), std::string_view::npos) << failed;
  EXPECT_EQ(fs::file_size(segment), size);  // the partial write was undone
  EXPECT_GT((*log)->buffered_bytes(), 0u);

  ASSERT_TRUE((*log)->Flush().ok());
  written.push_back({4, 3, big});
  log->reset();
  OpenReport report;
  ASSERT_TRUE(Open(Options(), &report).ok());
  EXPECT_EQ(replayed_, written);
  EXPECT_EQ(report.truncated_bytes, 0u);
}

// An Env whose writes, syncs and cut-backs fail on command.
class FailingEnv : public Env {
 public:
  absl::Status Write(int fd, std::string_view data, std::string_view path) override {
    if (!fail_write) return Env::Write(fd, data, path);
    (void)Env::Write(fd, data.substr(0, data.size() / 2), path);  // half, then the disk is full
    return absl::ResourceExhaustedError("write: No space left on device (injected)");
  }
  absl::Status Sync(int fd, std::string_view path) override {
    if (fail_sync) return absl::InternalError("fdatasync: Input/output error (injected)");
    return Env::Sync(fd, path);
  }
  absl::Status Truncate(int fd, uint64_t size, std::string_view path) override {
    if (fail_truncate) return absl::InternalError("ftruncate: Input/output error (injected)");
    return Env::Truncate(fd, size, path);
  }
  bool fail_write = false;
  bool fail_sync = false;
  bool fail_truncate = false;
};

// What the broker does after a failed Flush: give the records up. Their
// indexes are handed out again and nothing of them reaches the file.
TEST_F(RecordLogTest, DiscardBufferedGivesUpUnwrittenRecordsAndTheirIndexes) {
  FailingEnv env;
  LogOptions options = Options();
  options.env = &env;
  auto log = Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  std::vector<Replayed> written = Write(**log, 2);
  env.fail_write = true;
  EXPECT_EQ((*log)->Append(1, "lost-a"), 3u);
  EXPECT_EQ((*log)->Append(1, "lost-b"), 4u);
  const absl::Status failed = (*log)->Flush();
  EXPECT_EQ(failed.code(), absl::StatusCode::kResourceExhausted) << failed;
  EXPECT_TRUE((*log)->broken().ok());  // the half write was cut back
  EXPECT_EQ((*log)->DiscardBuffered(), 2u);
  EXPECT_EQ((*log)->buffered_bytes(), 0u);
  EXPECT_EQ((*log)->next_index(), 3u);

  env.fail_write = false;
  EXPECT_EQ((*log)->Append(2, "kept"), 3u);
  ASSERT_TRUE((*log)->Flush().ok());
  written.push_back({3, 2, "kept"});
  log->reset();
  OpenReport report;
  ASSERT_TRUE(Open(Options(), &report).ok());
  EXPECT_EQ(replayed_, written);
  EXPECT_EQ(report.truncated_bytes, 0u);
}

// A failed fdatasync leaves what reached the disk unknown: the log is broken
// and refuses every later Flush with the same error.
TEST_F(RecordLogTest, AFailedSyncBreaksTheLog) {
  FailingEnv env;
  LogOptions options = Options();
  options.env = &env;
  options.fsync = FsyncPolicy::kAlways;
  auto log = Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  Write(**log, 1);
  env.fail_sync = true;
  (*log)->Append(1, "unsynced");
  const absl::Status failed = (*log)->Flush();
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ((*log)->broken(), failed);
  env.fail_sync = false;
  (*log)->Append(1, "later");
  EXPECT_EQ((*log)->Flush(), failed);
}

// A failed write whose cut-back fails too breaks the log; the half record
// it left is a torn tail the next Open cuts.
TEST_F(RecordLogTest, AFailedWriteThatCannotBeCutBackBreaksTheLogAndOpenCutsIt) {
  FailingEnv env;
  LogOptions options = Options();
  options.env = &env;
  auto log = Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  const std::vector<Replayed> written = Write(**log, 2);
  env.fail_write = true;
  env.fail_truncate = true;
  (*log)->Append(1, std::string(100, 't'));
  EXPECT_FALSE((*log)->Flush().ok());
  EXPECT_FALSE((*log)->broken().ok());
  EXPECT_NE((*log)->broken().message().find("undoing it failed too"), std::string_view::npos);
  log->reset();
  OpenReport report;
  ASSERT_TRUE(Open(Options(), &report).ok());
  EXPECT_EQ(replayed_, written);
  EXPECT_GT(report.truncated_bytes, 0u);
}

TEST_F(RecordLogTest, UnrelatedFilesAreIgnoredAndBadSegmentNamesRefused) {
  {
    auto log = Open(Options());
    ASSERT_TRUE(log.ok()) << log.status();
    Write(**log, 2);
  }
  std::ofstream(dir_ + "/notes.txt") << "hello";
  std::ofstream(dir_ + "/1.log") << "short name";
  ASSERT_TRUE(Open(Options()).ok());
  EXPECT_EQ(replayed_.size(), 2u);
  std::ofstream(dir_ + "/0000000000000000000x.log") << "";
  auto log = Open(Options());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss) << log.status();
}

}  // namespace
}  // namespace roomq::broker::storage
