#include "gateway/engineio/packet.h"

#include <gtest/gtest.h>

#include <string>

namespace roomq::gateway::engineio {
namespace {

TEST(DecodeTextPacket, EveryPacketType) {
  const struct {
    const char* frame;
    PacketType type;
    const char* data;
  } cases[] = {
      {"0{\"sid\":\"x\"}", PacketType::kOpen, "{\"sid\":\"x\"}"},
      {"1", PacketType::kClose, ""},
      {"2", PacketType::kPing, ""},
      {"2probe", PacketType::kPing, "probe"},
      {"3", PacketType::kPong, ""},
      {"3probe", PacketType::kPong, "probe"},
      {"4hello", PacketType::kMessage, "hello"},
      {"4", PacketType::kMessage, ""},
      {"5", PacketType::kUpgrade, ""},
      {"6", PacketType::kNoop, ""},
  };
  for (const auto& c : cases) {
    auto packet = DecodeTextPacket(c.frame);
    ASSERT_TRUE(packet.ok()) << c.frame;
    EXPECT_EQ(packet->type, c.type) << c.frame;
    EXPECT_EQ(packet->data, c.data) << c.frame;
  }
}

TEST(DecodeTextPacket, RejectsMalformed) {
  for (const char* bad : {"", "7", "9x", "a", "abc", "b", "-1", "\x1e"}) {
    auto packet = DecodeTextPacket(bad);
    EXPECT_FALSE(packet.ok()) << bad;
    EXPECT_EQ(packet.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(EncodeTextPacket, PrefixesTheType) {
  EXPECT_EQ(EncodeTextPacket(PacketType::kMessage, "hi"), "4hi");
  EXPECT_EQ(EncodeTextPacket(PacketType::kPing), "2");
  EXPECT_EQ(EncodeTextPacket(PacketType::kPong, "probe"), "3probe");
  EXPECT_EQ(EncodeTextPacket(PacketType::kNoop), "6");
  EXPECT_EQ(EncodeTextPacket(PacketType::kClose), "1");
  EXPECT_EQ(EncodeTextPacket(PacketType::kUpgrade), "5");
  EXPECT_EQ(EncodeTextPacket(PacketType::kOpen, "{}"), "0{}");
}

TEST(DecodePayload, SplitsOnRecordSeparator) {
  auto packets = DecodePayload(
      "4hello\x1e"
      "2\x1e"
      "4world\x1e"
      "1");
  ASSERT_TRUE(packets.ok());
  ASSERT_EQ(packets->size(), 4u);
  EXPECT_EQ((*packets)[0].type, PacketType::kMessage);
  EXPECT_EQ((*packets)[0].data, "hello");
  EXPECT_FALSE((*packets)[0].binary);
  EXPECT_EQ((*packets)[1].type, PacketType::kPing);
  EXPECT_EQ((*packets)[2].data, "world");
  EXPECT_EQ((*packets)[3].type, PacketType::kClose);
}

TEST(DecodePayload, SinglePacketWithoutSeparator) {
  auto packets = DecodePayload("40");
  ASSERT_TRUE(packets.ok());
  ASSERT_EQ(packets->size(), 1u);
  EXPECT_EQ((*packets)[0].type, PacketType::kMessage);
  EXPECT_EQ((*packets)[0].data, "0");
}

TEST(DecodePayload, Base64BinaryMessages) {
  auto packets = DecodePayload(
      "4hello\x1e"
      "bAQIDBA==");
  ASSERT_TRUE(packets.ok());
  ASSERT_EQ(packets->size(), 2u);
  EXPECT_TRUE((*packets)[1].binary);
  EXPECT_EQ((*packets)[1].type, PacketType::kMessage);
  EXPECT_EQ((*packets)[1].data, std::string("\x01\x02\x03\x04", 4));
  auto empty_binary = DecodePayload("b");
  ASSERT_TRUE(empty_binary.ok());
  EXPECT_TRUE((*empty_binary)[0].binary);
  EXPECT_EQ((*empty_binary)[0].data, "");
}

TEST(DecodePayload, RejectsMalformed) {
  for (const std::string& bad :
       {std::string(""), std::string("\x1e"), std::string("4a\x1e"),
        std::string("\x1e"
                    "4a"),
        std::string("4a\x1e\x1e"
                    "4b"),
        std::string("4a\x1e"
                    "x"),
        std::string("b!!!!"), std::string("bAQI=D"), std::string("bA"), std::string("8")}) {
    auto packets = DecodePayload(bad);
    EXPECT_FALSE(packets.ok()) << bad;
  }
}

TEST(DecodePayload, BoundsThePacketCount) {
  std::string body = "2";
  for (int i = 0; i < 10; ++i)
    body +=
        "\x1e"
        "2";
  EXPECT_TRUE(DecodePayload(body, 11).ok());
  EXPECT_FALSE(DecodePayload(body, 10).ok());
}

TEST(AppendPayloadPacket, JoinsWithSeparatorAndBase64) {
  std::string payload;
  AppendPayloadPacket(&payload, PacketType::kMessage, "hello");
  AppendPayloadPacket(&payload, PacketType::kMessage, std::string("\x01\x02\x03\x04", 4), true);
  AppendPayloadPacket(&payload, PacketType::kPing, "");
  EXPECT_EQ(payload,
            "4hello\x1e"
            "bAQIDBA==\x1e"
            "2");
  auto round_trip = DecodePayload(payload);
  ASSERT_TRUE(round_trip.ok());
  ASSERT_EQ(round_trip->size(), 3u);
  EXPECT_EQ((*round_trip)[1].data, std::string("\x01\x02\x03\x04", 4));
}

TEST(Base64, RoundTripsAllLengthsAndBytes) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes.push_back(static_cast<char>(i * 37 + 11));
    std::string encoded = Base64Encode(bytes);
    EXPECT_EQ(encoded.size() % 4, 0u);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(Base64, KnownVectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Decode("Zm9vYg").value(), "foob");  // unpadded accepted
  EXPECT_FALSE(Base64Decode("Zm9vY").ok());           // impossible length
  EXPECT_FALSE(Base64Decode("Zg=").ok());             // bad padding
  EXPECT_FALSE(Base64Decode("Z-9v").ok());            // url alphabet is not base64
}

}  // namespace
}  // namespace roomq::gateway::engineio
