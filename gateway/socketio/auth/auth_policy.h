#ifndef ROOMQ_GATEWAY_SOCKETIO_AUTH_AUTH_POLICY_H_
#define ROOMQ_GATEWAY_SOCKETIO_AUTH_AUTH_POLICY_H_

// A namespace's `auth` policy as the config file states it (schema in
// gateway/socketio/config.h). Plain data: parsed by config.cc, its secret
// filled in by LoadSecrets() at startup, enforced by socket_auth.h.
//
// The secret is key material: nothing prints an AuthPolicy, and no error
// message or log line ever contains `secret` (only the variable or file it
// came from).
//
// Thread safety: a plain value, immutable once the config is loaded.

#include <chrono>
#include <string>

namespace roomq::gateway::socketio::auth {

enum class AuthKind {
  kNone,  // anyone may connect (default)
  kJwt,   // CONNECT must carry {"token": "<HS256 JWT>"}
};

struct AuthPolicy {
  AuthKind kind = AuthKind::kNone;
  // Exactly one of these names where the HS256 key comes from (kJwt only).
  std::string secret_env;   // an environment variable
  std::string secret_file;  // a file (its bytes; one trailing newline dropped)
  std::string secret;       // the key itself, filled by LoadSecrets()
  std::string audience;     // when set, `aud` must be or contain it
  std::string issuer;       // when set, `iss` must equal it
  // Clock skew allowed for `exp` and `nbf`. Default 5 s; at most 300 s.
  std::chrono::seconds leeway{5};
};

}  // namespace roomq::gateway::socketio::auth

#endif  // ROOMQ_GATEWAY_SOCKETIO_AUTH_AUTH_POLICY_H_
