// The broker when its history log cannot be written (BrokerOptions::data_dir
// with an injected storage::Env that fails on command): publishes history
// would keep are refused with a receipt, nothing of them is delivered,
// kept or numbered, the log's buffer does not grow, routing of everything
// else goes on, and publishing resumes by itself once writes succeed. An
// in-process Broker on a FakeClock, reached by wire nodes over loopback.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "broker/broker.h"
#include "broker/storage/env.h"
#include "proto/base/clock.h"
#include "proto/roomq.pb.h"
#include "tests/broker/wire_node.h"

namespace roomq::broker {
namespace {

using broker_test::RoomsEnvelope;
using broker_test::WireNode;
using std::chrono::milliseconds;

constexpr milliseconds kWait{5000};

// Fails writes while `fail` is set, after writing half of what it was given
// (as a disk that fills up mid-write does), and fails the cut-back too while
// `fail_truncate` is set. Called on the broker thread.
class FailingEnv : public storage::Env {
 public:
  absl::Status Write(int fd, std::string_view data, std::string_view path) override {
    if (!fail.load()) return storage::Env::Write(fd, data, path);
    ++failed_writes;
    (void)storage::Env::Write(fd, data.substr(0, data.size() / 2), path);
    return absl::ResourceExhaustedError("write: No space left on device (injected)");
  }
  absl::Status Truncate(int fd, uint64_t size, std::string_view path) override {
    if (fail_truncate.load())
      return absl::InternalError("ftruncate: Input/output error (injected)");
    return storage::Env::Truncate(fd, size, path);
  }

  std::atomic<bool> fail{false};
  std::atomic<bool> fail_truncate{false};
  std::atomic<int> failed_writes{0};
};

class BrokerLogFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::path(::testing::TempDir()) / "broker_log_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Start(&env_);
  }
  void TearDown() override {
    Stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void Start(storage::Env* env) {
    BrokerOptions options;
    options.pub_bind = "tcp://127.0.0.1:*";
    options.sub_bind = "tcp://127.0.0.1:*";
    options.clock = &clock_;
    options.data_dir = dir_;
    options.log_env = env;
    // A namespace without history: its envelopes need no log.
    options.history.namespaces["/live"] = history::Limits{0, std::chrono::minutes(1)};
    auto broker = Broker::Create(context_, options);
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
    thread_ = std::thread([this] { EXPECT_TRUE(broker_->Run().ok()); });
    publisher_ =
        std::make_unique<WireNode>(context_, broker_->pub_endpoint(), broker_->sub_endpoint());
    subscriber_ =
        std::make_unique<WireNode>(context_, broker_->pub_endpoint(), broker_->sub_endpoint());
    ASSERT_TRUE(subscriber_->Join("sub").ok());
  }
  // Stops the broker; its stats() are then readable here.
  void Stop() {
    publisher_.reset();
    subscriber_.reset();
    if (broker_) broker_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  v1::PublishReceipt Publish(const std::string& ns, const std::string& event) {
    v1::Envelope envelope = RoomsEnvelope(ns, {"a"}, event);
    envelope.set_origin("pub");
    envelope.set_message_id(++message_id_);
    envelope.set_confirm(true);
    publisher_->Publish(envelope);
    auto receipt = publisher_->ReceiveReceipt(kWait);
    EXPECT_TRUE(receipt.ok()) << receipt.status();
    return receipt.ok() ? *receipt : v1::PublishReceipt();
  }

  // The next delivery's event and sequence.
  std::pair<std::string, uint64_t> NextDelivery() {
    auto received = subscriber_->ReceiveDelivery(kWait);
    if (!received.ok()) {
      ADD_FAILURE() << received.status();
      return {};
    }
    return {received->envelope.event(), received->frame.delivery().sequence()};
  }

  std::string dir_;
  FailingEnv env_;
  FailingEnv healthy_env_;  // a restarted broker's; never told to fail
  base::FakeClock clock_;
  zmq::context_t context_;
  std::unique_ptr<Broker> broker_;
  std::thread thread_;
  std::unique_ptr<WireNode> publisher_;
  std::unique_ptr<WireNode> subscriber_;
  uint64_t message_id_ = 0;
};

TEST_F(BrokerLogFailureTest, APublishWhoseRecordCannotBeWrittenIsRefusedAndNothingOfItIsHandedOut) {
  ASSERT_TRUE(
      subscriber_->Subscribe({wire::RoomTopic("/chat", "a"), wire::RoomTopic("/live", "a")}).ok());
  const v1::PublishReceipt first = Publish("/chat", "first");
  EXPECT_TRUE(first.accepted());
  EXPECT_EQ(first.sequence(), 1u);
  EXPECT_EQ(NextDelivery(), std::make_pair(std::string("first"), uint64_t{1}));

  env_.fail = true;
  const v1::PublishReceipt refused = Publish("/chat", "refused");
  EXPECT_FALSE(refused.accepted());
  EXPECT_EQ(refused.error(), "history log unavailable");
  EXPECT_EQ(refused.sequence(), 0u);
  EXPECT_EQ(refused.offsets_size(), 0);
  // Routing goes on for what history does not keep, and the refused one
  // was never delivered: the next delivery is this one.
  EXPECT_TRUE(Publish("/live", "live").accepted());
  EXPECT_EQ(NextDelivery(), std::make_pair(std::string("live"), uint64_t{0}));
  EXPECT_GE(env_.failed_writes.load(), 1);

  // The disk takes writes again: the next publish gets the numbers the
  // refused one would have had (none were handed out), and is delivered.
  env_.fail = false;
  const v1::PublishReceipt second = Publish("/chat", "second");
  EXPECT_TRUE(second.accepted());
  EXPECT_EQ(second.sequence(), 2u);
  ASSERT_EQ(second.offsets_size(), 1);
  EXPECT_EQ(second.offsets(0).offset(), 2u);
  EXPECT_EQ(NextDelivery(), std::make_pair(std::string("second"), uint64_t{2}));

  Stop();
  const BrokerStats& stats = broker_->stats();
  EXPECT_EQ(stats.history_refused, 1u);
  EXPECT_GE(stats.history_write_failures, 1u);
  EXPECT_EQ(stats.history_failing, 0u);
  EXPECT_EQ(stats.kept, 2u);
  EXPECT_EQ(stats.log_buffered_bytes, 0u);

  // What the log holds is exactly what was accepted: a restarted broker
  // replays sequences 1 and 2, "first" and "second".
  broker_.reset();
  Start(&healthy_env_);
  v1::SubscriberCommand resume;
  resume.set_request_id(7);
  v1::ResumePoint* point = resume.mutable_subscribe()->add_resume();
  *point->mutable_topic() = wire::ToProto(wire::RoomTopic("/chat", "a"));
  point->set_epoch(broker_->epoch());
  subscriber_->Command(resume);
  EXPECT_EQ(NextDelivery(), std::make_pair(std::string("first"), uint64_t{1}));
  EXPECT_EQ(NextDelivery(), std::make_pair(std::string("second"), uint64_t{2}));
  auto reply = subscriber_->Receive(kWait);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_TRUE(reply->frame.has_reply());
  ASSERT_EQ(reply->frame.reply().resumed_size(), 1);
  EXPECT_EQ(reply->frame.reply().resumed(0).replayed(), 2u);
  EXPECT_FALSE(reply->frame.reply().resumed(0).truncated());
}

// While writes keep failing, every burst is tried and refused, and the
// log's buffer holds nothing afterwards (before, each failed burst stayed
// buffered behind the next: memory grew with every publish); the broker
// reports itself failing until a write succeeds.
TEST_F(BrokerLogFailureTest, WhileWritesFailEveryKeptPublishIsRefusedAndTheBufferStaysEmpty) {
  env_.fail = true;
  constexpr int kPublishes = 50;
  for (int i = 0; i < kPublishes; ++i) {
    const v1::PublishReceipt receipt = Publish("/chat", "refused");
    ASSERT_FALSE(receipt.accepted()) << i;
  }
  Stop();
  const BrokerStats& stats = broker_->stats();
  EXPECT_EQ(stats.history_refused, static_cast<uint64_t>(kPublishes));
  EXPECT_EQ(stats.history_write_failures, static_cast<uint64_t>(kPublishes));
  EXPECT_EQ(stats.history_failing, 1u);
  EXPECT_EQ(stats.log_buffered_bytes, 0u);
  EXPECT_EQ(stats.kept, 0u);
}

// A failed write that cannot be cut back leaves the log broken: publishing
// into history stays refused even after the disk recovers, until a restart,
// whose recovery cuts the torn half-record off.
TEST_F(BrokerLogFailureTest, ABrokenLogRefusesUntilARestartWhichCutsTheTornWrite) {
  EXPECT_TRUE(Publish("/chat", "first").accepted());
  env_.fail = true;
  env_.fail_truncate = true;
  EXPECT_FALSE(Publish("/chat", "torn").accepted());
  env_.fail = false;
  env_.fail_truncate = false;
  const v1::PublishReceipt after = Publish("/chat", "after");
  EXPECT_FALSE(after.accepted());
  EXPECT_EQ(after.error(), "history log unavailable");
  Stop();
  EXPECT_EQ(broker_->stats().history_failing, 1u);
  EXPECT_EQ(broker_->stats().history_refused, 2u);

  broker_.reset();
  Start(&healthy_env_);
  const v1::PublishReceipt restarted = Publish("/chat", "restarted");
  EXPECT_TRUE(restarted.accepted());
  EXPECT_EQ(restarted.sequence(), 2u);  // "torn" left nothing behind
}

}  // namespace
}  // namespace roomq::broker
