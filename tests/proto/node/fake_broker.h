#ifndef ROOMQ_TESTS_PROTO_NODE_FAKE_BROKER_H_
#define ROOMQ_TESTS_PROTO_NODE_FAKE_BROKER_H_

// A scripted stand-in for roomq-broker built from two raw ROUTER sockets, so
// Link tests can see (and withhold) every frame. Single-threaded: the test
// calls Service() between Link::Poll() calls, or ServiceFor() while a Link
// runs on a thread of its own (LinkThread).

#include <chrono>
#include <functional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "proto/roomq.pb.h"

namespace roomq::node::testing {

class FakeBroker {
 public:
  // Binds tcp://127.0.0.1:* (or the given endpoints, for a restart on the
  // same ports).
  explicit FakeBroker(zmq::context_t& context,
                      const std::string& pub_endpoint = "tcp://127.0.0.1:*",
                      const std::string& sub_endpoint = "tcp://127.0.0.1:*");
  // Returns once both listening ports are closed (ZeroMQ closes them on its
  // I/O thread; a monitor reports it), so a new FakeBroker can bind them at
  // once.
  ~FakeBroker();

  const std::string& pub_endpoint() const { return pub_endpoint_; }
  const std::string& sub_endpoint() const { return sub_endpoint_; }

  // Reads everything pending and answers per the switches below.
  void Service();
  // Waits up to `timeout` for a frame from a node, then Service().
  void ServiceFor(std::chrono::milliseconds timeout);

  // Sends a delivery (or arbitrary raw frames) to the last subscriber identity seen.
  void Deliver(const v1::Envelope& envelope);
  void SendRawToSubscriber(const std::vector<std::string>& frames);

  bool answer_subscribe = true;
  bool answer_ping = true;
  bool known = true;
  bool answer_publish = true;
  // A pair's broker that does not serve: every command is answered with
  // BrokerFrame{standby} (proto/roomq.proto Standby).
  bool standby = false;
  // Non-zero: a Reply to a Subscribe lists every topic in `current` with
  // this epoch and offset, as the broker does for topics with history.
  uint64_t current_epoch = 0;
  uint64_t current_offset = 0;
  // With current_epoch: the Reply's `sequence`, the broker's newest.
  uint64_t current_sequence = 0;

  std::vector<v1::SubscriberCommand> commands;  // every command received, in order
  std::vector<v1::Envelope> published;          // every envelope received
  uint64_t pongs_sent = 0;
  std::string subscriber_identity;

 private:
  zmq::socket_t pub_;
  zmq::socket_t sub_;
  zmq::socket_t pub_monitor_;  // PAIRs receiving the listeners' ZMQ_EVENT_CLOSED
  zmq::socket_t sub_monitor_;
  std::string pub_endpoint_;
  std::string sub_endpoint_;
};

}  // namespace roomq::node::testing

#endif  // ROOMQ_TESTS_PROTO_NODE_FAKE_BROKER_H_
