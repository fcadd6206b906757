#ifndef ROOMQ_PROTO_NODE_LINK_H_
#define ROOMQ_PROTO_NODE_LINK_H_

// roomq::node::Link: one node's connection to the broker, the layer every
// native program (the high-level roomq::Client, the CLI, the gateway's
// bridge, benchmarks) builds on.
//
// Sockets: one DEALER connected to the broker's --pub-bind (sends Envelopes,
// receives PublishReceipts) and one DEALER connected to its --sub-bind (sends
// SubscriberCommands, receives BrokerFrames and deliveries); neither takes a
// frame over LinkOptions::max_message_bytes. A zmq socket
// monitor on the sub socket (read through an inproc PAIR polled in Poll())
// reports TCP (re)connections.
//
// Thread safety: NOT thread-safe. Create the Link, call every method and run
// Poll() on ONE thread; every callback runs inside Poll() on that thread.
// ZeroMQ sockets never leave it.
//
// Recovery, without the caller doing anything:
//  - every TCP (re)connection of the sub socket re-sends Hello and the whole
//    subscription set in one Subscribe;
//  - Ping every `heartbeat`; Pong{known=false} (the broker restarted or
//    expired this node) re-sends Hello and the subscription set;
//  - no Pong for 3 heartbeats => the broker is treated as down
//    (on_broker_state(false)); if the TCP connection still looks up (a hung
//    broker or a half-open connection), or is gone and ZeroMQ does not retry
//    it (it gives a connection up after a protocol error, such as a frame
//    over max_message_bytes), the sub socket is recreated; retries go on
//    until the broker answers again (on_broker_state(true)). The pub socket
//    is not watched: a broker that broke the protocol on it (a receipt over
//    max_message_bytes; no roomq-broker sends one) leaves the Link unable to
//    publish (ResourceExhausted) until it is recreated.
// The whole set is sent in batches of 10000 topics per Subscribe command.
// Subscribe `done` callbacks are keyed by request id (pending ones are carried
// over to the full re-subscription after a reconnection); publish receipts
// are keyed by message id. Neither waits forever: after receipt_timeout they
// complete with Unavailable.
//
// A broker message carries one or more frames (the broker sends a burst's
// deliveries to this node as one message, proto/README.md); each frame is
// one BrokerFrame, handled on its own, in order. A malformed frame (bad
// protobuf, a delivery without an envelope or with the wrong envelope
// version) is dropped and counted in stats().dropped_malformed; the other
// frames of its message are handled as usual.
//
// History (proto/README.md "History, resume and recovery"): the Link records,
// per subscribed CHANNEL_ROOMS topic, the newest offset it delivered (from
// Delivery.offsets, with the epoch it belongs to) and, after every
// re-subscription (TCP reconnect, Pong{known=false}), asks the broker to
// resume every such topic from there: with a broker restarted from
// --data-dir (same epoch) a subscriber misses nothing that history still
// holds and gets nothing twice. A topic is resumed only once it has a
// position: from its first delivery on, or from Subscribe(..., from).
// Replayed deliveries reach on_delivery with header.replayed() == true; a
// replayed delivery that advances none of the subscribed topics' positions
// (it was already delivered, e.g. through another of its rooms) is dropped
// and counted in stats().dropped_duplicate.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/base/clock.h"
#include "proto/node/curve.h"
#include "proto/node/endpoints.h"
#include "proto/roomq.pb.h"
#include "proto/wire/topic.h"

namespace roomq::node {

struct LinkOptions {
  // The broker's endpoints, or a failover pair's as two comma-separated
  // lists of one length, primary first ("tcp://a:5555,tcp://b:5555"): the
  // Link moves to the next pair of endpoints when its broker is silent for
  // 3 heartbeats or answers Standby (broker/failover/README.md).
  std::string pub_endpoint = kDefaultPubEndpoint;
  std::string sub_endpoint = kDefaultSubEndpoint;
  std::string node_id;  // empty = generated "<prefix>-<host>-<pid>-<random>"
  std::string node_prefix = "node";
  std::chrono::milliseconds heartbeat{1000};  // Ping period; broker silent 3x this => down
  int send_hwm = 100000;                      // ZMQ_SNDHWM on the pub socket (messages)
  // Deliveries queued from the broker, about: the sub socket's ZMQ_RCVHWM
  // (messages) is receive_hwm / 8, as a broker message holds up to 8
  // deliveries (fewer when traffic is light). <= 0: ZeroMQ's meaning.
  int receive_hwm = 100000;
  // ZMQ_MAXMSGSIZE on both sockets: a frame from the broker larger than
  // this makes ZeroMQ drop the connection (the Link reconnects, resubscribes
  // and resumes; stats().reconnects counts it) instead of allocating it. The
  // largest frames a broker sends are deliveries (its --max-message-bytes
  // plus offsets) and Recovered answers, which it keeps within its
  // --max-peer-queue-bytes (64 MiB by default): keep this at least that.
  int64_t max_message_bytes = int64_t{64} << 20;
  std::chrono::milliseconds receipt_timeout{5000};
  // Added: how long closing the Link may wait to flush Goodbye and unsent
  // envelopes (ZMQ_LINGER on both sockets).
  std::chrono::milliseconds linger{200};
  // CURVE to the broker (roomq/curve.h: LoadCurveClientOptions) on both
  // sockets; default (empty) = plain TCP. Against a CURVE broker a node
  // whose key is not allowed never gets through: it keeps reconnecting and
  // sees the broker as down.
  CurveClientOptions curve;
  // Where heartbeats, silence, receipt/reply/recover deadlines (Now()) and
  // envelope timestamps (WallNow()) are read; must outlive the Link. Poll()
  // still blocks in zmq_poll for real time, bounded by its timeout and by
  // the next timer as this clock sees it.
  const base::Clock* clock = &base::Clock::Real();
};

// One delivery from the broker: the BrokerFrame{delivery} parsed once by the
// Link. The envelope arrives inside the delivery (Delivery.envelope, the
// publisher's bytes verbatim on the wire) and is moved out of the header.
struct Delivery {
  v1::Delivery header;    // epoch, offsets (its `envelope` is cleared)
  v1::Envelope envelope;  // version-checked; handlers may move from it
};

// Where a resumed subscription starts: everything the broker's history holds
// for the topic with offset > after_offset. `epoch` is the epoch the offset
// belongs to (a different epoch than the broker's replays everything held).
struct ResumeFrom {
  uint64_t epoch = 0;
  uint64_t after_offset = 0;
};

// The optional members default to empty so that callers name only what
// they handle (designated initializers).
struct LinkHandlers {
  std::function<void(Delivery&)> on_delivery;             // required
  std::function<void(bool connected)> on_broker_state{};  // optional: broker up/down transitions
  // Optional: the broker's ResumeResult for every resumed topic (explicit
  // Subscribe(..., from) and automatic resumes after a re-subscription),
  // when its Reply arrives; `truncated` means the subscriber has a gap.
  std::function<void(const v1::ResumeResult&)> on_resumed{};
  // Optional: runs right after every Hello (a TCP (re)connection, or a
  // broker that no longer knows this node) and the subscription set that
  // follows it: where a node re-announces the rest of what the broker must
  // know of it (a gateway's full socket list, SendSockets).
  std::function<void()> on_hello{};
  // Optional: the broker moved a socket record this node held to another
  // node (BrokerFrame{close_socket}); the node closes that socket.
  std::function<void(const v1::CloseSocket&)> on_close_socket{};
};

class Link {
 public:
  // InvalidArgument for a missing on_delivery, a null clock or a non-positive
  // heartbeat / receipt_timeout / max_message_bytes; Internal when a zmq socket cannot be created
  // or an endpoint is malformed. The broker need not be up: the Link connects (and subscribes)
  // whenever it appears.
  static absl::StatusOr<std::unique_ptr<Link>> Create(zmq::context_t& context, LinkOptions options,
                                                      LinkHandlers handlers);
  // Sends Goodbye (best effort, bounded by `linger`) and closes the sockets.
  // Pending done/receipt callbacks are NOT called.
  ~Link();

  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  const std::string& node_id() const { return node_id_; }

  // Adds `topic` to the subscription set. `done` (optional) runs once the broker's Reply arrives
  // (OK, or Internal carrying the broker's error), or with Unavailable if the broker does not
  // answer within receipt_timeout — the topic stays in the set and is restored when the broker
  // comes back. Subscribing twice is idempotent. An invalid topic completes `done` with
  // InvalidArgument at once and is not added.
  // With `from` (CHANNEL_ROOMS topics only, else InvalidArgument), the broker first replays what
  // its history holds after from->after_offset (deliveries with header.replayed() == true, before
  // the Reply and before any live delivery routed after it), and the topic's position is set to
  // `from` so a reconnection before its first delivery resumes from there too.
  void Subscribe(const wire::TopicRef& topic, std::function<void(absl::Status)> done = nullptr,
                 std::optional<ResumeFrom> from = std::nullopt);
  // Removes `topic` from the set (no-op when absent) and tells the broker.
  void Unsubscribe(const wire::TopicRef& topic);
  bool subscribed(const wire::TopicRef& topic) const;
  size_t subscription_count() const { return subscriptions_.size(); }
  // The newest offset delivered for a subscribed topic and its epoch (what an automatic resume
  // starts from): a delivery's, the Subscribe `from`, or the broker's newest offset when it
  // confirmed the subscription (Reply.current); nullopt when not subscribed or none of those yet.
  std::optional<ResumeFrom> position(const wire::TopicRef& topic) const;

  // Socket records (the gateway's bridge; proto/README.md "Socket records"). Fire and forget: a
  // command lost to a broker outage is made good by the full list the node sends from on_hello.
  void SendSockets(v1::Sockets sockets);
  // Claims a saved session (see v1::Recover). `done` gets the broker's Recovered frame (check
  // `ok`), or Unavailable when the broker does not answer within receipt_timeout. Asked while the
  // Link has no connection (the broker is restarting), it is sent once the next connection's Hello
  // is (within the same receipt_timeout). On Recovered{ok} the broker has already subscribed this
  // node to (namespace, room) for every session room and the Link has added them to its set (so
  // they survive a reconnection); every live delivery handed out after `done` has a greater
  // sequence than every `missed` entry. `missed` deliveries do not go through on_delivery.
  void Recover(const v1::Recover& request, std::function<void(absl::StatusOr<v1::Recovered>)> done);
  // Asks the broker who is connected (v1::Presence, proto/README.md "Presence"). `done` gets one
  // page (check `ok`), or Unavailable when the broker does not answer within receipt_timeout
  // (also when the connection was lost with the query on its way).
  void Presence(const v1::Presence& query,
                std::function<void(absl::StatusOr<v1::PresenceAnswer>)> done);
  // Newest epoch / sequence seen from the broker (Pong, Delivery, Recovered, or the Reply to a
  // Subscribe, noted before that Reply's callbacks run); 0 before any. A new epoch resets the
  // sequence to the one that came with it.
  uint64_t epoch() const { return epoch_; }
  uint64_t last_sequence() const { return last_sequence_; }

  // Publishes an envelope. Fills version, origin, message_id, timestamp_us when unset.
  // With `on_receipt`, sets confirm and calls it with the broker's PublishReceipt (the caller
  // checks `accepted`), or with Unavailable after receipt_timeout. ResourceExhausted if the send
  // queue (send_hwm) is full: nothing was sent and `on_receipt` is not called.
  absl::Status Publish(
      v1::Envelope envelope,
      std::function<void(absl::StatusOr<v1::PublishReceipt>)> on_receipt = nullptr);

  // Waits up to `timeout` for broker traffic and for any `extra` poll items (the caller's own zmq
  // sockets or fds), handles what is ready (callbacks run here), runs heartbeats and timeouts, and
  // returns. `extra[i].revents` tells the caller what of its own is ready.
  // Errors: Internal when zmq_poll itself fails (EINTR is not an error: returns OK).
  absl::Status Poll(std::chrono::milliseconds timeout, std::span<zmq::pollitem_t> extra = {});

  // True between a broker answer (Pong/Reply) and a detected outage.
  bool broker_connected() const { return broker_connected_; }
  struct Stats {
    uint64_t published, delivered, dropped_malformed, reconnects;
    uint64_t refused_full = 0;       // added: Publish() refused at send_hwm (ResourceExhausted)
    uint64_t replayed = 0;           // replayed deliveries handed to on_delivery
    uint64_t dropped_duplicate = 0;  // replayed deliveries dropped: already delivered
    uint64_t pings = 0;              // Pings sent
    uint64_t pongs = 0;              // Pongs received (equal to pings once all are answered)
    uint64_t standby = 0;            // Standby answers: a pair's broker that does not serve now
    uint64_t broker_moves = 0;       // moves to the next broker of the list (failover)
  };
  Stats stats() const { return stats_; }

 private:
  using TimePoint = base::Clock::TimePoint;
  struct PendingReceipt {
    TimePoint deadline;
    std::function<void(absl::StatusOr<v1::PublishReceipt>)> callback;
  };
  struct PendingReply {
    TimePoint deadline;
    std::function<void(absl::Status)> callback;
  };
  struct PendingRecover {
    TimePoint deadline;
    std::function<void(absl::StatusOr<v1::Recovered>)> callback;
    // Not sent yet: asked for while the connection was down; goes right
    // after the next connection's Hello and subscriptions.
    std::optional<v1::SubscriberCommand> unsent;
  };
  struct PendingPresence {
    TimePoint deadline;
    std::function<void(absl::StatusOr<v1::PresenceAnswer>)> callback;
  };
  // One entry of the subscription set.
  struct Subscription {
    v1::Topic topic;
    // Newest offset delivered (or the Subscribe `from`), in `epoch`;
    // meaningful when has_position (CHANNEL_ROOMS topics only).
    bool has_position = false;
    uint64_t epoch = 0;
    uint64_t offset = 0;
  };

  Link(zmq::context_t& context, LinkOptions options, LinkHandlers handlers);
  absl::Status OpenPubSocket();
  absl::Status OpenSubSocket();
  void CloseSubSocket();
  // Failover (several brokers listed): both sockets go to the next broker of
  // the list, which gets Hello and the subscriptions once connected.
  void MoveToNextBroker(TimePoint now, std::string_view why);
  void SendCommand(const v1::SubscriberCommand& command);
  void SendHelloAndSubscriptions();
  // The subscription set in batches (part of SendHelloAndSubscriptions).
  void SendSubscriptions();
  // A Subscribe's Reply.current: the resume point of each listed topic
  // that has none yet (so a resume after a broker outage has no hole
  // before the topic's first delivery).
  void SeeCurrentOffsets(const v1::Reply& reply);
  void SetBrokerConnected(bool connected);
  void HandleSubReadable();
  void HandlePubReadable();
  void HandleMonitorReadable();
  void HandleBrokerFrame(const zmq::message_t& message);
  void HandleRecovered(v1::Recovered& recovered);
  // Notes a delivery's epoch/sequence and advances the positions of the
  // subscribed topics in its offsets. Returns whether any position advanced.
  bool TrackDelivery(const v1::Delivery& header);
  void SeeEpoch(uint64_t epoch, uint64_t sequence);
  void AddResumePoint(const Subscription& subscription, v1::Subscribe& subscribe) const;
  // Sends a Ping (when connected) and schedules the next one a heartbeat on.
  void SendPing(TimePoint now);
  void RunTimers(TimePoint now);
  TimePoint NextTimer() const;

  zmq::context_t& context_;
  LinkOptions options_;
  LinkHandlers handlers_;
  std::string node_id_;

  // The brokers to try, in order (LinkOptions' comma-separated lists), and
  // the one the sockets are connected to.
  std::vector<std::string> pub_endpoints_;
  std::vector<std::string> sub_endpoints_;
  size_t broker_ = 0;
  TimePoint last_move_;
  std::optional<TimePoint> move_due_;  // a standby answer's move, held back a heartbeat
  zmq::socket_t pub_;
  zmq::socket_t sub_;
  zmq::socket_t monitor_;  // PAIR reading sub_'s monitor events
  std::string monitor_endpoint_;
  bool tcp_connected_ = false;
  // False from a disconnection until ZeroMQ says it retries: still false
  // after 3 silent heartbeats means it gave the connection up (a protocol
  // error), and the sub socket is recreated.
  bool zmq_retrying_ = true;
  uint64_t connections_ = 0;  // TCP connections seen on the sub socket
  bool broker_connected_ = false;

  // Routing key -> topic and position: the whole subscription set, restored
  // (and resumed) on reconnect.
  std::map<std::string, Subscription> subscriptions_;
  std::string key_scratch_;  // TrackDelivery's topic keys, no allocation once grown
  // request id -> callbacks waiting for that Reply.
  std::map<uint64_t, std::vector<PendingReply>> pending_replies_;
  // message id -> receipt callback; ids increase with time, so the map's
  // order is also deadline order.
  std::map<uint64_t, PendingReceipt> pending_receipts_;
  // request id -> Recover callback.
  std::map<uint64_t, PendingRecover> pending_recovers_;
  // request id -> Presence callback.
  std::map<uint64_t, PendingPresence> pending_presence_;
  uint64_t epoch_ = 0;
  uint64_t last_sequence_ = 0;

  uint64_t next_request_id_ = 1;
  uint64_t next_message_id_ = 1;
  TimePoint next_ping_;
  TimePoint last_broker_answer_;
  Stats stats_{};
};

}  // namespace roomq::node

#endif  // ROOMQ_PROTO_NODE_LINK_H_
