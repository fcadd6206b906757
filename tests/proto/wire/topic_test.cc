#include "proto/wire/topic.h"

#include <gtest/gtest.h>

namespace roomq::wire {
namespace {

TEST(TopicKey, RoundTripsEveryChannel) {
  for (const TopicRef& topic :
       {RoomTopic("/chat", "general"), NamespaceTopic("/"), ServiceTopic("/chat"),
        ServiceTopic("/chat", "echo"), ServiceTopic("^/tenant-\\w+$", "echo"), NodeTopic("gw-1")}) {
    ASSERT_TRUE(ValidateTopic(topic).ok()) << DescribeTopic(topic);
    const std::string key = EncodeTopicKey(topic);  // the decoded views point into it
    auto decoded = DecodeTopicKey(key);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, topic) << DescribeTopic(topic);
  }
}

TEST(TopicKey, RoomNamesDoNotCollideAcrossTheNamespaceBoundary) {
  EXPECT_NE(EncodeTopicKey(RoomTopic("/chat", "a")), EncodeTopicKey(RoomTopic("/chata", "")));
  EXPECT_NE(EncodeTopicKey(RoomTopic("/chat", "a")), EncodeTopicKey(RoomTopic("/chat", "ab")));
  EXPECT_NE(EncodeTopicKey(RoomTopic("/chat", "")), EncodeTopicKey(ServiceTopic("/chat")));
  EXPECT_NE(EncodeTopicKey(ServiceTopic("/chat")), EncodeTopicKey(ServiceTopic("/chat", "g")));
}

TEST(TopicKey, KeysAreNotPrefixesOfEachOtherAcrossNamespaces) {
  // ZeroMQ-style prefix matching would route "/chat" to "/chatx"; keys must
  // differ before the shorter one ends.
  const std::string a = EncodeTopicKey(NamespaceTopic("/chat"));
  const std::string b = EncodeTopicKey(NamespaceTopic("/chatx"));
  EXPECT_NE(b.substr(0, a.size()), a);
}

TEST(TopicKey, BinaryRoomNamesSurvive) {
  const std::string room("a\0b\x80", 4);
  const std::string key = EncodeTopicKey(RoomTopic("/", room));
  auto decoded = DecodeTopicKey(key);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->name, room);
}

TEST(TopicKey, LongNamespacesUseMultiByteLengths) {
  const std::string ns = "/" + std::string(200, 'n');
  const std::string key = EncodeTopicKey(RoomTopic(ns, "r"));
  auto decoded = DecodeTopicKey(key);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->ns, ns);
  EXPECT_EQ(decoded->name, "r");
}

TEST(ValidateTopic, RejectsMalformedTopics) {
  EXPECT_FALSE(ValidateTopic(RoomTopic("chat", "a")).ok());
  EXPECT_FALSE(ValidateTopic(RoomTopic("", "a")).ok());
  EXPECT_FALSE(ValidateTopic(ServiceTopic("", "echo")).ok());
  EXPECT_FALSE(ValidateTopic(RoomTopic("^/tenant-\\w+$", "")).ok()) << "a family has no rooms";
  EXPECT_FALSE(ValidateTopic(ServiceTopic("/chat", std::string(kMaxNameBytes + 1, 'g'))).ok());
  EXPECT_FALSE(ValidateTopic(NodeTopic("")).ok());
  EXPECT_FALSE(ValidateTopic({v1::CHANNEL_NODE, "/chat", "gw"}).ok());
  EXPECT_FALSE(ValidateTopic({v1::CHANNEL_UNSPECIFIED, "/", ""}).ok());
  EXPECT_FALSE(ValidateTopic(RoomTopic("/" + std::string(kMaxNamespaceBytes, 'x'), "")).ok());
  EXPECT_FALSE(ValidateTopic(RoomTopic("/", std::string(kMaxNameBytes + 1, 'x'))).ok());
}

TEST(DecodeTopicKey, RejectsGarbage) {
  EXPECT_FALSE(DecodeTopicKey("").ok());
  EXPECT_FALSE(DecodeTopicKey(std::string("\x01\x09/ch", 5)).ok());  // length past the end
  EXPECT_FALSE(
      DecodeTopicKey(std::string("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11)).ok());
  EXPECT_FALSE(DecodeTopicKey(std::string("\x07\x01/", 3)).ok());  // unknown channel
}

// Found by tests/fuzz/envelope_fuzz: an overlong length varint (0x80 0x00
// for 0) decoded to a topic whose key is different bytes, so one topic had
// two keys.
TEST(DecodeTopicKey, RejectsOverlongLengths) {
  EXPECT_FALSE(DecodeTopicKey(std::string("\x03\x80\x00gw-1", 7)).ok());
  EXPECT_FALSE(DecodeTopicKey(std::string("\x01\x85\x00/chat", 8)).ok());
  const std::string canonical_key("\x03\x00gw-1", 6);  // the views point into it
  auto canonical = DecodeTopicKey(canonical_key);
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  EXPECT_EQ(canonical->name, "gw-1");
  // Lengths of 128 and more take two bytes, the second non-zero.
  const std::string ns = "/" + std::string(199, 'n');
  const std::string key = EncodeTopicKey(RoomTopic(ns, "r"));  // the views point into it
  auto long_ns = DecodeTopicKey(key);
  ASSERT_TRUE(long_ns.ok()) << long_ns.status();
  EXPECT_EQ(long_ns->ns, ns);
}

TEST(DescribeTopic, NamesTheChannel) {
  EXPECT_EQ(DescribeTopic(RoomTopic("/chat", "general")), "rooms:/chat#general");
  EXPECT_EQ(DescribeTopic(NamespaceTopic("/chat")), "rooms:/chat");
  EXPECT_EQ(DescribeTopic(ServiceTopic("/chat")), "service:/chat");
  EXPECT_EQ(DescribeTopic(ServiceTopic("/chat", "echo")), "service:/chat@echo");
  EXPECT_EQ(DescribeTopic(NodeTopic("gw-1")), "node:gw-1");
}

}  // namespace
}  // namespace roomq::wire
