#include "tests/support/wait_until.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace roomq::test_support {
namespace {

using std::chrono::milliseconds;

TEST(WaitUntil, TrueAtOnceCallsTheConditionOnce) {
  int calls = 0;
  EXPECT_TRUE(WaitUntil([&] { return ++calls > 0; }));
  EXPECT_EQ(calls, 1);
}

TEST(WaitUntil, FalseAfterTheTimeoutWhenNothingChanges) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(WaitUntil([] { return false; }, milliseconds(30), milliseconds(1)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(30));
}

TEST(WaitUntil, SeesWhatAnotherThreadMakesTrue) {
  std::atomic<bool> flag{false};
  std::thread setter([&] { flag = true; });
  EXPECT_TRUE(WaitUntil([&] { return flag.load(); }));
  setter.join();
}

}  // namespace
}  // namespace roomq::test_support
