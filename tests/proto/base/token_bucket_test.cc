// TokenBucket: starts full, refills continuously at its rate up to its
// size, and a rate <= 0 never refuses; time only moves with a FakeClock.

#include "proto/base/token_bucket.h"

#include <gtest/gtest.h>

#include <chrono>

#include "proto/base/clock.h"

namespace roomq::base {
namespace {

TEST(TokenBucket, AFullBucketAdmitsItsBurstThenRefuses) {
  FakeClock clock;
  TokenBucket bucket = TokenBucket::Full(3, clock.Now());
  EXPECT_TRUE(bucket.Take(clock.Now(), 10, 3));
  EXPECT_TRUE(bucket.Take(clock.Now(), 10, 3));
  EXPECT_TRUE(bucket.Take(clock.Now(), 10, 3));
  EXPECT_FALSE(bucket.Take(clock.Now(), 10, 3));
  EXPECT_FALSE(bucket.IsFull(clock.Now(), 10, 3));
  EXPECT_DOUBLE_EQ(bucket.SecondsUntilToken(clock.Now(), 10, 3), 0.1);
}

TEST(TokenBucket, RefillsAtItsRateUpToItsSize) {
  FakeClock clock;
  TokenBucket bucket = TokenBucket::Full(2, clock.Now());
  ASSERT_TRUE(bucket.Take(clock.Now(), 10, 2));
  ASSERT_TRUE(bucket.Take(clock.Now(), 10, 2));
  clock.Advance(std::chrono::milliseconds(90));  // 0.9 of a token
  EXPECT_FALSE(bucket.Take(clock.Now(), 10, 2));
  clock.Advance(std::chrono::milliseconds(20));  // 1.1
  EXPECT_TRUE(bucket.Take(clock.Now(), 10, 2));
  clock.Advance(std::chrono::hours(1));  // never more than the size
  EXPECT_DOUBLE_EQ(bucket.Available(clock.Now(), 10, 2), 2);
  EXPECT_TRUE(bucket.IsFull(clock.Now(), 10, 2));
  EXPECT_TRUE(bucket.Take(clock.Now(), 10, 2));
  EXPECT_TRUE(bucket.Take(clock.Now(), 10, 2));
  EXPECT_FALSE(bucket.Take(clock.Now(), 10, 2));
}

TEST(TokenBucket, NoRateMeansNoLimit) {
  FakeClock clock;
  TokenBucket bucket;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(bucket.Take(clock.Now(), 0, 1));
  EXPECT_TRUE(bucket.IsFull(clock.Now(), 0, 1));
  EXPECT_EQ(bucket.SecondsUntilToken(clock.Now(), 0, 1), 0);
}

}  // namespace
}  // namespace roomq::base
