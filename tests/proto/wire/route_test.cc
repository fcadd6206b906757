#include "proto/wire/route.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "proto/roomq.pb.h"
#include "tests/support/allocation_counter.h"

namespace roomq::wire {
namespace {

v1::Envelope RoomsEnvelope(std::string ns, std::vector<std::string> rooms) {
  v1::Envelope envelope;
  envelope.set_version(v1::VERSION_1);
  envelope.set_kind(v1::KIND_EVENT);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_(std::move(ns));
  for (std::string& room : rooms) envelope.add_rooms(std::move(room));
  envelope.set_event("chat message");
  envelope.set_args(R"([{"text":"hi"}])");
  return envelope;
}

ScanError Scan(std::string_view bytes) {
  EnvelopeRoute route;
  return ScanRouteInto(bytes, route);
}

// One field's tag and a varint, hand-encoded to build what protobuf would not.
std::string Varint(uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
  return out;
}
std::string Key(int field, int wire_type) { return Varint((field << 3) | wire_type); }
std::string Bytes(int field, std::string_view value) {
  return Key(field, 2) + Varint(value.size()) + std::string(value);
}

std::string RandomString(std::mt19937_64& rng, size_t max_len, bool allow_empty = true) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789-_#/ ";
  std::uniform_int_distribution<size_t> len(allow_empty ? 0 : 1, max_len);
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string s(len(rng), ' ');
  for (char& c : s) c = kAlphabet[pick(rng)];
  return s;
}

v1::Envelope RandomEnvelope(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> coin(0, 1);
  std::uniform_int_distribution<int> small(0, 6);
  v1::Envelope e;
  e.set_version(v1::VERSION_1);
  static constexpr v1::Kind kKinds[] = {
      v1::KIND_EVENT,      v1::KIND_ACK,        v1::KIND_JOIN,          v1::KIND_LEAVE,
      v1::KIND_DISCONNECT, v1::KIND_CONNECTION, v1::KIND_DISCONNECTION, v1::KIND_CLIENT_EVENT};
  e.set_kind(kKinds[std::uniform_int_distribution<int>(0, 7)(rng)]);
  const int channel = std::uniform_int_distribution<int>(1, 3)(rng);
  e.set_channel(static_cast<v1::Channel>(channel));
  if (channel != v1::CHANNEL_NODE || coin(rng)) e.set_namespace_("/" + RandomString(rng, 12));
  if (channel == v1::CHANNEL_ROOMS || coin(rng)) {
    for (int i = small(rng); i > 0; --i) e.add_rooms(RandomString(rng, 20));
  }
  if (channel == v1::CHANNEL_NODE) {
    e.set_node("gw-" + RandomString(rng, 10));
  } else if (coin(rng)) {
    e.set_node(RandomString(rng, 10));
  }
  for (int i = small(rng); i > 0; --i) e.add_except_rooms(RandomString(rng, 8));
  if (coin(rng)) e.set_except_socket(RandomString(rng, 20));
  e.set_event(RandomString(rng, 16));
  e.set_args(RandomString(rng, 200));
  for (int i = small(rng) / 2; i > 0; --i) e.add_attachments(RandomString(rng, 300));
  if (coin(rng)) e.set_ack_id(rng());
  if (coin(rng)) e.set_reply_to(RandomString(rng, 10));
  e.set_origin("svc-" + RandomString(rng, 10));
  e.set_message_id(coin(rng) ? rng() : rng() % 1000);
  e.set_timestamp_us(static_cast<int64_t>(rng() >> 1));
  if (coin(rng)) e.set_socket_id(RandomString(rng, 20));
  if (coin(rng)) e.set_auth(R"({"token":"x"})");
  if (coin(rng)) e.set_reason(RandomString(rng, 10));
  for (int i = small(rng) / 2; i > 0; --i) e.add_membership_rooms(RandomString(rng, 8));
  e.set_confirm(coin(rng));
  return e;
}

void ExpectSameRoute(const EnvelopeRoute& route, const v1::Envelope& e) {
  EXPECT_EQ(route.version, e.version());
  EXPECT_EQ(route.kind, e.kind());
  EXPECT_EQ(route.channel, e.channel());
  EXPECT_EQ(route.ns, e.namespace_());
  ASSERT_EQ(route.rooms.size(), static_cast<size_t>(e.rooms_size()));
  for (int i = 0; i < e.rooms_size(); ++i) EXPECT_EQ(route.rooms[i], e.rooms(i));
  EXPECT_EQ(route.node, e.node());
  EXPECT_EQ(route.origin, e.origin());
  EXPECT_EQ(route.message_id, e.message_id());
  EXPECT_EQ(route.socket_id, e.socket_id());
  EXPECT_EQ(route.service_family, e.service_family());
  EXPECT_EQ(route.confirm, e.confirm());
  EXPECT_EQ(route.has_ack_id, e.has_ack_id());
}

TEST(ScanRoute, ReadsTheRoutingFields) {
  v1::Envelope envelope = RoomsEnvelope("/chat", {"a", "b"});
  envelope.set_origin("svc-1");
  envelope.set_message_id(42);
  envelope.set_socket_id("sock-1");
  envelope.set_confirm(true);
  envelope.set_ack_id(0);  // optional: set even at 0
  const std::string bytes = envelope.SerializeAsString();
  auto route = ScanRoute(bytes);
  ASSERT_TRUE(route.ok()) << route.status();
  ExpectSameRoute(*route, envelope);
  EXPECT_FALSE(route->namespace_wide());
  // Views point into the scanned bytes: nothing was copied.
  EXPECT_GE(route->ns.data(), bytes.data());
  EXPECT_LT(route->ns.data(), bytes.data() + bytes.size());
}

TEST(ScanRoute, AFamilysServiceEnvelopeNamesItsChildAndGoesToItsFamily) {
  v1::Envelope envelope = RoomsEnvelope("/tenant-a", {});
  envelope.set_kind(v1::KIND_CONNECTION);
  envelope.set_channel(v1::CHANNEL_SERVICE);
  envelope.set_service_family("^/tenant-\\w+$");
  std::string bytes = envelope.SerializeAsString();
  auto route = ScanRoute(bytes);
  ASSERT_TRUE(route.ok()) << route.status();
  ExpectSameRoute(*route, envelope);
  EXPECT_EQ(route->service_target(), "^/tenant-\\w+$");
  // The child is still a namespace; the family's text is bounded.
  envelope.set_namespace_("tenant-a");
  EXPECT_EQ(Scan(envelope.SerializeAsString()), ScanError::kTopic);
  envelope.set_namespace_("/tenant-a");
  envelope.set_service_family(std::string(kMaxNamespaceBytes + 1, 'x'));
  EXPECT_EQ(Scan(envelope.SerializeAsString()), ScanError::kTopic);
  envelope.clear_service_family();
  bytes = envelope.SerializeAsString();
  route = ScanRoute(bytes);
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->service_target(), "/tenant-a");
}

TEST(ScanRoute, AnEnvelopeWithoutRoomsIsNamespaceWide) {
  auto route = ScanRoute(RoomsEnvelope("/chat", {}).SerializeAsString());
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_TRUE(route->namespace_wide());
}

TEST(ScanRoute, MatchesTheFullParserOnRandomEnvelopes) {
  std::mt19937_64 rng(20261122);
  for (int i = 0; i < 2000; ++i) {
    const v1::Envelope envelope = RandomEnvelope(rng);
    const std::string bytes = envelope.SerializeAsString();
    auto route = ScanRoute(bytes);
    ASSERT_TRUE(route.ok()) << route.status() << "\n" << envelope.DebugString();
    ExpectSameRoute(*route, envelope);
  }
}

TEST(ScanRoute, MergesConcatenatedMessagesAsProtobufDoes) {
  // Concatenated encodings parse as a merge: singular fields last-wins,
  // repeated fields append, fields absent from the second keep the first's.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 500; ++i) {
    const std::string bytes =
        RandomEnvelope(rng).SerializeAsString() + RandomEnvelope(rng).SerializeAsString();
    v1::Envelope merged;
    ASSERT_TRUE(merged.ParseFromString(bytes));
    EnvelopeRoute route;
    const ScanError error = ScanRouteInto(bytes, route);
    ASSERT_NE(error, ScanError::kMalformed);
    ExpectSameRoute(route, merged);
  }
}

TEST(ScanRoute, AgreesWithTheParserOnEveryTruncation) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 50; ++i) {
    const std::string bytes = RandomEnvelope(rng).SerializeAsString();
    for (size_t len = 0; len <= bytes.size(); ++len) {
      const std::string_view prefix(bytes.data(), len);
      v1::Envelope parsed;
      const bool parses = parsed.ParseFromArray(prefix.data(), static_cast<int>(prefix.size()));
      EnvelopeRoute route;
      const ScanError error = ScanRouteInto(prefix, route);
      ASSERT_EQ(parses, error != ScanError::kMalformed)
          << "length " << len << " of " << bytes.size();
      if (error == ScanError::kOk) ExpectSameRoute(route, parsed);
    }
  }
}

TEST(ScanRoute, NeverCrashesOnMutatedBytes) {
  // The scanner survives any bytes, and never calls malformed what the parser
  // accepts. (The converse does not hold: the parser also rejects invalid
  // UTF-8 in string fields, which the scanner deliberately does not check.)
  std::mt19937_64 rng(5);
  for (int i = 0; i < 3000; ++i) {
    std::string bytes = RandomEnvelope(rng).SerializeAsString();
    for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    v1::Envelope parsed;
    const bool parses = parsed.ParseFromString(bytes);
    EnvelopeRoute route;
    const ScanError error = ScanRouteInto(bytes, route);
    if (parses) {
      ASSERT_NE(error, ScanError::kMalformed);
      if (error == ScanError::kOk) ExpectSameRoute(route, parsed);
    }
  }
}

TEST(ScanRoute, SkipsUnknownFieldsAndGroups) {
  std::string bytes = RoomsEnvelope("/chat", {"a"}).SerializeAsString();
  bytes += Key(99, 0) + Varint(123456789);                     // unknown varint
  bytes += Bytes(100, "opaque");                               // unknown bytes
  bytes += Key(101, 5) + std::string(4, '\x01');               // fixed32
  bytes += Key(102, 1) + std::string(8, '\x02');               // fixed64
  bytes += Key(103, 3) + Key(1, 0) + Varint(1) + Key(103, 4);  // group
  bytes += Key(4, 0) + Varint(7);  // namespace with the wrong wire type: unknown
  auto route = ScanRoute(bytes);
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->ns, "/chat");
  ASSERT_EQ(route->rooms.size(), 1u);
  v1::Envelope parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  ExpectSameRoute(*route, parsed);
}

TEST(ScanRoute, RejectsBytesThatAreNotAMessage) {
  const std::string valid = RoomsEnvelope("/chat", {"a"}).SerializeAsString();
  struct Case {
    const char* what;
    std::string bytes;
  };
  const Case cases[] = {
      {"garbage", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"},
      {"tag zero", std::string(1, '\0')},
      {"field number zero", Key(0, 2) + Varint(1) + "x"},
      {"stray end group", valid + Key(30, 4)},
      {"unterminated group", valid + Key(30, 3)},
      {"wire type 6", valid + Key(30, 6)},
      {"truncated length", valid.substr(0, valid.size() - 1)},
      {"length past the end", Key(4, 2) + Varint(100) + "/chat"},
      {"truncated varint", Key(1, 0) + "\x81"},
      {"eleven byte varint", Key(15, 0) + std::string(10, '\x81') + "\x01"},
      {"truncated fixed64", valid + Key(50, 1) + "\x01\x02"},
      {"truncated tag", valid + "\x80"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Scan(c.bytes), ScanError::kMalformed) << c.what;
    v1::Envelope parsed;
    EXPECT_FALSE(parsed.ParseFromString(c.bytes)) << c.what << " (the parser agrees)";
    auto status = ScanRoute(c.bytes).status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << c.what;
  }
}

TEST(ScanRoute, RejectsWrongVersions) {
  v1::Envelope envelope = RoomsEnvelope("/chat", {"a"});
  envelope.clear_version();
  EXPECT_EQ(Scan(envelope.SerializeAsString()), ScanError::kVersion);
  envelope.set_version(static_cast<v1::Version>(2));
  EXPECT_EQ(Scan(envelope.SerializeAsString()), ScanError::kVersion);
  EXPECT_EQ(Scan(""), ScanError::kVersion);  // an empty message is a message without a version
  EXPECT_TRUE(absl::IsInvalidArgument(ScanRoute("").status()));
}

TEST(ScanRoute, RejectsUnknownKindsAndChannels) {
  v1::Envelope envelope = RoomsEnvelope("/chat", {"a"});
  envelope.set_kind(v1::KIND_UNSPECIFIED);
  EXPECT_EQ(Scan(envelope.SerializeAsString()), ScanError::kKind);
  envelope.set_kind(static_cast<v1::Kind>(8));
  EXPECT_EQ(Scan(envelope.SerializeAsString()), ScanError::kKind);
  envelope.set_kind(v1::KIND_EVENT);
  envelope.set_channel(v1::CHANNEL_UNSPECIFIED);
  EXPECT_EQ(Scan(envelope.SerializeAsString()), ScanError::kChannel);
  envelope.set_channel(static_cast<v1::Channel>(9));
  EXPECT_EQ(Scan(envelope.SerializeAsString()), ScanError::kChannel);
  envelope.set_channel(static_cast<v1::Channel>(-1));
  EXPECT_EQ(Scan(envelope.SerializeAsString()), ScanError::kChannel);
}

TEST(ScanRoute, RejectsInvalidTargets) {
  EXPECT_EQ(Scan(RoomsEnvelope("", {"a"}).SerializeAsString()), ScanError::kTopic);
  EXPECT_EQ(Scan(RoomsEnvelope("", {}).SerializeAsString()), ScanError::kTopic);
  EXPECT_EQ(Scan(RoomsEnvelope("chat", {"a"}).SerializeAsString()), ScanError::kTopic);
  EXPECT_EQ(Scan(RoomsEnvelope("/chat", {std::string(kMaxNameBytes + 1, 'r')}).SerializeAsString()),
            ScanError::kTopic);
  EXPECT_EQ(
      Scan(RoomsEnvelope("/" + std::string(kMaxNamespaceBytes, 'n'), {"a"}).SerializeAsString()),
      ScanError::kTopic);

  v1::Envelope service = RoomsEnvelope("", {});
  service.set_channel(v1::CHANNEL_SERVICE);
  EXPECT_EQ(Scan(service.SerializeAsString()), ScanError::kTopic);
  service.set_namespace_("/chat");
  EXPECT_EQ(Scan(service.SerializeAsString()), ScanError::kOk);

  v1::Envelope node = RoomsEnvelope("/chat", {});
  node.set_channel(v1::CHANNEL_NODE);
  EXPECT_EQ(Scan(node.SerializeAsString()), ScanError::kTopic);
  node.set_node("svc-1");
  EXPECT_EQ(Scan(node.SerializeAsString()), ScanError::kOk);  // the namespace is ignored
}

TEST(ScanRoute, BoundsTheRoomCount) {
  std::vector<std::string> rooms;
  for (size_t i = 0; i < kMaxRoomsPerEnvelope; ++i) rooms.push_back("r" + std::to_string(i));
  EXPECT_EQ(Scan(RoomsEnvelope("/chat", rooms).SerializeAsString()), ScanError::kOk);
  rooms.push_back("one-too-many");
  EXPECT_EQ(Scan(RoomsEnvelope("/chat", rooms).SerializeAsString()), ScanError::kTooManyRooms);
}

TEST(ScanRoute, ReusesTheRouteBetweenScans) {
  EnvelopeRoute route;
  ASSERT_EQ(ScanRouteInto(RoomsEnvelope("/a", {"x", "y", "z"}).SerializeAsString(), route),
            ScanError::kOk);
  v1::Envelope node = RoomsEnvelope("", {});
  node.set_channel(v1::CHANNEL_NODE);
  node.set_node("gw-1");
  const std::string bytes = node.SerializeAsString();
  ASSERT_EQ(ScanRouteInto(bytes, route), ScanError::kOk);
  EXPECT_TRUE(route.rooms.empty());
  EXPECT_TRUE(route.ns.empty());
  EXPECT_EQ(route.node, "gw-1");
}

TEST(ScanRoute, AllocatesNothing) {
  const std::string four_rooms = RoomsEnvelope("/chat", {"a", "b", "c", "d"}).SerializeAsString();
  std::vector<std::string> many;
  many.reserve(40);
  for (int i = 0; i < 40; ++i) many.push_back("room-" + std::to_string(i));
  const std::string forty_rooms = RoomsEnvelope("/chat", many).SerializeAsString();
  {
    EnvelopeRoute route;
    test_support::AllocationScope scope;
    ASSERT_EQ(ScanRouteInto(four_rooms, route), ScanError::kOk);
    EXPECT_EQ(scope.allocations(), 0u) << "up to kInlineRooms rooms stay inline";
  }
  EnvelopeRoute reused;
  ASSERT_EQ(ScanRouteInto(forty_rooms, reused), ScanError::kOk);  // grows once
  test_support::AllocationScope scope;
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(ScanRouteInto(forty_rooms, reused), ScanError::kOk);
    ASSERT_EQ(ScanRouteInto(four_rooms, reused), ScanError::kOk);
  }
  EXPECT_EQ(scope.allocations(), 0u) << "a reused route never allocates again";
}

TEST(ScanErrorName, NamesEveryError) {
  EXPECT_EQ(ScanErrorName(ScanError::kOk), "ok");
  EXPECT_EQ(ScanErrorName(ScanError::kMalformed), "malformed");
  EXPECT_EQ(ScanErrorName(ScanError::kVersion), "version");
  EXPECT_EQ(ScanErrorName(ScanError::kKind), "kind");
  EXPECT_EQ(ScanErrorName(ScanError::kChannel), "channel");
  EXPECT_EQ(ScanErrorName(ScanError::kTopic), "topic");
  EXPECT_EQ(ScanErrorName(ScanError::kTooManyRooms), "too_many_rooms");
}

}  // namespace
}  // namespace roomq::wire
