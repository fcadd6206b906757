#include "proto/base/regex_numbers.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace roomq::base {
namespace {

TEST(CheckRegexNumbers, AcceptsBoundsAndBackreferencesUpToTheLimit) {
  for (const char* pattern : {"^/tenant-\\w+$", "^room-[0-9]{1,1000}$", "a{3}", "a{2,}", "(a)\\1",
                              "^/x-12345678$", "[{]9999999", "\\d{1000}"}) {
    EXPECT_TRUE(CheckRegexNumbers(pattern).ok()) << pattern;
  }
}

// The input tests/fuzz/config_fuzz.cc found: libstdc++ overflowed a long
// reading the backreference.
TEST(CheckRegexNumbers, RefusesLargeBoundsAndBackreferences) {
  for (const std::string& pattern :
       {std::string("a{1001}"), std::string("a{1,1001}"), std::string("a{99999999999999999999}"),
        ".*\\" + std::string(40, '3'), std::string("(a)\\1001")}) {
    const absl::Status status = CheckRegexNumbers(pattern);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << pattern << ": " << status;
  }
}

TEST(CompileRegex, CompilesOrSaysWhyNot) {
  absl::StatusOr<std::regex> room = CompileRegex("^room-[0-9]{1,3}$");
  ASSERT_TRUE(room.ok()) << room.status();
  EXPECT_TRUE(std::regex_match("room-42", *room));
  EXPECT_FALSE(std::regex_match("room-4242", *room));
  EXPECT_TRUE(absl::IsInvalidArgument(CompileRegex("[z-a]").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(CompileRegex(".*\\" + std::string(40, '3')).status()));
}

}  // namespace
}  // namespace roomq::base
