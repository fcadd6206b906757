// roomq-echo (the conformance service) seen from a fake gateway: a bare
// Link publishes what a gateway would on CHANNEL_SERVICE and checks the
// answers that come back to the socket's room.
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/node/link.h"
#include "tests/support/binaries.h"
#include "tests/support/broker_process.h"

namespace roomq {
namespace {

using std::chrono::milliseconds;
using test_support::ChildProcess;

class EchoServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = test_support::StartBroker();
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);

    auto echo = ChildProcess::Start(
        test_support::BinaryPath("roomq-echo"),
        {"--broker-pub", broker_.pub_endpoint, "--broker-sub", broker_.sub_endpoint});
    ASSERT_TRUE(echo.ok()) << echo.status();
    echo_ = std::move(*echo);
    ASSERT_TRUE(echo_->WaitForLine(std::regex("roomq-echo ready"), milliseconds(5000)).ok());

    node::LinkOptions options;
    options.pub_endpoint = broker_.pub_endpoint;
    options.sub_endpoint = broker_.sub_endpoint;
    options.node_prefix = "gw";
    auto link = node::Link::Create(
        context_, options,
        {[this](node::Delivery& d) { received_.push_back(d.envelope); }, nullptr, nullptr});
    ASSERT_TRUE(link.ok()) << link.status();
    gateway_ = std::move(*link);
    int confirmed = 0;
    gateway_->Subscribe(wire::RoomTopic("/", "sid-1"),
                        [&](const absl::Status& s) { confirmed += s.ok(); });
    gateway_->Subscribe(wire::RoomTopic("/custom", "sid-2"),
                        [&](const absl::Status& s) { confirmed += s.ok(); });
    ASSERT_TRUE(PumpUntil([&] { return confirmed == 2; }));
  }

  bool PumpUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      EXPECT_TRUE(gateway_->Poll(milliseconds(10)).ok());
    }
    return done();
  }

  // Publishes `envelope` as the gateway would and returns the next answer.
  v1::Envelope Exchange(v1::Envelope envelope) {
    envelope.set_channel(v1::CHANNEL_SERVICE);
    envelope.set_reply_to(gateway_->node_id());
    const size_t before = received_.size();
    EXPECT_TRUE(gateway_->Publish(envelope).ok());
    if (!PumpUntil([&] { return received_.size() > before; })) {
      ADD_FAILURE() << "no answer from roomq-echo";
      return {};
    }
    return received_[before];
  }

  test_support::BrokerProcess broker_;
  std::unique_ptr<ChildProcess> echo_;
  zmq::context_t context_;
  std::unique_ptr<node::Link> gateway_;
  std::vector<v1::Envelope> received_;
};

v1::Envelope Lifecycle(v1::Kind kind, const std::string& ns, const std::string& sid) {
  v1::Envelope envelope;
  envelope.set_kind(kind);
  envelope.set_namespace_(ns);
  envelope.set_socket_id(sid);
  return envelope;
}

TEST_F(EchoServiceTest, ConnectionGetsAuthBack) {
  v1::Envelope connection = Lifecycle(v1::KIND_CONNECTION, "/", "sid-1");
  connection.set_auth(R"({"token":"abc"})");
  const v1::Envelope answer = Exchange(connection);
  EXPECT_EQ(answer.kind(), v1::KIND_EVENT);
  EXPECT_EQ(answer.channel(), v1::CHANNEL_ROOMS);
  EXPECT_EQ(answer.namespace_(), "/");
  ASSERT_EQ(answer.rooms_size(), 1);
  EXPECT_EQ(answer.rooms(0), "sid-1");
  EXPECT_EQ(answer.event(), "auth");
  EXPECT_EQ(answer.args(), R"([{"token":"abc"}])");
}

TEST_F(EchoServiceTest, CustomNamespaceWithoutAuthGetsEmptyObject) {
  const v1::Envelope answer = Exchange(Lifecycle(v1::KIND_CONNECTION, "/custom", "sid-2"));
  EXPECT_EQ(answer.namespace_(), "/custom");
  ASSERT_EQ(answer.rooms_size(), 1);
  EXPECT_EQ(answer.rooms(0), "sid-2");
  EXPECT_EQ(answer.event(), "auth");
  EXPECT_EQ(answer.args(), "[{}]");
}

TEST_F(EchoServiceTest, MessageComesBackWithBinary) {
  v1::Envelope event = Lifecycle(v1::KIND_CLIENT_EVENT, "/", "sid-1");
  event.set_event("message");
  event.set_args(R"(["hi",{"_placeholder":true,"num":0},3])");
  event.add_attachments(std::string("\0\1\2", 3));
  const v1::Envelope answer = Exchange(event);
  EXPECT_EQ(answer.kind(), v1::KIND_EVENT);
  ASSERT_EQ(answer.rooms_size(), 1);
  EXPECT_EQ(answer.rooms(0), "sid-1");
  EXPECT_EQ(answer.event(), "message-back");
  EXPECT_EQ(answer.args(), event.args());
  ASSERT_EQ(answer.attachments_size(), 1);
  EXPECT_EQ(answer.attachments(0), std::string("\0\1\2", 3));
}

TEST_F(EchoServiceTest, MessageWithAckIsAcknowledgedWithTheSameArgs) {
  v1::Envelope event = Lifecycle(v1::KIND_CLIENT_EVENT, "/custom", "sid-2");
  event.set_event("message-with-ack");
  event.set_args(R"([1,"two",{"three":3}])");
  event.set_ack_id(7);
  const v1::Envelope answer = Exchange(event);
  EXPECT_EQ(answer.kind(), v1::KIND_ACK);
  EXPECT_EQ(answer.channel(), v1::CHANNEL_ROOMS);
  EXPECT_EQ(answer.namespace_(), "/custom");
  ASSERT_EQ(answer.rooms_size(), 1);
  EXPECT_EQ(answer.rooms(0), "sid-2");
  ASSERT_TRUE(answer.has_ack_id());
  EXPECT_EQ(answer.ack_id(), 7u);
  EXPECT_EQ(answer.args(), event.args());
}

TEST_F(EchoServiceTest, UnknownEventsAndNamespacesGetNoAnswer) {
  v1::Envelope unknown = Lifecycle(v1::KIND_CLIENT_EVENT, "/", "sid-1");
  unknown.set_event("whatever");
  unknown.set_channel(v1::CHANNEL_SERVICE);
  ASSERT_TRUE(gateway_->Publish(unknown).ok());
  v1::Envelope other_namespace = Lifecycle(v1::KIND_CONNECTION, "/elsewhere", "sid-1");
  other_namespace.set_channel(v1::CHANNEL_SERVICE);
  ASSERT_TRUE(gateway_->Publish(other_namespace).ok());
  // A marker after it: the first answer must be the marker's.
  v1::Envelope marker = Lifecycle(v1::KIND_CONNECTION, "/", "sid-1");
  const v1::Envelope answer = Exchange(marker);
  EXPECT_EQ(answer.event(), "auth");
  EXPECT_EQ(received_.size(), 1u);
}

TEST_F(EchoServiceTest, KeepsServingAcrossBrokerKillAndRestart) {
  broker_.process->Kill();
  auto restarted = test_support::StartBroker(broker_.SameEndpoints());
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  broker_ = std::move(*restarted);
  // Both roomq-echo and our fake gateway resubscribe by themselves; ask
  // until the answer comes (the first asks may race the resubscriptions).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  v1::Envelope event = Lifecycle(v1::KIND_CLIENT_EVENT, "/", "sid-1");
  event.set_channel(v1::CHANNEL_SERVICE);
  event.set_event("message");
  event.set_args(R"(["again"])");
  bool answered = false;
  while (!answered && std::chrono::steady_clock::now() < deadline) {
    event.set_reply_to(gateway_->node_id());
    ASSERT_TRUE(gateway_->Publish(event).ok());
    const auto until = std::chrono::steady_clock::now() + milliseconds(300);
    while (received_.empty() && std::chrono::steady_clock::now() < until) {
      ASSERT_TRUE(gateway_->Poll(milliseconds(10)).ok());
    }
    answered = !received_.empty();
  }
  ASSERT_TRUE(answered);
  EXPECT_EQ(received_[0].event(), "message-back");
  EXPECT_EQ(received_[0].args(), R"(["again"])");
}

TEST(EchoFlagsTest, HelpAndBadFlags) {
  auto help = ChildProcess::Start(test_support::BinaryPath("roomq-echo"), {"--help"});
  ASSERT_TRUE(help.ok());
  auto status = (*help)->Wait(milliseconds(5000));
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->exited_ok());
  // Wait() can return before the reader thread saw the last lines.
  EXPECT_TRUE((*help)
                  ->WaitForLine(std::regex("--broker-pub"), milliseconds(5000),
                                test_support::Stream::kStdout)
                  .ok());

  auto bad = ChildProcess::Start(test_support::BinaryPath("roomq-echo"), {"--nope"});
  ASSERT_TRUE(bad.ok());
  status = (*bad)->Wait(milliseconds(5000));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->exit_code, 2);
  EXPECT_TRUE((*bad)
                  ->WaitForLine(std::regex("unknown flag --nope"), milliseconds(5000),
                                test_support::Stream::kStderr)
                  .ok());
}

}  // namespace
}  // namespace roomq
