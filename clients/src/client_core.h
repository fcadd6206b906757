#ifndef ROOMQ_CLIENTS_SRC_CLIENT_CORE_H_
#define ROOMQ_CLIENTS_SRC_CLIENT_CORE_H_

// The engine behind roomq::Client (private): the client's side of a
// node::LinkThread (proto/node/link_thread.h), which runs the Link, the
// bounded command queue feeding it and the topic reference counts, plus the
// state only the link thread touches (subscriptions, service handlers,
// pending acks).
//
// Thread safety: the public methods may be called from any thread; they
// only post commands to the LinkThread. Everything under "Link thread
// state" is touched by commands and hooks only, i.e. on the link thread.
//
// Queue: publishes (emits, acks, joins...) are bounded commands, refused at
// ClientOptions::max_queued_emits with ResourceExhausted and counted in
// stats().rejected_full; subscriptions, handler registrations and flush
// markers are unbounded (never refused).
//
// Shutdown: Stop() refuses further posts (FailedPrecondition), lets the link
// thread run everything queued before it, cancels pending acks and
// subscription readiness, then destroys the Link (Goodbye) and the ZeroMQ
// context.

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "clients/src/broadcast_acks.h"
#include "proto/node/link.h"
#include "proto/node/link_thread.h"
#include "proto/roomq.pb.h"
#include "roomq/client.h"

namespace roomq::internal {

// A target selection's namespace and rooms are valid topics (no empty room):
// what every publish and presence query checks before it is queued.
absl::Status ValidateTargets(const std::string& ns, const std::vector<std::string>& rooms,
                             const std::vector<std::string>& except_rooms);

// Builds a Message from a delivered envelope (and its delivery header).
Message MessageFromEnvelope(const v1::Envelope& envelope, const v1::Delivery* header);

// One socket's way through a namespace's middlewares (Namespace::Use):
// the chain as it was when the handshake arrived, and what the middlewares
// made of the handshake. Touched on the link thread only.
struct MiddlewareRun {
  Handshake handshake;
  std::shared_ptr<const std::vector<Middleware>> chain;
};

// True when a native subscription to `rooms` (empty = namespace alone) of
// the envelope's namespace should see this event (see client.h).
bool SubscriptionMatches(const std::vector<std::string>& rooms, const v1::Envelope& envelope);

class ClientCore : public std::enable_shared_from_this<ClientCore> {
 public:
  explicit ClientCore(ClientOptions options);
  ~ClientCore();

  // Starts the link thread; returns once the Link exists (or failed).
  absl::Status Start();
  // See the file comment. Idempotent. From the link thread (a callback) it
  // returns at once and the thread finishes after the callback.
  void Stop();

  // Valid once Start returned OK.
  const std::string& node_id() const { return link_thread_.node_id(); }
  bool broker_connected() const { return link_thread_.broker_connected(); }
  bool OnIoThread() const { return link_thread_.OnLinkThread(); }
  Client::Stats stats() const;
  const ClientOptions& options() const { return options_; }

  // Queues `envelope` for the broker (bounded; see client.h).
  absl::Status Publish(v1::Envelope envelope, PublishCallback on_published);
  // Queues a KIND_EVENT with ack_id/reply_to set and waits for the answer.
  absl::Status PublishWithAck(v1::Envelope envelope, AckCallback on_ack,
                              std::chrono::milliseconds timeout);
  // Queues a KIND_EVENT to many sockets with ack_id/reply_to/confirm set and
  // collects their answers (broadcast_acks.h).
  absl::Status PublishWithAcks(v1::Envelope envelope, BroadcastAckCallback on_answers,
                               std::chrono::milliseconds timeout);
  absl::Status Flush(std::chrono::milliseconds timeout);

  // Presence (BroadcastOperator::FetchSockets): asks the broker for the
  // pages of `query` one after another, from the link thread, handing each
  // to `on_page` (a refusal as InvalidArgument) until it returns false, the
  // last page was handed, or an error was. Cancelled when the client
  // closes first. Bounded like a publish.
  using PresencePageHandler = std::function<bool(absl::StatusOr<v1::PresenceAnswer>)>;
  absl::Status QueryPresence(v1::Presence query, PresencePageHandler on_page);

  // Subscriptions. Returns the id (never 0) and sets `ready`.
  uint64_t AddSubscription(std::string ns, std::vector<std::string> rooms, MessageHandler handler,
                           std::function<void(absl::Status)> on_ready,
                           std::shared_future<absl::Status>& ready);
  void CancelSubscription(uint64_t id);

  // Service handlers.
  void SetConnectionHandler(std::string ns, ConnectionHandler handler);
  void SetDisconnectionHandler(std::string ns, DisconnectionHandler handler);
  void SetEventHandler(std::string ns, std::string event, EventHandler handler);
  void SetServerEventHandler(std::string ns, std::string event, MessageHandler handler);
  std::shared_future<absl::Status> Listen(const std::string& ns);
  void AddMiddleware(std::string ns, Middleware middleware);
  // From Next, any thread: runs middleware `step` of `run` on the link
  // thread (admits after the last) / sends the refusal.
  void ContinueMiddleware(std::shared_ptr<MiddlewareRun> run, size_t step);
  void RefuseMiddleware(const std::shared_ptr<MiddlewareRun>& run, const Refusal& refusal);

 private:
  using Command = node::LinkThread::Command;
  using Clock = std::chrono::steady_clock;

  struct SubscriptionEntry {
    std::string ns;
    std::vector<std::string> rooms;
    MessageHandler handler;
    bool cancelled = false;
  };
  struct ServiceEntry {
    ConnectionHandler on_connection;
    DisconnectionHandler on_disconnection;
    std::map<std::string, EventHandler, std::less<>> on_event;
    std::map<std::string, MessageHandler, std::less<>> on_server_event;  // ServerSideEmit
    // Replaced, never changed in place: a run in flight keeps its chain.
    std::shared_ptr<const std::vector<Middleware>> middlewares;
    bool subscribed = false;
    std::shared_future<absl::Status> listening;
  };
  struct PendingAck {
    Clock::time_point deadline;
    AckCallback callback;
  };

  // On the link thread: `update` changes the service entry of `ns`, whose
  // service topic is then subscribed if it was not.
  void UpdateService(std::string ns, std::function<void(ServiceEntry&)> update);
  // Sets a fresh ack_id and reply_to = this node on `envelope`; returns the id.
  uint64_t AskForAcks(v1::Envelope& envelope);
  // Posts a command; `bounded` ones are refused at max_queued_emits.
  absl::Status Post(Command command, bool bounded);
  // The client's words for the LinkThread's refusals.
  absl::Status ClientStatus(absl::Status status) const;
  // Link thread hooks.
  std::chrono::milliseconds PollWait() const;
  void AfterLoop(node::Link& link);
  void Shutdown();
  void OnDelivery(node::Delivery& delivery);
  void DispatchRooms(const v1::Envelope& envelope, const v1::Delivery& header);
  void DispatchService(const v1::Envelope& envelope, const v1::Delivery& header);
  void DispatchAck(const v1::Envelope& envelope, const v1::Delivery& header);
  void ExpireAcks(Clock::time_point now);
  void EnsureServiceSubscribed(node::Link& link, const std::string& ns);
  void AddTopic(const std::string& ns, const std::string& room,
                std::function<void(absl::Status)> done);
  void RemoveTopic(const std::string& ns, const std::string& room);
  void RemoveSubscription(uint64_t id);
  RemoteSocket MakeSocket(const v1::Envelope& envelope);
  Ack MakeAck(const v1::Envelope& envelope);
  // Link thread: asks for the next page of presence walk `id`.
  void AskPresence(node::Link& link, uint64_t id);
  // Link thread: runs middleware `step` of `run`, or admits after the last.
  void RunMiddleware(const std::shared_ptr<MiddlewareRun>& run, size_t step);
  // Publishes the KIND_VERDICT for the run's socket.
  void SendVerdict(const Handshake& handshake, bool admitted, const std::string& message,
                   const std::string& data);

  const ClientOptions options_;
  std::atomic<uint64_t> next_ack_id_{1};
  std::atomic<uint64_t> next_subscription_id_{1};
  std::atomic<uint64_t> stat_published_{0}, stat_delivered_{0}, stat_malformed_{0},
      stat_reconnects_{0};

  // Link thread state.
  std::map<uint64_t, SubscriptionEntry> subscriptions_;
  std::map<std::string, ServiceEntry, std::less<>> services_;
  std::map<uint64_t, PendingAck> pending_acks_;
  BroadcastAcks broadcast_acks_;
  struct PresenceWalk {
    v1::Presence query;  // `after` moves on with each page
    PresencePageHandler on_page;
  };
  std::map<uint64_t, PresenceWalk> presence_walks_;
  uint64_t next_presence_walk_ = 1;

  // Last, so it is destroyed first.
  node::LinkThread link_thread_;
};

}  // namespace roomq::internal

#endif  // ROOMQ_CLIENTS_SRC_CLIENT_CORE_H_
