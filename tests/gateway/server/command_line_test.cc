#include "gateway/server/command_line.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/flags/flag.h"

ABSL_FLAG(int32_t, test_ping_interval_ms, 25000, "test flag");
ABSL_FLAG(std::vector<std::string>, test_cors_origin, {}, "test list flag");
ABSL_FLAG(bool, test_verbose, false, "test bool flag");

namespace roomq::gateway::server {
namespace {

constexpr char kFilter[] = "tests/gateway/server/command_line_test.cc";

TEST(ParseFlags, DashedNamesValuesAndRepeatedLists) {
  absl::Status status = ParseFlags({"--test-ping-interval-ms", "300", "--test-cors-origin=http://a",
                          "--test-cors-origin", "*", "--test-verbose"},
                         kFilter);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(absl::GetFlag(FLAGS_test_ping_interval_ms), 300);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_cors_origin), (std::vector<std::string>{"http://a", "*"}));
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_verbose));
  ASSERT_TRUE(ParseFlags({"--notest-verbose"}, kFilter).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_verbose));
}

TEST(ParseFlags, Errors) {
  EXPECT_TRUE(absl::IsNotFound(ParseFlags({"--help"}, kFilter)));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseFlags({"--bogus"}, kFilter)));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseFlags({"--test-ping-interval-ms", "abc"}, kFilter)));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseFlags({"--test-ping-interval-ms"}, kFilter)));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseFlags({"stray"}, kFilter)));
  // Flags of other files are not ours.
  EXPECT_TRUE(absl::IsInvalidArgument(ParseFlags({"--test-ping-interval-ms=1"}, "other.cc")));
}

TEST(FlagsUsage, ListsOnlyOurFlagsDashed) {
  std::string usage = FlagsUsage("prog", "Does things.", kFilter);
  EXPECT_NE(usage.find("Usage: prog [flags]"), std::string::npos);
  EXPECT_NE(usage.find("--test-ping-interval-ms"), std::string::npos);
  EXPECT_NE(usage.find("--test-cors-origin"), std::string::npos);
  EXPECT_NE(usage.find("--help"), std::string::npos);
  EXPECT_EQ(usage.find("test_ping"), std::string::npos);
}

TEST(ParseHostPort, AcceptsHostsAndPorts) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(ParseHostPort("127.0.0.1:8080", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(ParseHostPort("localhost:0", &host, &port).ok());
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(ParseHostPort("[::1]:9000", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  for (const char* bad : {"8080", ":8080", "host:", "host:65536", "host:-1", "host:x"}) {
    EXPECT_FALSE(ParseHostPort(bad, &host, &port).ok()) << bad;
  }
}

}  // namespace
}  // namespace roomq::gateway::server
