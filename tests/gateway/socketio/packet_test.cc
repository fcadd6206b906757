#include "gateway/socketio/packet.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace roomq::gateway::socketio {
namespace {

Packet DecodeOne(std::string_view text) {
  Decoder decoder;
  auto result = decoder.Add(text, false);
  EXPECT_TRUE(result.ok()) << text << ": " << result.status();
  if (!result.ok() || !result->has_value()) {
    ADD_FAILURE() << "no packet from " << text;
    return {};
  }
  return **result;
}

absl::Status DecodeError(std::string_view text) {
  Decoder decoder;
  auto result = decoder.Add(text, false);
  if (result.ok()) return absl::OkStatus();
  return result.status();
}

std::string Text(const engineio::OutboundMessage& message) {
  EXPECT_FALSE(message.empty());
  EXPECT_FALSE(message[0].binary);
  return message.empty() ? "" : message[0].data;
}

TEST(DecoderTest, ConnectDefaultNamespaceWithoutPayload) {
  Packet packet = DecodeOne("0");
  EXPECT_EQ(packet.type, PacketType::kConnect);
  EXPECT_EQ(packet.nsp, "/");
  EXPECT_EQ(packet.data, "");
  EXPECT_FALSE(packet.ack_id.has_value());
}

TEST(DecoderTest, ConnectWithNamespaceAndAuth) {
  Packet packet = DecodeOne(R"(0/admin,{"token":"123"})");
  EXPECT_EQ(packet.type, PacketType::kConnect);
  EXPECT_EQ(packet.nsp, "/admin");
  EXPECT_EQ(packet.data, R"({"token":"123"})");
}

TEST(DecoderTest, ConnectNamespaceWithoutComma) {
  Packet packet = DecodeOne("0/admin");
  EXPECT_EQ(packet.nsp, "/admin");
  EXPECT_EQ(packet.data, "");
}

TEST(DecoderTest, ConnectPayloadMustBeAnObject) {
  EXPECT_FALSE(DecodeError(R"(0/admin,"x")").ok());
  EXPECT_FALSE(DecodeError(R"(0[1])").ok());
  EXPECT_FALSE(DecodeError(R"(0/admin,{)").ok());
}

TEST(DecoderTest, Disconnect) {
  Packet packet = DecodeOne("1/admin,");
  EXPECT_EQ(packet.type, PacketType::kDisconnect);
  EXPECT_EQ(packet.nsp, "/admin");
  EXPECT_EQ(DecodeOne("1").nsp, "/");
  EXPECT_FALSE(DecodeError(R"(1{"a":1})").ok());
}

TEST(DecoderTest, EventSplitsNameFromRawArgs) {
  Packet packet = DecodeOne(R"(2["ev",1,{"a":2}])");
  EXPECT_EQ(packet.type, PacketType::kEvent);
  EXPECT_EQ(packet.event, "ev");
  EXPECT_EQ(packet.args, R"([1,{"a":2}])");
  EXPECT_FALSE(packet.ack_id.has_value());
}

TEST(DecoderTest, EventWithoutArgs) {
  EXPECT_EQ(DecodeOne(R"(2["ev"])").args, "[]");
  EXPECT_EQ(DecodeOne(R"(2[ "ev" ] )").args, "[]");
}

TEST(DecoderTest, EventKeepsArgumentTextVerbatim) {
  Packet packet = DecodeOne(R"(2[ "e\"v" , 1.50 ,  {"b" : [true,null]} ])");
  EXPECT_EQ(packet.event, "e\"v");
  EXPECT_EQ(packet.args, R"([ 1.50 ,  {"b" : [true,null]} ])");
}

TEST(DecoderTest, EventNameWithEscapesIsUnescaped) {
  Packet packet = DecodeOne(R"(2["a\\b\u00e9",2])");
  EXPECT_EQ(packet.event, "a\\b\xc3\xa9");
  EXPECT_EQ(packet.args, "[2]");
}

TEST(DecoderTest, EventWithNamespaceAndAckId) {
  Packet packet = DecodeOne(R"(2/chat,12["hello","x"])");
  EXPECT_EQ(packet.nsp, "/chat");
  ASSERT_TRUE(packet.ack_id.has_value());
  EXPECT_EQ(*packet.ack_id, 12u);
  EXPECT_EQ(packet.event, "hello");
  EXPECT_EQ(packet.args, R"(["x"])");
}

TEST(DecoderTest, EventAckIdOnDefaultNamespace) {
  Packet packet = DecodeOne(R"(27["hello"])");
  ASSERT_TRUE(packet.ack_id.has_value());
  EXPECT_EQ(*packet.ack_id, 7u);
}

TEST(DecoderTest, EventPayloadRules) {
  EXPECT_FALSE(DecodeError("2").ok()) << "event without payload";
  EXPECT_FALSE(DecodeError("2/chat,").ok());
  EXPECT_FALSE(DecodeError(R"(2{"a":1})").ok()) << "not an array";
  EXPECT_FALSE(DecodeError("2[]").ok()) << "empty array";
  EXPECT_FALSE(DecodeError("2[1,2]").ok()) << "numeric event name";
  EXPECT_FALSE(DecodeError(R"(2[null])").ok());
  EXPECT_FALSE(DecodeError(R"(2["ev",])").ok()) << "invalid JSON";
  EXPECT_FALSE(DecodeError(R"(2["ev"]x)").ok()) << "trailing garbage";
  EXPECT_FALSE(DecodeError("2[\"ev\",\"\xff\"]").ok()) << "invalid UTF-8";
}

TEST(DecoderTest, ReservedEventNamesAreRejected) {
  for (const char* name : {"connect", "connect_error", "disconnect", "disconnecting", "newListener",
                           "removeListener"}) {
    EXPECT_FALSE(DecodeError(std::string("2[\"") + name + "\"]").ok()) << name;
    EXPECT_TRUE(IsReservedEventName(name));
  }
  EXPECT_FALSE(IsReservedEventName("join"));
  EXPECT_TRUE(DecodeError(R"(2["connected"])").ok());
}

TEST(DecoderTest, Ack) {
  Packet packet = DecodeOne(R"(3/chat,5["ok",{"x":1}])");
  EXPECT_EQ(packet.type, PacketType::kAck);
  EXPECT_EQ(packet.nsp, "/chat");
  EXPECT_EQ(*packet.ack_id, 5u);
  EXPECT_EQ(packet.args, R"(["ok",{"x":1}])");
  EXPECT_EQ(DecodeOne("35").args, "[]");
  EXPECT_FALSE(DecodeError(R"(35{"a":1})").ok());
  EXPECT_FALSE(DecodeError(R"(35"x")").ok());
}

TEST(DecoderTest, AckIdRange) {
  EXPECT_TRUE(DecodeError("39007199254740991[]").ok());   // 2^53 - 1
  EXPECT_FALSE(DecodeError("39007199254740992[]").ok());  // 2^53
  EXPECT_FALSE(DecodeError("399999999999999999999[]").ok());
}

TEST(DecoderTest, AckIdOnlyWhereItMeansSomething) {
  EXPECT_FALSE(DecodeError("012").ok());
  EXPECT_FALSE(DecodeError(R"(012{"a":1})").ok());
  EXPECT_FALSE(DecodeError("1/chat,3").ok());
}

TEST(DecoderTest, ConnectErrorPayload) {
  EXPECT_EQ(DecodeOne(R"(4{"message":"x"})").data, R"({"message":"x"})");
  EXPECT_EQ(DecodeOne(R"(4"plain")").type, PacketType::kConnectError);
  EXPECT_FALSE(DecodeError("4[1]").ok());
  EXPECT_FALSE(DecodeError("4").ok());
}

TEST(DecoderTest, UnknownTypesAndEmptyInput) {
  EXPECT_FALSE(DecodeError("").ok());
  EXPECT_FALSE(DecodeError("7").ok());
  EXPECT_FALSE(DecodeError("9[\"a\"]").ok());
  EXPECT_FALSE(DecodeError("x").ok());
  EXPECT_FALSE(DecodeError("/chat,").ok());
}

TEST(DecoderTest, BinaryEventCollectsAttachments) {
  Decoder decoder;
  auto header = decoder.Add(
      R"(52-/up,9["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])", false);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_FALSE(header->has_value());
  EXPECT_TRUE(decoder.awaiting_attachments());
  auto first = decoder.Add(std::string("\x00\x01", 2), true);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_value());
  auto second = decoder.Add("abc", true);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(second->has_value());
  const Packet& packet = **second;
  EXPECT_EQ(packet.type, PacketType::kBinaryEvent);
  EXPECT_EQ(packet.nsp, "/up");
  EXPECT_EQ(*packet.ack_id, 9u);
  EXPECT_EQ(packet.event, "file");
  EXPECT_EQ(packet.args, R"([{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  ASSERT_EQ(packet.attachments.size(), 2u);
  EXPECT_EQ(packet.attachments[0], std::string("\x00\x01", 2));
  EXPECT_EQ(packet.attachments[1], "abc");
  EXPECT_FALSE(decoder.awaiting_attachments());
  // The decoder is ready for the next packet.
  auto next = decoder.Add(R"(2["x"])", false);
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next->has_value());
}

TEST(DecoderTest, APacketIsBoundedWithAllItsAttachments) {
  const std::string header =
      R"(52-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])";
  // Exactly at the bound: the header and both attachments fit.
  Decoder fits(Decoder::Limits{.max_packet_bytes = header.size() + 200});
  ASSERT_TRUE(fits.Add(header, false).ok());
  ASSERT_TRUE(fits.Add(std::string(100, 'a'), true).ok());
  auto done = fits.Add(std::string(100, 'b'), true);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->has_value());
  // One byte more: each attachment is small, their sum is not.
  Decoder over(Decoder::Limits{.max_packet_bytes = header.size() + 199});
  ASSERT_TRUE(over.Add(header, false).ok());
  ASSERT_TRUE(over.Add(std::string(100, 'a'), true).ok());
  auto refused = over.Add(std::string(100, 'b'), true);
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status())) << refused.status();
}

TEST(DecoderTest, BinaryAck) {
  Decoder decoder;
  ASSERT_TRUE(decoder.Add(R"(61-4[{"_placeholder":true,"num":0}])", false).ok());
  auto done = decoder.Add("zz", true);
  ASSERT_TRUE(done.ok());
  ASSERT_TRUE(done->has_value());
  EXPECT_EQ((*done)->type, PacketType::kBinaryAck);
  EXPECT_EQ(*(*done)->ack_id, 4u);
  EXPECT_EQ((*done)->attachments.size(), 1u);
}

TEST(DecoderTest, BinaryWithZeroAttachmentsIsRejected) {
  // socket.io-parser 4.2.7: "Illegal attachments".
  EXPECT_FALSE(DecodeError(R"(50-["x"])").ok());
  EXPECT_FALSE(DecodeError(R"(60-1[])").ok());
}

TEST(DecoderTest, AttachmentCountLimit) {
  EXPECT_TRUE(DecodeError(R"(510-["x"])").ok());
  EXPECT_FALSE(DecodeError(R"(511-["x"])").ok()) << "default limit is 10";
  Decoder generous(Decoder::Limits{20});
  EXPECT_TRUE(generous.Add(R"(511-["x"])", false).ok());
}

TEST(DecoderTest, BinaryHeaderErrors) {
  EXPECT_FALSE(DecodeError(R"(5["x"])").ok()) << "no count";
  EXPECT_FALSE(DecodeError(R"(5-["x"])").ok()) << "empty count";
  EXPECT_FALSE(DecodeError(R"(5a-["x"])").ok());
  EXPECT_FALSE(DecodeError(R"(51["x"])").ok()) << "no dash";
  EXPECT_FALSE(DecodeError(R"(5999-["x"])").ok()) << "over the limit";
}

TEST(DecoderTest, PlaceholdersMustPointIntoAttachments) {
  EXPECT_FALSE(DecodeError(R"(51-["x",{"_placeholder":true,"num":1}])").ok());
  EXPECT_FALSE(DecodeError(R"(51-["x",{"_placeholder":true,"num":-1}])").ok());
  EXPECT_FALSE(DecodeError(R"(51-["x",{"_placeholder":true,"num":"0"}])").ok());
  EXPECT_FALSE(DecodeError(R"(51-["x",{"_placeholder":true}])").ok());
  EXPECT_FALSE(DecodeError(R"(51-["x",{"deep":[{"_placeholder":true,"num":3}]}])").ok());
  EXPECT_TRUE(DecodeError(R"(51-["x",{"deep":[{"_placeholder":true,"num":0}]}])").ok());
  // Not a placeholder unless _placeholder is true.
  EXPECT_TRUE(DecodeError(R"(51-["x",{"_placeholder":false,"num":7}])").ok());
}

TEST(DecoderTest, BinaryOutOfSequenceIsAnError) {
  Decoder decoder;
  EXPECT_FALSE(decoder.Add("raw", true).ok()) << "binary without a header";
  Decoder pending;
  ASSERT_TRUE(pending.Add(R"(51-["x",{"_placeholder":true,"num":0}])", false).ok());
  EXPECT_FALSE(pending.Add(R"(2["y"])", false).ok()) << "text while attachments pending";
}

TEST(DecoderTest, ManyGarbageInputsNeverCrash) {
  const std::vector<std::string> inputs = {"0/",
                                           "0/,",
                                           "2/",
                                           "2/,",
                                           "2/a,",
                                           "2/a,1",
                                           "2/a,1[",
                                           "3/a,",
                                           "5-",
                                           "5--",
                                           "51-",
                                           "51-/",
                                           "2[\"a\"",
                                           "2[\"a\\",
                                           "2[\"\\u12\"]",
                                           "0{\"a\":",
                                           std::string("2\x00", 2),
                                           std::string("2[\"a\",\x00]", 7),
                                           "2[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
                                           "299999999999999999999999999999999999"};
  for (const std::string& input : inputs) {
    Decoder decoder;
    auto result = decoder.Add(input, false);
    (void)result;
  }
}

constexpr NamedArguments kNamed[] = {{.event = "publish", .count = 2},
                                     {.event = "join", .count = 1}};

// Decodes one text message with kNamed.
Packet DecodeNamed(std::string_view text) {
  Decoder decoder(Decoder::Limits{}, kNamed);
  auto result = decoder.Add(text, false);
  EXPECT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result.ok() && result->has_value());
  return result.ok() && result->has_value() ? **result : Packet{};
}

TEST(NamedArgumentsTest, SplitsNamesAndKeepsTheRestRaw) {
  Packet publish = DecodeNamed(R"(2["publish","room","ev",1,{"a":[2]}])");
  EXPECT_EQ(publish.names, (std::vector<std::string>{"room", "ev"}));
  EXPECT_EQ(publish.args, R"([1,{"a":[2]}])");
  Packet join = DecodeNamed(R"(2["join","room"])");
  EXPECT_EQ(join.names, (std::vector<std::string>{"room"}));
  EXPECT_EQ(join.args, "[]");
  Packet escaped = DecodeNamed(R"(2[ "publish", "r\"1" , "e" ])");
  ASSERT_EQ(escaped.names.size(), 2u);
  EXPECT_EQ(escaped.names[0], "r\"1");
  EXPECT_EQ(escaped.args, "[]");
}

TEST(NamedArgumentsTest, NoNamesUnlessAllAreStrings) {
  // The arguments after the event name then stay whole.
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"(2["join"])", "[]"},
      {R"(2["join",1])", "[1]"},
      {R"(2["publish","a"])", R"(["a"])"},
      {R"(2["publish","a",{"b":1}])", R"(["a",{"b":1}])"},
      {R"(2["publish",["a"],"b"])", R"([["a"],"b"])"},
  };
  for (const auto& [text, args] : cases) {
    Packet packet = DecodeNamed(text);
    EXPECT_TRUE(packet.names.empty()) << text;
    EXPECT_EQ(packet.args, args) << text;
  }
  // An event the decoder was not told about keeps its strings in args.
  Packet other = DecodeNamed(R"(2["chat","room","hi"])");
  EXPECT_TRUE(other.names.empty());
  EXPECT_EQ(other.args, R"(["room","hi"])");
  // A decoder without the table takes no names at all.
  Decoder plain;
  auto result = plain.Add(R"(2["publish","room","ev"])", false);
  ASSERT_TRUE(result.ok() && result->has_value());
  EXPECT_TRUE((*result)->names.empty());
  EXPECT_EQ((*result)->args, R"(["room","ev"])");
}

TEST(EncoderTest, Connect) {
  EXPECT_EQ(Text(EncodeConnect("/", "abc")), R"(0{"sid":"abc"})");
  EXPECT_EQ(Text(EncodeConnect("/chat", "abc")), R"(0/chat,{"sid":"abc"})");
}

TEST(EncoderTest, ConnectErrorAndDisconnect) {
  EXPECT_EQ(Text(EncodeConnectError("/nope", "Invalid namespace")),
            R"(4/nope,{"message":"Invalid namespace"})");
  EXPECT_EQ(Text(EncodeDisconnect("/")), "1");
  EXPECT_EQ(Text(EncodeDisconnect("/chat")), "1/chat,");
}

TEST(EncoderTest, Event) {
  EXPECT_EQ(Text(EncodeEvent("/", "ev", R"([1,{"a":2}])", std::nullopt)), R"(2["ev",1,{"a":2}])");
  EXPECT_EQ(Text(EncodeEvent("/", "ev", "[]", std::nullopt)), R"(2["ev"])");
  EXPECT_EQ(Text(EncodeEvent("/", "ev", "", std::nullopt)), R"(2["ev"])");
  EXPECT_EQ(Text(EncodeEvent("/", "ev", "[ ]", std::nullopt)), R"(2["ev"])");
  EXPECT_EQ(Text(EncodeEvent("/chat", "ev", "[1]", 7)), R"(2/chat,7["ev",1])");
  EXPECT_EQ(Text(EncodeEvent("/", "a\"b\n", "[1]", std::nullopt)), R"(2["a\"b\n",1])");
}

TEST(EncoderTest, BinaryEvent) {
  auto message = EncodeEvent("/up", "file", R"([{"_placeholder":true,"num":0}])", std::nullopt,
                             {std::string("\x01\x02", 2)});
  ASSERT_EQ(message.size(), 2u);
  EXPECT_EQ(message[0].data, R"(51-/up,["file",{"_placeholder":true,"num":0}])");
  EXPECT_TRUE(message[1].binary);
  EXPECT_EQ(message[1].data, std::string("\x01\x02", 2));
}

TEST(EncoderTest, Ack) {
  EXPECT_EQ(Text(EncodeAck("/", 3, R"([{"ok":true}])")), R"(33[{"ok":true}])");
  EXPECT_EQ(Text(EncodeAck("/chat", 3, "")), "3/chat,3[]");
  auto binary = EncodeAck("/", 4, R"([{"_placeholder":true,"num":0}])", {"x"});
  ASSERT_EQ(binary.size(), 2u);
  EXPECT_EQ(binary[0].data, R"(61-4[{"_placeholder":true,"num":0}])");
}

TEST(RoundTripTest, EncodedEventsDecodeToTheSameParts) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ev", "[]"}, {"chat message", R"([{"text":"hi"},2])"}, {"q\"\\", R"([null,[1,[2]]])"}};
  for (const auto& [event, args] : cases) {
    for (const std::string nsp : {"/", "/chat"}) {
      auto encoded = EncodeEvent(nsp, event, args, 42);
      Packet packet = DecodeOne(encoded[0].data);
      EXPECT_EQ(packet.nsp, nsp);
      EXPECT_EQ(packet.event, event);
      EXPECT_EQ(packet.args, args);
      EXPECT_EQ(*packet.ack_id, 42u);
    }
  }
}

TEST(RoundTripTest, BinaryEventRoundTrip) {
  auto encoded = EncodeEvent("/", "bin", R"([{"_placeholder":true,"num":0},2])", std::nullopt,
                             {std::string("\0\xff", 2)});
  Decoder decoder;
  ASSERT_TRUE(decoder.Add(encoded[0].data, false).ok());
  auto done = decoder.Add(encoded[1].data, true);
  ASSERT_TRUE(done.ok());
  ASSERT_TRUE(done->has_value());
  EXPECT_EQ((*done)->args, R"([{"_placeholder":true,"num":0},2])");
  EXPECT_EQ((*done)->attachments[0], std::string("\0\xff", 2));
}

}  // namespace
}  // namespace roomq::gateway::socketio
