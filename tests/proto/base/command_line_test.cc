#include "proto/base/command_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, test_endpoint, "tcp://127.0.0.1:5555", "An endpoint");
ABSL_FLAG(int32_t, test_count, 3, "A number");
ABSL_FLAG(bool, test_verbose, false, "A switch");
ABSL_FLAG(std::vector<std::string>, test_origin, {}, "A repeatable list");

namespace roomq::base {
namespace {

constexpr std::string_view kFile = "tests/proto/base/command_line_test.cc";

class CommandLineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::SetFlag(&FLAGS_test_endpoint, "tcp://127.0.0.1:5555");
    absl::SetFlag(&FLAGS_test_count, 3);
    absl::SetFlag(&FLAGS_test_verbose, false);
    absl::SetFlag(&FLAGS_test_origin, {});
  }
};

TEST_F(CommandLineTest, AcceptsDashedNamesInEveryForm) {
  const absl::Status status =
      ParseFlags({"--test-endpoint=tcp://*:1", "--test-count", "7", "--test-verbose"}, kFile);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(absl::GetFlag(FLAGS_test_endpoint), "tcp://*:1");
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 7);
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_verbose));
  ASSERT_TRUE(ParseFlags({"--notest-verbose", "-test_count=9"}, kFile).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_verbose));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 9);
}

TEST_F(CommandLineTest, RepeatedListFlagsAccumulate) {
  const absl::Status status =
      ParseFlags({"--test-origin=http://a", "--test-origin", "*", "--test-count=1"}, kFile);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(absl::GetFlag(FLAGS_test_origin), (std::vector<std::string>{"http://a", "*"}));
}

// Regression: the value of a bare boolean flag was once a string_view into a
// temporary, so `--flag` read whatever the freed buffer held. Each form
// alone, with other arguments around it that churn the heap, must read
// exactly true / false.
TEST_F(CommandLineTest, BareBooleanFlagsReadTrueOrFalseExactly) {
  for (int i = 0; i < 100; ++i) {
    const std::string long_value(200 + i, 'x');
    ASSERT_TRUE(ParseFlags({"--test-verbose"}, kFile).ok());
    EXPECT_TRUE(absl::GetFlag(FLAGS_test_verbose));
    ASSERT_TRUE(ParseFlags({"--notest-verbose", "--test-endpoint=" + long_value}, kFile).ok());
    EXPECT_FALSE(absl::GetFlag(FLAGS_test_verbose));
    const absl::Status status =
        ParseFlags({"--test-endpoint", long_value, "--test-verbose", "--test-count=5"}, kFile);
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_TRUE(absl::GetFlag(FLAGS_test_verbose));
    EXPECT_EQ(absl::GetFlag(FLAGS_test_endpoint), long_value);
  }
  // An explicit value still wins over the bare form's default.
  ASSERT_TRUE(ParseFlags({"--test-verbose=false"}, kFile).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_verbose));
}

TEST_F(CommandLineTest, RejectsWhatItDoesNotKnow) {
  EXPECT_TRUE(absl::IsInvalidArgument(ParseFlags({"--bogus=1"}, kFile)));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseFlags({"--test-count=many"}, kFile)));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseFlags({"--test-count"}, kFile)));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseFlags({"positional"}, kFile)));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseFlags({"--notest-count"}, kFile)));
  // Flags of other files (libraries) are not ours to set.
  EXPECT_TRUE(absl::IsInvalidArgument(ParseFlags({"--test-count=1"}, "broker/main.cc")));
}

TEST_F(CommandLineTest, HelpWinsAndUsageListsOnlyOurFlagsDashed) {
  EXPECT_TRUE(absl::IsNotFound(ParseFlags({"--bogus", "--help"}, kFile)));
  const std::string usage = FlagsUsage("prog", "Does things.", kFile);
  EXPECT_NE(usage.find("Usage: prog [flags]\nDoes things."), std::string::npos) << usage;
  EXPECT_NE(usage.find("--test-endpoint\n      An endpoint (default: tcp://127.0.0.1:5555)"),
            std::string::npos)
      << usage;
  EXPECT_NE(usage.find("--test-origin"), std::string::npos);
  EXPECT_NE(usage.find("--help"), std::string::npos);
  EXPECT_EQ(usage.find("test_count"), std::string::npos);
}

}  // namespace
}  // namespace roomq::base
