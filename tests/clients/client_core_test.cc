// Delivery matching and message conversion of the high-level client.
#include "clients/src/client_core.h"

#include "gtest/gtest.h"

namespace roomq::internal {
namespace {

v1::Envelope Event(const std::vector<std::string>& rooms,
                   const std::vector<std::string>& except = {}) {
  v1::Envelope envelope;
  envelope.set_namespace_("/chat");
  for (auto& room : rooms) envelope.add_rooms(room);
  for (auto& room : except) envelope.add_except_rooms(room);
  return envelope;
}

TEST(SubscriptionMatchesTest, RoomTargets) {
  EXPECT_TRUE(SubscriptionMatches({"general"}, Event({"general"})));
  EXPECT_TRUE(SubscriptionMatches({"a", "general"}, Event({"general", "b"})));
  EXPECT_FALSE(SubscriptionMatches({"gen"}, Event({"general"})));
  EXPECT_FALSE(SubscriptionMatches({}, Event({"general"})));  // namespace-only
}

TEST(SubscriptionMatchesTest, NamespaceWideReachesEverySubscription) {
  EXPECT_TRUE(SubscriptionMatches({}, Event({})));
  EXPECT_TRUE(SubscriptionMatches({"general"}, Event({})));
}

TEST(SubscriptionMatchesTest, ExceptRoomsSkipMembers) {
  EXPECT_TRUE(SubscriptionMatches({"general"}, Event({"general"}, {"muted"})));
  EXPECT_FALSE(SubscriptionMatches({"general", "muted"}, Event({"general"}, {"muted"})));
  EXPECT_FALSE(SubscriptionMatches({"muted"}, Event({}, {"muted"})));
  EXPECT_TRUE(SubscriptionMatches({}, Event({}, {"muted"})));
}

TEST(MessageFromEnvelopeTest, CopiesEveryField) {
  v1::Envelope envelope = Event({"a", "b"}, {"c"});
  envelope.set_except_socket("s1");
  envelope.set_event("ev");
  envelope.set_args("[1]");
  envelope.add_attachments("bin");
  envelope.set_socket_id("s2");
  envelope.set_ack_id(9);
  envelope.set_origin("node-1");
  envelope.set_message_id(5);
  envelope.set_timestamp_us(123);
  v1::Delivery header;
  header.set_epoch(77);
  auto* offset = header.add_offsets();
  offset->mutable_topic()->set_name("a");
  offset->set_offset(3);
  const Message message = MessageFromEnvelope(envelope, &header);
  EXPECT_EQ(message.ns, "/chat");
  EXPECT_EQ(message.rooms, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(message.except_rooms, std::vector<std::string>{"c"});
  EXPECT_EQ(message.except_socket, "s1");
  EXPECT_EQ(message.event, "ev");
  EXPECT_EQ(message.args_json, "[1]");
  EXPECT_EQ(message.attachments, std::vector<std::string>{"bin"});
  EXPECT_EQ(message.socket_id, "s2");
  EXPECT_EQ(message.ack_id, 9u);
  EXPECT_EQ(message.origin, "node-1");
  EXPECT_EQ(message.message_id, 5u);
  EXPECT_EQ(message.timestamp_us, 123);
  EXPECT_EQ(message.epoch, 77u);
  ASSERT_EQ(message.offsets.size(), 1u);
  EXPECT_EQ(message.offsets[0].room, "a");
  EXPECT_EQ(message.offsets[0].offset, 3u);
}

TEST(MessageFromEnvelopeTest, MissingArgsBecomeEmptyArray) {
  EXPECT_EQ(MessageFromEnvelope(v1::Envelope(), nullptr).args_json, "[]");
  EXPECT_FALSE(MessageFromEnvelope(v1::Envelope(), nullptr).ack_id.has_value());
}

}  // namespace
}  // namespace roomq::internal
