#include "proto/base/log_options.h"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "proto/base/command_line.h"
#include "proto/base/json.h"

namespace roomq::base {
namespace {

// One line as the json format writes it.
std::string JsonLine(std::string_view logger, spdlog::level::level_enum level,
                     std::string_view text) {
  spdlog::details::log_msg msg(spdlog::string_view_t(logger.data(), logger.size()), level,
                               spdlog::string_view_t(text.data(), text.size()));
  // 2026-12-06T23:30:01.000123Z
  msg.time = std::chrono::system_clock::time_point(std::chrono::microseconds(1796599801000123));
  spdlog::memory_buf_t out;
  NewJsonLogFormatter()->format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(JsonLogFormatter, WritesOneObjectPerLineWithTimeLevelAndMessage) {
  EXPECT_EQ(JsonLine("", spdlog::level::info, "listening on http://127.0.0.1:8080"),
            R"({"time":"2026-12-06T23:30:01.000123Z","level":"info",)"
            R"("msg":"listening on http://127.0.0.1:8080"})"
            "\n");
  EXPECT_EQ(JsonLine("loadgen", spdlog::level::warn, "slow"),
            R"({"time":"2026-12-06T23:30:01.000123Z","level":"warning","logger":"loadgen",)"
            R"("msg":"slow"})"
            "\n");
}

// Messages carry what clients sent (event names, reasons, addresses): a
// quote, a newline or a byte that is not UTF-8 must not break the line.
TEST(JsonLogFormatter, AnyMessageMakesOneValidJsonLine) {
  for (std::string_view text :
       {std::string_view("reason=\"bye\"\nsecond line\t\\"), std::string_view("\x01\x1f"),
        std::string_view("bad utf-8 \xff\xc3("), std::string_view("caf\xc3\xa9")}) {
    const std::string line = JsonLine("", spdlog::level::err, text);
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
    EXPECT_TRUE(ValidateJsonValue(line).ok()) << line;
    EXPECT_TRUE(IsValidUtf8(line)) << line;
  }
  EXPECT_NE(JsonLine("", spdlog::level::info, "caf\xc3\xa9").find("caf\xc3\xa9"),
            std::string::npos);
}

class LogFlagsTest : public ::testing::Test {
 protected:
  LogFlagsTest() {
    UseRoomqConventions(app_);
    AddLogOptions(app_, options_);
  }
  int Run(const std::vector<std::string>& args) {
    std::ostringstream out;
    std::ostringstream err;
    return ParseCommandLineOrUsage(app_, args, out, err).value_or(-1);
  }
  CLI::App app_{"test", "test"};
  LogOptions options_;
};

TEST_F(LogFlagsTest, DefaultsAreTextAtInfo) {
  EXPECT_EQ(Run({}), -1);
  EXPECT_EQ(options_.format, LogFormat::kText);
  EXPECT_EQ(options_.level, LogLevel::kInfo);
}

TEST_F(LogFlagsTest, ReadsFormatAndLevel) {
  EXPECT_EQ(Run({"--log-format=json", "--log-level", "debug"}), -1);
  EXPECT_EQ(options_.format, LogFormat::kJson);
  EXPECT_EQ(options_.level, LogLevel::kDebug);
}

TEST_F(LogFlagsTest, AnUnknownValueIsAUsageError) {
  EXPECT_EQ(Run({"--log-format=xml"}), 2);
  EXPECT_EQ(Run({"--log-level=loud"}), 2);
}

}  // namespace
}  // namespace roomq::base
