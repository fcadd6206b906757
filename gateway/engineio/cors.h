#ifndef ROOMQ_GATEWAY_ENGINEIO_CORS_H_
#define ROOMQ_GATEWAY_ENGINEIO_CORS_H_

// Origin allow-list and CORS headers for Engine.IO HTTP answers.
//
// No origins configured: no CORS headers, every origin allowed (the npm
// socket.io default). "*" in the list: every origin allowed,
// "Access-Control-Allow-Origin: *". Otherwise an allowed Origin is echoed with
// "Access-Control-Allow-Credentials: true" and "Vary: Origin"; a request whose
// Origin is not listed is refused (403). Requests without an Origin header
// (non-browser clients) are allowed. The check applies to every Engine.IO
// request: the polling handshake and its later requests, a WebSocket
// upgrade of a polling session, and a direct WebSocket connection (before
// the WebSocket handshake, answered 403 {"code":4,"message":"Forbidden"}).
// Refusals are counted (refused(), exported as
// roomq_gateway_refusals_total{limit="origin"}) and logged: one warn line
// per refusal for the first 100, then one per 1000, so a flood does not
// flood the log.
//
// Thread safety: immutable after construction but for the refusal counter
// (atomic); shared by all shards.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roomq::gateway::engineio {

class CorsPolicy {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  explicit CorsPolicy(std::vector<std::string> origins);

  bool Allows(std::string_view origin) const;
  // Allows(), counting and logging a refusal; `websocket` names the
  // transport in the log line.
  bool Admit(std::string_view origin, bool websocket) const;
  // Requests refused so far (any thread).
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  // Headers for an ordinary answer to a request with this Origin.
  Headers ResponseHeaders(std::string_view origin) const;
  // Headers for a 204 answer to a preflight OPTIONS request.
  Headers PreflightHeaders(std::string_view origin, std::string_view request_headers) const;

 private:
  std::vector<std::string> origins_;
  bool any_ = false;
  mutable std::atomic<uint64_t> refused_{0};
};

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_CORS_H_
