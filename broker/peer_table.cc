#include "broker/peer_table.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "proto/base/absl_compat.h"
#include "spdlog/spdlog.h"

namespace roomq::broker {

PeerTable::PeerTable(RoutingTable& routes, std::chrono::milliseconds default_heartbeat)
    : routes_(routes),
      default_heartbeat_(std::clamp(default_heartbeat, kMinHeartbeat, kMaxHeartbeat)) {}

std::string PeerTable::PrintableIdentity(std::string_view identity) {
  return absl::BytesToHexString(ToAbsl(identity));
}

Peer* PeerTable::Find(std::string_view identity) const {
  auto it = peers_.find(ToAbsl(identity));
  return it == peers_.end() ? nullptr : it->second.get();
}

Peer* PeerTable::FindByNode(std::string_view node) const {
  auto it = by_node_.find(ToAbsl(node));
  return it == by_node_.end() ? nullptr : it->second;
}

Peer& PeerTable::Touch(std::string_view identity, Clock::time_point now) {
  auto [it, inserted] = peers_.try_emplace(ToAbsl(identity));
  if (inserted) {
    it->second = std::make_unique<Peer>();
    it->second->identity = std::string(identity);
    it->second->heartbeat = default_heartbeat_;
    it->second->subscriber = routes_.AddSubscriber(identity);
  }
  it->second->last_seen = now;
  return *it->second;
}

void PeerTable::Hello(Peer& peer, std::string_view node, uint32_t heartbeat_ms,
                      Clock::time_point now) {
  auto other = by_node_.find(ToAbsl(node));
  if (other != by_node_.end() && other->second != &peer) {
    Remove(other->second->identity, "replaced");
  }
  if (peer.known && peer.node != node) by_node_.erase(peer.node);
  routes_.ClearSubscriptions(peer.subscriber);
  const bool was_known = peer.known;
  peer.node = std::string(node);
  peer.known = true;
  peer.generation = next_generation_++;
  peer.heartbeat = heartbeat_ms == 0 ? default_heartbeat_
                                     : std::clamp(std::chrono::milliseconds(heartbeat_ms),
                                                  kMinHeartbeat, kMaxHeartbeat);
  peer.last_seen = now;
  by_node_[peer.node] = &peer;
  spdlog::info("peer {} node={} identity={} heartbeat_ms={}",
               was_known ? "reconnected" : "connected", peer.node, PrintableIdentity(peer.identity),
               peer.heartbeat.count());
}

void PeerTable::Remove(std::string_view identity, std::string_view reason) {
  auto it = peers_.find(ToAbsl(identity));
  if (it == peers_.end()) return;
  Peer& peer = *it->second;
  if (on_remove_) on_remove_(peer, reason);
  if (peer.known) {
    auto by_node = by_node_.find(peer.node);
    if (by_node != by_node_.end() && by_node->second == &peer) by_node_.erase(by_node);
  }
  spdlog::info("peer disconnected node={} identity={} reason={} topics={} dropped={}",
               peer.known ? peer.node : "(no hello)", PrintableIdentity(peer.identity), reason,
               peer.subscriber->topic_count(), peer.dropped);
  routes_.RemoveSubscriber(peer.subscriber);
  peers_.erase(it);
}

int PeerTable::ExpireSilent(Clock::time_point now) {
  std::vector<std::string> expired;
  for (const auto& [identity, peer] : peers_) {
    if (now - peer->last_seen >= kSilentHeartbeats * peer->heartbeat) expired.push_back(identity);
  }
  for (const std::string& identity : expired) Remove(identity, "expired");
  return static_cast<int>(expired.size());
}

void PeerTable::Clear(std::string_view reason) {
  std::vector<std::string> all;
  all.reserve(peers_.size());
  for (const auto& [identity, peer] : peers_) all.push_back(identity);
  for (const std::string& identity : all) Remove(identity, reason);
}

}  // namespace roomq::broker
