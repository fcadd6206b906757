// The broker on an injected clock (BrokerOptions::clock): an in-process
// Broker on a FakeClock, spoken to over loopback by raw wire nodes, so what
// depends on time happens exactly when the test advances the clock.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "broker/broker.h"
#include "broker/metrics.h"
#include "proto/base/clock.h"
#include "proto/roomq.pb.h"
#include "proto/wire/topic.h"
#include "tests/broker/wire_node.h"

namespace roomq::broker {
namespace {

using broker_test::WireNode;
using std::chrono::milliseconds;

constexpr milliseconds kWait{5000};

class BrokerClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerOptions options;
    options.pub_bind = "tcp://127.0.0.1:*";
    options.sub_bind = "tcp://127.0.0.1:*";
    options.clock = &clock_;
    auto broker = Broker::Create(context_, options);
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
    thread_ = std::thread([this] { EXPECT_TRUE(broker_->Run().ok()); });
    node_ = std::make_unique<WireNode>(context_, broker_->pub_endpoint(), broker_->sub_endpoint());
    ASSERT_TRUE(node_->Join("gw").ok());
  }
  void TearDown() override {
    node_.reset();
    if (broker_) broker_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  // The broker's next frame the predicate accepts.
  template <typename Predicate>
  v1::BrokerFrame NextFrame(Predicate predicate) {
    while (true) {
      auto received = node_->Receive(kWait);
      if (!received.ok()) {
        ADD_FAILURE() << received.status();
        return {};
      }
      if (predicate(received->frame)) return received->frame;
    }
  }

  // Opens a recoverable socket on this node and closes it, then waits for
  // the broker's Reply: its record is disconnected when this returns.
  void Save(const std::string& pid, uint32_t ttl_ms) {
    v1::SubscriberCommand command;
    command.set_request_id(++request_id_);
    v1::Session* session =
        command.mutable_sockets()->add_updates()->mutable_open()->mutable_session();
    session->set_pid(pid);
    session->set_namespace_("/chat");
    session->set_socket_id("s-" + pid);
    session->set_ttl_ms(ttl_ms);
    v1::SocketClose* close = command.mutable_sockets()->add_updates()->mutable_close();
    close->set_namespace_("/chat");
    close->set_socket_id("s-" + pid);
    close->set_recoverable(true);
    node_->Command(command);
    const v1::BrokerFrame reply = NextFrame([](const v1::BrokerFrame& f) { return f.has_reply(); });
    EXPECT_TRUE(reply.reply().ok()) << reply.reply().error();
  }

  v1::Recovered Recover(const std::string& pid) {
    v1::SubscriberCommand command;
    command.set_request_id(++request_id_);
    command.mutable_recover()->set_pid(pid);
    command.mutable_recover()->set_namespace_("/chat");
    command.mutable_recover()->set_epoch(broker_->epoch());
    command.mutable_recover()->set_use_session_start(true);
    node_->Command(command);
    return NextFrame([](const v1::BrokerFrame& f) { return f.has_recovered(); }).recovered();
  }

  base::FakeClock clock_;
  zmq::context_t context_;
  std::unique_ptr<Broker> broker_;
  std::thread thread_;
  std::unique_ptr<WireNode> node_;
  uint64_t request_id_ = 0;
};

TEST_F(BrokerClockTest, ADisconnectedRecordExpiresWhenTheBrokersClockPassesItsTtl) {
  Save("early", 30);
  Save("late", 30);
  clock_.Advance(milliseconds(29));
  const v1::Recovered early = Recover("early");
  EXPECT_TRUE(early.ok()) << early.error();
  clock_.Advance(milliseconds(1));
  const v1::Recovered late = Recover("late");
  EXPECT_FALSE(late.ok());
  // Claimed at its deadline, or already dropped by the broker's housekeeping.
  EXPECT_TRUE(late.error() == "session expired" || late.error() == "unknown session")
      << late.error();
}

TEST_F(BrokerClockTest, EveryRecoverIsCountedByOutcome) {
  Save("fine", 60000);
  Save("expiring", 30);
  Save("other-namespace", 60000);
  EXPECT_TRUE(Recover("fine").ok());
  // Now connected on this very node: refused.
  EXPECT_EQ(Recover("fine").error(), "socket still connected");
  clock_.Advance(milliseconds(30));
  EXPECT_FALSE(Recover("expiring").ok());
  v1::SubscriberCommand command;
  command.set_request_id(++request_id_);
  command.mutable_recover()->set_pid("other-namespace");
  command.mutable_recover()->set_namespace_("/elsewhere");
  command.mutable_recover()->set_epoch(broker_->epoch());
  node_->Command(command);
  EXPECT_EQ(
      NextFrame([](const v1::BrokerFrame& f) { return f.has_recovered(); }).recovered().error(),
      "namespace differs");
  broker_->Stop();
  thread_.join();
  const auto& outcomes = broker_->stats().recovery_outcomes;
  auto count = [&](RecoveryOutcome outcome) { return outcomes[static_cast<size_t>(outcome)]; };
  EXPECT_EQ(count(RecoveryOutcome::kRecovered), 1u);
  // Claimed at its deadline (expired), or already dropped by housekeeping.
  EXPECT_EQ(count(RecoveryOutcome::kUnknown) + count(RecoveryOutcome::kExpired), 1u);
  EXPECT_EQ(count(RecoveryOutcome::kRefused), 2u);
  EXPECT_EQ(broker_->stats().recover_failed, 3u);
  const std::string text = FormatPrometheus(broker_->stats(), milliseconds(0));
  EXPECT_NE(text.find("roomq_broker_recovery_total{outcome=\"recovered\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("roomq_broker_recovery_total{outcome=\"gap\"} 0\n"), std::string::npos);
}

TEST_F(BrokerClockTest, AQueueGroupMemberWhoseHeartbeatExpiredLosesItsSocketsToTheOther) {
  constexpr uint32_t kHeartbeatMs = 1000;
  WireNode one(context_, broker_->pub_endpoint(), broker_->sub_endpoint());
  WireNode two(context_, broker_->pub_endpoint(), broker_->sub_endpoint());
  ASSERT_TRUE(one.Join("svc-1", kHeartbeatMs).ok());
  ASSERT_TRUE(two.Join("svc-2", kHeartbeatMs).ok());
  ASSERT_TRUE(one.Subscribe({wire::ServiceTopic("/svc", "echo")}).ok());
  ASSERT_TRUE(two.Subscribe({wire::ServiceTopic("/svc", "echo")}).ok());
  auto publish = [&](const std::string& socket_id, const std::string& event = "ping") {
    v1::Envelope envelope = broker_test::RoomsEnvelope("/svc", {}, event);
    envelope.set_channel(v1::CHANNEL_SERVICE);
    envelope.set_kind(v1::KIND_CLIENT_EVENT);
    envelope.set_socket_id(socket_id);
    node_->Publish(envelope);
  };
  // Which member each socket's events go to.
  constexpr int kSockets = 20;
  for (int i = 0; i < kSockets; ++i) publish("s" + std::to_string(i));
  std::vector<std::string> of_one, of_two;
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (of_one.size() + of_two.size() < kSockets && std::chrono::steady_clock::now() < deadline) {
    if (auto got = one.ReceiveDelivery(milliseconds(10)); got.ok()) {
      of_one.push_back(got->envelope.socket_id());
    }
    if (auto got = two.ReceiveDelivery(milliseconds(10)); got.ok()) {
      of_two.push_back(got->envelope.socket_id());
    }
  }
  ASSERT_EQ(of_one.size() + of_two.size(), static_cast<size_t>(kSockets));
  ASSERT_FALSE(of_one.empty());  // 2^-19 of a chance to be wrong
  ASSERT_FALSE(of_two.empty());

  // `two` pings at 2 s; `one` is silent for 3 heartbeats at 3 s: expired.
  clock_.Advance(milliseconds(2 * kHeartbeatMs));
  two.Ping(7);
  ASSERT_TRUE(two.ReceiveWhere([](const v1::BrokerFrame& f) { return f.has_pong(); }, kWait).ok());
  clock_.Advance(milliseconds(kHeartbeatMs));
  // The broker expires it on its next housekeeping: probe until `two` has
  // one of `one`'s sockets, then every one of them goes to `two`.
  bool moved = false;
  while (!moved && std::chrono::steady_clock::now() < deadline + kWait) {
    publish(of_one.front(), "probe");
    moved = two.ReceiveDelivery(milliseconds(20)).ok();
  }
  ASSERT_TRUE(moved);
  for (const std::string& socket_id : of_one) publish(socket_id);
  for (const std::string& socket_id : of_two) publish(socket_id);
  std::vector<std::string> now_two;
  while (now_two.size() < static_cast<size_t>(kSockets)) {
    auto got = two.ReceiveDelivery(kWait);
    ASSERT_TRUE(got.ok()) << got.status() << " after " << now_two.size();
    if (got->envelope.event() == "probe") continue;  // a late one
    now_two.push_back(got->envelope.socket_id());
  }
  std::vector<std::string> expected = of_one;
  expected.insert(expected.end(), of_two.begin(), of_two.end());
  EXPECT_EQ(now_two, expected);
}

}  // namespace
}  // namespace roomq::broker
