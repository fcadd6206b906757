#ifndef ROOMQ_GATEWAY_SERVER_GATEWAY_H_
#define ROOMQ_GATEWAY_SERVER_GATEWAY_H_

// The whole roomq-gateway as one object, built from GatewayOptions: the io
// shards, the Socket.IO layer (which runs the bridge to the broker), the
// HTTP/WebSocket server on --listen and the metrics listener on
// --metrics-listen. main.cc only turns flags into GatewayOptions
// (gateway_flags.h) and waits for SIGINT/SIGTERM between Start() and
// Shutdown().
//
// Its log lines are the process's: Start() logs what it listens on (or why
// it could not start), Shutdown() how the transports closed.
//
// Signals: the gateway installs no handler. Threads inherit the signal mask
// of the thread that calls Start(), so a caller that sigwait()s for its
// stop signals blocks them before Start().
//
// Thread safety: every method from one controlling thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/server/gateway_options.h"
#include "gateway/server/gateway_server.h"
#include "gateway/server/gateway_server_options.h"
#include "gateway/server/io_shards.h"
#include "gateway/socketio/server.h"
#include "proto/base/metrics_listener.h"

namespace roomq::gateway::server {

class Gateway {
 public:
  // Validates `options` (GatewayOptions::Validate) and reads the files they
  // name (--config, the CURVE keys). Starts nothing. InvalidArgument whose
  // message names the flag and what is wrong with it.
  static absl::StatusOr<std::unique_ptr<Gateway>> Create(GatewayOptions options);
  // Stops whatever is still running, without the grace of Shutdown().
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Starts the io threads and the Socket.IO layer with its bridge, binds
  // --listen, starts the metrics listener, then accepts. Call once. On
  // failure it has logged why and stopped what it had started; the status is
  // InvalidArgument only when the Socket.IO layer or --metrics-listen refused
  // its options (roomq-gateway exits 2), anything else is a failure to start
  // (exit 1).
  absl::Status Start();

  // After Start: the bound port of --listen (the actual one for port 0), and
  // the metrics listener's "HOST:PORT" ("" when there is none).
  uint16_t port() const;
  std::string metrics_endpoint() const;

  // After Start, once: stops the metrics listener and accepting, ends every
  // session ("server shutting down") and stops the bridge, then waits until
  // every transport flushed and closed or --shutdown-grace-ms passed, and
  // stops the io threads. True when the transports all closed in time.
  bool Shutdown();

 private:
  Gateway(GatewayOptions options, GatewayServerOptions http_options,
          socketio::ServerOptions socketio_options);
  // Prometheus text for GET /metrics: the Socket.IO layer's shard snapshot
  // plus the engine's counters. Runs on the metrics listener's thread.
  void CollectMetrics(std::function<void(std::string)> reply);
  // Stops and destroys, in this order, what Start created.
  void Stop();

  const GatewayOptions options_;
  GatewayServerOptions http_options_;
  // Moved into the Socket.IO layer by Start().
  socketio::ServerOptions socketio_options_;
  std::unique_ptr<IoShards> shards_;
  std::unique_ptr<socketio::Server> socketio_;
  std::unique_ptr<GatewayServer> http_;
  std::unique_ptr<base::MetricsListener> metrics_;
};

}  // namespace roomq::gateway::server

#endif  // ROOMQ_GATEWAY_SERVER_GATEWAY_H_
