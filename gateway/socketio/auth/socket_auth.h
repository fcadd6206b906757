#ifndef ROOMQ_GATEWAY_SOCKETIO_AUTH_SOCKET_AUTH_H_
#define ROOMQ_GATEWAY_SOCKETIO_AUTH_SOCKET_AUTH_H_

// Admission of a Socket.IO CONNECT under its namespace's `auth` policy, and
// what the admitted socket may do afterwards.
//
// auth: none  every CONNECT is admitted with no extra limit (grant null).
// auth: jwt   the CONNECT auth payload must be {"token": "<JWT>"} (other
//             keys ignored); the token is checked by VerifyJwt
//             (jwt_verifier.h) with the namespace's key, audience, issuer
//             and leeway. Two roomq claims limit the socket:
//               "rooms":   a list of at most kMaxRoomClaims strings; the
//                          socket may `join` only rooms matching one of
//                          them, on top of the namespace's `join` regex.
//                          An entry starting with '^' is an ECMAScript
//                          regex that must match the whole room name; any
//                          other entry is an exact room name. [] = no
//                          joins. Absent = only the namespace's `join`.
//               "publish": false = the socket may not use `publish` and
//                          its plain events are not relayed to other
//                          clients (forwarding to services is unchanged).
//                          Absent or true = allowed.
//             A claim of the wrong type refuses the token ("invalid
//             token").
// A refusal carries a reason from jwt_verifier.h ("missing token",
// "invalid token", "token expired", ...) for the client's CONNECT_ERROR and
// the metrics, and a detail for the log; neither contains the token or key.
//
// Reserved rooms: a room name shaped like a socket id (IsSocketIdShaped)
// belongs to the socket of that id; clients cannot join it, whatever the
// `join` regex and the claims say (services still can, through the broker).
//
// Thread safety: Admit is a pure function; a Grant is immutable and may be
// shared.

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/socketio/auth/auth_policy.h"

namespace roomq::gateway::socketio::auth {

inline constexpr size_t kMaxRoomClaims = 64;
inline constexpr size_t kMaxRoomClaimBytes = 256;

// What an admitted socket may do beyond its namespace's policy.
struct Grant {
  std::string subject;       // the token's `sub` (for the log), "" if none
  bool limit_rooms = false;  // a `rooms` claim was present
  std::vector<std::string> exact_rooms;
  std::vector<std::regex> room_patterns;
  bool may_publish = true;

  // True when the `rooms` claim (if any) lets the socket join `room`.
  bool MayJoin(std::string_view room) const;
};

struct Admission {
  // Null for auth: none; the socket's grant for auth: jwt.
  std::shared_ptr<const Grant> grant;
  std::string_view reason;  // empty when admitted
  std::string detail;       // for the log, when refused

  bool ok() const { return reason.empty(); }
};

// `connect_data` is the CONNECT packet's JSON text ("" when none).
Admission Admit(const AuthPolicy& policy, std::string_view connect_data,
                std::chrono::system_clock::time_point now);

// A name of exactly 20 characters of [A-Za-z0-9_-], the shape of every
// Socket.IO socket id the gateway hands out (Shard::NewSocketId).
bool IsSocketIdShaped(std::string_view room);

}  // namespace roomq::gateway::socketio::auth

#endif  // ROOMQ_GATEWAY_SOCKETIO_AUTH_SOCKET_AUTH_H_
