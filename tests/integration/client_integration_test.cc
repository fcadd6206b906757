// roomq::Client against the real roomq-broker binary.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "proto/node/link.h"
#include "roomq/client.h"
#include "tests/integration/inbox.h"
#include "tests/support/broker_process.h"
#include "tests/support/wait_until.h"

namespace roomq {
namespace {

using std::chrono::milliseconds;
using testing::Inbox;
using testing::Latch;

class ClientIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = test_support::StartBroker();
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
  }

  std::unique_ptr<Client> Connect(std::function<void(bool)> on_broker_state = nullptr) {
    ClientOptions options;
    options.broker_pub = broker_.pub_endpoint;
    options.broker_sub = broker_.sub_endpoint;
    // A silent-broker reconnect (3 heartbeats) must not happen just because
    // a loaded machine held the client's thread; a kill is seen at once
    // through the TCP disconnect anyway.
    options.heartbeat = milliseconds(1000);
    options.receipt_timeout = milliseconds(2000);
    options.on_broker_state = std::move(on_broker_state);
    auto client = Client::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  static void ExpectReady(const Subscription& subscription) {
    ASSERT_EQ(subscription.ready().wait_for(std::chrono::seconds(5)), std::future_status::ready);
    ASSERT_TRUE(subscription.ready().get().ok()) << subscription.ready().get();
  }

  // Emits with a receipt and waits for it.
  static absl::Status EmitConfirmed(const BroadcastOperator& target, std::string_view event,
                                    const Args& args) {
    Latch<absl::Status> receipt;
    absl::Status status = target.Emit(event, args, receipt.Callback());
    if (!status.ok()) return status;
    if (!receipt.WaitFor(1, milliseconds(5000))) return absl::DeadlineExceededError("no receipt");
    return receipt.values()[0];
  }

  // A raw node::Link on the test broker, standing in for a gateway or a
  // plain subscriber; every delivered envelope goes to `on_envelope`.
  absl::StatusOr<std::unique_ptr<node::Link>> RawLink(
      zmq::context_t& context, std::function<void(const v1::Envelope&)> on_envelope) {
    node::LinkOptions options;
    options.pub_endpoint = broker_.pub_endpoint;
    options.sub_endpoint = broker_.sub_endpoint;
    options.node_prefix = "gw";
    return node::Link::Create(
        context, options,
        {[on_envelope = std::move(on_envelope)](node::Delivery& d) { on_envelope(d.envelope); },
         nullptr, nullptr});
  }

  // Subscribes a raw link to `topic` and polls it until the broker confirmed.
  static void SubscribeRaw(node::Link& link, const wire::TopicRef& topic) {
    bool subscribed = false;
    link.Subscribe(topic, [&](const absl::Status& status) { subscribed = status.ok(); });
    ASSERT_TRUE(test_support::WaitUntil(
        [&] { return link.Poll(milliseconds(10)).ok() && subscribed; }, milliseconds(5000)));
  }

  // A raw link's socket records, as a gateway sends them: each (id, room)
  // in /chat, in its own room and `room` (none when ""), from 10.0.0.1:5
  // with socket.data {"n":1}.
  static void SendRecords(node::Link& link,
                          const std::vector<std::pair<std::string, std::string>>& sockets) {
    v1::Sockets records;
    for (const auto& [id, room] : sockets) {
      v1::Session& session = *records.add_updates()->mutable_open()->mutable_session();
      session.set_namespace_("/chat");
      session.set_socket_id(id);
      session.add_rooms(id);
      if (!room.empty()) session.add_rooms(room);
      session.set_address("10.0.0.1:5");
      session.set_data(R"({"n":1})");
    }
    link.SendSockets(records);
  }

  // Waits until the broker counts `count` sockets in /chat `room`: the
  // records went on the gateway's connection, the query on the client's.
  static void AwaitCount(Client& client, const std::string& room, uint64_t count) {
    ASSERT_TRUE(test_support::WaitUntil(
        [&] {
          Latch<absl::StatusOr<uint64_t>> counted;
          EXPECT_TRUE(client.Of("/chat").In(room).CountSockets(counted.Callback()).ok());
          return counted.WaitFor(1, milliseconds(5000)) && counted.values()[0].ok() &&
                 *counted.values()[0] == count;
        },
        milliseconds(5000)));
  }

  test_support::BrokerProcess broker_;
};

TEST_F(ClientIntegrationTest, RoomPublishReachesSubscriberWithArgsAndAttachments) {
  auto subscriber = Connect();
  auto publisher = Connect();
  Inbox inbox;
  Subscription sub = subscriber->Of("/chat").Subscribe({"general"}, inbox.Handler());
  ExpectReady(sub);
  ASSERT_TRUE(EmitConfirmed(publisher->Of("/chat").To("general"), "chat message",
                            Args().Json(R"({"text":"hi"})").Int(2).Binary("\x01\x02"))
                  .ok());
  ASSERT_TRUE(inbox.WaitFor(1));
  const Message message = inbox.messages()[0];
  EXPECT_EQ(message.ns, "/chat");
  EXPECT_EQ(message.rooms, std::vector<std::string>{"general"});
  EXPECT_EQ(message.event, "chat message");
  EXPECT_EQ(message.args_json, R"([{"text":"hi"},2,{"_placeholder":true,"num":0}])");
  EXPECT_EQ(message.attachments, std::vector<std::string>{"\x01\x02"});
  EXPECT_EQ(message.origin, publisher->node_id());
}

TEST_F(ClientIntegrationTest, RoutingIsByExactTopic) {
  auto subscriber = Connect();
  auto publisher = Connect();
  Inbox inbox;
  Subscription sub = subscriber->Of("/chat").Subscribe({"a"}, inbox.Handler());
  ExpectReady(sub);
  ASSERT_TRUE(EmitConfirmed(publisher->Of("/chat").To("ab"), "wrong-room", Args()).ok());
  ASSERT_TRUE(EmitConfirmed(publisher->Of("/chatx").To("a"), "wrong-namespace", Args()).ok());
  ASSERT_TRUE(EmitConfirmed(publisher->Of("/cha").To("ta"), "wrong-split", Args()).ok());
  ASSERT_TRUE(EmitConfirmed(publisher->Of("/chat").To("a"), "right", Args()).ok());
  ASSERT_TRUE(inbox.WaitFor(1));
  // Everything was published before "right" on the same connection, so
  // anything misrouted would have arrived first; give stragglers a moment.
  EXPECT_FALSE(inbox.WaitFor(2, milliseconds(200)));
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox.messages()[0].event, "right");
}

TEST_F(ClientIntegrationTest, NamespaceWideReachesEverySubscriberOfThatNamespaceOnly) {
  auto subscriber = Connect();
  auto publisher = Connect();
  Inbox room_inbox, namespace_inbox, other_inbox;
  Subscription room = subscriber->Of("/chat").Subscribe({"general"}, room_inbox.Handler());
  Subscription whole = subscriber->Of("/chat").Subscribe({}, namespace_inbox.Handler());
  Subscription other = subscriber->Of("/other").Subscribe({}, other_inbox.Handler());
  ExpectReady(room);
  ExpectReady(whole);
  ExpectReady(other);
  ASSERT_TRUE(EmitConfirmed(publisher->Of("/chat"), "news", Args().String("all")).ok());
  ASSERT_TRUE(room_inbox.WaitFor(1));
  ASSERT_TRUE(namespace_inbox.WaitFor(1));
  EXPECT_TRUE(room_inbox.messages()[0].rooms.empty());
  // A room publish does not reach the namespace-only subscription.
  ASSERT_TRUE(EmitConfirmed(publisher->Of("/chat").To("general"), "room-only", Args()).ok());
  ASSERT_TRUE(room_inbox.WaitFor(2));
  EXPECT_FALSE(namespace_inbox.WaitFor(2, milliseconds(200)));
  EXPECT_EQ(other_inbox.size(), 0u);
}

TEST_F(ClientIntegrationTest, MultiRoomEventArrivesAtMostOnce) {
  auto subscriber = Connect();
  auto publisher = Connect();
  Inbox both, only_b;
  Subscription sub_both = subscriber->Of("/chat").Subscribe({"a", "b"}, both.Handler());
  Subscription sub_b = subscriber->Of("/chat").Subscribe({"b"}, only_b.Handler());
  ExpectReady(sub_both);
  ExpectReady(sub_b);

  // A bare Link subscribed to both topics: the broker itself must deliver once.
  zmq::context_t context;
  std::vector<v1::Envelope> raw;
  auto link = RawLink(context, [&](const v1::Envelope& envelope) { raw.push_back(envelope); });
  ASSERT_TRUE(link.ok());
  int confirmed = 0;
  (*link)->Subscribe(wire::RoomTopic("/chat", "a"),
                     [&](const absl::Status& s) { confirmed += s.ok(); });
  (*link)->Subscribe(wire::RoomTopic("/chat", "b"),
                     [&](const absl::Status& s) { confirmed += s.ok(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (confirmed < 2 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*link)->Poll(milliseconds(10)).ok());
  }
  ASSERT_EQ(confirmed, 2);

  ASSERT_TRUE(EmitConfirmed(publisher->Of("/chat").To({"a", "b"}), "twice-targeted", Args()).ok());
  ASSERT_TRUE(EmitConfirmed(publisher->Of("/chat").To("b"), "marker", Args()).ok());
  ASSERT_TRUE(both.WaitFor(2));
  ASSERT_TRUE(only_b.WaitFor(2));
  EXPECT_EQ(both.size(), 2u);
  EXPECT_EQ(both.messages()[0].event, "twice-targeted");
  EXPECT_EQ(both.messages()[0].rooms, (std::vector<std::string>{"a", "b"}));
  while (raw.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*link)->Poll(milliseconds(10)).ok());
  }
  ASSERT_EQ(raw.size(), 2u);
  EXPECT_EQ(raw[0].event(), "twice-targeted");
  EXPECT_EQ(raw[1].event(), "marker");
}

TEST_F(ClientIntegrationTest, ExceptRoomsAreCarriedAndSkipMembers) {
  auto subscriber = Connect();
  auto publisher = Connect();
  Inbox plain, muted;
  Subscription sub_plain = subscriber->Of("/chat").Subscribe({"general"}, plain.Handler());
  Subscription sub_muted = subscriber->Of("/chat").Subscribe({"general", "muted"}, muted.Handler());
  ExpectReady(sub_plain);
  ExpectReady(sub_muted);
  ASSERT_TRUE(EmitConfirmed(publisher->Of("/chat").To("general").Except("muted").ExceptSocket("s1"),
                            "filtered", Args())
                  .ok());
  ASSERT_TRUE(EmitConfirmed(publisher->Of("/chat").To("general"), "marker", Args()).ok());
  ASSERT_TRUE(plain.WaitFor(2));
  ASSERT_TRUE(muted.WaitFor(1));
  const Message filtered = plain.messages()[0];
  EXPECT_EQ(filtered.event, "filtered");
  EXPECT_EQ(filtered.except_rooms, std::vector<std::string>{"muted"});
  EXPECT_EQ(filtered.except_socket, "s1");
  EXPECT_FALSE(muted.WaitFor(2, milliseconds(200)));
  EXPECT_EQ(muted.messages()[0].event, "marker");
}

TEST_F(ClientIntegrationTest, CancelledSubscriptionStopsReceiving) {
  auto subscriber = Connect();
  auto publisher = Connect();
  Inbox kept, cancelled;
  Subscription keep = subscriber->Of("/chat").Subscribe({"r"}, kept.Handler());
  {
    Subscription gone = subscriber->Of("/chat").Subscribe({"r"}, cancelled.Handler());
    ExpectReady(gone);
  }
  ExpectReady(keep);
  ASSERT_TRUE(EmitConfirmed(publisher->Of("/chat").To("r"), "after-cancel", Args()).ok());
  ASSERT_TRUE(kept.WaitFor(1));
  EXPECT_EQ(cancelled.size(), 0u);
}

TEST_F(ClientIntegrationTest, NoHandlerCallAfterCancelReturnsDuringAFlood) {
  auto subscriber = Connect();
  auto publisher = Connect();
  std::atomic<int> calls{0};
  Subscription sub = subscriber->Of("/flood").Subscribe({"r"}, [&](const Message&) { ++calls; });
  ExpectReady(sub);
  std::atomic<bool> stop{false};
  std::thread flood([&] {
    while (!stop) (void)publisher->Of("/flood").To("r").Emit("x");
  });
  test_support::WaitUntil([&] { return calls.load() >= 100; }, std::chrono::seconds(5),
                          milliseconds(1));
  ASSERT_GE(calls.load(), 100);
  sub.Cancel();
  const int at_cancel = calls.load();
  std::this_thread::sleep_for(milliseconds(100));
  stop = true;
  flood.join();
  EXPECT_EQ(calls.load(), at_cancel);
  EXPECT_FALSE(sub.active());
}

TEST_F(ClientIntegrationTest, SubscriberSurvivesBrokerKillAndRestart) {
  Latch<bool> states;
  auto subscriber = Connect(states.Callback());
  Inbox inbox;
  Subscription sub = subscriber->Of("/chat").Subscribe({"general"}, inbox.Handler());
  ExpectReady(sub);
  {
    auto publisher = Connect();
    ASSERT_TRUE(EmitConfirmed(publisher->Of("/chat").To("general"), "before", Args()).ok());
    ASSERT_TRUE(inbox.WaitFor(1));
  }

  broker_.process->Kill();
  auto restarted = test_support::StartBroker(broker_.SameEndpoints());
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ASSERT_NE(restarted->epoch, broker_.epoch);
  broker_ = std::move(*restarted);

  // The subscriber resubscribes by itself. Publish until one gets through
  // (the first may race the resubscription), then require delivery.
  auto publisher = Connect();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  bool delivered = false;
  for (int i = 0; !delivered && std::chrono::steady_clock::now() < deadline; ++i) {
    (void)EmitConfirmed(publisher->Of("/chat").To("general"), "after", Args().Int(i));
    delivered = inbox.WaitFor(2, milliseconds(200));
  }
  ASSERT_TRUE(delivered);
  EXPECT_EQ(inbox.messages()[1].event, "after");
  // It saw the outage and the recovery.
  ASSERT_TRUE(states.WaitFor(3));
  const auto seen = states.values();
  EXPECT_EQ(seen[0], true);
  EXPECT_EQ(seen[1], false);
  EXPECT_EQ(seen[2], true);
}

TEST_F(ClientIntegrationTest, EmitWithAckTimesOutWithoutAnswer) {
  auto client = Connect();
  Latch<absl::StatusOr<Message>> answer;
  ASSERT_TRUE(client->Of("/")
                  .To("nobody")
                  .EmitWithAck("ping", Args(), answer.Callback(), milliseconds(300))
                  .ok());
  ASSERT_TRUE(answer.WaitFor(1));
  EXPECT_EQ(answer.values()[0].status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(ClientIntegrationTest, EmitWithAckNeedsOneSocket) {
  auto client = Connect();
  EXPECT_EQ(client->Of("/").EmitWithAck("ev", Args(), [](const absl::StatusOr<Message>&) {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client->Of("/")
                .To({"a", "b"})
                .EmitWithAck("ev", Args(), [](const absl::StatusOr<Message>&) {})
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientIntegrationTest, EmitWithAckGetsTheSocketsAnswerThroughTheNodeTopic) {
  // The answer comes on the client's node topic: wait until the broker has
  // answered the client (its Hello and whole subscription set, node topic
  // included, went first), or under load the answer could beat the
  // subscription and be unrouted.
  Latch<bool> broker_up;
  auto client = Connect(broker_up.Callback());
  ASSERT_TRUE(broker_up.WaitFor(1, milliseconds(5000)));
  // A bare Link plays the gateway holding socket "sid-1".
  zmq::context_t context;
  std::vector<v1::Envelope> received;
  auto gateway =
      RawLink(context, [&](const v1::Envelope& envelope) { received.push_back(envelope); });
  ASSERT_TRUE(gateway.ok());
  std::optional<absl::Status> subscribed;
  (*gateway)->Subscribe(wire::RoomTopic("/", "sid-1"),
                        [&](const absl::Status& s) { subscribed = s; });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!subscribed && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*gateway)->Poll(milliseconds(10)).ok());
  }
  ASSERT_TRUE(subscribed.has_value() && subscribed->ok());

  Latch<absl::StatusOr<Message>> answer;
  ASSERT_TRUE(client->Of("/")
                  .To("sid-1")
                  .EmitWithAck("question", Args().Int(41), answer.Callback(), milliseconds(4000))
                  .ok());
  while (received.empty() && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*gateway)->Poll(milliseconds(10)).ok());
  }
  ASSERT_EQ(received.size(), 1u);
  const v1::Envelope& question = received[0];
  EXPECT_EQ(question.kind(), v1::KIND_EVENT);
  ASSERT_TRUE(question.has_ack_id());
  EXPECT_EQ(question.reply_to(), client->node_id());

  v1::Envelope reply;
  reply.set_kind(v1::KIND_ACK);
  reply.set_channel(v1::CHANNEL_NODE);
  reply.set_node(question.reply_to());
  reply.set_ack_id(question.ack_id());
  reply.set_socket_id("sid-1");
  reply.set_args("[42]");
  ASSERT_TRUE((*gateway)->Publish(reply).ok());
  while (!answer.WaitFor(1, milliseconds(10)) && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*gateway)->Poll(milliseconds(10)).ok());
  }
  ASSERT_TRUE(answer.WaitFor(1, milliseconds(0)));
  ASSERT_TRUE(answer.values()[0].ok()) << answer.values()[0].status();
  EXPECT_EQ(answer.values()[0]->args_json, "[42]");
  EXPECT_EQ(answer.values()[0]->socket_id, "sid-1");
}

TEST_F(ClientIntegrationTest, MembershipCommandsReachTheGatewayHoldingTheSockets) {
  auto client = Connect();
  zmq::context_t context;
  std::vector<v1::Envelope> received;
  auto gateway =
      RawLink(context, [&](const v1::Envelope& envelope) { received.push_back(envelope); });
  ASSERT_TRUE(gateway.ok());
  int confirmed = 0;
  (*gateway)->Subscribe(wire::RoomTopic("/chat", "general"),
                        [&](const absl::Status& s) { confirmed += s.ok(); });
  (*gateway)->Subscribe(wire::RoomTopic("/chat", "sid-9"),
                        [&](const absl::Status& s) { confirmed += s.ok(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (confirmed < 2 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*gateway)->Poll(milliseconds(10)).ok());
  }
  ASSERT_EQ(confirmed, 2);

  ASSERT_TRUE(client->Of("/chat").In("general").Except("muted").SocketsJoin("vip").ok());
  ASSERT_TRUE(client->Of("/chat").In("general").SocketsLeave({"a", "b"}).ok());
  ASSERT_TRUE(client->Of("/chat").In("sid-9").DisconnectSockets("kicked").ok());
  ASSERT_TRUE(client->Of("/chat").To("sid-9").Emit("direct").ok());
  while (received.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*gateway)->Poll(milliseconds(10)).ok());
  }
  ASSERT_EQ(received.size(), 4u);
  EXPECT_EQ(received[0].kind(), v1::KIND_JOIN);
  EXPECT_EQ(received[0].rooms(0), "general");
  EXPECT_EQ(received[0].except_rooms(0), "muted");
  ASSERT_EQ(received[0].membership_rooms_size(), 1);
  EXPECT_EQ(received[0].membership_rooms(0), "vip");
  EXPECT_EQ(received[1].kind(), v1::KIND_LEAVE);
  EXPECT_EQ(received[1].membership_rooms_size(), 2);
  EXPECT_EQ(received[2].kind(), v1::KIND_DISCONNECT);
  EXPECT_EQ(received[2].reason(), "kicked");
  EXPECT_EQ(received[3].kind(), v1::KIND_EVENT);
  EXPECT_EQ(received[3].event(), "direct");
  EXPECT_EQ(received[3].args(), "[]");
}

TEST_F(ClientIntegrationTest, ServiceHandlersSeeLifecycleAndAnswerAcks) {
  auto service = Connect();
  Latch<std::string> connected, disconnected;
  Latch<absl::Status> acked;
  service->Of("/svc").OnConnection([&](RemoteSocket& socket) {
    connected.Callback()(socket.id() + " " + socket.auth() + " " + socket.gateway());
    (void)socket.Join("joined-by-service");
  });
  service->Of("/svc").OnDisconnection([&](RemoteSocket& socket) {
    disconnected.Callback()(socket.id() + " " + socket.reason() + " " + socket.rooms().at(0));
  });
  service->Of("/svc").On(
      "question", [&](RemoteSocket& socket, const Message& message, const Ack& ack) {
        EXPECT_EQ(message.args_json, "[1]");
        EXPECT_TRUE(ack.requested());
        acked.Callback()(ack(Args().Int(2)));
        EXPECT_EQ(ack(Args().Int(3)).code(), absl::StatusCode::kFailedPrecondition);  // once only
      });
  ASSERT_TRUE(service->Of("/svc").Listening().get().ok());

  zmq::context_t context;
  std::vector<v1::Envelope> received;
  auto gateway =
      RawLink(context, [&](const v1::Envelope& envelope) { received.push_back(envelope); });
  ASSERT_TRUE(gateway.ok());
  std::optional<absl::Status> subscribed;
  (*gateway)->Subscribe(wire::RoomTopic("/svc", "s1"),
                        [&](const absl::Status& s) { subscribed = s; });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!subscribed && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*gateway)->Poll(milliseconds(10)).ok());
  }
  auto publish = [&](v1::Kind kind) {
    v1::Envelope envelope;
    envelope.set_kind(kind);
    envelope.set_channel(v1::CHANNEL_SERVICE);
    envelope.set_namespace_("/svc");
    envelope.set_socket_id("s1");
    envelope.set_reply_to((*gateway)->node_id());
    return envelope;
  };
  v1::Envelope connection = publish(v1::KIND_CONNECTION);
  connection.set_auth(R"({"u":1})");
  ASSERT_TRUE((*gateway)->Publish(connection).ok());
  v1::Envelope question = publish(v1::KIND_CLIENT_EVENT);
  question.set_event("question");
  question.set_args("[1]");
  question.set_ack_id(5);
  ASSERT_TRUE((*gateway)->Publish(question).ok());
  v1::Envelope gone = publish(v1::KIND_DISCONNECTION);
  gone.set_reason("client namespace disconnect");
  gone.add_membership_rooms("s1");
  ASSERT_TRUE((*gateway)->Publish(gone).ok());

  while (received.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*gateway)->Poll(milliseconds(10)).ok());
  }
  ASSERT_TRUE(connected.WaitFor(1));
  EXPECT_EQ(connected.values()[0], "s1 {\"u\":1} " + (*gateway)->node_id());
  ASSERT_TRUE(disconnected.WaitFor(1));
  EXPECT_EQ(disconnected.values()[0], "s1 client namespace disconnect s1");
  ASSERT_TRUE(acked.WaitFor(1));
  EXPECT_TRUE(acked.values()[0].ok());
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].kind(), v1::KIND_JOIN);
  EXPECT_EQ(received[0].membership_rooms(0), "joined-by-service");
  EXPECT_EQ(received[1].kind(), v1::KIND_ACK);
  EXPECT_EQ(received[1].ack_id(), 5u);
  EXPECT_EQ(received[1].args(), "[2]");
  EXPECT_EQ(received[1].rooms(0), "s1");
}

// Several instances of one service: each connection and client event goes
// to exactly one instance of the group (the same one for all of a socket's
// events), every event still reaches another group, and the instances left
// take over when one leaves.
TEST_F(ClientIntegrationTest, ServiceInstancesInOneQueueGroupShareTheWork) {
  // "<instance> <kind> <socket id>", from every instance of both groups.
  Latch<std::string> echo_seen, audit_seen;
  auto serve = [&](const std::string& group, const std::string& instance,
                   Latch<std::string>& seen) {
    ClientOptions options;
    options.broker_pub = broker_.pub_endpoint;
    options.broker_sub = broker_.sub_endpoint;
    options.service_group = group;
    auto client = Client::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return std::unique_ptr<Client>();
    (*client)->Of("/svc").OnConnection([&seen, instance](RemoteSocket& socket) {
      seen.Callback()(instance + " c " + socket.id());
    });
    (*client)->Of("/svc").On("ping",
                             [&seen, instance](RemoteSocket& socket, const Message&, const Ack&) {
                               seen.Callback()(instance + " e " + socket.id());
                             });
    EXPECT_TRUE((*client)->Of("/svc").Listening().get().ok());
    return std::move(*client);
  };
  auto echo_a = serve("echo", "A", echo_seen);
  auto echo_b = serve("echo", "B", echo_seen);
  auto audit = serve("audit", "X", audit_seen);
  ASSERT_TRUE(echo_a && echo_b && audit);

  zmq::context_t context;
  auto gateway = RawLink(context, [](const v1::Envelope&) {});
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  auto publish = [&](v1::Kind kind, const std::string& socket_id) {
    v1::Envelope envelope;
    envelope.set_kind(kind);
    envelope.set_channel(v1::CHANNEL_SERVICE);
    envelope.set_namespace_("/svc");
    envelope.set_socket_id(socket_id);
    envelope.set_event("ping");
    envelope.set_reply_to((*gateway)->node_id());
    ASSERT_TRUE((*gateway)->Publish(envelope).ok());
  };
  constexpr size_t kSockets = 100;
  for (size_t i = 0; i < kSockets; ++i) publish(v1::KIND_CONNECTION, "s" + std::to_string(i));
  for (size_t i = 0; i < kSockets; ++i) publish(v1::KIND_CLIENT_EVENT, "s" + std::to_string(i));
  ASSERT_TRUE(audit_seen.WaitFor(2 * kSockets));
  ASSERT_TRUE(echo_seen.WaitFor(2 * kSockets));
  std::map<std::string, std::string> instance_of;  // socket id -> the instance of its connection
  std::map<std::string, int> per_instance;
  for (const std::string& seen : echo_seen.values()) {
    const std::vector<std::string> parts = absl::StrSplit(seen, ' ');
    ++per_instance[parts[0]];
    if (parts[1] == "c") {
      EXPECT_TRUE(instance_of.emplace(parts[2], parts[0]).second) << "twice: " << seen;
    } else {
      EXPECT_EQ(instance_of[parts[2]], parts[0]) << "an event away from its connection: " << seen;
    }
  }
  EXPECT_EQ(instance_of.size(), kSockets);
  EXPECT_GT(per_instance["A"], 0);
  EXPECT_GT(per_instance["B"], 0);
  // Nothing beyond one each: an event to each instance after the rest is
  // delivered behind it, so once both arrived the counts are final.
  std::string socket_of_a, socket_of_b;
  for (const auto& [socket_id, instance] : instance_of) {
    (instance == "A" ? socket_of_a : socket_of_b) = socket_id;
  }
  publish(v1::KIND_CLIENT_EVENT, socket_of_a);
  publish(v1::KIND_CLIENT_EVENT, socket_of_b);
  ASSERT_TRUE(echo_seen.WaitFor(2 * kSockets + 2));
  EXPECT_EQ(echo_seen.values().size(), 2u * kSockets + 2);

  // B leaves (its Goodbye removes it at once): A gets every event now. The
  // broker reads the Goodbye and this gateway's publishes on different
  // connections, so the gateway probes with one of B's sockets until A
  // answers: from then on B is out of the group.
  echo_b->Close();
  EXPECT_TRUE(test_support::WaitUntil(
      [&] {
        publish(v1::KIND_CLIENT_EVENT, socket_of_b);
        return echo_seen.WaitFor(2 * kSockets + 3, milliseconds(100));
      },
      milliseconds(5000)));
  const size_t before = echo_seen.values().size();
  for (size_t i = 0; i < kSockets; ++i) publish(v1::KIND_CLIENT_EVENT, "s" + std::to_string(i));
  ASSERT_TRUE(echo_seen.WaitFor(before + kSockets));
  const std::vector<std::string> all = echo_seen.values();
  for (size_t i = 2 * kSockets + 2; i < all.size(); ++i) EXPECT_EQ(all[i][0], 'A') << all[i];
}

// Namespace middleware: the chain runs in order, next() may come from
// another thread, a refusal stops the chain, and the verdict goes to the
// socket's own room with what the middlewares set.
TEST_F(ClientIntegrationTest, MiddlewaresJudgeHandshakesInOrder) {
  auto service = Connect();
  Latch<std::string> ran;
  std::vector<std::thread> checkers;  // joined before the client goes
  service->Of("/admin").Use([&](Handshake& handshake, const Next& next) {
    ran.Callback()("first " + handshake.socket_id);
    EXPECT_EQ(handshake.ns, "/admin");
    EXPECT_EQ(handshake.address, "10.0.0.1:5");
    EXPECT_EQ(handshake.user_agent, "ua");
    EXPECT_EQ(handshake.query, "EIO=4&x=1");
    if (handshake.auth.find(R"("role":"admin")") == std::string::npos) {
      next(Refuse("not authorized", R"({"need":"admin"})"));
      next();  // only the first call counts
      return;
    }
    handshake.data = R"({"user":"ann"})";
    next();
  });
  service->Of("/admin").Use([&](Handshake& handshake, const Next& next) {
    ran.Callback()("second " + handshake.socket_id);
    EXPECT_EQ(handshake.data, R"({"user":"ann"})");
    checkers.emplace_back([next] { next(); });  // an asynchronous check
  });
  ASSERT_TRUE(service->Of("/admin").Listening().get().ok());

  zmq::context_t context;
  Latch<v1::Envelope> verdicts;
  auto gateway =
      RawLink(context, [&](const v1::Envelope& envelope) { verdicts.Callback()(envelope); });
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  int confirmed = 0;
  for (const char* socket_id : {"admin-socket", "user-socket"}) {
    (*gateway)->Subscribe(wire::RoomTopic("/admin", socket_id), [&](const absl::Status& status) {
      EXPECT_TRUE(status.ok()) << status;
      ++confirmed;
    });
  }
  ASSERT_TRUE(test_support::WaitUntil(
      [&] { return (*gateway)->Poll(milliseconds(10)).ok() && confirmed == 2; },
      milliseconds(5000)));
  auto handshake = [&](const std::string& socket_id, const std::string& auth) {
    v1::Envelope envelope;
    envelope.set_kind(v1::KIND_HANDSHAKE);
    envelope.set_channel(v1::CHANNEL_SERVICE);
    envelope.set_namespace_("/admin");
    envelope.set_socket_id(socket_id);
    envelope.set_reply_to((*gateway)->node_id());
    envelope.set_auth(auth);
    envelope.mutable_handshake()->set_address("10.0.0.1:5");
    envelope.mutable_handshake()->set_user_agent("ua");
    envelope.mutable_handshake()->set_query("EIO=4&x=1");
    ASSERT_TRUE((*gateway)->Publish(envelope).ok());
  };
  handshake("admin-socket", R"({"role":"admin"})");
  handshake("user-socket", R"({"role":"user"})");
  ASSERT_TRUE(test_support::WaitUntil(
      [&] { return (*gateway)->Poll(milliseconds(10)).ok() && verdicts.values().size() >= 2; },
      milliseconds(5000)));
  std::map<std::string, v1::Verdict> by_socket;
  for (const v1::Envelope& envelope : verdicts.values()) {
    EXPECT_EQ(envelope.kind(), v1::KIND_VERDICT);
    ASSERT_EQ(envelope.rooms_size(), 1);
    by_socket[envelope.rooms(0)] = envelope.verdict();
  }
  ASSERT_EQ(by_socket.size(), 2u);
  EXPECT_TRUE(by_socket["admin-socket"].admitted());
  EXPECT_EQ(by_socket["admin-socket"].data(), R"({"user":"ann"})");
  EXPECT_FALSE(by_socket["user-socket"].admitted());
  EXPECT_EQ(by_socket["user-socket"].message(), "not authorized");
  EXPECT_EQ(by_socket["user-socket"].data(), R"({"need":"admin"})");
  std::vector<std::string> order = ran.values();
  std::sort(order.begin(), order.end());
  EXPECT_EQ(order, (std::vector<std::string>{"first admin-socket", "first user-socket",
                                             "second admin-socket"}));
  service->Close();
  for (std::thread& checker : checkers) checker.join();
}

// io.of(/^\/tenant-\w+$/): one registration serves every child; the socket
// names its child, and socket.nsp reaches that child's whole namespace.
TEST_F(ClientIntegrationTest, AFamilyOfNamespacesIsServedByItsPattern) {
  auto service = Connect();
  const std::string family = "^/tenant-\\w+$";
  service->Of(family).OnConnection([](RemoteSocket& socket) {
    EXPECT_TRUE(socket.Nsp().Emit("hello", Args().String(socket.id())).ok());
  });
  ASSERT_TRUE(service->Of(family).Listening().get().ok());
  EXPECT_EQ(service->Of(family).Emit("x").code(), absl::StatusCode::kInvalidArgument)
      << "a family is not a target";

  zmq::context_t context;
  Latch<v1::Envelope> received;
  auto gateway =
      RawLink(context, [&](const v1::Envelope& envelope) { received.Callback()(envelope); });
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  bool subscribed = false;
  (*gateway)->Subscribe(wire::NamespaceTopic("/tenant-a"),
                        [&](const absl::Status& status) { subscribed = status.ok(); });
  ASSERT_TRUE(test_support::WaitUntil(
      [&] { return (*gateway)->Poll(milliseconds(10)).ok() && subscribed; }, milliseconds(5000)));
  for (const char* ns : {"/tenant-b", "/tenant-a"}) {
    v1::Envelope connection;
    connection.set_kind(v1::KIND_CONNECTION);
    connection.set_channel(v1::CHANNEL_SERVICE);
    connection.set_namespace_(ns);
    connection.set_service_family(family);
    connection.set_socket_id(std::string("socket-of-") + (ns + 1));
    connection.set_reply_to((*gateway)->node_id());
    ASSERT_TRUE((*gateway)->Publish(connection).ok());
  }
  ASSERT_TRUE(test_support::WaitUntil(
      [&] { return (*gateway)->Poll(milliseconds(10)).ok() && !received.values().empty(); },
      milliseconds(5000)));
  const v1::Envelope hello = received.values()[0];
  EXPECT_EQ(hello.kind(), v1::KIND_EVENT);
  EXPECT_EQ(hello.namespace_(), "/tenant-a");
  EXPECT_EQ(hello.rooms_size(), 0) << "namespace-wide";
  EXPECT_EQ(hello.args(), R"(["socket-of-tenant-a"])");
}

// io.in(room).fetchSockets() and a handler's socket.data: the broker answers
// from the records a gateway sent; SetData reaches the gateway holding the
// socket through its own room.
TEST_F(ClientIntegrationTest, PresenceListsTheGatewaysSocketsAndSetDataReachesTheGateway) {
  zmq::context_t context;
  Latch<v1::Envelope> received;
  auto gateway =
      RawLink(context, [&](const v1::Envelope& envelope) { received.Callback()(envelope); });
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  SubscribeRaw(**gateway, wire::RoomTopic("/chat", "s-1"));
  SendRecords(**gateway, {{"s-1", "vip"}, {"s-2", ""}, {"s-3", "vip"}});
  auto service = Connect();
  AwaitCount(*service, "vip", 2);

  Latch<absl::StatusOr<std::vector<SocketInfo>>> vip;
  ASSERT_TRUE(service->Of("/chat").In("vip").FetchSockets(vip.Callback()).ok());
  ASSERT_TRUE(vip.WaitFor(1, milliseconds(5000)));
  ASSERT_TRUE(vip.values()[0].ok()) << vip.values()[0].status();
  const std::vector<SocketInfo> sockets = *vip.values()[0];
  ASSERT_EQ(sockets.size(), 2u);
  EXPECT_EQ(sockets[0].id, "s-1");
  EXPECT_EQ(sockets[1].id, "s-3");
  EXPECT_EQ(sockets[0].ns, "/chat");
  EXPECT_EQ(sockets[0].gateway, (*gateway)->node_id());
  EXPECT_EQ(sockets[0].data, R"({"n":1})");
  EXPECT_EQ(sockets[0].address, "10.0.0.1:5");
  EXPECT_EQ(sockets[0].rooms.size(), 2u);

  // Pages of one; exclusions.
  Latch<std::string> pages;
  ASSERT_TRUE(service->Of("/chat")
                  .FetchSocketPages(1,
                                    [&](absl::StatusOr<std::vector<SocketInfo>> page, bool last) {
                                      EXPECT_TRUE(page.ok()) << page.status();
                                      if (page.ok() && page->size() == 1) {
                                        pages.Callback()((*page)[0].id + (last ? " last" : ""));
                                      }
                                      return true;
                                    })
                  .ok());
  ASSERT_TRUE(pages.WaitFor(3, milliseconds(5000)));
  EXPECT_EQ(pages.values(), (std::vector<std::string>{"s-1", "s-2", "s-3 last"}));
  Latch<absl::StatusOr<std::vector<SocketInfo>>> others;
  ASSERT_TRUE(
      service->Of("/chat").Except("vip").ExceptSocket("s-9").FetchSockets(others.Callback()).ok());
  ASSERT_TRUE(others.WaitFor(1, milliseconds(5000)));
  ASSERT_TRUE(others.values()[0].ok());
  ASSERT_EQ(others.values()[0]->size(), 1u);
  EXPECT_EQ((*others.values()[0])[0].id, "s-2");

  // socket.data set by a handler goes to the gateway holding the socket.
  service->Of("/chat").OnConnection([](RemoteSocket& socket) {
    EXPECT_EQ(socket.SetData("not json").code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(socket.SetData(R"({"n":2})").ok());
    EXPECT_EQ(socket.data(), R"({"n":2})");
  });
  ASSERT_TRUE(service->Of("/chat").Listening().get().ok());
  v1::Envelope connection;
  connection.set_kind(v1::KIND_CONNECTION);
  connection.set_channel(v1::CHANNEL_SERVICE);
  connection.set_namespace_("/chat");
  connection.set_socket_id("s-1");
  connection.set_reply_to((*gateway)->node_id());
  ASSERT_TRUE((*gateway)->Publish(connection).ok());
  ASSERT_TRUE(test_support::WaitUntil(
      [&] { return (*gateway)->Poll(milliseconds(10)).ok() && !received.values().empty(); },
      milliseconds(5000)));
  const v1::Envelope set_data = received.values()[0];
  EXPECT_EQ(set_data.kind(), v1::KIND_SET_DATA);
  ASSERT_EQ(set_data.rooms_size(), 1);
  EXPECT_EQ(set_data.rooms(0), "s-1");
  EXPECT_EQ(set_data.socket_data(), R"({"n":2})");

  EXPECT_EQ(service->Of("/chat").FetchSocketPages(0, [](auto, bool) { return true; }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service->Of("chat").CountSockets([](auto) {}).code(),
            absl::StatusCode::kInvalidArgument);
}

// io.serverSideEmit: every other instance, whatever its queue group, not
// the sender.
TEST_F(ClientIntegrationTest, ServerSideEmitReachesEveryOtherInstance) {
  std::vector<std::unique_ptr<Client>> instances;
  Latch<std::string> heard;
  for (int i = 0; i < 3; ++i) {
    instances.push_back(Connect());
    instances.back()->Of("/chat").OnServerSideEmit("hello", [&heard, i](const Message& message) {
      heard.Callback()(std::to_string(i) + " " + message.args_json);
    });
    ASSERT_TRUE(instances.back()->Of("/chat").Listening().get().ok());
  }
  ASSERT_TRUE(instances[0]->Of("/chat").ServerSideEmit("hello", Args().Int(7)).ok());
  ASSERT_TRUE(heard.WaitFor(2, milliseconds(5000)));
  ASSERT_TRUE(instances[0]->Flush(milliseconds(5000)).ok());
  std::vector<std::string> got = heard.values();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"1 [7]", "2 [7]"}));
  EXPECT_EQ(instances[0]->Of("/chat").ServerSideEmit("connect").code(),
            absl::StatusCode::kInvalidArgument);
}

// io.timeout(ms).to(room).emit(ev, (err, responses) => ...): one answer per
// socket the broker counted; a socket that does not answer ends it at the
// timeout with the answers that came.
TEST_F(ClientIntegrationTest, ABroadcastWithAcksCollectsOneAnswerPerSocket) {
  zmq::context_t context;
  std::vector<v1::Envelope> asked;
  auto gateway = RawLink(context, [&](const v1::Envelope& envelope) { asked.push_back(envelope); });
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  SubscribeRaw(**gateway, wire::RoomTopic("/chat", "vip"));
  SendRecords(**gateway, {{"s-1", "vip"}, {"s-2", "vip"}, {"s-3", "vip"}});
  auto service = Connect();
  AwaitCount(*service, "vip", 3);

  // The gateway's sockets answer: `answering` of them.
  auto vote = [&](const BroadcastOperator& target, const std::vector<std::string>& answering) {
    asked.clear();
    Latch<std::pair<absl::Status, std::vector<std::string>>> done;
    EXPECT_TRUE(
        target
            .EmitWithAck("vote", Args().Int(1),
                         [&](const absl::Status& status, const std::vector<Message>& answers) {
                           std::vector<std::string> who;
                           who.reserve(answers.size());
                           for (const Message& answer : answers) {
                             who.push_back(answer.socket_id + "=" + answer.args_json);
                           }
                           std::sort(who.begin(), who.end());
                           done.Callback()({status, who});
                         })
            .ok());
    if (!answering.empty()) {
      EXPECT_TRUE(test_support::WaitUntil(
          [&] { return (*gateway)->Poll(milliseconds(10)).ok() && !asked.empty(); },
          milliseconds(5000)));
    }
    for (const std::string& socket_id : answering) {
      v1::Envelope answer;
      answer.set_kind(v1::KIND_ACK);
      answer.set_channel(v1::CHANNEL_NODE);
      answer.set_node(asked[0].reply_to());
      answer.set_namespace_("/chat");
      answer.set_ack_id(asked[0].ack_id());
      answer.set_socket_id(socket_id);
      answer.set_args(R"(["yes"])");
      EXPECT_TRUE((*gateway)->Publish(answer).ok());
    }
    EXPECT_TRUE(test_support::WaitUntil(
        [&] { return (*gateway)->Poll(milliseconds(10)).ok() && !done.values().empty(); },
        milliseconds(5000)));
    return done.values().empty() ? std::pair<absl::Status, std::vector<std::string>>{}
                                 : done.values()[0];
  };
  auto all =
      vote(service->Of("/chat").To("vip").Timeout(milliseconds(3000)), {"s-1", "s-2", "s-3"});
  EXPECT_TRUE(all.first.ok()) << all.first;
  EXPECT_EQ(all.second,
            (std::vector<std::string>{R"(s-1=["yes"])", R"(s-2=["yes"])", R"(s-3=["yes"])"}));
  EXPECT_TRUE(asked[0].has_ack_id());
  auto partial =
      vote(service->Of("/chat").To("vip").ExceptSocket("s-3").Timeout(milliseconds(300)), {"s-1"});
  EXPECT_EQ(partial.first.code(), absl::StatusCode::kDeadlineExceeded) << partial.first;
  EXPECT_EQ(partial.second, std::vector<std::string>{R"(s-1=["yes"])"});
  auto nobody = vote(service->Of("/chat").To("empty-room"), {});
  EXPECT_TRUE(nobody.first.ok()) << "no socket: done at the receipt";
  EXPECT_TRUE(nobody.second.empty());
}

TEST_F(ClientIntegrationTest, InvalidInputIsRefusedAtOnce) {
  auto client = Connect();
  EXPECT_EQ(client->Of("chat").Emit("ev").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client->Of("/chat").To("").Emit("ev").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client->Of("/chat").Emit("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client->Of("/chat").Emit("disconnect").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client->Of("/chat").Emit("ev", Args().Json("{")).code(),
            absl::StatusCode::kInvalidArgument);
  Subscription bad = client->Of("nochat").Subscribe({"a"}, [](const Message&) {});
  EXPECT_FALSE(bad.active());
  EXPECT_EQ(bad.ready().get().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientIntegrationTest, EmitQueueIsBoundedAndRefusesAtTheBound) {
  ClientOptions options;
  options.broker_pub = broker_.pub_endpoint;
  options.broker_sub = broker_.sub_endpoint;
  options.max_queued_emits = 2;
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok());
  auto publisher = Connect();
  // Hold the client's thread inside a handler so nothing drains the queue.
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  bool first = true;
  Subscription sub = (*client)->Of("/q").Subscribe({"r"}, [&](const Message&) {
    if (!first) return;
    first = false;
    entered.set_value();
    released.wait();
  });
  ExpectReady(sub);
  ASSERT_TRUE(publisher->Of("/q").To("r").Emit("block").ok());
  ASSERT_EQ(entered.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE((*client)->Of("/q").Emit("one").ok());
  EXPECT_TRUE((*client)->Of("/q").Emit("two").ok());
  EXPECT_EQ((*client)->Of("/q").Emit("three").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ((*client)->stats().rejected_full, 1u);
  release.set_value();
  EXPECT_TRUE((*client)->Flush(milliseconds(5000)).ok());
  EXPECT_TRUE((*client)->Of("/q").Emit("four").ok());
}

TEST_F(ClientIntegrationTest, ClientCanBeDestroyedFromItsOwnCallback) {
  auto publisher = Connect();
  std::unique_ptr<Client> subscriber = Connect();
  std::promise<void> destroyed;
  // The message that runs the callback is published after `sub` is assigned,
  // but that order travels through the broker's sockets, where ThreadSanitizer
  // cannot follow it; the future states it.
  std::promise<void> assigned;
  std::shared_future<void> sub_assigned = assigned.get_future().share();
  Subscription sub;
  sub = subscriber->Of("/self").Subscribe({"r"}, [&](const Message&) {
    if (subscriber == nullptr) return;
    sub_assigned.wait();
    sub = Subscription();  // cancel from the client's thread
    subscriber.reset();    // Close() from the client's thread: must not wait for itself
    destroyed.set_value();
  });
  ExpectReady(sub);
  assigned.set_value();  // the main thread is done with `sub`
  ASSERT_TRUE(publisher->Of("/self").To("r").Emit("bye").ok());
  EXPECT_EQ(destroyed.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

TEST_F(ClientIntegrationTest, CloseRefusesLaterEmits) {
  auto client = Connect();
  client->Close();
  EXPECT_EQ(client->Of("/").Emit("ev").code(), absl::StatusCode::kFailedPrecondition);
  client->Close();  // idempotent
}

}  // namespace
}  // namespace roomq
