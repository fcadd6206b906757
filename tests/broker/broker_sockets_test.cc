// The broker's socket records end to end in process: an in-process Broker
// on a FakeClock, gateways played by raw wire nodes. Takeover (the old node
// is told to close the socket), a node's death (heartbeat expiry, Goodbye),
// a node's full list (reconciliation), the bounds, a restart with
// --data-dir (records come back; connected ones of a node that does not say
// Hello within the grace turn disconnected).
//
// Time moves only when a test advances the clock; what housekeeping does is
// awaited through the stats observer (every housekeeping pass publishes).

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "absl/synchronization/mutex.h"
#include "broker/broker.h"
#include "proto/base/clock.h"
#include "proto/roomq.pb.h"
#include "proto/wire/topic.h"
#include "tests/broker/wire_node.h"

namespace roomq::broker {
namespace {

using broker_test::WireNode;
using sockets::RecoverOutcome;
using std::chrono::milliseconds;

constexpr milliseconds kWait{5000};
// Nodes that must not expire while the clock moves.
constexpr uint32_t kLongHeartbeatMs = 600000;

v1::SocketUpdate Open(const std::string& id, uint32_t ttl_ms = 60000,
                      const std::vector<std::string>& rooms = {"general"}) {
  v1::SocketUpdate update;
  v1::Session* session = update.mutable_open()->mutable_session();
  session->set_pid("pid-" + id);
  session->set_namespace_("/chat");
  session->set_socket_id(id);
  session->add_rooms(id);
  for (const std::string& room : rooms) session->add_rooms(room);
  session->set_ttl_ms(ttl_ms);
  return update;
}

v1::SocketUpdate Close(const std::string& id, bool recoverable = true) {
  v1::SocketUpdate update;
  update.mutable_close()->set_namespace_("/chat");
  update.mutable_close()->set_socket_id(id);
  update.mutable_close()->set_recoverable(recoverable);
  return update;
}

v1::SocketUpdate Join(const std::string& id, const std::string& room) {
  v1::SocketUpdate update;
  update.mutable_rooms()->set_namespace_("/chat");
  update.mutable_rooms()->set_socket_id(id);
  update.mutable_rooms()->add_joined(room);
  return update;
}

class BrokerSocketsTest : public ::testing::Test {
 protected:
  void SetUp() override {}
  void TearDown() override {
    Stop();
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  void Start(bool durable = false, sockets::SocketIndexOptions sessions = {}) {
    if (durable && dir_.empty()) {
      std::string pattern =
          (std::filesystem::path(::testing::TempDir()) / "broker_sockets_XXXXXX").string();
      ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
      dir_ = pattern;
    }
    BrokerOptions options;
    options.pub_bind = "tcp://127.0.0.1:*";
    options.sub_bind = "tcp://127.0.0.1:*";
    options.clock = &clock_;
    options.sessions = sessions;
    if (durable) options.data_dir = dir_;
    auto broker = Broker::Create(context_, options);
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
    broker_->SetStatsObserver(
        [this](const BrokerStats& stats) {
          absl::MutexLock lock(&mutex_);
          observed_ = stats;
          ++observations_;
        },
        milliseconds(0));
    thread_ = std::thread([this] { EXPECT_TRUE(broker_->Run().ok()); });
  }

  void Stop() {
    nodes_.clear();
    if (broker_) broker_->Stop();
    if (thread_.joinable()) thread_.join();
    broker_.reset();
  }

  WireNode& Node(const std::string& id, uint32_t heartbeat_ms = kLongHeartbeatMs) {
    nodes_.push_back(
        std::make_unique<WireNode>(context_, broker_->pub_endpoint(), broker_->sub_endpoint()));
    EXPECT_TRUE(nodes_.back()->Join(id, heartbeat_ms).ok()) << id;
    return *nodes_.back();
  }

  template <typename Predicate>
  v1::BrokerFrame NextFrame(WireNode& node, Predicate predicate) {
    auto received = node.ReceiveWhere(predicate, kWait);
    EXPECT_TRUE(received.ok()) << received.status();
    return received.ok() ? received->frame : v1::BrokerFrame();
  }

  // Sends one Sockets command and waits for the broker's Reply (asked for
  // with a request id), so the changes took effect on return.
  void Sockets(WireNode& node, const std::vector<v1::SocketUpdate>& updates, bool full = false) {
    v1::SubscriberCommand command;
    const uint64_t request_id = ++request_id_;
    command.set_request_id(request_id);
    for (const v1::SocketUpdate& update : updates)
      *command.mutable_sockets()->add_updates() = update;
    command.mutable_sockets()->set_full(full);
    node.Command(command);
    NextFrame(node, [&](const v1::BrokerFrame& frame) {
      return frame.has_reply() && frame.reply().request_id() == request_id;
    });
  }

  // Asks for the session of socket `id` after `after_sequence`, or, with
  // kSessionStart, from where its record says the socket started (a client
  // without an offset).
  static constexpr uint64_t kSessionStart = ~uint64_t{0};
  v1::Recovered Recover(WireNode& node, const std::string& id, uint64_t after_sequence = 0) {
    v1::SubscriberCommand command;
    const uint64_t request_id = ++request_id_;
    command.set_request_id(request_id);
    command.mutable_recover()->set_pid("pid-" + id);
    command.mutable_recover()->set_namespace_("/chat");
    command.mutable_recover()->set_epoch(broker_->epoch());
    if (after_sequence == kSessionStart) {
      command.mutable_recover()->set_use_session_start(true);
    } else {
      command.mutable_recover()->set_after_sequence(after_sequence);
    }
    node.Command(command);
    return NextFrame(node,
                     [&](const v1::BrokerFrame& frame) {
                       return frame.has_recovered() && frame.recovered().request_id() == request_id;
                     })
        .recovered();
  }

  // One presence page of /chat `room` ("" = the namespace) after `after`.
  v1::PresenceAnswer Presence(WireNode& node, const std::string& room,
                              const std::string& after = "", uint32_t limit = 0) {
    v1::SubscriberCommand command;
    const uint64_t request_id = ++request_id_;
    command.set_request_id(request_id);
    v1::Presence& query = *command.mutable_presence();
    query.set_namespace_("/chat");
    if (!room.empty()) query.add_rooms(room);
    query.set_after(after);
    query.set_limit(limit);
    node.Command(command);
    return NextFrame(node,
                     [&](const v1::BrokerFrame& frame) {
                       return frame.has_presence() && frame.presence().request_id() == request_id;
                     })
        .presence();
  }

  // Advances the clock a housekeeping step at a time until a housekeeping
  // pass publishes counters that satisfy `predicate`.
  BrokerStats AwaitStats(const std::function<bool(const BrokerStats&)>& predicate)
      ABSL_LOCKS_EXCLUDED(mutex_) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      uint64_t seen = 0;
      {
        absl::MutexLock lock(&mutex_);
        seen = observations_;
      }
      clock_.Advance(milliseconds(30));
      absl::MutexLock lock(&mutex_);
      auto observed_more = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
        return observations_ > seen;
      };
      if (mutex_.AwaitWithTimeout(absl::Condition(&observed_more), absl::Milliseconds(200)) &&
          predicate(observed_)) {
        return observed_;
      }
    }
    absl::MutexLock lock(&mutex_);
    ADD_FAILURE() << "the counters never matched; last: " << observed_.ToString();
    return observed_;
  }

  std::string dir_;
  base::FakeClock clock_;
  zmq::context_t context_;
  std::unique_ptr<Broker> broker_;
  std::thread thread_;
  std::vector<std::unique_ptr<WireNode>> nodes_;
  uint64_t request_id_ = 0;

  absl::Mutex mutex_;
  BrokerStats observed_ ABSL_GUARDED_BY(mutex_);
  uint64_t observations_ ABSL_GUARDED_BY(mutex_) = 0;
};

uint64_t Outcome(const BrokerStats& stats, RecoverOutcome outcome) {
  return stats.recovery_count(outcome);
}

TEST_F(BrokerSocketsTest, ATakeoverTellsTheOldNodeToCloseTheSocket) {
  Start();
  WireNode& gw_a = Node("gw-a");
  WireNode& gw_b = Node("gw-b");
  WireNode& gw_c = Node("gw-c");
  Sockets(gw_a, {Open("s1")});

  // The client is back on gw-b before anyone noticed gw-a lost it.
  const v1::Recovered recovered = Recover(gw_b, "s1");
  ASSERT_TRUE(recovered.ok()) << recovered.error();
  EXPECT_EQ(recovered.session().socket_id(), "s1");
  EXPECT_EQ(recovered.session().node(), "gw-b");
  const v1::BrokerFrame close =
      NextFrame(gw_a, [](const v1::BrokerFrame& frame) { return frame.has_close_socket(); });
  EXPECT_EQ(close.close_socket().namespace_(), "/chat");
  EXPECT_EQ(close.close_socket().socket_id(), "s1");

  // gw-a's close, sent before it heard, does not touch the record that
  // moved: a third node's recovery takes it over from gw-b.
  Sockets(gw_a, {Close("s1")});
  const v1::Recovered again = Recover(gw_c, "s1");
  ASSERT_TRUE(again.ok()) << again.error();
  NextFrame(gw_b, [](const v1::BrokerFrame& frame) { return frame.has_close_socket(); });

  // The same node asking for a socket it holds is refused.
  EXPECT_EQ(Recover(gw_c, "s1").error(), "socket still connected");
  const BrokerStats stats = AwaitStats(
      [](const BrokerStats& s) { return s.recovery_count(RecoverOutcome::kTakenOver) == 2; });
  EXPECT_EQ(Outcome(stats, RecoverOutcome::kRefused), 1u);
  EXPECT_EQ(stats.socket_updates_ignored, 1u);  // gw-a's late close
  EXPECT_EQ(stats.socket_records_connected, 1u);
}

TEST_F(BrokerSocketsTest, ANodeWhoseHeartbeatExpiresLeavesRecoverableRecords) {
  Start();
  WireNode& gw_a = Node("gw-a", /*heartbeat_ms=*/1000);
  WireNode& gw_b = Node("gw-b");
  Sockets(gw_a, {Open("kept"), Open("plain", /*ttl_ms=*/0)});
  ASSERT_TRUE(gw_b.Subscribe({wire::RoomTopic("/chat", "watch")}).ok());

  clock_.Advance(std::chrono::seconds(3));  // gw-a silent for 3 heartbeats
  const BrokerStats stats =
      AwaitStats([](const BrokerStats& s) { return s.socket_records_disconnected == 1; });
  EXPECT_EQ(stats.socket_records_connected, 0u);  // "plain" had no recovery: removed
  EXPECT_EQ(stats.peers, 1u);

  const v1::Recovered recovered = Recover(gw_b, "kept");
  ASSERT_TRUE(recovered.ok()) << recovered.error();
  EXPECT_EQ(Recover(gw_b, "plain").error(), "unknown session");
  const BrokerStats after = AwaitStats(
      [](const BrokerStats& s) { return s.recovery_count(RecoverOutcome::kRecovered) == 1; });
  EXPECT_EQ(Outcome(after, RecoverOutcome::kTakenOver), 0u);
  EXPECT_EQ(Outcome(after, RecoverOutcome::kUnknown), 1u);
}

std::vector<std::string> Ids(const v1::PresenceAnswer& answer) {
  std::vector<std::string> ids;
  for (const v1::Session& session : answer.sockets()) ids.push_back(session.socket_id());
  return ids;
}

TEST_F(BrokerSocketsTest, PresenceAnswersFromEveryNodesRecordsWithoutTheirSecrets) {
  Start();
  WireNode& gw_a = Node("gw-a", /*heartbeat_ms=*/1000);
  WireNode& gw_b = Node("gw-b");
  WireNode& service = Node("service");
  Sockets(gw_a, {Open("a1"), Open("a2", 60000, {"general", "vip"})});
  Sockets(gw_b, {Open("b1", 60000, {"vip"}), Join("b1", "general")});

  v1::PresenceAnswer vip = Presence(service, "vip");
  ASSERT_TRUE(vip.ok()) << vip.error();
  EXPECT_EQ(Ids(vip), (std::vector<std::string>{"a2", "b1"}));
  EXPECT_EQ(vip.total(), 2u);
  EXPECT_TRUE(vip.next_after().empty());
  const v1::Session& b1 = vip.sockets(1);
  EXPECT_EQ(b1.node(), "gw-b");
  EXPECT_EQ(b1.namespace_(), "/chat");
  EXPECT_EQ(b1.rooms_size(), 3);  // its own, vip, general
  EXPECT_TRUE(b1.pid().empty()) << "the recovery secret never leaves the broker";
  EXPECT_EQ(b1.ttl_ms(), 0u);

  // Pages in socket id order.
  v1::PresenceAnswer first = Presence(service, "general", "", /*limit=*/2);
  EXPECT_EQ(Ids(first), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(first.total(), 3u);
  EXPECT_EQ(first.next_after(), "a2");
  v1::PresenceAnswer second = Presence(service, "general", first.next_after(), 2);
  EXPECT_EQ(Ids(second), std::vector<std::string>{"b1"});
  EXPECT_TRUE(second.next_after().empty());

  // gw-a dies (3 silent heartbeats): its sockets leave presence.
  clock_.Advance(std::chrono::seconds(3));
  AwaitStats([](const BrokerStats& s) { return s.socket_records_disconnected == 2; });
  EXPECT_EQ(Ids(Presence(service, "")), std::vector<std::string>{"b1"});

  // A bad query is refused, and counted.
  v1::SubscriberCommand bad;
  bad.set_request_id(++request_id_);
  bad.mutable_presence()->set_namespace_("");
  service.Command(bad);
  const v1::BrokerFrame refused =
      NextFrame(service, [](const v1::BrokerFrame& frame) { return frame.has_presence(); });
  EXPECT_FALSE(refused.presence().ok());
  EXPECT_FALSE(refused.presence().error().empty());
  // So is one naming more than 100 rooms.
  v1::SubscriberCommand wide;
  wide.set_request_id(++request_id_);
  wide.mutable_presence()->set_namespace_("/chat");
  for (int i = 0; i <= 100; ++i) wide.mutable_presence()->add_rooms("r" + std::to_string(i));
  service.Command(wide);
  const v1::BrokerFrame too_wide =
      NextFrame(service, [](const v1::BrokerFrame& frame) { return frame.has_presence(); });
  EXPECT_FALSE(too_wide.presence().ok());
  EXPECT_EQ(too_wide.presence().error(), "over 100 rooms in one query");
  const BrokerStats stats =
      AwaitStats([](const BrokerStats& s) { return s.presence_refused == 2; });
  EXPECT_EQ(stats.presence_queries, 6u);
}

// io.to(room).timeout(ms).emit(..., cb): the publisher learns how many
// answers to expect from the receipt.
TEST_F(BrokerSocketsTest, AConfirmedEventWithAcksIsReceiptedWithItsTargetSocketCount) {
  Start();
  WireNode& gw_a = Node("gw-a");
  WireNode& gw_b = Node("gw-b");
  WireNode& service = Node("service");
  Sockets(gw_a, {Open("a1", 60000, {"vip"}), Open("a2", 60000, {"vip", "muted"})});
  Sockets(gw_b, {Open("b1", 60000, {"vip"}), Open("b2", 60000, {"lobby"})});
  uint64_t message_id = 0;
  auto receipt_of = [&](v1::Envelope envelope) {
    envelope.set_version(v1::VERSION_1);
    envelope.set_kind(v1::KIND_EVENT);
    envelope.set_channel(v1::CHANNEL_ROOMS);
    envelope.set_namespace_("/chat");
    envelope.set_event("vote");
    envelope.set_origin("service");
    envelope.set_message_id(++message_id);
    envelope.set_confirm(true);
    service.Publish(envelope);
    auto receipt = service.ReceiveReceipt(kWait);
    EXPECT_TRUE(receipt.ok()) << receipt.status();
    EXPECT_TRUE(!receipt.ok() || receipt->accepted());
    return receipt.ok() ? receipt->ack_sockets() : ~uint64_t{0};
  };
  v1::Envelope vote;
  vote.add_rooms("vip");
  vote.set_ack_id(1);
  EXPECT_EQ(receipt_of(vote), 3u);
  vote.add_except_rooms("muted");
  vote.set_except_socket("b1");
  EXPECT_EQ(receipt_of(vote), 1u);  // a1
  vote.clear_rooms();
  vote.clear_except_rooms();
  vote.clear_except_socket();
  EXPECT_EQ(receipt_of(vote), 4u) << "the whole namespace";
  vote.clear_ack_id();
  EXPECT_EQ(receipt_of(vote), 0u) << "no acks asked";
}

TEST_F(BrokerSocketsTest, AFullListDisconnectsTheNodesRecordsItDoesNotName) {
  Start();
  WireNode& gw_a = Node("gw-a");
  WireNode& gw_b = Node("gw-b");
  Sockets(gw_a, {Open("s1"), Open("s2"), Open("s3")});

  // gw-a reconnects (Hello again) and lists s1, then s3, in two commands;
  // only the last says full. s2 left while the two could not talk.
  gw_a.Hello("gw-a", kLongHeartbeatMs);
  Sockets(gw_a, {Open("s1")});
  Sockets(gw_a, {Open("s3")}, /*full=*/true);
  AwaitStats([](const BrokerStats& s) {
    return s.socket_records_connected == 2 && s.socket_records_disconnected == 1;
  });
  ASSERT_TRUE(Recover(gw_b, "s2").ok());
  ASSERT_TRUE(Recover(gw_b, "s1").ok());  // still gw-a's: taken over
  const v1::BrokerFrame close =
      NextFrame(gw_a, [](const v1::BrokerFrame& frame) { return frame.has_close_socket(); });
  EXPECT_EQ(close.close_socket().socket_id(), "s1");

  // A Goodbye is a node's death too.
  gw_a.Goodbye();
  const BrokerStats stats = AwaitStats([](const BrokerStats& s) { return s.peers == 1; });
  EXPECT_EQ(stats.socket_records_disconnected, 1u);  // s3
  EXPECT_TRUE(Recover(gw_b, "s3").ok());
}

TEST_F(BrokerSocketsTest, SocketsBeforeHelloAreDroppedAndCounted) {
  Start();
  WireNode anonymous(context_, broker_->pub_endpoint(), broker_->sub_endpoint());
  v1::SubscriberCommand sockets;
  *sockets.mutable_sockets()->add_updates() = Open("s1");
  anonymous.Command(sockets);
  const BrokerStats stats =
      AwaitStats([](const BrokerStats& s) { return s.malformed_count(Malformed::kNoHello) == 1; });
  EXPECT_EQ(stats.socket_records_connected, 0u);
}

TEST_F(BrokerSocketsTest, AtTheBoundTheSoonestExpiringDisconnectedRecordGoesThenOpensAreRefused) {
  Start(false, {.max_records = 2});
  WireNode& gw = Node("gw");
  WireNode& other = Node("other");
  Sockets(gw, {Open("soon", 1000), Open("live")});
  Sockets(gw, {Close("soon")});
  Sockets(gw, {Open("new")});  // evicts "soon"
  EXPECT_EQ(Recover(other, "soon").error(), "unknown session");
  Sockets(gw, {Open("refused")});  // both records connected: refused
  EXPECT_EQ(Recover(other, "refused").error(), "unknown session");
  const BrokerStats stats = AwaitStats([](const BrokerStats& s) {
    return s.socket_records_evicted == 1 && s.socket_records_refused == 1;
  });
  EXPECT_EQ(stats.socket_records_connected, 2u);
  EXPECT_GT(stats.socket_records_bytes, 0u);
  // The refused socket's node goes on working with the others.
  EXPECT_TRUE(Recover(other, "live").ok());
}

TEST_F(BrokerSocketsTest, RecordsSurviveARestartAndSilentNodesLoseThemAfterTheGrace) {
  Start(/*durable=*/true);
  const uint64_t epoch = broker_->epoch();
  {
    WireNode& gw_a = Node("gw-a");
    WireNode& gw_b = Node("gw-b");
    Sockets(gw_a, {Open("a1"), Open("a2")});
    Sockets(gw_a, {Join("a2", "late"), Close("a2")});
    Sockets(gw_b, {Open("b1")});
  }
  Stop();

  Start(/*durable=*/true);
  EXPECT_EQ(broker_->epoch(), epoch);
  // gw-b comes back within the grace and lists its socket; gw-a does not.
  WireNode& gw_b = Node("gw-b");
  Sockets(gw_b, {Open("b1")}, /*full=*/true);
  WireNode& gw_c = Node("gw-c");
  clock_.Advance(std::chrono::seconds(3));
  const BrokerStats stats = AwaitStats([](const BrokerStats& s) {
    return s.socket_records_disconnected == 2 && s.socket_records_connected == 1;
  });
  EXPECT_GT(stats.socket_records_bytes, 0u);

  const v1::Recovered a2 = Recover(gw_c, "a2");
  ASSERT_TRUE(a2.ok()) << a2.error();
  std::vector<std::string> rooms(a2.session().rooms().begin(), a2.session().rooms().end());
  std::sort(rooms.begin(), rooms.end());
  EXPECT_EQ(rooms, (std::vector<std::string>{"a2", "general", "late"}));
  ASSERT_TRUE(Recover(gw_c, "a1").ok());
  ASSERT_TRUE(Recover(gw_c, "b1").ok());
  NextFrame(gw_b, [](const v1::BrokerFrame& frame) { return frame.has_close_socket(); });
  const BrokerStats after = AwaitStats([](const BrokerStats& s) {
    return s.recovery_count(RecoverOutcome::kRecovered) == 2 &&
           s.recovery_count(RecoverOutcome::kTakenOver) == 1;
  });
  EXPECT_EQ(after.socket_records_connected, 3u);

  // And once more: what the recoveries changed is on disk as well.
  Stop();
  Start(/*durable=*/true);
  WireNode& gw_d = Node("gw-d");
  clock_.Advance(std::chrono::seconds(3));
  AwaitStats([](const BrokerStats& s) { return s.socket_records_disconnected == 3; });
  const v1::Recovered a2_again = Recover(gw_d, "a2");
  ASSERT_TRUE(a2_again.ok()) << a2_again.error();
  EXPECT_EQ(a2_again.session().rooms_size(), 3);
}

// A recovery without a client offset replays from where the socket started:
// the gateway's since_sequence, which it read once the socket's rooms were
// confirmed, while its Open may reach the broker later; a value of another
// epoch, or ahead of the broker, is replaced by the broker's position.
TEST_F(BrokerSocketsTest, TheSessionStartIsTheGatewaysWhenItIsOfThisEpoch) {
  Start();
  WireNode& gw = Node("gw-a");
  WireNode& publisher = Node("pub");
  uint64_t last = 0;
  for (uint64_t id = 1; id <= 3; ++id) {
    v1::Envelope envelope = broker_test::RoomsEnvelope("/chat", {"general"}, "e");
    envelope.set_origin("pub");
    envelope.set_message_id(id);
    envelope.set_confirm(true);
    publisher.Publish(envelope);
    auto receipt = publisher.ReceiveReceipt(kWait);
    ASSERT_TRUE(receipt.ok()) << receipt.status();
    last = receipt->sequence();
  }
  auto open = [&](const std::string& id, uint64_t epoch, uint64_t since) {
    v1::SocketUpdate update = Open(id);
    update.mutable_open()->mutable_session()->set_epoch(epoch);
    update.mutable_open()->mutable_session()->set_since_sequence(since);
    return update;
  };
  const uint64_t epoch = broker_->epoch();
  Sockets(gw, {open("exact", epoch, last - 2), open("ahead", epoch, last + 5),
               open("old-epoch", epoch + 1, 1)});
  Sockets(gw, {Close("exact"), Close("ahead"), Close("old-epoch")});
  auto replayed = [&](const std::string& id) -> int {
    const v1::Recovered answer = Recover(gw, id, kSessionStart);
    EXPECT_TRUE(answer.ok()) << id << ": " << answer.error();
    return answer.missed_size();
  };
  EXPECT_EQ(replayed("exact"), 2) << "the two events after the gateway's since";
  EXPECT_EQ(replayed("ahead"), 0) << "the broker's position instead";
  EXPECT_EQ(replayed("old-epoch"), 0) << "the broker's position instead";
}

}  // namespace
}  // namespace roomq::broker
