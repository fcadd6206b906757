#include "proto/base/regex_numbers.h"

#include <cctype>
#include <cstddef>
#include <string>

#include "absl/strings/str_cat.h"

namespace roomq::base {
namespace {

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// The digits of `pattern` from `*at` on; advances `*at` past them. OK when
// they are none or a number up to kMaxRegexNumber.
absl::Status CheckNumberAt(std::string_view pattern, size_t* at) {
  const size_t begin = *at;
  long value = 0;
  bool over = false;
  while (*at < pattern.size() && IsDigit(pattern[*at])) {
    if (!over) {
      value = value * 10 + (pattern[*at] - '0');
      over = value > kMaxRegexNumber;
    }
    ++*at;
  }
  if (!over) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("the number ", std::string(pattern.substr(begin, 12)),
                   *at - begin > 12 ? "..." : "", " is over ", kMaxRegexNumber));
}

}  // namespace

absl::Status CheckRegexNumbers(std::string_view pattern) {
  size_t at = 0;
  while (at < pattern.size()) {
    const char c = pattern[at++];
    if (c == '\\') {
      if (absl::Status status = CheckNumberAt(pattern, &at); !status.ok()) return status;
      if (at < pattern.size() && !IsDigit(pattern[at])) ++at;  // the escaped character
    } else if (c == '{') {
      if (absl::Status status = CheckNumberAt(pattern, &at); !status.ok()) return status;
      if (at < pattern.size() && pattern[at] == ',') {
        ++at;
        if (absl::Status status = CheckNumberAt(pattern, &at); !status.ok()) return status;
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::regex> CompileRegex(std::string_view pattern) {
  if (absl::Status numbers = CheckRegexNumbers(pattern); !numbers.ok()) return numbers;
  try {
    return std::regex(pattern.begin(), pattern.end(), std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return absl::InvalidArgumentError(e.what());
  }
}

}  // namespace roomq::base
