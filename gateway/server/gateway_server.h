#ifndef ROOMQ_GATEWAY_SERVER_GATEWAY_SERVER_H_
#define ROOMQ_GATEWAY_SERVER_GATEWAY_SERVER_H_

// The gateway's HTTP/WebSocket front: one listening socket accepting onto
// the io shards round-robin, an HttpConnection per TCP connection, and the
// Engine.IO engine behind /socket.io/.
//
// Graceful shutdown, from the controlling thread: Shutdown() stops
// accepting, ends every Engine.IO session (close packet, then the transport
// flushes what it had queued and closes) and drains the HTTP connections;
// WaitForTransportsClosed() then returns as soon as every shard has no open
// transport left (engineio/open_transports.h), or at its deadline (a client
// that does not read, or never closes its side, holds its transport open).
//
// Thread safety: Create/Start/Shutdown/WaitForTransportsClosed from the
// controlling thread (main). The acceptor lives on shard 0; connections on
// their shards.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/engineio/engine.h"
#include "gateway/engineio/session.h"
#include "gateway/server/gateway_server_options.h"
#include "gateway/server/http_connection.h"
#include "gateway/server/io_shards.h"

namespace roomq::gateway::server {

class GatewayServer {
 public:
  // Binds and listens on options.host:options.port (Unavailable on failure).
  // `shards` and `factory` must outlive the server; the io threads must be
  // stopped before the server is destroyed.
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Create(
      GatewayServerOptions options, IoShards* shards, engineio::SessionListenerFactory* factory);
  ~GatewayServer();

  // The bound port (the actual one when options.port was 0).
  uint16_t port() const { return port_; }
  const std::string& host() const { return options_.host; }
  engineio::Engine& engine() { return *engine_; }

  // Starts accepting.
  void Start();
  // Stops accepting and ends every session with `reason` ("server shutting
  // down"); HTTP connections close once idle (no more keep-alive). Blocks
  // until every shard did so or `bound` passed; false on timeout.
  bool Shutdown(const std::string& reason, std::chrono::milliseconds bound);
  // After Shutdown: blocks until no shard has an open transport (every
  // WebSocket flushed its queue and closed, every HTTP connection closed) or
  // `deadline`; true when they all closed.
  bool WaitForTransportsClosed(std::chrono::steady_clock::time_point deadline);

 private:
  GatewayServer(GatewayServerOptions options, IoShards* shards,
                engineio::SessionListenerFactory* factory);
  void DoAccept();

  GatewayServerOptions options_;
  IoShards* const shards_;
  // One per shard, each touched on its shard's thread (http_connection.h).
  std::vector<std::shared_ptr<HttpConnectionSet>> connections_;
  std::unique_ptr<engineio::Engine> engine_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  size_t next_shard_ = 0;
  uint16_t port_ = 0;
};

}  // namespace roomq::gateway::server

#endif  // ROOMQ_GATEWAY_SERVER_GATEWAY_SERVER_H_
