#ifndef ROOMQ_GATEWAY_SERVER_GATEWAY_SERVER_H_
#define ROOMQ_GATEWAY_SERVER_GATEWAY_SERVER_H_

// The gateway's HTTP/WebSocket front: one listening socket accepting onto
// the io shards round-robin, an HttpConnection per TCP connection, and the
// Engine.IO engine behind /socket.io/.
//
// Thread safety: Create/Start/Shutdown from the controlling thread (main).
// The acceptor lives on shard 0; connections on their shards.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/status/statusor.h"
#include "gateway/engineio/engine.h"
#include "gateway/engineio/session.h"
#include "gateway/server/gateway_options.h"
#include "gateway/server/io_shards.h"

namespace roomq::gateway::server {

class GatewayServer {
 public:
  // Binds and listens on options.host:options.port (Unavailable on failure).
  // `shards` and `factory` must outlive the server; the io threads must be
  // stopped before the server is destroyed.
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Create(
      GatewayOptions options, IoShards* shards, engineio::SessionListenerFactory* factory);
  ~GatewayServer();

  // The bound port (the actual one when options.port was 0).
  uint16_t port() const { return port_; }
  const std::string& host() const { return options_.host; }
  engineio::Engine& engine() { return *engine_; }

  // Starts accepting.
  void Start();
  // Stops accepting and ends every session with `reason` ("server shutting
  // down"). Blocks until done or `bound` passed; false on timeout.
  bool Shutdown(const std::string& reason, std::chrono::milliseconds bound);

 private:
  GatewayServer(GatewayOptions options, IoShards* shards, engineio::SessionListenerFactory* factory);
  void DoAccept();

  GatewayOptions options_;
  IoShards* const shards_;
  std::unique_ptr<engineio::Engine> engine_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  size_t next_shard_ = 0;
  uint16_t port_ = 0;
};

}  // namespace roomq::gateway::server

#endif  // ROOMQ_GATEWAY_SERVER_GATEWAY_SERVER_H_
