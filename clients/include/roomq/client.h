#ifndef ROOMQ_CLIENTS_INCLUDE_ROOMQ_CLIENT_H_
#define ROOMQ_CLIENTS_INCLUDE_ROOMQ_CLIENT_H_

// roomq::Client: the native API, read like the Socket.IO server API.
//
//   auto client = roomq::Client::Connect(options);            // StatusOr<unique_ptr<Client>>
//   (*client)->Of("/chat").To("general").Except("muted").Emit("chat message",
//   roomq::Args().Json(R"({"text":"hi"})"));
//   (*client)->Of("/chat").Emit("news", args);                 // io.of("/chat").emit
//   (*client)->Of("/chat").ExceptSocket(sid).To("r").Emit(...); // socket.to("r").emit
//   (*client)->Of("/chat").In("general").SocketsJoin("vip");   //
//   io.in("general").socketsJoin("vip")
//   (*client)->Of("/").To(sid).EmitWithAck("ev", args, [](absl::StatusOr<roomq::Message> answer)
//   {...}); auto sub = (*client)->Of("/chat").Subscribe({"general"}, [](const roomq::Message& m)
//   {...});
//   // Native service behind gateways (CHANNEL_SERVICE, proto/README.md "Gateway conventions"):
//   (*client)->Of("/").OnConnection([](roomq::RemoteSocket& s) { s.Emit("auth", ...); s.Join("r");
//   });
//   (*client)->Of("/").On("message", [](roomq::RemoteSocket& s, const roomq::Message& m, roomq::Ack
//   ack) { ack(roomq::Args::From(m)); });
//
// Threads: a Client owns one internal I/O thread that runs the broker Link
// (proto/node/link_thread.h) and every callback (subscription handlers, service
// handlers, ack and publish callbacks, on_broker_state): "the client's
// thread". Callbacks run one at a time, so they need no locking among
// themselves, but they must not block: while one runs nothing is received.
// Every other method is thread-safe and may be called from any thread,
// including from inside callbacks, except the blocking ones noted below.
//
// Emits and every other publish are posted to the I/O thread through a
// bounded queue of ClientOptions::max_queued_emits (default 65536) entries.
// At the bound an emit is NOT queued and returns ResourceExhausted at once
// (never blocks). Subscriptions and handler registrations are control
// commands and are never refused.
//
// Recovery: broker outages are handled by the Link; subscriptions and
// service handlers survive broker restarts without the caller doing
// anything. Publishes made while the broker is down wait in ZeroMQ's queue
// (up to send_hwm) and go out when it returns; those already in flight when
// it died are lost. Delivery is at most once: use Emit with a
// PublishCallback to learn whether the broker took an event (Unavailable
// after receipt_timeout).
//
// Delivery semantics of native subscriptions: a Subscription to rooms R in
// namespace N behaves like a socket that joined R: it receives events sent
// to any room of R (once per event even when several rooms match) and every
// namespace-wide event of N, and it is skipped when the event's
// except_rooms name a room of R. Subscribe({}) subscribes to the namespace
// alone (namespace-wide events only).

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/node/curve.h"
#include "proto/node/endpoints.h"
#include "roomq/args.h"
#include "roomq/message.h"

namespace roomq {

namespace internal {
class ClientCore;
struct MiddlewareRun;
}  // namespace internal

struct ClientOptions {
  std::string broker_pub = node::kDefaultPubEndpoint;  // the broker's --pub-bind
  std::string broker_sub = node::kDefaultSubEndpoint;  // the broker's --sub-bind
  std::string node_prefix = "client";                  // node id "<prefix>-<host>-<pid>-<random>"
  // The service's queue group ("" = node_prefix). Instances in one group
  // share the service events of every namespace they serve: each
  // connection, disconnection and client event goes to one live instance,
  // the same one for every event of a socket while the group's instances
  // stay the same. When an instance dies its sockets move to the others
  // once the broker expires it (3 heartbeats). Instances of different
  // groups each get every event.
  std::string service_group;
  std::chrono::milliseconds heartbeat{1000};  // broker ping period
  // Publish receipts (Emit with a callback) and subscription confirmations
  // report Unavailable after this long without a broker answer.
  std::chrono::milliseconds receipt_timeout{5000};
  // Default EmitWithAck timeout: DeadlineExceeded when no answer came.
  std::chrono::milliseconds ack_timeout{5000};
  // Bound of the emit queue towards the I/O thread (entries).
  size_t max_queued_emits = 65536;
  int send_hwm = 100000;  // ZMQ_SNDHWM towards the broker (messages)
  // Deliveries queued from the broker, about (LinkOptions::receive_hwm).
  int receive_hwm = 100000;
  // Broker up/down transitions; runs on the client's thread.
  std::function<void(bool connected)> on_broker_state;
  // CURVE to the broker (roomq/curve.h); default (empty) = plain TCP.
  node::CurveClientOptions curve;
};

// OK once the broker accepted the envelope (with a receipt); Unavailable
// when it did not answer in time; FailedPrecondition when it refused.
using PublishCallback = std::function<void(absl::Status)>;
// The answer of one socket (args in args_json/attachments, socket_id set),
// DeadlineExceeded on timeout, Cancelled when the client closed.
using AckCallback = std::function<void(absl::StatusOr<Message>)>;
// The answers of every target socket of a broadcast (socket_id set on
// each): OK once all the broker counted are in, DeadlineExceeded at the
// timeout, the publish's error, or Cancelled, each with the answers so far
// (Socket.IO's (err, responses)).
using BroadcastAckCallback = std::function<void(absl::Status, std::vector<Message> answers)>;
using MessageHandler = std::function<void(const Message&)>;

// A connected socket as the broker's presence records show it (Socket.IO's
// RemoteSocket from fetchSockets()), whichever gateway holds it.
struct SocketInfo {
  std::string id;
  std::string ns;
  std::vector<std::string> rooms;  // every room it is in, its own id room included
  std::string data;                // socket.data, JSON text ("" = none)
  std::string address;             // the client's TCP peer, "ip:port"
  std::string user_agent;          // the User-Agent header (with address, at most 512 bytes)
  std::string subject;             // the JWT `sub` it was admitted with ("" = no JWT auth)
  std::string gateway;             // node id of the gateway holding it
};
// All the selected sockets, or why not.
using SocketsCallback = std::function<void(absl::StatusOr<std::vector<SocketInfo>>)>;
// One page (last = true on the final one, and with an error); return false
// to stop asking for more.
using SocketPageHandler =
    std::function<bool(absl::StatusOr<std::vector<SocketInfo>> page, bool last)>;
using CountCallback = std::function<void(absl::StatusOr<uint64_t>)>;

// A live native subscription. Destroying it (or Cancel()) unsubscribes.
// Move-only. Thread-safe.
class Subscription {
 public:
  Subscription() = default;
  Subscription(Subscription&& other) noexcept;
  Subscription& operator=(Subscription&& other) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription();

  // Stops deliveries. From any thread but the client's, it returns once the
  // handler is no longer called (it waits for a running handler); from
  // inside a callback it takes effect for every later delivery.
  void Cancel();
  // Resolves once the broker confirmed every topic of the subscription:
  // OK, Unavailable after receipt_timeout (the subscription stays active and
  // is restored when the broker is back), or Cancelled when the client
  // closed first. Never wait on it from the client's thread.
  const std::shared_future<absl::Status>& ready() const { return ready_; }
  bool active() const { return id_ != 0; }

 private:
  friend class Namespace;
  Subscription(std::weak_ptr<internal::ClientCore> core, uint64_t id,
               std::shared_future<absl::Status> ready);

  std::weak_ptr<internal::ClientCore> core_;
  uint64_t id_ = 0;
  std::shared_future<absl::Status> ready_;
};

// A target selection, like Socket.IO's BroadcastOperator: immutable, each
// call returns a refined copy. Rooms are ORed (an event reaches each target
// socket once); Except() rooms are subtracted. A socket id is a room.
// Every publishing method returns at once: OK (queued), InvalidArgument
// (bad namespace, room, event or args), ResourceExhausted (queue full),
// FailedPrecondition (client closed).
class BroadcastOperator {
 public:
  BroadcastOperator To(std::string_view room) const;
  BroadcastOperator To(const std::vector<std::string>& rooms) const;
  BroadcastOperator To(std::initializer_list<std::string_view> rooms) const {
    return To(std::vector<std::string>(rooms.begin(), rooms.end()));
  }
  BroadcastOperator In(std::string_view room) const { return To(room); }
  BroadcastOperator In(const std::vector<std::string>& rooms) const { return To(rooms); }
  BroadcastOperator In(std::initializer_list<std::string_view> rooms) const { return To(rooms); }
  BroadcastOperator Except(std::string_view room) const;
  BroadcastOperator Except(const std::vector<std::string>& rooms) const;
  BroadcastOperator Except(std::initializer_list<std::string_view> rooms) const {
    return Except(std::vector<std::string>(rooms.begin(), rooms.end()));
  }
  // Skips one socket (sender exclusion, like socket.broadcast / socket.to).
  BroadcastOperator ExceptSocket(std::string_view socket_id) const;

  absl::Status Emit(std::string_view event, const Args& args = Args()) const;
  // As Emit, and `on_published` runs once the broker confirmed (or not).
  absl::Status Emit(std::string_view event, const Args& args, PublishCallback on_published) const;
  // Emits to exactly one socket (To(socket_id)) and waits for its ack.
  // InvalidArgument unless exactly one room (the socket id) is targeted.
  absl::Status EmitWithAck(std::string_view event, const Args& args, AckCallback on_ack,
                           std::optional<std::chrono::milliseconds> timeout = std::nullopt) const;
  // io.timeout(ms).to(room).emit(event, ..., (err, responses) => ...):
  // emits to every selected socket on every gateway and collects one answer
  // per socket. How many to wait for is the broker's count of the selected
  // connected sockets as it routed the event (its socket records, which
  // follow each gateway's joins a moment later: a socket joining or leaving
  // meanwhile may be counted and not answer, or the reverse). Waits up to
  // Timeout() (default ClientOptions::ack_timeout).
  absl::Status EmitWithAck(std::string_view event, const Args& args,
                           BroadcastAckCallback on_answers) const;
  // The ack timeout of EmitWithAck on this selection.
  BroadcastOperator Timeout(std::chrono::milliseconds timeout) const;

  // Makes the selected sockets join / leave rooms, or disconnects them
  // (gateways carry these out; native subscribers are not affected).
  absl::Status SocketsJoin(const std::vector<std::string>& rooms) const;
  absl::Status SocketsJoin(std::initializer_list<std::string_view> rooms) const {
    return SocketsJoin(std::vector<std::string>(rooms.begin(), rooms.end()));
  }
  absl::Status SocketsJoin(std::string_view room) const {
    return SocketsJoin(std::vector<std::string>(1, std::string(room)));
  }
  absl::Status SocketsLeave(const std::vector<std::string>& rooms) const;
  absl::Status SocketsLeave(std::initializer_list<std::string_view> rooms) const {
    return SocketsLeave(std::vector<std::string>(rooms.begin(), rooms.end()));
  }
  absl::Status SocketsLeave(std::string_view room) const {
    return SocketsLeave(std::vector<std::string>(1, std::string(room)));
  }
  absl::Status DisconnectSockets(std::string_view reason = "") const;

  // Presence, answered by the broker from its socket records (every
  // gateway's sockets, no gateway asked; proto/README.md "Presence"): the
  // connected sockets in any of the selected rooms (none: the whole
  // namespace), minus Except() rooms and ExceptSocket(). Callbacks run on
  // the client's thread. Errors: InvalidArgument at once (a bad selection,
  // over 100 rooms or except rooms) or from the broker, Unavailable (no
  // broker answer within receipt_timeout), Cancelled (the client closed).
  //
  // io.in(room).fetchSockets(): every selected socket, in socket id order.
  absl::Status FetchSockets(SocketsCallback done) const;
  // The same in pages of up to `page_size` (1..1000) sockets, for large
  // rooms: a socket connected throughout the walk is listed exactly once,
  // one that comes or goes meanwhile at most once.
  absl::Status FetchSocketPages(size_t page_size, SocketPageHandler on_page) const;
  // How many sockets are selected (one broker answer).
  absl::Status CountSockets(CountCallback done) const;

  const std::string& ns() const { return ns_; }
  const std::vector<std::string>& rooms() const { return rooms_; }
  const std::vector<std::string>& except_rooms() const { return except_rooms_; }
  const std::string& except_socket() const { return except_socket_; }

 protected:
  friend class Client;
  friend class RemoteSocket;
  BroadcastOperator(std::shared_ptr<internal::ClientCore> core, std::string ns)
      : core_(std::move(core)), ns_(std::move(ns)) {}

  std::shared_ptr<internal::ClientCore> core_;
  std::string ns_;
  std::vector<std::string> rooms_;
  std::vector<std::string> except_rooms_;
  std::string except_socket_;
  std::optional<std::chrono::milliseconds> timeout_;
};

// The answer to one client event that asked for an ack (Socket.IO's
// callback argument). Copyable; only the first call answers.
class Ack {
 public:
  Ack() = default;
  // False when the client did not ask for an ack (calling it is a no-op).
  bool requested() const { return core_ != nullptr; }
  // Sends `args` back to the asking client. FailedPrecondition when not
  // requested or already answered; otherwise as BroadcastOperator::Emit.
  absl::Status operator()(const Args& args = Args()) const;

 private:
  friend class internal::ClientCore;
  std::shared_ptr<internal::ClientCore> core_;
  std::string ns_;
  std::string socket_id_;
  uint64_t ack_id_ = 0;
  std::shared_ptr<std::atomic<bool>> answered_;
};

// A Socket.IO socket connected to some gateway, as a native service sees
// it. Copyable; usable from any thread while its Client lives.
class RemoteSocket {
 public:
  const std::string& id() const { return id_; }
  const std::string& ns() const { return ns_; }
  // The CONNECT auth payload as JSON text ("{}" when none); connection events.
  const std::string& auth() const { return auth_; }
  // The socket's rooms when it disconnected; disconnection events.
  const std::vector<std::string>& rooms() const { return rooms_; }
  // Socket.IO disconnect reason; disconnection events.
  const std::string& reason() const { return reason_; }
  // Node id of the gateway holding the socket.
  const std::string& gateway() const { return gateway_; }
  // socket.data as JSON text, as the namespace middleware or SetData set
  // it ("" = none); every lifecycle and client event carries it.
  const std::string& data() const { return data_; }
  // socket.data = value: the gateway holding the socket replaces its data
  // with `data_json` (a JSON value; "" clears it), which every later event
  // of the socket, presence and a recovered session carry. Over the
  // gateway's --max-socket-data-bytes (16 KiB by default) the gateway keeps
  // the old data and counts it. Returns as Emit; data() changes at once.
  absl::Status SetData(std::string_view data_json);

  absl::Status Emit(std::string_view event, const Args& args = Args()) const;
  absl::Status EmitWithAck(std::string_view event, const Args& args, AckCallback on_ack,
                           std::optional<std::chrono::milliseconds> timeout = std::nullopt) const;
  absl::Status Join(std::string_view room) const;
  absl::Status Leave(std::string_view room) const;
  absl::Status Disconnect(std::string_view reason = "") const;
  // socket.to(room): everyone in `room` except this socket.
  BroadcastOperator To(std::string_view room) const;
  // socket.broadcast: the whole namespace except this socket.
  BroadcastOperator Broadcast() const;
  // socket.nsp: the socket's whole namespace (the child's, for a socket of
  // a family served with Client::OfPattern).
  BroadcastOperator Nsp() const;

 private:
  friend class internal::ClientCore;
  std::shared_ptr<internal::ClientCore> core_;
  std::string ns_, id_, auth_, reason_, gateway_, data_;
  std::vector<std::string> rooms_;
};

// A socket asking to connect to a namespace whose gateway config says
// `middleware: required`, as a middleware sees it (Socket.IO's
// io.of(ns).use((socket, next) => ...)).
struct Handshake {
  std::string socket_id;
  std::string ns;
  std::string auth;     // the CONNECT auth payload, JSON text ("{}" when none)
  std::string query;    // raw query string of the Engine.IO handshake
  std::string address;  // the TCP peer, "ip:port"
  // Request headers ("" when absent; each cut to 512 bytes).
  std::string origin;
  std::string user_agent;
  std::string forwarded_for;  // X-Forwarded-For as sent: the client may forge it
  std::string gateway;        // node id of the gateway holding the socket
  // socket.data, JSON text: what a middleware sets here goes with the
  // admitted socket (at most the gateway's --max-socket-data-bytes, 16 KiB
  // by default, or the CONNECT is refused).
  std::string data;
};

// next(roomq::Refuse("not authorized", R"({"retry":false})")): the client's
// connect_error handler gets an Error whose message is `message` and whose
// data is the JSON value `data_json` (left out when "" or not JSON).
struct Refusal {
  std::string message;
  std::string data_json;
};
inline Refusal Refuse(std::string message, std::string data_json = "") {
  return Refusal{std::move(message), std::move(data_json)};
}

// The `next` of one middleware. Copyable; callable from any thread, also
// later (an asynchronous check); only the first call counts. Not calling it
// leaves the socket waiting until the gateway's --middleware-timeout-ms
// refuses it.
class Next {
 public:
  // Passes the socket on to the next middleware; after the last, admits it.
  void operator()() const;
  // Refuses the CONNECT; later middlewares do not run.
  void operator()(const Refusal& refusal) const;

 private:
  friend class internal::ClientCore;
  std::shared_ptr<internal::ClientCore> core_;
  std::shared_ptr<internal::MiddlewareRun> run_;
  size_t step_ = 0;
  std::shared_ptr<std::atomic<bool>> called_;
};

using Middleware = std::function<void(Handshake& handshake, Next next)>;

using ConnectionHandler = std::function<void(RemoteSocket& socket)>;
using DisconnectionHandler = std::function<void(RemoteSocket& socket)>;
using EventHandler = std::function<void(RemoteSocket& socket, const Message& message, Ack ack)>;

// io.of(ns): a namespace, the whole-namespace target and the place to
// subscribe or serve. Cheap to copy.
class Namespace : public BroadcastOperator {
 public:
  // Room subscriber: `handler` runs for every event to any of `rooms` (and
  // every namespace-wide event); `{}` = the namespace alone. `on_ready`
  // (optional, client's thread) gets the same status as ready().
  // An invalid namespace or room yields an inactive Subscription whose
  // ready() holds InvalidArgument.
  Subscription Subscribe(const std::vector<std::string>& rooms, MessageHandler handler,
                         std::function<void(absl::Status)> on_ready = nullptr) const;

  // Service handlers (CHANNEL_SERVICE of this namespace). Registering the
  // first one subscribes the service topic; a later registration for the
  // same event replaces the earlier handler. Events without a handler are
  // ignored (a client waiting for an ack gets none).
  void OnConnection(ConnectionHandler handler) const;
  void OnDisconnection(DisconnectionHandler handler) const;
  void On(std::string_view event, EventHandler handler) const;
  // Namespace middleware (io.of(ns).use): runs for every CONNECT the
  // gateway asks this service to judge (config `middleware: required`),
  // in registration order, each passing on with next() or refusing with
  // next(Refuse(...)). A service without middleware for the namespace
  // never answers. Of a queue group one instance judges each socket;
  // serve a namespace's middleware from one group: the first verdict
  // decides. A recovered socket is not judged again (as Socket.IO).
  void Use(Middleware middleware) const;
  // io.serverSideEmit(event, args): reaches every other service instance
  // of this namespace (every client that registered a handler on it,
  // whatever its queue group), not the sockets and not this client. No
  // acks. Returns as Emit.
  absl::Status ServerSideEmit(std::string_view event, const Args& args = Args()) const;
  // io.on(event) for ServerSideEmit of the other instances; `handler` gets
  // the event (Message::ns, event, args; socket_id empty). A later
  // registration for the same event replaces the earlier one.
  void OnServerSideEmit(std::string_view event, MessageHandler handler) const;
  // Resolves once the broker confirmed this namespace's service
  // subscription (subscribing it if no handler did yet).
  std::shared_future<absl::Status> Listening() const;

 private:
  friend class Client;
  using BroadcastOperator::BroadcastOperator;
};

class Client {
 public:
  // Starts the I/O thread and the broker Link. The broker need not be up:
  // the client connects (and subscribes) whenever it appears.
  // InvalidArgument for bad options; Internal when sockets cannot be made.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(ClientOptions options = {});
  // Close().
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // io.of(ns). The name is validated when used.
  Namespace Of(std::string_view ns) const;
  // io.of(/^\/tenant-\w+$/): serves every namespace a gateway makes from the
  // config `pattern` with exactly this text ("^/tenant-\\w+$"). Register
  // service handlers and middleware on it; RemoteSocket::ns() and
  // Handshake::ns name the child, and socket.nsp.emit(...) is
  // Of(socket.ns()).Emit(...). Not a target: emits on it are refused.
  Namespace OfPattern(std::string_view pattern) const;
  const std::string& node_id() const;
  bool broker_connected() const;

  // Waits until everything queued before the call was handed to the broker
  // socket. DeadlineExceeded on timeout; FailedPrecondition from the
  // client's own thread or after Close().
  absl::Status Flush(std::chrono::milliseconds timeout);

  // Hands what is queued to the broker socket, completes pending acks with
  // Cancelled, says Goodbye to the broker and joins the I/O thread.
  // Callbacks still waiting for publish receipts are dropped. Idempotent.
  // From inside a callback it does not wait: the client stops once the
  // callback returns.
  void Close();

  struct Stats {
    uint64_t published;          // envelopes handed to the broker socket
    uint64_t delivered;          // deliveries received
    uint64_t dropped_malformed;  // malformed broker frames dropped
    uint64_t reconnects;         // Link re-registrations
    uint64_t rejected_full;      // emits refused at the queue bound
  };
  Stats stats() const;

 private:
  explicit Client(std::shared_ptr<internal::ClientCore> core) : core_(std::move(core)) {}
  std::shared_ptr<internal::ClientCore> core_;
};

}  // namespace roomq

#endif  // ROOMQ_CLIENTS_INCLUDE_ROOMQ_CLIENT_H_
