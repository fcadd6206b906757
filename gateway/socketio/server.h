#ifndef ROOMQ_GATEWAY_SOCKETIO_SERVER_H_
#define ROOMQ_GATEWAY_SOCKETIO_SERVER_H_

// The Socket.IO layer of roomq-gateway, as README.md "From a browser: the gateway conventions"
// describes it: the Engine.IO server hands it every new session (OnSessionOpen), and it runs the
// bridge thread that links the gateway to the broker.
//
// Threads: one Shard per io thread (shards[i] is io thread i's executor);
// every Connection lives on its session's shard; the bridge thread owns the
// ZeroMQ Link. Deliveries are posted once per shard that has a recipient.
//
// Lifetime: call Shutdown() before the io threads stop (it stops the bridge,
// which says Goodbye to the broker); destroy the Server only after every
// session has been closed and the io threads have stopped.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/bridge/bridge.h"
#include "gateway/engineio/session.h"
#include "gateway/socketio/config.h"
#include "gateway/socketio/connection.h"
#include "gateway/socketio/metrics.h"
#include "gateway/socketio/shard.h"
#include "proto/node/link.h"

namespace roomq::gateway::socketio {

struct ServerOptions {
  Config config;                                     // from LoadConfigFile(path) or DefaultConfig()
  node::LinkOptions broker;                          // endpoints from --broker-pub/--broker-sub
  std::chrono::milliseconds connect_timeout{45000};  // --connect-timeout-ms
  // Longest wait for the broker to confirm a subscription before a CONNECT
  // answer or a join ack goes out anyway (default 2000 ms).
  std::chrono::milliseconds subscribe_wait{2000};
  // Per-session and per-socket limits (connection.h: max_namespaces,
  // message_rate/burst, rate_limit_policy, max_event_bytes,
  // attachment_timeout); its connect_timeout is replaced
  // by the field above. Its clock and timers are the Server's: the shards'
  // subscribe_wait timers come from limits.timers too.
  ConnectionOptions limits;
  // Rooms a socket may be in, its own and the namespace's included (shard.h).
  size_t max_rooms_per_socket = 1000;
  // Bytes of broker deliveries posted to one shard and not yet run; past it
  // a delivery is dropped for that shard (bridge.h, hand_off.h).
  uint64_t max_shard_queue_bytes = uint64_t{64} << 20;
  // Dynamic namespaces each shard may hold at once (shard.h).
  size_t max_dynamic_namespaces = kDefaultMaxDynamicNamespaces;
  // Socket lines each shard logs at info per second (shard.h).
  double socket_log_rate = 50;
};

class Server : public engineio::SessionListenerFactory {
 public:
  // shards[i] is the executor of io thread i. Starts the bridge thread.
  // InvalidArgument for no shards; the Link's error for bad endpoints.
  static absl::StatusOr<std::unique_ptr<Server>> Create(
      ServerOptions options, std::vector<boost::asio::any_io_executor> shards);
  ~Server() override;

  std::unique_ptr<engineio::SessionListener> OnSessionOpen(engineio::Session& session,
                                                           size_t shard) override;

  // Stops the bridge (Goodbye to the broker). Idempotent.
  void Shutdown();

  // The gateway's broker node id ("gw-<host>-<pid>-<random>").
  const std::string& node_id() const;

  // For /metrics and /healthz; callable from any thread.
  bool broker_connected() const;
  bridge::BridgeStats bridge_stats() const;

  // GET /metrics: posts a snapshot task to every shard; `done` gets the
  // merged snapshot on the thread of the shard that finished last.
  // Callable from any thread; `done` must not block.
  void CollectMetrics(std::function<void(MetricsSnapshot)> done) const;

 private:
  Server() = default;

  std::shared_ptr<const Config> config_;
  ConnectionOptions connection_options_;
  std::shared_ptr<bridge::Bridge> bridge_;
  std::vector<std::shared_ptr<Shard>> shards_;
};

}  // namespace roomq::gateway::socketio

#endif  // ROOMQ_GATEWAY_SOCKETIO_SERVER_H_
