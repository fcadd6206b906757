#ifndef ROOMQ_PROTO_BASE_PATTERN_H_
#define ROOMQ_PROTO_BASE_PATTERN_H_

// A whole-name regular expression from a config file or a token, matched
// against names clients choose (namespaces, rooms). It is RE2, not
// std::regex: libstdc++'s regex backtracks (a pattern like ^(a+)+$ takes
// exponential time on a crafted name), recurses once per character of the
// name, and builds one state per repetition while compiling, so a client's
// name or a token's pattern could stall or crash a gateway thread. RE2 matches
// in time linear in the name and compiles within a memory budget.
//
// The syntax is RE2's: JavaScript regexes without backreferences and
// lookaround (those are refused, like a pattern that does not compile).
//
// Thread safety: a Pattern is immutable; copies share one compiled form, and
// FullMatch may run on any thread at once.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace roomq::base {

// The memory one pattern may use: its compiled program and its matching
// cache. A pattern whose program does not fit is refused (".{1000}" fits,
// ".{1000}.{1000}" does not). Repetition bounds are at most 1000, nested ones
// included.
inline constexpr int64_t kMaxPatternMemoryBytes = int64_t{256} << 10;

class Pattern {
 public:
  // `pattern` compiled; InvalidArgument with RE2's reason when it does not
  // compile or does not fit kMaxPatternMemoryBytes.
  static absl::StatusOr<Pattern> Compile(std::string_view pattern);

  // True when all of `name` matches (anchors are implied).
  bool FullMatch(std::string_view name) const;

  const std::string& source() const;

 private:
  explicit Pattern(std::shared_ptr<const re2::RE2> compiled) : compiled_(std::move(compiled)) {}

  std::shared_ptr<const re2::RE2> compiled_;  // never null
};

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_PATTERN_H_
