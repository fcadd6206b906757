// One config file per binary (proto/base/flag_file.h), end to end: every
// binary's --print-config is a config file that reads back to the same
// configuration, the command line wins over the file, an unknown key stops
// the binary at its line, and the file's keys reach the running binary.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "tests/support/binaries.h"
#include "tests/support/broker_process.h"
#include "tests/support/child_process.h"

namespace roomq::test_support {
namespace {

constexpr std::chrono::milliseconds kWait{10000};

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Outcome RunToExit(const std::string& binary, const std::vector<std::string>& args) {
  Outcome run;
  auto child = ChildProcess::Start(BinaryPath(binary), args);
  if (!child.ok()) {
    ADD_FAILURE() << child.status();
    return run;
  }
  auto exit = (*child)->Wait(kWait);
  if (!exit.ok()) {
    ADD_FAILURE() << binary << ": " << exit.status();
    return run;
  }
  run.exit_code = exit->exit_code;
  run.out = absl::StrJoin((*child)->Lines(Stream::kStdout), "\n");
  run.err = absl::StrJoin((*child)->Lines(Stream::kStderr), "\n");
  return run;
}

std::string WriteFile(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/config_file_test_" + name;
  std::ofstream(path) << text;
  return path;
}

class ConfigFileTest : public ::testing::TestWithParam<const char*> {};

// Every default and every value printed reads back: a file started from
// --print-config configures the binary exactly as it printed.
TEST_P(ConfigFileTest, PrintConfigReadsBackAsTheConfigFile) {
  const std::string binary = GetParam();
  const Outcome printed = RunToExit(binary, {"--print-config"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_NE(printed.out.find("log_level: info"), std::string::npos) << printed.out;
  const std::string path = WriteFile(binary + ".yaml", printed.out + "\n");
  const Outcome again = RunToExit(binary, {"--config", path, "--print-config"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, printed.out);
}

TEST_P(ConfigFileTest, TheCommandLineWinsOverTheFile) {
  const std::string binary = GetParam();
  const std::string path =
      WriteFile(binary + "-level.yaml", "log_level: debug\nlog_format: json\n");
  const Outcome run =
      RunToExit(binary, {"--config", path, "--log-level", "warn", "--print-config"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("log_format: json"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("log_level: warn"), std::string::npos) << run.out;
}

TEST_P(ConfigFileTest, AnUnknownKeyStopsTheBinaryAtItsLine) {
  const std::string binary = GetParam();
  const std::string path = WriteFile(binary + "-bad.yaml", "log_level: info\nlog-format: json\n");
  const Outcome run = RunToExit(binary, {"--config", path});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find(binary + ": --config: " + path +
                         ":2:1: unknown key 'log-format' (keys use underscores: log_format)"),
            std::string::npos)
      << run.err;

  const std::string level = WriteFile(binary + "-level-bad.yaml", "log_level: loud\n");
  const Outcome bad_value = RunToExit(binary, {"--config", level});
  EXPECT_EQ(bad_value.exit_code, 2);
  EXPECT_NE(bad_value.err.find(level + ":1:12: bad 'log_level'"), std::string::npos)
      << bad_value.err;
}

INSTANTIATE_TEST_SUITE_P(Binaries, ConfigFileTest,
                         ::testing::Values("roomq-broker", "roomq-gateway", "roomq-echo"),
                         [](const auto& info) {
                           std::string name = info.param;
                           name.erase(0, 6);  // "roomq-"
                           return name;
                         });

// The broker's flags and its own sections side by side in one file, and
// the binary running from it.
TEST(BrokerConfigFile, RunsFromItsFlagsAndSections) {
  const std::string path = WriteFile("broker-run.yaml",
                                     "pub_bind: tcp://127.0.0.1:*\n"
                                     "sub_bind: tcp://127.0.0.1:*\n"
                                     "log_format: json\n"
                                     "history:\n"
                                     "  max_messages: 7\n");
  const Outcome printed = RunToExit("roomq-broker", {"--config", path, "--print-config"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_NE(printed.out.find("history:\n  max_messages: 7"), std::string::npos) << printed.out;
  EXPECT_NE(printed.out.find("# sessions: not in the config file (its defaults)"),
            std::string::npos)
      << printed.out;

  auto broker = ChildProcess::Start(BinaryPath("roomq-broker"), {"--config", path});
  ASSERT_TRUE(broker.ok()) << broker.status();
  auto line = (*broker)->WaitForLine(std::regex("listening pub="), kWait);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(std::regex_search(*line, std::regex(R"(^\{"time":.*"msg":"roomq-broker listening)")))
      << *line;
}

// The gateway's flags beside its namespaces; a file of flags alone keeps the
// default namespace.
TEST(GatewayConfigFile, RunsFromItsFlagsAndNamespaces) {
  auto broker = StartBroker();
  ASSERT_TRUE(broker.ok()) << broker.status();
  const std::string flags =
      "listen: 127.0.0.1:0\nthreads: 1\nlog_format: json\nbroker_pub: " + broker->pub_endpoint +
      "\nbroker_sub: " + broker->sub_endpoint + "\n";
  for (const std::string& namespaces :
       {std::string("namespaces:\n  - name: /chat\n"), std::string()}) {
    const std::string path = WriteFile("gateway-run.yaml", flags + namespaces);
    auto gateway = ChildProcess::Start(BinaryPath("roomq-gateway"), {"--config", path});
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    auto line = (*gateway)->WaitForLine(std::regex("socket.io layer ready"), kWait);
    ASSERT_TRUE(line.ok()) << line.status();
    EXPECT_TRUE(std::regex_search(*line, std::regex(R"(^\{"time":.* namespaces=1")"))) << *line;
  }
}

}  // namespace
}  // namespace roomq::test_support
