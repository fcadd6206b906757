#ifndef ROOMQ_BROKER_HISTORY_SESSION_STORE_H_
#define ROOMQ_BROKER_HISTORY_SESSION_STORE_H_

// SessionStore: Socket.IO sessions saved by gateways (SaveSession) so that
// a client can recover its socket through any gateway (Recover), keyed by
// the private session id `pid`.
//
// A session lives for its ttl (clamped to max_ttl) and is removed when it
// expires (Expire, from the broker's housekeeping) or is claimed: a pid
// recovers at most once. Saving a pid again replaces the session and its
// expiry. At max_sessions, saving a new pid first evicts the session that
// would expire soonest (a full store loses its oldest-deadline sessions,
// never refuses a new one).
//
// Limits (defaults): max_sessions 100000; max_bytes 64 MiB (the sessions'
// encoded sizes summed; over it, soonest-to-expire sessions are evicted as
// at max_sessions); max_ttl 10 min; a session's rooms are at most
// kMaxSessionRooms and its bytes at most kMaxSessionBytes (larger ones are
// refused with InvalidArgument).
//
// Thread safety: none; owned by the broker loop thread. Time is passed in.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/roomq.pb.h"

namespace roomq::broker::history {

inline constexpr size_t kMaxSessionRooms = 10000;
inline constexpr size_t kMaxSessionBytes = 64 << 10;

struct SessionOptions {
  size_t max_sessions = 100000;
  std::chrono::milliseconds max_ttl{10 * 60 * 1000};
  size_t max_bytes = size_t{64} << 20;
};

class SessionStore {
 public:
  using Clock = std::chrono::steady_clock;

  explicit SessionStore(SessionOptions options) : options_(options) {}

  // Keeps `session` until now + min(ttl, max_ttl). InvalidArgument for an
  // empty pid or namespace, a zero ttl, or a session over the size limits.
  absl::Status Save(v1::Session session, std::chrono::milliseconds ttl, Clock::time_point now);
  // Removes and returns the session of `pid`. NotFound when unknown or
  // expired at `now`.
  absl::StatusOr<v1::Session> Claim(std::string_view pid, Clock::time_point now);
  // Removes every session expired at `now`; returns how many.
  size_t Expire(Clock::time_point now);

  // Calls `visit` with every session and its deadline (for
  // session_log.h's compaction), in no particular order.
  void ForEach(
      const std::function<void(const v1::Session&, Clock::time_point deadline)>& visit) const;

  size_t size() const { return sessions_.size(); }
  size_t bytes() const { return bytes_; }
  uint64_t evicted() const { return evicted_; }

 private:
  struct Stored {
    v1::Session session;
    Clock::time_point deadline;
    size_t bytes = 0;
  };
  void Erase(const std::string& pid);

  const SessionOptions options_;
  absl::flat_hash_map<std::string, Stored> sessions_;  // by pid
  std::set<std::pair<Clock::time_point, std::string>> by_deadline_;
  uint64_t evicted_ = 0;  // removed at max_sessions / max_bytes
  size_t bytes_ = 0;
};

}  // namespace roomq::broker::history

#endif  // ROOMQ_BROKER_HISTORY_SESSION_STORE_H_
