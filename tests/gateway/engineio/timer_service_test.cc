// The timer contract of both TimerServices: a callback runs on the executor,
// once, when due, and never after Cancel(), a restart or the timer's end.

#include "gateway/engineio/timer_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "proto/base/clock.h"

namespace roomq::gateway::engineio {
namespace {

using std::chrono::milliseconds;

class FakeTimerServiceTest : public ::testing::Test {
 protected:
  void Run() {
    io_.restart();
    io_.poll();
  }

  base::FakeClock clock_;
  FakeTimerService timers_{clock_};
  boost::asio::io_context io_;
};

TEST_F(FakeTimerServiceTest, FiresOnTheExecutorOnceDue) {
  auto timer = timers_.NewTimer(io_.get_executor());
  int fired = 0;
  timer->Start(milliseconds(100), [&] { ++fired; });
  timers_.Advance(milliseconds(99));
  Run();
  EXPECT_EQ(fired, 0);
  timers_.Advance(milliseconds(1));
  EXPECT_EQ(fired, 0) << "never inline in Advance()";
  Run();
  EXPECT_EQ(fired, 1);
  timers_.Advance(milliseconds(1000));
  Run();
  EXPECT_EQ(fired, 1) << "one-shot";
}

TEST_F(FakeTimerServiceTest, DueTimersFireInDeadlineOrder) {
  auto late = timers_.NewTimer(io_.get_executor());
  auto early = timers_.NewTimer(io_.get_executor());
  std::vector<int> order;
  late->Start(milliseconds(20), [&] { order.push_back(20); });
  early->Start(milliseconds(10), [&] { order.push_back(10); });
  timers_.Advance(milliseconds(30));
  Run();
  EXPECT_EQ(order, (std::vector<int>{10, 20}));
}

TEST_F(FakeTimerServiceTest, CancelRestartAndDestructionDropTheCallback) {
  auto timer = timers_.NewTimer(io_.get_executor());
  std::vector<int> fired;
  timer->Start(milliseconds(10), [&] { fired.push_back(1); });
  timer->Cancel();
  timers_.Advance(milliseconds(10));
  Run();
  EXPECT_TRUE(fired.empty());

  timer->Start(milliseconds(10), [&] { fired.push_back(2); });
  timer->Start(milliseconds(20), [&] { fired.push_back(3); });  // replaces 2
  timers_.Advance(milliseconds(10));
  Run();
  EXPECT_TRUE(fired.empty());
  timers_.Advance(milliseconds(10));
  Run();
  EXPECT_EQ(fired, (std::vector<int>{3}));

  // Due and posted, then cancelled before the executor ran it.
  timer->Start(milliseconds(10), [&] { fired.push_back(4); });
  timers_.Advance(milliseconds(10));
  timer->Cancel();
  Run();
  EXPECT_EQ(fired, (std::vector<int>{3}));

  // Due and posted, then the timer is gone.
  timer->Start(milliseconds(10), [&] { fired.push_back(5); });
  timers_.Advance(milliseconds(10));
  timer.reset();
  Run();
  EXPECT_EQ(fired, (std::vector<int>{3}));
}

TEST_F(FakeTimerServiceTest, ACallbackMayRearmItsTimerFromTheNewTime) {
  auto timer = timers_.NewTimer(io_.get_executor());
  int fired = 0;
  std::function<void()> again = [&] {
    ++fired;
    timer->Start(milliseconds(10), again);
  };
  timer->Start(milliseconds(10), again);
  timers_.Advance(milliseconds(50));  // one period per Advance, not five
  Run();
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(timers_.deadlines(), (std::vector{clock_.Now() + milliseconds(10)}));
  EXPECT_TRUE(timers_.WaitUntilArmed(clock_.Now() + milliseconds(10), milliseconds(0)));
  EXPECT_FALSE(timers_.WaitUntilArmed(clock_.Now() + milliseconds(9), milliseconds(0)));
  timers_.Advance(milliseconds(10));
  Run();
  EXPECT_EQ(fired, 2);
  timer.reset();
  EXPECT_TRUE(timers_.deadlines().empty());
}

TEST(RealTimerService, FiresCancelsAndReadsTheRealClock) {
  TimerService& timers = TimerService::Real();
  EXPECT_EQ(&timers.clock(), &base::Clock::Real());
  boost::asio::io_context io;
  auto timer = timers.NewTimer(io.get_executor());
  int fired = 0;
  timer->Start(milliseconds(0), [&] { ++fired; });
  io.run();
  EXPECT_EQ(fired, 1);

  timer->Start(milliseconds(0), [&] { fired += 10; });
  timer->Cancel();
  io.restart();
  io.run();
  EXPECT_EQ(fired, 1);

  timer->Start(milliseconds(0), [&] { fired += 100; });
  timer.reset();
  io.restart();
  io.run();
  EXPECT_EQ(fired, 1);
}

TEST(RealTimerService, TimersOfOneContextFireInDeadlineOrderAndCallbacksMayEditOthers) {
  TimerService& timers = TimerService::Real();
  boost::asio::io_context io;
  std::vector<std::unique_ptr<Timer>> t;
  t.reserve(6);
  for (int i = 0; i < 6; ++i) t.push_back(timers.NewTimer(io.get_executor()));
  std::vector<int> order;
  // Deadlines 50 ms apart (a loaded machine may stall between two Starts):
  // 3, then 1 and 5, then 2, then 0 and 4. 1 restarts 5 with no delay, 2
  // destroys itself, 0 cancels 4 (due with it, armed after it).
  const milliseconds gap(50);
  t[0]->Start(3 * gap, [&] {
    order.push_back(0);
    t[4]->Cancel();
  });
  t[1]->Start(gap, [&] {
    order.push_back(1);
    t[5]->Start(milliseconds(0), [&] { order.push_back(50); });
  });
  t[2]->Start(2 * gap, [&] {
    order.push_back(2);
    t[2].reset();
  });
  t[3]->Start(milliseconds(0), [&] { order.push_back(3); });
  t[4]->Start(3 * gap, [&] { order.push_back(4); });
  t[5]->Start(gap, [&] { order.push_back(5); });
  io.run();
  // 5's restart fires once, after 1 (before 2 unless the machine stalled).
  ASSERT_EQ(std::count(order.begin(), order.end(), 50), 1);
  EXPECT_GT(std::find(order.begin(), order.end(), 50), std::find(order.begin(), order.end(), 1));
  std::erase(order, 50);
  EXPECT_EQ(order, (std::vector<int>{3, 1, 2, 0}));
  EXPECT_EQ(t[2], nullptr);
}

TEST(RealTimerService, ATimerArmedSoonerThanTheEarliestWakesTheContextSooner) {
  TimerService& timers = TimerService::Real();
  boost::asio::io_context io;
  auto late = timers.NewTimer(io.get_executor());
  auto soon = timers.NewTimer(io.get_executor());
  bool late_fired = false;
  bool soon_fired = false;
  late->Start(std::chrono::hours(1), [&] { late_fired = true; });
  soon->Start(milliseconds(1), [&] { soon_fired = true; });
  // One handler runs: the wake-up for `soon` (the hour-long wait ended as
  // aborted before it), and the hour is still pending after it.
  while (!soon_fired) ASSERT_EQ(io.run_one(), 1u);
  EXPECT_FALSE(late_fired);
  late->Cancel();
  io.run();
  EXPECT_FALSE(late_fired);
}

TEST(RealTimerService, ATimerMayOutliveItsContext) {
  TimerService& timers = TimerService::Real();
  std::unique_ptr<Timer> timer;
  bool fired = false;
  {
    boost::asio::io_context io;
    timer = timers.NewTimer(io.get_executor());
    timer->Start(std::chrono::hours(1), [&] { fired = true; });
  }
  timer->Start(milliseconds(0), [&] { fired = true; });  // nothing runs it
  timer->Cancel();
  timer.reset();
  EXPECT_FALSE(fired);
}

}  // namespace
}  // namespace roomq::gateway::engineio
