// The gateway's policy for logging what clients cause (client_log.h): which
// events of a kind are logged at info, and how a client's text is made safe
// for a log line.

#include "gateway/engineio/client_log.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "proto/base/clock.h"
#include "tests/support/log_capture.h"

namespace roomq::gateway::engineio {
namespace {

using std::chrono::milliseconds;

TEST(ClientLogTest, TheFirstTenThenOneInEveryThousand) {
  int logged = 0;
  for (uint64_t n = 1; n <= 12000; ++n) logged += LogInFull(n) ? 1 : 0;
  EXPECT_EQ(logged, 10 + 12);
  EXPECT_TRUE(LogInFull(10));
  EXPECT_FALSE(LogInFull(11));
  EXPECT_FALSE(LogInFull(999));
  EXPECT_TRUE(LogInFull(1000));
  EXPECT_TRUE(LogInFull(2000));
}

TEST(ClientLogTest, LogSafeQuotesAndEscapes) {
  EXPECT_EQ(LogSafe("/tenant-1"), "\"/tenant-1\"");
  EXPECT_EQ(LogSafe(""), "\"\"");
  EXPECT_EQ(LogSafe("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(LogSafe(std::string("\n\r\t\x1b\x00", 5)), R"("\x0a\x0d\x09\x1b\x00")");
  EXPECT_EQ(LogSafe("caf\xc3\xa9"), R"("caf\xc3\xa9")") << "bytes outside ASCII, valid or not";
  EXPECT_EQ(LogSafe("\x7f\xff"), R"("\x7f\xff")");
}

TEST(ClientLogTest, LogSafeCutsLongTextAndSaysHowLongItWas) {
  const std::string text(300, 'a');
  EXPECT_EQ(LogSafe(text), "\"" + std::string(64, 'a') + "\"...(300 bytes)");
  EXPECT_EQ(LogSafe(text, 3), "\"aaa\"...(300 bytes)");
  EXPECT_EQ(LogSafe(std::string(64, 'b')), "\"" + std::string(64, 'b') + "\"") << "not cut";
  // The bound is on the client's bytes, before escaping.
  EXPECT_EQ(LogSafe(std::string(100, '\n'), 2), R"("\x0a\x0a"...(100 bytes))");
}

// A flood goes to debug past the budget; the next line at info says how
// many did, and the budget refills with time (the fake clock's).
TEST(LineBudgetTest, RateLinesASecondAtInfoTheRestAtDebug) {
  testing::LogCapture log;
  base::FakeClock clock;
  LineBudget budget(3, &clock);
  for (int i = 0; i < 10; ++i) budget.Log("socket connected: " + std::to_string(i));
  EXPECT_EQ(budget.at_debug(), 7u);
  std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "info socket connected: 0");
  EXPECT_EQ(lines[2], "info socket connected: 2");

  clock.Advance(milliseconds(300));  // under one token: still at debug
  budget.Log("socket connected: 10");
  EXPECT_EQ(budget.at_debug(), 8u);
  clock.Advance(milliseconds(100));
  budget.Log("socket connected: 11");
  budget.Log("socket connected: 12");
  lines = log.Lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3], "info socket connected: 11 (8 like it at debug since the last)");
  EXPECT_EQ(budget.at_debug(), 9u);

  clock.Advance(std::chrono::seconds(10));  // refills to the burst, not beyond
  for (int i = 0; i < 4; ++i) budget.Log("socket disconnected");
  lines = log.Lines();
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[4], "info socket disconnected (1 like it at debug since the last)");
  EXPECT_EQ(lines[5], "info socket disconnected");
  EXPECT_EQ(budget.at_debug(), 10u);
}

TEST(LineBudgetTest, RateZeroLogsEveryLineAtInfo) {
  testing::LogCapture log;
  base::FakeClock clock;
  LineBudget budget(0, &clock);
  for (int i = 0; i < 1000; ++i) budget.Log("socket connected");
  EXPECT_EQ(log.Lines().size(), 1000u);
  EXPECT_EQ(budget.at_debug(), 0u);
}

}  // namespace
}  // namespace roomq::gateway::engineio
