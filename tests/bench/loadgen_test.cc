// Unit tests of roomq-loadgen's pieces: the latency histogram (its
// WebSocket codec is proto/websocket, tested in tests/proto/websocket).

#include <gtest/gtest.h>

#include <string>

#include "clients/loadgen/histogram.h"

namespace roomq::loadgen {
namespace {

TEST(HistogramTest, BucketsAreContiguousAndBoundsContainTheirValues) {
  int previous = -1;
  for (uint64_t v = 0; v < 100000; ++v) {
    const int bucket = Histogram::BucketOf(v);
    ASSERT_GE(bucket, previous) << v;
    ASSERT_LE(bucket, previous + 1) << v;
    ASSERT_GE(Histogram::BucketUpperBound(bucket), v) << v;
    previous = bucket;
  }
  EXPECT_LT(Histogram::BucketOf(~uint64_t{0}), 64 * 64);
}

TEST(HistogramTest, QuantilesWithinThreePercent) {
  Histogram h;
  for (uint64_t v = 1; v <= 100000; ++v) h.Record(v * 1000);
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.max(), 100000000u);
  auto near = [](uint64_t got, double want) { return got >= want && got <= want * 1.035; };
  EXPECT_TRUE(near(h.Quantile(0.5), 50000000.0)) << h.Quantile(0.5);
  EXPECT_TRUE(near(h.Quantile(0.99), 99000000.0)) << h.Quantile(0.99);
  EXPECT_TRUE(near(h.Quantile(0.999), 99900000.0)) << h.Quantile(0.999);
  EXPECT_EQ(h.Quantile(1.0), 100000000u);
  EXPECT_EQ(Histogram().Quantile(0.99), 0u);
}

TEST(HistogramTest, MergeAddsCounts) {
  Histogram a, b;
  a.Record(10);
  b.Record(1000);
  b.Record(1000);
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.max(), 1000u);
  EXPECT_EQ(a.Quantile(0.33), 10u);    // rank 1
  EXPECT_EQ(a.Quantile(0.34), 1000u);  // rank 2, capped by the max
}

}  // namespace
}  // namespace roomq::loadgen
