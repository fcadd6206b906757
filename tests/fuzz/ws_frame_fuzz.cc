// libFuzzer target for the server side's RFC 6455 client-frame parser
// (proto/websocket/ws_frame.h), fed the way a socket feeds it: in chunks.
//
// Input layout: byte 0 picks max_message (maxPayload) from a table, bytes
// 1..8 are chunk sizes (0 = 1 byte, cycled), the rest is the byte stream.
// The stream is parsed twice: whole, and arriving chunk by chunk into a
// growing buffer (the parser sees every split point a read can produce).
// Besides "never crash", it checks what the header promises:
//   - both parses yield the same event sequence (splitting is invisible);
//   - a kMessage carries at most max_message bytes, and a text message is
//     valid UTF-8 (checked by an independent validator, not simdjson's);
//   - a ping payload is at most 125 bytes; a close code is 1005 or one a
//     peer may send; an event consumes bytes, kNone/kError consume none;
//   - a consumed count never exceeds the bytes offered.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "proto/websocket/ws_frame.h"

namespace eio = roomq::websocket;

namespace {

constexpr size_t kMaxMessages[] = {0, 1, 2, 125, 126, 127, 300, 65535, 65536, 1 << 20};
constexpr size_t kSplitBytes = 8;

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, <= U+10FFFF.
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    uint32_t min;
    if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

bool IsPeerCloseCode(uint16_t code) {
  return code == 1005 || (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

struct Seen {
  eio::WsEvent::Kind kind;
  bool binary;
  std::string data;
  uint16_t close_code;

  bool operator==(const Seen& o) const {
    return kind == o.kind && binary == o.binary && data == o.data && close_code == o.close_code;
  }
};

// Checks one Next() result; returns false when the parser is done (error
// or close).
bool Check(const eio::WsEvent& event, size_t consumed, size_t offered, size_t max_message,
           std::vector<Seen>* seen) {
  using Kind = eio::WsEvent::Kind;
  if (consumed > offered) std::abort();
  switch (event.kind) {
    case Kind::kNone:
      if (consumed == 0) return true;  // needs more bytes
      break;                           // a fragment was absorbed
    case Kind::kError:
      if (consumed != 0 || event.close_code == 0 || event.detail == nullptr) std::abort();
      break;
    case Kind::kMessage:
      if (consumed == 0 || event.data.size() > max_message) std::abort();
      if (!event.binary && !IsUtf8(event.data)) std::abort();
      break;
    case Kind::kPing:
      if (consumed == 0 || event.data.size() > 125) std::abort();
      break;
    case Kind::kPong:
      if (consumed == 0) std::abort();
      break;
    case Kind::kClose:
      if (consumed == 0 || !IsPeerCloseCode(event.close_code)) std::abort();
      break;
  }
  seen->push_back({event.kind, event.binary, std::string(event.data), event.close_code});
  return event.kind != Kind::kError && event.kind != Kind::kClose;
}

// Parses `stream` as it arrives in chunks of `splits` (cycled) bytes.
std::vector<Seen> Parse(std::string_view stream, const uint8_t* splits, size_t nsplits,
                        size_t max_message) {
  eio::WsFrameParser parser(max_message);
  std::vector<Seen> seen;
  std::string buffer;
  size_t start = 0;  // first unconsumed byte of buffer
  size_t fed = 0;
  for (size_t chunk = 0; fed < stream.size(); ++chunk) {
    const size_t n = nsplits == 0 ? stream.size() : size_t{splits[chunk % nsplits]} + 1;
    const size_t take = std::min(n, stream.size() - fed);
    buffer.append(stream.substr(fed, take));
    fed += take;
    for (;;) {
      eio::WsEvent event;
      const size_t offered = buffer.size() - start;
      const size_t consumed = parser.Next(buffer.data() + start, offered, &event);
      if (!Check(event, consumed, offered, max_message, &seen)) return seen;
      if (consumed == 0) break;
      start += consumed;
    }
    // Like the session's read buffer: drop what was consumed.
    buffer.erase(0, start);
    start = 0;
  }
  return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 + kSplitBytes) return 0;
  const size_t max_message = kMaxMessages[data[0] % std::size(kMaxMessages)];
  const uint8_t* splits = data + 1;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1 + kSplitBytes,
                          size - 1 - kSplitBytes);
  const std::vector<Seen> whole = Parse(stream, nullptr, 0, max_message);
  const std::vector<Seen> chunked = Parse(stream, splits, kSplitBytes, max_message);
  if (whole != chunked) std::abort();
  // The handshake helpers see the client's key header, also untrusted.
  if (eio::IsValidWsKey(stream) && eio::WsAcceptKey(stream).size() != 28) std::abort();
  return 0;
}
