#ifndef ROOMQ_GATEWAY_ENGINEIO_CLIENT_LOG_H_
#define ROOMQ_GATEWAY_ENGINEIO_CLIENT_LOG_H_

// How the gateway logs what a client can cause at will (bad input below the
// packet level, malformed Socket.IO packets, refused CONNECTs): one policy
// for every layer, so that no client can flood the log and no client text
// can forge or break a log line.
//
//  - Rate: of each kind of event, the first kLoggedInFull are logged at info,
//    then one in every kLogEvery, saying how many were suppressed since the
//    last ("suppressed 999 like it"); the rest go to debug. The count `n` is the
//    caller's counter of that kind (the one its metric reads), so the log
//    adds no state. Count-based, not time-based: a flood of N events writes
//    at most kLoggedInFull + N / kLogEvery info lines per counter.
//  - Lines every client causes in the normal course (a socket connected,
//    recovered, disconnected) are worth reading one by one on a quiet
//    gateway, so they are not count-sampled: a LineBudget per io thread lets
//    up to `rate` a second through at info and sends the rest to debug,
//    counting them; the next line at info says how many went to debug. A
//    connection flood writes at most `rate` such lines a second per thread.
//  - Text: a client's string goes into a line through LogSafe: cut to a
//    bound, quoted, with everything but printable ASCII escaped.
//
// Thread safety: pure functions; spdlog's logger is thread-safe. A
// LineBudget belongs to one thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/base/clock.h"
#include "proto/base/token_bucket.h"

namespace roomq::gateway::engineio {

inline constexpr uint64_t kLoggedInFull = 10;
inline constexpr uint64_t kLogEvery = 1000;
// Bytes of a client's string a log line shows (LogSafe's default).
inline constexpr size_t kLoggedClientBytes = 64;

// True when the n-th (1-based) event of a kind is logged at info.
constexpr bool LogInFull(uint64_t n) { return n <= kLoggedInFull || n % kLogEvery == 0; }

// Logs `line` for the n-th event of its kind: at info when LogInFull(n)
// (the kLoggedInFull-th says that further ones are logged once per
// kLogEvery), else at debug.
void LogThrottled(uint64_t n, std::string_view line);

// Info lines of one kind at most `rate` a second (a burst of `rate`; at
// least 1), the rest at debug. rate <= 0: no limit, every line at info.
class LineBudget {
 public:
  LineBudget(double rate, const base::Clock* clock);

  // Logs `line` at info within the budget, else at debug. The first line at
  // info after some went to debug ends "(N like it at debug since the
  // last)".
  void Log(std::string_view line);

  // Lines sent to debug so far (for the metric).
  uint64_t at_debug() const { return at_debug_; }

 private:
  double rate_;
  double burst_;
  const base::Clock* clock_;
  base::TokenBucket bucket_;
  uint64_t at_debug_ = 0;
  uint64_t at_debug_since_info_ = 0;
};

// `text` (from a client) as it may appear in a log line: in double quotes,
// at most `max_bytes` of it, '"' and '\\' escaped, every byte outside
// printable ASCII as \xNN, and when cut, its full length after it:
// "/tenant-aaaa"...(300 bytes).
std::string LogSafe(std::string_view text, size_t max_bytes = kLoggedClientBytes);

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_CLIENT_LOG_H_
