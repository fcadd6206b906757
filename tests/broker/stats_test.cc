#include "broker/stats.h"

#include <gtest/gtest.h>

namespace roomq::broker {
namespace {

TEST(BrokerStats, PrintsMalformedByReason) {
  BrokerStats stats;
  stats.routed = 10;
  stats.delivered = 40;
  stats.malformed_count(Malformed::kVersion) = 2;
  stats.malformed_count(Malformed::kEnvelopeFrames) = 1;
  stats.peers = 4;
  EXPECT_EQ(stats.malformed_total(), 3u);
  const std::string line = stats.ToString();
  EXPECT_NE(line.find("routed=10 "), std::string::npos) << line;
  EXPECT_NE(line.find("delivered=40 "), std::string::npos) << line;
  EXPECT_NE(line.find("malformed=3 (envelope_frames=1 version=2) peers=4"), std::string::npos)
      << line;
}

TEST(BrokerStats, NamesEveryReason) {
  for (int i = 0; i < static_cast<int>(Malformed::kCount); ++i) {
    EXPECT_NE(MalformedName(static_cast<Malformed>(i)), "unknown") << i;
  }
}

}  // namespace
}  // namespace roomq::broker
