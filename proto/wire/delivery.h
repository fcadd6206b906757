#ifndef ROOMQ_PROTO_WIRE_DELIVERY_H_
#define ROOMQ_PROTO_WIRE_DELIVERY_H_

// The broker's delivery frame, written without re-encoding the envelope.
//
// A delivery is ONE zmq frame holding BrokerFrame{delivery: Delivery{...}}.
// Protobuf encodes an embedded message field as its tag, its length and the
// message's own bytes, so the frame is a short prefix
//
//   0x0a <len(Delivery)>            BrokerFrame.delivery (field 1)
//     0x08 <epoch>                  Delivery.epoch (field 1, omitted when 0)
//     0x12 <len> TopicOffset ...    Delivery.offsets (field 2), one per kept topic:
//       0x0a <len> Topic            { 0x08 0x01 (ROOMS), 0x12 <len> ns, 0x1a <len> room (omitted
//       when "") } 0x10 <offset>
//     0x20 <sequence>               Delivery.sequence (field 4, omitted when 0)
//     0x28 0x01                     Delivery.replayed (field 5, only when true)
//     0x1a <len(envelope)>          Delivery.envelope (field 3), LAST
//
// followed by the publisher's Envelope bytes verbatim (fields out of number
// order are valid protobuf; any parser reads the frame as an ordinary
// BrokerFrame). The broker builds it once per envelope and every recipient
// shares that buffer. A replay of a stored live frame (ReplayedFrame) keeps
// its Delivery bytes and appends `0x28 0x01` after the envelope, so history
// needs to keep only the live frame.
//
// Thread safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace roomq::wire {

// The most delivery frames the broker puts in one message to a subscriber
// (proto/README.md: a message may carry several frames). ZeroMQ's
// high-water marks count messages, so both ends divide a bound meant in
// deliveries by it. Kept small on purpose: with light traffic a message
// holds one delivery, and the queue then holds only bound / this many
// deliveries; 8 already spares the per-message cost (identity lookup,
// pipe flush, I/O-thread wake-up) for 7 deliveries in 8.
inline constexpr int kMaxDeliveriesPerMessage = 8;

// The longest prefix EncodeDeliveryPrefix writes (three tags, three
// 64-bit varints).
inline constexpr size_t kMaxDeliveryPrefixBytes = 3 + 3 * 10;

// One Delivery.offsets entry: the CHANNEL_ROOMS topic (ns, room) and the
// envelope's offset in it.
struct RoomOffset {
  std::string_view ns;
  std::string_view room;
  uint64_t offset = 0;
};

// Everything of a Delivery but its envelope.
struct DeliveryHeader {
  uint64_t epoch = 0;
  std::span<const RoomOffset> offsets;
  uint64_t sequence = 0;
  bool replayed = false;
};

// Bytes of the prefix for `header` and an envelope of `envelope_size`.
size_t DeliveryPrefixSize(const DeliveryHeader& header, size_t envelope_size);
// Writes that prefix to `out` (at least DeliveryPrefixSize bytes); returns
// how many bytes were written.
size_t WriteDeliveryPrefix(const DeliveryHeader& header, size_t envelope_size, char* out);

// The prefix of a delivery with only an epoch (no history): writes at most
// kMaxDeliveryPrefixBytes to `out`; returns how many were written.
size_t EncodeDeliveryPrefix(uint64_t epoch, size_t envelope_size, char* out);

// Whole delivery frames: prefix + envelope_bytes (tests, tools, replay).
std::string EncodeDeliveryFrame(const DeliveryHeader& header, std::string_view envelope_bytes);
std::string EncodeDeliveryFrame(uint64_t epoch, std::string_view envelope_bytes);

// The Delivery message bytes inside a delivery frame (what follows the
// BrokerFrame tag and length). InvalidArgument when `frame` does not start
// with a BrokerFrame.delivery field spanning exactly the whole frame.
absl::StatusOr<std::string_view> DeliveryBody(std::string_view frame);

// Bytes of the replayed form of a delivery whose Delivery bytes are
// `body` (DeliveryBody of a live frame), and the writer: the same Delivery
// with replayed = true.
size_t ReplayedFrameSize(std::string_view body);
size_t WriteReplayedFrame(std::string_view body, char* out);
// The same as a Delivery field of another message: `field` tag, length,
// body, replayed = true (Recovered.missed entries).
size_t ReplayedFieldSize(std::string_view body);
size_t WriteReplayedField(int field, std::string_view body, char* out);

}  // namespace roomq::wire

#endif  // ROOMQ_PROTO_WIRE_DELIVERY_H_
