#ifndef ROOMQ_CLIENTS_SRC_JSON_H_
#define ROOMQ_CLIENTS_SRC_JSON_H_

// Small JSON helpers for the client side (private): validation with
// simdjson (we only check text; args are never re-serialized) and string
// escaping for the JSON we build by concatenation. Thread-safe (the
// validator's parser is thread_local).

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace roomq::client {

// OK when `text` is exactly one valid JSON value (surrounding whitespace
// allowed). InvalidArgument with simdjson's reason otherwise.
absl::Status ValidateJsonValue(std::string_view text);
// As ValidateJsonValue, and the value must be an array.
absl::Status ValidateJsonArray(std::string_view text);

bool IsValidUtf8(std::string_view text);

// Appends `utf8` as a quoted JSON string ("\"", "\\", control characters
// escaped). The input must be valid UTF-8 (checked by the caller).
void AppendJsonString(std::string& out, std::string_view utf8);
std::string JsonString(std::string_view utf8);

}  // namespace roomq::client

#endif  // ROOMQ_CLIENTS_SRC_JSON_H_
