#ifndef ROOMQ_GATEWAY_ENGINEIO_ENGINE_H_
#define ROOMQ_GATEWAY_ENGINEIO_ENGINE_H_

// The Engine.IO server: validates requests under /socket.io/, performs
// handshakes, keeps each shard's session table and routes every request for
// an existing sid to the shard that owns it.
//
// Sharding: a session is created on the shard (io thread) whose connection
// carried the handshake and stays there. Its sid names that shard (sid.h).
// A polling request arriving on another shard is posted to the owner and
// answered through the Responder, which posts back. A WebSocket upgrade
// arriving on another shard has its TCP socket released and adopted by the
// owner's io_context before the WebSocket handshake, so the session and
// its transports stay single-threaded.
//
// Per-address limits: a handshake's client address (client_address.h: the
// TCP peer, or X-Forwarded-For from a trusted proxy) is admitted by the
// AddressTable shared by all shards (address_table.h says why one table)
// before --max-connections is checked; the session holds the lease.
//
// Thread safety: Handle* are called on the thread of `from_shard`; each
// shard's table is touched only by its own thread; the address table locks
// itself. Options, CORS policy and the factory pointer are immutable. The Engine must outlive all
// activity on the shards (destroy it after the io threads stopped).

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "gateway/engineio/address_table.h"
#include "gateway/engineio/client_address.h"
#include "gateway/engineio/cors.h"
#include "gateway/engineio/http_types.h"
#include "gateway/engineio/options.h"
#include "gateway/engineio/session.h"
#include "gateway/engineio/session_impl.h"
#include "gateway/engineio/transport_errors.h"
#include "gateway/engineio/websocket_transport.h"

namespace roomq::gateway::engineio {

// Engine-wide counters, readable from any thread.
struct EngineStats {
  uint64_t sessions = 0;                             // open now
  uint64_t refused_max_connections = 0;              // handshakes refused by max_connections
  uint64_t refused_handshake_rate = 0;               // ...by an address's handshake rate
  uint64_t refused_sessions_per_address = 0;         // ...by an address's session limit
  uint64_t client_addresses = 0;                     // entries of the per-address table
  std::map<std::string, uint64_t> transport_errors;  // TransportErrorCounters::Snapshot()
};

class Engine {
 public:
  // `shards[i]` is the executor of io thread i (at most kMaxShards).
  // `factory` must outlive the Engine.
  Engine(EngineOptions options, const std::vector<boost::asio::any_io_executor>& shards,
         SessionListenerFactory* factory);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const EngineOptions& options() const { return options_; }
  const CorsPolicy& cors() const { return cors_; }
  size_t shard_count() const { return shards_.size(); }

  // An HTTP request (not an upgrade) for the Engine.IO path.
  void HandleRequest(size_t from_shard, EngineRequest request, Responder respond);

  // A WebSocket upgrade request for the Engine.IO path; takes the socket.
  void HandleUpgrade(size_t from_shard, WebSocketTransport::Request request,
                     boost::asio::ip::tcp::socket socket, std::string remote_address);

  // On every shard: refuses new handshakes from now on and ends every
  // session with `reason` (close packet where the transport allows).
  // `done` runs once all shards did so, on the last shard's thread.
  void CloseAllSessions(const std::string& reason, std::function<void()> done);

  // Sessions on `shard`; call on that shard's thread.
  size_t SessionCount(size_t shard) const;

  EngineStats stats() const;

  // Connections closed for bad input or silence, by reason; shared with the
  // HTTP layer (any thread).
  TransportErrorCounters& transport_errors() { return transport_errors_; }

 private:
  struct Shard {
    boost::asio::any_io_executor executor;
    std::unique_ptr<WriteCoalescer> coalescer;  // null unless write_delay > 0
    absl::flat_hash_map<std::string, std::shared_ptr<SessionImpl>> sessions;
    bool stopping = false;
  };

  struct Target {
    std::string sid;        // empty: handshake
    std::string transport;  // "polling" | "websocket"
  };
  // Validates the query and origin; on failure fills `error`.
  bool Validate(HttpMethod method, bool upgrade, const std::string& query,
                const std::string& origin, Target* target, HttpReply* error) const;

  std::shared_ptr<SessionImpl> NewSession(size_t shard, HandshakeInfo info);
  // Admits a handshake from `peer` (X-Forwarded-For `forwarded_for`) into
  // the address table and then max_connections: the lease on success,
  // otherwise the answer to send (counted, logged rate-limited).
  absl::StatusOr<AddressLease> AdmitHandshake(const IpAddress& peer, std::string_view forwarded_for,
                                              std::string_view remote_address, HttpReply* refusal);
  // True (and counted) when a new session would exceed max_connections.
  bool OverMaxConnections(std::string_view remote_address);
  std::shared_ptr<SessionImpl> Find(size_t shard, const std::string& sid) const;
  void OnOwnerShard(size_t shard, const EngineRequest& request, const std::string& sid,
                    Responder respond);
  void UpgradeOnOwnerShard(size_t shard, const WebSocketTransport::Request& request,
                           boost::asio::ip::tcp::socket socket, std::string remote_address,
                           std::string sid);
  void HandshakeWebSocket(size_t shard, const WebSocketTransport::Request& request,
                          boost::asio::ip::tcp::socket socket, std::string remote_address);

  const EngineOptions options_;
  const CorsPolicy cors_;
  SessionListenerFactory* const factory_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> live_sessions_{0};
  std::atomic<uint64_t> refused_max_connections_{0};
  TransportErrorCounters transport_errors_;
  // Shared with the leases of the sessions (address_table.h).
  std::shared_ptr<AddressTable> addresses_;
};

// Writes `reply` as an HTTP/1.1 answer on a raw socket, then closes it.
void WriteReplyAndClose(boost::asio::ip::tcp::socket socket, HttpReply reply);

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_ENGINE_H_
