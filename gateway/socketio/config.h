#ifndef ROOMQ_GATEWAY_SOCKETIO_CONFIG_H_
#define ROOMQ_GATEWAY_SOCKETIO_CONFIG_H_

// The gateway's namespace policy, loaded from the --config YAML file.
//
// Schema (every key but the name/pattern is optional; unknown keys are an
// error, so a typo never silently changes a policy):
//
//   namespaces:
//     - name: /               # an exact namespace name (starts with '/'), or
//     # pattern: '^/dyn-\w+$' # a regex (ECMAScript, must match the whole name);
//     #                       # each matching name becomes its own namespace
//       join: '.*'            # regex a room name must fully match for a client
//                             # `join`; '' = clients may not join rooms.
//                             # Default '.*'.
//       relay: none           # what a plain client event does:
//                             #   broadcast: to everyone else in the namespace
//                             #   rooms:     to every room the sender joined
//                             #   none:      nothing (default)
//       echo: false           # relayed events also go back to the sender
//       forward: false        # connections, disconnections and client events
//                             # are published to native services
//
// Exact names are looked up first; patterns are tried in file order. A name
// or a pattern appears at most once.
//
// Thread safety: Config is a plain value, immutable once loaded.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace roomq::gateway::socketio {

enum class RelayPolicy { kNone, kBroadcast, kRooms };

std::string_view RelayPolicyName(RelayPolicy policy);

struct NamespacePolicy {
  std::string name;     // exact namespace, or empty when `pattern` is set
  std::string pattern;  // ECMAScript regex matched against the whole name
  std::string join = ".*";
  RelayPolicy relay = RelayPolicy::kNone;
  bool echo = false;
  bool forward = false;
  int line = 0;  // 1-based line in the config file, 0 when built in code
};

struct Config {
  std::vector<NamespacePolicy> namespaces;
};

// Parses YAML text. InvalidArgument naming `source` and the line for:
// malformed YAML, unknown keys, a wrong type, a name not starting with '/',
// both or neither of name/pattern, a bad regex, a bad relay value, a
// duplicate name or pattern.
absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view source = "config");

// Reads and parses `path`. NotFound when it cannot be read.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// What the gateway runs without --config: namespace "/" open to everything:
// join any room, relay broadcast, no echo, no forwarding.
Config DefaultConfig();

}  // namespace roomq::gateway::socketio

#endif  // ROOMQ_GATEWAY_SOCKETIO_CONFIG_H_
