#ifndef ROOMQ_CLIENTS_SRC_CLIENT_CORE_H_
#define ROOMQ_CLIENTS_SRC_CLIENT_CORE_H_

// The engine behind roomq::Client (private): the I/O thread running the
// Link, the bounded command queue feeding it, and the state only that
// thread touches (subscriptions, service handlers, pending acks).
//
// Thread safety: the public methods may be called from any thread; they
// only append to the queue (guarded by mutex_) and wake the I/O thread
// through an eventfd polled next to the Link's sockets. Everything under
// "I/O thread state" is touched by the I/O thread only.
//
// Shutdown: Stop() refuses further posts, lets the I/O thread run what was
// queued before it, cancels pending acks and subscription readiness, then
// destroys the Link (Goodbye) and the ZeroMQ context.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/node/link.h"
#include "proto/roomq.pb.h"
#include "roomq/client.h"

namespace roomq::internal {

// Builds a Message from a delivered envelope (and its delivery header).
Message MessageFromEnvelope(const v1::Envelope& envelope, const v1::Delivery* header);

// True when a native subscription to `rooms` (empty = namespace alone) of
// the envelope's namespace should see this event (see client.h).
bool SubscriptionMatches(const std::vector<std::string>& rooms, const v1::Envelope& envelope);

class ClientCore : public std::enable_shared_from_this<ClientCore> {
 public:
  explicit ClientCore(ClientOptions options);
  ~ClientCore();

  // Starts the I/O thread; returns once the Link exists (or failed).
  absl::Status Start();
  // See the file comment. Idempotent. Not from the I/O thread.
  void Stop();

  const std::string& node_id() const { return node_id_; }
  bool broker_connected() const { return broker_connected_.load(); }
  bool OnIoThread() const { return std::this_thread::get_id() == io_thread_id_; }
  Client::Stats stats() const;
  const ClientOptions& options() const { return options_; }

  // Queues `envelope` for the broker (bounded; see client.h).
  absl::Status Publish(v1::Envelope envelope, PublishCallback on_published);
  // Queues a KIND_EVENT with ack_id/reply_to set and waits for the answer.
  absl::Status PublishWithAck(v1::Envelope envelope, AckCallback on_ack,
                              std::chrono::milliseconds timeout);
  absl::Status Flush(std::chrono::milliseconds timeout);

  // Subscriptions. Returns the id (never 0) and sets `ready`.
  uint64_t AddSubscription(std::string ns, std::vector<std::string> rooms, MessageHandler handler,
                           std::function<void(absl::Status)> on_ready,
                           std::shared_future<absl::Status>& ready);
  void CancelSubscription(uint64_t id);

  // Service handlers.
  void SetConnectionHandler(std::string ns, ConnectionHandler handler);
  void SetDisconnectionHandler(std::string ns, DisconnectionHandler handler);
  void SetEventHandler(std::string ns, std::string event, EventHandler handler);
  std::shared_future<absl::Status> Listen(std::string ns);

 private:
  using Command = std::function<void()>;
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
    bool subscribed = false;
    std::shared_future<absl::Status> listening;
  };
  struct PendingAck {
    Clock::time_point deadline;
    AckCallback callback;
  };

  // Appends a command; `bounded` ones are refused at max_queued_emits.
  absl::Status Post(Command command, bool bounded);
  void Run(std::promise<absl::Status> started);
  void DrainCommands();
  void OnDelivery(node::Delivery& delivery);
  void DispatchRooms(const v1::Envelope& envelope, const v1::Delivery& header);
  void DispatchService(const v1::Envelope& envelope, const v1::Delivery& header);
  void DispatchAck(const v1::Envelope& envelope, const v1::Delivery& header);
  void ExpireAcks(Clock::time_point now);
  void EnsureServiceSubscribed(const std::string& ns);
  void AddTopic(const std::string& ns, const std::string& room,
                std::function<void(absl::Status)> done);
  void RemoveTopic(const std::string& ns, const std::string& room);
  void RemoveSubscription(uint64_t id);
  RemoteSocket MakeSocket(const v1::Envelope& envelope);
  Ack MakeAck(const v1::Envelope& envelope);

  const ClientOptions options_;
  std::string node_id_;
  std::thread thread_;
  std::thread::id io_thread_id_;
  int wake_fd_ = -1;
  std::atomic<bool> broker_connected_{false};
  std::atomic<uint64_t> next_ack_id_{1};
  std::atomic<uint64_t> next_subscription_id_{1};
  std::atomic<uint64_t> rejected_full_{0};
  std::atomic<uint64_t> stat_published_{0}, stat_delivered_{0}, stat_malformed_{0},
      stat_reconnects_{0};

  std::mutex mutex_;
  struct Queued {
    Command run;
    bool bounded;
  };
  std::deque<Queued> queue_;   // guarded by mutex_
  size_t queued_bounded_ = 0;  // guarded by mutex_
  bool closed_ = false;        // guarded by mutex_: no more posts
  bool stopping_ = false;      // guarded by mutex_: the I/O thread should finish
  std::mutex stop_mutex_;      // serializes Stop()

  // I/O thread state.
  zmq::context_t context_;
  std::unique_ptr<node::Link> link_;
  std::map<uint64_t, SubscriptionEntry> subscriptions_;
  std::map<std::string, int> topic_refs_;  // (ns, room) key -> subscriptions using it
  std::map<std::string, ServiceEntry, std::less<>> services_;
  std::map<uint64_t, PendingAck> pending_acks_;
};

}  // namespace roomq::internal

#endif  // ROOMQ_CLIENTS_SRC_CLIENT_CORE_H_
