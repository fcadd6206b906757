#ifndef ROOMQ_TESTS_BROKER_WIRE_NODE_H_
#define ROOMQ_TESTS_BROKER_WIRE_NODE_H_

// A node speaking the broker's wire protocol by hand with two raw DEALER
// sockets, for black-box tests of the real roomq-broker: every frame it
// sends and receives is visible to the test, including malformed ones.
//
// Thread safety: none; one test thread per WireNode.

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "absl/status/statusor.h"
#include "proto/roomq.pb.h"
#include "proto/wire/topic.h"

namespace roomq::broker_test {

// One message from the broker's subscriber socket, decoded.
struct Received {
  v1::BrokerFrame frame;
  std::string raw;        // the frame's bytes as received
  v1::Envelope envelope;  // a delivery's envelope (frame.delivery().envelope())
};

class WireNode {
 public:
  WireNode(zmq::context_t& context, const std::string& pub_endpoint,
           const std::string& sub_endpoint, int receive_hwm = 1000);

  // Raw frames to the publish / subscribe socket.
  void SendPub(const std::vector<std::string>& frames);
  void SendSub(const std::vector<std::string>& frames);
  void Publish(const v1::Envelope& envelope) { SendPub({envelope.SerializeAsString()}); }
  void Command(const v1::SubscriberCommand& command) { SendSub({command.SerializeAsString()}); }

  void Hello(const std::string& node, uint32_t heartbeat_ms = 0, uint64_t request_id = 0);
  void Ping(uint64_t request_id = 0);
  void Goodbye();
  void SendSubscribe(const std::vector<wire::TopicRef>& topics, uint64_t request_id);
  void SendUnsubscribe(const std::vector<wire::TopicRef>& topics, uint64_t request_id);

  // Subscribes and waits for the broker's Reply (skipping other frames).
  absl::Status Subscribe(const std::vector<wire::TopicRef>& topics,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // Sends Hello, then waits until the broker answers (a Ping/Reply round trip).
  absl::Status Join(const std::string& node, uint32_t heartbeat_ms = 0,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  // The next frame on the subscribe socket: a broker message carries one
  // or more frames, each one BrokerFrame (the rest of a message wait for the
  // next calls). DeadlineExceeded when none arrives in time; DataLoss when
  // it is not a BrokerFrame (a delivery must carry an envelope).
  absl::StatusOr<Received> Receive(std::chrono::milliseconds timeout);
  // Every frame of the next message (or what Receive() left of the current
  // one), decoded; DataLoss when one of them is not a BrokerFrame.
  absl::StatusOr<std::vector<Received>> ReceiveMessage(std::chrono::milliseconds timeout);
  // The next frame `wanted` accepts, skipping the others.
  absl::StatusOr<Received> ReceiveWhere(const std::function<bool(const v1::BrokerFrame&)>& wanted,
                                        std::chrono::milliseconds timeout);
  // The next delivery, skipping Pongs and Replies.
  absl::StatusOr<Received> ReceiveDelivery(std::chrono::milliseconds timeout);
  // The next frame on the publish socket (a PublishReceipt).
  absl::StatusOr<v1::PublishReceipt> ReceiveReceipt(std::chrono::milliseconds timeout);

  zmq::socket_t& pub() { return pub_; }
  zmq::socket_t& sub() { return sub_; }

 private:
  absl::StatusOr<std::vector<zmq::message_t>> ReceiveFrames(zmq::socket_t& socket,
                                                            std::chrono::milliseconds timeout);

  zmq::socket_t pub_;
  zmq::socket_t sub_;
  std::deque<zmq::message_t> pending_;  // frames of a message Receive() has not returned yet
  uint64_t next_request_id_ = 1000000;
};

// An envelope for ROOMS (ns, rooms...) with the given event name; valid.
v1::Envelope RoomsEnvelope(const std::string& ns, const std::vector<std::string>& rooms,
                           const std::string& event);

}  // namespace roomq::broker_test

#endif  // ROOMQ_TESTS_BROKER_WIRE_NODE_H_
