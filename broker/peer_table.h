#ifndef ROOMQ_BROKER_PEER_TABLE_H_
#define ROOMQ_BROKER_PEER_TABLE_H_

// Subscriber sessions, keyed by the ROUTER identity of the node's DEALER on
// --sub-bind: which node it is (from Hello), when it was last heard from,
// its heartbeat period. A peer silent for kSilentHeartbeats heartbeats is
// expired; a Goodbye, an unreachable identity (the TCP connection is gone)
// or a newer Hello for the same node id removes it at once. Removing a peer
// removes its subscriber from the RoutingTable in the same step.
//
// Logs one info line per lifecycle change:
//   "peer connected node=gw-a identity=00a1b2c3d4 heartbeat_ms=1000"
//   "peer disconnected node=gw-a identity=00a1b2c3d4 reason=expired"
//
// A removal observer (SetRemovalObserver) hears of every peer removed, with
// the reason ("goodbye", "expired", "unreachable", "replaced", ...), before
// it goes: the broker turns the node's socket records disconnected.
//
// A peer exists from its first command; it is "known" (Pong.known) only
// after its Hello, so a node that never said Hello (or that the broker
// forgot) is told to send Hello and its subscriptions again.
//
// Thread safety: none; owned by the broker loop thread. Time is passed in,
// so tests drive expiry with their own clock.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "broker/peer_queue.h"
#include "broker/routing_table.h"

namespace roomq::broker {

using Clock = std::chrono::steady_clock;

inline constexpr int kSilentHeartbeats = 3;
// Heartbeats a Hello may ask for are clamped into this range.
inline constexpr std::chrono::milliseconds kMinHeartbeat{20};
inline constexpr std::chrono::milliseconds kMaxHeartbeat{10 * 60 * 1000};

struct Peer {
  std::string identity;  // ROUTER routing id (binary)
  std::string node;      // from Hello; empty before it
  bool known = false;    // Hello received
  // A new number per Hello, never reused: what the node said since its
  // latest Hello carries it (socket records' reconciliation).
  uint64_t generation = 0;
  std::chrono::milliseconds heartbeat{0};
  Clock::time_point last_seen;
  Subscriber* subscriber = nullptr;  // owned by the RoutingTable
  // Deliveries dropped at its high-water mark or its byte budget.
  uint64_t dropped = 0;
  // Bytes sent to it that ZeroMQ still holds (--max-peer-queue-bytes);
  // shared with the marks ZeroMQ has not released yet.
  std::shared_ptr<PeerQueue> queue = std::make_shared<PeerQueue>();
};

class PeerTable {
 public:
  // `default_heartbeat` applies to peers whose Hello says 0 and to peers
  // that never said Hello.
  PeerTable(RoutingTable& routes, std::chrono::milliseconds default_heartbeat);
  PeerTable(const PeerTable&) = delete;
  PeerTable& operator=(const PeerTable&) = delete;

  // nullptr when unknown.
  Peer* Find(std::string_view identity) const;
  // The known peer of `node`; nullptr when none.
  Peer* FindByNode(std::string_view node) const;
  using RemovalObserver = std::function<void(const Peer& peer, std::string_view reason)>;
  void SetRemovalObserver(RemovalObserver observer) { on_remove_ = std::move(observer); }
  // The peer for `identity` (created, not yet known, when new) with its
  // last_seen set to `now`.
  Peer& Touch(std::string_view identity, Clock::time_point now);
  // Marks `peer` known as `node` under a new generation: starts a fresh
  // session (its previous subscriptions are dropped; the node sends its
  // whole set next) and removes any other peer that claimed the same node id
  // (reason "replaced").
  void Hello(Peer& peer, std::string_view node, uint32_t heartbeat_ms, Clock::time_point now);
  // Removes the peer and its subscriptions; `reason` goes to the log.
  void Remove(std::string_view identity, std::string_view reason);
  // Removes every peer silent for kSilentHeartbeats of its heartbeats.
  // Returns how many were removed.
  int ExpireSilent(Clock::time_point now);
  // Removes every peer (reason goes to the log), e.g. at shutdown.
  void Clear(std::string_view reason);

  size_t size() const { return peers_.size(); }
  // Calls visit(const Peer&) for every peer.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    for (const auto& [identity, peer] : peers_) visit(static_cast<const Peer&>(*peer));
  }
  // For tests: `identity` printable.
  static std::string PrintableIdentity(std::string_view identity);

 private:
  RoutingTable& routes_;
  const std::chrono::milliseconds default_heartbeat_;
  absl::flat_hash_map<std::string, std::unique_ptr<Peer>> peers_;  // by identity
  absl::flat_hash_map<std::string, Peer*> by_node_;                // known peers by node id
  RemovalObserver on_remove_;
  uint64_t next_generation_ = 1;
};

}  // namespace roomq::broker

#endif  // ROOMQ_BROKER_PEER_TABLE_H_
