#ifndef ROOMQ_PROTO_WIRE_TOPIC_H_
#define ROOMQ_PROTO_WIRE_TOPIC_H_

// Topics name what a subscriber receives: a (namespace, room) pair, a
// namespace's service channel, or one node. Their key is a flat byte string
// used as the routing-table key; it is unambiguous by construction (the
// namespace is length-prefixed), so "/chat" + "a" and "/chata" + "" never
// collide, and matching is exact, never by prefix.
//
// Key layout: [channel: 1 byte]['/'-namespace length: varint][namespace][name]

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/roomq.pb.h"

namespace roomq::wire {

// Limits that keep a hostile peer from making keys expensive.
inline constexpr size_t kMaxNamespaceBytes = 256;
inline constexpr size_t kMaxNameBytes = 1024;

// A topic by reference; the cheap form used on the routing hot path.
struct TopicRef {
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  std::string_view ns;    // ROOMS, SERVICE; empty for NODE
  std::string_view name;  // ROOMS: room ("" = the namespace alone); NODE: node id;
                          // SERVICE: queue group ("" = none)

  friend bool operator==(const TopicRef&, const TopicRef&) = default;
};

inline TopicRef RoomTopic(std::string_view ns, std::string_view room) {
  return {v1::CHANNEL_ROOMS, ns, room};
}
inline TopicRef NamespaceTopic(std::string_view ns) { return {v1::CHANNEL_ROOMS, ns, {}}; }
// `group` is the subscriber's queue group ("" = it gets every envelope).
// `ns` is a namespace ("/chat") or a family of dynamic namespaces (its
// pattern's text, "^/tenant-\\w+$").
inline TopicRef ServiceTopic(std::string_view ns, std::string_view group = {}) {
  return {v1::CHANNEL_SERVICE, ns, group};
}
inline TopicRef NodeTopic(std::string_view node) { return {v1::CHANNEL_NODE, {}, node}; }

// OK when the topic is well formed: a known channel; a namespace that starts
// with '/' for ROOMS; for SERVICE a namespace or a family of namespaces (a
// gateway config pattern's text, any non-empty text); no namespace for
// NODE; a non-empty node id for NODE; sizes within the limits above.
absl::Status ValidateTopic(const TopicRef& topic);

// The routing key of a topic. Call ValidateTopic first for untrusted input.
std::string EncodeTopicKey(const TopicRef& topic);
// Appends the key to `out` (no allocation when `out` has the capacity).
void AppendTopicKey(const TopicRef& topic, std::string& out);

// The inverse of EncodeTopicKey; the views point into `key`.
// InvalidArgument for bytes that are not a key.
absl::StatusOr<TopicRef> DecodeTopicKey(std::string_view key);

// Conversions to and from the protobuf message.
TopicRef ToRef(const v1::Topic& topic);
v1::Topic ToProto(const TopicRef& topic);

// "rooms:/chat#general", "service:/chat", "service:/chat@echo", "node:gw-1":
// for logs.
std::string DescribeTopic(const TopicRef& topic);

}  // namespace roomq::wire

#endif  // ROOMQ_PROTO_WIRE_TOPIC_H_
