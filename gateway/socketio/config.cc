#include "gateway/socketio/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"
#include "proto/wire/topic.h"

namespace roomq::gateway::socketio {
namespace {

// "<integer><unit>", unit ms, s, m or h; nullopt when malformed or huge.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  int64_t value = 0;
  for (size_t i = 0; i < digits; ++i) value = value * 10 + (text[i] - '0');
  const std::string_view unit = text.substr(digits);
  if (unit == "ms") return std::chrono::milliseconds(value);
  if (unit == "s") return std::chrono::seconds(value);
  if (unit == "m") return std::chrono::minutes(value);
  if (unit == "h") return std::chrono::hours(value);
  return std::nullopt;
}

class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source) {}

  absl::Status Error(const YAML::Mark& mark, std::string_view what) const {
    if (mark.is_null())
      return absl::InvalidArgumentError(absl::StrCat(source_, ": ", ToAbsl(what)));
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ":", mark.line + 1, ":", mark.column + 1, ": ", ToAbsl(what)));
  }

  absl::StatusOr<std::string> Scalar(const YAML::Node& node, std::string_view key) const {
    if (!node.IsScalar())
      return Error(node.Mark(), absl::StrCat("'", ToAbsl(key), "' must be a scalar"));
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

  // `recovery: {max_disconnection: 2m}`: the window, default 2 minutes.
  absl::StatusOr<std::chrono::milliseconds> Recovery(const YAML::Node& node) const {
    if (!node.IsMap())
      return Error(node.Mark(), "'recovery' must be a map (e.g. {max_disconnection: 2m})");
    std::chrono::milliseconds window = std::chrono::minutes(2);
    for (const auto& item : node) {
      if (!item.first.IsScalar() || item.first.Scalar() != "max_disconnection") {
        return Error(item.first.Mark(), "unknown key in 'recovery' (expected max_disconnection)");
      }
      auto text = Scalar(item.second, "max_disconnection");
      if (!text.ok()) return text.status();
      std::optional<std::chrono::milliseconds> parsed = ParseDuration(*text);
      if (!parsed.has_value() || *parsed < std::chrono::milliseconds(1) ||
          *parsed > std::chrono::hours(24)) {
        return Error(item.second.Mark(),
                     absl::StrCat("bad max_disconnection '", *text,
                                  "' (expected <integer>ms|s|m|h, 1 ms to 24 h)"));
      }
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
      return Error(node.Mark(), "'auth' must be none or a map with 'type: jwt' and a secret");
    }
    if (!node.IsMap()) return Error(node.Mark(), "'auth' must be none or a map");
    bool has_type = false;
    for (const auto& item : node) {
      if (!item.first.IsScalar()) return Error(item.first.Mark(), "keys must be scalars");
      const std::string key = item.first.Scalar();
      auto value = Scalar(item.second, key);
      if (!value.ok()) return value.status();
      if (key == "type") {
        if (*value == "jwt") {
          policy.kind = auth::AuthKind::kJwt;
        } else if (*value != "none") {
          return Error(item.second.Mark(),
                       absl::StrCat("bad auth type '", *value, "' (expected none or jwt)"));
        }
        has_type = true;
      } else if (key == "secret_env") {
        if (value->empty()) return Error(item.second.Mark(), "'secret_env' must not be empty");
        policy.secret_env = *std::move(value);
      } else if (key == "secret_file") {
        if (value->empty()) return Error(item.second.Mark(), "'secret_file' must not be empty");
        policy.secret_file = *std::move(value);
      } else if (key == "audience") {
        policy.audience = *std::move(value);
      } else if (key == "issuer") {
        policy.issuer = *std::move(value);
      } else if (key == "leeway") {
        // "<integer>s", 0 to 300.
        const std::string& text = *value;
        const bool digits =
            text.size() >= 2 && text.size() <= 4 && text.back() == 's' &&
            std::all_of(text.begin(), text.end() - 1, [](char c) { return c >= '0' && c <= '9'; });
        if (!digits || std::stoi(text.substr(0, text.size() - 1)) > 300) {
          return Error(item.second.Mark(),
                       absl::StrCat("bad leeway '", text, "' (expected <integer>s, at most 300s)"));
        }
        policy.leeway = std::chrono::seconds(std::stoi(text.substr(0, text.size() - 1)));
      } else {
        return Error(item.first.Mark(),
                     absl::StrCat("unknown key in 'auth': '", key,
                                  "' (expected type, secret_env, secret_file, audience, issuer, "
                                  "leeway)"));
      }
    }
    if (!has_type) return Error(node.Mark(), "'auth' needs 'type' (none or jwt)");
    const bool jwt = policy.kind == auth::AuthKind::kJwt;
    if (jwt && policy.secret_env.empty() == policy.secret_file.empty()) {
      return Error(node.Mark(),
                   "auth type jwt needs exactly one of 'secret_env' and 'secret_file'");
    }
    if (!jwt && (!policy.secret_env.empty() || !policy.secret_file.empty() ||
                 !policy.audience.empty() || !policy.issuer.empty())) {
      return Error(node.Mark(), "auth type none takes no secret, audience or issuer");
    }
    return policy;
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
          return Error(value.Mark(),
                       absl::StrCat("namespace name '", *name, "' must start with '/'"));
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
      } else if (key == "publish") {
        auto publish = Scalar(value, key);
        if (!publish.ok()) return publish.status();
        if (auto status = CheckRegex(value, *publish); !status.ok()) return status;
        policy.publish = *std::move(publish);
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
      } else if (key == "auth") {
        auto auth = Auth(value);
        if (!auth.ok()) return auth.status();
        policy.auth = *std::move(auth);
      } else if (key == "recovery") {
        auto recovery = Recovery(value);
        if (!recovery.ok()) return recovery.status();
        policy.recovery = *recovery;
      } else {
        return Error(item.first.Mark(),
                     absl::StrCat("unknown key '", key,
                                  "' (expected name, pattern, join, publish, relay, echo, forward, "
                                  "recovery, auth)"));
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
        return Error(item.first.Mark(),
                     absl::StrCat("unknown key '", key, "' (expected namespaces)"));
      }
      has_namespaces = true;
      if (!item.second.IsSequence())
        return Error(item.second.Mark(), "'namespaces' must be a list");
      for (const auto& entry : item.second) {
        auto policy = Namespace(entry);
        if (!policy.ok()) return policy.status();
        if (!policy->name.empty() && !names.insert(policy->name).second) {
          return Error(entry.Mark(), absl::StrCat("duplicate namespace name '", policy->name, "'"));
        }
        if (!policy->pattern.empty() && !patterns.insert(policy->pattern).second) {
          return Error(entry.Mark(),
                       absl::StrCat("duplicate namespace pattern '", policy->pattern, "'"));
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
    case RelayPolicy::kNone:
      return "none";
    case RelayPolicy::kBroadcast:
      return "broadcast";
    case RelayPolicy::kRooms:
      return "rooms";
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

absl::Status LoadSecrets(Config& config) {
  constexpr size_t kMaxSecretBytes = 64 * 1024;
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

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file '", path, "'"));
  std::ostringstream text;
  text << in.rdbuf();
  absl::StatusOr<Config> config = ParseConfig(text.str(), path);
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
