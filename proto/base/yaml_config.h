#ifndef ROOMQ_PROTO_BASE_YAML_CONFIG_H_
#define ROOMQ_PROTO_BASE_YAML_CONFIG_H_

// What every roomq YAML config file shares (the broker's and the gateway's
// --config): reading the text, typed scalars, and the one duration syntax.
// Every error is InvalidArgument "<source>:<line>:<column>: <what>", and
// <what> names the key it is about as the caller spells it (the broker
// passes a dotted path such as 'history.namespaces./chat.max_age').
//
// Durations are "<integer><unit>", unit ms, s, m or h: "500ms", "30s",
// "2m", "1h". One term, no sign, no fraction, at most 9 digits. A bare
// integer is refused with a message asking for a unit: an older broker
// key took bare milliseconds (`max_age_ms: 120000`), and a number alone
// must never be read in the wrong unit. Those older keys are still read,
// with a warning (RenamedDuration).
//
// Thread safety: a YamlReader is immutable; ParseDuration and
// FormatDuration are pure. Warnings go to spdlog's default logger.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace roomq::base {

// "<integer>ms|s|m|h" (above). InvalidArgument with a reason that does not
// repeat the text (callers say which key and value).
absl::StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text);

// The inverse: the largest unit that divides `duration` exactly ("2m",
// "90s", "1500ms"); "0s" for zero.
std::string FormatDuration(std::chrono::milliseconds duration);

// Inclusive bounds of a duration key.
struct DurationRange {
  std::chrono::milliseconds min;
  std::chrono::milliseconds max;
};

class YamlReader {
 public:
  // `source` names the text in errors (usually the file path).
  explicit YamlReader(std::string_view source);

  // Loads `yaml` and runs `read(root)` on it. A YAML syntax error, or a
  // yaml-cpp exception thrown while reading, becomes InvalidArgument at the
  // place yaml-cpp reports; nothing escapes.
  template <typename T, typename Read>
  absl::StatusOr<T> Parse(std::string_view yaml, Read read) const {
    try {
      const YAML::Node root = YAML::Load(std::string(yaml));
      return read(root);
    } catch (const YAML::Exception& e) {
      return Error(e.mark, e.msg);
    }
  }

  // InvalidArgument "<source>:<line>:<column>: <what>" ("<source>: <what>"
  // when `mark` is null).
  absl::Status Error(const YAML::Mark& mark, std::string_view what) const;

  // A map key as text; "keys must be scalars" otherwise.
  absl::StatusOr<std::string> Key(const YAML::Node& key) const;
  // "'<key>' must be a scalar" unless `node` is one.
  absl::StatusOr<std::string> Scalar(const YAML::Node& node, std::string_view key) const;
  // "'<key>' must be true or false" unless YAML reads `node` as a boolean.
  absl::StatusOr<bool> Bool(const YAML::Node& node, std::string_view key) const;
  // A decimal integer from 0 to `max`; "'<key>' must be an integer from 0
  // to <max>" otherwise.
  absl::StatusOr<uint64_t> Unsigned(const YAML::Node& node, std::string_view key,
                                    uint64_t max) const;
  // A duration within `range`; "bad <key> '<text>' (<reason>)" otherwise,
  // the reason being the syntax, the missing unit, or the range.
  absl::StatusOr<std::chrono::milliseconds> Duration(const YAML::Node& node, std::string_view key,
                                                     DurationRange range) const;

  // A duration key of `map` that replaced an older one holding bare
  // milliseconds (`max_age` for `max_age_ms`). `path` prefixes both names
  // in messages ("history." or "" at the top). nullopt when neither is
  // given; the new key's value; or the old key's integer as milliseconds,
  // within the same range, with a warning naming the new key and the value
  // to write. Both given is an error naming both. The caller's loop over
  // `map` must skip both names.
  absl::StatusOr<std::optional<std::chrono::milliseconds>> RenamedDuration(
      const YAML::Node& map, std::string_view path, std::string_view key,
      std::string_view old_ms_key, DurationRange range) const;

 private:
  std::string source_;
};

// The whole file at `path`; NotFound "cannot read config file '<path>'".
absl::StatusOr<std::string> ReadConfigFile(const std::string& path);

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_YAML_CONFIG_H_
