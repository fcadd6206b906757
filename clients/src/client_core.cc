#include "clients/src/client_core.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/wire/topic.h"
#include "spdlog/spdlog.h"

namespace roomq::internal {
namespace {

// Longest the link thread sleeps in Poll() when no ack deadline is closer;
// it is woken at once by posts, so this only bounds timer granularity.
constexpr std::chrono::milliseconds kMaxPollWait{100};

// Completes a subscription's readiness once every topic was confirmed.
struct ReadyState {
  std::promise<absl::Status> promise;
  std::function<void(absl::Status)> on_ready;
  int remaining = 0;
  absl::Status first_error;
  bool done = false;

  void Complete(const absl::Status& status) {
    if (done) return;
    done = true;
    promise.set_value(status);
    if (on_ready) on_ready(status);
  }
  void TopicDone(const absl::Status& status) {
    if (!status.ok() && first_error.ok()) first_error = status;
    if (--remaining <= 0) Complete(first_error);
  }
  ~ReadyState() {
    if (!done) promise.set_value(absl::CancelledError("client closed before the broker confirmed"));
  }
};

std::shared_future<absl::Status> ReadyFuture(absl::Status status) {
  std::promise<absl::Status> promise;
  promise.set_value(std::move(status));
  return promise.get_future().share();
}

}  // namespace

Message MessageFromEnvelope(const v1::Envelope& envelope, const v1::Delivery* header) {
  Message message;
  message.ns = envelope.namespace_();
  message.rooms.assign(envelope.rooms().begin(), envelope.rooms().end());
  message.except_rooms.assign(envelope.except_rooms().begin(), envelope.except_rooms().end());
  message.except_socket = envelope.except_socket();
  message.event = envelope.event();
  message.args_json = envelope.args().empty() ? "[]" : envelope.args();
  message.attachments.assign(envelope.attachments().begin(), envelope.attachments().end());
  message.socket_id = envelope.socket_id();
  if (envelope.has_ack_id()) message.ack_id = envelope.ack_id();
  message.origin = envelope.origin();
  message.message_id = envelope.message_id();
  message.timestamp_us = envelope.timestamp_us();
  if (header != nullptr) {
    message.epoch = header->epoch();
    for (const auto& offset : header->offsets()) {
      message.offsets.push_back({offset.topic().name(), offset.offset()});
    }
  }
  return message;
}

bool SubscriptionMatches(const std::vector<std::string>& rooms, const v1::Envelope& envelope) {
  if (envelope.rooms_size() > 0) {
    const bool targeted = std::any_of(rooms.begin(), rooms.end(), [&](const std::string& room) {
      return std::find(envelope.rooms().begin(), envelope.rooms().end(), room) !=
             envelope.rooms().end();
    });
    if (!targeted) return false;
  }
  for (const std::string& room : rooms) {
    if (std::find(envelope.except_rooms().begin(), envelope.except_rooms().end(), room) !=
        envelope.except_rooms().end()) {
      return false;
    }
  }
  return true;
}

namespace {

node::LinkThreadOptions LinkThreadOptionsFor(const ClientOptions& options) {
  node::LinkThreadOptions thread_options;
  node::LinkOptions& link = thread_options.link;
  link.pub_endpoint = options.broker_pub;
  link.sub_endpoint = options.broker_sub;
  link.node_prefix = options.node_prefix;
  link.heartbeat = options.heartbeat;
  link.receipt_timeout = options.receipt_timeout;
  link.send_hwm = options.send_hwm;
  link.receive_hwm = options.receive_hwm;
  link.curve = options.curve;
  thread_options.max_queued_bounded = options.max_queued_emits;
  thread_options.max_poll_wait = kMaxPollWait;
  return thread_options;
}

}  // namespace

ClientCore::ClientCore(ClientOptions options)
    : options_(std::move(options)), link_thread_(LinkThreadOptionsFor(options_)) {}

ClientCore::~ClientCore() { Stop(); }

absl::Status ClientCore::Start() {
  node::LinkThreadHooks hooks;
  hooks.on_delivery = [this](node::Delivery& delivery) { OnDelivery(delivery); };
  hooks.on_broker_state = [this](bool connected) {
    if (options_.on_broker_state) options_.on_broker_state(connected);
  };
  // Direct answers (acks to our EmitWithAck) come on our node topic.
  hooks.on_start = [](node::Link& link) { link.Subscribe(wire::NodeTopic(link.node_id())); };
  hooks.poll_wait = [this] { return PollWait(); };
  hooks.on_loop = [this](node::Link& link) { AfterLoop(link); };
  hooks.on_stop = [this](node::Link&) { Shutdown(); };
  // The thread keeps the core alive while it runs, so a Close() (or the
  // last reference going away) from inside a callback cannot free it under
  // the running loop.
  hooks.keep_alive = shared_from_this();
  return link_thread_.Start(std::move(hooks));
}

void ClientCore::Stop() { link_thread_.Stop(); }

Client::Stats ClientCore::stats() const {
  return {stat_published_.load(), stat_delivered_.load(), stat_malformed_.load(),
          stat_reconnects_.load(), link_thread_.stats().refused};
}

absl::Status ClientCore::Post(Command command, bool bounded) {
  return ClientStatus(
      link_thread_.Post(std::move(command), bounded ? node::LinkThread::Bound::kBounded
                                                    : node::LinkThread::Bound::kUnbounded));
}

absl::Status ClientCore::ClientStatus(absl::Status status) const {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return status;
    case absl::StatusCode::kResourceExhausted:
      return absl::ResourceExhaustedError(
          absl::StrCat("roomq client emit queue full (", options_.max_queued_emits, " entries)"));
    default:
      return absl::FailedPreconditionError("roomq client is closed");
  }
}

std::chrono::milliseconds ClientCore::PollWait() const {
  auto now = Clock::now();
  auto wait = kMaxPollWait;
  auto until = [&](Clock::time_point deadline) {
    wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                              std::chrono::milliseconds(1));
  };
  for (const auto& [id, pending] : pending_acks_) until(pending.deadline);
  if (auto next = broadcast_acks_.NextDeadline(); next.has_value()) until(*next);
  return std::max(wait, std::chrono::milliseconds(0));
}

void ClientCore::AfterLoop(node::Link& link) {
  ExpireAcks(Clock::now());
  const node::Link::Stats link_stats = link.stats();
  stat_published_.store(link_stats.published);
  stat_delivered_.store(link_stats.delivered);
  stat_malformed_.store(link_stats.dropped_malformed);
  stat_reconnects_.store(link_stats.reconnects);
}

void ClientCore::Shutdown() {
  // Everything queued before Stop() has run.
  std::map<uint64_t, PendingAck> acks = std::move(pending_acks_);
  pending_acks_.clear();
  for (auto& [id, pending] : acks) pending.callback(absl::CancelledError("roomq client closed"));
  broadcast_acks_.CancelAll();
  std::map<uint64_t, PresenceWalk> walks = std::move(presence_walks_);
  presence_walks_.clear();
  for (auto& [id, walk] : walks) walk.on_page(absl::CancelledError("roomq client closed"));
  subscriptions_.clear();
  services_.clear();
  // The LinkThread then destroys the Link: Goodbye; pending receipt
  // callbacks and readiness are dropped (Cancelled).
}

absl::Status ClientCore::Publish(v1::Envelope envelope, PublishCallback on_published) {
  node::LinkThread::ReceiptCallback on_receipt;
  if (on_published) {
    on_receipt = [on_published =
                      std::move(on_published)](absl::StatusOr<v1::PublishReceipt> receipt) {
      if (!receipt.ok()) {
        on_published(receipt.status());
      } else if (!receipt->accepted()) {
        on_published(absl::FailedPreconditionError(
            absl::StrCat("broker refused the envelope: ", receipt->error())));
      } else {
        on_published(absl::OkStatus());
      }
    };
  }
  return ClientStatus(link_thread_.Publish(std::move(envelope), std::move(on_receipt)));
}

absl::Status ClientCore::QueryPresence(v1::Presence query, PresencePageHandler on_page) {
  return Post(
      [this, query = std::move(query), on_page = std::move(on_page)](node::Link& link) mutable {
        const uint64_t id = next_presence_walk_++;
        presence_walks_[id] = {std::move(query), std::move(on_page)};
        AskPresence(link, id);
      },
      /*bounded=*/true);
}

void ClientCore::AskPresence(node::Link& link, uint64_t id) {
  // The Link runs its callbacks inside its own Poll: `link` outlives them.
  link.Presence(presence_walks_.at(id).query,
                [this, &link, id](absl::StatusOr<v1::PresenceAnswer> answer) {
                  auto walk = presence_walks_.find(id);
                  if (walk == presence_walks_.end()) return;  // cancelled by Shutdown
                  if (answer.ok() && !answer->ok()) {
                    answer = absl::InvalidArgumentError(
                        absl::StrCat("broker refused the presence query: ", answer->error()));
                  }
                  const bool more = answer.ok() && !answer->next_after().empty();
                  if (more) walk->second.query.set_after(answer->next_after());
                  // `walk` stays valid: only Shutdown, which never runs
                  // inside a callback, erases other walks.
                  const bool go_on = walk->second.on_page(std::move(answer));
                  if (more && go_on) {
                    AskPresence(link, id);
                  } else {
                    presence_walks_.erase(walk);
                  }
                });
}

uint64_t ClientCore::AskForAcks(v1::Envelope& envelope) {
  const uint64_t ack_id = next_ack_id_.fetch_add(1);
  envelope.set_ack_id(ack_id);
  envelope.set_reply_to(node_id());
  return ack_id;
}

absl::Status ClientCore::PublishWithAck(v1::Envelope envelope, AckCallback on_ack,
                                        std::chrono::milliseconds timeout) {
  const uint64_t ack_id = AskForAcks(envelope);
  return Post(
      [this, ack_id, timeout, envelope = std::move(envelope),
       on_ack = std::move(on_ack)](node::Link& link) mutable {
        pending_acks_[ack_id] = {Clock::now() + timeout, on_ack};
        absl::Status status = link.Publish(std::move(envelope));
        if (!status.ok()) {
          pending_acks_.erase(ack_id);
          on_ack(status);
        }
      },
      true);
}

absl::Status ClientCore::PublishWithAcks(v1::Envelope envelope, BroadcastAckCallback on_answers,
                                         std::chrono::milliseconds timeout) {
  const uint64_t ack_id = AskForAcks(envelope);
  return Post(
      [this, ack_id, timeout, envelope = std::move(envelope),
       on_answers = std::move(on_answers)](node::Link& link) mutable {
        broadcast_acks_.Add(ack_id, Clock::now() + timeout, std::move(on_answers));
        // The receipt says how many answers to expect.
        absl::Status status = link.Publish(
            std::move(envelope), [this, ack_id](absl::StatusOr<v1::PublishReceipt> receipt) {
              if (!receipt.ok()) {
                broadcast_acks_.Expect(ack_id, receipt.status());
              } else if (!receipt->accepted()) {
                broadcast_acks_.Expect(
                    ack_id, absl::FailedPreconditionError(
                                absl::StrCat("broker refused the envelope: ", receipt->error())));
              } else {
                broadcast_acks_.Expect(ack_id, receipt->ack_sockets());
              }
            });
        if (!status.ok()) broadcast_acks_.Expect(ack_id, status);
      },
      true);
}

absl::Status ClientCore::Flush(std::chrono::milliseconds timeout) {
  if (OnIoThread()) return absl::FailedPreconditionError("Flush() from the client's own thread");
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> flushed = done->get_future();
  if (absl::Status status = Post([done](node::Link&) { done->set_value(); }, false); !status.ok())
    return status;
  if (flushed.wait_for(timeout) != std::future_status::ready) {
    return absl::DeadlineExceededError("roomq client flush timed out");
  }
  return absl::OkStatus();
}

uint64_t ClientCore::AddSubscription(std::string ns, std::vector<std::string> rooms,
                                     MessageHandler handler,
                                     std::function<void(absl::Status)> on_ready,
                                     std::shared_future<absl::Status>& ready) {
  // Dedupe so the readiness count matches the topics subscribed.
  std::sort(rooms.begin(), rooms.end());
  rooms.erase(std::unique(rooms.begin(), rooms.end()), rooms.end());
  for (const std::string& room : rooms) {
    absl::Status status = room.empty() ? absl::InvalidArgumentError("empty room name")
                                       : wire::ValidateTopic(wire::RoomTopic(ns, room));
    if (status.ok() && !handler) status = absl::InvalidArgumentError("no handler");
    if (!status.ok()) {
      ready = ReadyFuture(status);
      return 0;
    }
  }
  if (absl::Status status = wire::ValidateTopic(wire::NamespaceTopic(ns)); !status.ok()) {
    ready = ReadyFuture(status);
    return 0;
  }
  auto state = std::make_shared<ReadyState>();
  state->on_ready = std::move(on_ready);
  ready = state->promise.get_future().share();
  const uint64_t id = next_subscription_id_.fetch_add(1);
  absl::Status posted = Post(
      [this, id, state, ns = std::move(ns), rooms = std::move(rooms),
       handler = std::move(handler)](node::Link&) mutable {
        const std::vector<std::string> topics =
            rooms.empty() ? std::vector<std::string>{""} : rooms;
        state->remaining = static_cast<int>(topics.size());
        subscriptions_[id] = {ns, std::move(rooms), std::move(handler), false};
        for (const std::string& room : topics) {
          AddTopic(ns, room, [state](const absl::Status& status) { state->TopicDone(status); });
        }
      },
      false);
  if (!posted.ok()) {
    ready = ReadyFuture(posted);
    return 0;
  }
  return id;
}

void ClientCore::AddTopic(const std::string& ns, const std::string& room,
                          std::function<void(absl::Status)> done) {
  link_thread_.AcquireTopic(wire::EncodeTopicKey(wire::RoomTopic(ns, room)), std::move(done));
}

void ClientCore::RemoveTopic(const std::string& ns, const std::string& room) {
  link_thread_.ReleaseTopic(wire::EncodeTopicKey(wire::RoomTopic(ns, room)));
}

void ClientCore::RemoveSubscription(uint64_t id) {
  auto it = subscriptions_.find(id);
  if (it == subscriptions_.end()) return;
  if (it->second.rooms.empty()) {
    RemoveTopic(it->second.ns, "");
  } else {
    for (const std::string& room : it->second.rooms) RemoveTopic(it->second.ns, room);
  }
  subscriptions_.erase(it);
}

void ClientCore::CancelSubscription(uint64_t id) {
  if (id == 0) return;
  if (OnIoThread()) {
    auto it = subscriptions_.find(id);
    if (it != subscriptions_.end()) it->second.cancelled = true;
    (void)Post([this, id](node::Link&) { RemoveSubscription(id); }, false);
    return;
  }
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> removed = done->get_future();
  if (!Post(
           [this, id, done](node::Link&) {
             RemoveSubscription(id);
             done->set_value();
           },
           false)
           .ok())
    return;
  removed.wait();
}

void ClientCore::EnsureServiceSubscribed(node::Link& link, const std::string& ns) {
  ServiceEntry& entry = services_[ns];
  if (entry.subscribed) {
    // Ask again only when the last confirmation failed (the topic stays in
    // the Link's set either way; this just yields a fresh answer).
    const bool failed =
        entry.listening.valid() &&
        entry.listening.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
        !entry.listening.get().ok();
    if (!failed) return;
  }
  entry.subscribed = true;
  auto promise = std::make_shared<std::promise<absl::Status>>();
  entry.listening = promise->get_future().share();
  // The Link keeps the callback until the Reply or the timeout; if the
  // client closes first the Link drops it, and the guard's destructor
  // resolves the promise with Cancelled so no waiter hangs.
  struct Guard {
    std::shared_ptr<std::promise<absl::Status>> promise;
    bool done = false;
    ~Guard() {
      if (!done) promise->set_value(absl::CancelledError("roomq client closed"));
    }
  };
  auto guard =
      std::make_shared<Guard>();  // built in place: a temporary's destructor would resolve it
  guard->promise = promise;
  const wire::TopicRef topic = wire::ServiceTopic(ns, options_.service_group);
  link.Subscribe(topic, [guard, ns, this](const absl::Status& status) {
    if (guard->done) return;
    guard->done = true;
    if (status.ok()) {
      spdlog::info("roomq client {}: serving namespace {}", node_id(), ns);
    } else {
      spdlog::warn("roomq client {}: service subscription for {}: {}", node_id(), ns,
                   status.ToString());
    }
    guard->promise->set_value(status);
  });
}

void ClientCore::UpdateService(std::string ns, std::function<void(ServiceEntry&)> update) {
  (void)Post(
      [this, ns = std::move(ns), update = std::move(update)](node::Link& link) {
        update(services_[ns]);
        EnsureServiceSubscribed(link, ns);
      },
      false);
}

void ClientCore::SetConnectionHandler(std::string ns, ConnectionHandler handler) {
  UpdateService(std::move(ns), [handler = std::move(handler)](ServiceEntry& service) {
    service.on_connection = handler;
  });
}

void ClientCore::SetDisconnectionHandler(std::string ns, DisconnectionHandler handler) {
  UpdateService(std::move(ns), [handler = std::move(handler)](ServiceEntry& service) {
    service.on_disconnection = handler;
  });
}

void ClientCore::SetServerEventHandler(std::string ns, std::string event, MessageHandler handler) {
  UpdateService(std::move(ns),
                [event = std::move(event), handler = std::move(handler)](ServiceEntry& service) {
                  service.on_server_event[event] = handler;
                });
}

void ClientCore::SetEventHandler(std::string ns, std::string event, EventHandler handler) {
  UpdateService(std::move(ns), [event = std::move(event), handler = std::move(handler)](
                                   ServiceEntry& service) { service.on_event[event] = handler; });
}

void ClientCore::AddMiddleware(std::string ns, Middleware middleware) {
  UpdateService(std::move(ns), [middleware = std::move(middleware)](ServiceEntry& service) {
    auto chain = service.middlewares
                     ? std::make_shared<std::vector<Middleware>>(*service.middlewares)
                     : std::make_shared<std::vector<Middleware>>();
    chain->push_back(middleware);
    service.middlewares = std::move(chain);
  });
}

void ClientCore::ContinueMiddleware(std::shared_ptr<MiddlewareRun> run, size_t step) {
  if (OnIoThread()) {
    RunMiddleware(run, step);
    return;
  }
  (void)Post([this, run = std::move(run), step](node::Link&) { RunMiddleware(run, step); }, false);
}

void ClientCore::RefuseMiddleware(const std::shared_ptr<MiddlewareRun>& run,
                                  const Refusal& refusal) {
  SendVerdict(run->handshake, false, refusal.message, refusal.data_json);
}

void ClientCore::RunMiddleware(const std::shared_ptr<MiddlewareRun>& run, size_t step) {
  if (step >= run->chain->size()) {
    SendVerdict(run->handshake, true, {}, run->handshake.data);
    return;
  }
  Next next;
  next.core_ = shared_from_this();
  next.run_ = run;
  next.step_ = step;
  next.called_ = std::make_shared<std::atomic<bool>>(false);
  (*run->chain)[step](run->handshake, std::move(next));
}

void ClientCore::SendVerdict(const Handshake& handshake, bool admitted, const std::string& message,
                             const std::string& data) {
  v1::Envelope envelope;
  envelope.set_kind(v1::KIND_VERDICT);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_(handshake.ns);
  envelope.add_rooms(handshake.socket_id);
  envelope.set_socket_id(handshake.socket_id);
  v1::Verdict& verdict = *envelope.mutable_verdict();
  verdict.set_admitted(admitted);
  verdict.set_message(message);
  verdict.set_data(data);
  if (absl::Status status = Publish(std::move(envelope), nullptr); !status.ok()) {
    // The gateway refuses the socket at its middleware timeout.
    spdlog::warn("roomq client {}: verdict for socket {} not sent: {}", node_id(),
                 handshake.socket_id, status.ToString());
  }
}

std::shared_future<absl::Status> ClientCore::Listen(const std::string& ns) {
  if (absl::Status status = wire::ValidateTopic(wire::ServiceTopic(ns)); !status.ok()) {
    return ReadyFuture(status);
  }
  auto result = std::make_shared<std::promise<std::shared_future<absl::Status>>>();
  std::future<std::shared_future<absl::Status>> future = result->get_future();
  auto run = [this, ns, result](node::Link& link) {
    EnsureServiceSubscribed(link, ns);
    result->set_value(services_[ns].listening);
  };
  if (OnIoThread()) {
    run(link_thread_.link());
  } else if (absl::Status status = Post(run, false); !status.ok()) {
    return ReadyFuture(status);
  }
  return future.get();
}

void ClientCore::OnDelivery(node::Delivery& delivery) {
  const v1::Envelope& envelope = delivery.envelope;
  switch (envelope.channel()) {
    case v1::CHANNEL_ROOMS:
      DispatchRooms(envelope, delivery.header);
      return;
    case v1::CHANNEL_SERVICE:
      DispatchService(envelope, delivery.header);
      return;
    case v1::CHANNEL_NODE:
      DispatchAck(envelope, delivery.header);
      return;
    default:
      return;
  }
}

void ClientCore::DispatchRooms(const v1::Envelope& envelope, const v1::Delivery& header) {
  // Join/leave/disconnect/ack commands address gateways' sockets, not
  // native subscribers.
  if (envelope.kind() != v1::KIND_EVENT) return;
  std::optional<Message> message;
  for (auto& [id, entry] : subscriptions_) {
    if (entry.cancelled || entry.ns != envelope.namespace_()) continue;
    if (!SubscriptionMatches(entry.rooms, envelope)) continue;
    if (!message) message = MessageFromEnvelope(envelope, &header);
    entry.handler(*message);
  }
}

RemoteSocket ClientCore::MakeSocket(const v1::Envelope& envelope) {
  RemoteSocket socket;
  socket.core_ = shared_from_this();
  socket.ns_ = envelope.namespace_();
  socket.id_ = envelope.socket_id();
  socket.auth_ = envelope.auth().empty() ? "{}" : envelope.auth();
  socket.reason_ = envelope.reason();
  socket.gateway_ = envelope.reply_to();
  socket.data_ = envelope.socket_data();
  socket.rooms_.assign(envelope.membership_rooms().begin(), envelope.membership_rooms().end());
  return socket;
}

Ack ClientCore::MakeAck(const v1::Envelope& envelope) {
  Ack ack;
  if (!envelope.has_ack_id()) return ack;
  ack.core_ = shared_from_this();
  ack.ns_ = envelope.namespace_();
  ack.socket_id_ = envelope.socket_id();
  ack.ack_id_ = envelope.ack_id();
  ack.answered_ = std::make_shared<std::atomic<bool>>(false);
  return ack;
}

void ClientCore::DispatchService(const v1::Envelope& envelope, const v1::Delivery& header) {
  // A child of a gateway `pattern` is served by the family's handlers.
  auto it = services_.find(envelope.service_family().empty() ? envelope.namespace_()
                                                             : envelope.service_family());
  if (it == services_.end()) return;
  ServiceEntry& service = it->second;
  if (envelope.kind() == v1::KIND_SERVER_EVENT) {
    if (envelope.origin() == node_id()) return;  // serverSideEmit reaches the others
    auto handler = service.on_server_event.find(envelope.event());
    if (handler != service.on_server_event.end())
      handler->second(MessageFromEnvelope(envelope, &header));
    return;
  }
  if (envelope.socket_id().empty()) return;
  switch (envelope.kind()) {
    case v1::KIND_CONNECTION:
      if (service.on_connection) {
        RemoteSocket socket = MakeSocket(envelope);
        service.on_connection(socket);
      }
      return;
    case v1::KIND_DISCONNECTION:
      if (service.on_disconnection) {
        RemoteSocket socket = MakeSocket(envelope);
        service.on_disconnection(socket);
      }
      return;
    case v1::KIND_HANDSHAKE: {
      if (!service.middlewares || service.middlewares->empty()) return;  // not ours to judge
      auto run = std::make_shared<MiddlewareRun>();
      Handshake& handshake = run->handshake;
      handshake.socket_id = envelope.socket_id();
      handshake.ns = envelope.namespace_();
      handshake.auth = envelope.auth().empty() ? "{}" : envelope.auth();
      handshake.query = envelope.handshake().query();
      handshake.address = envelope.handshake().address();
      handshake.origin = envelope.handshake().origin();
      handshake.user_agent = envelope.handshake().user_agent();
      handshake.forwarded_for = envelope.handshake().forwarded_for();
      handshake.gateway = envelope.reply_to();
      run->chain = service.middlewares;
      RunMiddleware(run, 0);
      return;
    }
    case v1::KIND_CLIENT_EVENT: {
      auto handler = service.on_event.find(envelope.event());
      if (handler == service.on_event.end()) return;
      RemoteSocket socket = MakeSocket(envelope);
      const Message message = MessageFromEnvelope(envelope, &header);
      handler->second(socket, message, MakeAck(envelope));
      return;
    }
    default:
      return;
  }
}

void ClientCore::DispatchAck(const v1::Envelope& envelope, const v1::Delivery& header) {
  if (envelope.kind() != v1::KIND_ACK || !envelope.has_ack_id() || envelope.node() != node_id()) {
    return;
  }
  auto it = pending_acks_.find(envelope.ack_id());
  if (it == pending_acks_.end()) {
    broadcast_acks_.Answer(envelope.ack_id(), MessageFromEnvelope(envelope, &header));
    return;  // a broadcast's, or late or duplicate
  }
  AckCallback callback = std::move(it->second.callback);
  pending_acks_.erase(it);
  callback(MessageFromEnvelope(envelope, &header));
}

void ClientCore::ExpireAcks(Clock::time_point now) {
  std::vector<AckCallback> expired;
  for (auto it = pending_acks_.begin(); it != pending_acks_.end();) {
    if (it->second.deadline <= now) {
      expired.push_back(std::move(it->second.callback));
      it = pending_acks_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& callback : expired) callback(absl::DeadlineExceededError("ack timed out"));
  broadcast_acks_.Expire(now);
}

}  // namespace roomq::internal
