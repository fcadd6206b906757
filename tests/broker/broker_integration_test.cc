// Black-box tests of the real roomq-broker binary: started on free loopback
// ports through tests/support, spoken to with raw DEALER sockets.
//
// Proving that something was NOT delivered without sleeping: after the
// envelope that must not arrive, the same publisher sends a sentinel the
// subscriber does receive. The broker handles one publisher's envelopes in
// order and delivers to one subscriber in order, so if the sentinel comes
// first, the other envelope was never delivered.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "absl/base/config.h"
#include "proto/roomq.pb.h"
#include "proto/wire/delivery.h"
#include "tests/broker/wire_node.h"
#include "tests/support/binaries.h"
#include "tests/support/broker_process.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/http_scrape.h"
#include "tests/support/wait_until.h"

namespace roomq::broker_test {
namespace {

using std::chrono::milliseconds;
using test_support::BrokerOptions;
using test_support::BrokerProcess;
using test_support::ChildProcess;
using test_support::StartBroker;
using wire::NamespaceTopic;
using wire::NodeTopic;
using wire::RoomTopic;
using wire::ServiceTopic;

constexpr milliseconds kWait{5000};

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(BrokerOptions options) {
    auto broker = StartBroker(std::move(options));
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
  }

  std::unique_ptr<WireNode> Node(const std::string& node_id, int receive_hwm = 1000) {
    auto node = std::make_unique<WireNode>(context_, broker_.pub_endpoint, broker_.sub_endpoint,
                                           receive_hwm);
    // These nodes never ping: a heartbeat the broker cannot expire them by
    // while a test runs on a loaded machine (its default, 1 s, expired
    // both subscribers 3 s into a long ASan run).
    EXPECT_TRUE(node->Join(node_id, /*heartbeat_ms=*/60000).ok()) << node_id;
    return node;
  }

  // Publishes a sentinel to (/sentinel, node) and returns the event names of
  // every delivery `node` got up to it.
  std::vector<std::string> DeliveriesUntilSentinel(WireNode& publisher, WireNode& node,
                                                   const std::string& node_room) {
    publisher.Publish(RoomsEnvelope("/sentinel", {node_room}, "sentinel"));
    std::vector<std::string> events;
    while (true) {
      auto received = node.ReceiveDelivery(kWait);
      if (!received.ok()) {
        ADD_FAILURE() << node_room << ": " << received.status();
        return events;
      }
      if (received->envelope.event() == "sentinel") return events;
      events.push_back(received->envelope.event());
    }
  }

  // Stops the broker with SIGTERM and returns its final stats line.
  std::string StopAndGetFinalStats() {
    EXPECT_TRUE(broker_.process->Signal(SIGTERM).ok());
    auto exit = broker_.process->Wait(kWait);
    EXPECT_TRUE(exit.ok() && exit->exited_ok()) << (exit.ok() ? exit->ToString() : "timeout");
    auto line = broker_.process->WaitForLine(std::regex("roomq-broker stopped: "), kWait);
    EXPECT_TRUE(line.ok()) << line.status();
    return line.ok() ? *line : "";
  }

  zmq::context_t context_;
  BrokerProcess broker_;
};

using Events = std::vector<std::string>;

TEST_F(BrokerTest, RoutesByExactTopic) {
  auto a = Node("a");
  auto ab = Node("ab");
  auto chatx = Node("chatx");
  ASSERT_TRUE(a->Subscribe({RoomTopic("/chat", "a"), RoomTopic("/sentinel", "a")}).ok());
  ASSERT_TRUE(ab->Subscribe({RoomTopic("/chat", "ab"), RoomTopic("/sentinel", "ab")}).ok());
  ASSERT_TRUE(chatx->Subscribe({RoomTopic("/chatx", "a"), RoomTopic("/sentinel", "chatx")}).ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);

  publisher.Publish(RoomsEnvelope("/chat", {"a"}, "chat-a"));
  publisher.Publish(RoomsEnvelope("/chat", {"ab"}, "chat-ab"));
  publisher.Publish(RoomsEnvelope("/chatx", {"a"}, "chatx-a"));
  publisher.Publish(RoomsEnvelope("/chat", {"b"}, "chat-b"));
  EXPECT_EQ(DeliveriesUntilSentinel(publisher, *a, "a"), Events{"chat-a"});
  EXPECT_EQ(DeliveriesUntilSentinel(publisher, *ab, "ab"), Events{"chat-ab"});
  EXPECT_EQ(DeliveriesUntilSentinel(publisher, *chatx, "chatx"), Events{"chatx-a"});
}

TEST_F(BrokerTest, ForwardsTheEnvelopeBytesUnchangedWithTheEpoch) {
  auto sub = Node("sub");
  ASSERT_TRUE(sub->Subscribe({RoomTopic("/chat", "a")}).ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  v1::Envelope envelope = RoomsEnvelope("/chat", {"a"}, "raw");
  envelope.add_attachments(std::string("\0\1\2binary", 9));
  envelope.set_args(std::string(5000, 'x'));
  // Unknown fields survive too: the broker never re-encodes.
  const std::string bytes = envelope.SerializeAsString() + std::string("\xf8\x07\x2a", 3);
  publisher.SendPub({bytes});
  auto received = sub->ReceiveDelivery(kWait);
  ASSERT_TRUE(received.ok()) << received.status();
  // One frame: the delivery prefix (epoch, the offset in the kept topic,
  // the sequence), then the publisher's bytes verbatim.
  const v1::Delivery& delivery = received->frame.delivery();
  ASSERT_EQ(delivery.offsets_size(), 1);
  EXPECT_EQ(delivery.sequence(), 1u);
  const wire::RoomOffset offsets[] = {{"/chat", "a", delivery.offsets(0).offset()}};
  wire::DeliveryHeader header;
  header.epoch = broker_.epoch;
  header.offsets = offsets;
  header.sequence = 1;
  EXPECT_EQ(received->raw, wire::EncodeDeliveryFrame(header, bytes));
  EXPECT_EQ(delivery.epoch(), broker_.epoch);
  EXPECT_EQ(received->envelope.args(), std::string(5000, 'x'));
}

TEST_F(BrokerTest, NamespaceWideReachesEveryMemberOnce) {
  auto two_rooms = Node("two-rooms");
  auto ns_only = Node("ns-only");
  auto other = Node("other");
  auto service = Node("service");
  ASSERT_TRUE(two_rooms
                  ->Subscribe({RoomTopic("/chat", "a"), RoomTopic("/chat", "b"),
                               RoomTopic("/sentinel", "two")})
                  .ok());
  ASSERT_TRUE(ns_only->Subscribe({NamespaceTopic("/chat"), RoomTopic("/sentinel", "ns")}).ok());
  ASSERT_TRUE(other->Subscribe({RoomTopic("/chatx", "a"), RoomTopic("/sentinel", "other")}).ok());
  ASSERT_TRUE(service->Subscribe({ServiceTopic("/chat"), RoomTopic("/sentinel", "svc")}).ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);

  publisher.Publish(RoomsEnvelope("/chat", {}, "everyone"));
  EXPECT_EQ(DeliveriesUntilSentinel(publisher, *two_rooms, "two"), Events{"everyone"});
  EXPECT_EQ(DeliveriesUntilSentinel(publisher, *ns_only, "ns"), Events{"everyone"});
  EXPECT_EQ(DeliveriesUntilSentinel(publisher, *other, "other"), Events{});
  EXPECT_EQ(DeliveriesUntilSentinel(publisher, *service, "svc"), Events{});
}

TEST_F(BrokerTest, MultiRoomEnvelopesArriveAtMostOnce) {
  auto both = Node("both");
  auto one = Node("one");
  ASSERT_TRUE(both->Subscribe({RoomTopic("/chat", "a"), RoomTopic("/chat", "b"),
                               RoomTopic("/sentinel", "both")})
                  .ok());
  ASSERT_TRUE(one->Subscribe({RoomTopic("/chat", "b"), RoomTopic("/sentinel", "one")}).ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);

  publisher.Publish(RoomsEnvelope("/chat", {"a", "b", "c", "a"}, "multi"));
  EXPECT_EQ(DeliveriesUntilSentinel(publisher, *both, "both"), Events{"multi"});
  EXPECT_EQ(DeliveriesUntilSentinel(publisher, *one, "one"), Events{"multi"});
}

TEST_F(BrokerTest, ServiceAndNodeChannels) {
  auto svc = Node("svc-1");
  ASSERT_TRUE(
      svc->Subscribe({ServiceTopic("/chat"), NodeTopic("svc-1"), RoomTopic("/sentinel", "svc")})
          .ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  v1::Envelope to_service = RoomsEnvelope("/chat", {}, "connection");
  to_service.set_channel(v1::CHANNEL_SERVICE);
  to_service.set_kind(v1::KIND_CONNECTION);
  publisher.Publish(to_service);
  v1::Envelope to_node = RoomsEnvelope("", {}, "ack");
  to_node.set_channel(v1::CHANNEL_NODE);
  to_node.set_kind(v1::KIND_ACK);
  to_node.set_node("svc-1");
  publisher.Publish(to_node);
  to_node.set_node("svc-2");
  to_node.set_event("ack-other");
  publisher.Publish(to_node);
  EXPECT_EQ(DeliveriesUntilSentinel(publisher, *svc, "svc"), (Events{"connection", "ack"}));
}

TEST_F(BrokerTest, ReplyComesAfterTheChangeTookEffect) {
  auto sub = Node("sub");
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  // Everything published after the Reply is routed by the new set.
  ASSERT_TRUE(sub->Subscribe({RoomTopic("/chat", "a")}).ok());
  publisher.Publish(RoomsEnvelope("/chat", {"a"}, "after-subscribe"));
  auto received = sub->ReceiveDelivery(kWait);
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->envelope.event(), "after-subscribe");

  ASSERT_TRUE(sub->Subscribe({RoomTopic("/sentinel", "sub")}).ok());
  sub->SendUnsubscribe({RoomTopic("/chat", "a")}, 77);
  auto reply = sub->Receive(kWait);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_TRUE(reply->frame.has_reply());
  EXPECT_EQ(reply->frame.reply().request_id(), 77u);
  EXPECT_TRUE(reply->frame.reply().ok());
  publisher.Publish(RoomsEnvelope("/chat", {"a"}, "after-unsubscribe"));
  EXPECT_EQ(DeliveriesUntilSentinel(publisher, *sub, "sub"), Events{});

  // Replies come in command order, one per request id.
  sub->SendSubscribe({RoomTopic("/x", "1")}, 1);
  sub->Ping(2);
  sub->SendUnsubscribe({RoomTopic("/x", "1")}, 3);
  std::vector<uint64_t> reply_ids;
  while (reply_ids.size() < 3) {
    auto next = sub->Receive(kWait);
    ASSERT_TRUE(next.ok()) << next.status();
    if (next->frame.has_reply()) reply_ids.push_back(next->frame.reply().request_id());
  }
  EXPECT_EQ(reply_ids, (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(BrokerTest, RefusesInvalidTopicsWholesale) {
  auto sub = Node("sub");
  auto status = sub->Subscribe({RoomTopic("/chat", "ok"), RoomTopic("no-slash", "a")});
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  ASSERT_TRUE(sub->Subscribe({RoomTopic("/sentinel", "sub")}).ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  publisher.Publish(RoomsEnvelope("/chat", {"ok"}, "not-subscribed"));
  EXPECT_EQ(DeliveriesUntilSentinel(publisher, *sub, "sub"), Events{});
  EXPECT_NE(StopAndGetFinalStats().find("command_topic=1"), std::string::npos);
}

TEST_F(BrokerTest, ConfirmsPublishesOnRequest) {
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  v1::Envelope envelope = RoomsEnvelope("/chat", {"nobody"}, "confirmed");
  envelope.set_origin("svc-7");
  envelope.set_message_id(41);
  envelope.set_confirm(true);
  publisher.Publish(envelope);
  auto receipt = publisher.ReceiveReceipt(kWait);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->origin(), "svc-7");
  EXPECT_EQ(receipt->message_id(), 41u);
  EXPECT_TRUE(receipt->accepted());

  envelope.set_version(static_cast<v1::Version>(9));
  envelope.set_message_id(42);
  publisher.Publish(envelope);
  receipt = publisher.ReceiveReceipt(kWait);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->message_id(), 42u);
  EXPECT_FALSE(receipt->accepted());
  EXPECT_NE(receipt->error().find("version"), std::string::npos) << receipt->error();

  // Without confirm, no receipt: the next one is for 43.
  envelope.set_version(v1::VERSION_1);
  envelope.set_confirm(false);
  envelope.set_message_id(44);
  publisher.Publish(envelope);
  envelope.set_confirm(true);
  envelope.set_message_id(45);
  publisher.Publish(envelope);
  receipt = publisher.ReceiveReceipt(kWait);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->message_id(), 45u);
}

TEST_F(BrokerTest, DropsMalformedInputAndKeepsRouting) {
  auto sub = Node("sub");
  ASSERT_TRUE(sub->Subscribe({RoomTopic("/chat", "a"), RoomTopic("/sentinel", "sub")}).ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  const std::string valid = RoomsEnvelope("/chat", {"a"}, "valid").SerializeAsString();
  v1::Envelope wrong_version = RoomsEnvelope("/chat", {"a"}, "wrong-version");
  wrong_version.set_version(static_cast<v1::Version>(2));
  v1::Envelope unknown_channel = RoomsEnvelope("/chat", {"a"}, "unknown-channel");
  unknown_channel.set_channel(static_cast<v1::Channel>(42));
  v1::Envelope no_namespace = RoomsEnvelope("", {"a"}, "no-namespace");

  publisher.SendPub({std::string("\xff\xfe garbage \x00\x01", 13)});  // envelope
  publisher.SendPub({valid.substr(0, valid.size() - 3)});             // envelope (truncated)
  publisher.SendPub({wrong_version.SerializeAsString()});             // version
  publisher.SendPub({""});                                            // version (empty frame)
  publisher.SendPub({unknown_channel.SerializeAsString()});           // channel
  publisher.SendPub({no_namespace.SerializeAsString()});              // topic
  publisher.SendPub({valid, valid});                                  // envelope_frames
  publisher.SendPub({"", valid});                                     // envelope_frames
  sub->SendSub({"not a command \xff"});                               // command
  sub->SendSub({std::string()});                                      // command (no command set)
  v1::SubscriberCommand ping;
  ping.mutable_ping();
  sub->SendSub({ping.SerializeAsString(), "extra"});  // command_frames
  v1::SubscriberCommand old_hello;
  old_hello.mutable_hello()->set_version(static_cast<v1::Version>(3));
  old_hello.mutable_hello()->set_node("old");
  sub->Command(old_hello);  // hello
  // A round trip on the subscriber socket: every command above was handled.
  ASSERT_TRUE(sub->Subscribe({RoomTopic("/sentinel", "sub")}).ok());

  publisher.SendPub({valid});
  EXPECT_EQ(DeliveriesUntilSentinel(publisher, *sub, "sub"), Events{"valid"});
  const std::string stats = StopAndGetFinalStats();
  EXPECT_NE(stats.find("malformed=12 (envelope_frames=2 envelope=2 version=2 channel=1 topic=1 "
                       "command_frames=1 command=2 hello=1)"),
            std::string::npos)
      << stats;
}

TEST_F(BrokerTest, AccountsForEveryMessageOfARandomBarrage) {
  // Every publish message is either routed or counted malformed, whatever
  // its bytes; a barrage of random commands from another peer leaves the
  // broker serving everyone else.
  auto sub = Node("sub");
  ASSERT_TRUE(sub->Subscribe({RoomTopic("/chat", "a"), RoomTopic("/sentinel", "sub")}).ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  WireNode chaos(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  std::mt19937_64 rng(1234);
  v1::Envelope base = RoomsEnvelope("/chat", {"a", "b"}, "valid");
  base.set_message_id(7);
  const std::string valid = base.SerializeAsString();
  v1::SubscriberCommand command;
  *command.mutable_subscribe()->add_topics() = wire::ToProto(RoomTopic("/chat", "x"));
  const std::string valid_command = command.SerializeAsString();
  auto mutate = [&](std::string bytes) {
    switch (rng() % 4) {
      case 0:  // flip bytes
        for (int i = 1 + static_cast<int>(rng() % 4); i > 0; --i) {
          bytes[rng() % bytes.size()] = static_cast<char>(rng());
        }
        return bytes;
      case 1:  // truncate
        return bytes.substr(0, rng() % bytes.size());
      case 2: {  // random bytes
        std::string random(rng() % 64, '\0');
        for (char& c : random) c = static_cast<char>(rng());
        return random;
      }
      default:
        return bytes;
    }
  };
  constexpr int kMessages = 2000;
  for (int i = 0; i < kMessages; ++i) {
    if (rng() % 10 == 0) {
      publisher.SendPub({mutate(valid), mutate(valid)});
    } else {
      publisher.SendPub({mutate(valid)});
    }
    chaos.SendSub({mutate(valid_command)});
  }
  // The sentinel is message kMessages + 1. The broker reads only the
  // routing fields, so a mutation elsewhere (say, invalid UTF-8 in `event`)
  // is delivered and left to the receiver's parser: skip those.
  publisher.Publish(RoomsEnvelope("/sentinel", {"sub"}, "sentinel"));
  int deliveries = 0;
  while (true) {
    auto received = sub->Receive(kWait);
    if (absl::IsDataLoss(received.status())) continue;
    ASSERT_TRUE(received.ok()) << received.status();
    if (!received->frame.has_delivery()) continue;
    if (received->envelope.event() == "sentinel") break;
    ++deliveries;
  }
  EXPECT_GT(deliveries, 0);
  const absl::Status chaos_status = chaos.Subscribe({RoomTopic("/sentinel", "chaos")});
  ASSERT_TRUE(chaos_status.ok()) << chaos_status;  // all its commands are in
  // Hostile bytes do not turn into a log flood.
  EXPECT_EQ(broker_.process->CountLines(std::regex("libprotobuf")), 0);

  const std::string stats = StopAndGetFinalStats();
  std::smatch match;
  ASSERT_TRUE(std::regex_search(stats, match, std::regex("routed=(\\d+) ")));
  uint64_t accounted = std::stoull(match[1].str());
  for (const char* reason :
       {"envelope_frames", "envelope", "version", "kind", "channel", "topic", "too_many_rooms"}) {
    if (std::regex_search(stats, match, std::regex(std::string("[ (]") + reason + "=(\\d+)"))) {
      accounted += std::stoull(match[1].str());
    }
  }
  EXPECT_EQ(accounted, static_cast<uint64_t>(kMessages + 1)) << stats;
}

TEST_F(BrokerTest, PongTellsARestartedBrokerDoesNotKnowTheNode) {
  auto node = Node("gw-1");
  node->Ping();
  auto pong = node->Receive(kWait);
  ASSERT_TRUE(pong.ok()) << pong.status();
  ASSERT_TRUE(pong->frame.has_pong());
  EXPECT_TRUE(pong->frame.pong().known());
  EXPECT_EQ(pong->frame.pong().epoch(), broker_.epoch);

  const uint64_t old_epoch = broker_.epoch;
  BrokerOptions same = broker_.SameEndpoints();
  broker_.process->Kill();
  Start(same);
  ASSERT_NE(broker_.epoch, old_epoch);

  // The DEALER reconnects by itself; ping until the new broker answers.
  const auto deadline = test_support::DeadlineIn(kWait);
  bool answered = false;
  while (!answered && test_support::Clock::now() < deadline) {
    node->Ping();
    auto received = node->Receive(milliseconds(200));
    if (!received.ok() || !received->frame.has_pong()) continue;
    if (received->frame.pong().epoch() != broker_.epoch) continue;  // a late answer of the old one
    EXPECT_FALSE(received->frame.pong().known());
    answered = true;
  }
  ASSERT_TRUE(answered);
  // Hello makes it known again.
  ASSERT_TRUE(node->Join("gw-1").ok());
  node->Ping();
  while (true) {
    auto received = node->Receive(kWait);
    ASSERT_TRUE(received.ok()) << received.status();
    if (!received->frame.has_pong()) continue;
    EXPECT_TRUE(received->frame.pong().known());
    break;
  }
}

TEST_F(BrokerTest, ForgetsSilentPeersAfterThreeHeartbeats) {
  WireNode node(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  const auto start = test_support::Clock::now();
  // 3 heartbeats = 900 ms: the Subscribe right after the Hello gets there
  // first even when a loaded machine holds this thread for a while.
  ASSERT_TRUE(node.Join("quiet-node", /*heartbeat_ms=*/300).ok());
  ASSERT_TRUE(node.Subscribe({RoomTopic("/chat", "a")}).ok());
  auto line = broker_.process->WaitForLine(
      std::regex("peer disconnected node=quiet-node .*reason=expired topics=1"), kWait);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_GE(test_support::Clock::now() - start, milliseconds(900));
  node.Ping();
  auto pong = node.Receive(kWait);
  ASSERT_TRUE(pong.ok()) << pong.status();
  ASSERT_TRUE(pong->frame.has_pong());
  EXPECT_FALSE(pong->frame.pong().known());
}

TEST_F(BrokerTest, PingsKeepAPeerAlive) {
  // Expiry would come after 1.5 s of silence (a pause a loaded machine
  // does not make between two pings); the test runs past that.
  WireNode node(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  ASSERT_TRUE(node.Join("chatty", /*heartbeat_ms=*/500).ok());
  const auto until = test_support::Clock::now() + milliseconds(2000);
  while (test_support::Clock::now() < until) {
    node.Ping();
    auto pong = node.Receive(kWait);
    ASSERT_TRUE(pong.ok()) << pong.status();
    ASSERT_TRUE(pong->frame.has_pong());
    ASSERT_TRUE(pong->frame.pong().known());
    // Pace the pings well inside the heartbeat (the broker answers at once).
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(broker_.process->CountLines(std::regex("node=chatty .*reason=expired")), 0);
}

TEST_F(BrokerTest, LogsPeerLifecycle) {
  auto node = Node("lifecycle-node");
  ASSERT_TRUE(
      broker_.process->WaitForLine(std::regex("peer connected node=lifecycle-node "), kWait).ok());
  node->Goodbye();
  ASSERT_TRUE(
      broker_.process
          ->WaitForLine(std::regex("peer disconnected node=lifecycle-node .*reason=goodbye"), kWait)
          .ok());
}

TEST_F(BrokerTest, RemovesAPeerWhoseConnectionIsGone) {
  auto node = Node("vanishing");
  ASSERT_TRUE(node->Subscribe({RoomTopic("/chat", "a")}).ok());
  node.reset();  // closes the DEALERs without Goodbye
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  // ROUTER_MANDATORY reports the identity unreachable once the disconnect
  // is processed; publish until the broker notices.
  const auto deadline = test_support::DeadlineIn(kWait);
  bool removed = false;
  while (!removed && test_support::Clock::now() < deadline) {
    publisher.Publish(RoomsEnvelope("/chat", {"a"}, "probe"));
    removed = broker_.process
                  ->WaitForLine(std::regex("peer disconnected node=vanishing .*reason=unreachable"),
                                milliseconds(50))
                  .ok();
  }
  EXPECT_TRUE(removed);
}

// A publisher speaking ZMTP 3.0 (NULL mechanism, DEALER) over a raw TCP
// socket, so that several envelopes reach the broker in ONE write: its I/O
// thread decodes them from one read and hands them over together, and the
// broker reads them in one burst, however loaded the machine is.
class OneWritePublisher {
 public:
  // Connects and completes the handshake; false when anything fails.
  bool Connect(const std::string& endpoint) {
    const size_t colon = endpoint.rfind(':');
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(std::stoi(endpoint.substr(colon + 1))));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      return false;
    }
    std::string greeting(64, '\0');  // signature, version 3.0, NULL, client, filler
    greeting[0] = '\xff';
    greeting[9] = '\x7f';
    greeting[10] = 3;
    greeting.replace(12, 4, "NULL");
    std::string ready =
        std::string("\x05READY\x0bSocket-Type", 18) + std::string("\0\0\0\x06", 4) + "DEALER";
    ready = std::string{'\x04', static_cast<char>(ready.size())} + ready;  // short command
    if (!Write(greeting) || !Read(64) || !Write(ready)) return false;
    // The broker's READY: a command frame, short or long.
    auto header = Read(2);
    if (!header || ((*header)[0] & 0x04) == 0) return false;
    if ((*header)[0] & 0x02) {
      auto rest = Read(7);  // a long size: 8 bytes, the first already read
      if (!rest) return false;
      uint64_t size = static_cast<uint8_t>((*header)[1]);
      for (char c : *rest) size = size << 8 | static_cast<uint8_t>(c);
      return Read(size).has_value();
    }
    return Read(static_cast<uint8_t>((*header)[1])).has_value();
  }
  // Sends every envelope (one frame each, under 256 bytes) in one write.
  bool PublishInOneWrite(const std::vector<v1::Envelope>& envelopes) {
    std::string bytes;
    for (const v1::Envelope& envelope : envelopes) {
      const std::string body = envelope.SerializeAsString();
      if (body.size() > 255) return false;
      bytes += std::string{'\0', static_cast<char>(body.size())} + body;
    }
    return Write(bytes);
  }
  ~OneWritePublisher() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  bool Write(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  std::optional<std::string> Read(size_t size) {
    std::string bytes(size, '\0');
    size_t have = 0;
    while (have < size) {
      const ssize_t n = ::recv(fd_, bytes.data() + have, size - have, 0);
      if (n <= 0) return std::nullopt;
      have += static_cast<size_t>(n);
    }
    return bytes;
  }

  int fd_ = -1;
};

TEST_F(BrokerTest, ABurstsDeliveriesToASubscriberArriveBatchedInOrder) {
  auto sub = Node("sub");
  ASSERT_TRUE(sub->Subscribe({RoomTopic("/chat", "batch")}).ok());
  OneWritePublisher publisher;
  ASSERT_TRUE(publisher.Connect(broker_.pub_endpoint));
  // Once this arrives the broker has attached the connection: what follows
  // is decoded as one read.
  ASSERT_TRUE(publisher.PublishInOneWrite({RoomsEnvelope("/chat", {"batch"}, "first")}));
  auto first = sub->ReceiveMessage(kWait);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 1u);
  // One burst of kMax + 2 envelopes: two messages, [identity][e0]...[e7]
  // and [identity][e8][e9], one delivery frame each.
  constexpr int kMax = wire::kMaxDeliveriesPerMessage;
  std::vector<v1::Envelope> envelopes;
  Events published;
  for (int i = 0; i < kMax + 2; ++i) {
    published.push_back("e" + std::to_string(i));
    envelopes.push_back(RoomsEnvelope("/chat", {"batch"}, published.back()));
  }
  ASSERT_TRUE(publisher.PublishInOneWrite(envelopes));
  Events events;
  std::vector<size_t> sizes;
  while (events.size() < published.size()) {
    auto message = sub->ReceiveMessage(kWait);
    ASSERT_TRUE(message.ok()) << message.status();
    sizes.push_back(message->size());
    for (const Received& frame : *message) events.push_back(frame.envelope.event());
  }
  EXPECT_EQ(events, published);
  EXPECT_EQ(sizes, (std::vector<size_t>{kMax, 2}));

  // A resume replays them the same way: batches of replayed frames, then
  // the Reply in a message of its own.
  auto resumer = Node("resumer");
  v1::SubscriberCommand resume;
  resume.set_request_id(5);
  v1::ResumePoint* point = resume.mutable_subscribe()->add_resume();
  *point->mutable_topic() = wire::ToProto(RoomTopic("/chat", "batch"));
  point->set_epoch(broker_.epoch);
  point->set_after_offset(0);
  resumer->Command(resume);
  published.insert(published.begin(), "first");
  events.clear();
  sizes.clear();
  while (events.size() < published.size()) {
    auto replayed = resumer->ReceiveMessage(kWait);
    ASSERT_TRUE(replayed.ok()) << replayed.status();
    sizes.push_back(replayed->size());
    for (const Received& frame : *replayed) {
      EXPECT_TRUE(frame.frame.delivery().replayed());
      events.push_back(frame.envelope.event());
    }
  }
  EXPECT_EQ(events, published);
  EXPECT_EQ(sizes, (std::vector<size_t>{kMax, 3}));
  auto reply = resumer->ReceiveMessage(kWait);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->size(), 1u);
  ASSERT_TRUE((*reply)[0].frame.has_reply());
  EXPECT_EQ((*reply)[0].frame.reply().request_id(), 5u);
  ASSERT_EQ((*reply)[0].frame.reply().resumed_size(), 1);
  EXPECT_EQ((*reply)[0].frame.reply().resumed(0).replayed(), published.size());
  EXPECT_FALSE((*reply)[0].frame.reply().resumed(0).truncated());
}

TEST_F(BrokerTest, AFullSubscriberLosesDeliveriesWithoutSlowingOthers) {
  BrokerOptions options;
  // 800 deliveries = 100 messages on the subscriber socket (up to 8
  // deliveries each): room for the reader's 25 per round whatever the
  // batching, and at most 800 x 16 KiB queued for the stalled peer, far
  // less than it is sent.
  options.extra_args = {"--hwm=800"};
  Start(options);
  auto stalled = Node("stalled", /*receive_hwm=*/10);
  auto reader = Node("reader");
  ASSERT_TRUE(stalled->Subscribe({RoomTopic("/chat", "a")}).ok());
  ASSERT_TRUE(reader->Subscribe({RoomTopic("/chat", "a")}).ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  v1::Envelope envelope = RoomsEnvelope("/chat", {"a"}, "bulk");
  envelope.set_args(std::string(size_t{16} * 1024, 'x'));
  const std::string bytes = envelope.SerializeAsString();
  // 48 MiB in batches the reader drains: the stalled peer's pipe (100
  // messages of up to 128 KiB), socket buffers and receive queue (10
  // messages) fill up long before the end.
  constexpr int kBatches = 120;
  constexpr int kBatch = 25;
  for (int batch = 0; batch < kBatches; ++batch) {
    for (int i = 0; i < kBatch; ++i) publisher.SendPub({bytes});
    for (int i = 0; i < kBatch; ++i) {
      auto received = reader->ReceiveDelivery(kWait);
      ASSERT_TRUE(received.ok()) << "batch " << batch << ": " << received.status();
    }
  }
  stalled->Goodbye();
  auto line = broker_.process->WaitForLine(
      std::regex("peer disconnected node=stalled .*dropped=([1-9][0-9]*)"), kWait);
  EXPECT_TRUE(line.ok()) << line.status();
  reader->Goodbye();
  line =
      broker_.process->WaitForLine(std::regex("peer disconnected node=reader .*dropped=0$"), kWait);
  EXPECT_TRUE(line.ok()) << line.status();
}

// --max-peer-queue-bytes bounds what a subscriber that stops reading makes
// the broker hold, in bytes, long before the high-water mark (here the
// default, 100000 deliveries: 1.6 GB of these envelopes); the reader of the
// same room loses nothing. The gauge of the largest peer queue stays within
// the bound at every scrape.
TEST_F(BrokerTest, AStalledSubscriberIsCutOffAtItsByteBudgetAndOthersLoseNothing) {
  BrokerOptions options;
  constexpr int64_t kBudget = 3000000;
  options.extra_args = {"--max-message-bytes=65536",
                        "--max-peer-queue-bytes=" + std::to_string(kBudget),
                        "--metrics-bind=127.0.0.1:0"};
  Start(options);
  const int metrics = broker_.metrics_port();
  ASSERT_NE(metrics, 0);
  auto stalled = Node("stalled", /*receive_hwm=*/10);
  auto reader = Node("reader");
  ASSERT_TRUE(stalled->Subscribe({RoomTopic("/chat", "a")}).ok());
  ASSERT_TRUE(reader->Subscribe({RoomTopic("/chat", "a")}).ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  v1::Envelope envelope = RoomsEnvelope("/chat", {"a"}, "bulk");
  envelope.set_args(std::string(size_t{16} * 1024, 'x'));
  const std::string bytes = envelope.SerializeAsString();
  // 48 MiB in batches the reader drains; the stalled peer's socket buffers
  // take a few MiB, its queue at the broker 3 MB, the rest is dropped.
  constexpr int kBatches = 120;
  constexpr int kBatch = 25;
  double largest = 0;
  for (int batch = 0; batch < kBatches; ++batch) {
    for (int i = 0; i < kBatch; ++i) publisher.SendPub({bytes});
    for (int i = 0; i < kBatch; ++i) {
      auto received = reader->ReceiveDelivery(kWait);
      ASSERT_TRUE(received.ok()) << "batch " << batch << ": " << received.status();
    }
    if (batch % 10 == 9) {
      const auto queued = test_support::PrometheusSample(test_support::HttpGet(metrics, "/metrics"),
                                                         "roomq_broker_peer_queued_bytes_max");
      ASSERT_TRUE(queued.has_value());
      largest = std::max(largest, *queued);
      EXPECT_LE(*queued, kBudget) << "batch " << batch;
    }
  }
  EXPECT_GT(largest, 0);  // the stalled peer's queue was seen holding something
  const std::string body = test_support::HttpGet(metrics, "/metrics");
  EXPECT_GT(test_support::PrometheusSample(
                body, "roomq_broker_dropped_total{reason=\"peer_queue_bytes\"}")
                .value_or(0),
            0)
      << body;
  EXPECT_EQ(test_support::PrometheusSample(body, "roomq_broker_dropped_total{reason=\"hwm\"}"), 0);
  stalled->Goodbye();
  auto line = broker_.process->WaitForLine(
      std::regex("peer disconnected node=stalled .*dropped=([1-9][0-9]*)"), kWait);
  EXPECT_TRUE(line.ok()) << line.status();
  reader->Goodbye();
  line =
      broker_.process->WaitForLine(std::regex("peer disconnected node=reader .*dropped=0$"), kWait);
  EXPECT_TRUE(line.ok()) << line.status();
}

// A peer that sends a message over --max-message-bytes is disconnected by
// ZeroMQ before the broker sees anything of it: nothing is routed, no
// receipt comes, and the peer's DEALER reconnects by itself and goes on.
TEST_F(BrokerTest, APublisherSendingMoreThanMaxMessageBytesIsDisconnectedAndItsMessageDropped) {
  BrokerOptions options;
  options.extra_args = {"--max-message-bytes=65536"};
  Start(options);
  auto subscriber = Node("sub");
  ASSERT_TRUE(subscriber->Subscribe({RoomTopic("/chat", "a")}).ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  // The publisher's connection events, to see the cut and the reconnection.
  const std::string monitor_endpoint = "inproc://oversize-publisher-monitor";
  ASSERT_EQ(zmq_socket_monitor(publisher.pub().handle(), monitor_endpoint.c_str(),
                               ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED),
            0);
  zmq::socket_t monitor(context_, zmq::socket_type::pair);
  monitor.connect(monitor_endpoint);
  monitor.set(zmq::sockopt::rcvtimeo, static_cast<int>(kWait.count()));
  auto next_event = [&]() -> int {
    zmq::message_t event;
    zmq::message_t address;
    if (!monitor.recv(event) || !monitor.recv(address) || event.size() < 2) return -1;
    uint16_t id;
    std::memcpy(&id, event.data(), sizeof id);
    return id;
  };
  // A confirmed publish proves the connection is up before the big one.
  v1::Envelope small = RoomsEnvelope("/chat", {"a"}, "before");
  small.set_origin("pub");
  small.set_message_id(1);
  small.set_confirm(true);
  publisher.Publish(small);
  ASSERT_TRUE(publisher.ReceiveReceipt(kWait).ok());

  v1::Envelope huge = RoomsEnvelope("/chat", {"a"}, "huge");
  huge.set_args(std::string(70000, 'x'));
  huge.set_origin("pub");
  huge.set_message_id(2);
  huge.set_confirm(true);
  publisher.Publish(huge);
  // The monitor may or may not have seen the first connection come up (it
  // started after the connect); then the cut, then the new connection.
  while (true) {
    const int event = next_event();
    ASSERT_NE(event, -1) << "no DISCONNECTED event";
    if (event == ZMQ_EVENT_DISCONNECTED) break;
  }
  EXPECT_EQ(next_event(), ZMQ_EVENT_CONNECTED);  // the DEALER reconnects by itself

  small.set_event("after");
  small.set_message_id(3);
  publisher.Publish(small);
  auto receipt = publisher.ReceiveReceipt(kWait);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->message_id(), 3u);  // none for the huge one
  auto first = subscriber->ReceiveDelivery(kWait);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->envelope.event(), "before");
  auto second = subscriber->ReceiveDelivery(kWait);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->envelope.event(), "after");
  zmq_socket_monitor(publisher.pub().handle(), nullptr, 0);
}

TEST_F(BrokerTest, ExitsCleanlyOnSigterm) {
  const std::string stats = StopAndGetFinalStats();
  EXPECT_NE(stats.find("routed=0"), std::string::npos) << stats;
}

// Regression (an orphaned broker was seen outliving SIGTERM by seconds):
// deliveries queued for a subscriber that stopped reading, and a publisher
// still flooding, must not hold the exit back.
TEST_F(BrokerTest, ExitsWithinTwoSecondsOfSigtermWithDeliveriesQueuedForAStalledPeer) {
  auto stalled = Node("stalled", /*receive_hwm=*/10);
  ASSERT_TRUE(stalled->Subscribe({RoomTopic("/chat", "a")}).ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  publisher.pub().set(zmq::sockopt::sndtimeo, 0);
  v1::Envelope envelope = RoomsEnvelope("/chat", {"a"}, "bulk");
  envelope.set_args(std::string(size_t{64} * 1024, 'x'));
  const std::string bytes = envelope.SerializeAsString();
  auto flood = [&](int count) {
    for (int i = 0; i < count; ++i) {
      zmq::message_t message(bytes.data(), bytes.size());
      if (!publisher.pub().send(message, zmq::send_flags::dontwait)) break;  // full: enough
    }
  };
  // Far more than the socket buffers hold: the broker's queue to the stalled
  // peer ends up with thousands of 64 KiB deliveries in it.
  flood(3000);
  ASSERT_TRUE(stalled->ReceiveDelivery(kWait).ok());  // routed; from here on it reads nothing
  std::atomic<bool> stop{false};
  std::thread flooder([&] {
    while (!stop.load()) flood(100);
  });
  const auto signalled = std::chrono::steady_clock::now();
  ASSERT_TRUE(broker_.process->Signal(SIGTERM).ok());
  auto exit = broker_.process->Wait(milliseconds(2000));
  stop = true;
  flooder.join();
  ASSERT_TRUE(exit.ok()) << "still running 2 s after SIGTERM";
  EXPECT_TRUE(exit->exited_ok()) << exit->ToString();
  const auto took = std::chrono::steady_clock::now() - signalled;
  EXPECT_LT(took, milliseconds(2000));
  auto line =
      broker_.process->WaitForLine(std::regex("roomq-broker stopped: routed=([1-9][0-9]*)"), kWait);
  EXPECT_TRUE(line.ok()) << line.status();
}

// Regression: a broker whose log pipe nobody reads (an orphan whose reader
// is gone while the pipe is still held open) blocked forever in a stdout
// write and never acted on SIGTERM. Shutdown is bounded: exit 0 within 2 s.
TEST(BrokerBinary, ExitsWithinTwoSecondsOfSigtermWhileItsLogPipeIsFull) {
#ifdef ABSL_HAVE_THREAD_SANITIZER
  GTEST_SKIP() << "ThreadSanitizer runs a signal's handler only once the thread is out of the "
                  "system call it is blocked in, and this test is about such a call";
#endif
  int log_pipe[2];
  ASSERT_EQ(::pipe2(log_pipe, O_CLOEXEC), 0);
  const std::string pub = "tcp://127.0.0.1:" + std::to_string(test_support::FreeLoopbackPort());
  const std::string sub = "tcp://127.0.0.1:" + std::to_string(test_support::FreeLoopbackPort());
  const std::string binary = test_support::BinaryPath("roomq-broker");
  const std::vector<std::string> args = {binary, "--pub-bind=" + pub, "--sub-bind=" + sub,
                                         "--stats-interval-ms=1"};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(log_pipe[1], STDOUT_FILENO);  // dup2 clears CLOEXEC on the copy
    const int dev_null = ::open("/dev/null", O_WRONLY);
    ::dup2(dev_null, STDERR_FILENO);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(log_pipe[1]);
  // Traffic changes the counters, so a stats line is logged every
  // millisecond, until the pipe (which this test never reads) is full.
  zmq::context_t context;
  WireNode node(context, pub, sub);
  const absl::Status joined = node.Join("reader");
  // Full = the buffered amount stops growing near the pipe's capacity while
  // the counters keep changing: the broker is blocked in a write.
  const int capacity = ::fcntl(log_pipe[0], F_GETPIPE_SZ);
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  int buffered = 0;
  int unchanged = 0;
  while (std::chrono::steady_clock::now() < deadline && unchanged < 200) {
    node.Publish(RoomsEnvelope("/chat", {"a"}, "tick"));
    std::this_thread::sleep_for(milliseconds(1));
    int now = 0;
    if (::ioctl(log_pipe[0], FIONREAD, &now) != 0) break;
    unchanged = now == buffered && now > capacity - 8192 ? unchanged + 1 : 0;
    buffered = now;
  }
  EXPECT_TRUE(joined.ok()) << joined;
  ASSERT_GE(unchanged, 200) << "the log pipe never filled: " << buffered << " of " << capacity;

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  pid_t reaped = 0;
  test_support::WaitUntil(
      [&] {
        if (reaped == 0) reaped = ::waitpid(pid, &status, WNOHANG);
        return reaped != 0;
      },
      milliseconds(2000), milliseconds(10));
  if (reaped == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ::close(log_pipe[0]);
  ASSERT_EQ(reaped, pid) << "still running 2 s after SIGTERM";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

TEST_F(BrokerTest, ExitsCleanlyOnSigint) {
  ASSERT_TRUE(broker_.process->Signal(SIGINT).ok());
  auto exit = broker_.process->Wait(kWait);
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->exited_ok()) << exit->ToString();
}

TEST(BrokerBinary, RejectsABadFlagWithUsage) {
  auto broker = ChildProcess::Start(test_support::BinaryPath("roomq-broker"), {"--no-such-flag"});
  ASSERT_TRUE(broker.ok()) << broker.status();
  auto exit = (*broker)->Wait(kWait);
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->exit_code, 2);
  EXPECT_TRUE((*broker)->WaitForLine(std::regex("unknown flag --no-such-flag"), kWait).ok());
  EXPECT_TRUE((*broker)->WaitForLine(std::regex("--pub-bind"), kWait).ok());

  broker = ChildProcess::Start(test_support::BinaryPath("roomq-broker"), {"--hwm=lots"});
  ASSERT_TRUE(broker.ok());
  exit = (*broker)->Wait(kWait);
  ASSERT_TRUE(exit.ok());
  EXPECT_EQ(exit->exit_code, 2);
}

// The byte budget must hold the largest delivery: a message of
// --max-message-bytes plus up to 2 MiB of offsets.
TEST(BrokerBinary, RefusesAPeerQueueBudgetTooSmallForTheLargestMessage) {
  auto broker =
      ChildProcess::Start(test_support::BinaryPath("roomq-broker"),
                          {"--pub-bind=tcp://127.0.0.1:*", "--sub-bind=tcp://127.0.0.1:*",
                           "--max-message-bytes=4194304", "--max-peer-queue-bytes=5000000"});
  ASSERT_TRUE(broker.ok()) << broker.status();
  auto exit = (*broker)->Wait(kWait);
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->exit_code, 2);
  EXPECT_TRUE(
      (*broker)->WaitForLine(std::regex("max peer queue bytes .* must be at least"), kWait).ok());
}

TEST(BrokerBinary, HelpListsItsOwnFlags) {
  auto broker = ChildProcess::Start(test_support::BinaryPath("roomq-broker"), {"--help"});
  ASSERT_TRUE(broker.ok()) << broker.status();
  auto exit = (*broker)->Wait(kWait);
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->exit_code, 0);
  for (const char* flag : {"--pub-bind", "--sub-bind", "--heartbeat-ms", "--hwm", "--help"}) {
    EXPECT_EQ((*broker)->CountLines(std::regex(std::string("^  ") + flag + "$")), 1) << flag;
  }
  // The two log flags every roomq binary has (proto/base/log_options.h),
  // and no library's own.
  EXPECT_EQ((*broker)->CountLines(std::regex("--log")), 2);
  EXPECT_EQ((*broker)->CountLines(std::regex("^  --log-(format|level)$")), 2);
}

TEST(BrokerBinary, LogsOneJsonObjectPerLineWithLogFormatJson) {
  auto broker = ChildProcess::Start(
      test_support::BinaryPath("roomq-broker"),
      {"--pub-bind=tcp://127.0.0.1:*", "--sub-bind=tcp://127.0.0.1:*", "--log-format=json"});
  ASSERT_TRUE(broker.ok()) << broker.status();
  auto line = (*broker)->WaitForLine(std::regex("listening pub="), kWait);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(std::regex_match(
      *line, std::regex(R"(\{"time":"[0-9-]+T[0-9:.]+Z","level":"info","msg":"roomq-broker )"
                        R"(listening pub=tcp://127\.0\.0\.1:[0-9]+ sub=[^"]*"\})")))
      << *line;
}

TEST(BrokerBinary, FailsWhenTheEndpointIsTaken) {
  auto first = StartBroker();
  ASSERT_TRUE(first.ok()) << first.status();
  auto second =
      ChildProcess::Start(test_support::BinaryPath("roomq-broker"),
                          {"--pub-bind=" + first->pub_endpoint, "--sub-bind=tcp://127.0.0.1:*"});
  ASSERT_TRUE(second.ok());
  auto exit = (*second)->Wait(kWait);
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->exit_code, 1);
  EXPECT_TRUE((*second)->WaitForLine(std::regex("--pub-bind .*in use"), kWait).ok());
}

}  // namespace
}  // namespace roomq::broker_test
