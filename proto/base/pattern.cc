#include "proto/base/pattern.h"

#include <re2/re2.h>

#include <utility>

#include "absl/status/status.h"

namespace roomq::base {

absl::StatusOr<Pattern> Pattern::Compile(std::string_view pattern) {
  RE2::Options options;
  options.set_log_errors(false);  // the caller reports the reason, with the file and line
  options.set_max_mem(kMaxPatternMemoryBytes);
  auto compiled =
      std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!compiled->ok()) return absl::InvalidArgumentError(compiled->error());
  return Pattern(std::move(compiled));
}

bool Pattern::FullMatch(std::string_view name) const {
  return RE2::FullMatch(re2::StringPiece(name.data(), name.size()), *compiled_);
}

const std::string& Pattern::source() const { return compiled_->pattern(); }

}  // namespace roomq::base
