#ifndef ROOMQ_GATEWAY_ENGINEIO_TRANSPORT_ERRORS_H_
#define ROOMQ_GATEWAY_ENGINEIO_TRANSPORT_ERRORS_H_

// Counters of bad input or silence below the Engine.IO packet level: each
// such event closes only the offending connection (or refuses only its
// request), is counted here by reason, and is logged by the
// gateway's policy for client-caused events (client_log.h: the first
// kLoggedInFull of a reason at info, then once per kLogEvery, the rest at
// debug), so a flood of bad input cannot flood the log. Exposed as
// roomq_gateway_transport_errors_total{reason} on /metrics.
//
// Thread safety: Record and the readers may be called from any thread
// (relaxed atomics; these are rare events, never on the delivery path).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace roomq::gateway::engineio {

enum class TransportError {
  kWsProtocol,      // malformed WebSocket frame (RFC 6455 violation)
  kWsBadUtf8,       // text frame (or close reason) not valid UTF-8
  kWsTooBig,        // WebSocket message over maxPayload
  kWsHandshake,     // WebSocket upgrade request that cannot be accepted
  kHttpMalformed,   // garbage or unparsable HTTP request
  kHttpTooLarge,    // HTTP headers or body over their limit
  kRequestTimeout,  // an HTTP request (or upgrade) begun but never finished
  kIdleTimeout,     // a TCP connection that never sent a request
  kPingTimeout,     // an Engine.IO session whose peer went silent (half-open TCP)
  kUpgradeTimeout,  // a WebSocket upgrade probe that never completed
  kEnginePacket,    // a malformed Engine.IO packet or payload
  kOutboundFull,    // a control frame (a pong, a ping) over the session's
                    // max_outbound_bytes: a client that does not read, here
                    // typically one that sends pings and leaves the pongs unread
  kHttpBadPath,     // a static file path that leaves the web root (".." and
                    // the like): answered 400, the connection stays
  kCount
};

// The label value ("ws_protocol", "ws_bad_utf8", ...).
std::string_view TransportErrorName(TransportError reason);

class TransportErrorCounters {
 public:
  // Counts one event and logs it (rate-limited, see above). `remote` is the
  // peer's "ip:port", `detail` a short description.
  void Record(TransportError reason, std::string_view remote, std::string_view detail);

  uint64_t count(TransportError reason) const {
    return counts_[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }
  // Every reason with its count (zeros included), keyed by label value.
  std::map<std::string, uint64_t> Snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, static_cast<size_t>(TransportError::kCount)> counts_{};
};

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_TRANSPORT_ERRORS_H_
