#include "proto/base/clock.h"

namespace roomq::base {
namespace {

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
};

}  // namespace

Clock& Clock::Real() {
  // Never destroyed: threads that outlive main's statics may still read it.
  static RealClock* const clock = new RealClock();
  return *clock;
}

}  // namespace roomq::base
