#include "gateway/socketio/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "proto/wire/absl_compat.h"
#include "proto/wire/topic.h"

namespace roomq::gateway::socketio {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source) {}

  absl::Status Error(const YAML::Mark& mark, std::string_view what) const {
    if (mark.is_null()) return absl::InvalidArgumentError(absl::StrCat(source_, ": ", ToAbsl(what)));
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ":", mark.line + 1, ":", mark.column + 1, ": ", ToAbsl(what)));
  }

  absl::StatusOr<std::string> Scalar(const YAML::Node& node, std::string_view key) const {
    if (!node.IsScalar()) return Error(node.Mark(), absl::StrCat("'", ToAbsl(key), "' must be a scalar"));
    return node.Scalar();
  }

  absl::StatusOr<bool> Bool(const YAML::Node& node, std::string_view key) const {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      return Error(node.Mark(), absl::StrCat("'", ToAbsl(key), "' must be true or false"));
    }
    return value;
  }

  absl::Status CheckRegex(const YAML::Node& node, const std::string& pattern) const {
    try {
      std::regex compiled(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Error(node.Mark(), absl::StrCat("bad regex '", pattern, "': ", e.what()));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<NamespacePolicy> Namespace(const YAML::Node& node) const {
    if (!node.IsMap()) return Error(node.Mark(), "a namespace entry must be a map");
    NamespacePolicy policy;
    policy.line = node.Mark().is_null() ? 0 : node.Mark().line + 1;
    bool has_name = false;
    bool has_pattern = false;
    for (const auto& item : node) {
      if (!item.first.IsScalar()) return Error(item.first.Mark(), "keys must be scalars");
      const std::string key = item.first.Scalar();
      const YAML::Node& value = item.second;
      if (key == "name") {
        auto name = Scalar(value, key);
        if (!name.ok()) return name.status();
        if (name->empty() || (*name)[0] != '/') {
          return Error(value.Mark(), absl::StrCat("namespace name '", *name, "' must start with '/'"));
        }
        if (name->size() > wire::kMaxNamespaceBytes) {
          return Error(value.Mark(), "namespace name is too long");
        }
        policy.name = *std::move(name);
        has_name = true;
      } else if (key == "pattern") {
        auto pattern = Scalar(value, key);
        if (!pattern.ok()) return pattern.status();
        if (pattern->empty()) return Error(value.Mark(), "'pattern' must not be empty");
        if (auto status = CheckRegex(value, *pattern); !status.ok()) return status;
        policy.pattern = *std::move(pattern);
        has_pattern = true;
      } else if (key == "join") {
        auto join = Scalar(value, key);
        if (!join.ok()) return join.status();
        if (auto status = CheckRegex(value, *join); !status.ok()) return status;
        policy.join = *std::move(join);
      } else if (key == "relay") {
        auto relay = Scalar(value, key);
        if (!relay.ok()) return relay.status();
        if (*relay == "broadcast") {
          policy.relay = RelayPolicy::kBroadcast;
        } else if (*relay == "rooms") {
          policy.relay = RelayPolicy::kRooms;
        } else if (*relay == "none") {
          policy.relay = RelayPolicy::kNone;
        } else {
          return Error(value.Mark(), absl::StrCat("bad relay value '", *relay,
                                                  "' (expected broadcast, rooms or none)"));
        }
      } else if (key == "echo") {
        auto echo = Bool(value, key);
        if (!echo.ok()) return echo.status();
        policy.echo = *echo;
      } else if (key == "forward") {
        auto forward = Bool(value, key);
        if (!forward.ok()) return forward.status();
        policy.forward = *forward;
      } else {
        return Error(item.first.Mark(),
                     absl::StrCat("unknown key '", key,
                                  "' (expected name, pattern, join, relay, echo, forward)"));
      }
    }
    if (has_name == has_pattern) {
      return Error(node.Mark(), "a namespace entry needs exactly one of 'name' and 'pattern'");
    }
    return policy;
  }

  absl::StatusOr<Config> Document(const YAML::Node& root) const {
    Config config;
    if (!root.IsDefined() || root.IsNull()) return Error(YAML::Mark::null_mark(), "empty config");
    if (!root.IsMap()) return Error(root.Mark(), "the config must be a map with 'namespaces'");
    std::set<std::string> names;
    std::set<std::string> patterns;
    bool has_namespaces = false;
    for (const auto& item : root) {
      if (!item.first.IsScalar()) return Error(item.first.Mark(), "keys must be scalars");
      const std::string key = item.first.Scalar();
      if (key != "namespaces") {
        return Error(item.first.Mark(), absl::StrCat("unknown key '", key, "' (expected namespaces)"));
      }
      has_namespaces = true;
      if (!item.second.IsSequence()) return Error(item.second.Mark(), "'namespaces' must be a list");
      for (const auto& entry : item.second) {
        auto policy = Namespace(entry);
        if (!policy.ok()) return policy.status();
        if (!policy->name.empty() && !names.insert(policy->name).second) {
          return Error(entry.Mark(), absl::StrCat("duplicate namespace name '", policy->name, "'"));
        }
        if (!policy->pattern.empty() && !patterns.insert(policy->pattern).second) {
          return Error(entry.Mark(), absl::StrCat("duplicate namespace pattern '", policy->pattern, "'"));
        }
        config.namespaces.push_back(*std::move(policy));
      }
    }
    if (!has_namespaces) return Error(root.Mark(), "missing 'namespaces'");
    return config;
  }

 private:
  std::string source_;
};

}  // namespace

std::string_view RelayPolicyName(RelayPolicy policy) {
  switch (policy) {
    case RelayPolicy::kNone: return "none";
    case RelayPolicy::kBroadcast: return "broadcast";
    case RelayPolicy::kRooms: return "rooms";
  }
  return "unknown";
}

absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view source) {
  Parser parser(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return parser.Error(e.mark, e.msg);
  }
  try {
    return parser.Document(root);
  } catch (const YAML::Exception& e) {
    return parser.Error(e.mark, e.msg);
  }
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file '", path, "'"));
  std::ostringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path);
}

Config DefaultConfig() {
  Config config;
  NamespacePolicy root;
  root.name = "/";
  root.join = ".*";
  root.relay = RelayPolicy::kBroadcast;
  config.namespaces.push_back(root);
  return config;
}

}  // namespace roomq::gateway::socketio
