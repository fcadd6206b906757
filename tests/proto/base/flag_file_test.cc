#include "proto/base/flag_file.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "proto/base/command_line.h"

namespace roomq::base {
namespace {

// A binary's flags, as the roomq binaries bind them.
struct Flags {
  std::string listen = "0.0.0.0:3000";
  int64_t max_bytes = 1024;
  std::vector<std::string> trusted_proxy;
  std::vector<std::string> rooms = {"a", "b"};
  bool verbose = false;
  std::chrono::milliseconds ping{25000};
  std::string config;
  bool print_config = false;
};

void ExpectError(const absl::Status& status, const std::string& needle) {
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(std::string(status.message()).find(needle), std::string::npos) << status.message();
}

class FlagFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    UseRoomqConventions(app_);
    app_.add_option("--listen", flags_.listen, "HOST:PORT");
    app_.add_option("--max-bytes", flags_.max_bytes, "Bytes")->check(CLI::Range(1, 1 << 20));
    app_.add_option("--trusted-proxy", flags_.trusted_proxy, "CIDR")->delimiter(',');
    app_.add_option("--room", flags_.rooms, "Room");
    app_.add_flag("--verbose", flags_.verbose, "Say more");
    AddMilliseconds(app_, "--ping-ms", flags_.ping, "Ping interval");
    app_.add_option("--config", flags_.config, "YAML file");
    app_.add_flag("--print-config", flags_.print_config, "Print the configuration");
  }

  absl::Status Run(const std::vector<std::string>& args, const std::string& yaml,
                   const std::vector<std::string>& sections = {}) {
    if (absl::Status parsed = ParseCommandLine(app_, args); !parsed.ok()) return parsed;
    return ApplyFlagFile(app_, yaml, "test.yaml", sections);
  }

  CLI::App app_{"test", "flag-file-test"};
  Flags flags_;
};

TEST_F(FlagFileTest, TheFileSetsWhatTheCommandLineLeftUnset) {
  ASSERT_TRUE(Run({"--listen", "127.0.0.1:1", "--room", "x"},
                  "listen: 10.0.0.1:2\n"
                  "max_bytes: 4096\n"
                  "trusted_proxy: [10.0.0.0/8, 192.168.0.0/16]\n"
                  "room: [y, z]\n"
                  "verbose: true\n"
                  "ping_ms: 500\n")
                  .ok());
  EXPECT_EQ(flags_.listen, "127.0.0.1:1") << "the command line wins";
  EXPECT_EQ(flags_.rooms, std::vector<std::string>{"x"}) << "a list is replaced, not extended";
  EXPECT_EQ(flags_.max_bytes, 4096);
  EXPECT_EQ(flags_.trusted_proxy, (std::vector<std::string>{"10.0.0.0/8", "192.168.0.0/16"}));
  EXPECT_TRUE(flags_.verbose);
  EXPECT_EQ(flags_.ping, std::chrono::milliseconds(500));
}

TEST_F(FlagFileTest, AnEmptyFileAndSectionsSetNothing) {
  ASSERT_TRUE(Run({}, "").ok());
  ASSERT_TRUE(
      Run({}, "namespaces:\n  - name: /\nhistory: {max_messages: 5}\n", {"namespaces", "history"})
          .ok());
  EXPECT_EQ(flags_.listen, "0.0.0.0:3000");
  EXPECT_EQ(flags_.rooms, (std::vector<std::string>{"a", "b"}));
}

// What --print-config writes for an unset path or list: no value, as the
// default; an empty list cannot stand for "none" where the default has some.
TEST_F(FlagFileTest, EmptyValuesMatchingAnEmptyDefaultLeaveTheFlagUnset) {
  app_.add_option("--key-file", flags_.config, "A file")->check(CLI::ExistingFile);
  ASSERT_TRUE(Run({}, "key_file: \"\"\ntrusted_proxy: []\n").ok());
  EXPECT_TRUE(flags_.trusted_proxy.empty());
  ExpectError(Run({}, "room: []\n"), "'room': an empty list cannot replace the default [a,b]");
  ExpectError(Run({}, "key_file: nowhere\n"), "bad 'key_file'");
}

TEST_F(FlagFileTest, ErrorsSayWhereAndWhat) {
  ExpectError(Run({}, "listen: a:1\ncolour: red\n"), "test.yaml:2:1: unknown key 'colour'");
  ExpectError(Run({}, "max-bytes: 5\n"),
              "test.yaml:1:1: unknown key 'max-bytes' (keys use underscores: max_bytes)");
  ExpectError(Run({}, "config: other.yaml\n"), "unknown key 'config'");
  ExpectError(Run({}, "print_config: true\n"), "unknown key 'print_config'");
  ExpectError(Run({}, "help: true\n"), "unknown key 'help'");
  ExpectError(Run({}, "namespaces: []\n"), "unknown key 'namespaces'");
  ExpectError(Run({"--listen", "a:1"}, "listen: b:2\nlisten: c:3\n"),
              "test.yaml:2:1: duplicate key 'listen'");
  ExpectError(Run({}, "max_bytes: 0\n"), "test.yaml:1:12: bad 'max_bytes': ");
  ExpectError(Run({}, "max_bytes: many\n"), "bad 'max_bytes'");
  ExpectError(Run({}, "listen: [a, b]\n"), "test.yaml:1:9: 'listen' must be a value");
  ExpectError(Run({}, "room: {a: 1}\n"), "'room' must be a value or a list");
  ExpectError(Run({}, "room: [[a]]\n"), "'room' must be a scalar");
  ExpectError(Run({}, "- listen\n"), "a config file is a map of keys");
  ExpectError(Run({}, "listen: [\n"), "test.yaml:");
}

TEST_F(FlagFileTest, KeysAreTheFlagsWithUnderscores) {
  EXPECT_EQ(FlagKeys(app_), (std::vector<std::string>{"listen", "max_bytes", "trusted_proxy",
                                                      "room", "verbose", "ping_ms"}));
}

// --print-config's text is a config file: read back, it gives the same flags.
TEST_F(FlagFileTest, FormatFlagsPrintsTheEffectiveValuesAsAFile) {
  ASSERT_TRUE(Run({"--verbose", "--trusted-proxy", "10.0.0.0/8"}, "max_bytes: 77\n").ok());
  const std::string printed = FormatFlags(app_);
  EXPECT_EQ(printed,
            "listen: 0.0.0.0:3000\n"
            "max_bytes: 77\n"
            "trusted_proxy: [10.0.0.0/8]\n"
            "room: [a, b]\n"
            "verbose: true\n"
            "ping_ms: 25000\n");

  Flags again;
  CLI::App other{"test", "flag-file-test"};
  UseRoomqConventions(other);
  other.add_option("--listen", again.listen, "HOST:PORT");
  other.add_option("--max-bytes", again.max_bytes, "Bytes");
  other.add_option("--trusted-proxy", again.trusted_proxy, "CIDR");
  other.add_option("--room", again.rooms, "Room");
  other.add_flag("--verbose", again.verbose, "Say more");
  AddMilliseconds(other, "--ping-ms", again.ping, "Ping interval");
  again.rooms.clear();
  ASSERT_TRUE(ParseCommandLine(other, {}).ok());
  ASSERT_TRUE(ApplyFlagFile(other, printed, "printed", {}).ok());
  EXPECT_EQ(again.max_bytes, 77);
  EXPECT_TRUE(again.verbose);
  EXPECT_EQ(again.trusted_proxy, std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_EQ(again.rooms, (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace roomq::base
