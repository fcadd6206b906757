// Unit tests of broker/history: stamping, sharing, limits, eviction, resume
// and the gap bookkeeping behind Recover.

#include "broker/history/history.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/roomq.pb.h"
#include "proto/wire/delivery.h"
#include "proto/wire/route.h"

namespace roomq::broker::history {
namespace {

constexpr int64_t kSecond = 1000000;

wire::EnvelopeRoute Route(std::string_view ns, const std::vector<std::string_view>& rooms,
                          v1::Kind kind = v1::KIND_EVENT) {
  wire::EnvelopeRoute route;
  route.version = v1::VERSION_1;
  route.kind = kind;
  route.channel = v1::CHANNEL_ROOMS;
  route.ns = ns;
  for (std::string_view room : rooms) route.rooms.push_back(room);
  return route;
}

class HistoryTest : public ::testing::Test {
 protected:
  // Stamps and keeps one envelope whose frame is the real delivery frame of
  // `payload`, and commits it; returns its sequence.
  uint64_t Add(History& history, std::string_view ns, const std::vector<std::string_view>& rooms,
               const std::string& payload = "x", int64_t time_us = 0) {
    const uint64_t sequence = AddPending(history, ns, rooms, payload, time_us);
    history.Commit();
    return sequence;
  }
  // The same, left pending.
  uint64_t AddPending(History& history, std::string_view ns,
                      const std::vector<std::string_view>& rooms, const std::string& payload = "x",
                      int64_t time_us = 0) {
    const wire::EnvelopeRoute route = Route(ns, rooms);
    EXPECT_TRUE(history.Keeps(route));
    const uint64_t sequence = history.Stamp(route);
    wire::DeliveryHeader header;
    header.epoch = 7;
    header.offsets = history.stamped_offsets();
    header.sequence = sequence;
    const std::string frame = wire::EncodeDeliveryFrame(header, payload);
    last_frame_ = zmq::message_t(frame.data(), frame.size());
    history.Keep(last_frame_, time_us, 0);
    return sequence;
  }

  // Offsets replayed by a resume of (ns, room) after `after`.
  std::vector<uint64_t> ResumeSequences(const History& history, std::string_view ns,
                                        std::string_view room, uint64_t after,
                                        ResumeOutcome* outcome = nullptr, bool same_epoch = true) {
    std::vector<uint64_t> sequences;
    ResumeOutcome result = history.Resume(ns, room, same_epoch, after, [&](const Entry& entry) {
      sequences.push_back(entry.sequence);
    });
    if (outcome != nullptr) *outcome = result;
    return sequences;
  }

  zmq::message_t last_frame_;
};

TEST_F(HistoryTest, KeepsOnlyRoomsEventsOfNamespacesWithHistory) {
  HistoryOptions options;
  options.namespaces["/off"] = Limits{0, std::chrono::minutes(1)};
  History history(options);
  EXPECT_TRUE(history.Keeps(Route("/chat", {"a"})));
  EXPECT_TRUE(history.Keeps(Route("/chat", {})));
  EXPECT_FALSE(history.Keeps(Route("/chat", {"a"}, v1::KIND_ACK)));
  EXPECT_FALSE(history.Keeps(Route("/chat", {"a"}, v1::KIND_JOIN)));
  EXPECT_FALSE(history.Keeps(Route("/off", {"a"})));
  wire::EnvelopeRoute service = Route("/chat", {});
  service.channel = v1::CHANNEL_SERVICE;
  EXPECT_FALSE(history.Keeps(service));
}

TEST_F(HistoryTest, StampsOneSequenceAndConsecutiveOffsetsPerTopic) {
  History history({});
  EXPECT_EQ(history.last_sequence(), 0u);
  const uint64_t first = Add(history, "/chat", {"a"});
  const uint64_t second = Add(history, "/chat", {"a", "b"});
  const uint64_t third = Add(history, "/chat", {"b"});
  EXPECT_EQ(first, 1u);
  EXPECT_EQ(second, 2u);
  EXPECT_EQ(third, 3u);
  EXPECT_EQ(history.last_sequence(), 3u);
  // (/chat, a) started at sequence 1: offsets 1, 2. (/chat, b) started at
  // sequence 2: offsets 2, 3.
  EXPECT_EQ(history.OffsetRange("/chat", "a"), std::make_pair(uint64_t{1}, uint64_t{2}));
  EXPECT_EQ(history.OffsetRange("/chat", "b"), std::make_pair(uint64_t{2}, uint64_t{3}));
  EXPECT_EQ(history.OffsetRange("/chat", "c"), std::make_pair(uint64_t{0}, uint64_t{0}));
  // Namespace-wide envelopes live in (ns, "").
  Add(history, "/chat", {});
  EXPECT_EQ(history.OffsetRange("/chat", ""), std::make_pair(uint64_t{4}, uint64_t{4}));
}

TEST_F(HistoryTest, AMultiRoomEnvelopeIsStoredOnceAndStampedOncePerRoom) {
  History history({});
  const wire::EnvelopeRoute route = Route("/chat", {"a", "b", "a"});
  history.Stamp(route);
  ASSERT_EQ(history.stamped_offsets().size(), 2u);  // "a" twice counts once
  EXPECT_EQ(history.stamped_offsets()[0].room, "a");
  EXPECT_EQ(history.stamped_offsets()[1].room, "b");
  const std::string frame = "frame-bytes-that-are-long-enough-to-be-shared-by-reference";
  zmq::message_t message(frame.data(), frame.size());
  history.Keep(message, 0, 0);
  history.Commit();
  EXPECT_EQ(history.entry_count(), 1u);
  EXPECT_EQ(history.topic_entry_count(), 2u);
  // Both topics hold the same entry, which shares the caller's buffer.
  const Entry* in_a = nullptr;
  const Entry* in_b = nullptr;
  history.Resume("/chat", "a", true, 0, [&](const Entry& entry) { in_a = &entry; });
  history.Resume("/chat", "b", true, 0, [&](const Entry& entry) { in_b = &entry; });
  ASSERT_NE(in_a, nullptr);
  EXPECT_EQ(in_a, in_b);
  EXPECT_EQ(in_a->frame.data(), message.data());
}

TEST_F(HistoryTest, MaxMessagesEvictsPerTopicAndFreesEntriesNoTopicHolds) {
  HistoryOptions options;
  options.defaults.max_messages = 3;
  History history(options);
  Add(history, "/chat", {"a", "b"});                         // 1
  for (int i = 0; i < 3; ++i) Add(history, "/chat", {"a"});  // 2, 3, 4
  // a holds 2..4; b still holds 1, so entry 1 lives on.
  EXPECT_EQ(ResumeSequences(history, "/chat", "a", 0), (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(ResumeSequences(history, "/chat", "b", 0), (std::vector<uint64_t>{1}));
  EXPECT_EQ(history.entry_count(), 4u);
  for (int i = 0; i < 3; ++i) Add(history, "/chat", {"b"});  // 5, 6, 7
  EXPECT_EQ(ResumeSequences(history, "/chat", "b", 0), (std::vector<uint64_t>{5, 6, 7}));
  EXPECT_EQ(history.entry_count(), 6u);  // 1 is gone
  EXPECT_EQ(history.topic_entry_count(), 6u);
}

TEST_F(HistoryTest, ResumeReplaysAfterTheOffsetInOrderAndReportsGaps) {
  HistoryOptions options;
  options.defaults.max_messages = 5;
  History history(options);
  for (int i = 0; i < 8; ++i) Add(history, "/chat", {"a"});  // offsets 1..8, holds 4..8
  ResumeOutcome outcome;
  EXPECT_EQ(ResumeSequences(history, "/chat", "a", 6, &outcome), (std::vector<uint64_t>{7, 8}));
  EXPECT_EQ(outcome.replayed, 2u);
  EXPECT_FALSE(outcome.truncated);
  EXPECT_EQ(outcome.last_offset, 8u);
  EXPECT_TRUE(ResumeSequences(history, "/chat", "a", 8, &outcome).empty());
  EXPECT_FALSE(outcome.truncated);
  // 3 was evicted: a subscriber at 2 has a gap.
  EXPECT_EQ(ResumeSequences(history, "/chat", "a", 2, &outcome).size(), 5u);
  EXPECT_TRUE(outcome.truncated);
  EXPECT_FALSE((ResumeSequences(history, "/chat", "a", 3, &outcome), outcome.truncated));
  // Another epoch: everything held, truncated.
  EXPECT_EQ(ResumeSequences(history, "/chat", "a", 7, &outcome, /*same_epoch=*/false).size(), 5u);
  EXPECT_TRUE(outcome.truncated);
  // Nothing held for a room: nothing replayed; a gap only if the subscriber had an offset.
  EXPECT_TRUE(ResumeSequences(history, "/chat", "zzz", 0, &outcome).empty());
  EXPECT_FALSE(outcome.truncated);
  EXPECT_EQ(outcome.last_offset, 0u);
  ResumeSequences(history, "/chat", "zzz", 4, &outcome);
  EXPECT_TRUE(outcome.truncated);
}

TEST_F(HistoryTest, MaxAgeEvictsOldEntriesPerNamespaceAndForgetsEmptyTopics) {
  HistoryOptions options;
  options.defaults.max_age = std::chrono::seconds(10);
  options.namespaces["/long"] = Limits{1000, std::chrono::seconds(100)};
  History history(options);
  Add(history, "/chat", {"a"}, "x", 0);
  Add(history, "/long", {"a"}, "x", 0);
  Add(history, "/chat", {"b"}, "x", 5 * kSecond);
  history.ExpireOld(11 * kSecond);
  EXPECT_EQ(history.OffsetRange("/chat", "a"), std::make_pair(uint64_t{0}, uint64_t{0}));
  EXPECT_EQ(ResumeSequences(history, "/chat", "b", 0), (std::vector<uint64_t>{3}));
  EXPECT_EQ(ResumeSequences(history, "/long", "a", 0), (std::vector<uint64_t>{2}));
  EXPECT_EQ(history.topic_count(), 2u);
  history.ExpireOld(16 * kSecond);
  EXPECT_EQ(history.topic_count(), 1u);
  EXPECT_EQ(history.entry_count(), 1u);
  // A forgotten topic that comes back restarts ABOVE every offset it had.
  Add(history, "/chat", {"a"}, "x", 16 * kSecond);
  EXPECT_EQ(history.OffsetRange("/chat", "a"), std::make_pair(uint64_t{4}, uint64_t{4}));
}

TEST_F(HistoryTest, MaxBytesEvictsTheBrokerWideOldestFirst) {
  HistoryOptions options;
  options.max_bytes = 4000;
  History history(options);
  const std::string payload(500, 'p');
  Add(history, "/one", {"a"}, payload);  // 1
  Add(history, "/two", {"a"}, payload);  // 2
  Add(history, "/one", {"b"}, payload);  // 3
  for (int i = 0; i < 20; ++i) Add(history, "/two", {"a"}, payload);
  EXPECT_LE(history.bytes(), options.max_bytes);
  EXPECT_GT(history.entry_count(), 3u);
  // The oldest went first, whichever namespace they were in.
  EXPECT_EQ(history.OffsetRange("/one", "a"), std::make_pair(uint64_t{0}, uint64_t{0}));
  EXPECT_EQ(history.OffsetRange("/one", "b"), std::make_pair(uint64_t{0}, uint64_t{0}));
  auto two = history.OffsetRange("/two", "a");
  EXPECT_EQ(two.second - two.first + 1, history.entry_count());
}

TEST_F(HistoryTest, CollectSinceAndMissingSinceDriveRecovery) {
  HistoryOptions options;
  options.defaults.max_messages = 3;
  History history(options);
  Add(history, "/chat", {"a"});       // 1
  Add(history, "/chat", {"b"});       // 2
  Add(history, "/chat", {});          // 3
  Add(history, "/chat", {"a", "b"});  // 4
  std::vector<const Entry*> out;
  history.CollectSince("/chat", "a", 1, out);
  history.CollectSince("/chat", "", 1, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]->sequence, 4u);
  EXPECT_EQ(out[1]->sequence, 3u);
  EXPECT_FALSE(history.MissingSince("/chat", "a", 0));
  for (int i = 0; i < 3; ++i) Add(history, "/chat", {"a"});  // 5, 6, 7: evicts 1 and 4 from a
  EXPECT_TRUE(history.MissingSince("/chat", "a", 3));
  EXPECT_FALSE(history.MissingSince("/chat", "a", 4));
  EXPECT_FALSE(history.MissingSince("/chat", "never-used", 0));
  HistoryOptions off;
  off.defaults.max_messages = 0;
  EXPECT_TRUE(History(off).MissingSince("/chat", "a", 0));
}

TEST_F(HistoryTest, RestoreRebuildsTopicsAndContinuesTheSequence) {
  History history({});
  std::string frame = "restored-frame";
  zmq::message_t message(frame.data(), frame.size());
  const wire::RoomOffset first[] = {{"/chat", "a", 1}};
  const wire::RoomOffset second[] = {{"/chat", "a", 2}, {"/chat", "b", 2}};
  history.Restore("/chat", first, 1, message, 0, 10);
  history.Restore("/chat", second, 2, message, 0, 11);
  EXPECT_EQ(history.last_sequence(), 2u);
  EXPECT_EQ(history.OffsetRange("/chat", "a"), std::make_pair(uint64_t{1}, uint64_t{2}));
  EXPECT_EQ(history.oldest_log_index(), 10u);
  Add(history, "/chat", {"a"});
  EXPECT_EQ(history.last_sequence(), 3u);
  EXPECT_EQ(history.OffsetRange("/chat", "a"), std::make_pair(uint64_t{1}, uint64_t{3}));
}

// What the broker does with a publish burst whose log write failed: the
// pending entries are taken back, nothing of them is visible, and the next
// stamps get the same numbers again, so no topic has a gap in its offsets.
TEST_F(HistoryTest, AbandonTakesBackPendingEntriesAndTheirNumbers) {
  History history({});
  Add(history, "/chat", {"a"});  // 1
  Add(history, "/chat", {"a"});  // 2
  EXPECT_EQ(AddPending(history, "/chat", {"a", "b"}), 3u);
  EXPECT_EQ(AddPending(history, "/chat", {"a"}), 4u);
  EXPECT_EQ(AddPending(history, "/new", {"c"}), 5u);
  // Pending: invisible.
  EXPECT_EQ(history.pending_count(), 3u);
  EXPECT_EQ(history.entry_count(), 2u);
  EXPECT_EQ(ResumeSequences(history, "/chat", "a", 0), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(history.OffsetRange("/chat", "b"), std::make_pair(uint64_t{0}, uint64_t{0}));

  EXPECT_EQ(history.Abandon(), 3u);
  EXPECT_EQ(history.pending_count(), 0u);
  EXPECT_EQ(history.last_sequence(), 2u);
  EXPECT_EQ(history.topic_count(), 1u);  // (/chat, b) and (/new, c) were new: forgotten
  EXPECT_EQ(history.entry_count(), 2u);

  // The same numbers again, and (/chat, a) goes on without a gap.
  EXPECT_EQ(Add(history, "/chat", {"b", "a"}), 3u);
  EXPECT_EQ(history.OffsetRange("/chat", "a"), std::make_pair(uint64_t{1}, uint64_t{3}));
  EXPECT_EQ(history.OffsetRange("/chat", "b"), std::make_pair(uint64_t{3}, uint64_t{3}));
  ResumeOutcome outcome;
  EXPECT_EQ(ResumeSequences(history, "/chat", "a", 1, &outcome), (std::vector<uint64_t>{2, 3}));
  EXPECT_FALSE(outcome.truncated);
}

// Committing a burst in which an entry evicts a topic's whole history (here
// by max_bytes) while a later pending entry of the same topic waits: the
// topic is not forgotten under it, and its offsets stay consecutive.
TEST_F(HistoryTest, CommitKeepsATopicWithPendingEntriesWhenEvictionEmptiesIt) {
  HistoryOptions options;
  options.max_bytes = 1;  // every entry evicts everything before it, itself included
  History history(options);
  AddPending(history, "/chat", {"a"});
  AddPending(history, "/chat", {"b"});
  AddPending(history, "/chat", {"a"});
  history.Commit();
  EXPECT_EQ(history.pending_count(), 0u);
  EXPECT_EQ(history.entry_count(), 0u);
  EXPECT_EQ(history.topic_count(), 0u);
  // Everything was evicted and forgotten: the next stamp starts a topic at
  // its sequence and the gap is reported.
  EXPECT_EQ(history.last_sequence(), 3u);
  EXPECT_TRUE(history.MissingSince("/chat", "a", 1));
}

}  // namespace
}  // namespace roomq::broker::history
