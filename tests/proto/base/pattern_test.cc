#include "proto/base/pattern.h"

#include <gtest/gtest.h>

#include <string>

namespace roomq::base {
namespace {

TEST(Pattern, MatchesWholeNames) {
  absl::StatusOr<Pattern> room = Pattern::Compile("^room-[0-9]{1,3}$");
  ASSERT_TRUE(room.ok()) << room.status();
  EXPECT_TRUE(room->FullMatch("room-42"));
  EXPECT_FALSE(room->FullMatch("room-4242"));
  EXPECT_EQ(room->source(), "^room-[0-9]{1,3}$");

  // Without anchors the whole name must match too, as with std::regex_match.
  absl::StatusOr<Pattern> team = Pattern::Compile(R"(team-\w+)");
  ASSERT_TRUE(team.ok()) << team.status();
  EXPECT_TRUE(team->FullMatch("team-red"));
  EXPECT_FALSE(team->FullMatch("my-team-red"));
  EXPECT_FALSE(team->FullMatch("team-red!"));
  EXPECT_FALSE(team->FullMatch(""));
}

TEST(Pattern, CopiesShareOneCompiledForm) {
  absl::StatusOr<Pattern> original = Pattern::Compile("^/tenant-\\w+$");
  ASSERT_TRUE(original.ok());
  const Pattern copy = *original;
  EXPECT_TRUE(copy.FullMatch("/tenant-a"));
  EXPECT_EQ(&copy.source(), &original->source());
}

TEST(Pattern, RefusesWhatDoesNotCompileWithTheReason) {
  for (const char* bad : {"[z-a]", "(", "a{1001}", "((a{1000}){1000}){1000}",
                          "(a)\\1",  // backreference
                          "(?=a)a", "(?!a)b", "(?<=a)b"}) {
    absl::StatusOr<Pattern> pattern = Pattern::Compile(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(pattern.status())) << bad << ": " << pattern.status();
    EXPECT_FALSE(pattern.status().message().empty()) << bad;
  }
  // The digits std::regex overflowed a long on (tests/fuzz/config_fuzz.cc)
  // are an octal escape (\333, U+00DB, UTF-8 C3 9B) and literal digits to RE2.
  absl::StatusOr<Pattern> digits = Pattern::Compile(".*\\" + std::string(40, '3'));
  ASSERT_TRUE(digits.ok()) << digits.status();
  EXPECT_TRUE(digits->FullMatch("x\xC3\x9B" + std::string(37, '3')));
}

TEST(Pattern, RefusesAProgramOverTheMemoryBudget) {
  EXPECT_TRUE(Pattern::Compile(".{1000}").ok());
  absl::StatusOr<Pattern> big = Pattern::Compile(".{1000}.{1000}");
  EXPECT_TRUE(absl::IsInvalidArgument(big.status())) << big.status();
}

// A backtracking matcher takes time exponential in the run of 'a's (and
// std::regex recursed once per character, so a long name overflowed the
// stack); RE2 answers in one linear pass.
TEST(Pattern, CatastrophicPatternsMatchLongNamesInOnePass) {
  absl::StatusOr<Pattern> nested = Pattern::Compile("^(a+)+$");
  ASSERT_TRUE(nested.ok());
  const std::string name = std::string(1 << 20, 'a') + "!";
  EXPECT_FALSE(nested->FullMatch(name));
  EXPECT_TRUE(nested->FullMatch(std::string(1 << 20, 'a')));

  absl::StatusOr<Pattern> alternatives = Pattern::Compile("^(a|aa)*b$");
  ASSERT_TRUE(alternatives.ok());
  EXPECT_FALSE(alternatives->FullMatch(std::string(100000, 'a')));
}

}  // namespace
}  // namespace roomq::base
