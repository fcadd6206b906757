// Unit tests of the broker's YAML config (broker/config.h).

#include "broker/config.h"

#include <gtest/gtest.h>

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
  max_age_ms: 60000
  max_messages: 10
  max_bytes: 1048576
sessions:
  max_records: 7
  max_bytes: 4096
  max_ttl_ms: 30000
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
  auto renamed = ParseBrokerConfig("sessions:\n  max_sessions: 5\n", "b.yaml");
  ASSERT_FALSE(renamed.ok());
  EXPECT_NE(renamed.status().message().find("b.yaml:2:3: 'max_sessions' is now 'max_records'"),
            std::string::npos)
      << renamed.status();
}

}  // namespace
}  // namespace roomq::broker
