#ifndef ROOMQ_PROTO_BASE_ABSL_COMPAT_H_
#define ROOMQ_PROTO_BASE_ABSL_COMPAT_H_

// Debian's Abseil is built with its own absl::string_view (not an alias of
// std::string_view; the choice is baked into the library's ABI and cannot be
// flipped from here). roomq uses std::string_view everywhere and converts
// where it calls Abseil: StrCat, StrFormat, Status messages, hash lookups.

#include <string_view>

#include "absl/strings/string_view.h"

namespace roomq {

inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view FromAbsl(absl::string_view s) { return {s.data(), s.size()}; }

}  // namespace roomq

#endif  // ROOMQ_PROTO_BASE_ABSL_COMPAT_H_
