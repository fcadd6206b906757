#ifndef ROOMQ_GATEWAY_ENGINEIO_CORS_H_
#define ROOMQ_GATEWAY_ENGINEIO_CORS_H_

// Origin allow-list and CORS headers for Engine.IO HTTP answers.
//
// No origins configured: no CORS headers, every origin allowed (the npm
// socket.io default). "*" in the list: every origin allowed,
// "Access-Control-Allow-Origin: *". Otherwise an allowed Origin is echoed with
// "Access-Control-Allow-Credentials: true" and "Vary: Origin"; a request whose
// Origin is not listed is refused (403). Requests without an Origin header
// (non-browser clients) are allowed.
//
// Thread safety: immutable after construction; shared by all shards.

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
  // Headers for an ordinary answer to a request with this Origin.
  Headers ResponseHeaders(std::string_view origin) const;
  // Headers for a 204 answer to a preflight OPTIONS request.
  Headers PreflightHeaders(std::string_view origin, std::string_view request_headers) const;

 private:
  std::vector<std::string> origins_;
  bool any_ = false;
};

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_CORS_H_
