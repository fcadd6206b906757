// The broker's byte budget per subscriber peer (BrokerOptions::
// max_peer_queue_bytes) on what is sent in one piece: a Recovered answer
// larger than the budget fails the recovery instead of being queued. An
// in-process Broker on a FakeClock, reached by wire nodes over loopback.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "broker/broker.h"
#include "proto/base/clock.h"
#include "proto/roomq.pb.h"
#include "tests/broker/wire_node.h"

namespace roomq::broker {
namespace {

using broker_test::RoomsEnvelope;
using broker_test::WireNode;
using std::chrono::milliseconds;

constexpr milliseconds kWait{5000};
constexpr int64_t kMaxMessage = int64_t{64} * 1024;
constexpr int64_t kBudget = kMaxMessage + kMaxDeliveryOverheadBytes;  // the smallest allowed

class BrokerPeerQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerOptions options;
    options.pub_bind = "tcp://127.0.0.1:*";
    options.sub_bind = "tcp://127.0.0.1:*";
    options.clock = &clock_;
    options.max_message_bytes = kMaxMessage;
    options.max_peer_queue_bytes = kBudget;
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

  uint64_t PublishKept(const std::string& args) {
    v1::Envelope envelope = RoomsEnvelope("/chat", {"a"}, "big");
    envelope.set_args(args);
    envelope.set_origin("pub");
    envelope.set_message_id(++message_id_);
    envelope.set_confirm(true);
    node_->Publish(envelope);
    auto receipt = node_->ReceiveReceipt(kWait);
    EXPECT_TRUE(receipt.ok() && receipt->accepted()) << receipt.status();
    return receipt.ok() ? receipt->sequence() : 0;
  }

  // Opens and closes a recoverable socket of this node, then recovers it
  // from `after_sequence`.
  v1::Recovered SaveAndRecover(const std::string& pid, uint64_t after_sequence) {
    v1::SubscriberCommand save;
    v1::Session* session = save.mutable_sockets()->add_updates()->mutable_open()->mutable_session();
    session->set_pid(pid);
    session->set_namespace_("/chat");
    session->set_socket_id("s1");
    session->add_rooms("a");
    session->set_ttl_ms(60000);
    v1::SocketClose* close = save.mutable_sockets()->add_updates()->mutable_close();
    close->set_namespace_("/chat");
    close->set_socket_id("s1");
    close->set_recoverable(true);
    node_->Command(save);
    v1::SubscriberCommand recover;
    recover.set_request_id(++request_id_);
    recover.mutable_recover()->set_pid(pid);
    recover.mutable_recover()->set_namespace_("/chat");
    recover.mutable_recover()->set_epoch(broker_->epoch());
    recover.mutable_recover()->set_after_sequence(after_sequence);
    node_->Command(recover);
    while (true) {
      auto received = node_->Receive(kWait);
      if (!received.ok()) {
        ADD_FAILURE() << received.status();
        return {};
      }
      if (received->frame.has_recovered()) return received->frame.recovered();
    }
  }

  base::FakeClock clock_;
  zmq::context_t context_;
  std::unique_ptr<Broker> broker_;
  std::thread thread_;
  std::unique_ptr<WireNode> node_;
  uint64_t message_id_ = 0;
  uint64_t request_id_ = 0;
};

TEST_F(BrokerPeerQueueTest, ARecoveredAnswerOverTheBudgetFailsTheRecovery) {
  // 40 events of 60 KB: a Recovered answer of 2.4 MB, over the 2.16 MB budget.
  const std::string args = "[\"" + std::string(60000, 'x') + "\"]";
  uint64_t last = 0;
  for (int i = 0; i < 40; ++i) last = PublishKept(args);
  const v1::Recovered too_big = SaveAndRecover("all", 0);
  EXPECT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error(), "recovery over the subscriber's queue budget");
  // What fits goes through.
  const v1::Recovered fits = SaveAndRecover("recent", last - 5);
  EXPECT_TRUE(fits.ok()) << fits.error();
  EXPECT_EQ(fits.missed_size(), 5);
}

}  // namespace
}  // namespace roomq::broker
