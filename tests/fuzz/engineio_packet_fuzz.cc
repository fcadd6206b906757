// libFuzzer target for the Engine.IO codec (gateway/engineio/packet.h) and
// the request helpers that read untrusted URLs (query.h, sid.h).
//
// The first byte picks the entry point, the rest is the input. Besides
// "never crash", it checks properties:
//   - a decoded text packet re-encodes to the same bytes;
//   - a decoded polling payload re-encodes (AppendPayloadPacket) to a
//     payload that decodes to the same packets;
//   - base64 that decodes re-encodes to bytes that decode to the same value.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/engineio/packet.h"
#include "gateway/engineio/query.h"
#include "gateway/engineio/sid.h"

namespace eio = roomq::gateway::engineio;

namespace {

void TextPacket(std::string_view input) {
  auto packet = eio::DecodeTextPacket(input);
  if (!packet.ok()) return;
  if (eio::EncodeTextPacket(packet->type, packet->data) != input) std::abort();
}

void Payload(std::string_view input) {
  auto packets = eio::DecodePayload(input, 64);
  if (!packets.ok()) return;
  std::string again;
  for (const eio::Packet& p : *packets) eio::AppendPayloadPacket(&again, p.type, p.data, p.binary);
  auto decoded = eio::DecodePayload(again, 64);
  if (!decoded.ok() || decoded->size() != packets->size()) std::abort();
  for (size_t i = 0; i < packets->size(); ++i) {
    const eio::Packet& a = (*packets)[i];
    const eio::Packet& b = (*decoded)[i];
    if (a.type != b.type || a.binary != b.binary || a.data != b.data) std::abort();
  }
}

void Base64(std::string_view input) {
  auto bytes = eio::Base64Decode(input);
  if (!bytes.ok()) return;
  auto back = eio::Base64Decode(eio::Base64Encode(*bytes));
  if (!back.ok() || *back != *bytes) std::abort();
}

void Query(std::string_view input) {
  (void)eio::PercentDecode(input, true);
  (void)eio::PercentDecode(input, false);
  (void)eio::QueryParam(input, "EIO");
  (void)eio::QueryParam(input, "transport");
  if (auto sid = eio::QueryParam(input, "sid")) (void)eio::ShardOfSid(*sid);
  (void)eio::ShardOfSid(input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      TextPacket(input);
      break;
    case 1:
      Payload(input);
      break;
    case 2:
      Base64(input);
      break;
    default:
      Query(input);
      break;
  }
  return 0;
}
