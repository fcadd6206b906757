#include "tests/broker/wire_node.h"

#include "absl/strings/str_cat.h"

namespace roomq::broker_test {

using Clock = std::chrono::steady_clock;

WireNode::WireNode(zmq::context_t& context, const std::string& pub_endpoint,
                   const std::string& sub_endpoint, int receive_hwm)
    : pub_(context, zmq::socket_type::dealer), sub_(context, zmq::socket_type::dealer) {
  for (zmq::socket_t* socket : {&pub_, &sub_}) {
    socket->set(zmq::sockopt::linger, 0);
    socket->set(zmq::sockopt::reconnect_ivl, 20);
  }
  sub_.set(zmq::sockopt::rcvhwm, receive_hwm);
  pub_.connect(pub_endpoint);
  sub_.connect(sub_endpoint);
}

namespace {
void SendFrames(zmq::socket_t& socket, const std::vector<std::string>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    socket.send(zmq::buffer(frames[i]),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}
}  // namespace

void WireNode::SendPub(const std::vector<std::string>& frames) { SendFrames(pub_, frames); }
void WireNode::SendSub(const std::vector<std::string>& frames) { SendFrames(sub_, frames); }

void WireNode::Hello(const std::string& node, uint32_t heartbeat_ms, uint64_t request_id) {
  v1::SubscriberCommand command;
  command.set_request_id(request_id);
  command.mutable_hello()->set_version(v1::VERSION_1);
  command.mutable_hello()->set_node(node);
  command.mutable_hello()->set_heartbeat_ms(heartbeat_ms);
  Command(command);
}

void WireNode::Ping(uint64_t request_id) {
  v1::SubscriberCommand command;
  command.set_request_id(request_id);
  command.mutable_ping();
  Command(command);
}

void WireNode::Goodbye() {
  v1::SubscriberCommand command;
  command.mutable_goodbye();
  Command(command);
}

void WireNode::SendSubscribe(const std::vector<wire::TopicRef>& topics, uint64_t request_id) {
  v1::SubscriberCommand command;
  command.set_request_id(request_id);
  for (const wire::TopicRef& topic : topics) {
    *command.mutable_subscribe()->add_topics() = wire::ToProto(topic);
  }
  Command(command);
}

void WireNode::SendUnsubscribe(const std::vector<wire::TopicRef>& topics, uint64_t request_id) {
  v1::SubscriberCommand command;
  command.set_request_id(request_id);
  auto* unsubscribe = command.mutable_unsubscribe();
  for (const wire::TopicRef& topic : topics) *unsubscribe->add_topics() = wire::ToProto(topic);
  Command(command);
}

absl::Status WireNode::Subscribe(const std::vector<wire::TopicRef>& topics,
                                 std::chrono::milliseconds timeout) {
  const uint64_t request_id = ++next_request_id_;
  SendSubscribe(topics, request_id);
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto received = Receive(std::max(left, std::chrono::milliseconds(0)));
    if (absl::IsDataLoss(received.status())) continue;  // a delivery we cannot parse: not the Reply
    if (!received.ok()) return received.status();
    if (received->frame.has_reply() && received->frame.reply().request_id() == request_id) {
      return received->frame.reply().ok()
                 ? absl::OkStatus()
                 : absl::FailedPreconditionError(received->frame.reply().error());
    }
  }
}

absl::Status WireNode::Join(const std::string& node, uint32_t heartbeat_ms,
                            std::chrono::milliseconds timeout) {
  const uint64_t request_id = ++next_request_id_;
  Hello(node, heartbeat_ms, request_id);
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto received = Receive(std::max(left, std::chrono::milliseconds(0)));
    if (absl::IsDataLoss(received.status())) continue;  // a delivery we cannot parse: not the Reply
    if (!received.ok()) return received.status();
    if (received->frame.has_reply() && received->frame.reply().request_id() == request_id) {
      return received->frame.reply().ok()
                 ? absl::OkStatus()
                 : absl::FailedPreconditionError(received->frame.reply().error());
    }
  }
}

absl::StatusOr<std::vector<zmq::message_t>> WireNode::ReceiveFrames(
    zmq::socket_t& socket, std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) {
    return absl::DeadlineExceededError("nothing received from the broker in time");
  }
  std::vector<zmq::message_t> frames;
  do {
    frames.emplace_back();
    (void)socket.recv(frames.back(), zmq::recv_flags::none);
  } while (frames.back().more());
  return frames;
}

namespace {
absl::StatusOr<Received> Decode(const zmq::message_t& message) {
  Received received;
  received.raw = message.to_string();
  if (!received.frame.ParseFromString(received.raw)) {
    return absl::DataLossError("not a BrokerFrame");
  }
  if (received.frame.has_delivery()) {
    if (!received.frame.delivery().has_envelope()) {
      return absl::DataLossError("delivery without an envelope");
    }
    received.envelope = received.frame.delivery().envelope();
  }
  return received;
}
}  // namespace

absl::StatusOr<Received> WireNode::Receive(std::chrono::milliseconds timeout) {
  if (pending_.empty()) {
    auto frames = ReceiveFrames(sub_, timeout);
    if (!frames.ok()) return frames.status();
    for (zmq::message_t& frame : *frames) pending_.push_back(std::move(frame));
  }
  const zmq::message_t frame = std::move(pending_.front());
  pending_.pop_front();
  return Decode(frame);
}

absl::StatusOr<std::vector<Received>> WireNode::ReceiveMessage(std::chrono::milliseconds timeout) {
  if (pending_.empty()) {
    auto frames = ReceiveFrames(sub_, timeout);
    if (!frames.ok()) return frames.status();
    for (zmq::message_t& frame : *frames) pending_.push_back(std::move(frame));
  }
  std::vector<Received> message;
  absl::Status status = absl::OkStatus();
  for (const zmq::message_t& frame : pending_) {
    auto received = Decode(frame);
    if (!received.ok()) {
      status = received.status();
      continue;
    }
    message.push_back(std::move(*received));
  }
  pending_.clear();
  if (!status.ok()) return status;
  return message;
}

absl::StatusOr<Received> WireNode::ReceiveWhere(
    const std::function<bool(const v1::BrokerFrame&)>& wanted, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto received = Receive(std::max(left, std::chrono::milliseconds(0)));
    if (!received.ok() || wanted(received->frame)) return received;
  }
}

absl::StatusOr<Received> WireNode::ReceiveDelivery(std::chrono::milliseconds timeout) {
  return ReceiveWhere([](const v1::BrokerFrame& frame) { return frame.has_delivery(); }, timeout);
}

absl::StatusOr<v1::PublishReceipt> WireNode::ReceiveReceipt(std::chrono::milliseconds timeout) {
  auto frames = ReceiveFrames(pub_, timeout);
  if (!frames.ok()) return frames.status();
  v1::PublishReceipt receipt;
  if (frames->size() != 1 ||
      !receipt.ParseFromArray((*frames)[0].data(), static_cast<int>((*frames)[0].size()))) {
    return absl::DataLossError("not a single-frame PublishReceipt");
  }
  return receipt;
}

v1::Envelope RoomsEnvelope(const std::string& ns, const std::vector<std::string>& rooms,
                           const std::string& event) {
  v1::Envelope envelope;
  envelope.set_version(v1::VERSION_1);
  envelope.set_kind(v1::KIND_EVENT);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_(ns);
  for (const std::string& room : rooms) envelope.add_rooms(room);
  envelope.set_event(event);
  envelope.set_args(R"([{"text":"hi"}])");
  envelope.set_origin("test-publisher");
  return envelope;
}

}  // namespace roomq::broker_test
