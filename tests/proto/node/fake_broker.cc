#include "tests/proto/node/fake_broker.h"

#include <atomic>
#include <cstdint>
#include <cstring>

namespace roomq::node::testing {
namespace {

// Watches `socket` for its listener's ZMQ_EVENT_CLOSED.
zmq::socket_t MonitorClose(zmq::context_t& context, zmq::socket_t& socket) {
  static std::atomic<uint64_t> counter{0};
  const std::string endpoint = "inproc://fake-broker-monitor-" + std::to_string(counter++);
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), ZMQ_EVENT_CLOSED) != 0) {
    throw zmq::error_t();
  }
  zmq::socket_t monitor(context, zmq::socket_type::pair);
  monitor.set(zmq::sockopt::linger, 0);
  monitor.set(zmq::sockopt::rcvtimeo, 5000);
  monitor.connect(endpoint);
  return monitor;
}

// Unbinds `endpoint` and waits (up to 5 s) until its port is closed.
void UnbindAndWait(zmq::socket_t& socket, zmq::socket_t& monitor, const std::string& endpoint) {
  try {
    socket.unbind(endpoint);
    while (true) {
      zmq::message_t event, address;
      if (!monitor.recv(event)) return;  // timed out
      if (monitor.get(zmq::sockopt::rcvmore)) (void)monitor.recv(address);
      uint16_t id = 0;
      if (event.size() >= sizeof(id)) std::memcpy(&id, event.data(), sizeof(id));
      if (id == ZMQ_EVENT_CLOSED) return;
    }
  } catch (const zmq::error_t&) {
  }
}

zmq::message_t ToMessage(const google::protobuf::MessageLite& proto) {
  zmq::message_t message(proto.ByteSizeLong());
  proto.SerializeToArray(message.data(), static_cast<int>(message.size()));
  return message;
}

}  // namespace

FakeBroker::FakeBroker(zmq::context_t& context, const std::string& pub_endpoint,
                       const std::string& sub_endpoint)
    : pub_(context, zmq::socket_type::router), sub_(context, zmq::socket_type::router) {
  pub_.set(zmq::sockopt::linger, 0);
  sub_.set(zmq::sockopt::linger, 0);
  pub_monitor_ = MonitorClose(context, pub_);
  sub_monitor_ = MonitorClose(context, sub_);
  pub_.bind(pub_endpoint);
  sub_.bind(sub_endpoint);
  pub_endpoint_ = pub_.get(zmq::sockopt::last_endpoint);
  sub_endpoint_ = sub_.get(zmq::sockopt::last_endpoint);
}

FakeBroker::~FakeBroker() {
  UnbindAndWait(pub_, pub_monitor_, pub_endpoint_);
  UnbindAndWait(sub_, sub_monitor_, sub_endpoint_);
  zmq_socket_monitor(pub_.handle(), nullptr, 0);
  zmq_socket_monitor(sub_.handle(), nullptr, 0);
}

void FakeBroker::Service() {
  while (true) {
    zmq::message_t identity, body;
    if (!sub_.recv(identity, zmq::recv_flags::dontwait)) break;
    (void)sub_.recv(body);
    subscriber_identity = identity.to_string();
    v1::SubscriberCommand command;
    if (!command.ParseFromArray(body.data(), static_cast<int>(body.size()))) continue;
    commands.push_back(command);
    v1::BrokerFrame answer;
    if (standby) {
      answer.mutable_standby()->set_state("passive");
    } else if (command.has_ping()) {
      if (!answer_ping) continue;
      answer.mutable_pong()->set_known(known);
      ++pongs_sent;
    } else if (command.request_id() != 0) {
      if (!answer_subscribe) continue;
      answer.mutable_reply()->set_request_id(command.request_id());
      answer.mutable_reply()->set_ok(true);
      if (current_epoch != 0 && command.has_subscribe()) {
        answer.mutable_reply()->set_epoch(current_epoch);
        answer.mutable_reply()->set_sequence(current_sequence);
        for (const v1::Topic& topic : command.subscribe().topics()) {
          v1::TopicOffset* current = answer.mutable_reply()->add_current();
          *current->mutable_topic() = topic;
          current->set_offset(current_offset);
        }
      }
    } else {
      continue;
    }
    sub_.send(zmq::buffer(subscriber_identity), zmq::send_flags::sndmore);
    sub_.send(ToMessage(answer), zmq::send_flags::none);
  }
  while (true) {
    zmq::message_t identity, body;
    if (!pub_.recv(identity, zmq::recv_flags::dontwait)) break;
    (void)pub_.recv(body);
    v1::Envelope envelope;
    if (!envelope.ParseFromArray(body.data(), static_cast<int>(body.size()))) continue;
    published.push_back(envelope);
    if (!envelope.confirm() || !answer_publish) continue;
    v1::PublishReceipt receipt;
    receipt.set_origin(envelope.origin());
    receipt.set_message_id(envelope.message_id());
    receipt.set_accepted(true);
    pub_.send(identity, zmq::send_flags::sndmore);
    pub_.send(ToMessage(receipt), zmq::send_flags::none);
  }
}

void FakeBroker::ServiceFor(std::chrono::milliseconds timeout) {
  zmq::pollitem_t items[] = {{pub_.handle(), 0, ZMQ_POLLIN, 0}, {sub_.handle(), 0, ZMQ_POLLIN, 0}};
  zmq::poll(items, 2, timeout);
  Service();
}

void FakeBroker::Deliver(const v1::Envelope& envelope) {
  v1::BrokerFrame frame;
  frame.mutable_delivery()->set_epoch(7);
  *frame.mutable_delivery()->mutable_envelope() = envelope;
  SendRawToSubscriber({frame.SerializeAsString()});
}

void FakeBroker::SendRawToSubscriber(const std::vector<std::string>& frames) {
  sub_.send(zmq::buffer(subscriber_identity), zmq::send_flags::sndmore);
  for (size_t i = 0; i < frames.size(); ++i) {
    sub_.send(zmq::buffer(frames[i]),
              i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

}  // namespace roomq::node::testing
