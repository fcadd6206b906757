#ifndef ROOMQ_GATEWAY_ENGINEIO_ERRORS_H_
#define ROOMQ_GATEWAY_ENGINEIO_ERRORS_H_

// Engine.IO's HTTP error answers: status 400 (403 for Forbidden) with the
// body {"code":N,"message":"..."}, as the npm engine.io server sends them.

#include "gateway/engineio/http_types.h"

namespace roomq::gateway::engineio {

enum class ErrorCode {
  kUnknownTransport = 0,            // "Transport unknown"
  kUnknownSid = 1,                  // "Session ID unknown"
  kBadHandshakeMethod = 2,          // "Bad handshake method"
  kBadRequest = 3,                  // "Bad request"
  kForbidden = 4,                   // "Forbidden"
  kUnsupportedProtocolVersion = 5,  // "Unsupported protocol version"
};

const char* ErrorMessage(ErrorCode code);
HttpReply ErrorReply(ErrorCode code);

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_ERRORS_H_
