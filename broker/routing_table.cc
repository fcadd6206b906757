#include "broker/routing_table.h"

#include <algorithm>

#include "absl/hash/hash.h"

namespace roomq::broker {
namespace {

// Removes `subscriber` from `list` (order does not matter). True if found.
bool EraseUnordered(std::vector<Subscriber*>& list, Subscriber* subscriber) {
  auto it = std::find(list.begin(), list.end(), subscriber);
  if (it == list.end()) return false;
  *it = list.back();
  list.pop_back();
  return true;
}

// MurmurHash3's 64-bit finalizer. absl::Hash is built for hash tables (its
// low bits spread well); rendezvous hashing compares whole values across
// members, and for keys that differ by one (message ids) absl's raw values
// of two members moved together: one member of two won 40 of 200 envelopes
// in a run of RoutingTable.ServiceEnvelopesWithoutASocketSpreadOverTheGroup.
// Mixing every bit into every bit makes each comparison a fair coin.
uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

Subscriber* RoutingTable::AddSubscriber(std::string_view identity) {
  auto [it, inserted] = subscribers_.try_emplace(ToAbsl(identity));
  if (inserted) it->second = std::make_unique<Subscriber>(std::string(identity));
  return it->second.get();
}

Subscriber* RoutingTable::FindSubscriber(std::string_view identity) const {
  auto it = subscribers_.find(ToAbsl(identity));
  return it == subscribers_.end() ? nullptr : it->second.get();
}

void RoutingTable::RemoveSubscriber(Subscriber* subscriber) {
  ClearSubscriptions(subscriber);
  subscribers_.erase(subscriber->identity());
}

void RoutingTable::ClearSubscriptions(Subscriber* subscriber) {
  for (const std::string& key : subscriber->topics_) EraseFromTopic(subscriber, key);
  subscriber->topics_.clear();
  for (const auto& [ns, refs] : subscriber->ns_refs_) {
    auto it = namespaces_.find(ns);
    if (it == namespaces_.end()) continue;
    EraseUnordered(it->second, subscriber);
    if (it->second.empty()) namespaces_.erase(it);
  }
  subscriber->ns_refs_.clear();
}

bool RoutingTable::Subscribe(Subscriber* subscriber, const wire::TopicRef& topic) {
  std::string key = wire::EncodeTopicKey(topic);
  if (subscriber->topics_.contains(key)) return false;
  SubscriberList& list = topics_[key];
  if (list.empty() && topic.channel == v1::CHANNEL_SERVICE && !topic.name.empty()) {
    service_groups_[ToAbsl(topic.ns)].emplace_back(topic.name);
  }
  list.push_back(subscriber);
  subscriber->topics_.insert(std::move(key));
  if (topic.channel == v1::CHANNEL_ROOMS) {
    uint32_t& refs = subscriber->ns_refs_[ToAbsl(topic.ns)];
    if (refs++ == 0) namespaces_[ToAbsl(topic.ns)].push_back(subscriber);
  }
  return true;
}

bool RoutingTable::Unsubscribe(Subscriber* subscriber, const wire::TopicRef& topic) {
  const std::string key = wire::EncodeTopicKey(topic);
  auto it = subscriber->topics_.find(key);
  if (it == subscriber->topics_.end()) return false;
  subscriber->topics_.erase(it);
  EraseFromTopic(subscriber, key);
  if (topic.channel == v1::CHANNEL_ROOMS) ReleaseNamespace(subscriber, topic.ns);
  return true;
}

void RoutingTable::EraseFromTopic(Subscriber* subscriber, const std::string& key) {
  auto it = topics_.find(key);
  if (it == topics_.end()) return;
  EraseUnordered(it->second, subscriber);
  if (!it->second.empty()) return;
  topics_.erase(it);
  absl::StatusOr<wire::TopicRef> topic = wire::DecodeTopicKey(key);
  if (!topic.ok() || topic->channel != v1::CHANNEL_SERVICE || topic->name.empty()) return;
  auto groups = service_groups_.find(ToAbsl(topic->ns));
  if (groups == service_groups_.end()) return;
  std::vector<std::string>& names = groups->second;
  auto name = std::find(names.begin(), names.end(), topic->name);
  if (name != names.end()) {
    *name = std::move(names.back());
    names.pop_back();
  }
  if (names.empty()) service_groups_.erase(groups);
}

Subscriber* RoutingTable::PickGroupMember(const SubscriberList& members,
                                          const wire::EnvelopeRoute& route) {
  // Rendezvous hashing: the member with the highest hash of (its identity,
  // the key) wins, so removing a member moves only the keys it had won.
  Subscriber* best = members.front();
  uint64_t best_weight = 0;
  for (Subscriber* member : members) {
    const uint64_t weight =
        Mix(route.socket_id.empty()
                ? absl::HashOf(member->identity(), ToAbsl(route.origin), route.message_id)
                : absl::HashOf(member->identity(), ToAbsl(route.socket_id)));
    if (member == members.front() || weight > best_weight) {
      best = member;
      best_weight = weight;
    }
  }
  return best;
}

void RoutingTable::ReleaseNamespace(Subscriber* subscriber, std::string_view ns) {
  auto refs = subscriber->ns_refs_.find(ToAbsl(ns));
  if (refs == subscriber->ns_refs_.end() || --refs->second > 0) return;
  subscriber->ns_refs_.erase(refs);
  auto members = namespaces_.find(ToAbsl(ns));
  if (members == namespaces_.end()) return;
  EraseUnordered(members->second, subscriber);
  if (members->second.empty()) namespaces_.erase(members);
}

const RoutingTable::SubscriberList* RoutingTable::FindTopic(const wire::TopicRef& topic) {
  key_scratch_.clear();
  wire::AppendTopicKey(topic, key_scratch_);
  auto it = topics_.find(ToAbsl(key_scratch_));
  return it == topics_.end() ? nullptr : &it->second;
}

size_t RoutingTable::SubscriberCountOf(const wire::TopicRef& topic) const {
  auto it = topics_.find(wire::EncodeTopicKey(topic));
  return it == topics_.end() ? 0 : it->second.size();
}

size_t RoutingTable::ServiceGroupCount(std::string_view ns) const {
  auto it = service_groups_.find(ToAbsl(ns));
  return it == service_groups_.end() ? 0 : it->second.size();
}

size_t RoutingTable::NamespaceMemberCount(std::string_view ns) const {
  auto it = namespaces_.find(ToAbsl(ns));
  return it == namespaces_.end() ? 0 : it->second.size();
}

}  // namespace roomq::broker
