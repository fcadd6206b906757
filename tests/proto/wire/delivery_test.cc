#include "proto/wire/delivery.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

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
  for (uint64_t epoch :
       {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{1} << 40, ~uint64_t{0}}) {
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

// With history: offsets (with and without a room name), sequence and
// replayed parse back as protobuf reads them, for every varint width, and
// the envelope is still the last bytes of the frame.
TEST(DeliveryFrameTest, OffsetsSequenceAndReplayedParseBack) {
  const std::string long_room(300, 'r');
  for (uint64_t value :
       {uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{1} << 40, ~uint64_t{0}}) {
    for (size_t args_size : {size_t{0}, size_t{200}, size_t{70000}}) {
      const std::string envelope_bytes = SampleEnvelope(args_size).SerializeAsString();
      const RoomOffset offsets[] = {
          {"/chat", "lobby", value}, {"/chat", "", 1}, {"/chat", long_room, 2}};
      DeliveryHeader header;
      header.epoch = value;
      header.offsets = offsets;
      header.sequence = value;
      header.replayed = value % 2 == 1;
      const std::string frame = EncodeDeliveryFrame(header, envelope_bytes);
      const size_t prefix_size = DeliveryPrefixSize(header, envelope_bytes.size());
      EXPECT_EQ(frame.size(), prefix_size + envelope_bytes.size());
      EXPECT_EQ(frame.substr(prefix_size), envelope_bytes);
      v1::BrokerFrame parsed;
      ASSERT_TRUE(parsed.ParseFromString(frame));
      const v1::Delivery& delivery = parsed.delivery();
      EXPECT_EQ(delivery.epoch(), value);
      EXPECT_EQ(delivery.sequence(), value);
      EXPECT_EQ(delivery.replayed(), value % 2 == 1);
      ASSERT_EQ(delivery.offsets_size(), 3);
      EXPECT_EQ(delivery.offsets(0).topic().channel(), v1::CHANNEL_ROOMS);
      EXPECT_EQ(delivery.offsets(0).topic().namespace_(), "/chat");
      EXPECT_EQ(delivery.offsets(0).topic().name(), "lobby");
      EXPECT_EQ(delivery.offsets(0).offset(), value);
      EXPECT_EQ(delivery.offsets(1).topic().name(), "");
      EXPECT_EQ(delivery.offsets(2).topic().name(), long_room);
      EXPECT_EQ(delivery.envelope().args().size(), args_size);
    }
  }
}

// The replayed form of a stored live frame: same Delivery plus replayed,
// as a BrokerFrame and as a Recovered.missed field.
TEST(DeliveryFrameTest, AReplayedFrameIsTheLiveOneMarkedReplayed) {
  const std::string envelope_bytes = SampleEnvelope(500).SerializeAsString();
  const RoomOffset offsets[] = {{"/chat", "lobby", 9}};
  DeliveryHeader header;
  header.epoch = 3;
  header.offsets = offsets;
  header.sequence = 11;
  const std::string live = EncodeDeliveryFrame(header, envelope_bytes);
  auto body = DeliveryBody(live);
  ASSERT_TRUE(body.ok()) << body.status();
  std::string replayed(ReplayedFrameSize(*body), '\0');
  EXPECT_EQ(WriteReplayedFrame(*body, replayed.data()), replayed.size());
  v1::BrokerFrame parsed;
  ASSERT_TRUE(parsed.ParseFromString(replayed));
  EXPECT_TRUE(parsed.delivery().replayed());
  EXPECT_EQ(parsed.delivery().sequence(), 11u);
  EXPECT_EQ(parsed.delivery().offsets(0).offset(), 9u);
  EXPECT_EQ(parsed.delivery().envelope().SerializeAsString(), envelope_bytes);

  std::string field(ReplayedFieldSize(*body), '\0');
  WriteReplayedField(5, *body, field.data());
  v1::Recovered recovered;
  ASSERT_TRUE(recovered.ParseFromString(field));
  ASSERT_EQ(recovered.missed_size(), 1);
  EXPECT_TRUE(recovered.missed(0).replayed());

  EXPECT_FALSE(DeliveryBody("").ok());
  EXPECT_FALSE(DeliveryBody(live.substr(0, live.size() - 1)).ok());
  EXPECT_FALSE(DeliveryBody("\x12\x00").ok());
}

}  // namespace
}  // namespace roomq::wire
