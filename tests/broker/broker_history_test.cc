// Black-box tests of the broker's history: offsets and sequences on
// deliveries and receipts, durable resume (Subscribe.resume) with its seam
// under continuous publishing, and Socket.IO session recovery
// (socket records: Sockets / Recover), against the real roomq-broker binary.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "absl/cleanup/cleanup.h"
#include "proto/roomq.pb.h"
#include "tests/broker/wire_node.h"
#include "tests/support/binaries.h"
#include "tests/support/broker_process.h"
#include "tests/support/child_process.h"
#include "tests/support/wait_until.h"

namespace roomq::broker_test {
namespace {

using std::chrono::milliseconds;
using test_support::BrokerOptions;
using test_support::BrokerProcess;
using test_support::StartBroker;
using wire::RoomTopic;

constexpr milliseconds kWait{5000};

class BrokerHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(std::vector<std::string> extra_args) {
    BrokerOptions options;
    options.extra_args = std::move(extra_args);
    auto broker = StartBroker(std::move(options));
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
  }

  // Restarts the broker with a --config holding `yaml`.
  void StartWithConfig(const std::string& yaml) {
    char dir[] = "/tmp/roomq-history-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    config_path_ = std::string(dir) + "/broker.yaml";
    std::ofstream(config_path_) << yaml;
    broker_.process.reset();
    Start({"--config=" + config_path_});
  }

  void TearDown() override {
    if (!config_path_.empty()) {
      unlink(config_path_.c_str());
      rmdir(config_path_.substr(0, config_path_.rfind('/')).c_str());
    }
  }

  std::unique_ptr<WireNode> Node(const std::string& node_id, int receive_hwm = 100000) {
    auto node = std::make_unique<WireNode>(context_, broker_.pub_endpoint, broker_.sub_endpoint,
                                           receive_hwm);
    // These nodes never ping: a heartbeat the broker cannot expire them by
    // while a test runs on a loaded machine (its default, 1 s, expired
    // both subscribers 3 s into a long ASan run).
    EXPECT_TRUE(node->Join(node_id, /*heartbeat_ms=*/60000).ok()) << node_id;
    return node;
  }

  // Publishes with confirm and waits for the receipt (so the envelope was
  // routed and kept before the test goes on).
  v1::PublishReceipt PublishConfirmed(WireNode& publisher, v1::Envelope envelope) {
    envelope.set_origin("pub");
    envelope.set_message_id(++message_id_);
    envelope.set_confirm(true);
    publisher.Publish(envelope);
    auto receipt = publisher.ReceiveReceipt(kWait);
    EXPECT_TRUE(receipt.ok()) << receipt.status();
    return receipt.ok() ? *receipt : v1::PublishReceipt();
  }

  zmq::context_t context_;
  BrokerProcess broker_;
  std::string config_path_;
  uint64_t message_id_ = 0;
};

v1::ResumePoint Point(const wire::TopicRef& topic, uint64_t epoch, uint64_t after) {
  v1::ResumePoint point;
  *point.mutable_topic() = wire::ToProto(topic);
  point.set_epoch(epoch);
  point.set_after_offset(after);
  return point;
}

v1::SubscriberCommand ResumeCommand(const std::vector<v1::ResumePoint>& points,
                                    uint64_t request_id) {
  v1::SubscriberCommand command;
  command.set_request_id(request_id);
  for (const v1::ResumePoint& point : points) {
    *command.mutable_subscribe()->add_topics() = point.topic();
    *command.mutable_subscribe()->add_resume() = point;
  }
  return command;
}

TEST_F(BrokerHistoryTest, DeliveriesAndReceiptsCarryOffsetsAndTheSequence) {
  auto sub = Node("sub");
  ASSERT_TRUE(sub->Subscribe({RoomTopic("/chat", "a"), RoomTopic("/chat", "b")}).ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {"a"}, "one"));
  const v1::PublishReceipt receipt =
      PublishConfirmed(publisher, RoomsEnvelope("/chat", {"a", "b"}, "two"));
  EXPECT_TRUE(receipt.accepted());
  EXPECT_EQ(receipt.sequence(), 2u);
  ASSERT_EQ(receipt.offsets_size(), 2);
  EXPECT_EQ(receipt.offsets(0).topic().name(), "a");
  EXPECT_EQ(receipt.offsets(0).offset(), 2u);  // (/chat, a) began at sequence 1
  EXPECT_EQ(receipt.offsets(1).topic().name(), "b");
  EXPECT_EQ(receipt.offsets(1).offset(), 2u);  // (/chat, b) began at sequence 2

  auto first = sub->ReceiveDelivery(kWait);
  auto second = sub->ReceiveDelivery(kWait);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->frame.delivery().sequence(), 1u);
  const v1::Delivery& delivery = second->frame.delivery();
  EXPECT_EQ(delivery.sequence(), 2u);
  EXPECT_FALSE(delivery.replayed());
  ASSERT_EQ(delivery.offsets_size(), 2);
  EXPECT_EQ(delivery.offsets(1).offset(), 2u);

  // Not kept: other kinds, other channels. Their receipts say sequence 0.
  v1::Envelope ack = RoomsEnvelope("/chat", {"a"}, "");
  ack.set_kind(v1::KIND_ACK);
  EXPECT_EQ(PublishConfirmed(publisher, ack).sequence(), 0u);
  auto delivered_ack = sub->ReceiveDelivery(kWait);
  ASSERT_TRUE(delivered_ack.ok());
  EXPECT_EQ(delivered_ack->frame.delivery().offsets_size(), 0);
  EXPECT_EQ(delivered_ack->frame.delivery().sequence(), 0u);

  // Pong tells the newest sequence.
  sub->Ping();
  while (true) {
    auto received = sub->Receive(kWait);
    ASSERT_TRUE(received.ok()) << received.status();
    if (!received->frame.has_pong()) continue;
    EXPECT_EQ(received->frame.pong().sequence(), 2u);
    EXPECT_EQ(received->frame.pong().epoch(), broker_.epoch);
    break;
  }
}

TEST_F(BrokerHistoryTest, ResumeReplaysWhatHistoryHoldsThenReplies) {
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  // Kept although nobody subscribes.
  for (int i = 0; i < 5; ++i)
    PublishConfirmed(publisher, RoomsEnvelope("/chat", {"a"}, "e" + std::to_string(i)));
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {"other"}, "not-a"));
  auto sub = Node("sub");
  sub->Command(ResumeCommand({Point(RoomTopic("/chat", "a"), broker_.epoch, 2)}, 77));
  std::vector<std::string> replayed;
  while (true) {
    auto received = sub->Receive(kWait);
    ASSERT_TRUE(received.ok()) << received.status();
    if (received->frame.has_delivery()) {
      EXPECT_TRUE(received->frame.delivery().replayed());
      replayed.push_back(received->envelope.event());
      continue;
    }
    if (!received->frame.has_reply()) continue;
    const v1::Reply& reply = received->frame.reply();
    EXPECT_EQ(reply.request_id(), 77u);
    EXPECT_TRUE(reply.ok());
    ASSERT_EQ(reply.resumed_size(), 1);
    EXPECT_EQ(reply.resumed(0).replayed(), 3u);
    EXPECT_FALSE(reply.resumed(0).truncated());
    EXPECT_EQ(reply.resumed(0).last_offset(), 5u);
    break;
  }
  EXPECT_EQ(replayed, (std::vector<std::string>{"e2", "e3", "e4"}));
  // And now it is subscribed: live deliveries follow.
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {"a"}, "live"));
  auto live = sub->ReceiveDelivery(kWait);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->envelope.event(), "live");
  EXPECT_FALSE(live->frame.delivery().replayed());
}

TEST_F(BrokerHistoryTest, ResumeFromAnotherEpochReplaysEverythingAndSaysTruncated) {
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  for (int i = 0; i < 3; ++i) PublishConfirmed(publisher, RoomsEnvelope("/chat", {"a"}, "e"));
  auto sub = Node("sub");
  sub->Command(ResumeCommand({Point(RoomTopic("/chat", "a"), broker_.epoch + 1, 2),
                              Point(RoomTopic("/chat", "a"), broker_.epoch, 0)},
                             5));
  int deliveries = 0;
  while (true) {
    auto received = sub->Receive(kWait);
    ASSERT_TRUE(received.ok()) << received.status();
    if (received->frame.has_delivery()) {
      ++deliveries;
      continue;
    }
    if (!received->frame.has_reply()) continue;
    const v1::Reply& reply = received->frame.reply();
    ASSERT_EQ(reply.resumed_size(), 2);
    EXPECT_TRUE(reply.resumed(0).truncated());
    EXPECT_EQ(reply.resumed(0).replayed(), 3u);
    EXPECT_FALSE(reply.resumed(1).truncated());
    break;
  }
  EXPECT_EQ(deliveries, 3);  // two points on one topic: each envelope once
}

TEST_F(BrokerHistoryTest, ResumeWhilePublishingContinuouslyHasNoGapAndNoDuplicate) {
  constexpr int kMessages = 3000;
  StartWithConfig("history:\n  max_messages: 100000\n");
  auto watcher = Node("watcher");
  ASSERT_TRUE(watcher->Subscribe({RoomTopic("/chat", "a")}).ok());
  std::atomic<bool> stop{false};
  // The second half waits until the resume is under way (its first replayed
  // delivery arrived), so on any machine speed part of the stream is
  // replayed and part is live: the seam is always exercised.
  std::atomic<bool> resume_seen{false};
  // Outlives the thread: its sockets linger 0, so closing it as soon as the
  // last Publish returned would drop what its I/O thread had not sent yet.
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  std::thread publishing([&] {
    for (int i = 1; i <= kMessages && !stop; ++i) {
      if (i == kMessages / 2 + 1) {
        test_support::WaitUntil([&] { return resume_seen || stop; }, kWait, milliseconds(1));
      }
      v1::Envelope envelope = RoomsEnvelope("/chat", {"a"}, "n");
      envelope.set_origin("pub");
      envelope.set_message_id(static_cast<uint64_t>(i));
      publisher.Publish(envelope);
      if (i % 50 == 0)
        std::this_thread::sleep_for(milliseconds(1));  // keep it continuous, not one burst
    }
  });
  // Joined on every way out, a failed ASSERT included.
  absl::Cleanup join_publishing = [&] {
    stop = true;
    publishing.join();
  };
  // Resume while the publisher is mid-way: once the watcher has seen 500.
  for (int seen = 0; seen < 500;) {
    auto received = watcher->ReceiveDelivery(kWait);
    ASSERT_TRUE(received.ok()) << received.status();
    ++seen;
  }
  auto sub = Node("resumer");
  const auto resume_start = std::chrono::steady_clock::now();
  sub->Command(ResumeCommand({Point(RoomTopic("/chat", "a"), broker_.epoch, 0)}, 9));
  std::vector<uint64_t> ids;
  bool replied = false;
  size_t replayed_before_reply = 0;
  while (ids.size() < static_cast<size_t>(kMessages)) {
    auto received = sub->Receive(kWait);
    ASSERT_TRUE(received.ok()) << received.status() << " after " << ids.size();
    if (received->frame.has_reply()) {
      ASSERT_FALSE(replied);
      replied = true;
      replayed_before_reply = ids.size();
      std::printf("[ history ] resume: %zu envelopes replayed, Reply after %lld ms\n", ids.size(),
                  static_cast<long long>(std::chrono::duration_cast<milliseconds>(
                                             std::chrono::steady_clock::now() - resume_start)
                                             .count()));
      EXPECT_EQ(received->frame.reply().resumed(0).replayed(), ids.size());
      continue;
    }
    if (!received->frame.has_delivery()) continue;
    resume_seen = true;
    // Replayed deliveries come exactly before the Reply, live ones after.
    EXPECT_EQ(received->frame.delivery().replayed(), !replied) << ids.size();
    ids.push_back(received->envelope.message_id());
  }
  std::move(join_publishing).Invoke();
  EXPECT_TRUE(replied);
  EXPECT_GE(replayed_before_reply, 500u);
  EXPECT_LT(replayed_before_reply, static_cast<size_t>(kMessages)) << "the seam was not exercised";
  for (size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(ids[i], i + 1) << "gap or duplicate at " << i;
}

class BrokerRecoverTest : public BrokerHistoryTest {
 protected:
  v1::Session SessionOf(const std::string& pid, const std::string& socket_id = "s1") {
    v1::Session session;
    session.set_pid(pid);
    session.set_namespace_("/chat");
    session.set_socket_id(socket_id);
    session.add_rooms(socket_id);
    session.add_rooms("general");
    session.set_data("{\"user\":\"ann\"}");
    return session;
  }

  // The socket opens on `gateway` and its transport closes (recoverable);
  // waits for the broker's Reply, so the record is disconnected on return.
  // The broker stamps where it started (its newest sequence at the Open).
  void Save(WireNode& gateway, v1::Session session, uint32_t ttl_ms = 60000) {
    v1::SubscriberCommand command;
    command.set_request_id(++request_id_);
    v1::Sockets* sockets = command.mutable_sockets();
    session.set_ttl_ms(ttl_ms);
    v1::SocketClose close;
    close.set_namespace_(session.namespace_());
    close.set_socket_id(session.socket_id());
    close.set_recoverable(true);
    *sockets->add_updates()->mutable_open()->mutable_session() = std::move(session);
    *sockets->add_updates()->mutable_close() = std::move(close);
    gateway.Command(command);
    auto reply = NextFrame(gateway, [](const v1::BrokerFrame& f) { return f.has_reply(); });
    EXPECT_TRUE(reply.reply().ok()) << reply.reply().error();
  }

  v1::Recovered Recover(WireNode& gateway, const std::string& pid, uint64_t epoch,
                        uint64_t after_sequence, const std::string& ns = "/chat",
                        bool use_session_start = false) {
    v1::SubscriberCommand command;
    command.set_request_id(++request_id_);
    v1::Recover* recover = command.mutable_recover();
    recover->set_pid(pid);
    recover->set_namespace_(ns);
    recover->set_epoch(epoch);
    recover->set_after_sequence(after_sequence);
    recover->set_use_session_start(use_session_start);
    gateway.Command(command);
    v1::Recovered recovered =
        NextFrame(gateway, [](const v1::BrokerFrame& f) { return f.has_recovered(); }).recovered();
    EXPECT_EQ(recovered.request_id(), request_id_);
    return recovered;
  }

  template <typename Predicate>
  v1::BrokerFrame NextFrame(WireNode& node, Predicate predicate) {
    auto received = node.ReceiveWhere(predicate, kWait);
    EXPECT_TRUE(received.ok()) << received.status();
    return received.ok() ? received->frame : v1::BrokerFrame();
  }

  uint64_t request_id_ = 0;
};

TEST_F(BrokerRecoverTest, RecoverSubscribesAndReturnsEveryMissedEventInOrderOnce) {
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  auto old_gateway = Node("gw-old");
  for (int i = 1; i <= 3; ++i)
    PublishConfirmed(publisher, RoomsEnvelope("/chat", {"general"}, "before"));
  Save(*old_gateway, SessionOf("pid-1"));
  // What the client misses: 4..9, of which "other" and /elsewhere are not its rooms.
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {"general"}, "m4"));
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {"other"}, "not-mine"));
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {}, "m6-everyone"));
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {"s1", "general"}, "m7-both-rooms"));
  PublishConfirmed(publisher, RoomsEnvelope("/elsewhere", {"general"}, "not-my-namespace"));
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {"s1"}, "m9-direct"));

  auto new_gateway = Node("gw-new");
  const v1::Recovered recovered = Recover(*new_gateway, "pid-1", broker_.epoch, 2);
  ASSERT_TRUE(recovered.ok()) << recovered.error();
  EXPECT_EQ(recovered.session().socket_id(), "s1");
  EXPECT_EQ(recovered.session().data(), "{\"user\":\"ann\"}");
  std::vector<std::string> events;
  std::vector<uint64_t> sequences;
  for (const v1::Delivery& missed : recovered.missed()) {
    EXPECT_TRUE(missed.replayed());
    EXPECT_EQ(missed.epoch(), broker_.epoch);
    events.push_back(missed.envelope().event());
    sequences.push_back(missed.sequence());
  }
  EXPECT_EQ(events, (std::vector<std::string>{"before", "m4", "m6-everyone", "m7-both-rooms",
                                              "m9-direct"}));
  EXPECT_EQ(sequences, (std::vector<uint64_t>{3, 4, 6, 7, 9}));

  // The broker subscribed the new gateway to the session's rooms.
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {"general"}, "live"));
  auto live = new_gateway->ReceiveDelivery(kWait);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(live->envelope.event(), "live");
  EXPECT_GT(live->frame.delivery().sequence(), sequences.back());

  // The record is connected on the new gateway now: asking again from there
  // is refused (the socket's transport is still open as far as it knows).
  EXPECT_EQ(Recover(*new_gateway, "pid-1", broker_.epoch, 2).error(), "socket still connected");
}

TEST_F(BrokerRecoverTest, WithoutAnOffsetRecoveryStartsAtTheSessionStart) {
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  auto gateway = Node("gw");
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {"general"}, "old"));
  Save(*gateway, SessionOf("pid-2"));
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {"general"}, "new"));
  const v1::Recovered recovered = Recover(*gateway, "pid-2", broker_.epoch, 0, "/chat", true);
  ASSERT_TRUE(recovered.ok()) << recovered.error();
  ASSERT_EQ(recovered.missed_size(), 1);
  EXPECT_EQ(recovered.missed(0).envelope().event(), "new");
}

TEST_F(BrokerRecoverTest, FailuresAddNoSubscription) {
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  auto gateway = Node("gw");
  ASSERT_TRUE(gateway->Subscribe({RoomTopic("/sentinel", "gw")}).ok());
  EXPECT_EQ(Recover(*gateway, "nobody", broker_.epoch, 0).error(), "unknown session");
  Save(*gateway, SessionOf("wrong-ns", "s-wrong-ns"));
  EXPECT_EQ(Recover(*gateway, "wrong-ns", broker_.epoch, 0, "/other").error(), "namespace differs");
  // A guess in the wrong namespace leaves the record alone.
  EXPECT_EQ(Recover(*gateway, "wrong-ns", broker_.epoch, 0, "/other").error(), "namespace differs");
  Save(*gateway, SessionOf("old-epoch", "s-old-epoch"));
  EXPECT_EQ(Recover(*gateway, "old-epoch", broker_.epoch + 1, 0).error(), "epoch changed");
  // The failed recovery consumed the disconnected record.
  EXPECT_EQ(Recover(*gateway, "old-epoch", broker_.epoch, 0).error(), "unknown session");
  Save(*gateway, SessionOf("short", "s-short"), /*ttl_ms=*/30);
  std::this_thread::sleep_for(milliseconds(100));  // the ttl itself is what is tested
  const v1::Recovered expired = Recover(*gateway, "short", broker_.epoch, 0);
  EXPECT_FALSE(expired.ok());
  EXPECT_TRUE(expired.error() == "session expired" || expired.error() == "unknown session")
      << expired.error();

  // None of the failures subscribed the gateway to "general": the sentinel
  // published after it arrives first.
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {"general"}, "must-not-arrive"));
  PublishConfirmed(publisher, RoomsEnvelope("/sentinel", {"gw"}, "sentinel"));
  auto first = gateway->ReceiveDelivery(kWait);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->envelope.event(), "sentinel");
}

TEST_F(BrokerRecoverTest, FailsWhenHistoryNoLongerHoldsWhatWasMissed) {
  StartWithConfig("history:\n  max_messages: 2\n");
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  auto gateway = Node("gw");
  Save(*gateway, SessionOf("p", "s-p"));
  Save(*gateway, SessionOf("q", "s-q"));
  for (int i = 0; i < 5; ++i) PublishConfirmed(publisher, RoomsEnvelope("/chat", {"general"}, "x"));
  EXPECT_EQ(Recover(*gateway, "p", broker_.epoch, 1).error(), "history truncated");
  // From 3 on, history (2 per topic: 4 and 5) still holds all of it.
  const v1::Recovered recovered = Recover(*gateway, "q", broker_.epoch, 3);
  ASSERT_TRUE(recovered.ok()) << recovered.error();
  EXPECT_EQ(recovered.missed_size(), 2);
}

TEST_F(BrokerRecoverTest, ASessionSavedBeforeASigkillRecoversAfterTheRestart) {
  char dir[] = "/tmp/roomq-session-restart-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string data_dir = std::string("--data-dir=") + dir;
  broker_.process.reset();
  Start({data_dir});
  uint64_t seen = 0;
  {
    WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
    auto gateway = Node("gw-killed");
    seen = PublishConfirmed(publisher, RoomsEnvelope("/chat", {"general"}, "seen")).sequence();
    Save(*gateway, SessionOf("pid-durable"));  // its Reply: the record is on disk
    PublishConfirmed(publisher, RoomsEnvelope("/chat", {"general"}, "missed-before-kill"));
  }
  const uint64_t epoch = broker_.epoch;
  BrokerOptions same = broker_.SameEndpoints();
  same.extra_args = {data_dir};
  broker_.process->Kill();  // SIGKILL: no shutdown path runs
  auto restarted = StartBroker(same);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  broker_ = std::move(*restarted);
  EXPECT_EQ(broker_.epoch, epoch) << "history and its epoch survive with --data-dir";

  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {"general"}, "missed-after-restart"));
  auto gateway = Node("gw-other");
  const v1::Recovered recovered = Recover(*gateway, "pid-durable", epoch, seen);
  ASSERT_TRUE(recovered.ok()) << recovered.error();
  EXPECT_EQ(recovered.session().socket_id(), "s1");
  std::vector<std::string> events;
  for (const v1::Delivery& missed : recovered.missed()) events.push_back(missed.envelope().event());
  EXPECT_EQ(events, (std::vector<std::string>{"missed-before-kill", "missed-after-restart"}));
  // The recovery moved the record to gw-other, on disk too: after a second
  // SIGKILL it is still gw-other's (connected), so gw-other asking again is
  // refused, where the record as saved would have recovered.
  same = broker_.SameEndpoints();
  same.extra_args = {data_dir};
  broker_.process->Kill();
  restarted = StartBroker(same);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  broker_ = std::move(*restarted);
  auto again = Node("gw-other");
  EXPECT_EQ(Recover(*again, "pid-durable", epoch, seen).error(), "socket still connected");
  std::filesystem::remove_all(dir);
}

TEST_F(BrokerHistoryTest, ASubscribeReplyCarriesEachNewTopicsNewestOffset) {
  StartWithConfig("history:\n  namespaces:\n    /quiet: { max_messages: 0 }\n");
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  PublishConfirmed(publisher, RoomsEnvelope("/chat", {"busy"}, "one"));
  const uint64_t newest =
      PublishConfirmed(publisher, RoomsEnvelope("/chat", {"busy"}, "two")).offsets(0).offset();
  auto node = Node("gw");
  node->SendSubscribe({RoomTopic("/chat", "busy"), RoomTopic("/chat", "empty"),
                       RoomTopic("/quiet", "r"), wire::ServiceTopic("/svc")},
                      /*request_id=*/77);
  v1::Reply reply;
  for (;;) {
    auto received = node->Receive(kWait);
    ASSERT_TRUE(received.ok()) << received.status();
    if (received->frame.has_reply() && received->frame.reply().request_id() == 77) {
      reply = received->frame.reply();
      break;
    }
  }
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.epoch(), broker_.epoch);
  // Rooms of namespaces that keep history only: /quiet keeps none, and a
  // service topic is not a room.
  ASSERT_EQ(reply.current_size(), 2);
  EXPECT_EQ(reply.current(0).topic().name(), "busy");
  EXPECT_EQ(reply.current(0).offset(), newest);
  EXPECT_EQ(reply.current(1).topic().name(), "empty");
  EXPECT_EQ(reply.current(1).offset(), 0u) << "nothing held yet";
}

TEST_F(BrokerHistoryTest, ANamespaceWithoutHistoryKeepsNothing) {
  StartWithConfig("history:\n  namespaces:\n    /quiet: { max_messages: 0 }\n");
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  EXPECT_EQ(PublishConfirmed(publisher, RoomsEnvelope("/quiet", {"a"}, "x")).sequence(), 0u);
  EXPECT_EQ(PublishConfirmed(publisher, RoomsEnvelope("/loud", {"a"}, "x")).sequence(), 1u);
}

TEST(BrokerHistoryBinary, RejectsABadConfigWithTheLine) {
  char dir[] = "/tmp/roomq-history-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/bad.yaml";
  std::ofstream(path) << "history:\n  max_size: 5\n";
  auto broker = test_support::ChildProcess::Start(test_support::BinaryPath("roomq-broker"),
                                                  {"--config=" + path});
  ASSERT_TRUE(broker.ok()) << broker.status();
  auto exit = (*broker)->Wait(kWait);
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->exit_code, 2);
  EXPECT_TRUE(
      (*broker)->WaitForLine(std::regex("bad.yaml:2:3: unknown key 'max_size'"), kWait).ok());
  unlink(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace roomq::broker_test
