#include "broker/storage/record_format.h"

#include <gtest/gtest.h>

#include <string>

namespace roomq::broker::storage {
namespace {

TEST(RecordFormatTest, Crc32cMatchesTheCastagnoliCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(RecordFormatTest, EncodesLengthCrcTypePayloadLittleEndian) {
  std::string out;
  EncodeRecord(7, "abc", out);
  ASSERT_EQ(out.size(), kRecordHeaderBytes + 3);
  EXPECT_EQ(out.substr(0, 4), std::string("\x03\x00\x00\x00", 4));
  const uint32_t crc = RecordCrc(7, "abc");
  EXPECT_EQ(crc, Crc32c(std::string("\x07") + "abc"));
  EXPECT_EQ(static_cast<uint8_t>(out[4]), crc & 0xFF);
  EXPECT_EQ(static_cast<uint8_t>(out[7]), crc >> 24);
  EXPECT_EQ(out[8], 7);
  EXPECT_EQ(out.substr(9), "abc");
}

TEST(RecordFormatTest, DecodesWhatItEncodes) {
  std::string out;
  EncodeRecord(1, "", out);
  EncodeRecord(255, std::string(300, 'x'), out);
  uint8_t type = 0;
  std::string_view payload;
  size_t size = 0;
  ASSERT_EQ(DecodeRecord(out, &type, &payload, &size), DecodeResult::kOk);
  EXPECT_EQ(type, 1);
  EXPECT_EQ(payload, "");
  EXPECT_EQ(size, kRecordHeaderBytes);
  ASSERT_EQ(DecodeRecord(std::string_view(out).substr(size), &type, &payload, &size),
            DecodeResult::kOk);
  EXPECT_EQ(type, 255);
  EXPECT_EQ(payload, std::string(300, 'x'));
}

TEST(RecordFormatTest, ReportsShortHeaderShortPayloadAndBadCrc) {
  std::string out;
  EncodeRecord(2, "hello", out);
  uint8_t type;
  std::string_view payload;
  size_t size;
  for (size_t cut = 0; cut < kRecordHeaderBytes; ++cut) {
    EXPECT_EQ(DecodeRecord(std::string_view(out).substr(0, cut), &type, &payload, &size),
              DecodeResult::kShortHeader);
  }
  for (size_t cut = kRecordHeaderBytes; cut < out.size(); ++cut) {
    EXPECT_EQ(DecodeRecord(std::string_view(out).substr(0, cut), &type, &payload, &size),
              DecodeResult::kShortPayload);
  }
  for (size_t i = 4; i < out.size(); ++i) {  // every byte the CRC covers or is
    std::string bad = out;
    bad[i] ^= 0x01;
    EXPECT_EQ(DecodeRecord(bad, &type, &payload, &size), DecodeResult::kBadCrc) << i;
    EXPECT_EQ(size, out.size());
  }
}

}  // namespace
}  // namespace roomq::broker::storage
