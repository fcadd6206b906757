#ifndef ROOMQ_GATEWAY_BRIDGE_PORT_H_
#define ROOMQ_GATEWAY_BRIDGE_PORT_H_

// What a gateway shard asks of the broker, and what it gets back.
//
// The real implementation is Bridge (gateway/bridge/bridge.h), a thread that
// owns the ZeroMQ Link; tests use a fake. Shards never touch ZeroMQ.
//
// Thread safety: every Port method may be called from any shard thread.
// Callbacks passed in run later on the executor of the shard named in the
// call, never inside the call itself.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/roomq.pb.h"

namespace roomq::gateway {

// One broker delivery as the shards see it, prepared once on the bridge
// thread by the layer above (Bridge::Options::prepare; the Socket.IO layer
// defines it in gateway/socketio/dispatch.h and encodes its frame there) and
// shared read-only by every shard it is posted to. The bridge only moves
// these pointers around: it never looks inside, so it knows nothing of what
// the shards speak.
struct Dispatch;
using SharedDispatch = std::shared_ptr<const Dispatch>;

}  // namespace roomq::gateway

namespace roomq::gateway::bridge {

// A Socket.IO session the broker gave back (Port::Recover).
struct Recovery {
  v1::Session session;
  // The events the socket missed, in sequence order, each a Dispatch whose
  // frame carries its offset argument. Not yet filtered for the socket
  // (except_socket / except_rooms): the shard does that.
  std::vector<SharedDispatch> missed;
};

class Port {
 public:
  virtual ~Port() = default;

  // The gateway's node id (reply_to of what it publishes).
  virtual const std::string& node_id() const = 0;

  // Shard `shard` got its first local member of the topic with routing key
  // `topic_key` (proto/wire/topic.h). `done` runs on that shard once the
  // broker confirmed the subscription (OK) or gave up (Unavailable; the
  // subscription stays and is restored when the broker returns).
  virtual void Subscribe(size_t shard, std::string topic_key,
                         std::function<void(absl::Status)> done) = 0;
  // Shard `shard` lost its last local member of `topic_key`.
  virtual void Unsubscribe(size_t shard, std::string topic_key) = 0;

  // Publishes `envelope`. With `on_receipt`, the envelope asks for a
  // PublishReceipt and `on_receipt` runs on shard `shard` with it, or with
  // Unavailable / ResourceExhausted when it could not be had.
  virtual void Publish(size_t shard, v1::Envelope envelope,
                       std::function<void(absl::StatusOr<v1::PublishReceipt>)> on_receipt) = 0;

  // Socket records (proto/README.md "Socket records"): what happened to
  // shard `shard`'s sockets, in order (each socket's Open first, then its
  // room changes, then its Close). Fire and forget: the port keeps the
  // broker's records current, also across broker restarts.
  virtual void SocketUpdates(size_t shard, std::vector<v1::SocketUpdate> updates) = 0;
  // Connection state recovery (gateway/socketio/recovery.h).
  // Claims the record of a socket that is gone or held elsewhere. `done` runs on shard `shard` with
  // the Recovery, or NotFound carrying the broker's reason ("unknown session", "epoch changed",
  // "history truncated", ...), or Unavailable when the broker did not answer. On success the broker
  // has subscribed this gateway to the session's rooms and, BEFORE `done` is posted, the port
  // counts shard `shard` as a member of (namespace, room) for every session room and of (namespace,
  // "") — so that no delivery after the broker's answer is dropped as unrouted. The shard must take
  // over each of those (a local member joins) or give it back with Unsubscribe. Deliveries posted
  // to the shard after `done` all have a greater sequence than every missed event.
  virtual void Recover(size_t shard, v1::Recover request,
                       std::function<void(absl::StatusOr<Recovery>)> done) = 0;
  // The broker's epoch and the newest sequence this gateway has seen
  // (deliveries, pongs); 0 before any. Callable from any thread.
  virtual uint64_t epoch() const = 0;
  virtual uint64_t last_sequence() const = 0;
};

}  // namespace roomq::gateway::bridge

#endif  // ROOMQ_GATEWAY_BRIDGE_PORT_H_
