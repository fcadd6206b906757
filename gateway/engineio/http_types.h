#ifndef ROOMQ_GATEWAY_ENGINEIO_HTTP_TYPES_H_
#define ROOMQ_GATEWAY_ENGINEIO_HTTP_TYPES_H_

// The plain-data shapes in which HTTP requests reach the Engine.IO layer and
// answers leave it. They cross shard threads by value.

#include <boost/asio/ip/address.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace roomq::gateway::engineio {

enum class HttpMethod { kGet, kPost, kOptions, kOther };

// One HTTP request under /socket.io/ (not a WebSocket upgrade).
struct EngineRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string query;              // raw query string, without '?'
  std::string origin;             // Origin header, may be empty
  std::string remote_address;     // "ip:port"
  boost::asio::ip::address peer;  // the TCP peer's address
  // X-Forwarded-For (every line, joined). The client address comes from it
  // only behind a trusted proxy (EngineOptions::trusted_proxies).
  std::string forwarded_for;
  std::string user_agent;       // User-Agent header, may be empty
  std::string body;             // POST body
  bool body_too_large = false;  // Content-Length over max_payload; body not read
};

struct HttpReply {
  unsigned status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  bool close_connection = false;
  // `headers` already carry the CORS headers (preflight answers); the HTTP
  // layer must not add the ordinary ones again.
  bool cors_included = false;
};

// Delivers the answer to one request. Called at most once, from any thread;
// the implementation posts to the connection's own thread.
using Responder = std::function<void(HttpReply)>;

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_HTTP_TYPES_H_
