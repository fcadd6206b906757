#include "proto/websocket/ws_frame.h"

#include <openssl/sha.h>
#include <simdjson.h>

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"

namespace roomq::websocket {
namespace {

constexpr std::string_view kWsGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Close codes a peer may send (RFC 6455 7.4.1 and 7.4.2).
bool IsValidCloseCode(uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011);
}

WsEvent Error(uint16_t close_code, const char* detail) {
  WsEvent event;
  event.kind = WsEvent::Kind::kError;
  event.close_code = close_code;
  event.detail = detail;
  return event;
}

}  // namespace

std::string WsAcceptKey(std::string_view client_key) {
  std::string input(client_key);
  input.append(kWsGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(digest), SHA_DIGEST_LENGTH));
}

bool IsValidWsKey(std::string_view key) {
  // 16 bytes -> 22 base64 characters and "==".
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i) {
    if (!IsBase64Char(key[i])) return false;
  }
  return true;
}

size_t EncodeWsHeader(uint8_t opcode, uint64_t payload_size, char out[kWsMaxServerHeader]) {
  out[0] = static_cast<char>(0x80 | opcode);
  if (payload_size < 126) {
    out[1] = static_cast<char>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<char>(payload_size >> 8);
    out[3] = static_cast<char>(payload_size & 0xFF);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) {
    out[2 + i] = static_cast<char>((payload_size >> (8 * (7 - i))) & 0xFF);
  }
  return 10;
}

std::string EncodeWsFrame(uint8_t opcode, std::string_view payload) {
  char header[kWsMaxServerHeader];
  size_t n = EncodeWsHeader(opcode, payload.size(), header);
  std::string frame(header, n);
  frame.append(payload);
  return frame;
}

std::string EncodeWsClose(uint16_t code) {
  const char payload[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  return EncodeWsFrame(kWsOpClose, std::string_view(payload, 2));
}

size_t WsFrameParser::Next(char* data, size_t size, WsEvent* event) {
  *event = WsEvent();
  // A joined message was delivered by the previous call: release it, so an
  // idle connection holds no message memory.
  if (!in_message_ && message_.capacity() > 0) std::string().swap(message_);
  if (size < 2) return 0;
  const auto* bytes = reinterpret_cast<const uint8_t*>(data);
  const bool fin = (bytes[0] & 0x80) != 0;
  const uint8_t rsv = bytes[0] & 0x70;
  const uint8_t opcode = bytes[0] & 0x0F;
  const bool masked = (bytes[1] & 0x80) != 0;
  uint64_t length = bytes[1] & 0x7F;
  const bool control = (opcode & 0x8) != 0;

  if (rsv != 0) {
    *event = Error(kWsCloseProtocolError, "reserved bits set");
    return 0;
  }
  if (!masked) {
    *event = Error(kWsCloseProtocolError, "unmasked client frame");
    return 0;
  }
  switch (opcode) {
    case kWsOpContinuation:
      if (!in_message_) {
        *event = Error(kWsCloseProtocolError, "continuation frame without a message");
        return 0;
      }
      break;
    case kWsOpText:
    case kWsOpBinary:
      if (in_message_) {
        *event = Error(kWsCloseProtocolError, "new message inside a fragmented one");
        return 0;
      }
      break;
    case kWsOpClose:
    case kWsOpPing:
    case kWsOpPong:
      if (!fin || length > 125) {
        *event = Error(kWsCloseProtocolError, "fragmented or oversized control frame");
        return 0;
      }
      break;
    default:
      *event = Error(kWsCloseProtocolError, "unknown opcode");
      return 0;
  }

  size_t header = 2;
  if (length == 126) {
    if (size < 4) return 0;
    length = (uint64_t{bytes[2]} << 8) | bytes[3];
    header = 4;
  } else if (length == 127) {
    if (size < 10) return 0;
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | bytes[2 + i];
    header = 10;
    if (length >> 63) {
      *event = Error(kWsCloseProtocolError, "64-bit length MSB set");
      return 0;
    }
  }
  if (!control) {
    const uint64_t total = (in_message_ ? message_.size() : 0) + length;
    if (total > max_message_) {
      *event = Error(kWsCloseTooBig, "message over maxPayload");
      return 0;
    }
  }
  header += 4;  // the masking key
  if (size < header || size - header < length) return 0;

  uint8_t mask[4];
  std::memcpy(mask, data + header - 4, 4);
  char* payload = data + header;
  for (uint64_t i = 0; i < length; ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i & 3]);
  const std::string_view view(payload, static_cast<size_t>(length));
  const size_t consumed = header + static_cast<size_t>(length);

  if (control) {
    if (opcode == kWsOpPing) {
      event->kind = WsEvent::Kind::kPing;
      event->data = view;
    } else if (opcode == kWsOpPong) {
      event->kind = WsEvent::Kind::kPong;
    } else {
      if (view.size() == 1) {
        *event = Error(kWsCloseProtocolError, "close payload of 1 byte");
        return 0;
      }
      uint16_t code = 1005;
      if (view.size() >= 2) {
        code = static_cast<uint16_t>((static_cast<uint8_t>(view[0]) << 8) |
                                     static_cast<uint8_t>(view[1]));
        if (!IsValidCloseCode(code)) {
          *event = Error(kWsCloseProtocolError, "invalid close code");
          return 0;
        }
        if (!simdjson::validate_utf8(view.data() + 2, view.size() - 2)) {
          *event = Error(kWsCloseInvalidPayload, "close reason not UTF-8");
          return 0;
        }
      }
      event->kind = WsEvent::Kind::kClose;
      event->close_code = code;
    }
    return consumed;
  }

  if (fin && !in_message_) {
    // The common case: one unfragmented message, delivered in place.
    if (opcode == kWsOpText && !simdjson::validate_utf8(view.data(), view.size())) {
      *event = Error(kWsCloseInvalidPayload, "text not UTF-8");
      return 0;
    }
    event->kind = WsEvent::Kind::kMessage;
    event->binary = opcode == kWsOpBinary;
    event->data = view;
    return consumed;
  }
  if (!in_message_) {
    in_message_ = true;
    message_binary_ = opcode == kWsOpBinary;
    message_.clear();
  }
  message_.append(view);
  if (!fin) return consumed;
  // The last fragment: the whole message is checked (a code point may span
  // fragments).
  in_message_ = false;
  if (!message_binary_ && !simdjson::validate_utf8(message_.data(), message_.size())) {
    *event = Error(kWsCloseInvalidPayload, "text not UTF-8");
    return 0;
  }
  event->kind = WsEvent::Kind::kMessage;
  event->binary = message_binary_;
  event->data = message_;
  return consumed;
}

// ---------------------------------------------------------------------------
// The client side.

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
  AppendMaskedFrame(out, static_cast<uint8_t>(0x80 | opcode), payload, mask);
}

void AppendMaskedFrame(std::string& out, uint8_t first_byte, std::string_view payload,
                       uint32_t mask) {
  const size_t n = payload.size();
  out.push_back(static_cast<char>(first_byte));
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

}  // namespace roomq::websocket
