#ifndef ROOMQ_BROKER_HISTORY_HISTORY_H_
#define ROOMQ_BROKER_HISTORY_HISTORY_H_

// History: the broker's bounded memory of CHANNEL_ROOMS KIND_EVENT
// envelopes, per topic (namespace, room), kept whether or not anyone
// subscribes (proto/README.md "History, resume and recovery").
//
// Each kept envelope is one Entry holding the live delivery frame the broker
// built for it (proto/wire/delivery.h: epoch, offsets, sequence, envelope)
// as a zmq::message_t that shares the buffer sent to every recipient
// (zmq_msg_copy of a message over 33 bytes adds a reference, no copy): the
// envelope's bytes exist ONCE however many topics hold it. An envelope to
// rooms [a, b] gets an offset in (ns, a) and in (ns, b) and one broker-wide
// sequence; a namespace-wide one (no rooms) lives in (ns, "").
//
// Offsets: consecutive (+1) within a topic while it holds history. A topic
// whose history emptied is forgotten (memory stays bounded with many
// short-lived rooms); when it gets an envelope again its offsets restart at
// that envelope's sequence, so within an epoch a topic's offsets only ever
// grow (an offset a subscriber holds is never reused), a brand-new topic's
// first offset is the sequence of its first envelope.
//
// Limits (HistoryOptions, with defaults): per namespace, max_messages per
// topic (1000; 0 = the namespace keeps no history) and max_age (2 min, by
// the broker's wall clock when the envelope arrived); for the whole history
// max_bytes (256 MiB: frame bytes plus bookkeeping), enforced by evicting the
// oldest envelope of the broker first. An envelope leaves a topic when that
// topic is over max_messages, and leaves every topic at once when it is too
// old or the oldest when over max_bytes; its frame is released when no topic
// holds it.
//
// Bookkeeping: every namespace with history has an intrusive list of its
// entries in sequence order (age eviction pops its head; the broker-wide
// oldest is the oldest of the namespace heads); every topic has a deque of
// its entries in offset order. Invariant: an entry is in its namespace's
// list iff at least one topic holds it; the head of a namespace list is at
// the front of every topic that holds it.
//
// Gaps: each topic remembers the newest offset and sequence it evicted, and
// each namespace the newest sequence of the topics it forgot, so a resume or
// a recovery can tell whether something it asked for is gone (conservative
// for forgotten topics: see Resume and MissingSince).
//
// Pending entries: Stamp + Keep assign numbers and queue the entry; nothing
// is visible (Resume, CollectSince, counts, eviction) until Commit, and
// Abandon takes every pending entry back as if it had never been stamped:
// the sequence and each topic's next offset return to where they were, so
// numbers that were never handed out are given again, and no topic is left
// with a gap in its offsets. The broker keeps a publish burst pending until
// the burst's log records are written, so history never holds, and nobody
// is told, an offset the log does not have. A topic with pending entries is
// not forgotten when its held entries are evicted (its offsets go on).
//
// Thread safety: none; owned by the broker loop thread. Time is passed in.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "proto/wire/delivery.h"
#include "proto/wire/route.h"

namespace roomq::broker::history {

struct Limits {
  uint32_t max_messages = 1000;  // per topic; 0 = no history
  std::chrono::milliseconds max_age{120000};
  friend bool operator==(const Limits&, const Limits&) = default;
};

struct HistoryOptions {
  Limits defaults;
  // Per-namespace overrides (whole Limits; the config fills unset fields
  // from `defaults`).
  absl::flat_hash_map<std::string, Limits> namespaces;
  size_t max_bytes = size_t{256} << 20;
};

struct Topic;
struct Namespace;

// One kept envelope.
struct Entry {
  uint64_t sequence = 0;
  int64_t time_us = 0;     // wall clock when the broker received it
  uint64_t log_index = 0;  // RecordLog index (0 without persistence)
  zmq::message_t frame;    // the live delivery frame
  Namespace* ns = nullptr;
  Entry* prev = nullptr;  // namespace list, sequence order
  Entry* next = nullptr;
  absl::InlinedVector<Topic*, 1> topics;  // topics that still hold it
  size_t bytes = 0;                       // what it counts against max_bytes

  // The Delivery bytes of `frame` (for replayed frames).
  std::string_view body() const;
};

struct Topic {
  std::string key;  // wire::EncodeTopicKey
  std::string room;
  Namespace* ns = nullptr;
  std::deque<Entry*> entries;     // offset order
  uint64_t first_offset = 0;      // offset of entries.front()
  uint64_t next_offset = 0;       // offset the next envelope gets
  uint64_t evicted_offset = 0;    // newest offset evicted (0 = none)
  uint64_t evicted_sequence = 0;  // its sequence
  uint64_t stamp = 0;             // sequence that last stamped it (dedupes rooms)
  uint32_t pending = 0;           // pending entries stamped into it
};

struct Namespace {
  std::string name;
  Limits limits;
  Entry* head = nullptr;
  Entry* tail = nullptr;
  size_t topics = 0;
  uint64_t forgotten_sequence = 0;  // newest sequence evicted from a forgotten topic
};

// What a resume found for one topic (proto ResumeResult).
struct ResumeOutcome {
  uint64_t replayed = 0;
  bool truncated = false;
  uint64_t last_offset = 0;  // newest offset held (0 = none)
};

class History {
 public:
  explicit History(HistoryOptions options);
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // The limits of `ns` (its override or the defaults).
  const Limits& LimitsOf(std::string_view ns) const;
  // Whether an envelope with this route is kept: CHANNEL_ROOMS, KIND_EVENT
  // and a namespace with max_messages > 0.
  bool Keeps(const wire::EnvelopeRoute& route) const;

  // Step 1 of keeping an envelope (Keeps(route) must be true): assigns the
  // next sequence and an offset in every distinct target topic, creating
  // topics as needed. The offsets (views into the history's own strings)
  // stay valid until the next Stamp; Keep must follow before any other
  // mutating call.
  uint64_t Stamp(const wire::EnvelopeRoute& route);
  std::span<const wire::RoomOffset> stamped_offsets() const { return stamped_offsets_; }
  // Step 2: queues `frame` (a shared copy is taken: the caller keeps its
  // message) as the pending entry of the envelope just stamped.
  void Keep(const zmq::message_t& frame, int64_t time_us, uint64_t log_index);
  // Stores every pending entry, in stamp order, each followed by eviction
  // per the limits (which may evict it at once if it alone exceeds
  // max_bytes).
  void Commit();
  // Drops every pending entry and gives back its sequence and offsets (see
  // "Pending entries"). Returns how many were dropped.
  size_t Abandon();
  size_t pending_count() const { return pending_.size(); }

  // Rebuilds an entry from persisted state (its sequence and offsets, in
  // sequence order of the log) without assigning anything. The next Stamp
  // continues after the largest sequence / offsets restored. Entries whose
  // namespace keeps no history (the config changed) are skipped.
  void Restore(std::string_view ns, std::span<const wire::RoomOffset> offsets, uint64_t sequence,
               const zmq::message_t& frame, int64_t time_us, uint64_t log_index);

  // Calls visit(entry) for every stored entry (not the pending ones), in
  // sequence order: what a snapshot of history holds.
  void ForEachEntry(const std::function<void(const Entry&)>& visit) const;

  // Evicts entries older than their namespace's max_age at `now_us` (wall
  // clock, microseconds).
  void ExpireOld(int64_t now_us);

  // Durable resume of (ns, room): calls visit(const Entry&) for every entry
  // held with offset > after_offset, in offset order. With `same_epoch`
  // false, everything held is visited and `truncated` is true. `truncated`
  // is also true when an entry after after_offset was evicted, or when the
  // topic holds nothing (or restarted its offsets) and the subscriber had an
  // offset (after_offset > 0): then what happened in between is unknown.
  template <typename Visitor>
  ResumeOutcome Resume(std::string_view ns, std::string_view room, bool same_epoch,
                       uint64_t after_offset, Visitor&& visit) const;

  // Entries of (ns, room) with sequence > after_sequence, appended to `out`
  // in sequence order (the caller merges several topics).
  void CollectSince(std::string_view ns, std::string_view room, uint64_t after_sequence,
                    std::vector<const Entry*>& out) const;
  // True when history may have lost an entry of (ns, room) with sequence >
  // after_sequence: one was evicted, or the topic is not held and its
  // namespace forgot a topic newer than that (conservative), or the
  // namespace keeps no history.
  bool MissingSince(std::string_view ns, std::string_view room, uint64_t after_sequence) const;

  // The newest sequence assigned (0 = none in this epoch).
  uint64_t last_sequence() const { return next_sequence_ - 1; }
  // Smallest log index still held (0 when nothing with an index is held):
  // every record before it may be dropped from the log.
  uint64_t oldest_log_index() const;

  size_t entry_count() const { return entries_; }
  // Entries held summed over topics (an envelope in two rooms counts 2).
  size_t topic_entry_count() const { return entry_slots_; }
  size_t topic_count() const { return topics_.size(); }
  size_t bytes() const { return bytes_; }
  // Offsets of (ns, room): {first held, last held}; {0, 0} when not held.
  std::pair<uint64_t, uint64_t> OffsetRange(std::string_view ns, std::string_view room) const;

 private:
  const Topic* FindTopic(std::string_view ns, std::string_view room) const;
  Namespace* NamespaceFor(std::string_view ns);
  Topic* TopicFor(Namespace* ns, std::string_view room);
  void Link(Entry* entry);
  void AddToTopic(Entry* entry, Topic* topic, uint64_t offset);
  // Removes the front entry of `topic` (frees it when no topic holds it).
  void PopFront(Topic* topic);
  // Removes `entry` (the head of its namespace) from every topic.
  void Evict(Entry* entry);
  void Release(Entry* entry);
  void ForgetTopic(Topic* topic);
  // Entries come from and go back to spare_entries_: at a steady rate one
  // entry is evicted for each one kept, and the allocator was a tenth of
  // the broker's CPU per envelope (tests/bench/README.md).
  Entry* NewEntry();
  void DeleteEntry(Entry* entry);
  void EvictOverLimits(Entry* entry);

  const HistoryOptions options_;
  uint64_t next_sequence_ = 1;
  absl::flat_hash_map<std::string, std::unique_ptr<Namespace>> namespaces_;
  absl::flat_hash_map<std::string, std::unique_ptr<Topic>> topics_;
  size_t entries_ = 0;
  size_t entry_slots_ = 0;  // (entry, topic) pairs held
  size_t bytes_ = 0;
  uint64_t forgotten_sequence_ = 0;  // of forgotten namespaces

  // An entry stamped and kept but not committed, with its topics and
  // offsets (entry->topics stays empty until Commit).
  struct Pending {
    Entry* entry;
    absl::InlinedVector<std::pair<Topic*, uint64_t>, 1> offsets;
  };
  std::vector<Pending> pending_;

  // Stamp -> Keep hand-over.
  uint64_t stamped_sequence_ = 0;
  Namespace* stamped_ns_ = nullptr;
  absl::InlinedVector<Topic*, wire::kInlineRooms> stamped_topics_;
  absl::InlinedVector<wire::RoomOffset, wire::kInlineRooms> stamped_offsets_;
  mutable std::string key_scratch_;
  std::vector<std::unique_ptr<Entry>> spare_entries_;  // at most kMaxSpareEntries
};

template <typename Visitor>
ResumeOutcome History::Resume(std::string_view ns, std::string_view room, bool same_epoch,
                              uint64_t after_offset, Visitor&& visit) const {
  ResumeOutcome outcome;
  const Topic* topic = FindTopic(ns, room);
  if (topic == nullptr) {
    outcome.truncated = !same_epoch || after_offset > 0;
    return outcome;
  }
  outcome.last_offset = topic->first_offset + topic->entries.size() - 1;
  size_t start = 0;
  if (!same_epoch) {
    outcome.truncated = true;
  } else {
    // Offsets between after_offset and the first held one were evicted, or
    // belong to an earlier life of the topic (unknown, so assumed lost).
    outcome.truncated = topic->evicted_offset > after_offset ||
                        (after_offset > 0 && after_offset + 1 < topic->first_offset);
    if (after_offset >= topic->first_offset) {
      start = std::min<uint64_t>(after_offset - topic->first_offset + 1, topic->entries.size());
    }
  }
  for (size_t i = start; i < topic->entries.size(); ++i) {
    visit(static_cast<const Entry&>(*topic->entries[i]));
    ++outcome.replayed;
  }
  return outcome;
}

}  // namespace roomq::broker::history

#endif  // ROOMQ_BROKER_HISTORY_HISTORY_H_
