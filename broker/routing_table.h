#ifndef ROOMQ_BROKER_ROUTING_TABLE_H_
#define ROOMQ_BROKER_ROUTING_TABLE_H_

// The routing table: which subscriber receives which envelope (the
// sublist.go of roomq).
//
// Topics are matched exactly by their wire::EncodeTopicKey key, never by
// prefix: room "a" of "/chat" is not "ab", nor "a" of "/chatx". The index
// is two-way (topic -> subscribers, subscriber -> topics) so removing a
// subscriber leaves every topic in one pass. Besides exact topics, a
// subscriber that holds any CHANNEL_ROOMS subscription in a namespace
// (including room "", the namespace alone) is a member of that namespace
// and receives its namespace-wide envelopes (ROOMS without rooms); the
// membership is a per-(subscriber, namespace) refcount of those
// subscriptions.
//
// Match visits each matching subscriber at most once even when an envelope
// targets several of its rooms, using a per-match generation stamp on the
// subscriber: no allocation and no set per match.
//
// Service queue groups: a CHANNEL_SERVICE topic with a name is a queue
// group of that namespace. A SERVICE envelope goes to every subscriber of
// the group-less topic and to exactly one member of each group, chosen by
// rendezvous hashing of (member identity, the envelope's socket_id): while a
// group's members stay the same, every envelope about one socket goes to
// the same member; when a member leaves, only its sockets move, spread over
// the others. An envelope without a socket_id hashes its (origin,
// message_id) instead, so such envelopes spread over the members.
//
// A KIND_SERVER_EVENT (serverSideEmit) goes to every member of every group.
//
// Namespace families: a SERVICE envelope with a service_family (a child of
// a gateway config `pattern`) goes to the family's service topics
// (ServiceTopic(pattern text)) instead of its namespace's.
//
// Thread safety: none; the table belongs to the broker loop thread.
// Invariants: subscriber->topics_ and topics_[key] mirror each other; a
// subscriber is in namespaces_[ns] iff ns_refs_[ns] > 0; a group name is in
// service_groups_[ns] iff topics_ holds ServiceTopic(ns, group); empty
// topic, namespace and group entries are erased. Subscriber pointers stay valid until
// RemoveSubscriber.
// Costs: Match O(rooms + matches), plus O(members) per queue group of a
// SERVICE envelope's namespace; Subscribe O(1); Unsubscribe and removal
// O(subscribers of each topic) (a linear scan of a small vector).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "proto/base/absl_compat.h"
#include "proto/wire/route.h"
#include "proto/wire/topic.h"

namespace roomq::broker {

// One subscriber as the routing table knows it: a ROUTER identity plus the
// set of topics it holds. Created and owned by RoutingTable.
class Subscriber {
 public:
  explicit Subscriber(std::string identity) : identity_(std::move(identity)) {}
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // The ZeroMQ routing id its messages go to.
  const std::string& identity() const { return identity_; }
  size_t topic_count() const { return topics_.size(); }
  // The keys (wire::EncodeTopicKey) of every topic it holds.
  const absl::flat_hash_set<std::string>& topic_keys() const { return topics_; }

 private:
  friend class RoutingTable;

  const std::string identity_;
  absl::flat_hash_set<std::string> topics_;
  absl::flat_hash_map<std::string, uint32_t> ns_refs_;  // ROOMS subscriptions per namespace
  uint64_t match_stamp_ = 0;                            // last Match generation that visited it
};

class RoutingTable {
 public:
  RoutingTable() = default;
  RoutingTable(const RoutingTable&) = delete;
  RoutingTable& operator=(const RoutingTable&) = delete;

  // The subscriber with this identity, created with no topics if new.
  Subscriber* AddSubscriber(std::string_view identity);
  // nullptr when unknown.
  Subscriber* FindSubscriber(std::string_view identity) const;
  // Drops the subscriber from every topic and namespace and deletes it.
  void RemoveSubscriber(Subscriber* subscriber);
  // Removes every topic of the subscriber, keeping the subscriber.
  void ClearSubscriptions(Subscriber* subscriber);

  // Adds / removes one topic. The topic must be valid (wire::ValidateTopic).
  // Return whether the set changed (subscribing twice is a no-op).
  bool Subscribe(Subscriber* subscriber, const wire::TopicRef& topic);
  bool Unsubscribe(Subscriber* subscriber, const wire::TopicRef& topic);

  // Calls visit(const Subscriber&) once for every subscriber that should
  // receive an envelope with this (valid, wire::ScanRoute-checked) route.
  // `visit` must not change the table.
  template <typename Visitor>
  void Match(const wire::EnvelopeRoute& route, Visitor&& visit);

  size_t subscriber_count() const { return subscribers_.size(); }
  // Distinct exact topics with at least one subscriber.
  size_t topic_count() const { return topics_.size(); }
  // Subscribers of one exact topic (0 when none); for tests and stats.
  size_t SubscriberCountOf(const wire::TopicRef& topic) const;
  // Members of a namespace (ROOMS subscribers of any room in it).
  size_t NamespaceMemberCount(std::string_view ns) const;
  // Service queue groups of a namespace with at least one member.
  size_t ServiceGroupCount(std::string_view ns) const;

 private:
  using SubscriberList = std::vector<Subscriber*>;

  // Visits every subscriber of `list` not yet stamped with `stamp`.
  template <typename Visitor>
  static void VisitOnce(const SubscriberList& list, uint64_t stamp, Visitor& visit);
  // The member of a (non-empty) queue group that gets an envelope.
  static Subscriber* PickGroupMember(const SubscriberList& members,
                                     const wire::EnvelopeRoute& route);
  const SubscriberList* FindTopic(const wire::TopicRef& topic);
  void EraseFromTopic(Subscriber* subscriber, const std::string& key);
  void ReleaseNamespace(Subscriber* subscriber, std::string_view ns);

  absl::flat_hash_map<std::string, std::unique_ptr<Subscriber>> subscribers_;  // by identity
  absl::flat_hash_map<std::string, SubscriberList> topics_;                    // by topic key
  absl::flat_hash_map<std::string, SubscriberList> namespaces_;                // ROOMS members
  absl::flat_hash_map<std::string, std::vector<std::string>> service_groups_;  // ns -> groups
  uint64_t generation_ = 0;
  std::string key_scratch_;  // reused by Match: no allocation once grown
};

template <typename Visitor>
void RoutingTable::VisitOnce(const SubscriberList& list, uint64_t stamp, Visitor& visit) {
  for (Subscriber* subscriber : list) {
    if (subscriber->match_stamp_ == stamp) continue;
    subscriber->match_stamp_ = stamp;
    visit(static_cast<const Subscriber&>(*subscriber));
  }
}

template <typename Visitor>
void RoutingTable::Match(const wire::EnvelopeRoute& route, Visitor&& visit) {
  const uint64_t stamp = ++generation_;
  switch (route.channel) {
    case v1::CHANNEL_ROOMS:
      if (route.rooms.empty()) {
        auto it = namespaces_.find(ToAbsl(route.ns));
        if (it != namespaces_.end()) VisitOnce(it->second, stamp, visit);
        return;
      }
      for (std::string_view room : route.rooms) {
        if (const SubscriberList* list = FindTopic(wire::RoomTopic(route.ns, room))) {
          VisitOnce(*list, stamp, visit);
        }
      }
      return;
    case v1::CHANNEL_SERVICE: {
      const std::string_view target = route.service_target();
      if (const SubscriberList* list = FindTopic(wire::ServiceTopic(target))) {
        VisitOnce(*list, stamp, visit);
      }
      auto groups = service_groups_.find(ToAbsl(target));
      if (groups == service_groups_.end()) return;
      for (const std::string& group : groups->second) {
        const SubscriberList* members = FindTopic(wire::ServiceTopic(target, group));
        if (members == nullptr) continue;  // unreachable by the invariant
        if (route.kind == v1::KIND_SERVER_EVENT) {
          VisitOnce(*members, stamp, visit);  // for every instance
          continue;
        }
        Subscriber* member = PickGroupMember(*members, route);
        if (member->match_stamp_ == stamp) continue;
        member->match_stamp_ = stamp;
        visit(static_cast<const Subscriber&>(*member));
      }
      return;
    }
    case v1::CHANNEL_NODE:
      if (const SubscriberList* list = FindTopic(wire::NodeTopic(route.node))) {
        VisitOnce(*list, stamp, visit);
      }
      return;
    default:
      return;
  }
}

}  // namespace roomq::broker

#endif  // ROOMQ_BROKER_ROUTING_TABLE_H_
