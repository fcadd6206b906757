#include "broker/config.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "proto/base/status_macros.h"
#include "proto/base/yaml_config.h"
#include "proto/wire/topic.h"

namespace roomq::broker {
namespace {

using std::chrono::milliseconds;

// The bounds the keys have always had in milliseconds.
constexpr base::DurationRange kMaxAgeRange{milliseconds(1), milliseconds(int64_t{1} << 40)};
constexpr base::DurationRange kMaxTtlRange{milliseconds(1), milliseconds(int64_t{1} << 32)};

class Parser {
 public:
  Parser(std::string_view source, const std::vector<std::string>& flag_keys)
      : reader_(source), flag_keys_(flag_keys) {}

  const base::YamlReader& reader() const { return reader_; }

  // Reads the limit keys of `node` (at `path`, e.g. "history.") into
  // `limits`; other keys are left to `other` (which returns false for an
  // unknown key).
  template <typename Other>
  absl::Status Limits(const YAML::Node& node, const std::string& path, history::Limits& limits,
                      Other other) const {
    if (!node.IsMap()) return reader_.Error(node.Mark(), "expected a map");
    ROOMQ_ASSIGN_OR_RETURN(
        std::optional<milliseconds> max_age,
        reader_.RenamedDuration(node, path, "max_age", "max_age_ms", kMaxAgeRange));
    if (max_age.has_value()) limits.max_age = *max_age;
    for (const auto& item : node) {
      ROOMQ_ASSIGN_OR_RETURN(const std::string key, reader_.Key(item.first));
      if (key == "max_messages") {
        ROOMQ_ASSIGN_OR_RETURN(
            uint64_t value,
            reader_.Unsigned(item.second, path + key, std::numeric_limits<uint32_t>::max()));
        limits.max_messages = static_cast<uint32_t>(value);
      } else if (key != "max_age" && key != "max_age_ms") {
        ROOMQ_ASSIGN_OR_RETURN(bool known, other(key, item.second));
        if (!known) return UnknownKey(item.first, key, path);
      }
    }
    return absl::OkStatus();
  }

  absl::Status History(const YAML::Node& node, history::HistoryOptions& options) const {
    std::optional<YAML::Node> namespaces;
    ROOMQ_RETURN_IF_ERROR(Limits(
        node, "history.", options.defaults,
        [&](const std::string& key, const YAML::Node& value) -> absl::StatusOr<bool> {
          if (key == "max_bytes") {
            ROOMQ_ASSIGN_OR_RETURN(uint64_t bytes,
                                   reader_.Unsigned(value, "history.max_bytes", uint64_t{1} << 50));
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
    if (!namespaces->IsMap())
      return reader_.Error(namespaces->Mark(), "'history.namespaces' must be a map");
    // Overrides inherit the defaults, whichever order the keys came in.
    for (const auto& item : *namespaces) {
      ROOMQ_ASSIGN_OR_RETURN(const std::string name, reader_.Key(item.first));
      if (!wire::ValidateTopic(wire::NamespaceTopic(name)).ok()) {
        return reader_.Error(item.first.Mark(),
                             absl::StrCat("bad namespace '", name, "' (must start with /)"));
      }
      history::Limits limits = options.defaults;
      ROOMQ_RETURN_IF_ERROR(Limits(
          item.second, absl::StrCat("history.namespaces.", name, "."), limits,
          [](const std::string&, const YAML::Node&) -> absl::StatusOr<bool> { return false; }));
      if (!options.namespaces.emplace(name, limits).second) {
        return reader_.Error(item.first.Mark(), absl::StrCat("namespace '", name, "' given twice"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Sessions(const YAML::Node& node, sockets::SocketIndexOptions& options) const {
    if (!node.IsMap()) return reader_.Error(node.Mark(), "'sessions' must be a map");
    ROOMQ_ASSIGN_OR_RETURN(
        std::optional<milliseconds> max_ttl,
        reader_.RenamedDuration(node, "sessions.", "max_ttl", "max_ttl_ms", kMaxTtlRange));
    if (max_ttl.has_value()) options.max_ttl = *max_ttl;
    for (const auto& item : node) {
      ROOMQ_ASSIGN_OR_RETURN(const std::string key, reader_.Key(item.first));
      if (key == "max_records") {
        ROOMQ_ASSIGN_OR_RETURN(uint64_t value, reader_.Unsigned(item.second, "sessions.max_records",
                                                                uint64_t{1} << 32));
        options.max_records = value;
      } else if (key == "max_sessions") {
        return reader_.Error(item.first.Mark(),
                             "'max_sessions' is now 'max_records' (socket records)");
      } else if (key == "max_bytes") {
        ROOMQ_ASSIGN_OR_RETURN(
            uint64_t value, reader_.Unsigned(item.second, "sessions.max_bytes", uint64_t{1} << 50));
        options.max_bytes = value;
      } else if (key != "max_ttl" && key != "max_ttl_ms") {
        return UnknownKey(item.first, key, "sessions.");
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<BrokerConfig> Config(const YAML::Node& root) const {
    BrokerConfig config;
    if (!root || root.IsNull()) return config;
    if (!root.IsMap()) return reader_.Error(root.Mark(), "the config must be a map");
    for (const auto& item : root) {
      ROOMQ_ASSIGN_OR_RETURN(const std::string key, reader_.Key(item.first));
      if (key == "history") {
        ROOMQ_RETURN_IF_ERROR(History(item.second, config.history));
      } else if (key == "sessions") {
        ROOMQ_RETURN_IF_ERROR(Sessions(item.second, config.sessions));
      } else if (std::find(flag_keys_.begin(), flag_keys_.end(), key) == flag_keys_.end()) {
        return UnknownKey(item.first, key, "");
      }
    }
    return config;
  }

 private:
  // "unknown key 'max_mesages' in 'history'" names the map it was found in.
  absl::Status UnknownKey(const YAML::Node& node, const std::string& key,
                          const std::string& path) const {
    if (path.empty()) return reader_.Error(node.Mark(), absl::StrCat("unknown key '", key, "'"));
    return reader_.Error(node.Mark(), absl::StrCat("unknown key '", key, "' in '",
                                                   path.substr(0, path.size() - 1), "'"));
  }

  base::YamlReader reader_;
  const std::vector<std::string>& flag_keys_;  // the flag layer's (proto/base/flag_file.h)
};

}  // namespace

absl::StatusOr<BrokerConfig> ParseBrokerConfig(std::string_view yaml, std::string_view source,
                                               const std::vector<std::string>& flag_keys) {
  const Parser parser(source, flag_keys);
  return parser.reader().Parse<BrokerConfig>(
      yaml, [&](const YAML::Node& root) { return parser.Config(root); });
}

}  // namespace roomq::broker
