#include "roomq/client.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "clients/src/client_core.h"
#include "proto/base/json.h"
#include "proto/wire/topic.h"

namespace roomq {
namespace internal {

absl::Status ValidateTargets(const std::string& ns, const std::vector<std::string>& rooms,
                             const std::vector<std::string>& except_rooms) {
  if (absl::Status status = wire::ValidateTopic(wire::NamespaceTopic(ns)); !status.ok()) {
    return status;
  }
  for (const auto* list : {&rooms, &except_rooms}) {
    for (const std::string& room : *list) {
      if (room.empty()) return absl::InvalidArgumentError("empty room name");
      if (absl::Status status = wire::ValidateTopic(wire::RoomTopic(ns, room)); !status.ok()) {
        return status;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace internal

namespace {

using internal::ValidateTargets;

// Event names Socket.IO reserves; emitting them is refused like socket.io does.
constexpr std::array<std::string_view, 6> kReservedEvents = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"};

absl::Status ValidateEvent(std::string_view event) {
  if (event.empty()) return absl::InvalidArgumentError("empty event name");
  if (std::find(kReservedEvents.begin(), kReservedEvents.end(), event) != kReservedEvents.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", std::string(event), "\" is a reserved event name"));
  }
  return absl::OkStatus();
}

void SetArgs(const Args& args, v1::Envelope& envelope) {
  envelope.set_args(args.json());
  for (const std::string& attachment : args.attachments()) envelope.add_attachments(attachment);
}

void AddUnique(std::vector<std::string>& list, std::string_view value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.emplace_back(value);
}

}  // namespace

// ---- Subscription ----------------------------------------------------------

Subscription::Subscription(std::weak_ptr<internal::ClientCore> core, uint64_t id,
                           std::shared_future<absl::Status> ready)
    : core_(std::move(core)), id_(id), ready_(std::move(ready)) {}

Subscription::Subscription(Subscription&& other) noexcept
    : core_(std::move(other.core_)),
      id_(std::exchange(other.id_, 0)),
      ready_(std::move(other.ready_)) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    Cancel();
    core_ = std::move(other.core_);
    id_ = std::exchange(other.id_, 0);
    ready_ = std::move(other.ready_);
  }
  return *this;
}

Subscription::~Subscription() { Cancel(); }

void Subscription::Cancel() {
  if (id_ == 0) return;
  if (auto core = core_.lock()) core->CancelSubscription(id_);
  id_ = 0;
}

// ---- BroadcastOperator -----------------------------------------------------

BroadcastOperator BroadcastOperator::To(std::string_view room) const {
  BroadcastOperator copy = *this;
  AddUnique(copy.rooms_, room);
  return copy;
}

BroadcastOperator BroadcastOperator::To(const std::vector<std::string>& rooms) const {
  BroadcastOperator copy = *this;
  for (const std::string& room : rooms) AddUnique(copy.rooms_, room);
  return copy;
}

BroadcastOperator BroadcastOperator::Except(std::string_view room) const {
  BroadcastOperator copy = *this;
  AddUnique(copy.except_rooms_, room);
  return copy;
}

BroadcastOperator BroadcastOperator::Except(const std::vector<std::string>& rooms) const {
  BroadcastOperator copy = *this;
  for (const std::string& room : rooms) AddUnique(copy.except_rooms_, room);
  return copy;
}

BroadcastOperator BroadcastOperator::ExceptSocket(std::string_view socket_id) const {
  BroadcastOperator copy = *this;
  copy.except_socket_ = std::string(socket_id);
  return copy;
}

namespace {

absl::StatusOr<v1::Envelope> TargetEnvelope(const BroadcastOperator& target, v1::Kind kind) {
  if (absl::Status status = ValidateTargets(target.ns(), target.rooms(), target.except_rooms());
      !status.ok()) {
    return status;
  }
  v1::Envelope envelope;
  envelope.set_kind(kind);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_(target.ns());
  for (const std::string& room : target.rooms()) envelope.add_rooms(room);
  for (const std::string& room : target.except_rooms()) envelope.add_except_rooms(room);
  envelope.set_except_socket(target.except_socket());
  return envelope;
}

absl::StatusOr<v1::Envelope> EventEnvelope(const BroadcastOperator& target, std::string_view event,
                                           const Args& args) {
  if (absl::Status status = ValidateEvent(event); !status.ok()) return status;
  if (!args.status().ok()) return args.status();
  auto envelope = TargetEnvelope(target, v1::KIND_EVENT);
  if (!envelope.ok()) return envelope;
  envelope->set_event(std::string(event));
  SetArgs(args, *envelope);
  return envelope;
}

}  // namespace

absl::Status BroadcastOperator::Emit(std::string_view event, const Args& args) const {
  return Emit(event, args, nullptr);
}

absl::Status BroadcastOperator::Emit(std::string_view event, const Args& args,
                                     PublishCallback on_published) const {
  auto envelope = EventEnvelope(*this, event, args);
  if (!envelope.ok()) return envelope.status();
  return core_->Publish(*std::move(envelope), std::move(on_published));
}

absl::Status BroadcastOperator::EmitWithAck(
    std::string_view event, const Args& args, AckCallback on_ack,
    std::optional<std::chrono::milliseconds> timeout) const {
  if (rooms_.size() != 1) {
    return absl::InvalidArgumentError(
        "EmitWithAck needs exactly one target socket: use To(socket_id)");
  }
  if (!on_ack) return absl::InvalidArgumentError("EmitWithAck needs a callback");
  auto envelope = EventEnvelope(*this, event, args);
  if (!envelope.ok()) return envelope.status();
  return core_->PublishWithAck(*std::move(envelope), std::move(on_ack),
                               timeout.value_or(timeout_.value_or(core_->options().ack_timeout)));
}

absl::Status BroadcastOperator::EmitWithAck(std::string_view event, const Args& args,
                                            BroadcastAckCallback on_answers) const {
  if (!on_answers) return absl::InvalidArgumentError("EmitWithAck needs a callback");
  auto envelope = EventEnvelope(*this, event, args);
  if (!envelope.ok()) return envelope.status();
  return core_->PublishWithAcks(*std::move(envelope), std::move(on_answers),
                                timeout_.value_or(core_->options().ack_timeout));
}

BroadcastOperator BroadcastOperator::Timeout(std::chrono::milliseconds timeout) const {
  BroadcastOperator copy = *this;
  copy.timeout_ = timeout;
  return copy;
}

absl::Status BroadcastOperator::SocketsJoin(const std::vector<std::string>& rooms) const {
  auto envelope = TargetEnvelope(*this, v1::KIND_JOIN);
  if (!envelope.ok()) return envelope.status();
  if (absl::Status status = ValidateTargets(ns_, rooms, {}); !status.ok()) return status;
  for (const std::string& room : rooms) envelope->add_membership_rooms(room);
  return core_->Publish(*std::move(envelope), nullptr);
}

absl::Status BroadcastOperator::SocketsLeave(const std::vector<std::string>& rooms) const {
  auto envelope = TargetEnvelope(*this, v1::KIND_LEAVE);
  if (!envelope.ok()) return envelope.status();
  if (absl::Status status = ValidateTargets(ns_, rooms, {}); !status.ok()) return status;
  for (const std::string& room : rooms) envelope->add_membership_rooms(room);
  return core_->Publish(*std::move(envelope), nullptr);
}

absl::Status BroadcastOperator::DisconnectSockets(std::string_view reason) const {
  auto envelope = TargetEnvelope(*this, v1::KIND_DISCONNECT);
  if (!envelope.ok()) return envelope.status();
  envelope->set_reason(std::string(reason));
  return core_->Publish(*std::move(envelope), nullptr);
}

// ---- Ack / RemoteSocket ----------------------------------------------------

absl::Status Ack::operator()(const Args& args) const {
  if (!core_) return absl::FailedPreconditionError("the client did not ask for an ack");
  if (!args.status().ok()) return args.status();
  if (answered_->exchange(true)) return absl::FailedPreconditionError("ack already answered");
  v1::Envelope envelope;
  envelope.set_kind(v1::KIND_ACK);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_(ns_);
  envelope.add_rooms(socket_id_);
  envelope.set_socket_id(socket_id_);
  envelope.set_ack_id(ack_id_);
  SetArgs(args, envelope);
  return core_->Publish(std::move(envelope), nullptr);
}

BroadcastOperator RemoteSocket::To(std::string_view room) const {
  return BroadcastOperator(core_, ns_).ExceptSocket(id_).To(room);
}

BroadcastOperator RemoteSocket::Broadcast() const {
  return BroadcastOperator(core_, ns_).ExceptSocket(id_);
}

BroadcastOperator RemoteSocket::Nsp() const { return BroadcastOperator(core_, ns_); }

absl::Status RemoteSocket::Emit(std::string_view event, const Args& args) const {
  return BroadcastOperator(core_, ns_).To(id_).Emit(event, args);
}

absl::Status RemoteSocket::EmitWithAck(std::string_view event, const Args& args, AckCallback on_ack,
                                       std::optional<std::chrono::milliseconds> timeout) const {
  return BroadcastOperator(core_, ns_).To(id_).EmitWithAck(event, args, std::move(on_ack), timeout);
}

absl::Status RemoteSocket::Join(std::string_view room) const {
  return BroadcastOperator(core_, ns_).To(id_).SocketsJoin(room);
}

absl::Status RemoteSocket::Leave(std::string_view room) const {
  return BroadcastOperator(core_, ns_).To(id_).SocketsLeave(room);
}

absl::Status RemoteSocket::Disconnect(std::string_view reason) const {
  return BroadcastOperator(core_, ns_).To(id_).DisconnectSockets(reason);
}

absl::Status RemoteSocket::SetData(std::string_view data_json) {
  if (!data_json.empty()) {
    if (absl::Status status = base::ValidateJsonValue(data_json); !status.ok()) return status;
  }
  auto envelope = TargetEnvelope(BroadcastOperator(core_, ns_).To(id_), v1::KIND_SET_DATA);
  if (!envelope.ok()) return envelope.status();
  envelope->set_socket_data(std::string(data_json));
  if (absl::Status status = core_->Publish(*std::move(envelope), nullptr); !status.ok()) {
    return status;
  }
  data_ = std::string(data_json);
  return absl::OkStatus();
}

// ---- Namespace ---------------------------------------------------------------

Subscription Namespace::Subscribe(const std::vector<std::string>& rooms, MessageHandler handler,
                                  std::function<void(absl::Status)> on_ready) const {
  std::shared_future<absl::Status> ready;
  const uint64_t id =
      core_->AddSubscription(ns_, rooms, std::move(handler), std::move(on_ready), ready);
  return Subscription(core_, id, std::move(ready));
}

void Namespace::OnConnection(ConnectionHandler handler) const {
  core_->SetConnectionHandler(ns_, std::move(handler));
}

void Namespace::OnDisconnection(DisconnectionHandler handler) const {
  core_->SetDisconnectionHandler(ns_, std::move(handler));
}

void Namespace::On(std::string_view event, EventHandler handler) const {
  core_->SetEventHandler(ns_, std::string(event), std::move(handler));
}

void Namespace::OnServerSideEmit(std::string_view event, MessageHandler handler) const {
  core_->SetServerEventHandler(ns_, std::string(event), std::move(handler));
}

absl::Status Namespace::ServerSideEmit(std::string_view event, const Args& args) const {
  // A namespace-wide event, sent to the namespace's services instead.
  auto envelope = EventEnvelope(*this, event, args);
  if (!envelope.ok()) return envelope.status();
  envelope->set_kind(v1::KIND_SERVER_EVENT);
  envelope->set_channel(v1::CHANNEL_SERVICE);
  return core_->Publish(*std::move(envelope), nullptr);
}

void Namespace::Use(Middleware middleware) const {
  core_->AddMiddleware(ns_, std::move(middleware));
}

void Next::operator()() const {
  if (!core_ || called_->exchange(true)) return;
  core_->ContinueMiddleware(run_, step_ + 1);
}

void Next::operator()(const Refusal& refusal) const {
  if (!core_ || called_->exchange(true)) return;
  core_->RefuseMiddleware(run_, refusal);
}

std::shared_future<absl::Status> Namespace::Listening() const { return core_->Listen(ns_); }

// ---- Client ----------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  if (options.max_queued_emits == 0) {
    return absl::InvalidArgumentError("max_queued_emits must be positive");
  }
  if (options.ack_timeout.count() <= 0)
    return absl::InvalidArgumentError("ack_timeout must be positive");
  if (options.service_group.empty()) options.service_group = options.node_prefix;
  if (absl::Status status = wire::ValidateTopic(wire::ServiceTopic("/", options.service_group));
      !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("service_group: ", status.message()));
  }
  auto core = std::make_shared<internal::ClientCore>(std::move(options));
  if (absl::Status status = core->Start(); !status.ok()) return status;
  return std::unique_ptr<Client>(new Client(std::move(core)));
}

Client::~Client() { Close(); }

Namespace Client::Of(std::string_view ns) const { return Namespace(core_, std::string(ns)); }

Namespace Client::OfPattern(std::string_view pattern) const {
  // Service handlers are kept by the family's name, its pattern's text;
  // emits validate it as a namespace and refuse it.
  return Namespace(core_, std::string(pattern));
}

const std::string& Client::node_id() const { return core_->node_id(); }

bool Client::broker_connected() const { return core_->broker_connected(); }

absl::Status Client::Flush(std::chrono::milliseconds timeout) { return core_->Flush(timeout); }

void Client::Close() { core_->Stop(); }

Client::Stats Client::stats() const { return core_->stats(); }

}  // namespace roomq
