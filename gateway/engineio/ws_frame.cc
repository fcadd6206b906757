#include "gateway/engineio/ws_frame.h"

#include <openssl/sha.h>
#include <simdjson.h>

#include <cstring>

#include "absl/strings/escaping.h"

namespace roomq::gateway::engineio {
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

WsEvent Error(TransportError error, uint16_t close_code, const char* detail) {
  WsEvent event;
  event.kind = WsEvent::Kind::kError;
  event.error = error;
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
    *event = Error(TransportError::kWsProtocol, kWsCloseProtocolError, "reserved bits set");
    return 0;
  }
  if (!masked) {
    *event = Error(TransportError::kWsProtocol, kWsCloseProtocolError, "unmasked client frame");
    return 0;
  }
  switch (opcode) {
    case kWsOpContinuation:
      if (!in_message_) {
        *event = Error(TransportError::kWsProtocol, kWsCloseProtocolError,
                       "continuation frame without a message");
        return 0;
      }
      break;
    case kWsOpText:
    case kWsOpBinary:
      if (in_message_) {
        *event = Error(TransportError::kWsProtocol, kWsCloseProtocolError,
                       "new message inside a fragmented one");
        return 0;
      }
      break;
    case kWsOpClose:
    case kWsOpPing:
    case kWsOpPong:
      if (!fin || length > 125) {
        *event = Error(TransportError::kWsProtocol, kWsCloseProtocolError,
                       "fragmented or oversized control frame");
        return 0;
      }
      break;
    default:
      *event = Error(TransportError::kWsProtocol, kWsCloseProtocolError, "unknown opcode");
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
      *event = Error(TransportError::kWsProtocol, kWsCloseProtocolError, "64-bit length MSB set");
      return 0;
    }
  }
  if (!control) {
    const uint64_t total = (in_message_ ? message_.size() : 0) + length;
    if (total > max_message_) {
      *event = Error(TransportError::kWsTooBig, kWsCloseTooBig, "message over maxPayload");
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
        *event =
            Error(TransportError::kWsProtocol, kWsCloseProtocolError, "close payload of 1 byte");
        return 0;
      }
      uint16_t code = 1005;
      if (view.size() >= 2) {
        code = static_cast<uint16_t>((static_cast<uint8_t>(view[0]) << 8) |
                                     static_cast<uint8_t>(view[1]));
        if (!IsValidCloseCode(code)) {
          *event = Error(TransportError::kWsProtocol, kWsCloseProtocolError, "invalid close code");
          return 0;
        }
        if (!simdjson::validate_utf8(view.data() + 2, view.size() - 2)) {
          *event =
              Error(TransportError::kWsBadUtf8, kWsCloseInvalidPayload, "close reason not UTF-8");
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
      *event = Error(TransportError::kWsBadUtf8, kWsCloseInvalidPayload, "text not UTF-8");
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
    *event = Error(TransportError::kWsBadUtf8, kWsCloseInvalidPayload, "text not UTF-8");
    return 0;
  }
  event->kind = WsEvent::Kind::kMessage;
  event->binary = message_binary_;
  event->data = message_;
  return consumed;
}

}  // namespace roomq::gateway::engineio
