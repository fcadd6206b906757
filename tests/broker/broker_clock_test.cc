// The broker on an injected clock (BrokerOptions::clock): an in-process
// Broker on a FakeClock, spoken to over loopback by raw wire nodes, so what
// depends on time happens exactly when the test advances the clock.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "broker/broker.h"
#include "broker/metrics.h"
#include "proto/base/clock.h"
#include "proto/roomq.pb.h"
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

}  // namespace
}  // namespace roomq::broker
