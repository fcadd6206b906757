#ifndef ROOMQ_CLIENTS_LOADGEN_WS_CODEC_H_
#define ROOMQ_CLIENTS_LOADGEN_WS_CODEC_H_

// The client half of RFC 6455 that the load generator needs: the upgrade
// request, masked client frames, and parsing of (unmasked) server frames.
// No extensions (no permessage-deflate is offered), no fragmentation on send.
//
// Thread safety: stateless functions.

#include <cstdint>
#include <string>
#include <string_view>

namespace roomq::loadgen {

inline constexpr uint8_t kOpContinuation = 0x0;
inline constexpr uint8_t kOpText = 0x1;
inline constexpr uint8_t kOpBinary = 0x2;
inline constexpr uint8_t kOpClose = 0x8;
inline constexpr uint8_t kOpPing = 0x9;
inline constexpr uint8_t kOpPong = 0xA;

// "GET <target> HTTP/1.1" upgrade request with a fixed key (the load
// generator checks the 101 status, not Sec-WebSocket-Accept).
std::string UpgradeRequest(std::string_view host_port, std::string_view target);

// Finds the end of the HTTP response head in `data`: the offset just past
// "\r\n\r\n", 0 when not complete yet. `*switched` tells whether the status
// is 101.
size_t ParseUpgradeResponse(std::string_view data, bool* switched);

// Appends one FIN client frame, masked with `mask` (RFC 6455 5.3).
void AppendClientFrame(std::string& out, uint8_t opcode, std::string_view payload, uint32_t mask);

struct ServerFrame {
  bool fin = false;
  uint8_t opcode = 0;
  std::string_view payload;  // points into the parsed buffer
};

// Parses one server frame at the front of `data`. Returns the bytes it
// spans, 0 when incomplete, -1 when malformed (masked, reserved bits, or
// larger than `max_payload`).
int64_t ParseServerFrame(std::string_view data, uint64_t max_payload, ServerFrame* frame);

}  // namespace roomq::loadgen

#endif  // ROOMQ_CLIENTS_LOADGEN_WS_CODEC_H_
