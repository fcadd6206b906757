// Unit tests of the shared YAML config reader and its duration syntax
// (proto/base/yaml_config.h).

#include "proto/base/yaml_config.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/log_capture.h"

namespace roomq::base {
namespace {

using ::roomq::testing::LogCapture;
using std::chrono::milliseconds;

constexpr DurationRange kRange{milliseconds(1), std::chrono::hours(24)};

TEST(ParseDurationTest, EveryUnit) {
  EXPECT_EQ(*ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(*ParseDuration("30s"), std::chrono::seconds(30));
  EXPECT_EQ(*ParseDuration("2m"), std::chrono::minutes(2));
  EXPECT_EQ(*ParseDuration("1h"), std::chrono::hours(1));
  EXPECT_EQ(*ParseDuration("0s"), milliseconds(0));
  EXPECT_EQ(*ParseDuration("999999999h"), std::chrono::hours(999999999));
}

TEST(ParseDurationTest, RefusesWhatIsNotOneIntegerAndAUnit) {
  for (const char* text : {"", "ms", "2", "120000", "-1s", "1.5s", "2m30s", "2 m", "2M", "2d",
                           "1000000000ms", " 2m", "2m "}) {
    EXPECT_FALSE(ParseDuration(text).ok()) << text;
  }
  auto bare = ParseDuration("120");
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.status().message().find("needs a unit: 120ms, 120s, 120m or 120h"),
            std::string::npos)
      << bare.status();
}

TEST(FormatDurationTest, LargestExactUnit) {
  EXPECT_EQ(FormatDuration(std::chrono::minutes(2)), "2m");
  EXPECT_EQ(FormatDuration(std::chrono::seconds(90)), "90s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(FormatDuration(std::chrono::hours(24)), "24h");
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
}

// Reads `key` of the map in `yaml` as RenamedDuration does for the broker.
absl::StatusOr<std::optional<milliseconds>> Renamed(const std::string& yaml) {
  const YamlReader reader("r.yaml");
  return reader.Parse<std::optional<milliseconds>>(yaml, [&](const YAML::Node& root) {
    return reader.RenamedDuration(root["history"], "history.", "max_age", "max_age_ms", kRange);
  });
}

TEST(YamlReaderTest, DurationErrorsNameTheKeyAndPlace) {
  auto bare = Renamed("history:\n  max_age: 120000\n");
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.status().message().find("r.yaml:2:12: bad history.max_age '120000' (a duration "
                                         "needs a unit"),
            std::string::npos)
      << bare.status();
  auto range = Renamed("history:\n  max_age: 25h\n");
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("bad history.max_age '25h' (from 1ms to 24h)"),
            std::string::npos)
      << range.status();
  auto zero = Renamed("history:\n  max_age: 0s\n");
  EXPECT_FALSE(zero.ok());
}

TEST(YamlReaderTest, NewKeyOldKeyOrNeither) {
  LogCapture log;
  EXPECT_EQ(*Renamed("history:\n  max_age: 2m\n"), milliseconds(120000));
  EXPECT_EQ(*Renamed("history:\n  other: 1\n"), std::nullopt);
  EXPECT_TRUE(log.Lines().empty());
}

TEST(YamlReaderTest, OldKeyIsReadAsMillisecondsWithAWarning) {
  LogCapture log;
  EXPECT_EQ(*Renamed("history:\n  max_age_ms: 120000\n"), milliseconds(120000));
  const auto warnings = log.Grep("warning");
  ASSERT_EQ(warnings.size(), 1u) << log.Lines().size();
  EXPECT_NE(warnings[0].find("r.yaml:2:3: 'history.max_age_ms' is deprecated: write "
                             "'history.max_age: 2m' instead"),
            std::string::npos)
      << warnings[0];
  // The old key keeps its old syntax and bounds.
  EXPECT_FALSE(Renamed("history:\n  max_age_ms: 2m\n").ok());
  EXPECT_FALSE(Renamed("history:\n  max_age_ms: 0\n").ok());
  EXPECT_FALSE(Renamed("history:\n  max_age_ms: 86400001\n").ok());
}

TEST(YamlReaderTest, BothSpellingsAreAnError) {
  auto both = Renamed("history:\n  max_age: 2m\n  max_age_ms: 120000\n");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find(
                "r.yaml:3:3: both 'history.max_age' and its old spelling 'history.max_age_ms'"),
            std::string::npos)
      << both.status();
}

TEST(YamlReaderTest, TypedScalars) {
  const YamlReader reader("t.yaml");
  const YAML::Node root = YAML::Load("{n: 7, neg: -1, b: true, list: [1]}");
  EXPECT_EQ(*reader.Unsigned(root["n"], "a.n", 10), 7u);
  EXPECT_NE(reader.Unsigned(root["n"], "a.n", 5)
                .status()
                .message()
                .find("'a.n' must be an integer from 0 to 5"),
            std::string::npos);
  EXPECT_FALSE(reader.Unsigned(root["neg"], "a.neg", 5).ok());
  EXPECT_TRUE(*reader.Bool(root["b"], "b"));
  EXPECT_NE(reader.Bool(root["n"], "a.n").status().message().find("'a.n' must be true or false"),
            std::string::npos);
  EXPECT_NE(
      reader.Scalar(root["list"], "a.list").status().message().find("'a.list' must be a scalar"),
      std::string::npos);
}

TEST(YamlReaderTest, SyntaxErrorsAndMissingFiles) {
  const YamlReader reader("s.yaml");
  auto bad = reader.Parse<int>("a: [1, 2\n", [](const YAML::Node&) { return 0; });
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().substr(0, 7), "s.yaml:");
  auto missing = ReadConfigFile("/nonexistent/roomq.yaml");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
}

}  // namespace
}  // namespace roomq::base
