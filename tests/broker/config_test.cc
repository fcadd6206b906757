// Unit tests of the broker's YAML config (broker/config.h).

#include "broker/config.h"

#include <gtest/gtest.h>

#include "tests/support/log_capture.h"

namespace roomq::broker {
namespace {

TEST(BrokerConfigTest, EmptyMeansDefaults) {
  auto config = ParseBrokerConfig("", "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->history.defaults.max_messages, 1000u);
  EXPECT_EQ(config->history.defaults.max_age, std::chrono::minutes(2));
  EXPECT_EQ(config->history.max_bytes, size_t{256} << 20);
  EXPECT_EQ(config->sessions.max_records, 1000000u);
  EXPECT_EQ(config->sessions.max_bytes, size_t{512} << 20);
  EXPECT_EQ(config->sessions.max_ttl, std::chrono::minutes(10));
}

TEST(BrokerConfigTest, DefaultsAloneNeedNoNamespaces) {
  auto config = ParseBrokerConfig("history:\n  max_messages: 10\n", "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->history.defaults.max_messages, 10u);
  EXPECT_TRUE(config->history.namespaces.empty());
}

TEST(BrokerConfigTest, NamespaceOverridesInheritTheDefaults) {
  auto config = ParseBrokerConfig(R"(
history:
  namespaces:
    /chat: { max_messages: 5000 }
    /off: { max_messages: 0 }
  max_age: 60s
  max_messages: 10
  max_bytes: 1048576
sessions:
  max_records: 7
  max_bytes: 4096
  max_ttl: 30s
)",
                                  "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->history.defaults.max_messages, 10u);
  EXPECT_EQ(config->history.max_bytes, 1048576u);
  const auto& chat = config->history.namespaces.at("/chat");
  EXPECT_EQ(chat.max_messages, 5000u);
  EXPECT_EQ(chat.max_age, std::chrono::seconds(60));  // inherited, though given after
  EXPECT_EQ(config->history.namespaces.at("/off").max_messages, 0u);
  EXPECT_EQ(config->sessions.max_records, 7u);
  EXPECT_EQ(config->sessions.max_bytes, 4096u);
  EXPECT_EQ(config->sessions.max_ttl, std::chrono::seconds(30));
}

TEST(BrokerConfigTest, ErrorsNameTheLine) {
  auto unknown = ParseBrokerConfig("history:\n  max_mesages: 3\n", "b.yaml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("b.yaml:2:3: unknown key 'max_mesages'"),
            std::string::npos)
      << unknown.status();
  auto negative = ParseBrokerConfig("history:\n  max_messages: -1\n", "b.yaml");
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("b.yaml:2:"), std::string::npos);
  EXPECT_FALSE(ParseBrokerConfig("histories: {}\n", "b.yaml").ok());
  EXPECT_FALSE(ParseBrokerConfig("history:\n  namespaces:\n    chat: {}\n", "b.yaml").ok());
  EXPECT_FALSE(ParseBrokerConfig("history: [1, 2\n", "b.yaml").ok());
  EXPECT_FALSE(ParseBrokerConfig("sessions:\n  max_ttl_ms: 0\n", "b.yaml").ok());
  EXPECT_FALSE(ParseBrokerConfig("sessions:\n  max_ttl: 0s\n", "b.yaml").ok());
  auto renamed = ParseBrokerConfig("sessions:\n  max_sessions: 5\n", "b.yaml");
  ASSERT_FALSE(renamed.ok());
  EXPECT_NE(renamed.status().message().find("b.yaml:2:3: 'max_sessions' is now 'max_records'"),
            std::string::npos)
      << renamed.status();
}

TEST(BrokerConfigTest, ErrorsNameTheKeyPath) {
  auto bare =
      ParseBrokerConfig("history:\n  namespaces:\n    /chat: {max_age: 600000}\n", "b.yaml");
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.status().message().find(
                "b.yaml:3:22: bad history.namespaces./chat.max_age '600000' (a duration needs a "
                "unit"),
            std::string::npos)
      << bare.status();
  auto ttl = ParseBrokerConfig("sessions:\n  max_ttl: soon\n", "b.yaml");
  ASSERT_FALSE(ttl.ok());
  EXPECT_NE(ttl.status().message().find("b.yaml:2:12: bad sessions.max_ttl 'soon'"),
            std::string::npos)
      << ttl.status();
  auto records = ParseBrokerConfig("sessions:\n  max_records: many\n", "b.yaml");
  ASSERT_FALSE(records.ok());
  EXPECT_NE(records.status().message().find("'sessions.max_records' must be an integer"),
            std::string::npos)
      << records.status();
  auto unknown = ParseBrokerConfig("sessions:\n  max_tll: 1m\n", "b.yaml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("b.yaml:2:3: unknown key 'max_tll' in 'sessions'"),
            std::string::npos)
      << unknown.status();
}

// The keys that took bare milliseconds before durations had units still
// give the same values, each with a warning naming the key to write.
TEST(BrokerConfigTest, OldMillisecondKeysStillReadWithAWarning) {
  roomq::testing::LogCapture log;
  auto config = ParseBrokerConfig(R"(
history:
  max_age_ms: 60000
  namespaces:
    /chat: { max_age_ms: 1500 }
sessions:
  max_ttl_ms: 30000
)",
                                  "old.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->history.defaults.max_age, std::chrono::seconds(60));
  EXPECT_EQ(config->history.namespaces.at("/chat").max_age, std::chrono::milliseconds(1500));
  EXPECT_EQ(config->sessions.max_ttl, std::chrono::seconds(30));
  EXPECT_EQ(log.Grep("warning").size(), 3u);
  EXPECT_EQ(log.Grep("'history.max_age_ms' is deprecated: write 'history.max_age: 1m'").size(), 1u);
  EXPECT_EQ(log.Grep("'history.namespaces./chat.max_age_ms' is deprecated: write "
                     "'history.namespaces./chat.max_age: 1500ms'")
                .size(),
            1u);
  EXPECT_EQ(log.Grep("old.yaml:7:3: 'sessions.max_ttl_ms' is deprecated: write "
                     "'sessions.max_ttl: 30s'")
                .size(),
            1u);
}

TEST(BrokerConfigTest, NewAndOldSpellingTogetherIsAnError) {
  auto history = ParseBrokerConfig("history:\n  max_age: 1m\n  max_age_ms: 60000\n", "b.yaml");
  ASSERT_FALSE(history.ok());
  EXPECT_NE(history.status().message().find(
                "b.yaml:3:3: both 'history.max_age' and its old spelling 'history.max_age_ms'"),
            std::string::npos)
      << history.status();
  auto sessions = ParseBrokerConfig("sessions:\n  max_ttl_ms: 1\n  max_ttl: 1m\n", "b.yaml");
  ASSERT_FALSE(sessions.ok());
  EXPECT_NE(sessions.status().message().find("both 'sessions.max_ttl' and"), std::string::npos)
      << sessions.status();
}

}  // namespace
}  // namespace roomq::broker
