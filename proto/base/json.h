#ifndef ROOMQ_PROTO_BASE_JSON_H_
#define ROOMQ_PROTO_BASE_JSON_H_

// Small JSON helpers: validation with simdjson (text is only checked; args
// are never re-serialized) and the one string escaping every part of roomq
// uses for the JSON it builds by concatenation (event names, room names,
// ids), so the client library, the CLI and the gateway escape identically.
// Thread-safe (the validator's parser is thread_local).

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace roomq::base {

// OK when `text` is exactly one valid JSON value (surrounding whitespace
// allowed). InvalidArgument with simdjson's reason otherwise.
absl::Status ValidateJsonValue(std::string_view text);
// As ValidateJsonValue, and the value must be an array.
absl::Status ValidateJsonArray(std::string_view text);

bool IsValidUtf8(std::string_view text);

// Appends `text` as a JSON string literal: quotes, backslash escapes for
// '"' '\\' and the named controls, \u00XX for other bytes below 0x20. Other
// bytes pass through unchanged (valid UTF-8 in, valid JSON out).
void AppendJsonString(std::string& out, std::string_view text);

inline std::string JsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  AppendJsonString(out, text);
  return out;
}

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_JSON_H_
