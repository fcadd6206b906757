#include "proto/wire/delivery.h"

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace roomq::wire {
namespace {

using google::protobuf::io::CodedOutputStream;
using google::protobuf::internal::WireFormatLite;

// Field numbers in roomq.proto.
constexpr int kBrokerFrameDeliveryField = 1;
constexpr int kDeliveryEpochField = 1;
constexpr int kDeliveryEnvelopeField = 3;

constexpr uint8_t Tag(int field, WireFormatLite::WireType type) {
  return static_cast<uint8_t>((field << 3) | type);
}

uint8_t* WriteVarint(uint64_t value, char* out) {
  return CodedOutputStream::WriteVarint64ToArray(value, reinterpret_cast<uint8_t*>(out));
}

}  // namespace

size_t EncodeDeliveryPrefix(uint64_t epoch, size_t envelope_size, char* out) {
  // Delivery's own length: epoch field (proto3 omits a zero) + envelope field.
  size_t delivery_size = 1 + CodedOutputStream::VarintSize64(envelope_size) + envelope_size;
  if (epoch != 0) delivery_size += 1 + CodedOutputStream::VarintSize64(epoch);
  char* p = out;
  *p++ = static_cast<char>(Tag(kBrokerFrameDeliveryField, WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
  p = reinterpret_cast<char*>(WriteVarint(delivery_size, p));
  if (epoch != 0) {
    *p++ = static_cast<char>(Tag(kDeliveryEpochField, WireFormatLite::WIRETYPE_VARINT));
    p = reinterpret_cast<char*>(WriteVarint(epoch, p));
  }
  *p++ = static_cast<char>(Tag(kDeliveryEnvelopeField, WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
  p = reinterpret_cast<char*>(WriteVarint(envelope_size, p));
  return static_cast<size_t>(p - out);
}

std::string EncodeDeliveryFrame(uint64_t epoch, std::string_view envelope_bytes) {
  char prefix[kMaxDeliveryPrefixBytes];
  const size_t prefix_size = EncodeDeliveryPrefix(epoch, envelope_bytes.size(), prefix);
  std::string frame(prefix, prefix_size);
  frame.append(envelope_bytes);
  return frame;
}

}  // namespace roomq::wire
