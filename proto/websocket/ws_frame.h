#ifndef ROOMQ_PROTO_WEBSOCKET_WS_FRAME_H_
#define ROOMQ_PROTO_WEBSOCKET_WS_FRAME_H_

// RFC 6455 framing, both sides, without sockets (so it can be unit tested
// and fuzzed). The gateway uses the server side: the handshake's accept
// key, server frame headers, and an incremental parser of client frames
// that enforces the protocol. The load generator and the tests use the
// client side: the upgrade request, masked client frames, and a parser of
// server frames.
//
// No extension is ever negotiated (the handshake answers no
// Sec-WebSocket-Extensions, so permessage-deflate is off and every RSV bit
// must be 0). Server frames are unmasked and never fragmented; client
// frames are sent whole.
//
// Thread safety: WsFrameParser is a plain value used by one thread; the
// functions are pure.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace roomq::websocket {

inline constexpr uint8_t kWsOpContinuation = 0x0;
inline constexpr uint8_t kWsOpText = 0x1;
inline constexpr uint8_t kWsOpBinary = 0x2;
inline constexpr uint8_t kWsOpClose = 0x8;
inline constexpr uint8_t kWsOpPing = 0x9;
inline constexpr uint8_t kWsOpPong = 0xA;

// Close codes the gateway sends.
inline constexpr uint16_t kWsCloseNormal = 1000;
inline constexpr uint16_t kWsCloseProtocolError = 1002;
inline constexpr uint16_t kWsCloseInvalidPayload = 1007;
inline constexpr uint16_t kWsCloseTooBig = 1009;

// The longest server frame header: 2 bytes + 8 length bytes.
inline constexpr size_t kWsMaxServerHeader = 10;

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 4.2.2).
std::string WsAcceptKey(std::string_view client_key);

// True when `key` is a valid Sec-WebSocket-Key: base64 of 16 bytes.
bool IsValidWsKey(std::string_view key);

// Writes the header of one unmasked FIN frame with `opcode` and a payload
// of `payload_size` bytes to `out`; returns its length (2, 4 or 10).
size_t EncodeWsHeader(uint8_t opcode, uint64_t payload_size, char out[kWsMaxServerHeader]);

// A whole server frame (header + payload), for control frames.
std::string EncodeWsFrame(uint8_t opcode, std::string_view payload);
// A close frame carrying `code` (no reason text).
std::string EncodeWsClose(uint16_t code);

// What WsFrameParser::Next found.
struct WsEvent {
  enum class Kind {
    kNone,     // nothing yet (a fragment was absorbed, or more bytes needed)
    kMessage,  // a complete data message: `data`, `binary`
    kPing,     // `data` = ping payload (answer with a pong carrying it)
    kPong,
    kClose,  // `close_code` (1005 when the frame had none)
    kError,  // protocol violation: `close_code` to send (1002 protocol, 1007
             // bad UTF-8, 1009 too big), `detail`
  };
  Kind kind = Kind::kNone;
  bool binary = false;
  std::string_view data;  // valid until the next call of Next
  uint16_t close_code = 0;
  const char* detail = "";
};

// Parses client frames. Every frame must be masked; control frames must be
// FIN and at most 125 bytes; continuation frames must follow an unfinished
// text/binary message; text messages (and close reasons) must be UTF-8;
// a message (all its fragments) may carry at most `max_message` bytes.
// After a kError or kClose event the parser must not be used again.
class WsFrameParser {
 public:
  explicit WsFrameParser(size_t max_message) : max_message_(max_message) {}

  // Looks at the front of `data` (size bytes). Returns how many bytes it
  // consumed (a whole frame, whose payload it unmasked in place) and sets
  // `event`; returns 0 with kind kNone when the frame is not complete yet,
  // or 0 with kind kError. A kMessage's data points into `data` (an
  // unfragmented message) or into the parser (fragments joined).
  size_t Next(char* data, size_t size, WsEvent* event);

  // True while a fragmented message is being collected.
  bool in_message() const { return in_message_; }

 private:
  size_t max_message_;
  bool in_message_ = false;
  bool message_binary_ = false;
  std::string message_;  // fragments joined; released once delivered
};

// ---------------------------------------------------------------------------
// The client side.

// "GET <target> HTTP/1.1" upgrade request with a fixed key (the callers
// check the 101 status, not Sec-WebSocket-Accept).
std::string UpgradeRequest(std::string_view host_port, std::string_view target);

// Finds the end of the HTTP response head in `data`: the offset just past
// "\r\n\r\n", 0 when not complete yet. `*switched` tells whether the status
// is 101.
size_t ParseUpgradeResponse(std::string_view data, bool* switched);

// Appends one FIN client frame with `opcode`, masked with `mask` (RFC 6455
// 5.3).
void AppendClientFrame(std::string& out, uint8_t opcode, std::string_view payload, uint32_t mask);
// The same with the whole first byte (FIN, RSV bits, opcode) as given: for
// tests that send what a conforming client never would.
void AppendMaskedFrame(std::string& out, uint8_t first_byte, std::string_view payload,
                       uint32_t mask);

struct ServerFrame {
  bool fin = false;
  uint8_t opcode = 0;
  std::string_view payload;  // points into the parsed buffer
};

// Parses one server frame at the front of `data`. Returns the bytes it
// spans, 0 when incomplete, -1 when malformed (masked, reserved bits, or
// larger than `max_payload`).
int64_t ParseServerFrame(std::string_view data, uint64_t max_payload, ServerFrame* frame);

}  // namespace roomq::websocket

#endif  // ROOMQ_PROTO_WEBSOCKET_WS_FRAME_H_
