#include "proto/wire/delivery.h"

#include <cstring>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace roomq::wire {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedOutputStream;

// Field numbers in roomq.proto.
constexpr int kBrokerFrameDeliveryField = 1;
constexpr int kDeliveryEpochField = 1;
constexpr int kDeliveryOffsetsField = 2;
constexpr int kDeliveryEnvelopeField = 3;
constexpr int kDeliverySequenceField = 4;
constexpr int kDeliveryReplayedField = 5;
constexpr int kTopicOffsetTopicField = 1;
constexpr int kTopicOffsetOffsetField = 2;
constexpr int kTopicChannelField = 1;
constexpr int kTopicNamespaceField = 2;
constexpr int kTopicNameField = 3;

constexpr char Tag(int field, WireFormatLite::WireType type) {
  return static_cast<char>((field << 3) | type);
}
constexpr char LengthTag(int field) {
  return Tag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
}
constexpr char VarintTag(int field) { return Tag(field, WireFormatLite::WIRETYPE_VARINT); }

size_t VarintSize(uint64_t value) { return CodedOutputStream::VarintSize64(value); }

char* WriteVarint(uint64_t value, char* out) {
  return reinterpret_cast<char*>(
      CodedOutputStream::WriteVarint64ToArray(value, reinterpret_cast<uint8_t*>(out)));
}

// Length-delimited field of `size` payload bytes: tag + varint + payload.
size_t FieldSize(size_t size) { return 1 + VarintSize(size) + size; }

size_t TopicSize(const RoomOffset& entry) {
  size_t size = 2;  // channel = CHANNEL_ROOMS
  if (!entry.ns.empty()) size += FieldSize(entry.ns.size());
  if (!entry.room.empty()) size += FieldSize(entry.room.size());
  return size;
}

size_t TopicOffsetSize(const RoomOffset& entry) {
  size_t size = FieldSize(TopicSize(entry));
  if (entry.offset != 0) size += 1 + VarintSize(entry.offset);
  return size;
}

// The Delivery's bytes before the envelope field's payload.
size_t DeliveryHeadSize(const DeliveryHeader& header, size_t envelope_size) {
  size_t size = FieldSize(envelope_size) - envelope_size;
  if (header.epoch != 0) size += 1 + VarintSize(header.epoch);
  for (const RoomOffset& entry : header.offsets) size += FieldSize(TopicOffsetSize(entry));
  if (header.sequence != 0) size += 1 + VarintSize(header.sequence);
  if (header.replayed) size += 2;
  return size;
}

char* WriteBytesField(int field, std::string_view bytes, char* p) {
  *p++ = LengthTag(field);
  p = WriteVarint(bytes.size(), p);
  std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

}  // namespace

size_t DeliveryPrefixSize(const DeliveryHeader& header, size_t envelope_size) {
  const size_t delivery_size = DeliveryHeadSize(header, envelope_size) + envelope_size;
  return 1 + VarintSize(delivery_size) + delivery_size - envelope_size;
}

size_t WriteDeliveryPrefix(const DeliveryHeader& header, size_t envelope_size, char* out) {
  const size_t delivery_size = DeliveryHeadSize(header, envelope_size) + envelope_size;
  char* p = out;
  *p++ = LengthTag(kBrokerFrameDeliveryField);
  p = WriteVarint(delivery_size, p);
  if (header.epoch != 0) {
    *p++ = VarintTag(kDeliveryEpochField);
    p = WriteVarint(header.epoch, p);
  }
  for (const RoomOffset& entry : header.offsets) {
    *p++ = LengthTag(kDeliveryOffsetsField);
    p = WriteVarint(TopicOffsetSize(entry), p);
    *p++ = LengthTag(kTopicOffsetTopicField);
    p = WriteVarint(TopicSize(entry), p);
    *p++ = VarintTag(kTopicChannelField);
    *p++ = 1;  // CHANNEL_ROOMS
    if (!entry.ns.empty()) p = WriteBytesField(kTopicNamespaceField, entry.ns, p);
    if (!entry.room.empty()) p = WriteBytesField(kTopicNameField, entry.room, p);
    if (entry.offset != 0) {
      *p++ = VarintTag(kTopicOffsetOffsetField);
      p = WriteVarint(entry.offset, p);
    }
  }
  if (header.sequence != 0) {
    *p++ = VarintTag(kDeliverySequenceField);
    p = WriteVarint(header.sequence, p);
  }
  if (header.replayed) {
    *p++ = VarintTag(kDeliveryReplayedField);
    *p++ = 1;
  }
  *p++ = LengthTag(kDeliveryEnvelopeField);
  p = WriteVarint(envelope_size, p);
  return static_cast<size_t>(p - out);
}

size_t EncodeDeliveryPrefix(uint64_t epoch, size_t envelope_size, char* out) {
  DeliveryHeader header;
  header.epoch = epoch;
  return WriteDeliveryPrefix(header, envelope_size, out);
}

std::string EncodeDeliveryFrame(const DeliveryHeader& header, std::string_view envelope_bytes) {
  std::string frame(DeliveryPrefixSize(header, envelope_bytes.size()), '\0');
  WriteDeliveryPrefix(header, envelope_bytes.size(), frame.data());
  frame.append(envelope_bytes);
  return frame;
}

std::string EncodeDeliveryFrame(uint64_t epoch, std::string_view envelope_bytes) {
  DeliveryHeader header;
  header.epoch = epoch;
  return EncodeDeliveryFrame(header, envelope_bytes);
}

absl::StatusOr<std::string_view> DeliveryBody(std::string_view frame) {
  if (frame.empty() || frame[0] != LengthTag(kBrokerFrameDeliveryField)) {
    return absl::InvalidArgumentError("not a delivery frame");
  }
  uint64_t size = 0;
  int shift = 0;
  size_t i = 1;
  for (;; ++i) {
    if (i >= frame.size() || shift > 63) return absl::InvalidArgumentError("bad delivery length");
    const auto byte = static_cast<uint8_t>(frame[i]);
    size |= static_cast<uint64_t>(byte & 0x7f) << shift;
    shift += 7;
    if ((byte & 0x80) == 0) break;
  }
  ++i;
  if (size != frame.size() - i) return absl::InvalidArgumentError("delivery length mismatch");
  return frame.substr(i);
}

size_t ReplayedFrameSize(std::string_view body) { return FieldSize(body.size() + 2); }

size_t WriteReplayedFrame(std::string_view body, char* out) {
  return WriteReplayedField(kBrokerFrameDeliveryField, body, out);
}

size_t ReplayedFieldSize(std::string_view body) { return FieldSize(body.size() + 2); }

size_t WriteReplayedField(int field, std::string_view body, char* out) {
  char* p = out;
  *p++ = LengthTag(field);
  p = WriteVarint(body.size() + 2, p);
  std::memcpy(p, body.data(), body.size());
  p += body.size();
  *p++ = VarintTag(kDeliveryReplayedField);
  *p++ = 1;
  return static_cast<size_t>(p - out);
}

}  // namespace roomq::wire
