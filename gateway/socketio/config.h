#ifndef ROOMQ_GATEWAY_SOCKETIO_CONFIG_H_
#define ROOMQ_GATEWAY_SOCKETIO_CONFIG_H_

// The gateway's namespace policy, loaded from the --config YAML file.
//
// Schema (every key but the name/pattern is optional; unknown keys are an
// error, so a typo never silently changes a policy):
//
//   namespaces:
//     - name: /               # an exact namespace name (starts with '/'), or
//     # pattern: '^/dyn-\w+$' # a regex (RE2 syntax, must match the whole name,
//     #                       # at most 256 bytes; its text names the family
//     #                       # a native service serves with OfPattern);
//     #                       # each matching name becomes its own namespace
//     #                       # once a CONNECT to it is admitted (auth passed),
//     #                       # until its last socket leaves; at most
//     #                       # --max-dynamic-namespaces per io thread
//     #                       # (namespace_registry.h)
//       join: '.*'            # regex a room name must fully match for a client
//                             # `join`; '' = clients may not join rooms.
//                             # Default '.*'.
//       publish: '.*'         # regex a room name must fully match for a client
//                             # `publish` into it and for a `rooms` relay to
//                             # reach it; '' = no client publish. Absent =
//                             # the `join` regex (so `join: ''` also means no
//                             # client publish unless `publish` is set).
//       relay: none           # what a plain client event does:
//                             #   broadcast: to everyone else in the namespace
//                             #   rooms:     to every room the sender joined
//                             #   none:      nothing (default)
//       echo: false           # relayed events also go back to the sender
//       forward: false        # connections, disconnections and client events
//                             # are published to native services
//       middleware: none      # required: a native service's middleware
//                             # (roomq::Namespace::Use) admits or refuses
//                             # each fresh CONNECT, after `auth`; refused
//                             # when its verdict does not come within
//                             # --middleware-timeout (5 s), no service
//                             # being there included (fail closed). A
//                             # recovered socket skips it, as in Socket.IO.
//                             # none: no middleware (default)
//       recovery:             # Socket.IO connection state recovery; absent =
//         max_disconnection: 2m   # off (as Socket.IO). A socket whose transport
//                             # closed unexpectedly ("transport close",
//                             # "transport error", "ping timeout", "forced
//                             # close", "server shutting down") can come back
//                             # within max_disconnection, through any gateway,
//                             # with its id, its rooms and every event it
//                             # missed (gateway/socketio/recovery.h). Events
//                             # then carry their offset as a last argument.
//                             # Duration (proto/base/yaml_config.h):
//                             # <integer>ms|s|m|h, 1 ms to 24 h;
//                             # default 2m. `recovery: {}` = on with 2m.
//                             # The broker bounds it too: sessions live at
//                             # most its sessions.max_ttl (10 min), and a
//                             # client missing more than its history holds
//                             # (history.max_messages 1000 per room,
//                             # max_age 2 min) gets a fresh session.
//       auth: none            # who may CONNECT (gateway/socketio/auth/):
//                             #   none: anyone (default)
//                             # or a map:
//       # auth:
//       #   type: jwt         # CONNECT auth payload {"token": "<JWT>"},
//       #                     # HS256 only (auth/jwt_verifier.h); checks the
//       #                     # signature, exp (required), nbf
//       #   secret_env: NAME  # the HS256 key: an environment variable, or
//       #   secret_file: PATH # a file (one trailing newline dropped);
//       #                     # exactly one; read at startup by LoadSecrets:
//       #                     # unset, unreadable or empty = startup error
//       #   audience: roomq   # optional: `aud` must be or contain it
//       #   issuer: idp       # optional: `iss` must equal it
//       #   leeway: 5s        # clock skew for exp/nbf, a duration in
//       #                     # whole seconds, at most 300s; default 5s
//                             # Claims that limit an admitted socket:
//                             #   "rooms": ["lobby", "^team-[0-9]+$"] it
//                             #     may join only these (exact names, or
//                             #     regexes when starting with '^'), on top
//                             #     of `join`; absent = `join` alone
//                             #   "publish": false  no `publish`, and its
//                             #     events are not relayed to clients;
//                             #     or a list like "rooms": it may publish
//                             #     (and relay with `rooms`) only into those
//                             #     rooms, on top of `publish`
//                             # A refused CONNECT gets CONNECT_ERROR
//                             # {"message": reason}: "missing token",
//                             # "invalid token", "token expired", "token not
//                             # yet valid", "invalid audience", "invalid
//                             # issuer" (auth/socket_auth.h).
//
// Rooms named by a socket id the gateway issues (auth::IsIssuedSocketId in
// auth/socket_auth.h) are reserved for that socket: no client may `join`
// one or `publish` into one, whatever `join` and `publish` say; only native
// services address a socket.
//
// Exact names are looked up first; patterns are tried in file order. A name
// or a pattern appears at most once.
//
// Thread safety: Config is a plain value, immutable once loaded.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/socketio/auth/auth_policy.h"

namespace roomq::gateway::socketio {

enum class RelayPolicy { kNone, kBroadcast, kRooms };

std::string_view RelayPolicyName(RelayPolicy policy);

struct NamespacePolicy {
  std::string name;     // exact namespace, or empty when `pattern` is set
  std::string pattern;  // regex (proto/base/pattern.h) matched against the whole name
  std::string join = ".*";
  // Rooms clients may publish into; nullopt = the same as `join`.
  std::optional<std::string> publish;
  RelayPolicy relay = RelayPolicy::kNone;
  bool echo = false;
  bool forward = false;
  bool middleware_required = false;  // `middleware: required`
  // Connection state recovery window; nullopt = recovery off.
  std::optional<std::chrono::milliseconds> recovery;
  auth::AuthPolicy auth;  // kNone unless `auth` says otherwise
  int line = 0;           // 1-based line in the config file, 0 when built in code
};

struct Config {
  std::vector<NamespacePolicy> namespaces;
};

// Parses YAML text. InvalidArgument naming `source` and the line for:
// malformed YAML, unknown keys, a wrong type, a name not starting with '/',
// both or neither of name/pattern, a bad regex, a bad relay value, a
// duplicate name or pattern, a bad recovery duration, a bad `auth` map.
// Secrets are not read here (see LoadSecrets). Top-level `flag_keys` are
// the gateway's flags (proto/base/flag_file.h), skipped here; a file with
// flags and no 'namespaces' has DefaultConfig's.
absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view source = "config",
                                   const std::vector<std::string>& flag_keys = {});

// Shortest JWT secret accepted: 256 bits, the HS256 output size (RFC 7518
// section 3.2 asks for a key at least that long).
inline constexpr size_t kMinJwtSecretBytes = 32;

// Fills the `secret` of every jwt namespace from its secret_env variable or
// secret_file. InvalidArgument naming the namespace and the variable or
// file (never the secret) when one is unset, unreadable, empty, shorter
// than kMinJwtSecretBytes or larger than 64 KiB. Call once at startup.
absl::Status LoadSecrets(Config& config);

// Reads and parses `path`, then LoadSecrets. NotFound when it cannot be
// read.
absl::StatusOr<Config> LoadConfigFile(const std::string& path,
                                      const std::vector<std::string>& flag_keys = {});

// What the gateway runs without --config: namespace "/" open to everything:
// join any room, relay broadcast, no echo, no forwarding.
Config DefaultConfig();

}  // namespace roomq::gateway::socketio

#endif  // ROOMQ_GATEWAY_SOCKETIO_CONFIG_H_
