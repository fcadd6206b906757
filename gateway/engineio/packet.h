#ifndef ROOMQ_GATEWAY_ENGINEIO_PACKET_H_
#define ROOMQ_GATEWAY_ENGINEIO_PACKET_H_

// Engine.IO v4 packet and polling-payload codec. Pure functions, no I/O, so
// it can be unit-tested and fuzzed directly.
//
// A text packet is "<type digit><data>" (e.g. "4hello", "2", "3probe").
// Over WebSocket, a binary frame is a message packet carrying raw bytes with
// no type prefix. A polling payload joins packets with the record separator
// '\x1e'; a binary message inside a payload is "b<base64>".
//
// Thread safety: stateless; every function may be called from any thread.
// Untrusted input never throws: malformed data yields InvalidArgument.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace roomq::gateway::engineio {

enum class PacketType : char {
  kOpen = '0',
  kClose = '1',
  kPing = '2',
  kPong = '3',
  kMessage = '4',
  kUpgrade = '5',
  kNoop = '6',
};

inline constexpr char kRecordSeparator = '\x1e';

// A decoded packet that views into the decoder's input.
struct PacketView {
  PacketType type = PacketType::kNoop;
  std::string_view data;
};

// A decoded packet that owns its data (payload records, where binary data
// had to be base64-decoded).
struct Packet {
  PacketType type = PacketType::kNoop;
  bool binary = false;  // only for kMessage
  std::string data;
};

// Decodes one text packet ("4hello"). InvalidArgument when empty or the type
// digit is not 0..6.
absl::StatusOr<PacketView> DecodeTextPacket(std::string_view frame);

// "<type><data>".
std::string EncodeTextPacket(PacketType type, std::string_view data = {});

// Decodes a polling request body. InvalidArgument on an empty body, an empty
// record, a bad type digit or bad base64. At most `max_packets` records are
// accepted (more => InvalidArgument), which bounds work per request.
absl::StatusOr<std::vector<Packet>> DecodePayload(std::string_view body,
                                                  size_t max_packets = 10000);

// Appends one packet to a payload under construction, adding the separator
// when `out` is not empty. Binary messages are written as "b<base64>".
void AppendPayloadPacket(std::string* out, PacketType type, std::string_view data,
                         bool binary = false);

// Standard base64 (RFC 4648 with padding), as engine.io-parser uses it.
std::string Base64Encode(std::string_view bytes);
// Accepts padded or unpadded standard base64; InvalidArgument otherwise.
absl::StatusOr<std::string> Base64Decode(std::string_view text);

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_PACKET_H_
