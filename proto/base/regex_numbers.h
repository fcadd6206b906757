#ifndef ROOMQ_PROTO_BASE_REGEX_NUMBERS_H_
#define ROOMQ_PROTO_BASE_REGEX_NUMBERS_H_

// Check a pattern before std::regex sees it. libstdc++'s regex compiler
// reads the numbers of a pattern (the bounds of a {m,n} repetition and the
// N of a \N backreference) into a long without an overflow check, so a long
// run of digits is undefined behaviour (tests/fuzz/config_fuzz.cc found
// `\3333333333333333333`), and it builds one state per repetition, so a
// large bound costs memory in proportion. Every pattern roomq compiles from
// a config file or a token goes through CompileRegex, which checks first.
//
// Thread safety: pure functions.

#include <regex>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace roomq::base {

// The largest number a pattern may hold in a {m,n} bound or a \N.
inline constexpr int kMaxRegexNumber = 1000;

// OK when every {m,n} bound and \N backreference of `pattern` is at most
// kMaxRegexNumber; InvalidArgument naming the number otherwise. Other
// digits (literal text) are not limited; a '{' in a bracket expression is
// read as a bound too, which refuses only "[{1001]"-like patterns.
absl::Status CheckRegexNumbers(std::string_view pattern);

// `pattern` as an ECMAScript std::regex once CheckRegexNumbers passed;
// InvalidArgument with the number's or std::regex's reason otherwise.
absl::StatusOr<std::regex> CompileRegex(std::string_view pattern);

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_REGEX_NUMBERS_H_
