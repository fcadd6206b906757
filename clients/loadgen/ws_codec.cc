#include "clients/loadgen/ws_codec.h"

#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"

namespace roomq::loadgen {

std::string UpgradeRequest(std::string_view host_port, std::string_view target) {
  return absl::StrCat("GET ", ToAbsl(target), " HTTP/1.1\r\nHost: ", ToAbsl(host_port),
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: cm9vbXEtbG9hZGdlbi0xMg==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n");
}

size_t ParseUpgradeResponse(std::string_view data, bool* switched) {
  const size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  const std::string_view status_line = data.substr(0, data.find("\r\n"));
  *switched = status_line.size() >= 12 && status_line.substr(0, 5) == "HTTP/" &&
              status_line.substr(8, 4) == " 101";
  return end + 4;
}

void AppendClientFrame(std::string& out, uint8_t opcode, std::string_view payload, uint32_t mask) {
  const size_t n = payload.size();
  out.push_back(static_cast<char>(0x80 | opcode));
  if (n < 126) {
    out.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((n >> shift) & 0xFF));
  }
  const char key[4] = {static_cast<char>(mask >> 24), static_cast<char>(mask >> 16),
                       static_cast<char>(mask >> 8), static_cast<char>(mask)};
  out.append(key, 4);
  const size_t start = out.size();
  out.append(payload.data(), n);
  for (size_t i = 0; i < n; ++i) out[start + i] = static_cast<char>(out[start + i] ^ key[i & 3]);
}

int64_t ParseServerFrame(std::string_view data, uint64_t max_payload, ServerFrame* frame) {
  if (data.size() < 2) return 0;
  const auto b0 = static_cast<uint8_t>(data[0]);
  const auto b1 = static_cast<uint8_t>(data[1]);
  if ((b0 & 0x70) != 0 || (b1 & 0x80) != 0) return -1;  // RSV bits / masked by server
  uint64_t length = b1 & 0x7F;
  size_t header = 2;
  if (length == 126) {
    if (data.size() < 4) return 0;
    length =
        (static_cast<uint64_t>(static_cast<uint8_t>(data[2])) << 8) | static_cast<uint8_t>(data[3]);
    header = 4;
  } else if (length == 127) {
    if (data.size() < 10) return 0;
    length = 0;
    for (int i = 2; i < 10; ++i) length = (length << 8) | static_cast<uint8_t>(data[i]);
    header = 10;
  }
  if (length > max_payload) return -1;
  if (data.size() < header + length) return 0;
  frame->fin = (b0 & 0x80) != 0;
  frame->opcode = b0 & 0x0F;
  frame->payload = data.substr(header, length);
  return static_cast<int64_t>(header + length);
}

}  // namespace roomq::loadgen
