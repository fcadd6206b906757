#include "proto/base/command_line.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace roomq::base {
namespace {

// The CLI11 command line (command_line.h) every binary uses.
enum class Mode { kFast, kSafe };

struct TestOptions {
  std::string endpoint = "tcp://127.0.0.1:5555";
  int count = 3;
  bool verbose = false;
  std::vector<std::string> origins;
  std::chrono::milliseconds interval{1500};
  Mode mode = Mode::kSafe;
  std::string metrics_bind;
};

class Cli11CommandLineTest : public ::testing::Test {
 protected:
  Cli11CommandLineTest() {
    UseRoomqConventions(app_);
    app_.add_option("--test-endpoint", options_.endpoint, "An endpoint");
    app_.add_option("--test-count", options_.count, "A number")->check(CLI::Range(1, 10));
    app_.add_flag("--test-verbose", options_.verbose, "A switch");
    app_.add_option("--test-origin", options_.origins, "A repeatable list");
    AddMilliseconds(app_, "--test-interval-ms", options_.interval, "A duration")->check(AtLeast(1));
    AddChoice(app_, "--test-mode", options_.mode, {{"fast", Mode::kFast}, {"safe", Mode::kSafe}},
              "A choice");
    app_.add_option("--test-bind", options_.metrics_bind, "An address")->check(kHostPort);
  }

  // The exit code (-1: go on); what went to stdout and stderr.
  int Run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    return ParseCommandLineOrUsage(app_, args, out_, err_).value_or(-1);
  }

  TestOptions options_;
  CLI::App app_{"Does things.", "prog"};
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(Cli11CommandLineTest, AcceptsDashedNamesInEveryForm) {
  ASSERT_EQ(Run({"--test-endpoint=tcp://*:1", "--test-count", "7", "--test-verbose",
                 "--test-interval-ms=250", "--test-mode", "fast"}),
            -1)
      << err_.str();
  EXPECT_EQ(options_.endpoint, "tcp://*:1");
  EXPECT_EQ(options_.count, 7);
  EXPECT_TRUE(options_.verbose);
  EXPECT_EQ(options_.interval, std::chrono::milliseconds(250));
  EXPECT_EQ(options_.mode, Mode::kFast);
  ASSERT_EQ(Run({"--notest-verbose", "-test_count=9"}), -1) << err_.str();
  EXPECT_FALSE(options_.verbose);
  EXPECT_EQ(options_.count, 9);
  ASSERT_EQ(Run({"--test-verbose"}), -1);
  ASSERT_EQ(Run({"--test-verbose=false"}), -1) << err_.str();
  EXPECT_FALSE(options_.verbose);
  EXPECT_TRUE(out_.str().empty());
  EXPECT_TRUE(err_.str().empty());
}

// A value may start with '-' (socket ids do: "-c9PRAcdvx1qbE4IHa7Y"): it
// stays the option's value as written, never rewritten into a flag.
TEST_F(Cli11CommandLineTest, ValuesStartingWithADashStayValues) {
  ASSERT_EQ(Run({"--test-endpoint", "-c9PRAcdvx1qbE4IHa7Y", "--test-origin", "-a_b",
                 "--test-origin", "--x"}),
            -1)
      << err_.str();
  EXPECT_EQ(options_.endpoint, "-c9PRAcdvx1qbE4IHa7Y");
  EXPECT_EQ(options_.origins, (std::vector<std::string>{"-a_b", "--x"}));
  ASSERT_EQ(Run({"-test_endpoint", "-9", "--test-count=4"}), -1) << err_.str();
  EXPECT_EQ(options_.endpoint, "-9");
  EXPECT_EQ(options_.count, 4);
  // After "--" nothing is rewritten.
  EXPECT_EQ(Run({"--", "-x"}), 2);
}

TEST_F(Cli11CommandLineTest, UnsetOptionsKeepTheStructDefaults) {
  ASSERT_EQ(Run({}), -1);
  EXPECT_EQ(options_.endpoint, "tcp://127.0.0.1:5555");
  EXPECT_EQ(options_.count, 3);
  EXPECT_EQ(options_.interval, std::chrono::milliseconds(1500));
  EXPECT_EQ(options_.mode, Mode::kSafe);
}

TEST_F(Cli11CommandLineTest, RepeatedListFlagsAccumulateOneValueEach) {
  ASSERT_EQ(Run({"--test-origin=http://a", "--test-origin", "*", "--test-count=1"}), -1)
      << err_.str();
  EXPECT_EQ(options_.origins, (std::vector<std::string>{"http://a", "*"}));
  // One value per occurrence: the next word is not swallowed into the list.
  EXPECT_EQ(Run({"--test-origin", "a", "b"}), 2);
  EXPECT_NE(err_.str().find("unexpected argument \"b\""), std::string::npos) << err_.str();
}

TEST_F(Cli11CommandLineTest, RepeatedScalarFlagTakesTheLastValue) {
  ASSERT_EQ(Run({"--test-count=2", "--test-count=5"}), -1) << err_.str();
  EXPECT_EQ(options_.count, 5);
}

TEST_F(Cli11CommandLineTest, UnknownFlagExitsTwoWithErrorAndUsageOnStderr) {
  EXPECT_EQ(Run({"--bogus=1"}), 2);
  EXPECT_EQ(err_.str().rfind("prog: unknown flag --bogus\n\n", 0), 0u) << err_.str();
  EXPECT_NE(err_.str().find("--test-endpoint"), std::string::npos) << err_.str();
  EXPECT_TRUE(out_.str().empty());
  EXPECT_EQ(Run({"positional"}), 2);
  EXPECT_NE(err_.str().find("unexpected argument \"positional\""), std::string::npos);
  EXPECT_EQ(Run({"--test-verbose=maybe"}), 2);
  EXPECT_EQ(Run({"--notest-count"}), 2);  // not a boolean
  EXPECT_EQ(Run({"--test-count"}), 2);    // no value
  EXPECT_EQ(Run({"--test-mode=slow"}), 2);
  EXPECT_NE(err_.str().find("--test-mode"), std::string::npos) << err_.str();
}

TEST_F(Cli11CommandLineTest, BadValueIsRefusedNamingTheFlag) {
  EXPECT_EQ(Run({"--test-count=many"}), 2);
  EXPECT_NE(err_.str().find("--test-count"), std::string::npos) << err_.str();
  EXPECT_EQ(Run({"--test-count=11"}), 2);  // outside CLI::Range(1, 10)
  EXPECT_NE(err_.str().find("--test-count"), std::string::npos) << err_.str();
  EXPECT_EQ(options_.count, 3);
  EXPECT_EQ(Run({"--test-interval-ms=0"}), 2);
  EXPECT_NE(err_.str().find("--test-interval-ms: must be at least 1, not 0"), std::string::npos)
      << err_.str();
  EXPECT_EQ(Run({"--test-interval-ms=2s"}), 2);
}

TEST_F(Cli11CommandLineTest, HelpWinsExitsZeroAndShowsDefaults) {
  EXPECT_EQ(Run({"--bogus", "--help"}), 0);
  EXPECT_EQ(Run({"--test-count=many", "-h"}), 0);
  EXPECT_EQ(Run({"-help"}), 0);
  EXPECT_TRUE(err_.str().empty());
  const std::string usage = out_.str();
  EXPECT_NE(usage.find("Does things."), std::string::npos) << usage;
  EXPECT_NE(usage.find("Usage: prog"), std::string::npos) << usage;
  EXPECT_NE(usage.find("--test-endpoint"), std::string::npos) << usage;
  EXPECT_NE(usage.find("tcp://127.0.0.1:5555"), std::string::npos) << usage;
  EXPECT_NE(usage.find("  --test-interval-ms\n      A duration (MS:>=1, default: 1500)"),
            std::string::npos)
      << usage;
  EXPECT_NE(usage.find("1500"), std::string::npos) << usage;
  EXPECT_NE(usage.find("default: safe"), std::string::npos) << usage;
  EXPECT_NE(usage.find("  --test-origin\n      A repeatable list (TEXT, repeatable)"),
            std::string::npos)
      << usage;
  EXPECT_NE(usage.find("--help"), std::string::npos) << usage;
  EXPECT_EQ(usage.find("test_count"), std::string::npos) << usage;
}

TEST_F(Cli11CommandLineTest, HostPort) {
  ASSERT_EQ(Run({"--test-bind=127.0.0.1:0"}), -1) << err_.str();
  EXPECT_EQ(options_.metrics_bind, "127.0.0.1:0");
  ASSERT_EQ(Run({"--test-bind=[::1]:9090"}), -1) << err_.str();
  for (const char* bad : {"--test-bind=localhost", "--test-bind=:80", "--test-bind=h:65536",
                          "--test-bind=h:", "--test-bind=h:x"}) {
    EXPECT_EQ(Run({bad}), 2) << bad;
    EXPECT_NE(err_.str().find("--test-bind"), std::string::npos) << err_.str();
  }
}

}  // namespace
}  // namespace roomq::base
