#include "proto/wire/topic.h"

#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"

namespace roomq::wire {
namespace {

void AppendVarint(uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Reads a varint from the front of `in`, advancing it. False when truncated
// or longer than 10 bytes.
bool ReadVarint(std::string_view& in, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    // A last byte of 0 after the first is an overlong encoding: refused, so
    // every topic has exactly one key.
    if ((byte & 0x80) == 0) return byte != 0 || shift == 0;
  }
  return false;
}

}  // namespace

absl::Status ValidateTopic(const TopicRef& topic) {
  if (topic.ns.size() > kMaxNamespaceBytes) {
    return absl::InvalidArgumentError("namespace too long");
  }
  if (topic.name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError("topic name too long");
  }
  switch (topic.channel) {
    case v1::CHANNEL_ROOMS:
    case v1::CHANNEL_SERVICE:
      if (topic.channel == v1::CHANNEL_SERVICE && !topic.ns.empty() && topic.ns.front() != '/') {
        return absl::OkStatus();  // a family of namespaces: its pattern's text
      }
      if (topic.ns.empty() || topic.ns.front() != '/') {
        return absl::InvalidArgumentError(
            absl::StrCat("namespace must start with '/': \"", ToAbsl(topic.ns), "\""));
      }
      return absl::OkStatus();
    case v1::CHANNEL_NODE:
      if (!topic.ns.empty()) return absl::InvalidArgumentError("a node topic has no namespace");
      if (topic.name.empty()) return absl::InvalidArgumentError("a node topic needs a node id");
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("unknown channel");
  }
}

void AppendTopicKey(const TopicRef& topic, std::string& out) {
  out.push_back(static_cast<char>(topic.channel));
  AppendVarint(topic.ns.size(), out);
  out.append(topic.ns);
  out.append(topic.name);
}

std::string EncodeTopicKey(const TopicRef& topic) {
  std::string key;
  key.reserve(1 + 2 + topic.ns.size() + topic.name.size());
  AppendTopicKey(topic, key);
  return key;
}

absl::StatusOr<TopicRef> DecodeTopicKey(std::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("empty topic key");
  TopicRef topic;
  topic.channel = static_cast<v1::Channel>(static_cast<uint8_t>(key.front()));
  key.remove_prefix(1);
  uint64_t ns_size = 0;
  if (!ReadVarint(key, ns_size) || ns_size > key.size()) {
    return absl::InvalidArgumentError("truncated topic key");
  }
  topic.ns = key.substr(0, ns_size);
  topic.name = key.substr(ns_size);
  if (absl::Status status = ValidateTopic(topic); !status.ok()) return status;
  return topic;
}

TopicRef ToRef(const v1::Topic& topic) {
  return {topic.channel(), topic.namespace_(), topic.name()};
}

v1::Topic ToProto(const TopicRef& topic) {
  v1::Topic proto;
  proto.set_channel(topic.channel);
  proto.set_namespace_(std::string(topic.ns));
  proto.set_name(std::string(topic.name));
  return proto;
}

std::string DescribeTopic(const TopicRef& topic) {
  switch (topic.channel) {
    case v1::CHANNEL_ROOMS:
      return topic.name.empty() ? absl::StrCat("rooms:", ToAbsl(topic.ns))
                                : absl::StrCat("rooms:", ToAbsl(topic.ns), "#", ToAbsl(topic.name));
    case v1::CHANNEL_SERVICE:
      return topic.name.empty()
                 ? absl::StrCat("service:", ToAbsl(topic.ns))
                 : absl::StrCat("service:", ToAbsl(topic.ns), "@", ToAbsl(topic.name));
    case v1::CHANNEL_NODE:
      return absl::StrCat("node:", ToAbsl(topic.name));
    default:
      return absl::StrCat("invalid:", static_cast<int>(topic.channel));
  }
}

}  // namespace roomq::wire
