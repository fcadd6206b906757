#ifndef ROOMQ_GATEWAY_SOCKETIO_CONNECTION_H_
#define ROOMQ_GATEWAY_SOCKETIO_CONNECTION_H_

// The Socket.IO side of one Engine.IO session: decodes its packets, keeps
// its sockets (one per connected namespace) and maps them onto the broker.
//
// Behaviour (as the npm socket.io server, unless noted):
//  - CONNECT to a known namespace creates a socket, puts it in its own room
//    (its id) and the namespace room, and answers 0/ns,{"sid":...} once the
//    broker confirmed those subscriptions (or after subscribe_wait).
//    Unknown namespace: 4/ns,{"message":"Invalid namespace"}. A CONNECT for
//    a namespace this session already has, or any other packet for a
//    namespace it does not have (yet), closes the session.
//  - Admission, in order: the session's namespace count, the name (exact or
//    a config pattern, NamespaceRegistry::Resolve), the namespace's auth;
//    only then does a name matching a pattern become a namespace
//    (NamespaceRegistry::Acquire), held by the socket and freed when its
//    last socket is gone. Stricter than Socket.IO, which creates a child of
//    io.of(regex) before its middleware runs and keeps it unless
//    cleanupEmptyChildNamespaces is set.
//  - No namespace connected within connect_timeout: the session is closed.
//  - Limits (ConnectionOptions, counted in ShardStats): a CONNECT past
//    max_namespaces gets CONNECT_ERROR "Too many namespaces", one that
//    would create a dynamic namespace past
//    ShardOptions::max_dynamic_namespaces "Too many dynamic namespaces"
//    (the session stays); client events and acks past the socket's message
//    rate are refused per rate_limit_policy, CONNECTs past the session's get
//    CONNECT_ERROR "rate limit exceeded"; a join past
//    ShardOptions::max_rooms_per_socket is acked with an error; an event
//    over max_event_bytes, or whose attachments do not all arrive within
//    attachment_timeout, closes the session. Rooms per client address (the
//    session's HandshakeInfo::address, counted by the shard): a join past
//    the bound is acked {"error":"too many rooms for this address"}, a
//    CONNECT that cannot take its own and namespace room gets CONNECT_ERROR
//    "Too many rooms for this address".
//  - Auth (the namespace's `auth`, auth/socket_auth.h): a CONNECT it
//    refuses gets CONNECT_ERROR {"message": reason} (counted in
//    ShardStats::auth_refusals, logged without the token); an admitted
//    socket's joins must also pass its token's `rooms` claim, and `publish`
//    and relaying need its `publish` claim. No client joins a room named
//    by an issued socket id (another socket's own room).
//  - Service middleware (`middleware: required`, connection_middleware.cc):
//    once its rooms are confirmed a fresh socket is described to the
//    namespace's services (KIND_HANDSHAKE) and waits, still connecting, for
//    the first KIND_VERDICT addressed to its own room. Admitted: the CONNECT
//    is answered and the verdict's data becomes socket.data. Refused:
//    CONNECT_ERROR {message, data}. No verdict within middleware_timeout
//    (no service there included): CONNECT_ERROR "middleware timeout". Each
//    outcome is counted (ShardStats::middleware); the session stays.
//  - A malformed packet closes the session; its sockets disconnect with
//    reason "parse error".
//  - EVENT: reserved `join`, `leave`, `publish` (README.md "From a browser: the gateway
//  conventions"); any other
//    event is relayed per the namespace policy and, with `forward`, sent to
//    services as KIND_CLIENT_EVENT (with the client's ack id).
//  - ACK from the client answers a service's emit: KIND_ACK to the service.
//  - Connection state recovery (namespaces with `recovery`, recovery.h): the
//    CONNECT answer carries a pid; a CONNECT with {pid, offset} in its auth
//    gets the saved socket back (same id, rooms, missed events) or a fresh
//    one; a recoverable close saves the socket's state in the broker.
//  - DISCONNECT from the client: "client namespace disconnect"; KIND_DISCONNECT
//    from a service: DISCONNECT packet + "server namespace disconnect";
//    session end: the Engine.IO reason ("transport close", "ping timeout", ...).
// One info log line per socket connect and disconnect (socket id,
// namespace, transport, reason). What a client causes at will is logged by
// the client-log policy (engineio/client_log.h: the first few of each kind
// at info, then one in a thousand) with its text cut and escaped: refused
// CONNECTs (per refusal kind) and sessions closed for a protocol error.
//
// Thread safety: lives on its session's shard thread; every method runs
// there. Asynchronous callbacks hold a weak token and do nothing once the
// Connection is gone.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gateway/engineio/session.h"
#include "gateway/engineio/timer_service.h"
#include "gateway/socketio/dispatch.h"
#include "gateway/socketio/packet.h"
#include "gateway/socketio/shard.h"
#include "gateway/socketio/socket.h"
#include "proto/base/clock.h"
#include "proto/base/token_bucket.h"

namespace roomq::gateway::socketio {

// What a socket's client events beyond its message rate get.
enum class RateLimitPolicy {
  kErrorAck,    // the event is dropped; answered {"error":"rate limit exceeded"}
                // when the client asked for an ack
  kDisconnect,  // the socket is disconnected (DISCONNECT packet, reason
                // "rate limit exceeded"); the session's other sockets stay
};

// The most a delivery adds to the bytes of the event a client sent: the
// namespace prefix (at most wire::kMaxNamespaceBytes), the packet header and
// attachment count, and the recovery offset argument. An event of
// max_event_bytes plus this must fit in the Engine.IO session's
// max_outbound_bytes, so that an event the gateway accepted cannot by its
// size cut off a recipient that reads normally.
inline constexpr size_t kDeliveryFramingBytes = 512;

// Rooms a CONNECT puts a socket in (its own and the namespace's), reserved
// at its client address before the socket exists.
inline constexpr uint8_t kConnectRooms = 2;

// The client address as a socket record carries it (the broker refuses a
// record whose handshake summary exceeds 512 bytes).
inline constexpr size_t kMaxRecordAddressBytes = 256;
// Address and user agent together, as a socket record carries them.
inline constexpr size_t kMaxRecordHandshakeBytes = 512;

// Service middleware outcomes, the labels of ShardStats::middleware.
inline constexpr std::string_view kMiddlewareAdmitted = "admitted";
inline constexpr std::string_view kMiddlewareRefused = "refused";
inline constexpr std::string_view kMiddlewareTimeout = "timeout";
inline constexpr std::string_view kMiddlewareDataTooLarge = "data_too_large";
// Bytes of each handshake header a middleware sees (v1::Handshake).
inline constexpr size_t kMaxHandshakeHeaderBytes = 512;

// The Socket.IO reason of a socket the server disconnected.
inline constexpr std::string_view kReasonServerDisconnect = "server namespace disconnect";

struct ConnectionOptions {
  // A session with no namespace connected this long is closed.
  std::chrono::milliseconds connect_timeout{45000};
  // Namespaces one session may have (connecting or connected) at once; a
  // CONNECT past it is answered CONNECT_ERROR {"message":"Too many
  // namespaces"} and the session stays. Default 32.
  size_t max_namespaces = 32;
  // Token buckets refilled at `message_rate` per second up to
  // `message_burst` (each starts full): one per socket over the client's
  // EVENT/BINARY_EVENT (join, leave, publish and relayed events alike) and
  // ACK/BINARY_ACK packets, and one per session over CONNECT and DISCONNECT
  // packets (a namespace connect/disconnect loop subscribes and
  // unsubscribes a broker topic each time; a new socket would start with a
  // full bucket of its own). Over it: events and acks per
  // rate_limit_policy (an ACK is dropped under kErrorAck), a CONNECT gets
  // CONNECT_ERROR {"message":"rate limit exceeded"} under both policies; a
  // DISCONNECT takes a token but is never refused. A rate <= 0 disables the
  // limit. Defaults: 1000/s, burst 2000.
  double message_rate = 1000;
  double message_burst = 2000;
  RateLimitPolicy rate_limit_policy = RateLimitPolicy::kErrorAck;
  // Bytes of one client event or ack: its text plus all its binary
  // attachments (Decoder::Limits::max_packet_bytes). A client that sends a
  // larger one is disconnected (its sockets see "parse error"), counted in
  // ShardStats::events_too_large; nobody else notices. Default 1,000,000.
  size_t max_event_bytes = 1000000;
  // How long a binary event or ack may wait for its attachments after its
  // header arrived. Past it the session is closed (its sockets see "parse
  // error"), nothing of the event is published, and it is counted in
  // ShardStats::attachments_timed_out. With max_event_bytes this bounds
  // what a pending event holds in time as well as in bytes. The timer
  // exists only while attachments are pending. Default 30 s.
  std::chrono::milliseconds attachment_timeout{30000};
  // `middleware: required` namespaces: how long a CONNECT waits for the
  // service middleware's KIND_VERDICT before it is refused (fail closed:
  // no service there is a timeout too). Default 5 s.
  std::chrono::milliseconds middleware_timeout{5000};
  // Bytes of socket.data a verdict or a KIND_SET_DATA may set: a larger
  // verdict refuses the CONNECT, a larger KIND_SET_DATA changes nothing
  // (refusals_total{limit="max_socket_data_bytes"}). Default 16 KiB.
  size_t max_socket_data_bytes = 16384;
  // Where the rate buckets refill (Now()) and where token expiry is checked
  // at CONNECT (WallNow()); must outlive every Connection.
  const base::Clock* clock = &base::Clock::Real();
  // Where the connect_timeout and attachment_timeout timers come from;
  // must outlive every Connection.
  engineio::TimerService* timers = &engineio::TimerService::Real();
};

class Connection : public engineio::SessionListener {
 public:
  Connection(engineio::Session& session, std::shared_ptr<Shard> shard, ConnectionOptions options);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void OnMessage(std::string_view data, bool binary) override;
  void OnClose(std::string_view reason) override;

  // Closes `socket` (one of ours), telling the client: its record moved to
  // another node, which now holds the session.
  void CloseMovedSocket(Socket& socket);

  // A broker delivery for `socket` (one of ours), already filtered by the
  // shard: an event, an ack or a disconnect (membership changes are the
  // shard's own, Shard::ApplyMembership).
  void Deliver(Socket& socket, const Dispatch& dispatch);

  size_t socket_count() const { return sockets_.size(); }
  // For metrics: the session's transport and outbound queue.
  std::string_view transport() const { return session_.transport(); }
  size_t queued_bytes() const { return session_.queued_bytes(); }

 private:
  void HandlePacket(Packet packet);
  // Arms the attachment timer when the decoder waits for attachments, frees
  // it when it does not.
  void WatchAttachments();
  void HandleConnect(Packet& packet);
  // Answers a refused CONNECT with CONNECT_ERROR {"message": message}; the
  // session stays. Logged (engineio/client_log.h) as the n-th refusal of
  // its kind, `why` saying what was wrong.
  void RefuseConnect(uint64_t n, std::string_view nsp, std::string_view why,
                     std::string_view message);
  // A fresh socket: offers recovery, joins its own and the namespace room;
  // FinishConnect answers.
  void BeginConnect(Socket& socket);
  // Disconnects `socket` ("token expired") when its JWT expires.
  void ArmTokenExpiry(Socket& socket);
  void FinishConnect(const std::string& nsp, uint64_t handle, const absl::Status& broker_status);
  // Service middleware (connection_middleware.cc): describes the socket to
  // the namespace's services and arms the verdict timer.
  void RequestVerdict(Socket& socket);
  // A KIND_VERDICT delivered to the socket; ignored unless the socket
  // awaits one and it was addressed to the socket's own room alone.
  void ApplyVerdict(Socket& socket, const v1::Envelope& envelope);
  // A service's KIND_SET_DATA: socket.data becomes the envelope's, within
  // max_socket_data_bytes, and the broker's record follows.
  void SetSocketData(Socket& socket, const v1::Envelope& envelope);
  // Refuses a socket the middleware judged (or timed out on): counts
  // `outcome`, sends CONNECT_ERROR {message, data} and drops the socket.
  void RefuseJudged(Socket& socket, std::string_view outcome, std::string_view message,
                    std::string_view data_json);
  // Connection state recovery (connection_recovery.cc, recovery.h).
  // Gives a socket of a recovery namespace a new pid.
  void OfferRecovery(Socket& socket);
  // Where a fresh socket's session starts (what a recovery without an
  // offset replays from): the broker position once its rooms are confirmed.
  void MarkSessionStart(Socket& socket);
  // True when the CONNECT claims a saved session and the broker was asked;
  // FinishRecovery answers (or falls back to BeginConnect).
  bool StartRecovery(Socket& socket);
  void FinishRecovery(const std::string& nsp, uint64_t handle,
                      absl::StatusOr<bridge::Recovery> recovery);
  // Reports a connected socket to the broker's socket records; its close,
  // recoverable when its namespace has recovery and `reason` is
  // recoverable.
  void RecordOpen(Socket& socket);
  void RecordClose(Socket& socket, std::string_view reason);
  // What client events mean (connection_events.cc).
  // The client commands HandleEvent serves, with the names they take: the
  // decoder hands them over in Packet::names.
  static absl::Span<const NamedArguments> ClientCommands();
  void HandleEvent(Socket& socket, Packet& packet);
  // Takes one token from the socket's rate bucket; false when empty.
  bool TakeRateToken(Socket& socket);
  // The same for the session's CONNECT/DISCONNECT bucket.
  bool TakeNamespaceToken();
  // Answers an event refused by the rate limit, per the policy.
  void RefuseOverRate(Socket& socket, const Packet& packet);
  void HandleClientAck(Socket& socket, Packet& packet);
  void HandleJoin(Socket& socket, const Packet& packet);
  // What answers a client join once the broker confirmed (or refused) it.
  std::function<void(absl::Status)> JoinAck(const std::string& room, uint64_t handle,
                                            uint64_t ack_id);
  void HandleLeave(Socket& socket, const Packet& packet);
  void HandlePublish(Socket& socket, Packet& packet);
  void Relay(Socket& socket, const Packet& packet);
  void Forward(Socket& socket, Packet& packet);
  void DeliverEvent(Socket& socket, const Dispatch& dispatch);

  // Answers the client's ack `ack_id` on `socket`'s namespace with `json`
  // (one JSON value) when the client asked for one.
  void AckJson(const Socket& socket, std::optional<uint64_t> ack_id, std::string_view json);
  // Removes the socket; notifies services; logs. Sends DISCONNECT first when
  // `tell_client`.
  void CloseSocket(Socket& socket, std::string_view reason, bool tell_client);
  // Protocol error: log and close the session ("parse error").
  void Fail(std::string_view why);
  void Send(engineio::OutboundMessage message);
  void Send(const engineio::SharedOutbound& message);
  void PublishToService(Socket& socket, v1::Envelope envelope);
  std::weak_ptr<bool> Token() const { return alive_; }
  // Cancels and frees connect_timer_.
  void StopConnectTimer() { connect_timer_.reset(); }

  engineio::Session& session_;
  std::shared_ptr<Shard> shard_;
  const ConnectionOptions options_;
  Decoder decoder_;
  // namespace name -> its socket (connecting or connected)
  absl::flat_hash_map<std::string, std::unique_ptr<Socket>> sockets_;
  // Armed until some namespace connects (or the session closes), then
  // freed: an idle connected socket does not keep a timer object.
  std::unique_ptr<engineio::Timer> connect_timer_;
  // Armed while a binary packet waits for its attachments, else null.
  std::unique_ptr<engineio::Timer> attachment_timer_;
  // CONNECT and DISCONNECT packets (ConnectionOptions::message_rate).
  base::TokenBucket namespace_rate_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool closed_ = false;          // OnClose ran
  bool failed_ = false;          // a protocol error closed the session
  bool ever_connected_ = false;  // some namespace was connected once
};

}  // namespace roomq::gateway::socketio

#endif  // ROOMQ_GATEWAY_SOCKETIO_CONNECTION_H_
