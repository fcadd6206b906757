// The gateway's policy for logging what clients cause (client_log.h): which
// events of a kind are logged at info, and how a client's text is made safe
// for a log line.

#include "gateway/engineio/client_log.h"

#include <gtest/gtest.h>

#include <string>

namespace roomq::gateway::engineio {
namespace {

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

}  // namespace
}  // namespace roomq::gateway::engineio
