#include "proto/base/clock.h"

#include <gtest/gtest.h>

#include <chrono>

namespace roomq::base {
namespace {

using std::chrono::milliseconds;

TEST(FakeClockTest, MovesOnlyWhenAdvanced) {
  FakeClock clock;
  const Clock::TimePoint start = clock.Now();
  const Clock::WallTime wall_start = clock.WallNow();
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(milliseconds(250));
  EXPECT_EQ(clock.Now() - start, milliseconds(250));
  EXPECT_EQ(clock.WallNow() - wall_start, milliseconds(250));
}

TEST(FakeClockTest, NeverGoesBack) {
  FakeClock clock;
  const Clock::TimePoint start = clock.Now();
  clock.Advance(milliseconds(-5));
  EXPECT_EQ(clock.Now(), start);
}

TEST(FakeClockTest, StartsAwayFromZero) {
  FakeClock clock;
  EXPECT_GT(clock.Now().time_since_epoch().count(), 0);
  EXPECT_GT(clock.WallNow(), std::chrono::system_clock::time_point{});
}

TEST(RealClockTest, IsMonotonic) {
  Clock& clock = Clock::Real();
  const Clock::TimePoint a = clock.Now();
  const Clock::TimePoint b = clock.Now();
  EXPECT_LE(a, b);
  EXPECT_EQ(&clock, &Clock::Real());
}

}  // namespace
}  // namespace roomq::base
