#ifndef ROOMQ_PROTO_BASE_CLOCK_H_
#define ROOMQ_PROTO_BASE_CLOCK_H_

// Clock: where every timer, deadline and rate in roomq reads the time, so
// tests can swap in a FakeClock and advance it instead of sleeping
// (leveldb's Env is the model). Code that needs the time takes a Clock&
// (usually through its options, defaulting to Clock::Real()) and never calls
// std::chrono::steady_clock::now() or system_clock::now() itself.
//
// Two readings:
//  - Now(): monotonic, for timers, deadlines, heartbeats, backoff and rates;
//  - WallNow(): calendar time, for what other machines read (message
//    timestamps, token expiry, file names).
//
// Thread safety: every method may be called from any thread. Clock::Real()
// lives for the whole process. A FakeClock must outlive everything that
// holds it.

#include <atomic>
#include <chrono>

namespace roomq::base {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;
  using WallTime = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;

  virtual TimePoint Now() const = 0;
  virtual WallTime WallNow() const = 0;

  // The process-wide real clock (steady_clock and system_clock).
  static Clock& Real();
};

// A clock that moves only when told to. Both readings start at a fixed,
// arbitrary point (not the epoch, so code that treats 0 as "unset" still
// works) and move together.
class FakeClock final : public Clock {
 public:
  FakeClock() = default;

  TimePoint Now() const override { return TimePoint(Duration(ticks_.load())); }
  WallTime WallNow() const override {
    return WallTime(std::chrono::duration_cast<WallTime::duration>(Duration(ticks_.load())) +
                    kWallOffset);
  }

  // Moves both readings forward by `step` (negative steps are ignored:
  // neither reading ever goes back).
  void Advance(Duration step) {
    if (step.count() > 0) ticks_.fetch_add(step.count());
  }

 private:
  // 2026-01-01T00:00:00Z: wall readings look like real ones.
  static constexpr std::chrono::seconds kWallOffset{1767225600};
  std::atomic<Duration::rep> ticks_{
      std::chrono::duration_cast<Duration>(std::chrono::hours(1)).count()};
};

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_CLOCK_H_
