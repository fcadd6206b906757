// A failover pair of real roomq-broker processes (broker/failover/README.md)
// and Links that list both: the backup stays passive and answers standby
// while the primary serves; after a SIGKILL of the primary the first node
// that comes makes it active, and publishing resumes through it; the old
// primary returns passive and takes a snapshot from it. Replication: with
// --pair-ack both every acknowledged publish and the epoch survive the
// death of either broker, so a subscriber resumes without a gap or a
// duplicate; with --pair-ack primary the history survives under a new
// epoch.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "proto/node/link.h"
#include "proto/wire/topic.h"
#include "tests/support/broker_process.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/http_scrape.h"

namespace roomq {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kWait{10000};
constexpr char kHeartbeatFlag[] = "--pair-heartbeat-ms=100";

std::string Loopback(int port) { return "tcp://127.0.0.1:" + std::to_string(port); }

// One Link and what it saw.
struct Node {
  std::unique_ptr<node::Link> link;
  std::vector<uint64_t> received;  // message ids, in delivery order
  bool broker_up = false;
};

class PairFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    primary_pair_ = Loopback(test_support::FreeLoopbackPort());
    backup_pair_ = Loopback(test_support::FreeLoopbackPort());
  }

  void TearDown() override {
    nodes_.clear();
    if (primary_.process) primary_.process->Kill();
    if (backup_.process) backup_.process->Kill();
  }

  test_support::BrokerProcess StartPairBroker(bool primary,
                                              test_support::BrokerOptions options = {}) {
    const std::string& own = primary ? primary_pair_ : backup_pair_;
    const std::string& peer = primary ? backup_pair_ : primary_pair_;
    std::vector<std::string> args = {primary ? "--pair-role=primary" : "--pair-role=backup",
                                     "--pair-bind=" + own,
                                     "--pair-peer=" + peer,
                                     kHeartbeatFlag,
                                     "--heartbeat-ms=100",
                                     "--stats-interval-ms=50"};
    args.insert(args.end(), pair_args_.begin(), pair_args_.end());
    const std::string& data_dir = primary ? primary_data_dir_ : backup_data_dir_;
    if (!data_dir.empty()) args.push_back("--data-dir=" + data_dir);
    options.extra_args = std::move(args);
    options.child.name = primary ? "primary" : "backup";
    auto broker = test_support::StartBroker(std::move(options));
    EXPECT_TRUE(broker.ok()) << broker.status();
    return broker.ok() ? std::move(*broker) : test_support::BrokerProcess{};
  }

  void StartPair() {
    primary_ = StartPairBroker(/*primary=*/true);
    backup_ = StartPairBroker(/*primary=*/false);
    ASSERT_TRUE(primary_.process && backup_.process);
    ASSERT_TRUE(
        primary_.process->WaitForLine(std::regex("pair: starting-primary -> active"), kWait).ok());
    ASSERT_TRUE(
        backup_.process->WaitForLine(std::regex("pair: starting-backup -> passive"), kWait).ok());
  }

  // A Link listing `first` then `second` (each a broker of the pair).
  Node* NewNode(const test_support::BrokerProcess& first,
                const test_support::BrokerProcess& second) {
    node::LinkOptions options;
    options.pub_endpoint = first.pub_endpoint + "," + second.pub_endpoint;
    options.sub_endpoint = first.sub_endpoint + "," + second.sub_endpoint;
    options.heartbeat = milliseconds(100);
    options.receipt_timeout = milliseconds(1000);
    auto node = std::make_unique<Node>();
    Node* raw = node.get();
    node::LinkHandlers handlers;
    handlers.on_delivery = [raw](node::Delivery& delivery) {
      raw->received.push_back(delivery.envelope.message_id());
    };
    handlers.on_broker_state = [raw](bool up) { raw->broker_up = up; };
    auto link = node::Link::Create(context_, options, std::move(handlers));
    EXPECT_TRUE(link.ok()) << link.status();
    if (!link.ok()) return nullptr;
    node->link = std::move(*link);
    nodes_.push_back(std::move(node));
    return raw;
  }

  bool PollUntil(const std::function<bool()>& done, milliseconds timeout = kWait) {
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
      if (Clock::now() > deadline) return false;
      for (auto& node : nodes_) (void)node->link->Poll(milliseconds(2));
    }
    return true;
  }

  absl::Status Subscribe(Node* node) {
    absl::Status result = absl::DeadlineExceededError("no answer");
    bool done = false;
    node->link->Subscribe(wire::RoomTopic("/chat", "room"), [&](const absl::Status& status) {
      result = status;
      done = true;
    });
    if (!PollUntil([&] { return done; })) return absl::DeadlineExceededError("no answer");
    return result;
  }

  // Publishes `id` to (/chat, room); the receipt's verdict.
  absl::Status Publish(Node* node, uint64_t id) {
    v1::Envelope envelope;
    envelope.set_kind(v1::KIND_EVENT);
    envelope.set_channel(v1::CHANNEL_ROOMS);
    envelope.set_namespace_("/chat");
    envelope.add_rooms("room");
    envelope.set_event("n");
    envelope.set_message_id(id);
    absl::Status result = absl::DeadlineExceededError("no receipt");
    bool done = false;
    absl::Status sent =
        node->link->Publish(envelope, [&](absl::StatusOr<v1::PublishReceipt> receipt) {
          if (!receipt.ok()) {
            result = receipt.status();
          } else if (!receipt->accepted()) {
            result = absl::FailedPreconditionError(receipt->error());
          } else {
            result = absl::OkStatus();
          }
          done = true;
        });
    if (!sent.ok()) return sent;
    if (!PollUntil([&] { return done; })) return absl::DeadlineExceededError("no receipt");
    return result;
  }

  // Waits for a line of `broker` matching `pattern` while the nodes keep
  // polling (a node not polled for 3 heartbeats takes its broker for dead).
  bool SawLine(const test_support::BrokerProcess& broker, const std::regex& pattern) {
    return PollUntil([&] { return broker.process->CountLines(pattern) > 0; });
  }

  // Publish, again while the answer is "standby broker" (the envelope was
  // not routed: the node is moving to the active broker).
  absl::Status PublishUntilServed(Node* node, uint64_t id) {
    for (int attempt = 0;; ++attempt) {
      absl::Status status = Publish(node, id);
      if (status.message() != "standby broker" || attempt == 20) return status;
      const auto until = Clock::now() + milliseconds(100);
      PollUntil([&] { return Clock::now() >= until; });
    }
  }

  // Waits for `broker`'s line saying which epoch it serves with after a
  // takeover; that epoch, 0 when none came. `how` is "kept" or "new".
  // `socket_records`: how many socket records it must report too.
  uint64_t TakeoverEpoch(const test_support::BrokerProcess& broker, const std::string& how,
                         size_t history_entries, size_t socket_records = 0) {
    const std::regex pattern("pair: serving with epoch ([0-9]+) \\(" + how + "[^)]*\\), history " +
                             std::to_string(history_entries) + " entries \\(sequence [0-9]+\\), " +
                             std::to_string(socket_records) + " socket records");
    EXPECT_TRUE(SawLine(broker, pattern));
    absl::StatusOr<std::string> line = broker.process->WaitForLine(pattern, kWait);
    EXPECT_TRUE(line.ok()) << line.status();
    std::smatch match;
    if (!line.ok() || !std::regex_search(*line, match, pattern)) return 0;
    return std::stoull(match[1].str());
  }

  // The body of `broker`'s GET /healthz (it runs with --metrics-bind).
  static std::string Healthz(const test_support::BrokerProcess& broker) {
    return test_support::HttpGet(broker.metrics_port(), "/healthz");
  }

  // Opens a socket record for `node` (its Hello is done).
  void OpenSocketRecord(Node* node, const std::string& socket_id) {
    v1::Sockets sockets;
    v1::Session& session = *sockets.add_updates()->mutable_open()->mutable_session();
    session.set_pid("pid-" + socket_id);
    session.set_namespace_("/chat");
    session.set_socket_id(socket_id);
    session.add_rooms(socket_id);
    session.add_rooms("room");
    node->link->SendSockets(std::move(sockets));
  }

  std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
    std::vector<uint64_t> ids;
    for (uint64_t id = first; id <= last; ++id) ids.push_back(id);
    return ids;
  }

  zmq::context_t context_;
  std::vector<std::string> pair_args_;  // more flags for both brokers
  std::string primary_data_dir_;        // --data-dir of each, when set
  std::string backup_data_dir_;
  std::string primary_pair_;
  std::string backup_pair_;
  test_support::BrokerProcess primary_;
  test_support::BrokerProcess backup_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

TEST_F(PairFailoverTest, NodesFollowTheActiveBrokerWhenThePrimaryIsKilled) {
  ASSERT_NO_FATAL_FAILURE(StartPair());
  Node* subscriber = NewNode(primary_, backup_);
  Node* publisher = NewNode(primary_, backup_);
  ASSERT_TRUE(subscriber && publisher);
  ASSERT_TRUE(Subscribe(subscriber).ok());
  for (uint64_t id = 1; id <= 10; ++id) ASSERT_TRUE(Publish(publisher, id).ok()) << id;
  ASSERT_TRUE(PollUntil([&] { return subscriber->received.size() == 10; }));

  const auto killed_at = Clock::now();
  primary_.process->Kill();
  // Both nodes notice the silence, move to the backup, which turns active
  // for the first of them, and subscribe again there.
  ASSERT_TRUE(PollUntil([&] {
    return subscriber->link->stats().broker_moves >= 1 &&
           publisher->link->stats().broker_moves >= 1 && subscriber->broker_up &&
           publisher->broker_up;
  }));
  const auto failover = std::chrono::duration_cast<milliseconds>(Clock::now() - killed_at);
  std::printf("failover: both nodes served by the backup %lld ms after the SIGKILL\n",
              static_cast<long long>(failover.count()));
  ASSERT_TRUE(backup_.process
                  ->WaitForLine(std::regex("pair: passive -> active: a client came and the "
                                           "active peer was lost"),
                                kWait)
                  .ok());

  // The subscription is there again: every publish from now on arrives.
  ASSERT_TRUE(Subscribe(subscriber).ok());
  for (uint64_t id = 11; id <= 20; ++id) ASSERT_TRUE(Publish(publisher, id).ok()) << id;
  ASSERT_TRUE(PollUntil([&] { return subscriber->received.size() == 20; }));
  for (size_t i = 0; i < subscriber->received.size(); ++i) {
    EXPECT_EQ(subscriber->received[i], i + 1) << "at " << i;
  }
}

TEST_F(PairFailoverTest, APassiveBackupAnswersStandbyAndTheNodeMovesToThePrimary) {
  ASSERT_NO_FATAL_FAILURE(StartPair());
  Node* node = NewNode(backup_, primary_);  // the backup first
  ASSERT_TRUE(node != nullptr);
  ASSERT_TRUE(Subscribe(node).ok());
  EXPECT_GE(node->link->stats().standby, 1u);
  EXPECT_GE(node->link->stats().broker_moves, 1u);
  // It is the primary that serves: an envelope sent to the backup is refused.
  Node* direct = NewNode(backup_, backup_);
  ASSERT_TRUE(direct != nullptr);
  EXPECT_EQ(Publish(direct, 1).message(), "standby broker");
  EXPECT_TRUE(backup_.process->Running());
}

TEST_F(PairFailoverTest, TheOldPrimaryComesBackPassiveBehindTheActiveBackup) {
  ASSERT_NO_FATAL_FAILURE(StartPair());
  const test_support::BrokerOptions same = primary_.SameEndpoints();
  primary_.process->Kill();
  Node* node = NewNode(primary_, backup_);
  ASSERT_TRUE(node != nullptr);
  ASSERT_TRUE(Subscribe(node).ok());  // served by the backup, now active
  ASSERT_TRUE(backup_.process->WaitForLine(std::regex("pair: passive -> active"), kWait).ok());

  primary_ = StartPairBroker(/*primary=*/true, same);
  ASSERT_TRUE(primary_.process);
  ASSERT_TRUE(primary_.process
                  ->WaitForLine(std::regex("pair: starting-primary -> passive: the backup is "
                                           "active"),
                                kWait)
                  .ok());
  // A node listing the old primary first is sent on to the backup.
  Node* late = NewNode(primary_, backup_);
  ASSERT_TRUE(late != nullptr);
  ASSERT_TRUE(Subscribe(late).ok());
  EXPECT_GE(late->link->stats().standby, 1u);
  EXPECT_TRUE(Publish(late, 1).ok());
  ASSERT_TRUE(PollUntil([&] { return node->received.size() == 1 && late->received.size() == 1; }));
}

TEST_F(PairFailoverTest, GarbageOnThePairSocketIsCountedAndChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(StartPair());
  zmq::socket_t stranger(context_, zmq::socket_type::dealer);
  stranger.set(zmq::sockopt::linger, 0);
  stranger.connect(backup_pair_);
  stranger.send(zmq::str_buffer("not a heartbeat"), zmq::send_flags::none);
  ASSERT_TRUE(backup_.process->WaitForLine(std::regex("pair_frame=1\\)"), kWait).ok());
  EXPECT_EQ(backup_.process->CountLines(std::regex("pair: passive -> ")), 0);
  Node* node = NewNode(primary_, backup_);
  ASSERT_TRUE(node != nullptr);
  EXPECT_TRUE(Subscribe(node).ok());
  EXPECT_EQ(node->link->stats().standby, 0u);
}

TEST_F(PairFailoverTest, ABackupStartedAloneServesNoNode) {
  backup_ = StartPairBroker(/*primary=*/false);
  ASSERT_TRUE(backup_.process);
  Node* node = NewNode(backup_, backup_);
  ASSERT_TRUE(node != nullptr);
  absl::Status subscribed = absl::UnknownError("no answer yet");
  node->link->Subscribe(wire::RoomTopic("/chat", "room"),
                        [&](const absl::Status& status) { subscribed = status; });
  // Every command is answered with standby, however often the node asks.
  ASSERT_TRUE(PollUntil([&] { return node->link->stats().standby >= 5; }));
  EXPECT_FALSE(subscribed.ok());
  EXPECT_FALSE(node->broker_up);
  EXPECT_TRUE(backup_.process->Running());
}

TEST_F(PairFailoverTest, WithPairAckBothEveryAcknowledgedPublishAndTheEpochSurviveAFailover) {
  pair_args_ = {"--pair-ack=both"};
  ASSERT_NO_FATAL_FAILURE(StartPair());
  ASSERT_TRUE(SawLine(primary_, std::regex("pair: the passive broker holds the snapshot")));
  Node* subscriber = NewNode(primary_, backup_);
  Node* publisher = NewNode(primary_, backup_);
  ASSERT_TRUE(subscriber && publisher);
  ASSERT_TRUE(Subscribe(subscriber).ok());
  OpenSocketRecord(subscriber, "s1");
  // A receipt now means "on both brokers".
  for (uint64_t id = 1; id <= 10; ++id) ASSERT_TRUE(PublishUntilServed(publisher, id).ok()) << id;
  ASSERT_TRUE(PollUntil([&] { return subscriber->received.size() == 10; }));

  primary_.process->Kill();
  ASSERT_TRUE(PollUntil([&] {
    return subscriber->link->stats().broker_moves >= 1 && subscriber->broker_up &&
           publisher->broker_up;
  }));
  // The backup serves the primary's epoch with its whole history and the
  // socket record.
  EXPECT_EQ(TakeoverEpoch(backup_, "kept", 10, 1), primary_.epoch);

  // A late subscriber resuming from the start of the primary's epoch gets
  // the ten from the backup's history.
  Node* late = NewNode(backup_, primary_);
  ASSERT_TRUE(late != nullptr);
  bool late_subscribed = false;
  late->link->Subscribe(
      wire::RoomTopic("/chat", "room"),
      [&](const absl::Status& status) { late_subscribed = status.ok(); },
      node::ResumeFrom{primary_.epoch, 0});
  ASSERT_TRUE(PollUntil([&] { return late_subscribed && late->received.size() == 10; }));
  EXPECT_EQ(late->received, Range(1, 10));

  // The first subscriber resumed at its offset in the same epoch: what
  // follows arrives once, with nothing replayed.
  ASSERT_TRUE(Subscribe(subscriber).ok());
  for (uint64_t id = 11; id <= 20; ++id) ASSERT_TRUE(PublishUntilServed(publisher, id).ok()) << id;
  ASSERT_TRUE(PollUntil([&] { return subscriber->received.size() >= 20; }));
  EXPECT_EQ(subscriber->received, Range(1, 20));
  const auto position = subscriber->link->position(wire::RoomTopic("/chat", "room"));
  ASSERT_TRUE(position.has_value());
  EXPECT_EQ(position->epoch, primary_.epoch);
}

TEST_F(PairFailoverTest, WithPairAckPrimaryTheBackupKeepsTheHistoryUnderANewEpoch) {
  ASSERT_NO_FATAL_FAILURE(StartPair());
  ASSERT_TRUE(SawLine(primary_, std::regex("pair: the passive broker holds the snapshot")));
  Node* publisher = NewNode(primary_, backup_);
  ASSERT_TRUE(publisher != nullptr);
  for (uint64_t id = 1; id <= 5; ++id) ASSERT_TRUE(PublishUntilServed(publisher, id).ok()) << id;
  // The records reach the backup after their receipts: wait for them.
  ASSERT_TRUE(SawLine(backup_, std::regex("pair_replicated_records=[5-9]")));
  primary_.process->Kill();
  ASSERT_TRUE(PollUntil(
      [&] { return publisher->broker_up && publisher->link->stats().broker_moves >= 1; }));
  const uint64_t epoch = TakeoverEpoch(backup_, "new", 5);
  EXPECT_NE(epoch, 0u);
  EXPECT_NE(epoch, primary_.epoch);
}

TEST_F(PairFailoverTest, KillingEitherBrokerInTurnLosesNoAcknowledgedPublish) {
  pair_args_ = {"--pair-ack=both", "--metrics-bind=127.0.0.1:0"};
  primary_data_dir_ = ::testing::TempDir() + "/pair-primary-" + std::to_string(::getpid());
  backup_data_dir_ = ::testing::TempDir() + "/pair-backup-" + std::to_string(::getpid());
  ASSERT_NO_FATAL_FAILURE(StartPair());
  const test_support::BrokerOptions primary_endpoints = primary_.SameEndpoints();
  const test_support::BrokerOptions backup_endpoints = backup_.SameEndpoints();
  ASSERT_TRUE(SawLine(primary_, std::regex("pair: the passive broker holds the snapshot")));
  Node* subscriber = NewNode(primary_, backup_);
  Node* publisher = NewNode(primary_, backup_);
  ASSERT_TRUE(subscriber && publisher);
  ASSERT_TRUE(Subscribe(subscriber).ok());
  for (uint64_t id = 1; id <= 10; ++id) ASSERT_TRUE(PublishUntilServed(publisher, id).ok()) << id;

  // The primary dies; the backup serves; the primary returns passive and
  // takes the backup's snapshot (its own log dropped).
  primary_.process->Kill();
  ASSERT_TRUE(PollUntil(
      [&] { return publisher->broker_up && publisher->link->stats().broker_moves >= 1; }));
  EXPECT_EQ(TakeoverEpoch(backup_, "kept", 10), primary_.epoch);
  // Alone, the backup says so: degraded until a passive follows it again.
  EXPECT_TRUE(PollUntil(
      [&] { return Healthz(backup_).find("pair_replica_missing") != std::string::npos; }));
  for (uint64_t id = 11; id <= 15; ++id) ASSERT_TRUE(PublishUntilServed(publisher, id).ok()) << id;
  const uint64_t epoch = primary_.epoch;
  primary_ = StartPairBroker(/*primary=*/true, primary_endpoints);
  ASSERT_TRUE(primary_.process);
  ASSERT_TRUE(SawLine(primary_, std::regex("pair: in sync with the active broker: session "
                                           "[0-9a-f]+, epoch=" +
                                           std::to_string(epoch) + ", history 15 entries")));
  EXPECT_TRUE(PollUntil([&] { return Healthz(backup_).find("\"ok\"") != std::string::npos; }));
  for (uint64_t id = 16; id <= 20; ++id) ASSERT_TRUE(PublishUntilServed(publisher, id).ok()) << id;

  // The backup dies; the old primary serves the same epoch with everything.
  backup_.process->Kill();
  ASSERT_TRUE(PollUntil(
      [&] { return publisher->link->stats().broker_moves >= 2 && publisher->broker_up; }));
  EXPECT_EQ(TakeoverEpoch(primary_, "kept", 20), epoch);
  for (uint64_t id = 21; id <= 25; ++id) ASSERT_TRUE(PublishUntilServed(publisher, id).ok()) << id;
  ASSERT_TRUE(Subscribe(subscriber).ok());
  ASSERT_TRUE(PollUntil([&] { return subscriber->received.size() >= 25; }));
  EXPECT_EQ(subscriber->received, Range(1, 25));
  (void)backup_endpoints;
}

}  // namespace
}  // namespace roomq
