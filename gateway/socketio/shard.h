#ifndef ROOMQ_GATEWAY_SOCKETIO_SHARD_H_
#define ROOMQ_GATEWAY_SOCKETIO_SHARD_H_

// The Socket.IO state of one io thread ("shard"): its namespaces, its
// sockets, the two-way room index, and the broker subscriptions that follow
// the index (subscribe on a room's first local member, unsubscribe on its
// last), plus the local fan-out of deliveries.
//
// Confirmation: a socket's join (and a socket's own rooms at CONNECT) waits
// until the broker confirmed the room's subscription — so nothing published
// after the answer is missed — but never longer than `subscribe_wait`
// (default 2000 ms): with the broker down, work proceeds and the Link
// restores the subscription when the broker returns.
//
// Own rooms: a socket's own room (named by its id) is not a RoomIndex entry
// but one pointer in a shard-local (ns, id) -> socket set, which saves the
// index and member-set allocations per socket; the broker subscription of
// (ns, id) is unchanged. A second local socket with the same (ns, id) (a
// recovery race) falls back to the RoomIndex; lookups consult both.
//
// Rooms per client address: every membership change of a socket is counted
// in its client address's lease (Socket::address, engineio/address_table.h,
// shared by all shards: an atomic, no lock). A join with
// JoinLimit::kAddress is refused (returns false, nothing changes) when the
// address holds --max-rooms-per-address memberships already; other joins
// (a socket's own and namespace rooms, using what CONNECT reserved;
// memberships a service asked for) are always counted.
//
// Socket records (bridge/port.h SocketUpdates): a socket's Open goes once
// it is connected (RecordOpen), then every room change of Join and Leave
// (the namespace room left out), then its Close (RecordClose; LeaveAll
// reports nothing: a recoverable record keeps its rooms). Each goes to the
// port at once, in order with the room's Subscribe/Unsubscribe: the bridge
// batches what one wake-up of its thread takes (a Post while another waits
// costs no wake-up; batching here, a loop turn later, cost one: measured
// with tests/bench/join_cost.js).
//
// Fan-out: a Dispatch reaches each local socket at most once even when it
// targets several of its rooms; sockets in any except_rooms and the
// except_socket are skipped; sockets still connecting are skipped.
//
// Thread safety: not thread-safe. Every method runs on the shard's thread;
// the bridge posts to it. Held by shared_ptr; asynchronous callbacks hold a
// weak_ptr.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "gateway/engineio/client_log.h"
#include "gateway/engineio/timer_service.h"
#include "gateway/socketio/config.h"
#include "gateway/socketio/dispatch.h"
#include "gateway/socketio/namespace_registry.h"
#include "gateway/socketio/room_index.h"
#include "gateway/socketio/socket.h"

namespace roomq::gateway::socketio {

struct ShardOptions {
  // Longest wait for the broker to confirm a subscription before a CONNECT
  // answer or a join ack goes out anyway.
  std::chrono::milliseconds subscribe_wait{2000};
  // Where the subscribe_wait timers come from; must outlive the shard.
  engineio::TimerService* timers = &engineio::TimerService::Real();
  // Service acks a socket may have outstanding; past it the oldest is
  // forgotten (its answer is then ignored).
  size_t max_pending_service_acks = 1024;
  // Rooms a socket may be in (its own and the namespace's included); a
  // client join past it is answered with an error.
  size_t max_rooms_per_socket = 1000;
  // Dynamic namespaces (names matching a config pattern) this shard holds at
  // once; each exists only while an admitted socket is in it. A CONNECT
  // that would create one more is answered CONNECT_ERROR {"message":"Too
  // many dynamic namespaces"} and the session stays. Default 10000.
  size_t max_dynamic_namespaces = kDefaultMaxDynamicNamespaces;
  // Lines per second at info for the sockets of this shard connecting,
  // recovering and disconnecting; the rest at debug (engineio/client_log.h
  // LineBudget). 0 = no limit.
  double socket_log_rate = 50;
};

// Counters of one shard for /metrics (metrics.h); touched only on its
// thread (a scrape posts to it), so the hot path takes no lock.
struct ShardStats {
  uint64_t messages_in = 0;  // Engine.IO messages from clients
  uint64_t bytes_in = 0;
  uint64_t messages_out = 0;  // messages queued to clients
  uint64_t bytes_out = 0;
  uint64_t dropped_outbound_full = 0;       // Session::Send over max_outbound_bytes
  uint64_t dropped_closed = 0;              // Session::Send after the session closed
  uint64_t rate_limited = 0;                // client events over a socket's message rate
  uint64_t namespaces_refused = 0;          // CONNECTs over max_namespaces
  uint64_t unknown_namespaces = 0;          // CONNECTs to a name the config does not have
  uint64_t dynamic_namespaces_refused = 0;  // CONNECTs over max_dynamic_namespaces
  uint64_t joins_refused = 0;               // joins over max_rooms_per_socket
  uint64_t joins_refused_by_broker = 0;     // joins whose subscription the broker refused
  // joins and CONNECTs over the client address's --max-rooms-per-address
  uint64_t rooms_per_address_refused = 0;
  // Client publishes refused by the namespace's `publish` regex, the
  // token's `publish` claim or a socket-id room; relays that lost a target
  // room for the same reasons.
  uint64_t publishes_refused = 0;
  uint64_t protocol_errors = 0;        // sessions closed for a malformed packet
  uint64_t events_too_large = 0;       // ...of them for an event over max_event_bytes
  uint64_t attachments_timed_out = 0;  // ...for attachments later than attachment_timeout
  uint64_t sessions_saved = 0;         // recovery: sockets closed recoverable
  uint64_t recoveries = 0;             // recovery: sessions given back
  uint64_t recoveries_failed = 0;      // recovery: claims that got a fresh session
  // recovery: sockets closed here because they recovered on another node
  uint64_t sockets_taken_over = 0;
  // recovery: saved rooms the socket may no longer join (policy, token or
  // room limit changed), left out of the recovered session
  uint64_t recovery_rooms_dropped = 0;
  absl::flat_hash_map<std::string, uint64_t> disconnects;    // reason -> sockets
  absl::flat_hash_map<std::string, uint64_t> auth_refusals;  // reason -> CONNECTs
  // KIND_SET_DATA over max_socket_data_bytes: the socket kept its data.
  uint64_t socket_data_refused = 0;
  // Service middleware verdicts by outcome (kMiddleware* in connection.h).
  absl::flat_hash_map<std::string, uint64_t> middleware;
};

class Connection;

class Shard : public std::enable_shared_from_this<Shard> {
 public:
  Shard(size_t index, boost::asio::any_io_executor executor, std::shared_ptr<const Config> config,
        std::shared_ptr<bridge::Port> port, ShardOptions options = {});
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  size_t index() const { return index_; }
  const boost::asio::any_io_executor& executor() const { return executor_; }
  bridge::Port& port() { return *port_; }
  const ShardOptions& options() const { return options_; }
  NamespaceRegistry& namespaces() { return namespaces_; }
  const NamespaceRegistry& namespaces() const { return namespaces_; }
  const RoomIndex& rooms() const { return rooms_; }

  // A new socket id: 20 characters of [A-Za-z0-9_-] (the shape of
  // Socket.IO's), 16 from OpenSSL's CSPRNG and 4 of their check, so that
  // auth::IsIssuedSocketId (auth/socket_auth.h) verifies it on any gateway.
  // Throws std::runtime_error if the CSPRNG fails (as engineio::NewSid).
  static std::string NewSocketId();

  // Gives `socket` a handle and makes it findable. Unregister forgets it;
  // call LeaveAll first.
  void Register(Socket& socket);
  void Unregister(Socket& socket);
  Socket* Find(uint64_t handle) const;
  // Calls `visit` for every registered socket (for metrics).
  template <typename Visit>
  void ForEachSocket(Visit&& visit) const {
    for (const auto& [handle, socket] : sockets_) visit(*socket);
  }

  // Which joins the client address's room bound refuses (see above).
  enum class JoinLimit {
    kNone,     // counted, never refused
    kAddress,  // refused at --max-rooms-per-address
  };
  // Puts `socket` in `room`. `done` (optional) runs on this shard once the
  // room's broker subscription is confirmed (OK), failed (the broker's
  // error) or took longer than subscribe_wait (DeadlineExceeded); never
  // inside this call. False (nothing changed, `done` dropped) only for a
  // kAddress join the address bound refuses.
  bool Join(Socket& socket, std::string_view room, std::function<void(absl::Status)> done,
            JoinLimit limit = JoinLimit::kNone);
  void Leave(Socket& socket, std::string_view room);
  // Leaves every room; returns the room names (the namespace room "" left out).
  std::vector<std::string> LeaveAll(Socket& socket);

  // Reports `socket` connected, as `session` (its rooms are added here).
  void RecordOpen(Socket& socket, v1::Session session);
  // Reports `socket` closed; `recoverable` keeps its record for its
  // session's ttl. Call after LeaveAll.
  void RecordClose(Socket& socket, bool recoverable);
  // A record the broker moved here for a recovery that did not happen
  // after all (the socket left, or failed re-authorization): closed again,
  // `recoverable` or removed, so no record stays connected here without a
  // socket.
  void HandBackRecord(const v1::Session& session, bool recoverable);
  // The broker moved the record of (ns, socket_id) to another node: the
  // socket, if this shard still holds it, is closed without a Close of its
  // own (counted in ShardStats::sockets_taken_over).
  void CloseMovedSocket(const std::string& ns, const std::string& socket_id);

  // Delivers one broker envelope to the local sockets it targets.
  void OnDispatch(const SharedDispatch& dispatch);

  // False when `envelope` skips `socket` (its except_socket, or the socket
  // is in one of its except_rooms).
  bool Accepts(const Socket& socket, const v1::Envelope& envelope) const;

  // Connection state recovery: claims the saved session of request.pid for
  // `socket` (connecting, in no room yet). On success, on this shard and
  // before `done` runs, the socket takes the session's id and joins its
  // rooms and the namespace room; `done` gets the session and the missed
  // events (unfiltered, sequence order) and must answer the CONNECT and send
  // them before it returns, so that live deliveries (posted after it) follow. When the
  // socket is gone (or no longer connecting) by then, the rooms the bridge
  // counted for this shard are given back and `done` gets Aborted. Failures
  // from the broker are passed on (NotFound, Unavailable).
  // While any recovery is pending on the shard, a room's last local member
  // leaving does not unsubscribe it yet (the broker answer may count the
  // shard for that very room): the Unsubscribe waits until no recovery is
  // pending and goes out only if the room still has no local member.
  using RecoverDone = std::function<void(absl::StatusOr<bridge::Recovery>)>;
  void Recover(Socket& socket, v1::Recover request, RecoverDone done);

  // Rooms with a local member: the RoomIndex's plus the own rooms.
  size_t room_count() const { return rooms_.room_count() + own_rooms_.size(); }
  // Rooms `socket` is in, its own and the namespace room included.
  size_t RoomCount(const Socket& socket) const;
  // True when `socket` is in `room` (its own room included).
  bool InRoom(const Socket& socket, std::string_view room) const;

  size_t socket_count() const { return sockets_.size(); }
  size_t subscription_count() const { return topics_.size(); }
  // The budget every socket line of this shard goes through.
  engineio::LineBudget& socket_lines() { return socket_lines_; }
  const engineio::LineBudget& socket_lines() const { return socket_lines_; }
  ShardStats& stats() { return stats_; }
  const ShardStats& stats() const { return stats_; }
  // Connections of this shard (each adds itself for its lifetime), for
  // the gauges of a scrape.
  void AddConnection(Connection* connection) { connections_.insert(connection); }
  void RemoveConnection(Connection* connection) { connections_.erase(connection); }
  const absl::flat_hash_set<Connection*>& connections() const { return connections_; }

 private:
  struct Waiter {
    explicit Waiter(std::unique_ptr<engineio::Timer> timer) : timer(std::move(timer)) {}
    std::function<void(absl::Status)> done;
    std::unique_ptr<engineio::Timer> timer;
    bool fired = false;
  };
  struct TopicState {
    uint64_t generation = 0;
    bool confirmed = false;
    absl::Status result;
    std::vector<std::shared_ptr<Waiter>> waiters;
  };

  // (ns name, id) of a socket holding its own room, for heterogeneous lookup.
  using OwnKey = std::pair<std::string_view, std::string_view>;
  struct OwnHash {
    using is_transparent = void;
    size_t operator()(const Socket* socket) const { return (*this)(KeyOf(socket)); }
    size_t operator()(const OwnKey& key) const;
  };
  struct OwnEq {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return KeyOf(a) == KeyOf(b);
    }
  };
  static OwnKey KeyOf(const Socket* socket);
  static const OwnKey& KeyOf(const OwnKey& key) { return key; }
  // The socket holding (ns, room) as its own room, or nullptr.
  Socket* OwnHolder(std::string_view ns, std::string_view room) const;

  // Counts one more membership of `socket` against its address: a reserved
  // one first; false when `limit` refuses it.
  static bool CountJoin(Socket& socket, JoinLimit limit);
  static void CountLeave(Socket& socket, uint64_t rooms);

  void StartSubscription(const std::string& key);
  void EndSubscription(const std::string& key);
  void AddWaiter(TopicState& state, std::function<void(absl::Status)> done);
  void OnConfirmed(const std::string& key, uint64_t generation, const absl::Status& status);
  static void Fire(const std::shared_ptr<Waiter>& waiter, absl::Status status);
  std::vector<uint64_t> Recipients(const v1::Envelope& envelope) const;
  // A service's socketsJoin / socketsLeave (KIND_JOIN / KIND_LEAVE) for one
  // of the recipients: membership is the shard's, so it never passes through
  // the socket's Connection.
  void ApplyMembership(Socket& socket, const v1::Envelope& envelope);
  // Hands one socket update to the port.
  void QueueUpdate(v1::SocketUpdate update);
  void QueueRoomChange(const Socket& socket, std::string_view room, bool joined);
  void OnRecovered(uint64_t handle, absl::StatusOr<bridge::Recovery> result,
                   const RecoverDone& done);

  const size_t index_;
  boost::asio::any_io_executor executor_;
  std::shared_ptr<const Config> config_;
  std::shared_ptr<bridge::Port> port_;
  const ShardOptions options_;
  size_t pending_recoveries_ = 0;
  absl::flat_hash_set<std::string> deferred_unsubscribes_;  // topic keys
  NamespaceRegistry namespaces_;
  RoomIndex rooms_;
  absl::flat_hash_map<uint64_t, Socket*> sockets_;
  absl::flat_hash_set<Socket*, OwnHash, OwnEq> own_rooms_;  // sockets in their own room
  absl::flat_hash_map<std::string, TopicState> topics_;     // topic key -> subscription state
  ShardStats stats_;
  engineio::LineBudget socket_lines_;
  absl::flat_hash_set<Connection*> connections_;
  uint64_t next_handle_ = 1;
  uint64_t next_generation_ = 1;
};

}  // namespace roomq::gateway::socketio

#endif  // ROOMQ_GATEWAY_SOCKETIO_SHARD_H_
