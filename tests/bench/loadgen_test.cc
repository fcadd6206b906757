// Unit tests of roomq-loadgen's pieces: the latency histogram and the
// WebSocket client codec.

#include <gtest/gtest.h>

#include <string>

#include "clients/loadgen/histogram.h"
#include "clients/loadgen/ws_codec.h"

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

// Unmasks a client frame the way a server does, through the server parser
// after clearing the mask bit.
std::string Unmask(const std::string& frame, size_t header) {
  std::string out;
  const std::string key = frame.substr(header - 4, 4);
  for (size_t i = header; i < frame.size(); ++i)
    out.push_back(static_cast<char>(frame[i] ^ key[(i - header) & 3]));
  return out;
}

TEST(WsCodecTest, ClientFramesAreMaskedWithTheRightLength) {
  for (size_t n : {0u, 5u, 125u, 126u, 65535u, 65536u}) {
    const std::string payload(n, 'a');
    std::string frame;
    AppendClientFrame(frame, kOpText, payload, 0x01020304);
    const size_t header = (n < 126 ? 2 : n <= 65535 ? 4 : 10) + 4;
    ASSERT_EQ(frame.size(), header + n) << n;
    EXPECT_EQ(static_cast<uint8_t>(frame[0]), 0x81);
    EXPECT_EQ(static_cast<uint8_t>(frame[1]) & 0x80, 0x80);
    EXPECT_EQ(Unmask(frame, header), payload);
  }
}

TEST(WsCodecTest, ParsesServerFramesAndWaitsForMore) {
  std::string wire = std::string("\x81\x02", 2) + "42";
  wire += std::string("\x89\x00", 2);
  ServerFrame frame;
  ASSERT_EQ(ParseServerFrame(wire, 1 << 20, &frame), 4);
  EXPECT_TRUE(frame.fin);
  EXPECT_EQ(frame.opcode, kOpText);
  EXPECT_EQ(frame.payload, "42");
  ASSERT_EQ(ParseServerFrame(std::string_view(wire).substr(4), 1 << 20, &frame), 2);
  EXPECT_EQ(frame.opcode, kOpPing);
  EXPECT_EQ(ParseServerFrame(std::string_view(wire).substr(0, 3), 1 << 20, &frame), 0);

  std::string big = std::string("\x81\x7e\x01\x00", 4) + std::string(256, 'x');
  ASSERT_EQ(ParseServerFrame(big, 1 << 20, &frame), 260);
  EXPECT_EQ(frame.payload.size(), 256u);
  EXPECT_EQ(ParseServerFrame(big, 100, &frame), -1);  // too large
  EXPECT_EQ(ParseServerFrame(std::string("\x81\x82\0\0\0\0ab", 8), 1 << 20, &frame), -1);  // masked
}

TEST(WsCodecTest, UpgradeResponse) {
  bool switched = false;
  EXPECT_EQ(ParseUpgradeResponse("HTTP/1.1 101 Switching", &switched), 0u);
  const std::string ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
  EXPECT_EQ(ParseUpgradeResponse(ok + "\x81", &switched), ok.size());
  EXPECT_TRUE(switched);
  const std::string no = "HTTP/1.1 400 Bad Request\r\n\r\n";
  EXPECT_EQ(ParseUpgradeResponse(no, &switched), no.size());
  EXPECT_FALSE(switched);
  const std::string req = UpgradeRequest("127.0.0.1:80", "/socket.io/?EIO=4&transport=websocket");
  EXPECT_EQ(req.rfind("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(req.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
}

}  // namespace
}  // namespace roomq::loadgen
