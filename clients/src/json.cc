#include "clients/src/json.h"

#include "absl/strings/str_cat.h"
#include "proto/wire/json_string.h"
#include "simdjson.h"

namespace roomq::client {
namespace {

absl::Status Parse(std::string_view text, bool want_array) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element element;
  const simdjson::error_code error = parser.parse(text.data(), text.size(), true).get(element);
  if (error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON: ", simdjson::error_message(error)));
  }
  if (want_array && !element.is_array()) {
    return absl::InvalidArgumentError("invalid JSON: expected an array");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateJsonValue(std::string_view text) { return Parse(text, false); }
absl::Status ValidateJsonArray(std::string_view text) { return Parse(text, true); }

bool IsValidUtf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

void AppendJsonString(std::string& out, std::string_view utf8) {
  wire::AppendJsonString(out, utf8);
}

std::string JsonString(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size() + 2);
  AppendJsonString(out, utf8);
  return out;
}

}  // namespace roomq::client
