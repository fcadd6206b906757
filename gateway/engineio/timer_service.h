#ifndef ROOMQ_GATEWAY_ENGINEIO_TIMER_SERVICE_H_
#define ROOMQ_GATEWAY_ENGINEIO_TIMER_SERVICE_H_

// TimerService: where the gateway's one-shot timers come from (Engine.IO
// heartbeats, upgrade and close timeouts), so tests can drive them with a
// base::FakeClock instead of waiting for real time. EngineOptions::timers
// holds the service a gateway uses; TimerService::Real() is the default.
//
//  - The real service keeps one queue per execution context (a min-heap
//    under one boost::asio::steady_timer, timer_service.cc): a timer fires
//    on its executor once the steady clock has passed its deadline, and an
//    armed timer costs no asio state of its own. Its executor's context
//    must run on one thread, as each gateway shard's does.
//  - FakeTimerService reads a base::FakeClock; nothing fires until the test
//    calls Advance(), which moves the clock and posts every timer due at the
//    new time to its executor (in deadline order). Timers armed by those
//    callbacks count from the new time: a test that wants several periods to
//    pass advances once per period.
//
// Timer contract (both services): Start() (re)arms the timer, replacing a
// pending callback; Cancel() and destruction drop it. A callback never runs
// after Cancel(), a later Start() or the timer's destruction, even if it was
// already due, and never runs inline in Start() or Advance(): always through
// the executor.
//
// Thread safety: a Timer is used (created, started, cancelled, destroyed) on
// its executor's thread only, which is also where its callback runs.
// TimerService methods may be called from any thread. The service (and the
// FakeClock behind a fake one) must outlive every timer it made.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "proto/base/clock.h"

namespace roomq::gateway::engineio {

class Timer {
 public:
  virtual ~Timer() = default;
  // Runs `fire` on the executor once `delay` has passed, unless the timer is
  // cancelled, restarted or destroyed first.
  virtual void Start(base::Clock::Duration delay, std::function<void()> fire) = 0;
  virtual void Cancel() = 0;
};

class TimerService {
 public:
  virtual ~TimerService() = default;
  virtual std::unique_ptr<Timer> NewTimer(boost::asio::any_io_executor executor) = 0;
  // The clock the timers read.
  virtual const base::Clock& clock() const = 0;

  // boost::asio::steady_timer and base::Clock::Real(); lives for the whole
  // process.
  static TimerService& Real();
};

class FakeTimerService final : public TimerService {
 public:
  explicit FakeTimerService(base::FakeClock& clock) : clock_(clock) {}

  std::unique_ptr<Timer> NewTimer(boost::asio::any_io_executor executor) override;
  const base::Clock& clock() const override { return clock_; }

  // Moves the clock forward by `step` and posts every timer now due.
  void Advance(base::Clock::Duration step) ABSL_LOCKS_EXCLUDED(mutex_);
  // The deadlines of the timers armed and not yet due, earliest first: a
  // test that must not advance before some timer is armed (or re-armed by
  // a peer's answer on another thread) waits until it shows up here.
  std::vector<base::Clock::TimePoint> deadlines() const ABSL_LOCKS_EXCLUDED(mutex_);
  // Blocks until some timer is armed to fire at `deadline` (true) or `limit`
  // of real time passed (false).
  bool WaitUntilArmed(base::Clock::TimePoint deadline, std::chrono::milliseconds limit) const
      ABSL_LOCKS_EXCLUDED(mutex_);

  // One timer's state, shared between the Timer and the service.
  struct Entry;

 private:
  friend class FakeTimer;
  void Arm(const std::shared_ptr<Entry>& entry, base::Clock::Duration delay,
           std::function<void()> fire) ABSL_LOCKS_EXCLUDED(mutex_);
  void Disarm(Entry& entry) ABSL_LOCKS_EXCLUDED(mutex_);

  base::FakeClock& clock_;
  // Also guards the state of every Entry (timer_service.cc); WaitUntilArmed
  // waits on it with a Condition, which each unlock (hence every Arm())
  // re-evaluates.
  mutable absl::Mutex mutex_;
  std::vector<std::weak_ptr<Entry>> entries_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_TIMER_SERVICE_H_
