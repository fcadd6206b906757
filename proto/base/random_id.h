#ifndef ROOMQ_PROTO_BASE_RANDOM_ID_H_
#define ROOMQ_PROTO_BASE_RANDOM_ID_H_

// Random ids: the one place roomq draws unguessable bytes (OpenSSL's CSPRNG,
// RAND_bytes) for the ids a client must not be able to guess (Engine.IO
// sids, Socket.IO socket ids, private session ids for recovery).
//
// Failure policy: a RAND_bytes failure is fatal. The process writes one line
// to stderr and aborts: an id without entropy would let one client take over
// another's session, and no caller can do anything useful with less
// randomness than it asked for. (OpenSSL seeds from the OS; in practice this
// happens only on a broken system.)
//
// Thread safety: every function may be called from any thread.

#include <cstddef>
#include <string>

namespace roomq::base {

// `count` bytes from RAND_bytes.
std::string RandomBytes(size_t count);

// `bytes` random bytes as unpadded base64url (RFC 4648 section 5, alphabet
// A-Z a-z 0-9 - _): ceil(8 * bytes / 6) characters, so 12 bytes give 16,
// 15 give 20 and 16 give 22 (the last character then carries 2 bits).
std::string RandomUrlId(size_t bytes);

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_RANDOM_ID_H_
