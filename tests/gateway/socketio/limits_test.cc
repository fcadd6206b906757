// The Socket.IO layer's limits (connection.h ConnectionOptions, shard.h
// ShardOptions): namespaces per session, rooms per socket, the per-socket
// message rate under both policies, the bytes and the time of one binary
// event, each counted in ShardStats. (Dynamic namespaces per shard:
// namespace_lifecycle_test.cc.)

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gateway/engineio/address_table.h"
#include "gateway/engineio/timer_service.h"
#include "gateway/socketio/config.h"
#include "gateway/socketio/connection.h"
#include "gateway/socketio/metrics.h"
#include "gateway/socketio/shard.h"
#include "proto/base/clock.h"
#include "tests/gateway/socketio/fakes.h"

namespace roomq::gateway::socketio {
namespace {

using testing::FakePort;
using testing::FakeSession;

constexpr char kConfig[] = R"(
namespaces:
  - name: /
    relay: broadcast
  - pattern: '^/n\d+$'
)";

class LimitsTest : public ::testing::Test {
 protected:
  void Make(ConnectionOptions connection, ShardOptions shard = {}) {
    auto config = ParseConfig(kConfig);
    ASSERT_TRUE(config.ok()) << config.status();
    shard_ = std::make_shared<Shard>(0, io_.get_executor(), std::make_shared<const Config>(*config),
                                     port_, shard);
    session_ = std::make_unique<FakeSession>(io_, "eio1");
    connection.clock = &clock_;
    connection.timers = &timers_;
    connection_ = std::make_unique<Connection>(*session_, shard_, connection);
  }
  void Send(std::string_view text) {
    connection_->OnMessage(text, false);
    port_->ConfirmAll();
    io_.restart();
    io_.poll();
  }
  std::vector<std::string> Take() { return session_->TakeSent(); }
  // Moves the timers' clock and runs what became due.
  void Advance(std::chrono::milliseconds step) {
    timers_.Advance(step);
    io_.restart();
    io_.poll();
  }

  // The rate buckets and the timers read this clock: they refill or fire
  // only when a test advances it.
  base::FakeClock clock_;
  engineio::FakeTimerService timers_{clock_};
  boost::asio::io_context io_;
  std::shared_ptr<FakePort> port_ = std::make_shared<FakePort>(io_);
  std::shared_ptr<Shard> shard_;
  std::unique_ptr<FakeSession> session_;
  std::unique_ptr<Connection> connection_;
};

TEST_F(LimitsTest, ConnectPastMaxNamespacesGetsConnectError) {
  ConnectionOptions options;
  options.max_namespaces = 2;
  Make(options);
  Send("0");
  Send("0/n1,");
  ASSERT_EQ(Take().size(), 2u);
  Send("0/n2,");
  EXPECT_EQ(Take(), (std::vector<std::string>{R"(4/n2,{"message":"Too many namespaces"})"}));
  EXPECT_FALSE(session_->closed());
  EXPECT_EQ(connection_->socket_count(), 2u);
  EXPECT_EQ(shard_->stats().namespaces_refused, 1u);
  // Leaving one namespace makes room for another.
  Send("1/n1,");
  Send("0/n2,");
  std::vector<std::string> sent = Take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].substr(0, 12), R"(0/n2,{"sid":)");
}

TEST_F(LimitsTest, JoinPastMaxRoomsPerSocketIsAckedWithAnError) {
  ShardOptions shard;
  shard.max_rooms_per_socket = 4;  // its own room + the namespace + 2
  Make(ConnectionOptions{}, shard);
  Send("0");
  Take();
  Send(R"(21["join","a"])");
  Send(R"(22["join","b"])");
  Send(R"(23["join","c"])");
  Send(R"(24["join","a"])");  // already in it: not a new room
  EXPECT_EQ(Take(),
            (std::vector<std::string>{R"(31[{"ok":true}])", R"(32[{"ok":true}])",
                                      R"(33[{"error":"too many rooms"}])", R"(34[{"ok":true}])"}));
  EXPECT_EQ(shard_->stats().joins_refused, 1u);
  EXPECT_FALSE(session_->closed());
}

TEST_F(LimitsTest, EventsOverTheRateAreAnsweredWithAnErrorAck) {
  ConnectionOptions options;
  options.message_rate = 0.001;  // no refill: the clock does not move
  options.message_burst = 3;
  Make(options);
  Send("0");
  Take();
  const size_t subscriptions = port_->subscribed().size();
  for (int i = 1; i <= 5; ++i) {
    Send("2" + std::to_string(i) + R"(["join","r)" + std::to_string(i) + R"("])");
  }
  EXPECT_EQ(Take(), (std::vector<std::string>{R"(31[{"ok":true}])", R"(32[{"ok":true}])",
                                              R"(33[{"ok":true}])",
                                              R"(34[{"error":"rate limit exceeded"}])",
                                              R"(35[{"error":"rate limit exceeded"}])"}));
  EXPECT_EQ(port_->subscribed().size(), subscriptions + 3) << "refused joins do nothing";
  port_->published().clear();
  Send(R"(2["chat","no ack"])");  // over the rate, no ack: dropped silently
  EXPECT_TRUE(Take().empty());
  EXPECT_TRUE(port_->published().empty()) << "a refused event is not relayed";
  EXPECT_EQ(shard_->stats().rate_limited, 3u);
  EXPECT_FALSE(session_->closed());
}

TEST_F(LimitsTest, TheBucketRefills) {
  ConnectionOptions options;
  options.message_rate = 1000;
  options.message_burst = 1;
  Make(options);
  Send("0");
  Take();
  Send(R"(21["join","a"])");
  // 1 ms later (1000/s) the bucket holds a token again.
  clock_.Advance(std::chrono::milliseconds(1));
  Send(R"(22["join","b"])");
  EXPECT_EQ(Take(), (std::vector<std::string>{R"(31[{"ok":true}])", R"(32[{"ok":true}])"}));
  EXPECT_EQ(shard_->stats().rate_limited, 0u);
  // Empty again; 0.9 of a token is not one, 1.1 is.
  Send(R"(23["join","c"])");
  clock_.Advance(std::chrono::microseconds(900));
  Send(R"(24["join","d"])");
  clock_.Advance(std::chrono::microseconds(200));
  Send(R"(25["join","e"])");
  EXPECT_EQ(Take(), (std::vector<std::string>{R"(33[{"error":"rate limit exceeded"}])",
                                              R"(34[{"error":"rate limit exceeded"}])",
                                              R"(35[{"ok":true}])"}));
  EXPECT_EQ(shard_->stats().rate_limited, 2u);
}

TEST_F(LimitsTest, DisconnectPolicyDisconnectsOnlyThatSocket) {
  ConnectionOptions options;
  options.message_rate = 0.001;
  options.message_burst = 2;  // the session's two CONNECTs take the session's bucket
  options.rate_limit_policy = RateLimitPolicy::kDisconnect;
  Make(options);
  Send("0");
  Send("0/n1,");
  Take();
  Send(R"(2["chat",1])");
  Send(R"(2["chat",2])");
  Send(R"(2["chat",3])");
  EXPECT_EQ(Take(), (std::vector<std::string>{"1"})) << "DISCONNECT for namespace /";
  EXPECT_EQ(connection_->socket_count(), 1u);
  EXPECT_FALSE(session_->closed());
  EXPECT_EQ(shard_->stats().rate_limited, 1u);
  Send(R"(2/n1,["chat",1])");  // the other namespace's socket has its own bucket
  EXPECT_EQ(shard_->stats().rate_limited, 1u);
}

TEST_F(LimitsTest, AcksCountTowardsTheSocketsRate) {
  ConnectionOptions options;
  options.message_rate = 0.001;
  options.message_burst = 3;
  Make(options);
  Send("0");
  Take();
  // ACKs of nothing pending are ignored, but they are packets to handle:
  // two of them take two of the socket's three tokens.
  Send(R"(31["answer"])");
  Send(R"(32["answer"])");
  Send(R"(23["join","a"])");
  Send(R"(24["join","b"])");
  EXPECT_EQ(Take(), (std::vector<std::string>{R"(33[{"ok":true}])",
                                              R"(34[{"error":"rate limit exceeded"}])"}));
  // An ACK over the rate is dropped without an answer (it has no ack id of
  // its own to answer).
  Send(R"(35["answer"])");
  EXPECT_TRUE(Take().empty());
  EXPECT_EQ(shard_->stats().rate_limited, 2u);
  EXPECT_FALSE(session_->closed());
}

TEST_F(LimitsTest, ConnectsAndDisconnectsCountTowardsTheSessionsRate) {
  ConnectionOptions options;
  options.message_rate = 1;
  options.message_burst = 3;
  Make(options);
  Send("0/n1,");
  Send("1/n1,");  // takes a token, and still leaves: leaving is never refused
  Send("0/n1,");
  EXPECT_EQ(connection_->socket_count(), 1u);
  ASSERT_EQ(Take().size(), 2u);
  Send("1/n1,");
  EXPECT_EQ(connection_->socket_count(), 0u);
  // A fresh socket would have a full bucket of its own: the session's
  // bucket is what bounds a connect/disconnect loop.
  Send("0/n1,");
  EXPECT_EQ(Take(), (std::vector<std::string>{R"(4/n1,{"message":"rate limit exceeded"})"}));
  EXPECT_EQ(connection_->socket_count(), 0u);
  EXPECT_EQ(shard_->stats().rate_limited, 1u);
  EXPECT_FALSE(session_->closed());
  clock_.Advance(std::chrono::seconds(1));
  Send("0/n1,");
  std::vector<std::string> sent = Take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].substr(0, 12), R"(0/n1,{"sid":)");
}

TEST_F(LimitsTest, ZeroRateMeansUnlimited) {
  ConnectionOptions options;
  options.message_rate = 0;
  options.message_burst = 0;
  Make(options);
  Send("0");
  Take();
  for (int i = 0; i < 100; ++i) Send(R"(2["chat",1])");
  EXPECT_EQ(shard_->stats().rate_limited, 0u);
}

TEST_F(LimitsTest, AnEventOverMaxEventBytesClosesOnlyItsSender) {
  ConnectionOptions options;
  options.max_event_bytes = 1000;
  Make(options);
  Send("0");
  Take();
  const size_t published = port_->published().size();
  // Two attachments, each far below any per-message bound, together over
  // the event bound.
  Send(R"(52-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  connection_->OnMessage(std::string(600, 'a'), true);
  EXPECT_FALSE(session_->closed());
  connection_->OnMessage(std::string(600, 'b'), true);
  io_.restart();
  io_.poll();
  EXPECT_TRUE(session_->closed());
  EXPECT_EQ(shard_->stats().events_too_large, 1u);
  EXPECT_EQ(port_->published().size(), published) << "nothing of it reached the broker";
}

TEST_F(LimitsTest, AttachmentsLaterThanTheAttachmentTimeoutCloseOnlyTheirSender) {
  ConnectionOptions options;
  options.attachment_timeout = std::chrono::milliseconds(30000);
  Make(options);
  Send("0");
  Take();
  const size_t published = port_->published().size();
  // A relayed binary event whose second attachment never comes.
  Send(R"(52-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  connection_->OnMessage("first", true);
  Advance(std::chrono::milliseconds(29999));
  EXPECT_FALSE(session_->closed()) << "within the bound";
  Advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(session_->closed());
  EXPECT_EQ(shard_->stats().attachments_timed_out, 1u);
  EXPECT_EQ(shard_->stats().protocol_errors, 1u);
  EXPECT_EQ(ShardSnapshot(*shard_).refusals["attachment_timeout"], 1u);
  EXPECT_EQ(port_->published().size(), published) << "nothing of it reached the broker";
}

TEST_F(LimitsTest, TheAttachmentTimeoutCountsFromEachHeaderAndEndsWithItsPacket) {
  ConnectionOptions options;
  options.attachment_timeout = std::chrono::milliseconds(1000);
  Make(options);
  Send("0");
  Take();
  EXPECT_TRUE(timers_.deadlines().empty()) << "no timer while nothing is pending";
  const size_t published = port_->published().size();
  // Complete in time: relayed, and the timer is gone.
  Send(R"(51-["file",{"_placeholder":true,"num":0}])");
  EXPECT_EQ(timers_.deadlines().size(), 1u);
  Advance(std::chrono::milliseconds(900));
  connection_->OnMessage("bytes", true);
  EXPECT_TRUE(timers_.deadlines().empty());
  // The next event gets its own full bound, from its own header.
  Send(R"(51-["file",{"_placeholder":true,"num":0}])");
  Advance(std::chrono::milliseconds(999));
  EXPECT_FALSE(session_->closed());
  connection_->OnMessage("bytes", true);
  Advance(std::chrono::milliseconds(5000));
  EXPECT_FALSE(session_->closed());
  EXPECT_EQ(shard_->stats().attachments_timed_out, 0u);
  EXPECT_EQ(port_->published().size(), published + 2) << "both events relayed";
}

// Rooms per client address: several sessions of one address (as on several
// shards: the count is the address table's, shared) against one bound.
class AddressRoomsTest : public ::testing::Test {
 protected:
  struct Client {
    std::unique_ptr<FakeSession> session;
    std::unique_ptr<Connection> connection;
    void Send(std::string_view text) { connection->OnMessage(text, false); }
  };

  void SetUp() override {
    auto config = ParseConfig(kConfig);
    ASSERT_TRUE(config.ok()) << config.status();
    shard_ = std::make_shared<Shard>(0, io_.get_executor(), std::make_shared<const Config>(*config),
                                     port_, ShardOptions{});
  }

  std::unique_ptr<Client> NewClient(const std::string& ip) {
    auto client = std::make_unique<Client>();
    client->session = std::make_unique<FakeSession>(io_, "eio" + std::to_string(++sessions_));
    engineio::AddressTable::Admission admission =
        table_->Admit(engineio::AddressKey::Of(boost::asio::ip::make_address(ip)));
    EXPECT_EQ(admission.outcome, engineio::AddressTable::Outcome::kAdmitted);
    client->session->SetAddress(std::move(admission.lease));
    ConnectionOptions options;
    options.clock = &clock_;
    client->connection = std::make_unique<Connection>(*client->session, shard_, options);
    return client;
  }
  void Run(Client& client, std::string_view text) {
    client.Send(text);
    port_->ConfirmAll();
    io_.restart();
    io_.poll();
  }
  uint64_t RoomsOf(const Client& client) const {
    return client.session->handshake().address.rooms();
  }

  base::FakeClock clock_;
  std::shared_ptr<engineio::AddressTable> table_ = engineio::AddressTable::Create(
      {.handshake_rate = 0, .max_sessions = 0, .max_rooms = 7}, clock_);
  boost::asio::io_context io_;
  std::shared_ptr<FakePort> port_ = std::make_shared<FakePort>(io_);
  std::shared_ptr<Shard> shard_;
  int sessions_ = 0;
};

TEST_F(AddressRoomsTest, JoinsPastTheAddressBoundAreRefusedAcrossItsSessions) {
  auto a = NewClient("192.0.2.1");
  auto b = NewClient("192.0.2.1");
  auto bystander = NewClient("192.0.2.99");
  Run(*a, "0");  // its own room + the namespace room: 2
  Run(*b, "0");  // 4
  Run(*a, R"(21["join","x"])");
  Run(*b, R"(21["join","y"])");
  Run(*b, R"(22["join","y"])");  // already in it: not a new membership
  Run(*a, R"(22["join","z"])");  // 7
  EXPECT_EQ(RoomsOf(*a), 7u);
  a->session->TakeSent();
  b->session->TakeSent();
  Run(*b, R"(23["join","w"])");
  Run(*a, R"(23["join","w"])");
  EXPECT_EQ(b->session->TakeSent(),
            (std::vector<std::string>{R"(33[{"error":"too many rooms for this address"}])"}));
  EXPECT_EQ(a->session->TakeSent(),
            (std::vector<std::string>{R"(33[{"error":"too many rooms for this address"}])"}));
  EXPECT_EQ(shard_->stats().rooms_per_address_refused, 2u);
  EXPECT_EQ(shard_->RoomCount(*shard_->Find(1)), 4u) << "a refused join changes nothing";
  // Another address is not affected.
  Run(*bystander, "0");
  Run(*bystander, R"(21["join","w"])");
  EXPECT_EQ(bystander->session->TakeSent().back(), R"(31[{"ok":true}])");
  // A leave makes room; so does a disconnect.
  Run(*a, R"(24["leave","x"])");
  Run(*b, R"(24["join","w"])");
  EXPECT_EQ(b->session->TakeSent(), (std::vector<std::string>{R"(34[{"ok":true}])"}));
  Run(*a, "1");
  EXPECT_EQ(RoomsOf(*b), 4u);
  b->connection->OnClose("transport close");
  EXPECT_EQ(RoomsOf(*b), 0u);
}

TEST_F(AddressRoomsTest, AConnectThatCannotTakeItsTwoRoomsIsRefused) {
  auto a = NewClient("2001:db8:1:2::1");
  auto b = NewClient("2001:db8:1:2::2");  // the same /64
  Run(*a, "0");
  Run(*a, "0/n1,");
  Run(*a, "0/n2,");  // 6 of 7
  a->session->TakeSent();
  Run(*b, "0");
  EXPECT_EQ(b->session->TakeSent(),
            (std::vector<std::string>{R"(4{"message":"Too many rooms for this address"})"}));
  EXPECT_EQ(b->connection->socket_count(), 0u);
  EXPECT_FALSE(b->session->closed());
  EXPECT_EQ(RoomsOf(*a), 6u) << "a refused CONNECT reserves nothing";
  EXPECT_EQ(shard_->stats().rooms_per_address_refused, 1u);
  // Rooms a service puts a socket in are counted, never refused.
  Run(*a, "1/n2,");  // 4
  Run(*b, "0");      // 6
  ASSERT_EQ(b->session->TakeSent().size(), 1u);
  v1::Envelope join;
  join.set_kind(v1::KIND_JOIN);
  join.set_channel(v1::CHANNEL_ROOMS);
  join.set_namespace_("/");
  join.add_membership_rooms("svc-1");
  join.add_membership_rooms("svc-2");
  shard_->OnDispatch(MakeDispatch(std::move(join)));
  io_.restart();
  io_.poll();
  EXPECT_EQ(RoomsOf(*a), 10u) << "both sockets of / joined both rooms";
  a->connection.reset();
  b->connection.reset();
  EXPECT_EQ(RoomsOf(*a), 0u);
}

}  // namespace
}  // namespace roomq::gateway::socketio
