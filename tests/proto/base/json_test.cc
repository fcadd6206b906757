#include "proto/base/json.h"

#include <gtest/gtest.h>

#include <string>

namespace roomq::base {
namespace {

TEST(JsonTest, EscapesStrings) {
  EXPECT_EQ(JsonQuote("plain"), "\"plain\"");
  EXPECT_EQ(JsonQuote("q\"b\\t\tr\r"), R"("q\"b\\t\tr\r")");
  EXPECT_EQ(JsonQuote("h\xc3\xa9"), "\"h\xc3\xa9\"");  // UTF-8 passes through
}

TEST(JsonTest, QuotesControlsAndKeepsUtf8) {
  EXPECT_EQ(JsonQuote("plain"), "\"plain\"");
  EXPECT_EQ(JsonQuote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonQuote(std::string("\x01\t", 2)), R"("\u0001\t")");
  EXPECT_EQ(JsonQuote("\xc3\xa9"), "\"\xc3\xa9\"");
}

TEST(JsonTest, ValidatesValues) {
  EXPECT_TRUE(ValidateJsonValue("2").ok());
  EXPECT_TRUE(ValidateJsonValue("\"s\"").ok());
  EXPECT_TRUE(ValidateJsonValue(" null ").ok());
  EXPECT_FALSE(ValidateJsonValue("").ok());
  EXPECT_FALSE(ValidateJsonValue("nul").ok());
  EXPECT_FALSE(ValidateJsonValue("{\"a\":}").ok());
  EXPECT_TRUE(ValidateJsonArray("[]").ok());
  EXPECT_FALSE(ValidateJsonArray("{}").ok());
}

}  // namespace
}  // namespace roomq::base
