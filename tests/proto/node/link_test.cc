#include "proto/node/link.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/base/clock.h"
#include "proto/wire/delivery.h"
#include "tests/proto/node/fake_broker.h"

namespace roomq::node {
namespace {

using std::chrono::milliseconds;
using testing::FakeBroker;

class LinkTest : public ::testing::Test {
 protected:
  // The Link reads time only from clock_, which moves only when a test
  // advances it: no heartbeat, silence or deadline fires by itself, however
  // long a loaded machine holds the test thread.
  void MakeLink(FakeBroker& broker, milliseconds heartbeat = milliseconds(1000),
                milliseconds receipt_timeout = milliseconds(5000), FakeBroker* second = nullptr) {
    LinkOptions options;
    options.pub_endpoint = broker.pub_endpoint();
    options.sub_endpoint = broker.sub_endpoint();
    if (second != nullptr) {  // a failover pair, `broker` first
      options.pub_endpoint += "," + second->pub_endpoint();
      options.sub_endpoint += "," + second->sub_endpoint();
    }
    options.node_prefix = "test";
    options.heartbeat = heartbeat;
    options.receipt_timeout = receipt_timeout;
    options.linger = milliseconds(0);
    options.clock = &clock_;
    options.max_message_bytes = max_message_bytes_;
    LinkHandlers handlers;
    handlers.on_delivery = [this](Delivery& d) {
      deliveries_.push_back(d.envelope);
      headers_.push_back(d.header);
    };
    handlers.on_broker_state = [this](bool up) { states_.push_back(up); };
    handlers.on_resumed = [this](const v1::ResumeResult& r) { resumed_.push_back(r); };
    auto link = Link::Create(context_, options, handlers);
    ASSERT_TRUE(link.ok()) << link.status();
    link_ = std::move(*link);
  }

  // Polls the link and services `broker` until `done` or `patience` (real
  // time: a bound on waiting for sockets, never what a test is about)
  // passes.
  bool PumpUntil(FakeBroker* broker, const std::function<bool()>& done,
                 std::chrono::seconds patience = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      EXPECT_TRUE(link_->Poll(milliseconds(5)).ok());
      if (broker != nullptr) broker->Service();
    }
    return done();
  }

  // Advances the clock and runs one Poll, which runs every timer now due.
  void AdvanceAndPoll(milliseconds step) {
    clock_.Advance(step);
    EXPECT_TRUE(link_->Poll(milliseconds(0)).ok());
  }

  // Waits for the TCP connection's Hello (connection number `hellos`), then
  // lets one heartbeat pass so the broker's Pong marks it connected.
  void Connect(FakeBroker& broker, milliseconds heartbeat, int hellos = 1) {
    ASSERT_TRUE(PumpUntil(&broker, [&] { return CountHellos(broker) >= hellos; }));
    clock_.Advance(heartbeat);
    ASSERT_TRUE(PumpUntil(&broker, [&] { return link_->broker_connected(); }));
  }

  static int CountHellos(const FakeBroker& broker) {
    int count = 0;
    for (const auto& c : broker.commands) count += c.has_hello();
    return count;
  }

  static int CountSubscribesWith(const FakeBroker& broker, size_t topics) {
    int count = 0;
    for (const auto& c : broker.commands) {
      if (c.has_subscribe() && static_cast<size_t>(c.subscribe().topics_size()) == topics) ++count;
    }
    return count;
  }

  base::FakeClock clock_;
  zmq::context_t context_;
  int64_t max_message_bytes_ = LinkOptions().max_message_bytes;
  std::unique_ptr<Link> link_;
  std::vector<v1::Envelope> deliveries_;
  std::vector<v1::Delivery> headers_;
  std::vector<v1::ResumeResult> resumed_;
  std::vector<bool> states_;
};

// A delivery frame for (/chat, room) as the broker writes it.
std::string HistoryFrame(uint64_t epoch, const std::string& room, uint64_t offset,
                         uint64_t sequence, bool replayed, const std::string& event) {
  v1::Envelope envelope;
  envelope.set_version(v1::VERSION_1);
  envelope.set_kind(v1::KIND_EVENT);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_("/chat");
  envelope.add_rooms(room);
  envelope.set_event(event);
  const wire::RoomOffset offsets[] = {{"/chat", room, offset}};
  wire::DeliveryHeader header;
  header.epoch = epoch;
  header.offsets = offsets;
  header.sequence = sequence;
  header.replayed = replayed;
  return wire::EncodeDeliveryFrame(header, envelope.SerializeAsString());
}

const v1::SubscriberCommand* LastWith(const FakeBroker& broker,
                                      v1::SubscriberCommand::CommandCase which) {
  for (auto it = broker.commands.rbegin(); it != broker.commands.rend(); ++it) {
    if (it->command_case() == which) return &*it;
  }
  return nullptr;
}

TEST_F(LinkTest, GeneratesNodeIdWithPrefix) {
  FakeBroker broker(context_);
  MakeLink(broker);
  EXPECT_EQ(link_->node_id().rfind("test-", 0), 0u) << link_->node_id();
}

TEST_F(LinkTest, RejectsMissingDeliveryHandler) {
  auto link = Link::Create(context_, LinkOptions{}, LinkHandlers{});
  EXPECT_EQ(link.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LinkTest, MalformedEndpointIsAnError) {
  LinkOptions options;
  options.pub_endpoint = "not-an-endpoint";
  LinkHandlers handlers;
  handlers.on_delivery = [](Delivery&) {};
  auto link = Link::Create(context_, options, handlers);
  EXPECT_EQ(link.status().code(), absl::StatusCode::kInternal);
  options.pub_endpoint = "tcp://127.0.0.1:5555";
  options.sub_endpoint = "tcp://";
  EXPECT_EQ(Link::Create(context_, options, handlers).status().code(), absl::StatusCode::kInternal);
}

TEST_F(LinkTest, HelloThenSubscriptionSetThenDoneOnReply) {
  FakeBroker broker(context_);
  MakeLink(broker);
  std::optional<absl::Status> done;
  link_->Subscribe(wire::RoomTopic("/chat", "general"), [&](const absl::Status& s) { done = s; });
  ASSERT_TRUE(PumpUntil(&broker, [&] { return done.has_value(); }));
  EXPECT_TRUE(done->ok()) << *done;
  ASSERT_GE(broker.commands.size(), 3u);
  EXPECT_TRUE(broker.commands[0].has_hello());
  EXPECT_EQ(broker.commands[0].hello().node(), link_->node_id());
  EXPECT_EQ(broker.commands[0].hello().version(), v1::VERSION_1);
  // A Ping at once, not a heartbeat later: the Pong tells the node the
  // broker's epoch before its first socket connects.
  EXPECT_TRUE(broker.commands[1].has_ping());
  ASSERT_TRUE(broker.commands[2].has_subscribe());
  EXPECT_EQ(broker.commands[2].subscribe().topics(0).name(), "general");
  EXPECT_TRUE(link_->broker_connected());
  EXPECT_EQ(states_, std::vector<bool>{true});
}

TEST_F(LinkTest, InvalidTopicFailsAtOnce) {
  FakeBroker broker(context_);
  MakeLink(broker);
  std::optional<absl::Status> done;
  link_->Subscribe(wire::RoomTopic("nochat", "x"), [&](const absl::Status& s) { done = s; });
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(link_->subscription_count(), 0u);
}

TEST_F(LinkTest, SubscribeTimesOutWithUnavailableButStaysInSet) {
  FakeBroker broker(context_);
  broker.answer_subscribe = false;
  MakeLink(broker, milliseconds(1000), milliseconds(300));
  std::optional<absl::Status> done;
  link_->Subscribe(wire::RoomTopic("/chat", "a"), [&](const absl::Status& s) { done = s; });
  ASSERT_TRUE(PumpUntil(&broker, [&] { return CountSubscribesWith(broker, 1) >= 1; }));
  AdvanceAndPoll(milliseconds(299));
  EXPECT_FALSE(done.has_value());
  AdvanceAndPoll(milliseconds(1));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(link_->subscribed(wire::RoomTopic("/chat", "a")));
}

TEST_F(LinkTest, DeliversParsedEnvelopesAndDropsMalformedFrames) {
  FakeBroker broker(context_);
  MakeLink(broker);
  std::optional<absl::Status> done;
  link_->Subscribe(wire::RoomTopic("/chat", "a"), [&](const absl::Status& s) { done = s; });
  ASSERT_TRUE(PumpUntil(&broker, [&] { return done.has_value(); }));

  v1::BrokerFrame delivery_frame;
  delivery_frame.mutable_delivery()->set_epoch(7);
  const std::string no_envelope = delivery_frame.SerializeAsString();
  v1::Envelope wrong_version;
  wrong_version.set_version(static_cast<v1::Version>(9));
  *delivery_frame.mutable_delivery()->mutable_envelope() = wrong_version;
  const std::string wrong_version_frame = delivery_frame.SerializeAsString();
  v1::Envelope good;
  good.set_version(v1::VERSION_1);
  good.set_kind(v1::KIND_EVENT);
  good.set_channel(v1::CHANNEL_ROOMS);
  good.set_namespace_("/chat");
  good.add_rooms("a");
  good.set_event("early");
  *delivery_frame.mutable_delivery()->mutable_envelope() = good;
  const std::string good_frame = delivery_frame.SerializeAsString();

  broker.SendRawToSubscriber({"\xff\xff garbage"});
  broker.SendRawToSubscriber({no_envelope});          // delivery without envelope
  broker.SendRawToSubscriber({wrong_version_frame});  // wrong version
  // The envelope field holding bytes that are not an Envelope.
  broker.SendRawToSubscriber({wire::EncodeDeliveryFrame(7, "\x0a\xff")});

  good.set_event("hello");
  good.set_args(R"([1])");
  broker.Deliver(good);
  ASSERT_TRUE(PumpUntil(&broker, [&] { return !deliveries_.empty(); }));
  ASSERT_EQ(deliveries_.size(), 1u);
  EXPECT_EQ(deliveries_[0].event(), "hello");
  EXPECT_EQ(deliveries_[0].args(), "[1]");
  EXPECT_EQ(link_->stats().dropped_malformed, 4u);
  EXPECT_EQ(link_->stats().delivered, 1u);
}

TEST_F(LinkTest, HandlesEveryFrameOfAMultipartMessageInOrder) {
  // The broker sends a burst's deliveries to a node as ONE message of
  // several frames, each one BrokerFrame: each is handled as a message of
  // its own would be, in order, and a malformed one costs only itself.
  FakeBroker broker(context_);
  MakeLink(broker);
  std::optional<absl::Status> done;
  link_->Subscribe(wire::RoomTopic("/chat", "a"), [&](const absl::Status& s) { done = s; });
  ASSERT_TRUE(PumpUntil(&broker, [&] { return done.has_value(); }));
  ASSERT_TRUE(done->ok()) << *done;

  auto delivery = [](const std::string& event) {
    v1::BrokerFrame frame;
    frame.mutable_delivery()->set_epoch(7);
    v1::Envelope* envelope = frame.mutable_delivery()->mutable_envelope();
    envelope->set_version(v1::VERSION_1);
    envelope->set_kind(v1::KIND_EVENT);
    envelope->set_channel(v1::CHANNEL_ROOMS);
    envelope->set_namespace_("/chat");
    envelope->add_rooms("a");
    envelope->set_event(event);
    return frame.SerializeAsString();
  };
  v1::BrokerFrame no_envelope;
  no_envelope.mutable_delivery()->set_epoch(7);
  v1::BrokerFrame pong;
  pong.mutable_pong()->set_epoch(9);
  pong.mutable_pong()->set_known(true);
  pong.mutable_pong()->set_sequence(5);
  broker.SendRawToSubscriber({delivery("one"), "\xff\xff garbage", delivery("two"),
                              no_envelope.SerializeAsString(), delivery("three"),
                              pong.SerializeAsString()});
  ASSERT_TRUE(PumpUntil(&broker, [&] { return deliveries_.size() >= 3 && link_->epoch() == 9; }))
      << deliveries_.size() << " deliveries, epoch " << link_->epoch();
  ASSERT_EQ(deliveries_.size(), 3u);
  EXPECT_EQ(deliveries_[0].event(), "one");
  EXPECT_EQ(deliveries_[1].event(), "two");
  EXPECT_EQ(deliveries_[2].event(), "three");
  EXPECT_EQ(link_->last_sequence(), 5u);  // the Pong, the last frame, was handled too
  EXPECT_EQ(link_->stats().dropped_malformed, 2u);
  EXPECT_EQ(link_->stats().delivered, 3u);
}

TEST_F(LinkTest, PublishFillsHeaderAndReceiptArrives) {
  FakeBroker broker(context_);
  MakeLink(broker);
  std::optional<absl::StatusOr<v1::PublishReceipt>> receipt;
  v1::Envelope envelope;
  envelope.set_kind(v1::KIND_EVENT);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_("/chat");
  ASSERT_TRUE(
      link_->Publish(envelope, [&](const absl::StatusOr<v1::PublishReceipt>& r) { receipt = r; })
          .ok());
  ASSERT_TRUE(link_->Publish(envelope).ok());
  ASSERT_TRUE(
      PumpUntil(&broker, [&] { return receipt.has_value() && broker.published.size() == 2; }));
  ASSERT_TRUE(receipt->ok()) << receipt->status();
  EXPECT_TRUE((*receipt)->accepted());
  EXPECT_EQ(broker.published[0].origin(), link_->node_id());
  EXPECT_EQ(broker.published[0].version(), v1::VERSION_1);
  EXPECT_TRUE(broker.published[0].confirm());
  EXPECT_FALSE(broker.published[1].confirm());
  EXPECT_LT(broker.published[0].message_id(), broker.published[1].message_id());
  EXPECT_GT(broker.published[0].timestamp_us(), 0);
  EXPECT_EQ(link_->stats().published, 2u);
}

TEST_F(LinkTest, ReceiptTimesOutWithUnavailable) {
  FakeBroker broker(context_);
  broker.answer_publish = false;
  MakeLink(broker, milliseconds(1000), milliseconds(300));
  std::optional<absl::StatusOr<v1::PublishReceipt>> receipt;
  v1::Envelope envelope;
  envelope.set_namespace_("/chat");
  ASSERT_TRUE(
      link_->Publish(envelope, [&](const absl::StatusOr<v1::PublishReceipt>& r) { receipt = r; })
          .ok());
  ASSERT_TRUE(PumpUntil(&broker, [&] { return broker.published.size() == 1; }));
  AdvanceAndPoll(milliseconds(299));
  EXPECT_FALSE(receipt.has_value());
  AdvanceAndPoll(milliseconds(1));
  ASSERT_TRUE(receipt.has_value());
  EXPECT_EQ(receipt->status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(LinkTest, UnknownPongResendsHelloAndWholeSet) {
  FakeBroker broker(context_);
  MakeLink(broker);
  int confirmed = 0;
  link_->Subscribe(wire::RoomTopic("/chat", "a"),
                   [&](const absl::Status& s) { confirmed += s.ok(); });
  link_->Subscribe(wire::NamespaceTopic("/news"),
                   [&](const absl::Status& s) { confirmed += s.ok(); });
  ASSERT_TRUE(PumpUntil(&broker, [&] { return confirmed == 2; }));
  const int before = CountSubscribesWith(broker, 2);
  broker.known = false;
  clock_.Advance(milliseconds(1000));  // the next Ping draws Pong{known=false}
  ASSERT_TRUE(PumpUntil(&broker, [&] { return CountSubscribesWith(broker, 2) > before; }));
  int hellos = 0;
  for (const auto& c : broker.commands) hellos += c.has_hello();
  EXPECT_GE(hellos, 2);
  EXPECT_GE(link_->stats().reconnects, 1u);
}

TEST_F(LinkTest, ARecoverAskedWithoutAConnectionGoesRightAfterTheNextHello) {
  FakeBroker broker(context_);
  MakeLink(broker);
  // Before the first Poll the Link has seen no connection yet (a broker
  // restarting looks the same).
  std::optional<absl::StatusOr<v1::Recovered>> answer;
  v1::Recover request;
  request.set_pid("pid-1");
  request.set_namespace_("/chat");
  link_->Recover(request, [&](absl::StatusOr<v1::Recovered> r) { answer = std::move(r); });
  EXPECT_FALSE(answer.has_value()) << "held, not refused";
  ASSERT_TRUE(PumpUntil(&broker, [&] {
    for (const auto& c : broker.commands) {
      if (c.has_recover()) return true;
    }
    return false;
  }));
  int hello = -1, recover = -1;
  for (size_t i = 0; i < broker.commands.size(); ++i) {
    if (broker.commands[i].has_hello() && hello < 0) hello = static_cast<int>(i);
    if (broker.commands[i].has_recover()) recover = static_cast<int>(i);
  }
  EXPECT_GE(hello, 0);
  EXPECT_GT(recover, hello) << "after the Hello, which would otherwise undo it";
  EXPECT_EQ(broker.commands[recover].recover().pid(), "pid-1");
  // Unanswered (the fake broker does not recover): Unavailable at the timeout.
  clock_.Advance(LinkOptions().receipt_timeout);
  ASSERT_TRUE(PumpUntil(&broker, [&] { return answer.has_value(); }));
  EXPECT_TRUE(absl::IsUnavailable(answer->status())) << answer->status();
}

// What a gateway reads as where a socket starts once its rooms are
// confirmed (gateway/socketio/connection_recovery.cc): inside the Reply's
// callback the broker's sequence is already known.
TEST_F(LinkTest, TheReplyToASubscribeCarriesTheBrokersSequenceBeforeItsCallbackRuns) {
  FakeBroker broker(context_);
  broker.current_epoch = 7;
  broker.current_sequence = 1234;
  MakeLink(broker);
  std::optional<uint64_t> seen;
  link_->Subscribe(wire::RoomTopic("/chat", "a"),
                   [&](const absl::Status&) { seen = link_->last_sequence(); });
  ASSERT_TRUE(PumpUntil(&broker, [&] { return seen.has_value(); }));
  EXPECT_EQ(*seen, 1234u);
  EXPECT_EQ(link_->epoch(), 7u);
}

TEST_F(LinkTest, TheBrokersCurrentOffsetIsTheResumePointBeforeAnyDelivery) {
  auto broker = std::make_unique<FakeBroker>(context_);
  broker->current_epoch = 7;
  broker->current_offset = 41;
  MakeLink(*broker);
  const wire::TopicRef quiet = wire::RoomTopic("/chat", "quiet");
  bool confirmed = false;
  link_->Subscribe(quiet, [&](const absl::Status& s) { confirmed = s.ok(); });
  ASSERT_TRUE(PumpUntil(broker.get(), [&] { return confirmed; }));
  auto position = link_->position(quiet);
  ASSERT_TRUE(position.has_value()) << "no delivery yet, but the broker said where the topic is";
  EXPECT_EQ(position->epoch, 7u);
  EXPECT_EQ(position->after_offset, 41u);
  // The broker restarts (same endpoints): the re-subscription resumes the
  // topic from there, so what was published meanwhile is not skipped.
  const std::string pub = broker->pub_endpoint(), sub = broker->sub_endpoint();
  broker.reset();
  ASSERT_TRUE(PumpUntil(nullptr, [&] { return !link_->broker_connected(); }));
  broker = std::make_unique<FakeBroker>(context_, pub, sub);
  const v1::SubscriberCommand* resume = nullptr;
  ASSERT_TRUE(PumpUntil(broker.get(), [&] {
    for (const auto& c : broker->commands) {
      if (c.has_subscribe() && c.subscribe().resume_size() > 0) resume = &c;
    }
    return resume != nullptr;
  }));
  ASSERT_EQ(resume->subscribe().resume_size(), 1);
  EXPECT_EQ(resume->subscribe().resume(0).epoch(), 7u);
  EXPECT_EQ(resume->subscribe().resume(0).after_offset(), 41u);
}

TEST_F(LinkTest, SilentBrokerIsReportedDown) {
  FakeBroker broker(context_);
  // Down after 3 silent heartbeats (900 ms) since the broker's last answer.
  MakeLink(broker, milliseconds(300));
  Connect(broker, milliseconds(300));
  // Every Pong the broker sent is read before the clock moves: one still in
  // flight would arrive at a later fake time and count as a later answer.
  ASSERT_TRUE(PumpUntil(&broker, [&] { return link_->stats().pongs == broker.pongs_sent; }));
  broker.answer_ping = false;
  for (int i = 0; i < 2; ++i) {
    AdvanceAndPoll(milliseconds(300));  // a Ping the broker leaves unanswered
    broker.Service();
  }
  AdvanceAndPoll(milliseconds(299));
  EXPECT_TRUE(link_->broker_connected()) << "silent for less than 3 heartbeats";
  AdvanceAndPoll(milliseconds(1));
  EXPECT_FALSE(link_->broker_connected());
  EXPECT_EQ(states_, (std::vector<bool>{true, false}));
  EXPECT_EQ(link_->stats().reconnects, 1u) << "TCP looked up: the sub socket is recreated";
  broker.answer_ping = true;
  Connect(broker, milliseconds(300), /*hellos=*/2);
}

TEST_F(LinkTest, BrokerRestartOnSameEndpointsRestoresSubscriptions) {
  auto broker = std::make_unique<FakeBroker>(context_);
  MakeLink(*broker);
  int confirmed = 0;
  link_->Subscribe(wire::RoomTopic("/chat", "a"),
                   [&](const absl::Status& s) { confirmed += s.ok(); });
  link_->Subscribe(wire::RoomTopic("/chat", "b"),
                   [&](const absl::Status& s) { confirmed += s.ok(); });
  ASSERT_TRUE(PumpUntil(broker.get(), [&] { return confirmed == 2; }));
  const std::string pub = broker->pub_endpoint(), sub = broker->sub_endpoint();
  broker.reset();
  ASSERT_TRUE(PumpUntil(nullptr, [&] { return !link_->broker_connected(); }));
  broker = std::make_unique<FakeBroker>(context_, pub, sub);
  ASSERT_TRUE(PumpUntil(broker.get(), [&] { return CountSubscribesWith(*broker, 2) >= 1; }));
  // Stale pings queued while the broker was away may come first; Hello must
  // precede the restored set.
  bool hello_first = false;
  for (const auto& c : broker->commands) {
    if (c.has_hello()) hello_first = true;
    if (c.has_subscribe()) break;
  }
  EXPECT_TRUE(hello_first);
  ASSERT_TRUE(PumpUntil(broker.get(), [&] { return link_->broker_connected(); }));
  v1::Envelope good;
  good.set_version(v1::VERSION_1);
  good.set_namespace_("/chat");
  good.set_event("after-restart");
  broker->Deliver(good);
  ASSERT_TRUE(PumpUntil(broker.get(), [&] { return !deliveries_.empty(); }));
  EXPECT_EQ(deliveries_.back().event(), "after-restart");
}

TEST_F(LinkTest, LargeSubscriptionSetGoesInBatchesWithOneReply) {
  FakeBroker broker(context_);
  MakeLink(broker);
  int done = 0;
  for (int i = 0; i < 25001; ++i) {
    link_->Subscribe(wire::RoomTopic("/big", "room-" + std::to_string(i)),
                     [&](const absl::Status& s) { done += s.ok(); });
  }
  ASSERT_TRUE(PumpUntil(
      &broker, [&] { return done == 25001; }, std::chrono::seconds(60)));
  std::vector<int> batches;
  int with_request = 0;
  for (const auto& c : broker.commands) {
    if (!c.has_subscribe()) continue;
    batches.push_back(c.subscribe().topics_size());
    with_request += c.request_id() != 0;
  }
  EXPECT_EQ(batches, (std::vector<int>{10000, 10000, 5001}));
  EXPECT_EQ(with_request, 1);
}

// Topic names may be 1 KiB: 10000 of them in one command would be ~20 MB,
// over the broker's message size limit (4 MiB by default), which cuts the
// connection instead of subscribing. Commands stop at 1 MiB too.
TEST_F(LinkTest, LongTopicNamesGoInCommandsUnderOneMebibyte) {
  FakeBroker broker(context_);
  MakeLink(broker);
  constexpr int kTopics = 3000;
  int done = 0;
  for (int i = 0; i < kTopics; ++i) {
    std::string room = std::to_string(i) + "-" + std::string(1000, 'r');
    link_->Subscribe(wire::RoomTopic("/big", room), [&](const absl::Status& s) { done += s.ok(); });
  }
  ASSERT_TRUE(PumpUntil(
      &broker, [&] { return done == kTopics; }, std::chrono::seconds(60)));
  int topics = 0;
  int commands = 0;
  int with_request = 0;
  for (const auto& c : broker.commands) {
    if (!c.has_subscribe()) continue;
    ++commands;
    topics += c.subscribe().topics_size();
    with_request += c.request_id() != 0;
    EXPECT_LE(c.ByteSizeLong(), size_t{1} << 20);
  }
  EXPECT_EQ(topics, kTopics);
  EXPECT_GE(commands, 3);  // ~3 MB of names
  EXPECT_EQ(with_request, 1);
}

// A frame from the broker over max_message_bytes is never allocated:
// ZeroMQ drops the connection and, as after any protocol error, does not
// retry it; the Link sees the broker down, recreates its socket after 3
// silent heartbeats (Hello and the whole set again, counted in
// stats().reconnects), and later deliveries arrive.
TEST_F(LinkTest, AFrameOverMaxMessageBytesCostsTheConnectionNotTheMemory) {
  FakeBroker broker(context_);
  max_message_bytes_ = int64_t{64} * 1024;
  MakeLink(broker, milliseconds(300));
  std::optional<absl::Status> done;
  link_->Subscribe(wire::RoomTopic("/chat", "a"), [&](const absl::Status& s) { done = s; });
  ASSERT_TRUE(PumpUntil(&broker, [&] { return done.has_value(); }));
  Connect(broker, milliseconds(300));
  ASSERT_EQ(CountHellos(broker), 1);

  v1::Envelope envelope;
  envelope.set_version(v1::VERSION_1);
  envelope.set_kind(v1::KIND_EVENT);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_("/chat");
  envelope.add_rooms("a");
  envelope.set_event("huge");
  envelope.set_args(std::string(size_t{100} * 1024, 'x'));
  broker.Deliver(envelope);
  ASSERT_TRUE(PumpUntil(&broker, [&] { return !link_->broker_connected(); }));
  EXPECT_TRUE(deliveries_.empty());
  for (int i = 0; i < 3; ++i) AdvanceAndPoll(milliseconds(300));
  ASSERT_TRUE(PumpUntil(&broker, [&] { return CountHellos(broker) >= 2; }));
  EXPECT_GE(link_->stats().reconnects, 1u);

  envelope.set_event("small");
  envelope.set_args("[1]");
  broker.Deliver(envelope);  // to the new connection's identity
  ASSERT_TRUE(PumpUntil(&broker, [&] { return !deliveries_.empty(); }));
  ASSERT_EQ(deliveries_.size(), 1u);
  EXPECT_EQ(deliveries_[0].event(), "small");
}

TEST_F(LinkTest, RejectsANonPositiveMaxMessageBytes) {
  LinkOptions options;
  options.max_message_bytes = 0;
  LinkHandlers handlers;
  handlers.on_delivery = [](Delivery&) {};
  EXPECT_EQ(Link::Create(context_, options, handlers).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LinkTest, PollReportsExtraItems) {
  FakeBroker broker(context_);
  MakeLink(broker);
  zmq::socket_t a(context_, zmq::socket_type::pair), b(context_, zmq::socket_type::pair);
  a.bind("inproc://link-test-extra");
  b.connect("inproc://link-test-extra");
  b.send(zmq::str_buffer("x"));
  zmq::pollitem_t items[] = {{a.handle(), 0, ZMQ_POLLIN, 0}};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!(items[0].revents & ZMQ_POLLIN) && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(link_->Poll(milliseconds(50), items).ok());
  }
  EXPECT_TRUE(items[0].revents & ZMQ_POLLIN);
}

}  // namespace
}  // namespace roomq::node

namespace roomq::node {
namespace {

using std::chrono::milliseconds;
using testing::FakeBroker;

TEST_F(LinkTest, TracksPositionsAndResumesThemAfterARestartedBrokerForgotIt) {
  FakeBroker broker(context_);
  MakeLink(broker);
  const wire::TopicRef topic = wire::RoomTopic("/chat", "a");
  std::optional<absl::Status> done;
  link_->Subscribe(topic, [&](const absl::Status& s) { done = s; });
  ASSERT_TRUE(PumpUntil(&broker, [&] { return done.has_value(); }));
  EXPECT_FALSE(link_->position(topic).has_value());
  EXPECT_EQ(link_->epoch(), 0u);
  broker.SendRawToSubscriber({HistoryFrame(42, "a", 6, 10, false, "x")});
  broker.SendRawToSubscriber({HistoryFrame(42, "a", 7, 12, false, "y")});
  ASSERT_TRUE(PumpUntil(&broker, [&] { return deliveries_.size() == 2; }));
  ASSERT_TRUE(link_->position(topic).has_value());
  EXPECT_EQ(link_->position(topic)->epoch, 42u);
  EXPECT_EQ(link_->position(topic)->after_offset, 7u);
  EXPECT_EQ(link_->epoch(), 42u);
  EXPECT_EQ(link_->last_sequence(), 12u);

  // The broker forgot the node: the whole set goes again, resumed from 7.
  broker.known = false;
  const size_t before = broker.commands.size();
  clock_.Advance(milliseconds(1000));  // the next Ping draws Pong{known=false}
  ASSERT_TRUE(PumpUntil(&broker, [&] {
    for (size_t i = before; i < broker.commands.size(); ++i) {
      if (broker.commands[i].subscribe().resume_size() > 0) return true;
    }
    return false;
  }));
  const v1::SubscriberCommand* subscribe = LastWith(broker, v1::SubscriberCommand::kSubscribe);
  ASSERT_EQ(subscribe->subscribe().resume_size(), 1);
  EXPECT_EQ(subscribe->subscribe().resume(0).topic().name(), "a");
  EXPECT_EQ(subscribe->subscribe().resume(0).epoch(), 42u);
  EXPECT_EQ(subscribe->subscribe().resume(0).after_offset(), 7u);
}

TEST_F(LinkTest, ReplayedDeliveriesAlreadyDeliveredAreDropped) {
  FakeBroker broker(context_);
  MakeLink(broker);
  std::optional<absl::Status> done;
  link_->Subscribe(wire::RoomTopic("/chat", "a"), [&](const absl::Status& s) { done = s; });
  ASSERT_TRUE(PumpUntil(&broker, [&] { return done.has_value(); }));
  broker.SendRawToSubscriber({HistoryFrame(1, "a", 5, 5, false, "live-5")});
  broker.SendRawToSubscriber({HistoryFrame(1, "a", 5, 5, true, "again-5")});
  broker.SendRawToSubscriber({HistoryFrame(1, "a", 6, 6, true, "replayed-6")});
  ASSERT_TRUE(PumpUntil(&broker, [&] { return deliveries_.size() == 2; }));
  EXPECT_EQ(deliveries_[0].event(), "live-5");
  EXPECT_EQ(deliveries_[1].event(), "replayed-6");
  EXPECT_TRUE(headers_[1].replayed());
  EXPECT_EQ(link_->stats().dropped_duplicate, 1u);
  EXPECT_EQ(link_->stats().replayed, 1u);
}

TEST_F(LinkTest, SubscribeFromAResumePointSendsItAndReportsTheResult) {
  FakeBroker broker(context_);
  broker.answer_subscribe = false;
  MakeLink(broker);
  const wire::TopicRef topic = wire::RoomTopic("/chat", "a");
  std::optional<absl::Status> done;
  link_->Subscribe(
      topic, [&](const absl::Status& s) { done = s; }, ResumeFrom{9, 3});
  EXPECT_EQ(link_->position(topic)->after_offset, 3u);
  const v1::SubscriberCommand* subscribe = nullptr;
  ASSERT_TRUE(PumpUntil(&broker, [&] {
    subscribe = LastWith(broker, v1::SubscriberCommand::kSubscribe);
    return subscribe != nullptr;
  }));
  ASSERT_EQ(subscribe->subscribe().resume_size(), 1);
  EXPECT_EQ(subscribe->subscribe().resume(0).epoch(), 9u);
  EXPECT_EQ(subscribe->subscribe().resume(0).after_offset(), 3u);
  v1::BrokerFrame frame;
  frame.mutable_reply()->set_request_id(subscribe->request_id());
  frame.mutable_reply()->set_ok(true);
  v1::ResumeResult* result = frame.mutable_reply()->add_resumed();
  *result->mutable_topic() = subscribe->subscribe().resume(0).topic();
  result->set_replayed(2);
  result->set_truncated(true);
  broker.SendRawToSubscriber({frame.SerializeAsString()});
  ASSERT_TRUE(PumpUntil(&broker, [&] { return done.has_value(); }));
  EXPECT_TRUE(done->ok());
  ASSERT_EQ(resumed_.size(), 1u);
  EXPECT_TRUE(resumed_[0].truncated());

  std::optional<absl::Status> refused;
  link_->Subscribe(
      wire::ServiceTopic("/chat"), [&](const absl::Status& s) { refused = s; }, ResumeFrom{9, 3});
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LinkTest, RecoverAddsTheSessionRoomsAndTracksTheMissedOffsets) {
  FakeBroker broker(context_);
  MakeLink(broker);
  Connect(broker, milliseconds(1000));
  v1::Session session;
  session.set_pid("pid");
  session.set_namespace_("/chat");
  session.add_rooms("s1");
  session.add_rooms("general");
  v1::Sockets sockets;
  *sockets.add_updates()->mutable_open()->mutable_session() = session;
  link_->SendSockets(sockets);
  v1::Recover request;
  request.set_pid("pid");
  request.set_namespace_("/chat");
  std::optional<absl::StatusOr<v1::Recovered>> done;
  link_->Recover(request, [&](absl::StatusOr<v1::Recovered> r) { done = std::move(r); });
  const v1::SubscriberCommand* recover = nullptr;
  ASSERT_TRUE(PumpUntil(&broker, [&] {
    recover = LastWith(broker, v1::SubscriberCommand::kRecover);
    return recover != nullptr;
  }));
  const v1::SubscriberCommand* open = LastWith(broker, v1::SubscriberCommand::kSockets);
  ASSERT_NE(open, nullptr);
  EXPECT_EQ(open->sockets().updates(0).open().session().pid(), "pid");
  EXPECT_EQ(recover->recover().pid(), "pid");

  // Recovered{ok} with one missed delivery, built as the broker does.
  v1::BrokerFrame missed_frame;
  ASSERT_TRUE(missed_frame.ParseFromString(HistoryFrame(5, "general", 8, 30, true, "missed")));
  v1::BrokerFrame frame;
  v1::Recovered* recovered = frame.mutable_recovered();
  recovered->set_request_id(recover->request_id());
  recovered->set_ok(true);
  *recovered->mutable_session() = session;
  *recovered->add_missed() = missed_frame.delivery();
  broker.SendRawToSubscriber({frame.SerializeAsString()});
  ASSERT_TRUE(PumpUntil(&broker, [&] { return done.has_value(); }));
  ASSERT_TRUE(done->ok()) << done->status();
  EXPECT_TRUE((*done)->ok());
  ASSERT_EQ((*done)->missed_size(), 1);
  EXPECT_EQ((*done)->missed(0).envelope().event(), "missed");
  EXPECT_TRUE(deliveries_.empty()) << "missed entries do not go through on_delivery";
  EXPECT_TRUE(link_->subscribed(wire::RoomTopic("/chat", "s1")));
  EXPECT_TRUE(link_->subscribed(wire::RoomTopic("/chat", "general")));
  EXPECT_EQ(link_->position(wire::RoomTopic("/chat", "general"))->after_offset, 8u);
  EXPECT_EQ(link_->epoch(), 5u);
  EXPECT_EQ(link_->last_sequence(), 30u);
}

TEST_F(LinkTest, RecoverIsUnavailableWhenUnanswered) {
  FakeBroker broker(context_);
  MakeLink(broker, milliseconds(100), milliseconds(200));
  v1::Recover request;
  request.set_pid("pid");
  std::optional<absl::StatusOr<v1::Recovered>> done;
  Connect(broker, milliseconds(100));
  // The fake broker never answers Recover: receipt_timeout.
  link_->Recover(request, [&](absl::StatusOr<v1::Recovered> r) { done = std::move(r); });
  ASSERT_TRUE(PumpUntil(
      &broker, [&] { return LastWith(broker, v1::SubscriberCommand::kRecover) != nullptr; }));
  AdvanceAndPoll(milliseconds(199));
  EXPECT_FALSE(done.has_value());
  AdvanceAndPoll(milliseconds(1));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(LinkTest, AStandbyAnswerMovesToTheNextBrokerAtMostOnceAHeartbeat) {
  FakeBroker passive(context_);
  FakeBroker active(context_);
  passive.standby = true;
  MakeLink(passive, milliseconds(1000), milliseconds(5000), &active);
  // The first broker answers standby; the Link moves on only once a
  // heartbeat has passed since it was created (its last move).
  ASSERT_TRUE(PumpUntil(&passive, [&] { return link_->stats().standby >= 1; }));
  EXPECT_EQ(link_->stats().broker_moves, 0u);
  EXPECT_EQ(CountHellos(active), 0);
  AdvanceAndPoll(milliseconds(1000));
  EXPECT_EQ(link_->stats().broker_moves, 1u);
  Connect(active, milliseconds(1000));
  EXPECT_EQ(CountHellos(active), 1);
  EXPECT_TRUE(link_->broker_connected());
}

TEST_F(LinkTest, ASilentBrokerMakesTheLinkMoveToTheNextOneAndResubscribe) {
  FakeBroker first(context_);
  FakeBroker second(context_);
  MakeLink(first, milliseconds(1000), milliseconds(5000), &second);
  Connect(first, milliseconds(1000));
  bool subscribed = false;
  link_->Subscribe(wire::RoomTopic("/chat", "general"),
                   [&](const absl::Status& status) { subscribed = status.ok(); });
  ASSERT_TRUE(PumpUntil(&first, [&] { return subscribed; }));

  first.answer_ping = false;  // a broker that died without closing the TCP connection
  for (int i = 0; i < 3; ++i) AdvanceAndPoll(milliseconds(1000));
  EXPECT_EQ(link_->stats().broker_moves, 1u);
  EXPECT_FALSE(link_->broker_connected());
  ASSERT_TRUE(PumpUntil(&second, [&] { return CountSubscribesWith(second, 1) == 1; }));
  EXPECT_EQ(CountHellos(second), 1);
}

TEST_F(LinkTest, BrokerListsOfDifferentLengthsAreRefused) {
  LinkOptions options;
  options.pub_endpoint = "tcp://127.0.0.1:1,tcp://127.0.0.1:2";
  options.sub_endpoint = "tcp://127.0.0.1:3";
  LinkHandlers handlers;
  handlers.on_delivery = [](Delivery&) {};
  auto link = Link::Create(context_, options, handlers);
  EXPECT_EQ(link.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace roomq::node
