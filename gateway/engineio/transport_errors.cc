#include "gateway/engineio/transport_errors.h"

#include "absl/strings/str_cat.h"
#include "gateway/engineio/client_log.h"
#include "proto/base/absl_compat.h"

namespace roomq::gateway::engineio {

std::string_view TransportErrorName(TransportError reason) {
  switch (reason) {
    case TransportError::kWsProtocol:
      return "ws_protocol";
    case TransportError::kWsBadUtf8:
      return "ws_bad_utf8";
    case TransportError::kWsTooBig:
      return "ws_too_big";
    case TransportError::kWsHandshake:
      return "ws_handshake";
    case TransportError::kHttpMalformed:
      return "http_malformed";
    case TransportError::kHttpTooLarge:
      return "http_too_large";
    case TransportError::kRequestTimeout:
      return "request_timeout";
    case TransportError::kIdleTimeout:
      return "idle_timeout";
    case TransportError::kPingTimeout:
      return "ping_timeout";
    case TransportError::kUpgradeTimeout:
      return "upgrade_timeout";
    case TransportError::kEnginePacket:
      return "engineio_packet";
    case TransportError::kOutboundFull:
      return "outbound_full";
    case TransportError::kHttpBadPath:
      return "http_bad_path";
    case TransportError::kCount:
      break;
  }
  return "unknown";
}

void TransportErrorCounters::Record(TransportError reason, std::string_view remote,
                                    std::string_view detail) {
  const uint64_t n =
      counts_[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed) + 1;
  LogThrottled(
      n, absl::StrCat("connection ", ToAbsl(remote), ": ", ToAbsl(TransportErrorName(reason)), " (",
                      ToAbsl(detail), "); ", n, " so far"));
}

std::map<std::string, uint64_t> TransportErrorCounters::Snapshot() const {
  std::map<std::string, uint64_t> out;
  for (size_t i = 0; i < counts_.size(); ++i) {
    out[std::string(TransportErrorName(static_cast<TransportError>(i)))] =
        counts_[i].load(std::memory_order_relaxed);
  }
  return out;
}

}  // namespace roomq::gateway::engineio
