#include "gateway/engineio/errors.h"

#include <string>

namespace roomq::gateway::engineio {

const char* ErrorMessage(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnknownTransport:
      return "Transport unknown";
    case ErrorCode::kUnknownSid:
      return "Session ID unknown";
    case ErrorCode::kBadHandshakeMethod:
      return "Bad handshake method";
    case ErrorCode::kBadRequest:
      return "Bad request";
    case ErrorCode::kForbidden:
      return "Forbidden";
    case ErrorCode::kUnsupportedProtocolVersion:
      return "Unsupported protocol version";
  }
  return "Bad request";
}

HttpReply ErrorReply(ErrorCode code) {
  HttpReply reply;
  reply.status = code == ErrorCode::kForbidden ? 403 : 400;
  reply.content_type = "application/json";
  reply.body = "{\"code\":" + std::to_string(static_cast<int>(code)) + ",\"message\":\"" +
               ErrorMessage(code) + "\"}";
  return reply;
}

}  // namespace roomq::gateway::engineio
