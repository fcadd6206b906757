// Unit tests of broker/sockets/socket_index: states, takeover, node death,
// reconciliation, the bounds, and the journal (replaying it rebuilds the
// same index).

#include "broker/sockets/socket_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

namespace roomq::broker::sockets {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kSecond = 1000000;  // microseconds
constexpr int64_t kStart = 1767225600 * kSecond;

v1::Session MakeSession(const std::string& id, const std::string& pid = "",
                        uint32_t ttl_ms = 60000) {
  v1::Session session;
  session.set_pid(pid.empty() ? "pid-" + id : pid);
  session.set_namespace_("/chat");
  session.set_socket_id(id);
  session.add_rooms(id);
  session.add_rooms("general");
  session.set_ttl_ms(ttl_ms);
  session.set_epoch(7);
  session.set_since_sequence(100);
  return session;
}

v1::SocketRooms RoomsOf(const std::string& id, const std::vector<std::string>& joined,
                        const std::vector<std::string>& left = {}) {
  v1::SocketRooms rooms;
  rooms.set_namespace_("/chat");
  rooms.set_socket_id(id);
  for (auto& room : joined) rooms.add_joined(room);
  for (auto& room : left) rooms.add_left(room);
  return rooms;
}

RecoverCheck Admit(const SocketRecord&) { return {}; }

constexpr size_t kNoByteLimit = size_t{1} << 40;

// A presence query of /chat: `room` ("" = the whole namespace).
v1::Presence Query(const std::string& room) {
  v1::Presence query;
  query.set_namespace_("/chat");
  if (!room.empty()) query.add_rooms(room);
  return query;
}

std::vector<std::string> Ids(const PresencePage& page) {
  std::vector<std::string> ids;
  for (const SocketRecord* record : page.records) ids.push_back(record->session.socket_id());
  return ids;
}

// Every socket id of a room of /chat (all pages).
std::vector<std::string> PresentIds(const SocketIndex& index, const std::string& room) {
  return Ids(index.Presence(Query(room), kNoByteLimit));
}

// Journals every change and can replay them into another index.
class RecordingJournal : public SocketJournal {
 public:
  struct PutChange {
    v1::Session session;
    SocketState state;
    int64_t deadline;
  };
  struct StateChange {
    std::string ns, id, node;
    SocketState state;
    int64_t deadline;
  };
  struct EraseChange {
    std::string ns, id;
  };
  using Change = std::variant<PutChange, v1::SocketRooms, StateChange, EraseChange>;

  void Put(const SocketRecord& record) override {
    changes.push_back(PutChange{record.ToSession(), record.state, record.deadline_us});
  }
  void Rooms(const v1::SocketRooms& applied) override { changes.push_back(applied); }
  void State(const SocketRecord& record) override {
    changes.push_back(StateChange{record.session.namespace_(), record.session.socket_id(),
                                  record.session.node(), record.state, record.deadline_us});
  }
  void Erase(std::string_view ns, std::string_view id) override {
    changes.push_back(EraseChange{std::string(ns), std::string(id)});
  }

  void ReplayInto(SocketIndex& index) const {
    for (const Change& change : changes) {
      if (auto* put = std::get_if<PutChange>(&change)) {
        index.RestorePut(put->session, put->state, put->deadline);
      } else if (auto* rooms = std::get_if<v1::SocketRooms>(&change)) {
        index.RestoreRooms(*rooms);
      } else if (auto* state = std::get_if<StateChange>(&change)) {
        index.RestoreState(state->ns, state->id, state->state, state->node, state->deadline);
      } else if (auto* erase = std::get_if<EraseChange>(&change)) {
        index.RestoreErase(erase->ns, erase->id);
      }
    }
  }

  std::vector<Change> changes;
};

// Everything a record holds, for comparing two indexes.
std::string Describe(const SocketIndex& index) {
  std::vector<std::string> lines;
  index.ForEach([&](const SocketRecord& record) {
    v1::Session session = record.ToSession();
    std::vector<std::string> rooms(session.rooms().begin(), session.rooms().end());
    std::sort(rooms.begin(), rooms.end());
    session.clear_rooms();
    std::string line = session.ShortDebugString() +
                       " state=" + std::to_string(static_cast<int>(record.state)) +
                       " deadline=" + std::to_string(record.deadline_us) + " rooms=";
    for (const auto& room : rooms) line += room + ",";
    lines.push_back(line);
  });
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

TEST(SocketIndexTest, AnOpenSocketIsConnectedOnTheSendingNode) {
  SocketIndex index({});
  v1::Session session = MakeSession("s1");
  session.set_node("forged");
  ASSERT_TRUE(index.Open(session, "gw-a", 1).ok());
  const SocketRecord* record = index.Find("/chat", "s1");
  ASSERT_NE(record, nullptr);
  EXPECT_TRUE(record->connected());
  EXPECT_EQ(record->session.node(), "gw-a");
  EXPECT_EQ(index.FindByPid("pid-s1"), record);
  EXPECT_EQ(record->rooms.size(), 2u);
  EXPECT_EQ(index.connected(), 1u);
  EXPECT_EQ(index.bytes(), record->ToSession().ByteSizeLong());
}

TEST(SocketIndexTest, ARecoverableCloseKeepsTheRecordForItsTtlClampedToTheMax) {
  SocketIndex index({.max_ttl = milliseconds(500)});
  ASSERT_TRUE(index.Open(MakeSession("short", "", 100), "gw", 1).ok());
  ASSERT_TRUE(index.Open(MakeSession("long", "", 100000), "gw", 1).ok());
  ASSERT_TRUE(index.Close("/chat", "short", true, "gw", kStart).ok());
  ASSERT_TRUE(index.Close("/chat", "long", true, "gw", kStart).ok());
  EXPECT_EQ(index.disconnected(), 2u);
  EXPECT_EQ(index.Find("/chat", "short")->session.node(), "");
  EXPECT_EQ(index.Find("/chat", "short")->deadline_us, kStart + 100000);
  EXPECT_EQ(index.Find("/chat", "long")->deadline_us, kStart + 500000);
  EXPECT_EQ(index.Expire(kStart + 99999), 0u);
  EXPECT_EQ(index.Expire(kStart + 100000), 1u);
  EXPECT_EQ(index.Expire(kStart + 500000), 1u);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.bytes(), 0u);
  EXPECT_EQ(index.stats().expired, 2u);
}

TEST(SocketIndexTest, ACloseWithoutRecoveryRemovesTheRecord) {
  SocketIndex index({});
  ASSERT_TRUE(index.Open(MakeSession("plain"), "gw", 1).ok());
  ASSERT_TRUE(index.Open(MakeSession("no-ttl", "", 0), "gw", 1).ok());
  v1::Session no_pid = MakeSession("no-pid");
  no_pid.clear_pid();
  ASSERT_TRUE(index.Open(no_pid, "gw", 1).ok());
  ASSERT_TRUE(index.Close("/chat", "plain", false, "gw", kStart).ok());
  ASSERT_TRUE(index.Close("/chat", "no-ttl", true, "gw", kStart).ok());
  ASSERT_TRUE(index.Close("/chat", "no-pid", true, "gw", kStart).ok());
  EXPECT_EQ(index.size(), 0u);
}

TEST(SocketIndexTest, OnlyTheNodeHoldingASocketCanEditOrCloseIt) {
  SocketIndex index({});
  ASSERT_TRUE(index.Open(MakeSession("s1"), "gw-a", 1).ok());
  EXPECT_TRUE(absl::IsNotFound(index.Rooms(RoomsOf("s1", {"x"}), "gw-b")));
  EXPECT_TRUE(absl::IsNotFound(index.Close("/chat", "s1", false, "gw-b", kStart)));
  EXPECT_TRUE(absl::IsNotFound(index.Close("/chat", "nobody", false, "gw-a", kStart)));
  EXPECT_EQ(index.stats().unknown, 3u);
  EXPECT_TRUE(index.Find("/chat", "s1")->connected());
  EXPECT_FALSE(index.Find("/chat", "s1")->rooms.contains("x"));
  // A disconnected record takes no more changes either.
  ASSERT_TRUE(index.Close("/chat", "s1", true, "gw-a", kStart).ok());
  EXPECT_TRUE(absl::IsNotFound(index.Rooms(RoomsOf("s1", {"x"}), "gw-a")));
  EXPECT_TRUE(absl::IsNotFound(index.Close("/chat", "s1", false, "gw-a", kStart)));
}

TEST(SocketIndexTest, RoomsFollowJoinsAndLeavesAndTheBytesWithThem) {
  SocketIndex index({});
  ASSERT_TRUE(index.Open(MakeSession("s1"), "gw", 1).ok());
  ASSERT_TRUE(index.Rooms(RoomsOf("s1", {"a", "b", "general"}), "gw").ok());
  ASSERT_TRUE(index.Rooms(RoomsOf("s1", {}, {"general", "missing"}), "gw").ok());
  const SocketRecord* record = index.Find("/chat", "s1");
  EXPECT_EQ(record->rooms, (absl::flat_hash_set<std::string>{"s1", "a", "b"}));
  EXPECT_EQ(index.bytes(), record->ToSession().ByteSizeLong());
  EXPECT_EQ(record->bytes, record->ToSession().ByteSizeLong());
}

TEST(SocketIndexTest, AnOpenForAnExistingSocketReplacesItButKeepsWhereItStarted) {
  SocketIndex index({});
  ASSERT_TRUE(index.Open(MakeSession("s1"), "gw-a", 1).ok());
  ASSERT_TRUE(index.Close("/chat", "s1", true, "gw-a", kStart).ok());
  v1::Session again = MakeSession("s1");
  again.set_epoch(8);
  again.set_since_sequence(500);
  again.add_rooms("new-room");
  ASSERT_TRUE(index.Open(again, "gw-b", 2).ok());
  const SocketRecord* record = index.Find("/chat", "s1");
  EXPECT_TRUE(record->connected());
  EXPECT_EQ(record->session.node(), "gw-b");
  EXPECT_EQ(record->session.epoch(), 7u);
  EXPECT_EQ(record->session.since_sequence(), 100u);
  EXPECT_TRUE(record->rooms.contains("new-room"));
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.disconnected(), 0u);
}

TEST(SocketIndexTest, APidNamesOneRecord) {
  SocketIndex index({});
  ASSERT_TRUE(index.Open(MakeSession("s1", "shared"), "gw", 1).ok());
  ASSERT_TRUE(index.Open(MakeSession("s2", "shared"), "gw", 1).ok());
  EXPECT_EQ(index.Find("/chat", "s1"), nullptr);
  EXPECT_EQ(index.FindByPid("shared")->session.socket_id(), "s2");
}

TEST(SocketIndexTest, ANodesDeathLeavesItsRecordsRecoverable) {
  SocketIndex index({});
  ASSERT_TRUE(index.Open(MakeSession("a1"), "gw-a", 1).ok());
  ASSERT_TRUE(index.Open(MakeSession("a2", "", 0), "gw-a", 1).ok());  // not recoverable
  ASSERT_TRUE(index.Open(MakeSession("b1"), "gw-b", 1).ok());
  EXPECT_EQ(index.NodeDown("gw-a", kStart), 2u);
  EXPECT_FALSE(index.Find("/chat", "a1")->connected());
  EXPECT_EQ(index.Find("/chat", "a1")->deadline_us, kStart + 60 * kSecond);
  EXPECT_EQ(index.Find("/chat", "a2"), nullptr);
  EXPECT_TRUE(index.Find("/chat", "b1")->connected());
  EXPECT_EQ(index.Nodes(), std::vector<std::string>{"gw-b"});
  EXPECT_EQ(index.NodeDown("gw-a", kStart), 0u);
}

TEST(SocketIndexTest, ReconcileDisconnectsTheNodesRecordsNotOpenedSinceItsHello) {
  SocketIndex index({});
  ASSERT_TRUE(index.Open(MakeSession("kept"), "gw", 1).ok());
  ASSERT_TRUE(index.Open(MakeSession("gone"), "gw", 1).ok());
  ASSERT_TRUE(index.Open(MakeSession("other-node"), "gw-b", 1).ok());
  // The node said Hello again (generation 2) and listed only "kept".
  ASSERT_TRUE(index.Open(MakeSession("kept"), "gw", 2).ok());
  EXPECT_EQ(index.Reconcile("gw", 2, kStart), 1u);
  EXPECT_TRUE(index.Find("/chat", "kept")->connected());
  EXPECT_FALSE(index.Find("/chat", "gone")->connected());
  EXPECT_TRUE(index.Find("/chat", "other-node")->connected());
}

TEST(SocketIndexTest, RecoverClaimsADisconnectedRecordOnce) {
  SocketIndex index({});
  ASSERT_TRUE(index.Open(MakeSession("s1"), "gw-a", 1).ok());
  ASSERT_TRUE(index.Rooms(RoomsOf("s1", {"late"}), "gw-a").ok());
  ASSERT_TRUE(index.Close("/chat", "s1", true, "gw-a", kStart).ok());
  const RecoverResult result = index.Recover("pid-s1", "/chat", "gw-b", 5, kStart + 1, Admit);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.outcome, RecoverOutcome::kRecovered);
  EXPECT_EQ(result.record->session.socket_id(), "s1");
  EXPECT_TRUE(result.record->rooms.contains("late"));
  EXPECT_EQ(result.record->session.node(), "gw-b");
  EXPECT_EQ(result.record->generation, 5u);
  // Now connected on gw-b: the same node asking again is refused.
  const RecoverResult again = index.Recover("pid-s1", "/chat", "gw-b", 5, kStart + 2, Admit);
  EXPECT_EQ(again.outcome, RecoverOutcome::kRefused);
  EXPECT_EQ(again.error, "socket still connected");
}

TEST(SocketIndexTest, RecoverTakesOverARecordConnectedOnAnotherNode) {
  SocketIndex index({});
  ASSERT_TRUE(index.Open(MakeSession("s1"), "gw-a", 1).ok());
  const RecoverResult result = index.Recover("pid-s1", "/chat", "gw-b", 1, kStart, Admit);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.outcome, RecoverOutcome::kTakenOver);
  EXPECT_EQ(result.previous_node, "gw-a");
  EXPECT_EQ(index.Nodes(), std::vector<std::string>{"gw-b"});
  // The old node's late close does not touch the record that moved.
  EXPECT_TRUE(absl::IsNotFound(index.Close("/chat", "s1", true, "gw-a", kStart)));
  EXPECT_TRUE(index.Find("/chat", "s1")->connected());
}

TEST(SocketIndexTest, RecoverFailures) {
  SocketIndex index({});
  EXPECT_EQ(index.Recover("nobody", "/chat", "gw", 1, kStart, Admit).outcome,
            RecoverOutcome::kUnknown);
  EXPECT_EQ(index.Recover("", "/chat", "gw", 1, kStart, Admit).outcome, RecoverOutcome::kUnknown);
  ASSERT_TRUE(index.Open(MakeSession("s1", "", 1000), "gw-a", 1).ok());
  const RecoverResult other_ns = index.Recover("pid-s1", "/other", "gw-b", 1, kStart, Admit);
  EXPECT_EQ(other_ns.outcome, RecoverOutcome::kRefused);
  EXPECT_EQ(other_ns.error, "namespace differs");
  // Connected on the asking node itself: its old transport's close is still
  // on its way (or was never seen); the client gets a fresh session.
  const RecoverResult same_node = index.Recover("pid-s1", "/chat", "gw-a", 1, kStart, Admit);
  EXPECT_EQ(same_node.outcome, RecoverOutcome::kRefused);
  EXPECT_EQ(same_node.error, "socket still connected");
  EXPECT_TRUE(index.Find("/chat", "s1")->connected());
  // A failed check leaves a connected record where it is...
  auto gap = [](const SocketRecord&) {
    return RecoverCheck{RecoverOutcome::kGap, "history truncated"};
  };
  EXPECT_EQ(index.Recover("pid-s1", "/chat", "gw-b", 1, kStart, gap).outcome, RecoverOutcome::kGap);
  EXPECT_EQ(index.Find("/chat", "s1")->session.node(), "gw-a");
  // ... and consumes a disconnected one.
  ASSERT_TRUE(index.Close("/chat", "s1", true, "gw-a", kStart).ok());
  EXPECT_EQ(index.Recover("pid-s1", "/chat", "gw-b", 1, kStart, gap).outcome, RecoverOutcome::kGap);
  EXPECT_EQ(index.size(), 0u);
  // Past its deadline: expired, and removed.
  ASSERT_TRUE(index.Open(MakeSession("s2", "", 1000), "gw-a", 1).ok());
  ASSERT_TRUE(index.Close("/chat", "s2", true, "gw-a", kStart).ok());
  const RecoverResult expired =
      index.Recover("pid-s2", "/chat", "gw-b", 1, kStart + kSecond, Admit);
  EXPECT_EQ(expired.outcome, RecoverOutcome::kExpired);
  EXPECT_EQ(expired.error, "session expired");
  EXPECT_EQ(index.size(), 0u);
}

TEST(SocketIndexTest, AtMaxRecordsTheDisconnectedRecordExpiringSoonestIsEvicted) {
  SocketIndex index({.max_records = 3});
  ASSERT_TRUE(index.Open(MakeSession("late", "", 60000), "gw", 1).ok());
  ASSERT_TRUE(index.Open(MakeSession("soon", "", 1000), "gw", 1).ok());
  ASSERT_TRUE(index.Open(MakeSession("live"), "gw", 1).ok());
  ASSERT_TRUE(index.Close("/chat", "late", true, "gw", kStart).ok());
  ASSERT_TRUE(index.Close("/chat", "soon", true, "gw", kStart).ok());
  ASSERT_TRUE(index.Open(MakeSession("new1"), "gw", 1).ok());
  EXPECT_EQ(index.Find("/chat", "soon"), nullptr);
  EXPECT_NE(index.Find("/chat", "late"), nullptr);
  ASSERT_TRUE(index.Open(MakeSession("new2"), "gw", 1).ok());
  EXPECT_EQ(index.Find("/chat", "late"), nullptr);
  EXPECT_EQ(index.stats().evicted, 2u);
  // Every record is connected now: a new one is refused, the others stay.
  const absl::Status refused = index.Open(MakeSession("new3"), "gw", 1);
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_EQ(index.stats().refused, 1u);
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.Find("/chat", "new3"), nullptr);
  // An upsert of a held socket still fits.
  EXPECT_TRUE(index.Open(MakeSession("live"), "gw", 2).ok());
}

TEST(SocketIndexTest, MaxBytesCountsEncodedSizesAndEvictsTheSame) {
  const size_t one = [] {
    v1::Session session = MakeSession("s0");
    session.set_node("gw");
    return session.ByteSizeLong();
  }();
  SocketIndex index({.max_bytes = 2 * one + one / 2});
  ASSERT_TRUE(index.Open(MakeSession("s1"), "gw", 1).ok());
  ASSERT_TRUE(index.Open(MakeSession("s2"), "gw", 1).ok());
  EXPECT_EQ(index.bytes(), 2 * one);
  EXPECT_TRUE(absl::IsResourceExhausted(index.Open(MakeSession("s3"), "gw", 1)));
  ASSERT_TRUE(index.Close("/chat", "s1", true, "gw", kStart).ok());
  ASSERT_TRUE(index.Open(MakeSession("s3"), "gw", 1).ok());
  EXPECT_EQ(index.Find("/chat", "s1"), nullptr);
  EXPECT_LE(index.bytes(), 2 * one + one / 2);
  // A join that does not fit removes its record: not recoverable.
  const absl::Status join = index.Rooms(RoomsOf("s3", {std::string(one, 'r')}), "gw");
  EXPECT_TRUE(absl::IsResourceExhausted(join)) << join;
  EXPECT_EQ(index.Find("/chat", "s3"), nullptr);
  EXPECT_EQ(index.stats().refused, 2u);
}

TEST(SocketIndexTest, PerRecordLimits) {
  SocketIndex index({});
  v1::Session rooms = MakeSession("rooms");
  for (size_t i = 0; i < kMaxSessionRooms; ++i) rooms.add_rooms("r" + std::to_string(i));
  EXPECT_TRUE(absl::IsInvalidArgument(index.Open(rooms, "gw", 1)));
  v1::Session big = MakeSession("big");
  big.set_data(std::string(kMaxSessionBytes, 'x'));
  EXPECT_TRUE(absl::IsInvalidArgument(index.Open(big, "gw", 1)));
  v1::Session summary = MakeSession("summary");
  summary.set_address(std::string(300, 'a'));
  summary.set_user_agent(std::string(213, 'u'));
  EXPECT_TRUE(absl::IsInvalidArgument(index.Open(summary, "gw", 1)));
  summary.set_user_agent(std::string(212, 'u'));
  EXPECT_TRUE(index.Open(summary, "gw", 1).ok());
  v1::Session unnamed = MakeSession("");
  EXPECT_TRUE(absl::IsInvalidArgument(index.Open(unnamed, "gw", 1)));
  EXPECT_EQ(index.stats().invalid, 4u);
  // An invalid Open for a held socket leaves no record of it.
  summary.set_user_agent(std::string(213, 'u'));
  EXPECT_TRUE(absl::IsInvalidArgument(index.Open(summary, "gw", 1)));
  EXPECT_EQ(index.size(), 0u);
  // A join past the room limit removes the record.
  ASSERT_TRUE(index.Open(MakeSession("s1"), "gw", 1).ok());
  v1::SocketRooms many = RoomsOf("s1", {});
  for (size_t i = 0; i < kMaxSessionRooms; ++i) many.add_joined("r" + std::to_string(i));
  EXPECT_TRUE(absl::IsResourceExhausted(index.Rooms(many, "gw")));
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.bytes(), 0u);
}

TEST(SocketIndexTest, ReplayingTheJournalRebuildsTheSameIndex) {
  RecordingJournal journal;
  SocketIndex index({.max_records = 4});
  index.SetJournal(&journal);
  ASSERT_TRUE(index.Open(MakeSession("a"), "gw-a", 1).ok());
  ASSERT_TRUE(index.Open(MakeSession("b"), "gw-a", 1).ok());
  ASSERT_TRUE(index.Open(MakeSession("c", "", 1000), "gw-b", 1).ok());
  ASSERT_TRUE(index.Rooms(RoomsOf("a", {"x", "y"}, {"general"}), "gw-a").ok());
  ASSERT_TRUE(index.Close("/chat", "c", true, "gw-b", kStart).ok());
  EXPECT_EQ(index.NodeDown("gw-a", kStart + 5), 2u);
  ASSERT_TRUE(index.Recover("pid-a", "/chat", "gw-c", 2, kStart + 6, Admit).ok());
  ASSERT_TRUE(index.Open(MakeSession("d"), "gw-c", 2).ok());
  ASSERT_TRUE(index.Open(MakeSession("e"), "gw-c", 2).ok());  // evicts c (soonest)
  EXPECT_EQ(index.Expire(kStart + 100 * kSecond), 1u);        // b
  ASSERT_TRUE(index.Rooms(RoomsOf("d", {"z"}), "gw-c").ok());
  EXPECT_EQ(index.stats().evicted, 1u);

  SocketIndex replayed({});
  journal.ReplayInto(replayed);
  EXPECT_EQ(Describe(replayed), Describe(index));
  EXPECT_EQ(replayed.bytes(), index.bytes());
  EXPECT_EQ(replayed.connected(), index.connected());
  EXPECT_EQ(replayed.disconnected(), index.disconnected());
  EXPECT_EQ(replayed.FindByPid("pid-a"), replayed.Find("/chat", "a"));
  for (const std::string room : {"", "general", "x", "z"}) {
    EXPECT_EQ(PresentIds(replayed, room), PresentIds(index, room)) << room;
  }
}

TEST(SocketIndexPresenceTest, ListsTheConnectedRecordsOfANamespaceOrARoomInIdOrder) {
  SocketIndex index({});
  for (const std::string id : {"c", "a", "b"})
    ASSERT_TRUE(index.Open(MakeSession(id), "gw", 1).ok());
  v1::Session elsewhere = MakeSession("d");
  elsewhere.set_namespace_("/other");
  ASSERT_TRUE(index.Open(elsewhere, "gw", 1).ok());
  ASSERT_TRUE(index.Rooms(RoomsOf("b", {"x"}), "gw").ok());

  EXPECT_EQ(PresentIds(index, ""), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(PresentIds(index, "general"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(PresentIds(index, "x"), std::vector<std::string>{"b"});
  EXPECT_EQ(PresentIds(index, "b"), std::vector<std::string>{"b"});  // its own room
  EXPECT_TRUE(PresentIds(index, "nobody").empty());
  const PresencePage page = index.Presence(Query("general"), kNoByteLimit);
  EXPECT_EQ(page.total, 3u);
  EXPECT_TRUE(page.next_after.empty());
  // The record itself, with its rooms and node.
  ASSERT_EQ(page.records.size(), 3u);
  EXPECT_EQ(page.records[1]->session.node(), "gw");
  EXPECT_TRUE(page.records[1]->rooms.contains("x"));
}

TEST(SocketIndexPresenceTest, FollowsJoinsLeavesClosesNodeDeathAndRecovery) {
  SocketIndex index({});
  ASSERT_TRUE(index.Open(MakeSession("a"), "gw-a", 1).ok());
  ASSERT_TRUE(index.Open(MakeSession("b"), "gw-a", 1).ok());
  ASSERT_TRUE(index.Open(MakeSession("c"), "gw-b", 1).ok());
  ASSERT_TRUE(index.Rooms(RoomsOf("a", {"x"}), "gw-a").ok());
  ASSERT_TRUE(index.Rooms(RoomsOf("c", {"x"}), "gw-b").ok());
  EXPECT_EQ(PresentIds(index, "x"), (std::vector<std::string>{"a", "c"}));
  ASSERT_TRUE(index.Rooms(RoomsOf("a", {}, {"x"}), "gw-a").ok());
  EXPECT_EQ(PresentIds(index, "x"), std::vector<std::string>{"c"});

  // Disconnected records (kept for recovery) are not present.
  ASSERT_TRUE(index.Close("/chat", "c", /*recoverable=*/true, "gw-b", kStart).ok());
  ASSERT_NE(index.Find("/chat", "c"), nullptr);
  EXPECT_TRUE(PresentIds(index, "x").empty());
  EXPECT_EQ(PresentIds(index, ""), (std::vector<std::string>{"a", "b"}));
  // A dead gateway's sockets leave with it.
  EXPECT_EQ(index.NodeDown("gw-a", kStart), 2u);
  EXPECT_TRUE(PresentIds(index, "").empty());
  EXPECT_EQ(index.Presence(Query("general"), kNoByteLimit).total, 0u);
  // A recovered socket is back, with its rooms, on its new node.
  ASSERT_TRUE(index.Recover("pid-c", "/chat", "gw-c", 2, kStart + 1, Admit).ok());
  EXPECT_EQ(PresentIds(index, "x"), std::vector<std::string>{"c"});
  EXPECT_EQ(index.Presence(Query("x"), kNoByteLimit).records[0]->session.node(), "gw-c");
  // A record replaced by a new Open is listed once, with its new rooms.
  v1::Session again = MakeSession("c");
  again.add_rooms("y");
  ASSERT_TRUE(index.Open(again, "gw-c", 2).ok());
  EXPECT_TRUE(PresentIds(index, "x").empty());
  EXPECT_EQ(PresentIds(index, "y"), std::vector<std::string>{"c"});
  EXPECT_EQ(PresentIds(index, ""), std::vector<std::string>{"c"});
  // Expired and removed records leave no trace.
  EXPECT_EQ(index.Expire(kStart + 3600 * kSecond), 2u);
  ASSERT_TRUE(index.Close("/chat", "c", /*recoverable=*/false, "gw-c", kStart).ok());
  EXPECT_TRUE(PresentIds(index, "").empty());
  EXPECT_TRUE(PresentIds(index, "y").empty());
}

TEST(SocketIndexPresenceTest, SeveralRoomsAreORedAndExceptionsSubtracted) {
  SocketIndex index({});
  for (const std::string id : {"a", "b", "c", "d"}) {
    ASSERT_TRUE(index.Open(MakeSession(id), "gw", 1).ok());
  }
  ASSERT_TRUE(index.Rooms(RoomsOf("a", {"x"}), "gw").ok());
  ASSERT_TRUE(index.Rooms(RoomsOf("b", {"x", "y"}), "gw").ok());
  ASSERT_TRUE(index.Rooms(RoomsOf("c", {"y", "muted"}), "gw").ok());
  v1::Presence query = Query("x");
  query.add_rooms("y");
  query.add_rooms("x");  // named twice: still each socket once
  PresencePage page = index.Presence(query, kNoByteLimit);
  EXPECT_EQ(Ids(page), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(page.total, 3u);
  query.add_except_rooms("muted");
  query.set_except_socket("a");
  page = index.Presence(query, kNoByteLimit);
  EXPECT_EQ(Ids(page), std::vector<std::string>{"b"});
  EXPECT_EQ(page.total, 1u);
  query.set_count_only(true);
  page = index.Presence(query, kNoByteLimit);
  EXPECT_EQ(page.total, 1u);
  EXPECT_TRUE(page.records.empty());
}

TEST(SocketIndexPresenceTest, PagesListASocketPresentThroughoutExactlyOnce) {
  SocketIndex index({});
  std::vector<std::string> stay;
  for (int i = 0; i < 25; ++i) {
    const std::string id = "s" + std::to_string(100 + i);
    ASSERT_TRUE(index.Open(MakeSession(id), "gw", 1).ok());
    if (i % 5 != 0) stay.push_back(id);
  }
  v1::Presence query = Query("general");
  query.set_limit(7);
  std::vector<std::string> seen;
  int pages = 0;
  int added = 0;
  while (true) {
    const PresencePage page = index.Presence(query, kNoByteLimit);
    ++pages;
    ASSERT_LE(page.records.size(), 7u);
    for (const SocketRecord* record : page.records) seen.push_back(record->session.socket_id());
    if (page.next_after.empty()) break;
    query.set_after(page.next_after);
    // Between pages, some sockets go and new ones come, before and after
    // the cursor.
    const std::string gone = "s" + std::to_string(100 + 5 * (pages - 1));
    if (index.Find("/chat", gone) != nullptr) {
      ASSERT_TRUE(index.Close("/chat", gone, false, "gw", kStart).ok());
    }
    for (const std::string& id : {"s0" + std::to_string(pages), "s9" + std::to_string(pages)}) {
      ASSERT_TRUE(index.Open(MakeSession(id), "gw", 1).ok());
      ++added;
    }
  }
  EXPECT_GE(pages, 4);
  std::vector<std::string> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_TRUE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()) << "a duplicate";
  EXPECT_EQ(seen, sorted) << "pages in id order";
  for (const std::string& id : stay) {
    EXPECT_EQ(std::count(seen.begin(), seen.end(), id), 1) << id;
  }
  EXPECT_EQ(added, 2 * (pages - 1));
}

TEST(SocketIndexPresenceTest, APageEndsAtItsByteBoundWithAtLeastOneRecord) {
  SocketIndex index({});
  for (const std::string id : {"a", "b", "c"})
    ASSERT_TRUE(index.Open(MakeSession(id), "gw", 1).ok());
  const size_t one = index.Find("/chat", "a")->bytes;
  PresencePage page = index.Presence(Query(""), 1);
  EXPECT_EQ(Ids(page), std::vector<std::string>{"a"});
  EXPECT_EQ(page.next_after, "a");
  EXPECT_EQ(page.total, 3u);
  page = index.Presence(Query(""), 2 * one);
  EXPECT_EQ(Ids(page), (std::vector<std::string>{"a", "b"}));
  // The default and largest page is kMaxPresencePage.
  for (size_t i = 0; i < kMaxPresencePage; ++i) {
    ASSERT_TRUE(index.Open(MakeSession("m" + std::to_string(10000 + i)), "gw", 1).ok());
  }
  v1::Presence query = Query("");
  EXPECT_EQ(index.Presence(query, kNoByteLimit).records.size(), kMaxPresencePage);
  query.set_limit(100000);
  page = index.Presence(query, kNoByteLimit);
  EXPECT_EQ(page.records.size(), kMaxPresencePage);
  EXPECT_EQ(page.total, kMaxPresencePage + 3);
  EXPECT_FALSE(page.next_after.empty());
}

}  // namespace
}  // namespace roomq::broker::sockets
