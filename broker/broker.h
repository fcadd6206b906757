#ifndef ROOMQ_BROKER_BROKER_H_
#define ROOMQ_BROKER_BROKER_H_

// The broker: one loop on one thread owning two ROUTER sockets.
//
//   --pub-bind  ROUTER  <- [Envelope] from publishers' DEALERs
//                       -> [PublishReceipt] when the envelope asked for it
//   --sub-bind  ROUTER  <- [SubscriberCommand] from subscribers' DEALERs
//                       -> [BrokerFrame{delivery|reply|pong}]
//
// Publish path (the hot path): wire::ScanRouteInto reads the routing fields
// straight from the received bytes, RoutingTable::Match finds the
// subscribers, and each gets [its identity][the delivery frame]. The
// delivery frame (BrokerFrame{delivery{epoch, envelope}}, see
// proto/wire/delivery.h) is written once per envelope: a few header bytes
// and the publisher's envelope bytes verbatim, in one zmq buffer that every
// recipient's message shares by reference count (zmq_msg_copy).
// Sends never block: ZMQ_ROUTER_MANDATORY is on, a subscriber at its
// high-water mark (EAGAIN) loses that delivery (counted in dropped_hwm),
// an unreachable one (EHOSTUNREACH: its connection is gone) is removed.
//
// Malformed input of any kind (wrong frame count, not a protobuf message,
// wrong version, unknown channel or kind, invalid topics) is dropped and
// counted by reason (BrokerStats::malformed); routing goes on. An envelope
// that was readable but invalid and asked for confirm gets a receipt with
// accepted=false and the reason.
//
// Subscriber commands (see proto/README.md): Hello starts a session,
// Subscribe/Unsubscribe change the routing table at once, then a Reply
// answers a non-zero request_id; Ping is answered with Pong{epoch, known};
// Goodbye removes the peer. Peers silent for 3 heartbeats are expired.
//
// Thread safety: Create() may run on one thread and Run() on another (the
// sockets move with the thread start's memory barrier); after that every
// method except Stop() belongs to the thread running Run(). Stop() may be
// called from any thread and from a signal handler.
//
// Limits (BrokerOptions, with defaults): high-water mark 100000 messages per
// socket and peer, in both directions; max message size 16 MiB (ZeroMQ
// drops the connection of a peer that sends more); 1,000,000 topics per
// subscriber (more is refused with Reply{ok=false}); at most
// wire::kMaxRoomsPerEnvelope rooms per envelope.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "absl/status/statusor.h"
#include "broker/peer_table.h"
#include "broker/routing_table.h"
#include "broker/stats.h"
#include "proto/roomq.pb.h"
#include "proto/wire/route.h"

namespace roomq::broker {

struct BrokerOptions {
  std::string pub_bind = "tcp://127.0.0.1:5555";
  std::string sub_bind = "tcp://127.0.0.1:5556";
  // Heartbeat assumed for subscribers whose Hello says 0 (and before Hello).
  std::chrono::milliseconds heartbeat{1000};
  // ZMQ_SNDHWM and ZMQ_RCVHWM on both sockets (messages, per peer).
  int hwm = 100000;
  // ZMQ_MAXMSGSIZE on both sockets.
  int64_t max_message_bytes = 16 << 20;
  int max_topics_per_peer = 1000000;
  // How often the stats line is logged (only when something changed).
  std::chrono::milliseconds stats_interval{10000};
  // The Delivery/Pong epoch; 0 picks a random one.
  uint64_t epoch = 0;
};

class Broker {
 public:
  // Creates and binds both sockets. InvalidArgument for a bad option or
  // endpoint, Unavailable when an endpoint cannot be bound (in use).
  static absl::StatusOr<std::unique_ptr<Broker>> Create(zmq::context_t& context,
                                                        BrokerOptions options);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // The endpoints actually bound (ZMQ_LAST_ENDPOINT: "tcp://127.0.0.1:*"
  // becomes the real port).
  const std::string& pub_endpoint() const { return pub_endpoint_; }
  const std::string& sub_endpoint() const { return sub_endpoint_; }
  uint64_t epoch() const { return epoch_; }

  // Logs "roomq-broker listening pub=... sub=... epoch=...", then routes
  // until Stop(). Logs the final stats line before returning. Internal when
  // polling fails for a reason other than a signal.
  absl::Status Run();
  // Makes Run() return soon. Thread-safe and async-signal-safe.
  void Stop();

  // Counters; from the loop thread or after Run() returned.
  const BrokerStats& stats() const { return stats_; }

  // Calls `observer` on the loop thread with a copy of the counters (peers
  // and topics current) about every `interval` while Run() runs, and once
  // more as it returns; used to publish them to the metrics endpoint
  // (broker/metrics.h). Call before Run(). The observer must be quick: it
  // runs on the routing thread.
  void SetStatsObserver(std::function<void(const BrokerStats&)> observer,
                        std::chrono::milliseconds interval);

 private:
  Broker(zmq::context_t& context, BrokerOptions options, uint64_t epoch);
  absl::Status Bind();

  void DrainPublishers();
  void DrainSubscribers();
  void Route();
  void SendDeliveries();
  void SendReceipt(bool accepted, std::string_view error);
  void HandleCommand(std::string_view identity, const zmq::message_t& body);
  void HandleSubscribe(Peer& peer, const v1::SubscriberCommand& command);
  void HandleUnsubscribe(std::string_view identity, Peer* peer,
                         const v1::SubscriberCommand& command);
  void SendReply(std::string_view identity, uint64_t request_id, bool ok, std::string_view error);
  void SendBrokerFrame(std::string_view identity, const v1::BrokerFrame& frame);
  void Housekeeping(Clock::time_point now);
  void LogStats(bool final);

  const BrokerOptions options_;
  const uint64_t epoch_;
  zmq::socket_t pub_;
  zmq::socket_t sub_;
  std::string pub_endpoint_;
  std::string sub_endpoint_;
  int wake_fd_ = -1;  // eventfd written by Stop()
  std::atomic<bool> stop_{false};

  RoutingTable routes_;
  PeerTable peers_;
  BrokerStats stats_;
  BrokerStats last_logged_;
  Clock::time_point next_housekeeping_;
  Clock::time_point next_stats_;
  std::function<void(const BrokerStats&)> stats_observer_;
  std::chrono::milliseconds stats_observer_interval_{100};
  Clock::time_point next_observe_;

  // Reused on the hot path so routing makes no allocation of its own in
  // steady state (libzmq allocates each received envelope's buffer and each
  // delivery frame's one shared buffer: one per envelope, not per recipient).
  zmq::message_t delivery_;      // current delivery frame, shared by all recipients
  zmq::message_t identity_;      // current publish message: sender identity
  zmq::message_t body_;          // current publish message: envelope bytes
  wire::EnvelopeRoute route_;    // views into body_
  std::vector<const Subscriber*> targets_;
  std::vector<std::string> unreachable_;
};

}  // namespace roomq::broker

#endif  // ROOMQ_BROKER_BROKER_H_
