#include "broker/broker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "proto/wire/absl_compat.h"
#include "proto/wire/delivery.h"
#include "proto/wire/topic.h"
#include "spdlog/spdlog.h"

namespace roomq::broker {
namespace {

// Messages read from one socket before the loop looks at the other one and
// at its timers: keeps either side from starving the other.
constexpr int kBurst = 1024;
// How often silent peers are looked for.
constexpr std::chrono::milliseconds kHousekeepingInterval{25};

uint64_t RandomEpoch() {
  std::random_device random;
  uint64_t epoch = 0;
  while (epoch == 0) epoch = (static_cast<uint64_t>(random()) << 32) ^ random();
  return epoch;
}

std::string_view View(const zmq::message_t& message) {
  return {static_cast<const char*>(message.data()), message.size()};
}

Malformed FromScanError(wire::ScanError error) {
  switch (error) {
    case wire::ScanError::kVersion:
      return Malformed::kVersion;
    case wire::ScanError::kKind:
      return Malformed::kKind;
    case wire::ScanError::kChannel:
      return Malformed::kChannel;
    case wire::ScanError::kTopic:
      return Malformed::kTopic;
    case wire::ScanError::kTooManyRooms:
      return Malformed::kTooManyRooms;
    default:
      return Malformed::kEnvelope;
  }
}

// Sends one frame of `size` bytes copied from `data`. Returns 0 or errno.
int SendCopy(void* socket, const void* data, size_t size, int flags) {
  zmq_msg_t message;
  zmq_msg_init_size(&message, size);
  if (size > 0) std::memcpy(zmq_msg_data(&message), data, size);
  if (zmq_msg_send(&message, socket, flags) >= 0) return 0;
  const int error = zmq_errno();
  zmq_msg_close(&message);
  return error;
}

// Receives and discards the rest of a multipart message.
void DrainRest(zmq::socket_t& socket) {
  zmq::message_t rest;
  do {
    if (zmq_msg_recv(rest.handle(), socket.handle(), ZMQ_DONTWAIT) < 0) return;
  } while (rest.more());
}

void SetCommonOptions(zmq::socket_t& socket, const BrokerOptions& options) {
  socket.set(zmq::sockopt::sndhwm, options.hwm);
  socket.set(zmq::sockopt::rcvhwm, options.hwm);
  socket.set(zmq::sockopt::maxmsgsize, options.max_message_bytes);
  socket.set(zmq::sockopt::router_mandatory, true);
  socket.set(zmq::sockopt::linger, 0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Broker>> Broker::Create(zmq::context_t& context,
                                                       BrokerOptions options) {
  if (options.hwm < 0) return absl::InvalidArgumentError("hwm must be >= 0");
  if (options.heartbeat <= std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError("heartbeat must be > 0");
  }
  if (options.max_message_bytes <= 0) {
    return absl::InvalidArgumentError("max message size must be > 0");
  }
  if (options.max_topics_per_peer <= 0) {
    return absl::InvalidArgumentError("max topics per peer must be > 0");
  }
  const uint64_t epoch = options.epoch != 0 ? options.epoch : RandomEpoch();
  std::unique_ptr<Broker> broker;
  try {
    broker.reset(new Broker(context, std::move(options), epoch));
  } catch (const zmq::error_t& e) {
    return absl::InternalError(absl::StrCat("creating sockets: ", e.what()));
  }
  if (broker->wake_fd_ < 0) {
    return absl::InternalError(absl::StrCat("eventfd: ", strerror(errno)));
  }
  if (absl::Status status = broker->Bind(); !status.ok()) return status;
  return broker;
}

Broker::Broker(zmq::context_t& context, BrokerOptions options, uint64_t epoch)
    : options_(std::move(options)),
      epoch_(epoch),
      pub_(context, zmq::socket_type::router),
      sub_(context, zmq::socket_type::router),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      peers_(routes_, options_.heartbeat) {
  targets_.reserve(64);
}

Broker::~Broker() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

absl::Status Broker::Bind() {
  struct Side {
    zmq::socket_t& socket;
    const std::string& endpoint;
    std::string& bound;
    const char* flag;
  };
  for (Side side : {Side{pub_, options_.pub_bind, pub_endpoint_, "--pub-bind"},
                    Side{sub_, options_.sub_bind, sub_endpoint_, "--sub-bind"}}) {
    try {
      SetCommonOptions(side.socket, options_);
      side.socket.bind(side.endpoint);
      side.bound = side.socket.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
      const std::string message =
          absl::StrCat(side.flag, " ", side.endpoint, ": ", e.what());
      if (e.num() == EADDRINUSE || e.num() == EADDRNOTAVAIL || e.num() == EACCES) {
        return absl::UnavailableError(message);
      }
      return absl::InvalidArgumentError(message);
    }
  }
  return absl::OkStatus();
}

void Broker::Stop() {
  stop_.store(true, std::memory_order_relaxed);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
}

absl::Status Broker::Run() {
  spdlog::info("roomq-broker listening pub={} sub={} epoch={}", pub_endpoint_, sub_endpoint_,
               epoch_);
  const Clock::time_point start = Clock::now();
  next_housekeeping_ = start + kHousekeepingInterval;
  next_stats_ = start + options_.stats_interval;
  absl::Status result = absl::OkStatus();
  zmq_pollitem_t items[3] = {
      {pub_.handle(), 0, ZMQ_POLLIN, 0},
      {sub_.handle(), 0, ZMQ_POLLIN, 0},
      {nullptr, wake_fd_, ZMQ_POLLIN, 0},
  };
  while (!stop_.load(std::memory_order_relaxed)) {
    Clock::time_point now = Clock::now();
    const auto wait = std::min(next_housekeeping_, next_stats_) - now;
    const long timeout_ms = std::max<long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(wait).count() + 1);
    if (zmq_poll(items, 3, timeout_ms) < 0) {
      if (zmq_errno() == EINTR) continue;
      result = absl::InternalError(absl::StrCat("zmq_poll: ", zmq_strerror(zmq_errno())));
      break;
    }
    if (items[1].revents & ZMQ_POLLIN) DrainSubscribers();
    if (items[0].revents & ZMQ_POLLIN) DrainPublishers();
    now = Clock::now();
    if (now >= next_housekeeping_) Housekeeping(now);
    if (now >= next_stats_) {
      LogStats(/*final=*/false);
      next_stats_ = now + options_.stats_interval;
    }
  }
  LogStats(/*final=*/true);
  if (stats_observer_) stats_observer_(stats_);
  return result;
}

void Broker::Housekeeping(Clock::time_point now) {
  peers_.ExpireSilent(now);
  next_housekeeping_ = now + kHousekeepingInterval;
  if (stats_observer_ && now >= next_observe_) {
    stats_.peers = peers_.size();
    stats_.topics = routes_.topic_count();
    stats_observer_(stats_);
    next_observe_ = now + stats_observer_interval_;
  }
}

void Broker::SetStatsObserver(std::function<void(const BrokerStats&)> observer,
                              std::chrono::milliseconds interval) {
  stats_observer_ = std::move(observer);
  stats_observer_interval_ = interval;
}

void Broker::LogStats(bool final) {
  stats_.peers = peers_.size();
  stats_.topics = routes_.topic_count();
  if (final) {
    spdlog::info("roomq-broker stopped: {}", stats_.ToString());
    return;
  }
  if (stats_ == last_logged_) return;
  spdlog::info("stats {}", stats_.ToString());
  last_logged_ = stats_;
}

// ---------------------------------------------------------------------------
// Publish path

void Broker::DrainPublishers() {
  for (int i = 0; i < kBurst; ++i) {
    if (zmq_msg_recv(identity_.handle(), pub_.handle(), ZMQ_DONTWAIT) < 0) return;
    // A ROUTER message always starts with the identity frame; exactly one
    // frame (the Envelope) must follow.
    if (!identity_.more()) {
      ++stats_.malformed_count(Malformed::kEnvelopeFrames);
      continue;
    }
    if (zmq_msg_recv(body_.handle(), pub_.handle(), ZMQ_DONTWAIT) < 0) return;
    if (body_.more()) {
      DrainRest(pub_);
      ++stats_.malformed_count(Malformed::kEnvelopeFrames);
      continue;
    }
    Route();
  }
}

void Broker::Route() {
  const wire::ScanError error = wire::ScanRouteInto(View(body_), route_);
  if (error != wire::ScanError::kOk) {
    ++stats_.malformed_count(FromScanError(error));
    // Well-formed but invalid: the publisher learns why, if it asked.
    if (error != wire::ScanError::kMalformed && route_.confirm) {
      SendReceipt(false, absl::StrCat("invalid envelope: ",
                                      ToAbsl(wire::ScanErrorName(error))));
    }
    return;
  }
  ++stats_.routed;

  targets_.clear();
  routes_.Match(route_, [this](const Subscriber& subscriber) { targets_.push_back(&subscriber); });
  if (targets_.empty()) ++stats_.unrouted;

  if (!targets_.empty()) SendDeliveries();
  if (route_.confirm) SendReceipt(true, {});
  if (!unreachable_.empty()) {
    for (const std::string& identity : unreachable_) peers_.Remove(identity, "unreachable");
    unreachable_.clear();
  }
}

void Broker::SendDeliveries() {
  // One frame for every recipient: the delivery prefix and the envelope
  // bytes, written once into one zmq buffer; each recipient's copy shares it
  // by reference count (zmq_msg_copy of a message over 33 bytes).
  char prefix[wire::kMaxDeliveryPrefixBytes];
  const size_t prefix_size = wire::EncodeDeliveryPrefix(epoch_, body_.size(), prefix);
  delivery_.rebuild(prefix_size + body_.size());
  char* const out = static_cast<char*>(delivery_.data());
  std::memcpy(out, prefix, prefix_size);
  std::memcpy(out + prefix_size, body_.data(), body_.size());

  void* const socket = sub_.handle();
  zmq_msg_t copy;
  zmq_msg_init(&copy);
  for (const Subscriber* target : targets_) {
    const std::string& identity = target->identity();
    // The identity frame is where ROUTER_MANDATORY reports a full or gone
    // peer; once it is accepted the rest of the message is too.
    const int error_code =
        SendCopy(socket, identity.data(), identity.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (error_code == EAGAIN) {
      ++stats_.dropped_hwm;
      if (Peer* peer = peers_.Find(identity)) ++peer->dropped;
      continue;
    }
    if (error_code != 0) {
      ++stats_.dropped_unreachable;
      unreachable_.push_back(identity);
      continue;
    }
    zmq_msg_copy(&copy, delivery_.handle());
    // A successful send leaves `copy` empty (reusable); a failed one keeps
    // its reference, released by the next copy or the close below.
    if (zmq_msg_send(&copy, socket, ZMQ_DONTWAIT) < 0) continue;
    ++stats_.delivered;
  }
  zmq_msg_close(&copy);
}

void Broker::SendReceipt(bool accepted, std::string_view error) {
  v1::PublishReceipt receipt;
  receipt.set_origin(std::string(route_.origin));
  receipt.set_message_id(route_.message_id);
  receipt.set_accepted(accepted);
  if (!error.empty()) receipt.set_error(std::string(error));
  const std::string bytes = receipt.SerializeAsString();
  if (SendCopy(pub_.handle(), identity_.data(), identity_.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) != 0 ||
      SendCopy(pub_.handle(), bytes.data(), bytes.size(), ZMQ_DONTWAIT) != 0) {
    ++stats_.receipts_dropped;
    return;
  }
  ++stats_.receipts;
}

// ---------------------------------------------------------------------------
// Subscriber commands

void Broker::DrainSubscribers() {
  zmq::message_t identity;
  zmq::message_t body;
  for (int i = 0; i < kBurst; ++i) {
    if (zmq_msg_recv(identity.handle(), sub_.handle(), ZMQ_DONTWAIT) < 0) return;
    if (!identity.more()) {
      ++stats_.malformed_count(Malformed::kCommandFrames);
      continue;
    }
    if (zmq_msg_recv(body.handle(), sub_.handle(), ZMQ_DONTWAIT) < 0) return;
    if (body.more()) {
      DrainRest(sub_);
      ++stats_.malformed_count(Malformed::kCommandFrames);
      continue;
    }
    HandleCommand(View(identity), body);
  }
}

void Broker::HandleCommand(std::string_view identity, const zmq::message_t& body) {
  v1::SubscriberCommand command;
  if (!command.ParseFromArray(body.data(), static_cast<int>(body.size())) ||
      command.command_case() == v1::SubscriberCommand::COMMAND_NOT_SET) {
    ++stats_.malformed_count(Malformed::kCommand);
    return;
  }
  ++stats_.commands;
  const Clock::time_point now = Clock::now();
  const uint64_t request_id = command.request_id();
  switch (command.command_case()) {
    case v1::SubscriberCommand::kHello: {
      const v1::Hello& hello = command.hello();
      if (hello.version() != v1::VERSION_1 || hello.node().empty() ||
          hello.node().size() > wire::kMaxNameBytes) {
        ++stats_.malformed_count(Malformed::kHelloVersion);
        if (request_id != 0) SendReply(identity, request_id, false, "unsupported version or no node id");
        return;
      }
      Peer& peer = peers_.Touch(identity, now);
      peers_.Hello(peer, hello.node(), hello.heartbeat_ms(), now);
      break;
    }
    case v1::SubscriberCommand::kSubscribe:
      HandleSubscribe(peers_.Touch(identity, now), command);
      return;  // replies itself
    case v1::SubscriberCommand::kUnsubscribe: {
      Peer* peer = peers_.Find(identity);
      if (peer != nullptr) peer->last_seen = now;
      HandleUnsubscribe(identity, peer, command);
      return;  // replies itself
    }
    case v1::SubscriberCommand::kPing: {
      Peer* peer = peers_.Find(identity);
      if (peer != nullptr) peer->last_seen = now;
      v1::BrokerFrame frame;
      frame.mutable_pong()->set_epoch(epoch_);
      frame.mutable_pong()->set_known(peer != nullptr && peer->known);
      SendBrokerFrame(identity, frame);
      break;
    }
    case v1::SubscriberCommand::kGoodbye:
      peers_.Remove(identity, "goodbye");
      break;
    default:
      break;
  }
  if (request_id != 0) SendReply(identity, request_id, true, {});
}

void Broker::HandleSubscribe(Peer& peer, const v1::SubscriberCommand& command) {
  const auto& topics = command.subscribe().topics();
  // All or nothing: a command with one bad topic changes nothing.
  for (const v1::Topic& topic : topics) {
    if (absl::Status status = wire::ValidateTopic(wire::ToRef(topic)); !status.ok()) {
      ++stats_.malformed_count(Malformed::kCommandTopic);
      if (command.request_id() != 0) {
        SendReply(peer.identity, command.request_id(), false, FromAbsl(status.message()));
      }
      return;
    }
  }
  if (peer.subscriber->topic_count() + static_cast<size_t>(topics.size()) >
      static_cast<size_t>(options_.max_topics_per_peer)) {
    if (command.request_id() != 0) {
      SendReply(peer.identity, command.request_id(), false,
                absl::StrCat("over the limit of ", options_.max_topics_per_peer,
                             " topics per subscriber"));
    }
    return;
  }
  for (const v1::Topic& topic : topics) routes_.Subscribe(peer.subscriber, wire::ToRef(topic));
  if (command.request_id() != 0) SendReply(peer.identity, command.request_id(), true, {});
}

void Broker::HandleUnsubscribe(std::string_view identity, Peer* peer,
                               const v1::SubscriberCommand& command) {
  const auto& topics = command.unsubscribe().topics();
  for (const v1::Topic& topic : topics) {
    if (!wire::ValidateTopic(wire::ToRef(topic)).ok()) {
      ++stats_.malformed_count(Malformed::kCommandTopic);
      continue;  // it cannot be subscribed either
    }
    if (peer != nullptr) routes_.Unsubscribe(peer->subscriber, wire::ToRef(topic));
  }
  // Nothing to undo for an unknown peer: the result holds either way.
  if (command.request_id() != 0) SendReply(identity, command.request_id(), true, {});
}

void Broker::SendReply(std::string_view identity, uint64_t request_id, bool ok,
                       std::string_view error) {
  v1::BrokerFrame frame;
  v1::Reply* reply = frame.mutable_reply();
  reply->set_request_id(request_id);
  reply->set_ok(ok);
  if (!error.empty()) reply->set_error(std::string(error));
  SendBrokerFrame(identity, frame);
}

void Broker::SendBrokerFrame(std::string_view identity, const v1::BrokerFrame& frame) {
  const std::string bytes = frame.SerializeAsString();
  // A full or gone subscriber misses this answer; its heartbeat recovers.
  if (SendCopy(sub_.handle(), identity.data(), identity.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) == 0) {
    SendCopy(sub_.handle(), bytes.data(), bytes.size(), ZMQ_DONTWAIT);
  }
}

}  // namespace roomq::broker
