#include "proto/base/json.h"

#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace roomq::base {
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

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out.push_back(kHex[(static_cast<unsigned char>(c) >> 4) & 0xf]);
          out.push_back(kHex[static_cast<unsigned char>(c) & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace roomq::base
