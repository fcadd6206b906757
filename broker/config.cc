#include "broker/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"
#include "proto/base/status_macros.h"
#include "proto/wire/topic.h"

namespace roomq::broker {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source) {}

  absl::Status Error(const YAML::Mark& mark, std::string_view what) const {
    if (mark.is_null())
      return absl::InvalidArgumentError(absl::StrCat(source_, ": ", ToAbsl(what)));
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ":", mark.line + 1, ":", mark.column + 1, ": ", ToAbsl(what)));
  }

  absl::StatusOr<uint64_t> Unsigned(const YAML::Node& node, std::string_view key,
                                    uint64_t max) const {
    uint64_t value = 0;
    if (!node.IsScalar() || node.Scalar().empty() || node.Scalar()[0] == '-' ||
        !YAML::convert<uint64_t>::decode(node, value) || value > max) {
      return Error(node.Mark(),
                   absl::StrCat("'", ToAbsl(key), "' must be an integer from 0 to ", max));
    }
    return value;
  }

  // Reads the limit keys of `node` into `limits`; other keys are left to
  // `other` (which returns false for an unknown key).
  template <typename Other>
  absl::Status Limits(const YAML::Node& node, history::Limits& limits, Other other) const {
    if (!node.IsMap()) return Error(node.Mark(), "expected a map");
    for (const auto& item : node) {
      if (!item.first.IsScalar()) return Error(item.first.Mark(), "keys must be scalars");
      const std::string key = item.first.Scalar();
      if (key == "max_messages") {
        ROOMQ_ASSIGN_OR_RETURN(uint64_t value,
                               Unsigned(item.second, key, std::numeric_limits<uint32_t>::max()));
        limits.max_messages = static_cast<uint32_t>(value);
      } else if (key == "max_age_ms") {
        ROOMQ_ASSIGN_OR_RETURN(uint64_t value, Unsigned(item.second, key, uint64_t{1} << 40));
        if (value == 0) return Error(item.second.Mark(), "'max_age_ms' must be > 0");
        limits.max_age = std::chrono::milliseconds(value);
      } else {
        ROOMQ_ASSIGN_OR_RETURN(bool known, other(key, item.second));
        if (!known) return Error(item.first.Mark(), absl::StrCat("unknown key '", key, "'"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status History(const YAML::Node& node, history::HistoryOptions& options) const {
    std::optional<YAML::Node> namespaces;
    ROOMQ_RETURN_IF_ERROR(
        Limits(node, options.defaults,
               [&](const std::string& key, const YAML::Node& value) -> absl::StatusOr<bool> {
                 if (key == "max_bytes") {
                   ROOMQ_ASSIGN_OR_RETURN(uint64_t bytes, Unsigned(value, key, uint64_t{1} << 50));
                   options.max_bytes = bytes;
                   return true;
                 }
                 if (key == "namespaces") {
                   namespaces.emplace(value);
                   return true;
                 }
                 return false;
               }));
    if (!namespaces.has_value()) return absl::OkStatus();
    if (!namespaces->IsMap()) return Error(namespaces->Mark(), "'namespaces' must be a map");
    // Overrides inherit the defaults, whichever order the keys came in.
    for (const auto& item : *namespaces) {
      if (!item.first.IsScalar()) return Error(item.first.Mark(), "keys must be scalars");
      const std::string name = item.first.Scalar();
      if (!wire::ValidateTopic(wire::NamespaceTopic(name)).ok()) {
        return Error(item.first.Mark(),
                     absl::StrCat("bad namespace '", name, "' (must start with /)"));
      }
      history::Limits limits = options.defaults;
      ROOMQ_RETURN_IF_ERROR(Limits(
          item.second, limits,
          [](const std::string&, const YAML::Node&) -> absl::StatusOr<bool> { return false; }));
      if (!options.namespaces.emplace(name, limits).second) {
        return Error(item.first.Mark(), absl::StrCat("namespace '", name, "' given twice"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Sessions(const YAML::Node& node, sockets::SocketIndexOptions& options) const {
    if (!node.IsMap()) return Error(node.Mark(), "'sessions' must be a map");
    for (const auto& item : node) {
      if (!item.first.IsScalar()) return Error(item.first.Mark(), "keys must be scalars");
      const std::string key = item.first.Scalar();
      if (key == "max_records") {
        ROOMQ_ASSIGN_OR_RETURN(uint64_t value, Unsigned(item.second, key, uint64_t{1} << 32));
        options.max_records = value;
      } else if (key == "max_sessions") {
        return Error(item.first.Mark(), "'max_sessions' is now 'max_records' (socket records)");
      } else if (key == "max_bytes") {
        ROOMQ_ASSIGN_OR_RETURN(uint64_t value, Unsigned(item.second, key, uint64_t{1} << 50));
        options.max_bytes = value;
      } else if (key == "max_ttl_ms") {
        ROOMQ_ASSIGN_OR_RETURN(uint64_t value, Unsigned(item.second, key, uint64_t{1} << 32));
        if (value == 0) return Error(item.second.Mark(), "'max_ttl_ms' must be > 0");
        options.max_ttl = std::chrono::milliseconds(value);
      } else {
        return Error(item.first.Mark(), absl::StrCat("unknown key '", key, "'"));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<BrokerConfig> Config(const YAML::Node& root) const {
    BrokerConfig config;
    if (!root || root.IsNull()) return config;
    if (!root.IsMap()) return Error(root.Mark(), "the config must be a map");
    for (const auto& item : root) {
      if (!item.first.IsScalar()) return Error(item.first.Mark(), "keys must be scalars");
      const std::string key = item.first.Scalar();
      if (key == "history") {
        ROOMQ_RETURN_IF_ERROR(History(item.second, config.history));
      } else if (key == "sessions") {
        ROOMQ_RETURN_IF_ERROR(Sessions(item.second, config.sessions));
      } else {
        return Error(item.first.Mark(), absl::StrCat("unknown key '", key, "'"));
      }
    }
    return config;
  }

 private:
  const std::string source_;
};

}  // namespace

absl::StatusOr<BrokerConfig> ParseBrokerConfig(std::string_view yaml, std::string_view source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(source), ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  try {
    return Parser(source).Config(root);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(source), ": ", e.what()));
  }
}

absl::StatusOr<BrokerConfig> LoadBrokerConfig(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read config ", path));
  std::stringstream text;
  text << file.rdbuf();
  return ParseBrokerConfig(text.str(), path);
}

}  // namespace roomq::broker
