#ifndef ROOMQ_GATEWAY_SOCKETIO_RECOVERY_H_
#define ROOMQ_GATEWAY_SOCKETIO_RECOVERY_H_

// Socket.IO connection state recovery, the pieces that know its wire
// conventions (socket.io-client 4.6+, npm socket.io's connectionStateRecovery),
// kept pure so they can be tested on their own.
//
// How it works in roomq (proto/README.md "History, resume and recovery"):
//  - A namespace with `recovery` in the config answers CONNECT with
//    {"sid","pid"}: pid is a private session id (128 bits from OpenSSL's
//    CSPRNG), a secret only the client holds.
//  - Every broadcast event (KIND_EVENT without an ack id) kept in the
//    broker's history reaches the client with its offset as one more, last,
//    argument: the string "<epoch>-<sequence>" of Delivery.epoch/sequence.
//    It is the same for every recipient, so the frame is still encoded once
//    per envelope (MakeDispatch). The client remembers the last one.
//  - The broker holds a record of every connected socket {pid, namespace,
//    socket id, rooms, epoch, since_sequence, the namespace's window}, kept
//    current by the gateway (shard.h "Socket records"). When the socket's
//    transport closes for a recoverable reason (IsRecoverableReason), the
//    record stays for the window; when its gateway dies, the broker keeps
//    it the same way.
//  - A CONNECT carrying {pid, offset} (the client adds them to its auth)
//    makes whichever gateway it reaches claim that record from the broker
//    (Recover), also one still connected on another gateway (which is then
//    told to close that socket). On success the socket gets back its id and rooms, the
//    CONNECT answer repeats the same pid (so `socket.recovered` is true),
//    then the missed events follow (filtered like live ones), then live
//    ones. Otherwise the client gets a fresh session: a new id, a new pid.
//
// Thread safety: every function here is pure or thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roomq::gateway::socketio {

// Disconnect reasons after which a socket's state is kept (as npm socket.io's
// RECOVERABLE_DISCONNECT_REASONS): "transport error", "transport close",
// "forced close", "ping timeout", "server shutting down", "forced server
// close"; and roomq's "token expired", so that a client that reconnects with
// a fresh token (of the same subject: recovery re-authorizes) gets its socket
// and what it missed back. A client's own disconnect, a server-side
// disconnect, a parse error or a rate-limit disconnect are final.
bool IsRecoverableReason(std::string_view reason);

// A new private session id: 128 bits from OpenSSL's RAND_bytes as 22
// base64url characters (proto/base/random_id.h; a CSPRNG failure is fatal
// there).
std::string NewPrivateSessionId();

// The offset a client sees: "<epoch>-<sequence>", both decimal.
struct EventOffset {
  uint64_t epoch = 0;
  uint64_t sequence = 0;
};
std::string FormatOffset(EventOffset offset);
// The offset argument of a frame: FormatOffset as a JSON string literal.
std::string OffsetArg(EventOffset offset);
// nullopt unless `text` is exactly two decimal uint64 joined by '-'.
std::optional<EventOffset> ParseOffset(std::string_view text);

// What a reconnecting client put in its CONNECT auth: {"pid":"...",
// "offset":"..."} (offset absent when it never received an event).
struct RecoveryClaim {
  std::string pid;
  std::optional<std::string> offset;
};
// nullopt when `auth_json` is not an object with a non-empty string `pid`
// (of at most 64 bytes). An `offset` that is not a string is ignored.
std::optional<RecoveryClaim> ParseRecoveryClaim(std::string_view auth_json);

}  // namespace roomq::gateway::socketio

#endif  // ROOMQ_GATEWAY_SOCKETIO_RECOVERY_H_
