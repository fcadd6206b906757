#include "roomq/args.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "proto/base/json.h"
#include "roomq/message.h"

namespace roomq {

absl::StatusOr<Args> Args::FromJsonArray(std::string_view json_array,
                                         std::vector<std::string> attachments) {
  if (absl::Status status = base::ValidateJsonArray(json_array); !status.ok()) return status;
  // Strip the brackets (and surrounding whitespace) to keep the elements.
  const size_t open = json_array.find('[');
  const size_t close = json_array.rfind(']');
  std::string_view body = json_array.substr(open + 1, close - open - 1);
  while (!body.empty() && (body.front() == ' ' || body.front() == '\n' || body.front() == '\t' ||
                           body.front() == '\r')) {
    body.remove_prefix(1);
  }
  Args args;
  args.body_ = std::string(body);
  // Count top-level elements cheaply: an empty body is zero; otherwise count
  // commas at depth 0 outside strings.
  if (!body.empty()) {
    size_t count = 1;
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < body.size(); ++i) {
      const char c = body[i];
      if (in_string) {
        if (c == '\\')
          ++i;
        else if (c == '"')
          in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '[' || c == '{') {
        ++depth;
      } else if (c == ']' || c == '}') {
        --depth;
      } else if (c == ',' && depth == 0) {
        ++count;
      }
    }
    args.count_ = count;
  }
  args.attachments_ = std::move(attachments);
  return args;
}

Args Args::From(const Message& message) {
  absl::StatusOr<Args> args = FromJsonArray(message.args_json, message.attachments);
  if (args.ok()) return *std::move(args);
  Args invalid;
  invalid.status_ = args.status();
  return invalid;
}

void Args::Append(std::string_view json_value) {
  if (count_ > 0) body_.push_back(',');
  body_.append(json_value);
  ++count_;
}

Args& Args::Json(std::string_view json) {
  if (!status_.ok()) return *this;
  if (absl::Status status = base::ValidateJsonValue(json); !status.ok()) {
    status_ =
        absl::InvalidArgumentError(absl::StrCat("argument ", count_ + 1, ": ", status.message()));
    return *this;
  }
  Append(json);
  return *this;
}

Args& Args::String(std::string_view utf8) {
  if (!status_.ok()) return *this;
  if (!base::IsValidUtf8(utf8)) {
    status_ = absl::InvalidArgumentError(absl::StrCat("argument ", count_ + 1, ": invalid UTF-8"));
    return *this;
  }
  Append(base::JsonQuote(utf8));
  return *this;
}

Args& Args::Number(double value) {
  if (!status_.ok()) return *this;
  if (!std::isfinite(value)) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("argument ", count_ + 1, ": JSON has no NaN or infinity"));
    return *this;
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  Append(std::string_view(buffer, result.ptr - buffer));
  return *this;
}

Args& Args::Int(int64_t value) {
  if (!status_.ok()) return *this;
  Append(absl::StrCat(value));
  return *this;
}

Args& Args::Bool(bool value) {
  if (!status_.ok()) return *this;
  Append(value ? "true" : "false");
  return *this;
}

Args& Args::Null() {
  if (!status_.ok()) return *this;
  Append("null");
  return *this;
}

Args& Args::Binary(std::string_view bytes) {
  if (!status_.ok()) return *this;
  Append(absl::StrCat(R"({"_placeholder":true,"num":)", attachments_.size(), "}"));
  attachments_.emplace_back(bytes);
  return *this;
}

std::string Args::json() const { return absl::StrCat("[", body_, "]"); }

}  // namespace roomq
