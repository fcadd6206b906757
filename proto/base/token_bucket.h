#ifndef ROOMQ_PROTO_BASE_TOKEN_BUCKET_H_
#define ROOMQ_PROTO_BASE_TOKEN_BUCKET_H_

// TokenBucket: the one rate limiter of roomq (a socket's messages, a
// session's CONNECTs, an address's handshakes). Tokens refill continuously
// at `rate` per second up to `burst`; each admitted unit takes one.
//
// The rate and the size are not stored: they are the owner's options, the
// same for many buckets (one per socket), so a bucket is 16 bytes. Every
// call passes the same rate and burst; time comes from a base::Clock reading
// (Clock::Now()), so tests advance a FakeClock instead of sleeping.
//
// A rate <= 0 means no limit: Take() always succeeds and the bucket counts
// as full.
//
// Thread safety: a plain value; its owner synchronizes.

#include <algorithm>
#include <chrono>

#include "proto/base/clock.h"

namespace roomq::base {

struct TokenBucket {
  double tokens = 0;
  Clock::TimePoint refilled{};

  // A bucket holding `burst` tokens as of `now`.
  static TokenBucket Full(double burst, Clock::TimePoint now) { return {burst, now}; }

  // Tokens held as of `now` (never more than `burst`).
  double Available(Clock::TimePoint now, double rate, double burst) const {
    if (rate <= 0) return burst;
    const double elapsed = std::chrono::duration<double>(now - refilled).count();
    return std::min(burst, tokens + std::max(0.0, elapsed) * rate);
  }

  bool IsFull(Clock::TimePoint now, double rate, double burst) const {
    return Available(now, rate, burst) >= burst;
  }

  // Refills up to `now`, then takes one token; false (nothing taken) when
  // less than one is left.
  bool Take(Clock::TimePoint now, double rate, double burst) {
    if (rate <= 0) return true;
    tokens = Available(now, rate, burst);
    refilled = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }

  // Seconds until Take() would succeed (0 when it would now).
  double SecondsUntilToken(Clock::TimePoint now, double rate, double burst) const {
    if (rate <= 0) return 0;
    const double available = Available(now, rate, burst);
    return available >= 1 ? 0 : (1 - available) / rate;
  }
};

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_TOKEN_BUCKET_H_
