#include "proto/base/yaml_config.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"

namespace roomq::base {

using std::chrono::milliseconds;

absl::StatusOr<milliseconds> ParseDuration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return absl::InvalidArgumentError("expected <integer>ms|s|m|h, e.g. 30s or 2m");
  if (digits > 9) return absl::InvalidArgumentError("at most 9 digits");
  int64_t value = 0;
  for (size_t i = 0; i < digits; ++i) value = value * 10 + (text[i] - '0');
  const std::string_view unit = text.substr(digits);
  if (unit.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("a duration needs a unit: ", ToAbsl(text),
                                                   "ms, ", ToAbsl(text), "s, ", ToAbsl(text),
                                                   "m or ", ToAbsl(text), "h"));
  }
  if (unit == "ms") return milliseconds(value);
  if (unit == "s") return std::chrono::seconds(value);
  if (unit == "m") return std::chrono::minutes(value);
  if (unit == "h") return std::chrono::hours(value);
  return absl::InvalidArgumentError("expected <integer>ms|s|m|h, e.g. 30s or 2m");
}

std::string FormatDuration(milliseconds duration) {
  const int64_t ms = duration.count();
  if (ms == 0) return "0s";
  if (ms % 3'600'000 == 0) return absl::StrCat(ms / 3'600'000, "h");
  if (ms % 60'000 == 0) return absl::StrCat(ms / 60'000, "m");
  if (ms % 1'000 == 0) return absl::StrCat(ms / 1'000, "s");
  return absl::StrCat(ms, "ms");
}

YamlReader::YamlReader(std::string_view source) : source_(source) {}

absl::Status YamlReader::Error(const YAML::Mark& mark, std::string_view what) const {
  if (mark.is_null()) return absl::InvalidArgumentError(absl::StrCat(source_, ": ", ToAbsl(what)));
  return absl::InvalidArgumentError(
      absl::StrCat(source_, ":", mark.line + 1, ":", mark.column + 1, ": ", ToAbsl(what)));
}

absl::StatusOr<std::string> YamlReader::Key(const YAML::Node& key) const {
  if (!key.IsScalar()) return Error(key.Mark(), "keys must be scalars");
  return key.Scalar();
}

absl::StatusOr<std::string> YamlReader::Scalar(const YAML::Node& node, std::string_view key) const {
  if (!node.IsScalar())
    return Error(node.Mark(), absl::StrCat("'", ToAbsl(key), "' must be a scalar"));
  return node.Scalar();
}

absl::StatusOr<bool> YamlReader::Bool(const YAML::Node& node, std::string_view key) const {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    return Error(node.Mark(), absl::StrCat("'", ToAbsl(key), "' must be true or false"));
  }
  return value;
}

absl::StatusOr<uint64_t> YamlReader::Unsigned(const YAML::Node& node, std::string_view key,
                                              uint64_t max) const {
  uint64_t value = 0;
  if (!node.IsScalar() || node.Scalar().empty() || node.Scalar()[0] == '-' ||
      !YAML::convert<uint64_t>::decode(node, value) || value > max) {
    return Error(node.Mark(),
                 absl::StrCat("'", ToAbsl(key), "' must be an integer from 0 to ", max));
  }
  return value;
}

absl::StatusOr<milliseconds> YamlReader::Duration(const YAML::Node& node, std::string_view key,
                                                  DurationRange range) const {
  if (!node.IsScalar()) {
    return Error(node.Mark(), absl::StrCat("'", ToAbsl(key), "' must be a duration such as 30s"));
  }
  const std::string& text = node.Scalar();
  absl::StatusOr<milliseconds> value = ParseDuration(text);
  if (value.ok() && (*value < range.min || *value > range.max)) {
    value = absl::InvalidArgumentError(
        absl::StrCat("from ", FormatDuration(range.min), " to ", FormatDuration(range.max)));
  }
  if (!value.ok()) {
    return Error(node.Mark(), absl::StrCat("bad ", ToAbsl(key), " '", text, "' (",
                                           value.status().message(), ")"));
  }
  return *value;
}

absl::StatusOr<std::optional<milliseconds>> YamlReader::RenamedDuration(const YAML::Node& map,
                                                                        std::string_view path,
                                                                        std::string_view key,
                                                                        std::string_view old_ms_key,
                                                                        DurationRange range) const {
  const std::string name = absl::StrCat(ToAbsl(path), ToAbsl(key));
  const std::string old_name = absl::StrCat(ToAbsl(path), ToAbsl(old_ms_key));
  std::optional<YAML::Node> value;
  std::optional<YAML::Node> old_key;
  std::optional<YAML::Node> old_value;
  for (const auto& item : map) {
    if (!item.first.IsScalar()) continue;  // the caller's loop refuses it
    if (item.first.Scalar() == key) value = item.second;
    if (item.first.Scalar() == old_ms_key) {
      old_key = item.first;
      old_value = item.second;
    }
  }
  if (value.has_value() && old_value.has_value()) {
    return Error(old_key->Mark(), absl::StrCat("both '", name, "' and its old spelling '", old_name,
                                               "' are given; keep '", name, "'"));
  }
  if (value.has_value()) return Duration(*value, name, range);
  if (!old_value.has_value()) return std::nullopt;
  // Bare milliseconds, the old key's syntax and bounds.
  const uint64_t max_ms = static_cast<uint64_t>(range.max.count());
  absl::StatusOr<uint64_t> ms = Unsigned(*old_value, old_name, max_ms);
  if (!ms.ok()) return ms.status();
  if (milliseconds(*ms) < range.min) {
    return Error(old_value->Mark(),
                 absl::StrCat("'", old_name, "' must be >= ", range.min.count()));
  }
  const YAML::Mark mark = old_key->Mark();
  spdlog::warn("{}:{}:{}: '{}' is deprecated: write '{}: {}' instead", source_, mark.line + 1,
               mark.column + 1, old_name, name, FormatDuration(milliseconds(*ms)));
  return milliseconds(*ms);
}

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file '", path, "'"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace roomq::base
