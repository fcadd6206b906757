#include "proto/wire/delivery.h"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "proto/roomq.pb.h"

namespace roomq::wire {
namespace {

v1::Envelope SampleEnvelope(size_t args_size) {
  v1::Envelope envelope;
  envelope.set_version(v1::VERSION_1);
  envelope.set_kind(v1::KIND_EVENT);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_("/chat");
  envelope.add_rooms("lobby");
  envelope.set_event("message");
  envelope.set_args(std::string(args_size, 'x'));
  return envelope;
}

// The hand-written frame must be exactly what protobuf writes for the same
// message: then every receiver's ordinary parser reads it.
TEST(DeliveryFrameTest, EqualsProtobufsOwnEncodingForEveryVarintWidth) {
  for (uint64_t epoch : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{1} << 40,
                         ~uint64_t{0}}) {
    for (size_t args_size : {size_t{0}, size_t{50}, size_t{200}, size_t{20000}, size_t{3} << 20}) {
      const v1::Envelope envelope = SampleEnvelope(args_size);
      const std::string envelope_bytes = envelope.SerializeAsString();
      v1::BrokerFrame expected;
      expected.mutable_delivery()->set_epoch(epoch);
      *expected.mutable_delivery()->mutable_envelope() = envelope;
      const std::string frame = EncodeDeliveryFrame(epoch, envelope_bytes);
      EXPECT_EQ(frame, expected.SerializeAsString()) << "epoch " << epoch << " args " << args_size;

      char prefix[kMaxDeliveryPrefixBytes];
      const size_t prefix_size = EncodeDeliveryPrefix(epoch, envelope_bytes.size(), prefix);
      EXPECT_LE(prefix_size, kMaxDeliveryPrefixBytes);
      EXPECT_EQ(frame.size(), prefix_size + envelope_bytes.size());
      // The envelope is appended verbatim, last.
      EXPECT_EQ(frame.substr(prefix_size), envelope_bytes);

      v1::BrokerFrame parsed;
      ASSERT_TRUE(parsed.ParseFromString(frame));
      ASSERT_TRUE(parsed.has_delivery());
      EXPECT_EQ(parsed.delivery().epoch(), epoch);
      EXPECT_EQ(parsed.delivery().envelope().args().size(), args_size);
    }
  }
}

// Bytes the broker does not understand (say, a field added by a newer
// publisher) travel untouched and a receiver still parses the frame.
TEST(DeliveryFrameTest, CarriesUnknownEnvelopeFieldsVerbatim) {
  std::string envelope_bytes = SampleEnvelope(10).SerializeAsString();
  envelope_bytes += std::string("\xf8\x07\x2a", 3);  // field 127, varint 42
  const std::string frame = EncodeDeliveryFrame(7, envelope_bytes);
  v1::BrokerFrame parsed;
  ASSERT_TRUE(parsed.ParseFromString(frame));
  EXPECT_EQ(parsed.delivery().envelope().event(), "message");
  EXPECT_EQ(parsed.delivery().envelope().SerializeAsString(), envelope_bytes);
}

}  // namespace
}  // namespace roomq::wire
