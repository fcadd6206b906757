#ifndef ROOMQ_GATEWAY_ENGINEIO_SID_H_
#define ROOMQ_GATEWAY_ENGINEIO_SID_H_

// Engine.IO session ids: an optional instance prefix (EngineOptions::sid_prefix,
// the gateway's --sid-prefix), then 20 characters of base64url from 15 bytes
// of OpenSSL RAND_bytes (unguessable), then 2 base64url characters naming the
// shard that owns the session, so any shard can route a request for a sid
// without shared state. Up to 4096 shards. The prefix lets a load balancer
// send every request of a session to the gateway that issued it (see
// deploy/lb/nginx.conf); it adds no secrecy and takes none away.
//
// Thread safety: both functions may be called from any thread.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace roomq::gateway::engineio {

inline constexpr size_t kMaxShards = 4096;
inline constexpr size_t kMaxSidPrefix = 16;

// True if `prefix` is usable as a sid prefix: at most kMaxSidPrefix
// base64url characters (so sids stay URL-safe without escaping).
bool IsValidSidPrefix(std::string_view prefix);

// `prefix` must satisfy IsValidSidPrefix (it is not checked here).
std::string NewSid(size_t shard, std::string_view prefix = {});
// The owning shard of a well-formed sid issued with `prefix`; nullopt for
// anything else (including a sid carrying another instance's prefix).
std::optional<size_t> ShardOfSid(std::string_view sid, std::string_view prefix = {});

// What logs carry instead of a sid, which is a bearer credential (whoever
// holds it can poll and post as that session): "sid:" + 8 hex digits of
// SHA-256(sid). Enough to correlate the lines of one session, useless for
// taking it over.
std::string SidForLog(std::string_view sid);

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_SID_H_
