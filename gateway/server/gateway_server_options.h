#ifndef ROOMQ_GATEWAY_SERVER_GATEWAY_SERVER_OPTIONS_H_
#define ROOMQ_GATEWAY_SERVER_GATEWAY_SERVER_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "gateway/engineio/options.h"

namespace roomq::gateway::server {

// What the HTTP/WebSocket front (GatewayServer) is built from. Gateway
// (gateway.h) derives it from the command line's GatewayOptions.
struct GatewayServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see GatewayServer::port())
  engineio::EngineOptions engine;
  // Files served at "/" (index.html for directories); empty: none (404).
  std::string static_dir;
  // Where /socket.io/socket.io.min.js and .map are read from; empty: none.
  std::string client_dir;
  // An idle keep-alive connection, or a request that does not arrive in
  // full within this, is closed. Not applied while a long-poll waits.
  std::chrono::milliseconds http_idle_timeout{60000};
  // Request headers bigger than this close the connection (431-like 400).
  size_t max_header_bytes = size_t{16} * 1024;
  // Body limit for requests outside the Engine.IO path.
  size_t max_other_body_bytes = size_t{64} * 1024;
};

}  // namespace roomq::gateway::server

#endif  // ROOMQ_GATEWAY_SERVER_GATEWAY_SERVER_OPTIONS_H_
