#ifndef ROOMQ_GATEWAY_ENGINEIO_SID_H_
#define ROOMQ_GATEWAY_ENGINEIO_SID_H_

// Engine.IO session ids: 20 characters of base64url from 15 bytes of
// OpenSSL RAND_bytes (unguessable), followed by 2 base64url characters
// naming the shard that owns the session, so any shard can route a request
// for a sid without shared state. Up to 4096 shards.
//
// Thread safety: both functions may be called from any thread.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace roomq::gateway::engineio {

inline constexpr size_t kMaxShards = 4096;

std::string NewSid(size_t shard);
// The owning shard of a well-formed sid; nullopt for anything else.
std::optional<size_t> ShardOfSid(std::string_view sid);

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_SID_H_
