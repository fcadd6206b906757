// Two socketio::Server instances ("gateways") on one real roomq-broker, with
// fake Engine.IO sessions: rooms, publish with sender exclusion, relay and
// service commands hold across gateways and across shards, each recipient
// getting a message exactly once.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/socketio/config.h"
#include "gateway/socketio/server.h"
#include "proto/node/link.h"
#include "tests/gateway/socketio/fakes.h"
#include "tests/support/broker_process.h"
#include "tests/support/wait_until.h"

namespace roomq::gateway::socketio {
namespace {

using std::chrono::milliseconds;
using testing::FakeSession;

constexpr milliseconds kTimeout{5000};

// One io thread.
class IoThread {
 public:
  IoThread() : guard_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~IoThread() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

  // Runs `fn` on the thread without waiting for it.
  void Post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }

  // Runs `fn` on the thread and waits for it.
  template <typename Fn>
  auto Run(Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// A gateway: a Server over `shards` io threads.
struct Gateway {
  std::vector<std::unique_ptr<IoThread>> threads;
  std::unique_ptr<Server> server;
};

// A fake client session living on one shard of a gateway.
class Client {
 public:
  Client(Gateway& gateway, size_t shard, std::string name)
      : gateway_(gateway), shard_(shard), thread_(*gateway.threads[shard]) {
    thread_.Run([&] {
      session_ = std::make_unique<FakeSession>(thread_.executor(), std::move(name));
      listener_ = gateway_.server->OnSessionOpen(*session_, shard_);
      return 0;
    });
  }
  ~Client() {
    thread_.Run([&] {
      listener_->OnClose("transport close");
      listener_.reset();
      session_.reset();
      return 0;
    });
  }

  // The Engine.IO session ends (as the gateway's graceful shutdown does).
  void CloseSession(const std::string& reason) {
    thread_.Run([&] {
      listener_->OnClose(reason);
      return 0;
    });
  }

  void Send(const std::string& text) {
    thread_.Run([&] {
      listener_->OnMessage(text, false);
      return 0;
    });
  }
  // Waits for a sent frame fully matching `pattern`; its submatches.
  std::smatch WaitForMatch(const std::regex& pattern, milliseconds timeout = kTimeout) {
    std::smatch match;
    const bool found = test_support::WaitUntil(
        [&] {
          for (const std::string& frame : Sent()) {
            if (std::regex_match(frame, pattern)) {
              // Copy the frame so the submatches outlive this vector.
              matched_.push_back(frame);
              std::regex_match(matched_.back(), match, pattern);
              return true;
            }
          }
          return false;
        },
        timeout);
    if (found) return match;
    ADD_FAILURE() << "nothing matched";
    // A failed match leaves `match` ready and empty, so a caller's match[i]
    // is an empty submatch rather than a read of results never made.
    static const std::string kNothing;
    std::regex_match(kNothing, match, pattern);
    return match;
  }
  std::vector<std::string> Sent() {
    return thread_.Run([&] { return session_->sent(); });
  }
  int Count(const std::string& frame) {
    auto sent = Sent();
    return static_cast<int>(std::count(sent.begin(), sent.end(), frame));
  }
  // Waits until `frame` was sent to this client; returns false on timeout.
  bool WaitFor(const std::string& frame, milliseconds timeout = kTimeout) {
    return test_support::WaitUntil([&] { return Count(frame) > 0; }, timeout);
  }
  // Connects to "/" and returns the socket id.
  std::string Connect() {
    Send("0");
    static const std::regex answer(R"re(^0\{"sid":"([A-Za-z0-9_-]{20})"\}$)re");
    std::string sid;
    const bool answered = test_support::WaitUntil(
        [&] {
          for (const std::string& frame : Sent()) {
            std::smatch match;
            if (std::regex_match(frame, match, answer)) {
              sid = match[1].str();
              return true;
            }
          }
          return false;
        },
        kTimeout);
    if (answered) return sid;
    ADD_FAILURE() << "no CONNECT answer";
    return "";
  }
  // Joins `room` and waits for the ack (ack id `ack`).
  void Join(const std::string& room, int ack) {
    Send(std::to_string(2) + std::to_string(ack) + "[\"join\",\"" + room + "\"]");
    EXPECT_TRUE(WaitFor("3" + std::to_string(ack) + "[{\"ok\":true}]")) << "join " << room;
  }

 private:
  Gateway& gateway_;
  size_t shard_;
  IoThread& thread_;
  std::unique_ptr<FakeSession> session_;
  std::unique_ptr<engineio::SessionListener> listener_;
  std::list<std::string> matched_;
};

class TwoGatewaysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = test_support::StartBroker();
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::make_unique<test_support::BrokerProcess>(*std::move(broker));
    a_ = MakeGateway(2);
    b_ = MakeGateway(1);
    ASSERT_NE(a_.server, nullptr);
    ASSERT_NE(b_.server, nullptr);
  }

  void TearDown() override {
    for (Gateway* gateway : {&a_, &b_}) {
      if (gateway->server) gateway->server->Shutdown();
    }
  }

  Gateway MakeGateway(size_t shards,
                      uint64_t max_shard_queue_bytes = ServerOptions().max_shard_queue_bytes) {
    Gateway gateway;
    std::vector<boost::asio::any_io_executor> executors;
    for (size_t i = 0; i < shards; ++i) {
      gateway.threads.push_back(std::make_unique<IoThread>());
      executors.push_back(gateway.threads.back()->executor());
    }
    ServerOptions options;
    auto config = ParseConfig(R"(
namespaces:
  - name: /
    relay: broadcast
  - name: /svc
    relay: none
    forward: true
  - name: /rec
    relay: none
    recovery: {max_disconnection: 30s}
)");
    EXPECT_TRUE(config.ok()) << config.status();
    options.config = *config;
    options.broker.pub_endpoint = broker_->pub_endpoint;
    options.broker.sub_endpoint = broker_->sub_endpoint;
    // Long enough that a loaded machine holding the bridge thread does not
    // look like a silent broker (a reconnect could drop what is in flight);
    // a broker kill is seen at once through the TCP disconnect.
    options.broker.heartbeat = milliseconds(1000);
    options.broker.receipt_timeout = milliseconds(1000);
    options.max_shard_queue_bytes = max_shard_queue_bytes;
    auto server = Server::Create(std::move(options), executors);
    EXPECT_TRUE(server.ok()) << server.status();
    if (server.ok()) gateway.server = *std::move(server);
    return gateway;
  }

  std::unique_ptr<test_support::BrokerProcess> broker_;
  Gateway a_;
  Gateway b_;
};

TEST_F(TwoGatewaysTest, PublishReachesEveryMemberOnceAndNeverTheSender) {
  Client sender(a_, 0, "sender");
  Client a0(a_, 0, "a0");
  Client a1(a_, 1, "a1");
  Client b0(b_, 0, "b0");
  Client outsider(b_, 0, "outsider");
  for (Client* client : {&sender, &a0, &a1, &b0, &outsider})
    ASSERT_FALSE(client->Connect().empty());
  int ack = 1;
  for (Client* client : {&sender, &a0, &a1, &b0}) client->Join("room", ack++);

  sender.Send(R"(250["publish","room","chat",{"text":"hi"}])");
  ASSERT_TRUE(sender.WaitFor(R"(350[{"ok":true}])")) << "publish acked once the broker has it";
  const std::string chat = R"(2["chat",{"text":"hi"}])";
  for (Client* client : {&a0, &a1, &b0}) EXPECT_TRUE(client->WaitFor(chat));

  // A second publish as a marker: once everyone has it, the first one can
  // no longer be in flight, so the counts are final.
  sender.Send(R"(251["publish","room","marker"])");
  for (Client* client : {&a0, &a1, &b0}) ASSERT_TRUE(client->WaitFor(R"(2["marker"])"));
  for (Client* client : {&a0, &a1, &b0}) EXPECT_EQ(client->Count(chat), 1);
  EXPECT_EQ(sender.Count(chat), 0) << "never the sender";
  EXPECT_EQ(outsider.Count(chat), 0) << "not a member";
}

TEST_F(TwoGatewaysTest, RelayBroadcastCrossesGatewaysExceptTheSender) {
  Client a0(a_, 0, "a0");
  Client a1(a_, 1, "a1");
  Client b0(b_, 0, "b0");
  for (Client* client : {&a0, &a1, &b0}) ASSERT_FALSE(client->Connect().empty());
  b0.Send(R"(2["hello",1])");
  EXPECT_TRUE(a0.WaitFor(R"(2["hello",1])"));
  EXPECT_TRUE(a1.WaitFor(R"(2["hello",1])"));
  b0.Send(R"(2["marker"])");
  ASSERT_TRUE(a0.WaitFor(R"(2["marker"])"));
  ASSERT_TRUE(a1.WaitFor(R"(2["marker"])"));
  EXPECT_EQ(a0.Count(R"(2["hello",1])"), 1);
  EXPECT_EQ(a1.Count(R"(2["hello",1])"), 1);
  EXPECT_EQ(b0.Count(R"(2["hello",1])"), 0);
}

TEST_F(TwoGatewaysTest, ServiceEmitsWithMultiRoomTargetsAndExclusions) {
  Client a0(a_, 0, "a0");
  Client a1(a_, 1, "a1");
  Client b0(b_, 0, "b0");
  const std::string id_a0 = a0.Connect();
  const std::string id_a1 = a1.Connect();
  const std::string id_b0 = b0.Connect();
  a0.Join("x", 1);
  a0.Join("y", 2);
  a1.Join("y", 1);
  b0.Join("x", 1);
  b0.Join("vip", 2);

  zmq::context_t context(1);
  node::LinkOptions options;
  options.pub_endpoint = broker_->pub_endpoint;
  options.sub_endpoint = broker_->sub_endpoint;
  auto link = node::Link::Create(context, options, {[](node::Delivery&) {}, nullptr, nullptr});
  ASSERT_TRUE(link.ok()) << link.status();
  auto publish = [&](const std::vector<std::string>& rooms,
                     const std::vector<std::string>& except_rooms, const std::string& event) {
    v1::Envelope envelope;
    envelope.set_kind(v1::KIND_EVENT);
    envelope.set_channel(v1::CHANNEL_ROOMS);
    envelope.set_namespace_("/");
    for (auto& room : rooms) envelope.add_rooms(room);
    for (auto& room : except_rooms) envelope.add_except_rooms(room);
    envelope.set_event(event);
    envelope.set_args("[]");
    bool done = false;
    ASSERT_TRUE((*link)
                    ->Publish(envelope,
                              [&](const absl::StatusOr<v1::PublishReceipt>& receipt) {
                                EXPECT_TRUE(receipt.ok()) << receipt.status();
                                done = true;
                              })
                    .ok());
    auto deadline = std::chrono::steady_clock::now() + kTimeout;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      ASSERT_TRUE((*link)->Poll(milliseconds(10)).ok());
    }
    ASSERT_TRUE(done);
  };

  publish({"x", "y"}, {}, "both");
  for (Client* client : {&a0, &a1, &b0}) ASSERT_TRUE(client->WaitFor(R"(2["both"])"));
  publish({"x", "y"}, {"vip"}, "not-vip");
  ASSERT_TRUE(a0.WaitFor(R"(2["not-vip"])"));
  ASSERT_TRUE(a1.WaitFor(R"(2["not-vip"])"));
  publish({id_a0, id_b0}, {}, "direct");
  ASSERT_TRUE(a0.WaitFor(R"(2["direct"])"));
  ASSERT_TRUE(b0.WaitFor(R"(2["direct"])"));
  publish({}, {}, "marker");
  for (Client* client : {&a0, &a1, &b0}) ASSERT_TRUE(client->WaitFor(R"(2["marker"])"));

  EXPECT_EQ(a0.Count(R"(2["both"])"), 1) << "in x and y, reached once";
  EXPECT_EQ(a1.Count(R"(2["both"])"), 1);
  EXPECT_EQ(b0.Count(R"(2["both"])"), 1);
  EXPECT_EQ(b0.Count(R"(2["not-vip"])"), 0) << "except_rooms holds on the other gateway";
  EXPECT_EQ(a1.Count(R"(2["direct"])"), 0) << "addressed by socket id only";
  EXPECT_FALSE(id_a1.empty());
}

TEST_F(TwoGatewaysTest, RoomsSurviveABrokerRestart) {
  Client a0(a_, 0, "a0");
  Client b0(b_, 0, "b0");
  ASSERT_FALSE(a0.Connect().empty());
  ASSERT_FALSE(b0.Connect().empty());
  b0.Join("room", 1);

  broker_->process->Kill();
  auto again = test_support::StartBroker(broker_->SameEndpoints());
  ASSERT_TRUE(again.ok()) << again.status();
  *broker_ = *std::move(again);

  // Nobody re-joins: the bridges restore their subscriptions by themselves.
  // Publish until one is acked and delivered (the first ones may fall into
  // the outage and be answered with an error ack).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  bool delivered = false;
  for (int ack = 10; !delivered && std::chrono::steady_clock::now() < deadline; ++ack) {
    const std::string text = "after-" + std::to_string(ack);
    a0.Send("2" + std::to_string(ack) + "[\"publish\",\"room\",\"chat\",\"" + text + "\"]");
    delivered = b0.WaitFor("2[\"chat\",\"" + text + "\"]", milliseconds(1500));
  }
  EXPECT_TRUE(delivered) << "no publish got through after the broker restart";
}

// Waits until `gateway` holds `expected` broker topics.
bool WaitForTopics(Gateway& gateway, uint64_t expected) {
  if (test_support::WaitUntil([&] { return gateway.server->bridge_stats().topics == expected; },
                              kTimeout)) {
    return true;
  }
  ADD_FAILURE() << "topics: " << gateway.server->bridge_stats().topics << ", expected " << expected;
  return false;
}

TEST_F(TwoGatewaysTest, TopicRefcountsFollowMembershipAcrossShards) {
  EXPECT_TRUE(WaitForTopics(a_, 0));
  {
    Client a0(a_, 0, "a0");
    Client a1(a_, 1, "a1");
    ASSERT_FALSE(a0.Connect().empty());
    ASSERT_FALSE(a1.Connect().empty());
    a0.Join("room", 1);
    a1.Join("room", 1);
    // (/, ""), (/, a0's id), (/, a1's id), (/, room): one broker topic each,
    // although two shards hold members of two of them.
    EXPECT_TRUE(WaitForTopics(a_, 4));
    a0.Send(R"(22["leave","room"])");
    ASSERT_TRUE(a0.WaitFor(R"(32[{"ok":true}])"));
    // a1, on the other shard, still holds the room: still subscribed.
    Client b0(b_, 0, "b0");
    ASSERT_FALSE(b0.Connect().empty());
    b0.Send(R"(23["publish","room","still"])");
    ASSERT_TRUE(b0.WaitFor(R"(33[{"ok":true}])"));
    EXPECT_TRUE(a1.WaitFor(R"(2["still"])"));
    EXPECT_EQ(a0.Count(R"(2["still"])"), 0);
    EXPECT_EQ(a_.server->bridge_stats().topics, 4u);
    a1.Send(R"(22["leave","room"])");
    ASSERT_TRUE(a1.WaitFor(R"(32[{"ok":true}])"));
    EXPECT_TRUE(WaitForTopics(a_, 3)) << "the last member left";
  }
  EXPECT_TRUE(WaitForTopics(a_, 0)) << "disconnects leave every room";
}

TEST_F(TwoGatewaysTest, ServicesHearConnectionsAndShutdownDisconnections) {
  zmq::context_t context(1);
  node::LinkOptions options;
  options.pub_endpoint = broker_->pub_endpoint;
  options.sub_endpoint = broker_->sub_endpoint;
  std::vector<v1::Envelope> heard;
  auto service = node::Link::Create(
      context, options,
      {[&](node::Delivery& delivery) { heard.push_back(delivery.envelope); }, nullptr, nullptr});
  ASSERT_TRUE(service.ok()) << service.status();
  bool subscribed = false;
  (*service)->Subscribe(wire::ServiceTopic("/svc"), [&](const absl::Status& status) {
    EXPECT_TRUE(status.ok()) << status;
    subscribed = true;
  });
  auto poll_until = [&](const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + kTimeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      EXPECT_TRUE((*service)->Poll(milliseconds(10)).ok());
    }
    return done();
  };
  ASSERT_TRUE(poll_until([&] { return subscribed; }));

  Client client(a_, 0, "svc-client");
  client.Send(R"(0/svc,{"token":"t1"})");
  ASSERT_TRUE(poll_until([&] { return !heard.empty(); }));
  const v1::Envelope connection = heard[0];
  EXPECT_EQ(connection.kind(), v1::KIND_CONNECTION);
  EXPECT_EQ(connection.auth(), R"({"token":"t1"})");
  EXPECT_EQ(connection.reply_to(), a_.server->node_id());
  EXPECT_TRUE(client.WaitFor(R"(0/svc,{"sid":")" + connection.socket_id() + R"("})"));

  // Graceful shutdown: sessions end first, then the bridge stops at once;
  // the disconnection queued in between still reaches the service.
  client.CloseSession("server shutting down");
  a_.server->Shutdown();
  ASSERT_TRUE(poll_until([&] { return heard.size() >= 2; }));
  EXPECT_EQ(heard[1].kind(), v1::KIND_DISCONNECTION);
  EXPECT_EQ(heard[1].socket_id(), connection.socket_id());
  EXPECT_EQ(heard[1].reason(), "server shutting down");
  ASSERT_EQ(heard[1].membership_rooms_size(), 1);
  EXPECT_EQ(heard[1].membership_rooms(0), connection.socket_id());
}

}  // namespace
}  // namespace roomq::gateway::socketio

namespace roomq::gateway::socketio {
namespace {

// Connection state recovery through the real broker: a socket whose
// session ended on gateway A ("transport close") is claimed on gateway B
// with its pid and last offset: same id and pid, every event published
// meanwhile in order once, then live events (its room has no other member
// on B: the bridge must route to it from the broker's answer on).
TEST_F(TwoGatewaysTest, ASocketRecoversOnTheOtherGatewayWithEveryMissedEventOnce) {
  Client publisher(b_, 0, "publisher");
  publisher.Send("0/rec,");
  publisher.WaitForMatch(std::regex(R"(0/rec,\{"sid":"[^"]+","pid":"[^"]+"\})"));
  std::string sid;
  std::string pid;
  std::string offset;
  {
    Client receiver(a_, 1, "receiver");
    receiver.Send("0/rec,");
    std::smatch answer =
        receiver.WaitForMatch(std::regex(R"re(0/rec,\{"sid":"([^"]+)","pid":"([^"]+)"\})re"));
    sid = answer[1].str();
    pid = answer[2].str();
    receiver.Send(R"(2/rec,1["join","feed"])");
    ASSERT_TRUE(receiver.WaitFor(R"(3/rec,1[{"ok":true}])"));
    publisher.Send(R"(2/rec,100["publish","feed","m",0])");
    std::smatch first =
        receiver.WaitForMatch(std::regex(R"re(2/rec,\["m",0,"([0-9]+-[0-9]+)"\])re"));
    offset = first[1].str();
    receiver.CloseSession("transport close");  // saved in the broker
  }
  for (int i = 1; i <= 50; ++i) {
    publisher.Send("2/rec," + std::to_string(100 + i) + R"(["publish","feed","m",)" +
                   std::to_string(i) + "]");
    ASSERT_TRUE(publisher.WaitFor("3/rec," + std::to_string(100 + i) + R"([{"ok":true}])"));
  }
  Client back(b_, 0, "back");
  back.Send(R"(0/rec,{"pid":")" + pid + R"(","offset":")" + offset + R"("})");
  back.WaitForMatch(std::regex(R"(0/rec,\{"sid":")" + sid + R"(","pid":")" + pid + R"("\})"));
  publisher.Send(R"(2/rec,200["publish","feed","m",51])");
  back.WaitForMatch(std::regex(R"re(2/rec,\["m",51,"[0-9]+-[0-9]+"\])re"));
  std::vector<std::string> sent = back.Sent();
  ASSERT_EQ(sent.size(), 52u);
  static const std::regex event(R"re(2/rec,\["m",([0-9]+),"[0-9]+-([0-9]+)"\])re");
  uint64_t last_sequence = 0;
  for (int i = 1; i <= 51; ++i) {
    std::smatch match;
    ASSERT_TRUE(std::regex_match(sent[i], match, event)) << sent[i];
    EXPECT_EQ(match[1].str(), std::to_string(i)) << "in order, each once";
    const uint64_t sequence = std::stoull(match[2].str());
    EXPECT_GT(sequence, last_sequence);
    last_sequence = sequence;
  }
}

// The bridge -> shard hand-off is bounded in bytes per shard: while one io
// thread is stalled, what the bridge posts to it stops at
// max_shard_queue_bytes (the rest is dropped for that shard and counted),
// and the other shard of the same gateway gets every delivery. Once the
// stalled thread runs again it gets what fit, then live deliveries.
TEST_F(TwoGatewaysTest, AStalledShardHoldsAtMostItsHandOffBytesAndTheOtherShardGetsEverything) {
  constexpr uint64_t kBound = 1 << 20;
  Gateway gateway = MakeGateway(2, kBound);
  ASSERT_NE(gateway.server, nullptr);
  Client publisher(b_, 0, "publisher");
  Client steady(gateway, 0, "steady");
  Client stalled(gateway, 1, "stalled");
  for (Client* client : {&publisher, &steady, &stalled}) ASSERT_FALSE(client->Connect().empty());
  steady.Join("big", 1);
  stalled.Join("big", 1);

  // Shard 1's io thread waits until `release` runs (at the latest when this
  // test returns, so a failed assertion cannot leave it blocked).
  std::promise<void> unblock;
  std::shared_future<void> unblocked = unblock.get_future().share();
  gateway.threads[1]->Post([unblocked] { unblocked.wait(); });
  std::unique_ptr<std::promise<void>, void (*)(std::promise<void>*)> release(
      &unblock, [](std::promise<void>* p) { p->set_value(); });

  // 30 events of 100 KB: each dispatch is charged ~200 KB (the envelope and
  // its frame), so about five fit the stalled shard's 1 MiB.
  const std::string payload(size_t{100} * 1000, 'p');
  constexpr int kEvents = 30;
  for (int i = 0; i < kEvents; ++i) {
    const std::string ack = std::to_string(100 + i);
    std::string event = "2" + ack + R"(["publish","big","ev",")" + std::to_string(i);
    event.append(payload).append("\"]");
    publisher.Send(event);
    ASSERT_TRUE(publisher.WaitFor("3" + ack + R"([{"ok":true}])")) << i;
  }
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(steady.WaitFor(R"(2["ev",")" + std::to_string(i) + payload + "\"]")) << i;
  }
  const bridge::BridgeStats stats = gateway.server->bridge_stats();
  EXPECT_GT(stats.dispatches_dropped, 0u);
  EXPECT_LE(stats.shard_queued_bytes, kBound);
  EXPECT_GT(stats.shard_queued_bytes, 0u);

  release.reset();
  publisher.Send(R"(2200["publish","big","ev","after"])");
  ASSERT_TRUE(publisher.WaitFor(R"(3200[{"ok":true}])"));
  ASSERT_TRUE(stalled.WaitFor(R"(2["ev","after"])"));
  int got = 0;
  for (int i = 0; i < kEvents; ++i)
    got += stalled.Count(R"(2["ev",")" + std::to_string(i) + payload + "\"]");
  EXPECT_GT(got, 0);
  EXPECT_EQ(static_cast<uint64_t>(got + stats.dispatches_dropped), static_cast<uint64_t>(kEvents));
  std::printf(
      "[ hand-off ] stalled shard: %d of %d events posted, %llu dropped, %llu of %llu bytes "
      "queued while stalled\n",
      got, kEvents, static_cast<unsigned long long>(stats.dispatches_dropped),
      static_cast<unsigned long long>(stats.shard_queued_bytes),
      static_cast<unsigned long long>(kBound));
  EXPECT_EQ(gateway.server->bridge_stats().shard_queued_bytes, 0u);
  gateway.server->Shutdown();
}

}  // namespace
}  // namespace roomq::gateway::socketio
