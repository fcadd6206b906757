#include "gateway/socketio/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "proto/base/pattern.h"
#include "proto/base/status_macros.h"
#include "proto/base/yaml_config.h"
#include "proto/wire/topic.h"

namespace roomq::gateway::socketio {
namespace {

class Parser {
 public:
  Parser(std::string_view source, const std::vector<std::string>& flag_keys)
      : reader_(source), flag_keys_(flag_keys) {}

  const base::YamlReader& reader() const { return reader_; }

  absl::Status CheckRegex(const YAML::Node& node, const std::string& pattern) const {
    if (absl::StatusOr<base::Pattern> compiled = base::Pattern::Compile(pattern); !compiled.ok()) {
      return reader_.Error(
          node.Mark(), absl::StrCat("bad regex '", pattern, "': ", compiled.status().message()));
    }
    return absl::OkStatus();
  }

  // `recovery: {max_disconnection: 2m}`: the window, default 2 minutes.
  absl::StatusOr<std::chrono::milliseconds> Recovery(const YAML::Node& node) const {
    if (!node.IsMap())
      return reader_.Error(node.Mark(), "'recovery' must be a map (e.g. {max_disconnection: 2m})");
    std::chrono::milliseconds window = std::chrono::minutes(2);
    for (const auto& item : node) {
      if (!item.first.IsScalar() || item.first.Scalar() != "max_disconnection") {
        return reader_.Error(item.first.Mark(),
                             "unknown key in 'recovery' (expected max_disconnection)");
      }
      auto parsed = reader_.Duration(item.second, "max_disconnection",
                                     {std::chrono::milliseconds(1), std::chrono::hours(24)});
      if (!parsed.ok()) return parsed.status();
      window = *parsed;
    }
    return window;
  }

  // `auth: none`, or `auth: {type: jwt, secret_env|secret_file, audience,
  // issuer, leeway}` (schema in config.h). The secret itself is read by
  // LoadSecrets.
  absl::StatusOr<auth::AuthPolicy> Auth(const YAML::Node& node) const {
    auth::AuthPolicy policy;
    if (node.IsScalar()) {
      if (node.Scalar() == "none") return policy;
      return reader_.Error(node.Mark(),
                           "'auth' must be none or a map with 'type: jwt' and a secret");
    }
    if (!node.IsMap()) return reader_.Error(node.Mark(), "'auth' must be none or a map");
    bool has_type = false;
    for (const auto& item : node) {
      ROOMQ_ASSIGN_OR_RETURN(const std::string key, reader_.Key(item.first));
      auto value = reader_.Scalar(item.second, key);
      if (!value.ok()) return value.status();
      if (key == "type") {
        if (*value == "jwt") {
          policy.kind = auth::AuthKind::kJwt;
        } else if (*value != "none") {
          return reader_.Error(item.second.Mark(),
                               absl::StrCat("bad auth type '", *value, "' (expected none or jwt)"));
        }
        has_type = true;
      } else if (key == "secret_env") {
        if (value->empty())
          return reader_.Error(item.second.Mark(), "'secret_env' must not be empty");
        policy.secret_env = *std::move(value);
      } else if (key == "secret_file") {
        if (value->empty())
          return reader_.Error(item.second.Mark(), "'secret_file' must not be empty");
        policy.secret_file = *std::move(value);
      } else if (key == "audience") {
        policy.audience = *std::move(value);
      } else if (key == "issuer") {
        policy.issuer = *std::move(value);
      } else if (key == "leeway") {
        // Whole seconds, 0 to 300 (auth::AuthPolicy::leeway is in seconds).
        auto leeway = reader_.Duration(item.second, "leeway",
                                       {std::chrono::seconds(0), std::chrono::seconds(300)});
        if (!leeway.ok()) return leeway.status();
        if (leeway->count() % 1000 != 0) {
          return reader_.Error(item.second.Mark(),
                               absl::StrCat("bad leeway '", *value, "' (whole seconds)"));
        }
        policy.leeway = std::chrono::duration_cast<std::chrono::seconds>(*leeway);
      } else {
        return reader_.Error(
            item.first.Mark(),
            absl::StrCat("unknown key in 'auth': '", key,
                         "' (expected type, secret_env, secret_file, audience, issuer, "
                         "leeway)"));
      }
    }
    if (!has_type) return reader_.Error(node.Mark(), "'auth' needs 'type' (none or jwt)");
    const bool jwt = policy.kind == auth::AuthKind::kJwt;
    if (jwt && policy.secret_env.empty() == policy.secret_file.empty()) {
      return reader_.Error(node.Mark(),
                           "auth type jwt needs exactly one of 'secret_env' and 'secret_file'");
    }
    if (!jwt && (!policy.secret_env.empty() || !policy.secret_file.empty() ||
                 !policy.audience.empty() || !policy.issuer.empty())) {
      return reader_.Error(node.Mark(), "auth type none takes no secret, audience or issuer");
    }
    return policy;
  }

  absl::StatusOr<NamespacePolicy> Namespace(const YAML::Node& node) const {
    if (!node.IsMap()) return reader_.Error(node.Mark(), "a namespace entry must be a map");
    NamespacePolicy policy;
    policy.line = node.Mark().is_null() ? 0 : node.Mark().line + 1;
    bool has_name = false;
    bool has_pattern = false;
    for (const auto& item : node) {
      ROOMQ_ASSIGN_OR_RETURN(const std::string key, reader_.Key(item.first));
      const YAML::Node& value = item.second;
      if (key == "name") {
        auto name = reader_.Scalar(value, key);
        if (!name.ok()) return name.status();
        if (name->empty() || (*name)[0] != '/') {
          return reader_.Error(value.Mark(),
                               absl::StrCat("namespace name '", *name, "' must start with '/'"));
        }
        if (name->size() > wire::kMaxNamespaceBytes) {
          return reader_.Error(value.Mark(), "namespace name is too long");
        }
        policy.name = *std::move(name);
        has_name = true;
      } else if (key == "pattern") {
        auto pattern = reader_.Scalar(value, key);
        if (!pattern.ok()) return pattern.status();
        if (pattern->empty()) return reader_.Error(value.Mark(), "'pattern' must not be empty");
        // Its text names the family's service topic (proto/README.md).
        if (pattern->size() > wire::kMaxNamespaceBytes) {
          return reader_.Error(value.Mark(), absl::StrCat("'pattern' is longer than ",
                                                          wire::kMaxNamespaceBytes, " bytes"));
        }
        if (auto status = CheckRegex(value, *pattern); !status.ok()) return status;
        policy.pattern = *std::move(pattern);
        has_pattern = true;
      } else if (key == "join") {
        auto join = reader_.Scalar(value, key);
        if (!join.ok()) return join.status();
        if (auto status = CheckRegex(value, *join); !status.ok()) return status;
        policy.join = *std::move(join);
      } else if (key == "publish") {
        auto publish = reader_.Scalar(value, key);
        if (!publish.ok()) return publish.status();
        if (auto status = CheckRegex(value, *publish); !status.ok()) return status;
        policy.publish = *std::move(publish);
      } else if (key == "relay") {
        auto relay = reader_.Scalar(value, key);
        if (!relay.ok()) return relay.status();
        if (*relay == "broadcast") {
          policy.relay = RelayPolicy::kBroadcast;
        } else if (*relay == "rooms") {
          policy.relay = RelayPolicy::kRooms;
        } else if (*relay == "none") {
          policy.relay = RelayPolicy::kNone;
        } else {
          return reader_.Error(value.Mark(), absl::StrCat("bad relay value '", *relay,
                                                          "' (expected broadcast, rooms or none)"));
        }
      } else if (key == "echo") {
        auto echo = reader_.Bool(value, key);
        if (!echo.ok()) return echo.status();
        policy.echo = *echo;
      } else if (key == "forward") {
        auto forward = reader_.Bool(value, key);
        if (!forward.ok()) return forward.status();
        policy.forward = *forward;
      } else if (key == "middleware") {
        auto middleware = reader_.Scalar(value, key);
        if (!middleware.ok()) return middleware.status();
        if (*middleware != "required" && *middleware != "none") {
          return reader_.Error(value.Mark(), absl::StrCat("bad middleware value '", *middleware,
                                                          "' (expected required or none)"));
        }
        policy.middleware_required = *middleware == "required";
      } else if (key == "auth") {
        auto auth = Auth(value);
        if (!auth.ok()) return auth.status();
        policy.auth = *std::move(auth);
      } else if (key == "recovery") {
        auto recovery = Recovery(value);
        if (!recovery.ok()) return recovery.status();
        policy.recovery = *recovery;
      } else {
        return reader_.Error(
            item.first.Mark(),
            absl::StrCat("unknown key '", key,
                         "' (expected name, pattern, join, publish, relay, echo, forward, "
                         "middleware, recovery, auth)"));
      }
    }
    if (has_name == has_pattern) {
      return reader_.Error(node.Mark(),
                           "a namespace entry needs exactly one of 'name' and 'pattern'");
    }
    return policy;
  }

  absl::StatusOr<Config> Document(const YAML::Node& root) const {
    Config config;
    if (!root.IsDefined() || root.IsNull())
      return reader_.Error(YAML::Mark::null_mark(), "empty config");
    if (!root.IsMap())
      return reader_.Error(root.Mark(), "the config must be a map with 'namespaces'");
    std::set<std::string> names;
    std::set<std::string> patterns;
    bool has_namespaces = false;
    bool has_flags = false;
    for (const auto& item : root) {
      ROOMQ_ASSIGN_OR_RETURN(const std::string key, reader_.Key(item.first));
      if (std::find(flag_keys_.begin(), flag_keys_.end(), key) != flag_keys_.end()) {
        has_flags = true;  // the flag layer's (proto/base/flag_file.h)
        continue;
      }
      if (key != "namespaces") {
        return reader_.Error(item.first.Mark(),
                             absl::StrCat("unknown key '", key, "' (expected namespaces)"));
      }
      has_namespaces = true;
      if (!item.second.IsSequence())
        return reader_.Error(item.second.Mark(), "'namespaces' must be a list");
      for (const auto& entry : item.second) {
        auto policy = Namespace(entry);
        if (!policy.ok()) return policy.status();
        if (!policy->name.empty() && !names.insert(policy->name).second) {
          return reader_.Error(entry.Mark(),
                               absl::StrCat("duplicate namespace name '", policy->name, "'"));
        }
        if (!policy->pattern.empty() && !patterns.insert(policy->pattern).second) {
          return reader_.Error(entry.Mark(),
                               absl::StrCat("duplicate namespace pattern '", policy->pattern, "'"));
        }
        config.namespaces.push_back(*std::move(policy));
      }
    }
    if (!has_namespaces) {
      // A file of flags alone runs the namespaces of no file at all.
      if (has_flags) return DefaultConfig();
      return reader_.Error(root.Mark(), "missing 'namespaces'");
    }
    return config;
  }

 private:
  base::YamlReader reader_;
  const std::vector<std::string>& flag_keys_;
};

}  // namespace

std::string_view RelayPolicyName(RelayPolicy policy) {
  switch (policy) {
    case RelayPolicy::kNone:
      return "none";
    case RelayPolicy::kBroadcast:
      return "broadcast";
    case RelayPolicy::kRooms:
      return "rooms";
  }
  return "unknown";
}

absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view source,
                                   const std::vector<std::string>& flag_keys) {
  const Parser parser(source, flag_keys);
  return parser.reader().Parse<Config>(
      yaml, [&](const YAML::Node& root) { return parser.Document(root); });
}

absl::Status LoadSecrets(Config& config) {
  constexpr size_t kMaxSecretBytes = size_t{64} * 1024;
  for (NamespacePolicy& ns : config.namespaces) {
    auth::AuthPolicy& policy = ns.auth;
    if (policy.kind != auth::AuthKind::kJwt) continue;
    const std::string& which = ns.name.empty() ? ns.pattern : ns.name;
    std::string secret;
    if (!policy.secret_env.empty()) {
      const char* value = std::getenv(policy.secret_env.c_str());
      if (value == nullptr || *value == '\0') {
        return absl::InvalidArgumentError(absl::StrCat("namespace '", which, "': secret_env ",
                                                       policy.secret_env, " is unset or empty"));
      }
      secret = value;
    } else {
      std::ifstream in(policy.secret_file, std::ios::binary);
      if (!in) {
        return absl::InvalidArgumentError(absl::StrCat(
            "namespace '", which, "': cannot read secret_file '", policy.secret_file, "'"));
      }
      secret.resize(kMaxSecretBytes + 1);
      in.read(secret.data(), static_cast<std::streamsize>(secret.size()));
      secret.resize(static_cast<size_t>(in.gcount()));
      if (secret.size() > kMaxSecretBytes) {
        return absl::InvalidArgumentError(absl::StrCat("namespace '", which, "': secret_file '",
                                                       policy.secret_file, "' is over 64 KiB"));
      }
      if (!secret.empty() && secret.back() == '\n') secret.pop_back();
      if (!secret.empty() && secret.back() == '\r') secret.pop_back();
      if (secret.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("namespace '", which, "': secret_file '",
                                                       policy.secret_file, "' is empty"));
      }
    }
    if (secret.size() < kMinJwtSecretBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("namespace '", which, "': the JWT secret (",
                       policy.secret_env.empty() ? "secret_file '" + policy.secret_file + "'"
                                                 : "secret_env " + policy.secret_env,
                       ") is ", secret.size(), " bytes; at least ", kMinJwtSecretBytes,
                       " are needed (a shorter HS256 key can be guessed offline from one token)"));
    }
    policy.secret = std::move(secret);
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path,
                                      const std::vector<std::string>& flag_keys) {
  absl::StatusOr<std::string> text = base::ReadConfigFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<Config> config = ParseConfig(*text, path, flag_keys);
  if (!config.ok()) return config;
  if (absl::Status status = LoadSecrets(*config); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", status.message()));
  }
  return config;
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
