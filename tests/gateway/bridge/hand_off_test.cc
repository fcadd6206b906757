// The bridge -> shard hand-off budget: a charge fits or not, and its bytes
// come back when the HandOff is destroyed, wherever it was moved to.

#include "gateway/bridge/hand_off.h"

#include <gtest/gtest.h>

#include <optional>
#include <thread>
#include <utility>

namespace roomq::gateway::bridge {
namespace {

TEST(ShardBudget, ChargesUpToTheBoundAndGetsTheBytesBackWithTheHandOff) {
  ShardBudget budget(1000);
  std::optional<HandOff> first = budget.TryCharge(600);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(budget.queued(), 600u);
  EXPECT_FALSE(budget.TryCharge(401).has_value());  // over the bound: not charged
  EXPECT_EQ(budget.queued(), 600u);
  std::optional<HandOff> second = budget.TryCharge(400);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(budget.queued(), 1000u);

  HandOff moved = std::move(*first);  // as into the closure posted to the shard
  first.reset();
  EXPECT_EQ(budget.queued(), 1000u);                  // the moved-from one gives nothing back
  std::thread shard([charge = std::move(moved)] {});  // runs and is destroyed there
  shard.join();
  EXPECT_EQ(budget.queued(), 400u);
  second.reset();
  EXPECT_EQ(budget.queued(), 0u);
}

TEST(ShardBudget, ADispatchLargerThanTheBoundNeverFits) {
  ShardBudget budget(1000);
  EXPECT_FALSE(budget.TryCharge(1001).has_value());
  EXPECT_TRUE(budget.TryCharge(1000).has_value());  // destroyed at once
  EXPECT_EQ(budget.queued(), 0u);
}

TEST(ShardBudget, AHandOffOutlivingItsBudgetStillGivesBackSafely) {
  std::optional<HandOff> charge;
  {
    ShardBudget budget(100);
    charge = budget.TryCharge(10);
  }
  charge.reset();  // the budget's state lives as long as its charges
}

}  // namespace
}  // namespace roomq::gateway::bridge
