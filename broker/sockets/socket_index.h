#ifndef ROOMQ_BROKER_SOCKETS_SOCKET_INDEX_H_
#define ROOMQ_BROKER_SOCKETS_SOCKET_INDEX_H_

// SocketIndex: the broker's record of every Socket.IO socket the gateways
// hold (proto/README.md "Socket records"), fed by the gateways' Sockets
// command, read by Recover.
//
// One SocketRecord per socket, keyed by (namespace, socket id) and indexed
// by its recovery pid (only when the pid is not empty: a namespace without
// recovery sends none) and, while connected, by the node holding it. A
// record is *connected* (on `node`) or *disconnected* (until `deadline`,
// wall-clock microseconds). What moves it:
//   Open(session, node)   create, or replace the record of that key (an
//                         upsert: a gateway sends Open again after a
//                         recovery and in every full list), connected on
//                         `node`. An existing record's epoch and
//                         since_sequence are kept: where the socket
//                         started, not where its last Open came in.
//   Rooms(...), Close(...) apply only to a record connected on the sending
//                         node: a node that lost the socket to a takeover
//                         cannot edit or close the record that moved.
//   Close{recoverable}    disconnected until now + min(ttl_ms, max_ttl)
//                         when recoverable, ttl_ms > 0 and pid != "";
//                         otherwise removed.
//   NodeDown(node)        every record connected on `node` is closed as
//                         Close{recoverable} would.
//   Reconcile(node, gen)  every record connected on `node` that was not
//                         Opened (or recovered) under `gen` is closed
//                         likewise: the end of a node's full list, which
//                         covers every Open since the node's latest Hello
//                         (the caller gives each Hello a new generation).
//   Recover(pid, ns, node) finds the record by pid in either state (see
//                         Recover below).
//   Expire(now)           removes disconnected records past their deadline.
//
// Bounds (SocketIndexOptions, defaults): max_records 1,000,000 and
// max_bytes 512 MiB of encoded record sizes (v1::Session with its rooms),
// connected and disconnected together. A change that would cross them
// first evicts the disconnected record that expires soonest (counted in
// evicted); when only connected records are left, a new Open is refused
// (ResourceExhausted, counted in refused: the socket works but cannot be
// recovered) and a join that would cross them removes its record the same
// way. Per record: at most kMaxSessionRooms rooms, kMaxSessionBytes bytes
// and kMaxHandshakeSummaryBytes of address + user agent; an Open over them
// is refused (InvalidArgument, counted in invalid), a join that takes a
// record over them removes it (counted in refused).
//
// Costs: Open, Close, Recover O(rooms of the record) (copying its rooms);
// Rooms O(rooms changed); NodeDown and Reconcile O(records of the node);
// Expire and eviction O(log n) per record removed.
//
// Presence (proto/README.md "Presence"): the connected records are also
// indexed by namespace and by (namespace, room), each in socket id order,
// so that Presence answers a page or a count from the records themselves:
// O(log n + page) for one room or the whole namespace, a merge of the
// rooms' sets for several. A count is O(1) for one room (or the whole
// namespace) without exclusions, a walk of the matches otherwise.
//
// Journal: every change is reported to the SocketJournal, if one is set,
// as what changed (a whole record, a room change, a state change, an
// erase), after it took effect; that is what makes the index durable
// (socket_log.h). The Restore* calls apply such changes back without
// bounds, counting or journaling.
//
// Invariants: a record is in by_node_[node] iff it is connected (and then
// session.node == node), and then also in members_ under its namespace and
// under each of its rooms (and in no other set of members_); in by_deadline_ iff it is disconnected
// (and then session.node is empty), in by_pid_ iff its pid is not empty (a pid names one record: an
// Open with a pid another record holds removes that record); bytes_ is the sum of the records'
// bytes.
//
// Thread safety: none; owned by the broker loop thread. Time is passed in
// (wall clock, microseconds since the Unix epoch, so that deadlines mean
// the same after a restart).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "proto/roomq.pb.h"

namespace roomq::broker::sockets {

inline constexpr size_t kMaxSessionRooms = 10000;
inline constexpr size_t kMaxSessionBytes = 64 << 10;
inline constexpr size_t kMaxHandshakeSummaryBytes = 512;
// Presence: sockets per page (also the default), rooms and except rooms per
// query.
inline constexpr size_t kMaxPresencePage = 1000;
inline constexpr size_t kMaxPresenceRooms = 100;

struct SocketIndexOptions {
  size_t max_records = 1000000;
  size_t max_bytes = size_t{512} << 20;
  // A record outlives its socket's disconnection by min(ttl_ms, max_ttl).
  std::chrono::milliseconds max_ttl{10 * 60 * 1000};
};

enum class SocketState : uint8_t { kConnected = 1, kDisconnected = 2 };

struct SocketRecord {
  std::string key;      // SocketIndex::Key(namespace, socket id)
  v1::Session session;  // without its rooms (kept below); node set iff connected
  absl::flat_hash_set<std::string> rooms;
  SocketState state = SocketState::kConnected;
  int64_t deadline_us = 0;  // disconnected: when it expires (wall clock)
  size_t bytes = 0;         // encoded size: session plus rooms as Session.rooms fields
  size_t rooms_bytes = 0;   // ... of which the rooms
  uint64_t serial = 0;      // creation order: orders records with equal deadlines
  uint64_t generation = 0;  // the generation of its latest Open or recovery (not persisted)

  bool connected() const { return state == SocketState::kConnected; }
  // The session with its rooms, as sent in Recovered and stored in snapshots.
  v1::Session ToSession() const;
};

// Where the index reports its changes (socket_log.h). Called on the index's
// thread, after the change; the record passed is the changed one.
class SocketJournal {
 public:
  virtual ~SocketJournal() = default;
  // `record` was created or replaced whole.
  virtual void Put(const SocketRecord& record) = 0;
  // These rooms were added to / removed from the record (only the ones
  // that changed it).
  virtual void Rooms(const v1::SocketRooms& applied) = 0;
  // Its state, node or deadline changed.
  virtual void State(const SocketRecord& record) = 0;
  // The record of (ns, socket_id) was removed.
  virtual void Erase(std::string_view ns, std::string_view socket_id) = 0;
};

enum class RecoverOutcome : uint8_t {
  kRecovered,     // a disconnected record, claimed
  kTakenOver,     // a record connected on another node, moved
  kGap,           // history no longer covers what the client missed
  kExpired,       // past its deadline
  kUnknown,       // no record with this pid (never opened, claimed, expired, evicted)
  kEpochChanged,  // the client's offset is from another epoch
  kRefused,       // connected on the asking node, another namespace, a bad room, a limit,
                  // the queue budget, or the answer could not be sent
  kCount,
};
std::string_view RecoverOutcomeName(RecoverOutcome outcome);

struct RecoverResult {
  RecoverOutcome outcome = RecoverOutcome::kUnknown;
  std::string error;                     // on failure: what the node is told
  const SocketRecord* record = nullptr;  // on success: now connected on the asking node
  std::string previous_node;             // kTakenOver: the node that held it
  bool ok() const {
    return outcome == RecoverOutcome::kRecovered || outcome == RecoverOutcome::kTakenOver;
  }
};

// What the caller's checks decided about a record before it moves:
// kRecovered to go ahead, anything else fails the recovery with `error`.
struct RecoverCheck {
  RecoverOutcome outcome = RecoverOutcome::kRecovered;
  std::string error;
};

struct SocketIndexStats {
  uint64_t evicted = 0;  // disconnected records evicted at max_records / max_bytes
  uint64_t refused = 0;  // Opens (or joins) refused at the bounds: not recoverable
  uint64_t invalid = 0;  // Opens refused: no namespace or id, over a per-record limit
  uint64_t unknown = 0;  // Rooms / Close for a record not connected on the sender
  uint64_t expired = 0;  // disconnected records removed at their deadline
};

// One page of a Presence query.
struct PresencePage {
  uint64_t total = 0;                        // matching connected records now
  std::vector<const SocketRecord*> records;  // after the cursor, in socket id order
  std::string next_after;                    // "" = no match after the last record
};

class SocketIndex {
 public:
  explicit SocketIndex(SocketIndexOptions options);
  SocketIndex(const SocketIndex&) = delete;
  SocketIndex& operator=(const SocketIndex&) = delete;

  // The index key of a socket.
  static std::string Key(std::string_view ns, std::string_view socket_id);

  // Reports every later change to `journal` (nullptr: none). Not owned.
  void SetJournal(SocketJournal* journal) { journal_ = journal; }

  // Creates or replaces the record of (session.namespace, session.socket_id),
  // connected on `node` (session.node is overwritten) under `generation`. session.epoch and
  // since_sequence are the caller's (the gateway's, or the broker's current
  // position, broker_commands.cc) for a new record and kept from the old one
  // for an existing key.
  // InvalidArgument (per-record limits, no namespace or id) or
  // ResourceExhausted (at the bounds with every record connected): no
  // record is kept for the key afterwards.
  absl::Status Open(v1::Session session, std::string_view node, uint64_t generation);
  // Applies joins and leaves to a record connected on `node`. NotFound
  // otherwise; ResourceExhausted when a join took it over a limit (the
  // record is removed).
  absl::Status Rooms(const v1::SocketRooms& rooms, std::string_view node);
  // Closes a record connected on `node` (see the header). NotFound
  // otherwise.
  absl::Status Close(std::string_view ns, std::string_view socket_id, bool recoverable,
                     std::string_view node, int64_t now_us);
  // Closes every record connected on `node`; returns how many.
  size_t NodeDown(std::string_view node, int64_t now_us);
  // Closes every record connected on `node` whose generation is not
  // `generation`; returns how many.
  size_t Reconcile(std::string_view node, uint64_t generation, int64_t now_us);

  // Recovery of `pid` in `ns` for the asking `node`:
  //  - no record: kUnknown; the record is in another namespace: kRefused
  //    (the record is untouched);
  //  - disconnected past its deadline: kExpired (removed);
  //  - connected on `node`: kRefused, "socket still connected" (its old
  //    transport's close is still on its way);
  //  - otherwise `check` runs on the record; when it fails, a disconnected
  //    record is removed (it could never recover later either) and a
  //    connected one is untouched;
  //  - then the record becomes connected on `node` under `generation`,
  //    keeping its key, pid and rooms: kRecovered, or kTakenOver with previous_node when another
  //    node held it (the caller tells that node to close the socket).
  RecoverResult Recover(std::string_view pid, std::string_view ns, std::string_view node,
                        uint64_t generation, int64_t now_us,
                        const std::function<RecoverCheck(const SocketRecord&)>& check);

  // Removes every disconnected record with deadline <= now; returns how many.
  size_t Expire(int64_t now_us);

  // Replay of journaled changes (socket_log.h): no bounds, no counting, no
  // journal. A change naming an unknown record is ignored.
  void RestorePut(const v1::Session& session, SocketState state, int64_t deadline_us);
  void RestoreRooms(const v1::SocketRooms& rooms);
  void RestoreState(std::string_view ns, std::string_view socket_id, SocketState state,
                    std::string_view node, int64_t deadline_us);
  void RestoreErase(std::string_view ns, std::string_view socket_id);

  // The connected records matching `query` (proto/roomq.proto Presence,
  // checked by the caller): the total, and unless query.count_only() the
  // page after query.after(): at most min(limit or kMaxPresencePage,
  // kMaxPresencePage) records, ending once their bytes reach `max_bytes`
  // (at least one record).
  PresencePage Presence(const v1::Presence& query, size_t max_bytes) const;

  const SocketRecord* Find(std::string_view ns, std::string_view socket_id) const;
  const SocketRecord* FindByPid(std::string_view pid) const;
  // Nodes holding at least one connected record.
  std::vector<std::string> Nodes() const;
  // Calls visit(const SocketRecord&) for every record.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    for (const auto& [key, record] : records_) visit(static_cast<const SocketRecord&>(*record));
  }

  size_t size() const { return records_.size(); }
  size_t connected() const { return records_.size() - by_deadline_.size(); }
  size_t disconnected() const { return by_deadline_.size(); }
  size_t bytes() const { return bytes_; }
  const SocketIndexStats& stats() const { return stats_; }
  const SocketIndexOptions& options() const { return options_; }

 private:
  struct ByDeadline {
    bool operator()(const SocketRecord* a, const SocketRecord* b) const {
      return a->deadline_us != b->deadline_us ? a->deadline_us < b->deadline_us
                                              : a->serial < b->serial;
    }
  };

  // Connected records of one namespace, by socket id (unique within it).
  struct BySocketId {
    using is_transparent = void;
    bool operator()(const SocketRecord* a, const SocketRecord* b) const {
      return a->session.socket_id() < b->session.socket_id();
    }
    bool operator()(const SocketRecord* a, std::string_view b) const {
      return a->session.socket_id() < b;
    }
    bool operator()(std::string_view a, const SocketRecord* b) const {
      return a < b->session.socket_id();
    }
  };
  using MemberSet = absl::btree_set<const SocketRecord*, BySocketId>;

  // members_ keys: a namespace's whole set, one room's set. The first
  // starts with a byte no Key() starts with.
  static std::string NamespaceMembersKey(std::string_view ns);
  static std::string RoomMembersKey(std::string_view ns, std::string_view room);
  // Takes `record` out of members_[key], erasing the set once empty.
  void EraseMember(const std::string& key, const SocketRecord* record);
  // Adds a connected record to members_ / takes it out of it.
  void AddMembers(const SocketRecord* record);
  void DropMembers(const SocketRecord* record);
  void JoinMembers(const SocketRecord* record, std::string_view room);
  void LeaveMembers(const SocketRecord* record, std::string_view room);
  // Calls visit(record) for every record of the union of `sets` with a
  // socket id above `after`, in socket id order, each once, until it
  // returns false.
  template <typename Visit>
  static void WalkUnion(const std::vector<const MemberSet*>& sets, std::string_view after,
                        Visit&& visit);

  SocketRecord* FindMutable(std::string_view key) const;
  // Adds a new record (indexes, bytes); it must not exist.
  SocketRecord* Insert(v1::Session session, absl::flat_hash_set<std::string> rooms,
                       SocketState state, int64_t deadline_us);
  // Removes a record from every index and frees it.
  void Remove(SocketRecord* record);
  void RemoveAndJournal(SocketRecord* record);
  // Takes a record out of by_node_ or by_deadline_ (whichever its state
  // puts it in), before its state changes.
  void Unplace(SocketRecord* record);
  // Connected on `node` / disconnected until `deadline_us` (journaled by
  // the caller).
  void Connect(SocketRecord* record, std::string_view node);
  void Disconnect(SocketRecord* record, int64_t deadline_us);
  // Close{recoverable} of a connected record: disconnected or removed.
  void CloseRecord(SocketRecord* record, bool recoverable, int64_t now_us);
  void Recount(SocketRecord* record);
  // Evicts disconnected records until `records` more records and `bytes`
  // more bytes fit. False when they do not fit even with none left.
  bool MakeRoom(size_t records, size_t bytes);
  static size_t RoomBytes(std::string_view room);

  const SocketIndexOptions options_;
  SocketJournal* journal_ = nullptr;
  absl::flat_hash_map<std::string, std::unique_ptr<SocketRecord>> records_;  // by key
  absl::flat_hash_map<std::string, SocketRecord*> by_pid_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<SocketRecord*>> by_node_;
  std::set<SocketRecord*, ByDeadline> by_deadline_;      // disconnected, soonest first
  absl::flat_hash_map<std::string, MemberSet> members_;  // connected, for Presence
  size_t bytes_ = 0;
  uint64_t next_serial_ = 1;
  SocketIndexStats stats_;
};

}  // namespace roomq::broker::sockets

#endif  // ROOMQ_BROKER_SOCKETS_SOCKET_INDEX_H_
