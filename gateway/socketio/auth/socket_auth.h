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
//                          An entry starting with '^' is a regex
//                          (proto/base/pattern.h) that must match the whole room name; any
//                          other entry is an exact room name. [] = no
//                          joins. Absent = only the namespace's `join`.
//               "publish": false = the socket may not use `publish` and
//                          its plain events are not relayed to other
//                          clients (forwarding to services is unchanged);
//                          a list (same form as "rooms") = it may publish,
//                          and relay with the `rooms` policy, only into
//                          those rooms, on top of the namespace's
//                          `publish` regex.
//                          Absent or true = allowed.
//             A claim of the wrong type refuses the token ("invalid
//             token").
// A refusal carries a reason from jwt_verifier.h ("missing token",
// "invalid token", "token expired", ...) for the client's CONNECT_ERROR and
// the metrics, and a detail for the log; neither contains the token or key.
//
// Reserved rooms: every socket is in the room named by its id, so a room
// named by a socket id belongs to that socket; clients cannot join it,
// whatever the `join` regex and the claims say (services still can, through
// the broker). Which names are socket ids is decided by the id alone, with
// no lookup, because the socket may live on another gateway:
//
// Socket ids. An id is 20 characters of the base64url alphabet
// [A-Za-z0-9_-], the shape of Socket.IO's own ids: kSocketIdRandomChars (16)
// characters from OpenSSL's CSPRNG (96 bits; Shard::NewSocketId), then
// kSocketIdCheckChars (4) characters of a check on them (SocketIdCheck):
//   check = base64url(SHA-256("roomq-sid:" + random part)[0..3))
// i.e. the first 24 bits of the digest as 4 characters. IsIssuedSocketId
// reserves exactly the names whose check verifies: every id the gateway
// issues, and (by chance) one name in 2^24 (~1 in 16.7 million) of any
// other 20-character base64url names, such as "internationalization",
// Firestore document ids or other random tokens an app uses as rooms.
//
// Why a public, unkeyed check: it only has to tell issued ids from names
// that merely look like them, and must give the same answer on every
// gateway and across restarts and upgrades (a recovered socket keeps its
// id on whichever gateway it comes back to; with a per-process key, an id
// from gateway A would not verify on gateway B), so there is no key to
// share or rotate. It is not a secret and need not be: what protects a
// socket's room is that its id is reserved, not that it is hard to forge —
// a forged name that verifies is merely refused too, and the 96 random bits
// keep ids unguessable and collision-free. SHA-256 is in the standard
// library of Node, Python, Go, ..., so a service can tell ids from other
// names the same way.
// Why 4 check characters: at 2^-24 an app with a million id-shaped room
// names most likely has none refused (3 characters, 2^-18, would refuse
// about 4), and 16 characters still carry 96 random bits (Socket.IO's ids
// have 120, the Engine.IO sid 128).
//
// Limit: an id issued before this check (20 random characters) verifies
// only by the 1-in-2^24 chance. A socket saved with such an id that comes
// back through connection state recovery (recovery.h) keeps it, and its
// room is then not reserved, until the socket gets a fresh session (it is
// disconnected for longer than the recovery window, or for good).
//
// Thread safety: Admit, SocketIdCheck and IsIssuedSocketId are pure
// functions; a Grant is immutable and may be shared.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/socketio/auth/auth_policy.h"
#include "proto/base/pattern.h"

namespace roomq::gateway::socketio::auth {

inline constexpr size_t kMaxRoomClaims = 64;
inline constexpr size_t kMaxRoomClaimBytes = 256;

// A list claim ("rooms", "publish"): exact room names and whole-name regexes.
struct RoomList {
  bool limited = false;  // the claim was present
  std::vector<std::string> exact;
  std::vector<base::Pattern> patterns;

  // True when absent, or when `room` is one of `exact` or matches a pattern.
  bool Allows(std::string_view room) const;
};

// What an admitted socket may do beyond its namespace's policy.
struct Grant {
  std::string subject;  // the token's `sub` (for the log), "" if none
  // When the token expires (`exp` + leeway): the socket is disconnected
  // then (Connection, reason "token expired").
  std::chrono::system_clock::time_point valid_until;
  RoomList join_rooms;  // the `rooms` claim
  // The `publish` claim: false = no publish and no relay at all; a list =
  // publish and `rooms` relay only into those rooms.
  bool may_publish = true;
  RoomList publish_rooms;

  // True when the `rooms` claim (if any) lets the socket join `room`.
  bool MayJoin(std::string_view room) const { return join_rooms.Allows(room); }
  // True when the `publish` claim (if any) lets the socket publish into
  // (or relay to) `room`.
  bool MayPublishTo(std::string_view room) const {
    return may_publish && publish_rooms.Allows(room);
  }
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

inline constexpr size_t kSocketIdChars = 20;
inline constexpr size_t kSocketIdRandomChars = 16;
inline constexpr size_t kSocketIdCheckChars = kSocketIdChars - kSocketIdRandomChars;

// The kSocketIdCheckChars check characters of a socket id's random part
// (see "Socket ids" above); any bytes are accepted, the id's are
// kSocketIdRandomChars base64url characters.
std::string SocketIdCheck(std::string_view random_part);

// True when `name` is a socket id the gateway issues: kSocketIdChars
// base64url characters whose last kSocketIdCheckChars are the check of the
// rest. Such a room is reserved for the socket of that id.
bool IsIssuedSocketId(std::string_view name);

}  // namespace roomq::gateway::socketio::auth

#endif  // ROOMQ_GATEWAY_SOCKETIO_AUTH_SOCKET_AUTH_H_
