#ifndef ROOMQ_PROTO_WIRE_DELIVERY_H_
#define ROOMQ_PROTO_WIRE_DELIVERY_H_

// The broker's delivery frame, written without re-encoding the envelope.
//
// A delivery is ONE zmq frame holding BrokerFrame{delivery: Delivery{epoch,
// envelope}}. Protobuf encodes an embedded message field as its tag, its
// length and the message's own bytes, so the frame is a short prefix
//
//   0x0a <len(Delivery)>            BrokerFrame.delivery (field 1)
//     0x08 <epoch>                  Delivery.epoch (field 1, omitted when 0)
//     0x1a <len(envelope)>          Delivery.envelope (field 3)
//
// followed by the publisher's Envelope bytes verbatim. The broker builds it
// once per envelope and every recipient shares that buffer; any protobuf
// parser reads it as an ordinary BrokerFrame.
//
// Thread safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace roomq::wire {

// The longest prefix EncodeDeliveryPrefix writes (three tags, three
// 64-bit varints).
inline constexpr size_t kMaxDeliveryPrefixBytes = 3 + 3 * 10;

// Writes the bytes that precede an envelope of `envelope_size` bytes in a
// delivery frame with `epoch` to `out` (at least kMaxDeliveryPrefixBytes
// long); returns how many were written.
size_t EncodeDeliveryPrefix(uint64_t epoch, size_t envelope_size, char* out);

// The whole delivery frame: prefix + envelope_bytes (tests, tools).
std::string EncodeDeliveryFrame(uint64_t epoch, std::string_view envelope_bytes);

}  // namespace roomq::wire

#endif  // ROOMQ_PROTO_WIRE_DELIVERY_H_
