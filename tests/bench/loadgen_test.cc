// Unit tests of roomq-loadgen's pieces: the latency histogram, the message
// format and the delivery tally (its WebSocket codec is proto/websocket,
// tested in tests/proto/websocket).

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "clients/loadgen/delivery_tally.h"
#include "clients/loadgen/histogram.h"
#include "clients/loadgen/load_options.h"
#include "clients/loadgen/message.h"

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

TEST(MessageTest, PublishArgsCarryWhatAReceiverParses) {
  std::string args;
  AppendPublishArgs(args, 7, 2, 41, 123456789, PadArgument(3));
  EXPECT_EQ(args, R"(["publish","r7","m",2,41,123456789,"xxx"])");
  EXPECT_EQ(PadArgument(0), "");

  // What the server delivers: the arguments after the room.
  const std::optional<Message> message = ParseMessageArgs(R"(["m",2,41,123456789,"xxx"])");
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->publisher, 2u);
  EXPECT_EQ(message->seq, 41u);
  EXPECT_EQ(message->sent_ns, 123456789u);
  EXPECT_TRUE(ParseMessageArgs(R"(["m",2,41,5])").has_value());

  for (const char* other : {R"(["n",1,2,3])", R"(["m",1,2])", R"(["m","x",2,3])", "", "[]"}) {
    EXPECT_FALSE(ParseMessageArgs(other).has_value()) << other;
  }
}

TEST(DeliveryTallyTest, CountsDeliveriesGapsAndDuplicatesPerReceiverAndPublisher) {
  DeliveryTally tally(/*receivers=*/2, /*publishers=*/2);
  tally.Record(0, Message{0, 1, 1000}, 3000);
  tally.Record(0, Message{0, 4, 1000}, 3000);  // 2 and 3 skipped
  tally.Record(0, Message{0, 4, 1000}, 3000);  // again
  tally.Record(0, Message{0, 2, 1000}, 3000);  // late: below the last seen
  tally.Record(0, Message{1, 1, 1000}, 3000);  // another publisher: its own numbers
  tally.Record(1, Message{0, 1, 1000}, 3000);  // another receiver: its own numbers
  tally.Record(1, Message{2, 1, 1000}, 3000);  // no such publisher: ignored
  tally.Record(2, Message{0, 1, 1000}, 3000);  // no such receiver: ignored
  EXPECT_EQ(tally.delivered(), 4u);

  Report report;
  tally.AddTo(report);
  EXPECT_EQ(report.delivered, 4u);
  EXPECT_EQ(report.gaps, 2u);
  EXPECT_EQ(report.duplicates, 2u);
  EXPECT_EQ(report.max_us, 2.0);  // 2000 ns after it was sent
}

TEST(DeliveryTallyTest, ASendTimeAfterArrivalCountsAsNoLatency) {
  DeliveryTally tally(1, 1);
  tally.Record(0, Message{0, 1, 5000}, 1000);
  Report report;
  tally.AddTo(report);
  EXPECT_EQ(report.delivered, 1u);
  EXPECT_EQ(report.max_us, 0.0);
}

}  // namespace
}  // namespace roomq::loadgen
