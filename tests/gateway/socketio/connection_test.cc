// Connection + Shard logic against a fake Engine.IO session and a fake
// bridge: the Socket.IO behaviour without sockets or a broker.

#include "gateway/socketio/connection.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "gateway/engineio/timer_service.h"
#include "gateway/socketio/config.h"
#include "gateway/socketio/shard.h"
#include "proto/base/clock.h"
#include "tests/gateway/socketio/fakes.h"

namespace roomq::gateway::socketio {
namespace {

using std::chrono::milliseconds;
using testing::FakePort;
using testing::FakeSession;

constexpr char kConfig[] = R"(
namespaces:
  - name: /
    join: 'room-.*'
    relay: broadcast
  - name: /echo
    relay: broadcast
    echo: true
  - name: /rooms
    relay: rooms
  - name: /svc
    relay: none
    forward: true
  - pattern: '^/dyn-\w+$'
    relay: none
  - name: /admin
    forward: true
    middleware: required
  - pattern: '^/fam-\w+$'
    forward: true
)";

// One client: its fake session and the Connection listening to it.
struct Client {
  std::unique_ptr<FakeSession> session;
  std::unique_ptr<Connection> connection;

  void Send(std::string_view text) { connection->OnMessage(text, false); }
  void SendBinary(std::string_view data) { connection->OnMessage(data, true); }
  std::vector<std::string> Take() { return session->TakeSent(); }
};

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeShard(ShardOptions{}); }

  void MakeShard(ShardOptions options) {
    options.timers = &timers_;
    auto config = ParseConfig(kConfig);
    ASSERT_TRUE(config.ok()) << config.status();
    shard_ = std::make_shared<Shard>(0, io_.get_executor(), std::make_shared<const Config>(*config),
                                     port_, options);
  }

  Client NewClient(milliseconds connect_timeout = milliseconds(45000)) {
    Client client;
    client.session = std::make_unique<FakeSession>(io_, "eio" + std::to_string(++sessions_));
    ConnectionOptions options;
    options.connect_timeout = connect_timeout;
    options.clock = &clock_;
    options.timers = &timers_;
    client.connection = std::make_unique<Connection>(*client.session, shard_, options);
    return client;
  }

  void Run() {
    io_.restart();
    io_.poll();
  }
  // Moves the clock of every timer (connect timeout, subscribe wait) and
  // runs what became due.
  void Advance(milliseconds step) {
    timers_.Advance(step);
    Run();
  }
  void Confirm() {
    port_->ConfirmAll();
    Run();
  }

  // Connects `client` to `nsp` (broker confirming) and returns the socket id.
  std::string Connect(Client& client, const std::string& nsp = "/", const std::string& auth = "") {
    std::string packet = "0";
    if (nsp != "/") packet += nsp + ",";
    packet += auth;
    client.Send(packet);
    Confirm();
    std::vector<std::string> sent = client.Take();
    EXPECT_EQ(sent.size(), 1u);
    if (sent.empty()) return "";
    std::smatch match;
    static const std::regex answer(R"re(^0(/[^,]*,)?\{"sid":"([A-Za-z0-9_-]{20})"\}$)re");
    EXPECT_TRUE(std::regex_match(sent[0], match, answer)) << sent[0];
    return match.size() > 2 ? match[2].str() : "";
  }

  // Delivers an envelope as the bridge would.
  void Deliver(v1::Envelope envelope) {
    shard_->OnDispatch(MakeDispatch(std::move(envelope)));
    Run();
  }

  static v1::Envelope Event(const std::string& nsp, const std::vector<std::string>& rooms,
                            const std::string& event, const std::string& args) {
    v1::Envelope envelope;
    envelope.set_kind(v1::KIND_EVENT);
    envelope.set_channel(v1::CHANNEL_ROOMS);
    envelope.set_namespace_(nsp);
    for (auto& room : rooms) envelope.add_rooms(room);
    envelope.set_event(event);
    envelope.set_args(args);
    return envelope;
  }

  // Declared first: they outlive every timer. Nothing times out unless a
  // test advances them.
  base::FakeClock clock_;
  engineio::FakeTimerService timers_{clock_};
  boost::asio::io_context io_;
  std::shared_ptr<FakePort> port_ = std::make_shared<FakePort>(io_);
  std::shared_ptr<Shard> shard_;
  int sessions_ = 0;
};

TEST_F(ConnectionTest, ConnectIsAnsweredAfterTheBrokerConfirmedItsRooms) {
  Client client = NewClient();
  client.Send("0");
  Run();
  EXPECT_TRUE(client.Take().empty()) << "no answer before the broker confirmed";
  ASSERT_EQ(port_->subscribed().size(), 2u);
  Confirm();
  std::vector<std::string> sent = client.Take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(std::regex_match(sent[0], std::regex(R"(0\{"sid":"[A-Za-z0-9_-]{20}"\})")))
      << sent[0];
  const std::string sid = sent[0].substr(9, 20);
  EXPECT_EQ(port_->subscribed(), (std::vector<std::string>{"/#" + sid, "/#"}));
  EXPECT_EQ(shard_->socket_count(), 1u);
  EXPECT_FALSE(client.session->closed());
}

TEST_F(ConnectionTest, ConnectProceedsWhenTheBrokerDoesNotAnswer) {
  ShardOptions options;
  options.subscribe_wait = milliseconds(30);
  MakeShard(options);
  Client client = NewClient();
  client.Send("0");
  Run();
  EXPECT_TRUE(client.session->sent().empty());
  Advance(milliseconds(29));
  EXPECT_TRUE(client.session->sent().empty());
  Advance(milliseconds(1));
  ASSERT_EQ(client.session->sent().size(), 1u);
  EXPECT_EQ(client.session->sent()[0].substr(0, 9), R"(0{"sid":")");
}

TEST_F(ConnectionTest, UnknownNamespaceGetsConnectError) {
  Client client = NewClient();
  client.Send("0/nope,");
  Run();
  EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(4/nope,{"message":"Invalid namespace"})"}));
  EXPECT_FALSE(client.session->closed());
  EXPECT_TRUE(port_->subscribed().empty());
}

TEST_F(ConnectionTest, DynamicNamespacesAndSeveralPerConnection) {
  Client client = NewClient();
  const std::string root = Connect(client, "/");
  const std::string dyn = Connect(client, "/dyn-abc");
  EXPECT_NE(root, dyn) << "one socket id per namespace";
  EXPECT_EQ(client.connection->socket_count(), 2u);
  client.Send("0/dyn-,");
  Run();
  EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(4/dyn-,{"message":"Invalid namespace"})"}));
}

TEST_F(ConnectionTest, ConnectTimeoutClosesASessionWithoutNamespace) {
  Client client = NewClient(milliseconds(20));
  Advance(milliseconds(19));
  EXPECT_FALSE(client.session->closed());
  Advance(milliseconds(1));
  EXPECT_TRUE(client.session->closed());
}

TEST_F(ConnectionTest, ConnectTimeoutSparesAConnectedSession) {
  Client client = NewClient(milliseconds(20));
  Connect(client);
  Advance(milliseconds(60));
  EXPECT_FALSE(client.session->closed());
}

TEST_F(ConnectionTest, MalformedPacketClosesTheSession) {
  Client client = NewClient();
  Connect(client, "/svc");
  port_->published().clear();
  client.Send(R"(2/svc,["ev",)");
  EXPECT_TRUE(client.session->closed());
  EXPECT_EQ(shard_->socket_count(), 0u);
  ASSERT_EQ(port_->published().size(), 1u);
  EXPECT_EQ(port_->published()[0].envelope.kind(), v1::KIND_DISCONNECTION);
  EXPECT_EQ(port_->published()[0].envelope.reason(), "parse error");
  // Later messages are ignored.
  client.Send("0");
  EXPECT_TRUE(client.Take().empty());
}

TEST_F(ConnectionTest, ProtocolStateErrorsCloseTheSession) {
  {
    Client client = NewClient();
    client.Send(R"(2["ev"])");
    EXPECT_TRUE(client.session->closed()) << "event for a namespace not connected";
  }
  {
    Client client = NewClient();
    Connect(client);
    client.Send("0");
    EXPECT_TRUE(client.session->closed()) << "second CONNECT to the same namespace";
  }
  {
    Client client = NewClient();
    client.Send("0");
    client.Send(R"(2["ev"])");
    EXPECT_TRUE(client.session->closed()) << "event before the CONNECT was answered";
  }
  {
    Client client = NewClient();
    client.Send(R"(2["disconnect"])");
    EXPECT_TRUE(client.session->closed()) << "reserved event name";
  }
}

TEST_F(ConnectionTest, JoinIsAckedAfterConfirmation) {
  Client client = NewClient();
  const std::string sid = Connect(client);
  client.Send(R"(21["join","room-a"])");
  Run();
  EXPECT_TRUE(client.Take().empty());
  EXPECT_EQ(port_->subscribed().back(), "/#room-a");
  Confirm();
  EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(31[{"ok":true}])"}));
  // A second member of the same room: no new subscription, ack at once.
  Client other = NewClient();
  Connect(other);
  const size_t subscriptions = port_->subscribed().size();
  other.Send(R"(22["join","room-a"])");
  Run();
  EXPECT_EQ(other.Take(), (std::vector<std::string>{R"(32[{"ok":true}])"}));
  EXPECT_EQ(port_->subscribed().size(), subscriptions);
}

TEST_F(ConnectionTest, AJoinTheBrokerRefusedIsAnErrorAndNotAMembership) {
  Client client = NewClient();
  Connect(client);
  client.Send(R"(21["join","room-a"])");
  Run();
  port_->ConfirmAll(absl::InternalError("over the limit of 50 topics"));
  Run();
  EXPECT_EQ(client.Take(),
            (std::vector<std::string>{
                R"(31[{"error":"the broker refused the room: over the limit of 50 topics"}])"}));
  EXPECT_EQ(port_->unsubscribed().back(), "/#room-a") << "the membership was undone";
  EXPECT_EQ(shard_->stats().joins_refused_by_broker, 1u);
  EXPECT_FALSE(client.session->closed());
  // A broker that did not answer in time is not a refusal: acked, kept.
  client.Send(R"(22["join","room-b"])");
  Run();
  port_->ConfirmAll(absl::UnavailableError("no reply"));
  Run();
  EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(32[{"ok":true}])"}));
}

TEST_F(ConnectionTest, JoinErrors) {
  Client client = NewClient();
  Connect(client);
  client.Send(R"(21["join","forbidden"])");
  client.Send(R"(22["join",""])");
  client.Send(R"(23["join",5])");
  client.Send(R"(24["join"])");
  Run();
  EXPECT_EQ(client.Take(), (std::vector<std::string>{
                               R"(31[{"error":"joining this room is not allowed"}])",
                               R"(32[{"error":"invalid room name"}])",
                               R"(33[{"error":"join needs a room name"}])",
                               R"(34[{"error":"join needs a room name"}])",
                           }));
  EXPECT_FALSE(client.session->closed());
}

TEST_F(ConnectionTest, LeaveUnsubscribesTheLastMember) {
  Client client = NewClient();
  const std::string sid = Connect(client);
  client.Send(R"(21["join","room-a"])");
  Confirm();
  client.Take();
  client.Send(R"(22["leave","room-a"])");
  Run();
  EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(32[{"ok":true}])"}));
  EXPECT_EQ(port_->unsubscribed(), (std::vector<std::string>{"/#room-a"}));
  client.Send("23[\"leave\",\"" + sid + "\"]");
  Run();
  EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(33[{"error":"cannot leave this room"}])"}));
}

TEST_F(ConnectionTest, PublishGoesToTheRoomExceptTheSenderAndAcksOnReceipt) {
  Client client = NewClient();
  const std::string sid = Connect(client);
  client.Send(R"(27["publish","room-x","chat message",{"text":"hi"},2])");
  Run();
  ASSERT_EQ(port_->published().size(), 1u);
  const v1::Envelope& envelope = port_->published()[0].envelope;
  EXPECT_EQ(envelope.kind(), v1::KIND_EVENT);
  EXPECT_EQ(envelope.channel(), v1::CHANNEL_ROOMS);
  EXPECT_EQ(envelope.namespace_(), "/");
  ASSERT_EQ(envelope.rooms_size(), 1);
  EXPECT_EQ(envelope.rooms(0), "room-x");
  EXPECT_EQ(envelope.except_socket(), sid);
  EXPECT_EQ(envelope.event(), "chat message");
  EXPECT_EQ(envelope.args(), R"([{"text":"hi"},2])");
  EXPECT_TRUE(client.Take().empty()) << "ack waits for the receipt";
  v1::PublishReceipt receipt;
  receipt.set_accepted(true);
  port_->Receipt(0, receipt);
  Run();
  EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(37[{"ok":true}])"}));

  client.Send(R"(28["publish","room-x","ev"])");
  Run();
  port_->Receipt(1, absl::UnavailableError("broker did not answer"));
  Run();
  EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(38[{"error":"broker did not answer"}])"}));

  client.Send(R"(29["publish","room-x","disconnect"])");
  client.Send(R"(210["publish","room-x"])");
  Run();
  EXPECT_EQ(client.Take(), (std::vector<std::string>{
                               R"(39[{"error":"reserved event name"}])",
                               R"(310[{"error":"publish needs a room and an event name"}])"}));
}

TEST_F(ConnectionTest, BinaryPublishKeepsAttachments) {
  Client client = NewClient();
  Connect(client);
  client.Send(R"(51-["publish","room-x","file",{"_placeholder":true,"num":0}])");
  client.SendBinary(std::string("\x01\x02", 2));
  Run();
  ASSERT_EQ(port_->published().size(), 1u);
  const v1::Envelope& envelope = port_->published()[0].envelope;
  EXPECT_EQ(envelope.event(), "file");
  EXPECT_EQ(envelope.args(), R"([{"_placeholder":true,"num":0}])");
  ASSERT_EQ(envelope.attachments_size(), 1);
  EXPECT_EQ(envelope.attachments(0), std::string("\x01\x02", 2));
}

TEST_F(ConnectionTest, RelayBroadcastExcludesTheSender) {
  Client client = NewClient();
  const std::string sid = Connect(client);
  client.Send(R"(2["chat",1])");
  ASSERT_EQ(port_->published().size(), 1u);
  const v1::Envelope& envelope = port_->published()[0].envelope;
  EXPECT_EQ(envelope.kind(), v1::KIND_EVENT);
  EXPECT_EQ(envelope.rooms_size(), 0) << "namespace-wide";
  EXPECT_EQ(envelope.except_socket(), sid);
  EXPECT_EQ(envelope.event(), "chat");
  EXPECT_EQ(envelope.args(), "[1]");
}

TEST_F(ConnectionTest, RelayEchoIncludesTheSender) {
  Client client = NewClient();
  Connect(client, "/echo");
  client.Send(R"(2/echo,["chat",1])");
  ASSERT_EQ(port_->published().size(), 1u);
  EXPECT_EQ(port_->published()[0].envelope.except_socket(), "");
}

TEST_F(ConnectionTest, RelayRoomsTargetsTheSendersRooms) {
  Client client = NewClient();
  const std::string sid = Connect(client, "/rooms");
  client.Send(R"(2/rooms,["chat",1])");
  EXPECT_TRUE(port_->published().empty()) << "in no room yet: nothing to relay";
  client.Send(R"(2/rooms,["join","a"])");
  client.Send(R"(2/rooms,["join","b"])");
  Confirm();
  client.Send(R"(2/rooms,["chat",1])");
  ASSERT_EQ(port_->published().size(), 1u);
  const v1::Envelope& envelope = port_->published()[0].envelope;
  std::vector<std::string> rooms(envelope.rooms().begin(), envelope.rooms().end());
  std::sort(rooms.begin(), rooms.end());
  EXPECT_EQ(rooms, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(envelope.except_socket(), sid);
}

TEST_F(ConnectionTest, ForwardToServices) {
  Client client = NewClient();
  const std::string sid = Connect(client, "/svc", R"({"token":"t"})");
  ASSERT_EQ(port_->published().size(), 1u);
  {
    const v1::Envelope& connection = port_->published()[0].envelope;
    EXPECT_EQ(connection.kind(), v1::KIND_CONNECTION);
    EXPECT_EQ(connection.channel(), v1::CHANNEL_SERVICE);
    EXPECT_EQ(connection.namespace_(), "/svc");
    EXPECT_EQ(connection.socket_id(), sid);
    EXPECT_EQ(connection.auth(), R"({"token":"t"})");
    EXPECT_EQ(connection.reply_to(), "gw-test-1");
  }
  client.Send(R"(2/svc,4["message",{"a":1}])");
  ASSERT_EQ(port_->published().size(), 2u) << "relay none: only the forward";
  {
    const v1::Envelope& event = port_->published()[1].envelope;
    EXPECT_EQ(event.kind(), v1::KIND_CLIENT_EVENT);
    EXPECT_EQ(event.channel(), v1::CHANNEL_SERVICE);
    EXPECT_EQ(event.socket_id(), sid);
    EXPECT_EQ(event.event(), "message");
    EXPECT_EQ(event.args(), R"([{"a":1}])");
    ASSERT_TRUE(event.has_ack_id());
    EXPECT_EQ(event.ack_id(), 4u);
  }
  client.Send(R"(2/svc,["join","r1"])");
  Confirm();
  client.Send("1/svc,");
  ASSERT_EQ(port_->published().size(), 3u);
  const v1::Envelope& gone = port_->published()[2].envelope;
  EXPECT_EQ(gone.kind(), v1::KIND_DISCONNECTION);
  EXPECT_EQ(gone.reason(), "client namespace disconnect");
  std::vector<std::string> rooms(gone.membership_rooms().begin(), gone.membership_rooms().end());
  std::sort(rooms.begin(), rooms.end());
  std::vector<std::string> expected{sid, "r1"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(rooms, expected);
  EXPECT_EQ(shard_->socket_count(), 0u);
  EXPECT_FALSE(client.session->closed()) << "a namespace disconnect keeps the session";
}

// A child of a pattern is served by the family's services: its envelopes
// name the child and carry the pattern (proto/README.md).
TEST_F(ConnectionTest, AFamilysChildForwardsToTheFamily) {
  Client client = NewClient();
  Connect(client, "/fam-a");
  ASSERT_EQ(port_->published().size(), 1u);
  const v1::Envelope& connection = port_->published()[0].envelope;
  EXPECT_EQ(connection.kind(), v1::KIND_CONNECTION);
  EXPECT_EQ(connection.namespace_(), "/fam-a");
  EXPECT_EQ(connection.service_family(), R"(^/fam-\w+$)");
  Client exact = NewClient();
  Connect(exact, "/svc");
  EXPECT_EQ(port_->published().back().envelope.service_family(), "") << "an exact namespace";
}

TEST_F(ConnectionTest, ServiceAcksToClientEvents) {
  Client client = NewClient();
  const std::string sid = Connect(client, "/svc");
  v1::Envelope ack;
  ack.set_kind(v1::KIND_ACK);
  ack.set_channel(v1::CHANNEL_ROOMS);
  ack.set_namespace_("/svc");
  ack.add_rooms(sid);
  ack.set_ack_id(4);
  ack.set_args(R"(["done"])");
  Deliver(ack);
  EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(3/svc,4["done"])"}));
}

TEST_F(ConnectionTest, ClientAcksToServiceEvents) {
  Client client = NewClient();
  const std::string sid = Connect(client, "/svc");
  port_->published().clear();
  v1::Envelope event = Event("/svc", {sid}, "question", R"([1])");
  event.set_ack_id(77);
  event.set_reply_to("svc-node");
  Deliver(event);
  Deliver(event);
  EXPECT_EQ(client.Take(),
            (std::vector<std::string>{R"(2/svc,0["question",1])", R"(2/svc,1["question",1])"}));
  client.Send(R"(3/svc,1["answer"])");
  client.Send(R"(3/svc,1["again"])");  // answered already: ignored
  client.Send(R"(3/svc,9["unknown"])");
  ASSERT_EQ(port_->published().size(), 1u);
  const v1::Envelope& answer = port_->published()[0].envelope;
  EXPECT_EQ(answer.kind(), v1::KIND_ACK);
  EXPECT_EQ(answer.channel(), v1::CHANNEL_NODE);
  EXPECT_EQ(answer.node(), "svc-node");
  EXPECT_EQ(answer.ack_id(), 77u);
  EXPECT_EQ(answer.socket_id(), sid);
  EXPECT_EQ(answer.namespace_(), "/svc");
  EXPECT_EQ(answer.args(), R"(["answer"])");
  EXPECT_FALSE(client.session->closed());
}

TEST_F(ConnectionTest, FanOutAppliesExclusionsAndReachesEachSocketOnce) {
  Client a = NewClient();
  Client b = NewClient();
  Client c = NewClient();
  const std::string sid_a = Connect(a);
  const std::string sid_b = Connect(b);
  Connect(c);
  a.Send(R"(2["join","room-1"])");
  a.Send(R"(2["join","room-2"])");
  b.Send(R"(2["join","room-2"])");
  c.Send(R"(2["join","room-3"])");
  Confirm();

  // Multi-room: a is in both rooms and gets the event once.
  Deliver(Event("/", {"room-1", "room-2"}, "m", "[1]"));
  EXPECT_EQ(a.Take(), (std::vector<std::string>{R"(2["m",1])"}));
  EXPECT_EQ(b.Take(), (std::vector<std::string>{R"(2["m",1])"}));
  EXPECT_TRUE(c.Take().empty());

  // Sender exclusion.
  v1::Envelope except_a = Event("/", {"room-2"}, "m", "[2]");
  except_a.set_except_socket(sid_a);
  Deliver(except_a);
  EXPECT_TRUE(a.Take().empty());
  EXPECT_EQ(b.Take().size(), 1u);

  // Namespace-wide minus except_rooms.
  v1::Envelope everyone = Event("/", {}, "all", "[]");
  everyone.add_except_rooms("room-1");
  Deliver(everyone);
  EXPECT_TRUE(a.Take().empty());
  EXPECT_EQ(b.Take(), (std::vector<std::string>{R"(2["all"])"}));
  EXPECT_EQ(c.Take(), (std::vector<std::string>{R"(2["all"])"}));

  // One socket by its id; another namespace is never reached.
  Deliver(Event("/", {sid_b}, "private", "[]"));
  EXPECT_TRUE(a.Take().empty());
  EXPECT_EQ(b.Take().size(), 1u);
  Deliver(Event("/other", {}, "x", "[]"));
  EXPECT_TRUE(b.Take().empty());

  // The frame is encoded once and shared by every recipient.
  Deliver(Event("/", {"room-2"}, "shared", "[]"));
  ASSERT_EQ(a.session->shared().size(), 1u);
  ASSERT_EQ(b.session->shared().size(), 1u);
  EXPECT_EQ(a.session->shared()[0].get(), b.session->shared()[0].get());
}

TEST_F(ConnectionTest, ServiceMembershipAndDisconnectCommands) {
  Client client = NewClient();
  const std::string sid = Connect(client, "/svc");
  v1::Envelope join;
  join.set_kind(v1::KIND_JOIN);
  join.set_channel(v1::CHANNEL_ROOMS);
  join.set_namespace_("/svc");
  join.add_rooms(sid);
  join.add_membership_rooms("vip");
  Deliver(join);
  Confirm();
  Deliver(Event("/svc", {"vip"}, "hello", "[]"));
  EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(2/svc,["hello"])"}));

  v1::Envelope leave = join;
  leave.set_kind(v1::KIND_LEAVE);
  Deliver(leave);
  Deliver(Event("/svc", {"vip"}, "hello", "[]"));
  EXPECT_TRUE(client.Take().empty());

  port_->published().clear();
  v1::Envelope kick;
  kick.set_kind(v1::KIND_DISCONNECT);
  kick.set_channel(v1::CHANNEL_ROOMS);
  kick.set_namespace_("/svc");
  kick.add_rooms(sid);
  Deliver(kick);
  EXPECT_EQ(client.Take(), (std::vector<std::string>{"1/svc,"}));
  EXPECT_EQ(shard_->socket_count(), 0u);
  ASSERT_EQ(port_->published().size(), 1u);
  EXPECT_EQ(port_->published()[0].envelope.reason(), "server namespace disconnect");
}

// A `middleware: required` namespace: the CONNECT is described to the
// services once its rooms are confirmed and answered by their verdict.
class MiddlewareTest : public ConnectionTest {
 protected:
  // Sends CONNECT to /admin, confirms its rooms and returns the handshake
  // the gateway published (its socket_id names the socket).
  v1::Envelope ConnectAndTakeHandshake(Client& client, const std::string& auth = "") {
    port_->published().clear();
    client.Send("0/admin," + auth);
    Confirm();
    EXPECT_TRUE(client.Take().empty()) << "no answer before the verdict";
    EXPECT_EQ(port_->published().size(), 1u);
    return port_->published().empty() ? v1::Envelope() : port_->published()[0].envelope;
  }

  static v1::Envelope Verdict(const std::string& socket_id, bool admitted,
                              const std::string& message = "", const std::string& data = "") {
    v1::Envelope envelope;
    envelope.set_kind(v1::KIND_VERDICT);
    envelope.set_channel(v1::CHANNEL_ROOMS);
    envelope.set_namespace_("/admin");
    envelope.add_rooms(socket_id);
    envelope.mutable_verdict()->set_admitted(admitted);
    envelope.mutable_verdict()->set_message(message);
    envelope.mutable_verdict()->set_data(data);
    return envelope;
  }

  uint64_t Outcome(std::string_view outcome) {
    auto it = shard_->stats().middleware.find(std::string(outcome));
    return it == shard_->stats().middleware.end() ? 0 : it->second;
  }
};

TEST_F(MiddlewareTest, TheHandshakeDescribesTheSocketToTheServices) {
  Client client = NewClient();
  engineio::HandshakeInfo& info = client.session->mutable_handshake();
  info.query = "EIO=4&transport=websocket&tenant=7";
  info.origin = "https://app.example";
  info.user_agent = "Mozilla/5.0 " + std::string(600, 'x');
  info.forwarded_for = "203.0.113.9";
  const v1::Envelope handshake = ConnectAndTakeHandshake(client, R"({"role":"admin"})");
  EXPECT_EQ(handshake.kind(), v1::KIND_HANDSHAKE);
  EXPECT_EQ(handshake.channel(), v1::CHANNEL_SERVICE);
  EXPECT_EQ(handshake.namespace_(), "/admin");
  EXPECT_EQ(handshake.socket_id().size(), 20u);
  EXPECT_EQ(handshake.reply_to(), "gw-test-1");
  EXPECT_EQ(handshake.auth(), R"({"role":"admin"})");
  EXPECT_EQ(handshake.handshake().address(), "127.0.0.1:1234");
  EXPECT_EQ(handshake.handshake().query(), info.query);
  EXPECT_EQ(handshake.handshake().origin(), info.origin);
  EXPECT_EQ(handshake.handshake().user_agent(), info.user_agent.substr(0, 512));
  EXPECT_EQ(handshake.handshake().forwarded_for(), "203.0.113.9");
  EXPECT_TRUE(port_->records().empty()) << "no record before the socket is admitted";
}

TEST_F(MiddlewareTest, AnAdmittingVerdictConnectsTheSocketWithItsData) {
  Client client = NewClient();
  const std::string sid = ConnectAndTakeHandshake(client).socket_id();
  Deliver(Verdict(sid, true, "", R"({"user":"ann"})"));
  const std::vector<std::string> sent = client.Take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], "0/admin,{\"sid\":\"" + sid + "\"}");
  EXPECT_EQ(Outcome(kMiddlewareAdmitted), 1u);
  // socket.data goes with the connection to the services and into the record.
  ASSERT_EQ(port_->published().size(), 2u);
  EXPECT_EQ(port_->published()[1].envelope.kind(), v1::KIND_CONNECTION);
  EXPECT_EQ(port_->published()[1].envelope.socket_data(), R"({"user":"ann"})");
  ASSERT_EQ(port_->records().count("/admin#" + sid), 1u);
  EXPECT_EQ(port_->records().at("/admin#" + sid).data(), R"({"user":"ann"})");
  client.Send(R"(2/admin,["delete user",1])");
  ASSERT_EQ(port_->published().size(), 3u);
  EXPECT_EQ(port_->published()[2].envelope.socket_data(), R"({"user":"ann"})");
  // A second verdict changes nothing.
  Deliver(Verdict(sid, false, "too late"));
  EXPECT_TRUE(client.Take().empty());
  EXPECT_EQ(shard_->socket_count(), 1u);
}

TEST_F(MiddlewareTest, ARefusalIsAConnectErrorWithMessageAndData) {
  Client client = NewClient();
  const std::string sid = ConnectAndTakeHandshake(client).socket_id();
  Deliver(Verdict(sid, false, "not authorized", R"({"retry":false})"));
  EXPECT_EQ(
      client.Take(),
      (std::vector<std::string>{R"(4/admin,{"message":"not authorized","data":{"retry":false}})"}));
  EXPECT_EQ(Outcome(kMiddlewareRefused), 1u);
  EXPECT_EQ(shard_->socket_count(), 0u);
  EXPECT_FALSE(client.session->closed()) << "a refused CONNECT keeps the session";
  EXPECT_TRUE(port_->records().empty());
  ASSERT_EQ(port_->published().size(), 1u) << "no connection, no disconnection";
  // Data that is not JSON is left out rather than break the client's parser.
  const std::string again = ConnectAndTakeHandshake(client).socket_id();
  Deliver(Verdict(again, false, "", "{not json"));
  EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(4/admin,{"message":"not authorized"})"}));
}

TEST_F(MiddlewareTest, NoVerdictInTimeIsARefusal) {
  Client client = NewClient();
  const std::string sid = ConnectAndTakeHandshake(client).socket_id();
  Advance(milliseconds(4999));
  EXPECT_TRUE(client.Take().empty());
  Advance(milliseconds(1));
  EXPECT_EQ(client.Take(),
            (std::vector<std::string>{R"(4/admin,{"message":"middleware timeout"})"}));
  EXPECT_EQ(Outcome(kMiddlewareTimeout), 1u);
  EXPECT_EQ(shard_->socket_count(), 0u);
  Deliver(Verdict(sid, true));  // too late: the socket is gone
  EXPECT_TRUE(client.Take().empty());
  EXPECT_EQ(Outcome(kMiddlewareAdmitted), 0u);
}

TEST_F(MiddlewareTest, OnlyAVerdictToTheSocketsOwnRoomCounts) {
  Client client = NewClient();
  const std::string sid = ConnectAndTakeHandshake(client).socket_id();
  v1::Envelope namespace_wide = Verdict(sid, true);
  namespace_wide.clear_rooms();
  Deliver(namespace_wide);
  v1::Envelope two_rooms = Verdict(sid, true);
  two_rooms.add_rooms("other");
  Deliver(two_rooms);
  EXPECT_TRUE(client.Take().empty());
  Deliver(Verdict(sid, true));
  EXPECT_EQ(client.Take().size(), 1u);
}

TEST_F(MiddlewareTest, SocketDataOverTheBoundIsRefused) {
  Client client = NewClient();
  const std::string sid = ConnectAndTakeHandshake(client).socket_id();
  Deliver(Verdict(sid, true, "", "\"" + std::string(16384, 'd') + "\""));
  EXPECT_EQ(client.Take(),
            (std::vector<std::string>{R"(4/admin,{"message":"socket data too large"})"}));
  EXPECT_EQ(Outcome(kMiddlewareDataTooLarge), 1u);
  EXPECT_EQ(shard_->socket_count(), 0u);
}

// RemoteSocket::SetData: a service replaces socket.data of the sockets it
// targets, within the bound; services and the broker's record see it.
TEST_F(ConnectionTest, AServiceSetsSocketDataWithinTheBound) {
  Client client = NewClient();
  const std::string sid = Connect(client, "/svc");
  Client bystander = NewClient();
  const std::string other = Connect(bystander, "/svc");
  auto set_data = [&](const std::string& data) {
    v1::Envelope envelope;
    envelope.set_kind(v1::KIND_SET_DATA);
    envelope.set_channel(v1::CHANNEL_ROOMS);
    envelope.set_namespace_("/svc");
    envelope.add_rooms(sid);
    envelope.set_socket_data(data);
    Deliver(envelope);
  };
  set_data(R"({"user":"ann"})");
  EXPECT_TRUE(client.Take().empty()) << "nothing for the client";
  ASSERT_EQ(port_->records().count("/svc#" + sid), 1u);
  EXPECT_EQ(port_->records().at("/svc#" + sid).data(), R"({"user":"ann"})");
  EXPECT_EQ(port_->records().at("/svc#" + other).data(), "") << "only the target";
  port_->published().clear();
  client.Send(R"(2/svc,["ev"])");
  ASSERT_EQ(port_->published().size(), 1u);
  EXPECT_EQ(port_->published()[0].envelope.socket_data(), R"({"user":"ann"})");

  set_data("\"" + std::string(16384, 'd') + "\"");
  EXPECT_EQ(shard_->stats().socket_data_refused, 1u);
  EXPECT_EQ(port_->records().at("/svc#" + sid).data(), R"({"user":"ann"})") << "kept the old";
  set_data("");
  EXPECT_EQ(port_->records().at("/svc#" + sid).data(), "");
  EXPECT_FALSE(client.session->closed());
}

TEST_F(ConnectionTest, UndeliverableEnvelopesAreSkipped) {
  Client client = NewClient();
  Connect(client);
  Deliver(Event("/", {}, "disconnect", "[]"));
  Deliver(Event("/", {}, "ev", "not json"));
  EXPECT_TRUE(client.Take().empty());
  EXPECT_FALSE(client.session->closed());
}

TEST_F(ConnectionTest, SessionCloseLeavesEverythingAndUnsubscribes) {
  Client client = NewClient();
  const std::string sid = Connect(client, "/");
  Connect(client, "/svc");
  client.Send(R"(2["join","room-a"])");
  Confirm();
  port_->published().clear();
  client.connection->OnClose("transport close");
  EXPECT_EQ(shard_->socket_count(), 0u);
  EXPECT_EQ(shard_->subscription_count(), 0u);
  EXPECT_EQ(shard_->rooms().room_count(), 0u);
  std::vector<std::string> unsubscribed = port_->unsubscribed();
  std::sort(unsubscribed.begin(), unsubscribed.end());
  EXPECT_EQ(unsubscribed.size(), 5u) << "/#, /#sid, /#room-a, /svc#, /svc#sid";
  ASSERT_EQ(port_->published().size(), 1u);
  EXPECT_EQ(port_->published()[0].envelope.reason(), "transport close");
}

TEST_F(ConnectionTest, CloseWhileConnectingIsClean) {
  Client client = NewClient();
  client.Send("0");
  client.connection->OnClose("transport close");
  Confirm();
  EXPECT_TRUE(client.session->sent().empty());
  EXPECT_EQ(shard_->socket_count(), 0u);
  EXPECT_EQ(shard_->subscription_count(), 0u);
}

TEST_F(ConnectionTest, DestroyedConnectionIgnoresLateCallbacks) {
  Client client = NewClient();
  client.Send("0");
  client.connection.reset();
  Confirm();  // must not touch the destroyed connection
  EXPECT_EQ(shard_->socket_count(), 0u);
}

}  // namespace
}  // namespace roomq::gateway::socketio
