#ifndef ROOMQ_PROTO_WIRE_JSON_STRING_H_
#define ROOMQ_PROTO_WIRE_JSON_STRING_H_

// JSON string literals for text that travels inside JSON on the wire (event
// names, room names, ids). One implementation for the client library and the
// gateway so both escape identically.

#include <string>
#include <string_view>

namespace roomq::wire {

// Appends `text` as a JSON string literal: quotes, backslash escapes for
// '"' '\\' and the named controls, \u00XX for other bytes below 0x20. Other
// bytes pass through unchanged (valid UTF-8 in, valid JSON out).
void AppendJsonString(std::string& out, std::string_view text);

inline std::string JsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  AppendJsonString(out, text);
  return out;
}

}  // namespace roomq::wire

#endif  // ROOMQ_PROTO_WIRE_JSON_STRING_H_
