#ifndef ROOMQ_GATEWAY_BRIDGE_BRIDGE_H_
#define ROOMQ_GATEWAY_BRIDGE_BRIDGE_H_

// The gateway's bridge to the broker: a node::LinkThread (the Link on a
// thread of its own, proto/node/link_thread.h; ZeroMQ never leaves it) that
// serves every shard.
//
// Shards -> bridge: Port calls post commands to the LinkThread.
// Bound: at most `max_queued_publishes` publishes wait in the queue (default
// 100000). Past it a publish is refused at once: its receipt callback (if
// any) gets ResourceExhausted, and it is counted in stats().publishes_refused.
// Subscribe / Unsubscribe are never refused: they only happen on a shard's
// first-member / last-member transitions, so their number is bounded by the
// membership itself, and dropping one would corrupt the refcounts.
//
// Topics: per topic, the set of shards with local members, for routing
// deliveries. The bridge takes one LinkThread reference per shard in the
// set, so the topic is subscribed at the broker when the first shard arrives
// and unsubscribed when the last one leaves. Every shard's Subscribe gets its
// own confirmation (the one in flight for the topic, OK at once for a
// confirmed topic, or the broker's Reply), posted back to that shard's
// executor.
//
// Bridge -> shards: each broker delivery on CHANNEL_ROOMS becomes ONE
// immutable Dispatch, made by Options::prepare (the layer above encodes its
// frame once there; the bridge never looks inside), handed to `sink` once
// for every shard holding a member of a target room (for a namespace-wide
// envelope: every shard holding any socket of the namespace, i.e. the
// (ns, "") topic). The sink runs on the link thread and is expected to post
// to the shard. Deliveries for no local shard are counted and dropped
// before anything is prepared.
// Bound (hand_off.h): what is posted to a shard and not yet run is at most
// `max_shard_queue_bytes` (default 64 MiB per shard), each dispatch charged
// Options::dispatch_bytes of it. The sink gets a HandOff with each dispatch
// and must keep it with the posted work until that has run (or is
// destroyed). A dispatch that does not fit is not handed to that shard:
// counted in stats().dispatches_dropped; other shards and the link thread
// go on. Recovery answers (one post per recovered socket, each bounded by
// the Link's max_message_bytes) are not charged.
//
// Socket records: SocketUpdates is queued like Subscribe (never refused:
// the updates are bounded by the memberships themselves) and, like a
// publish, still goes out during Stop, so a clean shutdown leaves its
// sockets recoverable. Every update goes through a SocketMirror
// (socket_mirror.h) first, then waits up to kSocketUpdateDelay for others
// to share its Sockets command; after each Hello the
// mirror goes to the broker as this node's full list. A broker CloseSocket
// (the record moved to another node) is forgotten by the mirror and handed
// to Options::close_socket on the shard that holds the socket.
// Recover asks the Link and, on the broker's ok, counts the asking shard
// for the session's rooms before posting the answer (port.h), so the live
// deliveries that follow are routed to it.
//
// Thread safety: Port methods and stats() may be called from any thread;
// Start and Stop from the owner's thread only. Everything under "Link
// thread only" is touched by commands and hooks, on the link thread.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gateway/bridge/hand_off.h"
#include "gateway/bridge/port.h"
#include "gateway/bridge/socket_mirror.h"
#include "proto/node/link.h"
#include "proto/node/link_thread.h"

namespace roomq::gateway::bridge {

// How long a socket update may wait on the bridge for others to go with it.
// One Sockets command per join cost the broker a command and the link
// thread a send each (tests/bench/join_cost.js); the price is that a record
// lags its socket by this much: a gateway killed within it loses its last
// joins, leaves and connects from the records. A Close does not wait.
inline constexpr std::chrono::milliseconds kSocketUpdateDelay{5};

struct BridgeStats {
  uint64_t deliveries = 0;           // envelopes received from the broker
  uint64_t dispatches = 0;           // (envelope, shard) posts
  uint64_t deliveries_unrouted = 0;  // no shard had a target
  uint64_t publishes = 0;
  uint64_t publishes_refused = 0;       // queue bound or Link refused
  uint64_t topics = 0;                  // topics subscribed at the broker
  uint64_t socket_updates = 0;          // SocketUpdates sent to the broker
  uint64_t socket_updates_dropped = 0;  // ... dropped: for a socket the mirror does not hold
  uint64_t sockets_moved = 0;           // CloseSocket from the broker for a socket held here
  uint64_t recoveries = 0;              // Recover answered ok
  uint64_t recoveries_refused = 0;      // Recover answered not ok, or no answer
  // (envelope, shard) posts dropped: the shard's queue was at
  // max_shard_queue_bytes.
  uint64_t dispatches_dropped = 0;
  uint64_t shard_queued_bytes = 0;  // posted, not yet run, summed over shards (gauge)
};

class Bridge : public Port {
 public:
  // Called on the link thread with (shard index, dispatch, its charge); the
  // HandOff goes with the work posted to the shard.
  using Sink = std::function<void(size_t shard, SharedDispatch dispatch, HandOff charge)>;

  struct Options {
    node::LinkOptions link;
    size_t max_queued_publishes = 100000;
    // Bytes of dispatches posted to one shard and not yet run (hand_off.h).
    uint64_t max_shard_queue_bytes = uint64_t{64} << 20;
    // What one dispatch is charged (the layer above knows what it holds:
    // the envelope and its encoded frame). Called on the link thread.
    // Required.
    std::function<size_t(const Dispatch&)> dispatch_bytes;
    // Turns one delivered envelope, with the broker's epoch and sequence for
    // it, into what the shards get. Called on the link thread, once per
    // routed delivery and once per missed event of a recovery. Required.
    std::function<SharedDispatch(v1::Envelope envelope, uint64_t epoch, uint64_t sequence)> prepare;
    // Closes a socket whose record the broker moved to another node, on
    // shard `shard` (posted there). Optional.
    std::function<void(size_t shard, const std::string& ns, const std::string& socket_id)>
        close_socket;
  };

  using Stats = BridgeStats;

  // `shards[i]` is shard i's executor (where callbacks are posted). The node
  // id is options.link.node_id, or generated as "gw-<host>-<pid>-<random>".
  // Nothing runs until Start.
  Bridge(Options options, std::vector<boost::asio::any_io_executor> shards);
  ~Bridge() override;  // Stop()

  // Starts the thread and creates the Link on it. The error of Link::Create
  // (bad endpoint, ...) when it fails. The broker need not be up.
  absl::Status Start(Sink sink);
  // Stops the thread: publishes and socket updates already queued are still
  // sent, Subscribe / Unsubscribe / Recover not yet taken by the thread are
  // dropped (AtStop::kDiscard), then the Link says Goodbye to the broker.
  // Later Port calls are ignored (callbacks not run). Idempotent.
  void Stop();

  const std::string& node_id() const override { return node_id_; }
  void Subscribe(size_t shard, std::string topic_key,
                 std::function<void(absl::Status)> done) override;
  void Unsubscribe(size_t shard, std::string topic_key) override;
  void Publish(size_t shard, v1::Envelope envelope,
               std::function<void(absl::StatusOr<v1::PublishReceipt>)> on_receipt) override;
  void SocketUpdates(size_t shard, std::vector<v1::SocketUpdate> updates) override;
  void Recover(size_t shard, v1::Recover request,
               std::function<void(absl::StatusOr<Recovery>)> done) override;
  uint64_t epoch() const override { return epoch_.load(std::memory_order_relaxed); }
  uint64_t last_sequence() const override { return last_sequence_.load(std::memory_order_relaxed); }

  Stats stats() const;
  bool broker_connected() const { return link_thread_.broker_connected(); }

 private:
  // The shards with local members of one topic. Shards 0..63 are bits
  // inline (no allocation per topic: most topics are a socket's own room);
  // higher shard indexes spill into `high`, allocated only then.
  struct TopicShards {
    bool Has(size_t shard) const {
      if (shard < 64) return (low >> shard & 1) != 0;
      return high != nullptr && shard - 64 < high->size() && (*high)[shard - 64];
    }
    void Set(size_t shard, bool on) {
      if (shard < 64) {
        low = on ? low | uint64_t{1} << shard : low & ~(uint64_t{1} << shard);
        return;
      }
      if (high == nullptr) high = std::make_unique<std::vector<bool>>();
      if (high->size() <= shard - 64) high->resize(shard - 64 + 1, false);
      (*high)[shard - 64] = on;
    }
    uint64_t low = 0;
    std::unique_ptr<std::vector<bool>> high;
    size_t count = 0;
  };

  // Link thread only.
  void SubscribeShard(size_t shard, const std::string& topic_key,
                      std::function<void(absl::Status)> done);
  void UnsubscribeShard(size_t shard, const std::string& topic_key);
  void OnDelivery(node::Delivery& delivery);
  // Applies a shard's updates to the mirror and queues what it accepted;
  // FlushSocketUpdates sends the queue as one Sockets command once its
  // oldest update has waited kSocketUpdateDelay, or at once with a Close
  // (and before a full list or a Recover, at Stop, past
  // kMaxSocketCommandBytes).
  void QueueSocketUpdates(node::Link& link, size_t shard, std::vector<v1::SocketUpdate>& updates);
  void FlushSocketUpdates(node::Link& link);
  void OnCloseSocket(const v1::CloseSocket& close);
  void OnRecovered(size_t shard, absl::StatusOr<v1::Recovered> answer,
                   const std::function<void(absl::StatusOr<Recovery>)>& done);

  void NoteBrokerPosition(uint64_t epoch, uint64_t sequence);
  void Post(size_t shard, std::function<void()> fn);
  // Runs functions on shard `shard` (Post).
  node::Executor ShardExecutor(size_t shard);
  // The same for the answers to subscriptions (called on the link thread):
  // notes the Link's broker position first, so that a shard reading
  // last_sequence() in the callback sees the sequence the Reply carried
  // (where a socket connected on that answer starts, connection_recovery.cc).
  node::Executor ConfirmExecutor(size_t shard);

  Options options_;
  std::vector<boost::asio::any_io_executor> shards_;
  std::string node_id_;
  Sink sink_;
  bool started_ = false;  // owner's thread only

  std::atomic<uint64_t> epoch_{0};
  std::atomic<uint64_t> last_sequence_{0};

  // Link thread only.
  absl::flat_hash_map<std::string, TopicShards> topics_;
  SocketMirror sockets_;
  v1::Sockets pending_sockets_;  // accepted by the mirror, not yet sent
  size_t pending_socket_bytes_ = 0;
  base::Clock::TimePoint pending_since_;  // when the oldest pending update came
  // One per shard; charged on the link thread, given back on the shards.
  std::vector<ShardBudget> budgets_;

  mutable absl::Mutex stats_mutex_;
  // publishes / publishes_refused are the LinkThread's; see stats().
  Stats stats_ ABSL_GUARDED_BY(stats_mutex_);

  // Last, so it is destroyed (stopped) before what its commands touch.
  node::LinkThread link_thread_;
};

}  // namespace roomq::gateway::bridge

#endif  // ROOMQ_GATEWAY_BRIDGE_BRIDGE_H_
