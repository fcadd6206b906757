#include "gateway/engineio/packet.h"

#include <array>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace roomq::gateway::engineio {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeReverse() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}
constexpr std::array<int8_t, 256> kReverse = MakeReverse();

bool IsPacketType(char c) { return c >= '0' && c <= '6'; }

}  // namespace

absl::StatusOr<PacketView> DecodeTextPacket(std::string_view frame) {
  if (frame.empty()) return absl::InvalidArgumentError("empty packet");
  if (!IsPacketType(frame[0])) return absl::InvalidArgumentError("unknown packet type");
  return PacketView{static_cast<PacketType>(frame[0]), frame.substr(1)};
}

std::string EncodeTextPacket(PacketType type, std::string_view data) {
  std::string out;
  out.reserve(1 + data.size());
  out.push_back(static_cast<char>(type));
  out.append(data);
  return out;
}

absl::StatusOr<std::vector<Packet>> DecodePayload(std::string_view body, size_t max_packets) {
  if (body.empty()) return absl::InvalidArgumentError("empty payload");
  std::vector<Packet> packets;
  size_t start = 0;
  while (true) {
    size_t end = body.find(kRecordSeparator, start);
    std::string_view record =
        body.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (packets.size() >= max_packets)
      return absl::InvalidArgumentError("too many packets in payload");
    if (record.empty()) return absl::InvalidArgumentError("empty packet in payload");
    Packet packet;
    if (record[0] == 'b') {
      auto bytes = Base64Decode(record.substr(1));
      if (!bytes.ok()) return bytes.status();
      packet.type = PacketType::kMessage;
      packet.binary = true;
      packet.data = *std::move(bytes);
    } else {
      auto view = DecodeTextPacket(record);
      if (!view.ok()) return view.status();
      packet.type = view->type;
      packet.data.assign(view->data);
    }
    packets.push_back(std::move(packet));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return packets;
}

void AppendPayloadPacket(std::string* out, PacketType type, std::string_view data, bool binary) {
  if (!out->empty()) out->push_back(kRecordSeparator);
  if (binary && type == PacketType::kMessage) {
    out->push_back('b');
    out->append(Base64Encode(data));
  } else {
    out->push_back(static_cast<char>(type));
    out->append(data);
  }
}

std::string Base64Encode(std::string_view bytes) {
  return absl::Base64Escape(absl::string_view(bytes.data(), bytes.size()));
}

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  size_t len = text.size();
  size_t padding = 0;
  while (len > 0 && text[len - 1] == '=' && padding < 2) {
    --len;
    ++padding;
  }
  if (padding > 0 && text.size() % 4 != 0) return absl::InvalidArgumentError("bad base64 padding");
  if (len % 4 == 1) return absl::InvalidArgumentError("bad base64 length");
  std::string out;
  out.reserve(len / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; ++i) {
    int8_t v = kReverse[static_cast<unsigned char>(text[i])];
    if (v < 0) return absl::InvalidArgumentError("bad base64 character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace roomq::gateway::engineio
