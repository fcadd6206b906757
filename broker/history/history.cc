#include "broker/history/history.h"

#include <algorithm>

#include "proto/base/absl_compat.h"
#include "proto/wire/topic.h"

namespace roomq::broker::history {
namespace {

// What an entry costs besides its frame: the Entry, a deque slot per topic,
// the allocator's overhead.
constexpr size_t kEntryOverheadBytes = sizeof(Entry) + 32;
// Spare entries kept for reuse (History::NewEntry): about 0.5 MB at most,
// outside max_bytes, like the allocator's own caches.
constexpr size_t kMaxSpareEntries = 4096;
constexpr size_t kTopicSlotBytes =
    sizeof(Entry*);  // NOLINT(bugprone-sizeof-expression): a slot is a pointer

std::string_view FrameView(const zmq::message_t& frame) {
  return {static_cast<const char*>(frame.data()), frame.size()};
}

}  // namespace

std::string_view Entry::body() const {
  auto body = wire::DeliveryBody(FrameView(frame));
  return body.ok() ? *body : std::string_view();
}

History::History(HistoryOptions options) : options_(std::move(options)) {}

History::~History() {
  for (const Pending& pending : pending_) delete pending.entry;
  for (auto& [name, ns] : namespaces_) {
    for (Entry* entry = ns->head; entry != nullptr;) {
      Entry* next = entry->next;
      delete entry;
      entry = next;
    }
  }
}

void History::ForEachEntry(const std::function<void(const Entry&)>& visit) const {
  std::vector<const Entry*> entries;
  entries.reserve(entries_);
  for (const auto& [name, ns] : namespaces_) {
    for (const Entry* entry = ns->head; entry != nullptr; entry = entry->next) {
      entries.push_back(entry);
    }
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry* a, const Entry* b) { return a->sequence < b->sequence; });
  for (const Entry* entry : entries) visit(*entry);
}

const Limits& History::LimitsOf(std::string_view ns) const {
  auto it = options_.namespaces.find(ToAbsl(ns));
  return it != options_.namespaces.end() ? it->second : options_.defaults;
}

bool History::Keeps(const wire::EnvelopeRoute& route) const {
  return route.channel == v1::CHANNEL_ROOMS && route.kind == v1::KIND_EVENT &&
         LimitsOf(route.ns).max_messages > 0;
}

Namespace* History::NamespaceFor(std::string_view name) {
  auto [it, added] = namespaces_.try_emplace(ToAbsl(name));
  if (added) {
    it->second = std::make_unique<Namespace>();
    it->second->name = std::string(name);
    it->second->limits = LimitsOf(name);
  }
  return it->second.get();
}

Topic* History::TopicFor(Namespace* ns, std::string_view room) {
  key_scratch_.clear();
  wire::AppendTopicKey(wire::RoomTopic(ns->name, room), key_scratch_);
  auto it = topics_.find(key_scratch_);
  if (it != topics_.end()) return it->second.get();
  auto topic = std::make_unique<Topic>();
  topic->key = key_scratch_;
  topic->room = std::string(room);
  topic->ns = ns;
  ++ns->topics;
  Topic* raw = topic.get();
  topics_.emplace(key_scratch_, std::move(topic));
  return raw;
}

const Topic* History::FindTopic(std::string_view ns, std::string_view room) const {
  key_scratch_.clear();
  wire::AppendTopicKey(wire::RoomTopic(ns, room), key_scratch_);
  auto it = topics_.find(key_scratch_);
  return it == topics_.end() ? nullptr : it->second.get();
}

uint64_t History::Stamp(const wire::EnvelopeRoute& route) {
  const uint64_t sequence = next_sequence_++;
  stamped_sequence_ = sequence;
  stamped_ns_ = NamespaceFor(route.ns);
  stamped_topics_.clear();
  stamped_offsets_.clear();
  auto stamp = [&](std::string_view room) {
    Topic* topic = TopicFor(stamped_ns_, room);
    if (topic->stamp == sequence) return;  // the same room twice in one envelope
    topic->stamp = sequence;
    // A topic without entries (new, or forgotten and back) starts at the
    // sequence: above every offset it ever had in this epoch.
    if (topic->entries.empty() && topic->next_offset == 0) topic->next_offset = sequence;
    stamped_topics_.push_back(topic);
    stamped_offsets_.push_back({stamped_ns_->name, topic->room, topic->next_offset++});
  };
  if (route.rooms.empty()) {
    stamp("");
  } else {
    for (std::string_view room : route.rooms) stamp(room);
  }
  return sequence;
}

void History::Link(Entry* entry) {
  Namespace* ns = entry->ns;
  entry->prev = ns->tail;
  entry->next = nullptr;
  if (ns->tail != nullptr) {
    ns->tail->next = entry;
  } else {
    ns->head = entry;
  }
  ns->tail = entry;
  ++entries_;
  bytes_ += entry->bytes;
}

void History::AddToTopic(Entry* entry, Topic* topic, uint64_t offset) {
  if (topic->entries.empty()) topic->first_offset = offset;
  topic->entries.push_back(entry);
  entry->topics.push_back(topic);
  ++entry_slots_;
}

Entry* History::NewEntry() {
  if (spare_entries_.empty()) return new Entry;
  Entry* entry = spare_entries_.back().release();
  spare_entries_.pop_back();
  return entry;
}

void History::DeleteEntry(Entry* entry) {
  if (spare_entries_.size() >= kMaxSpareEntries) {
    delete entry;
    return;
  }
  *entry = Entry();  // drops the frame's reference
  spare_entries_.emplace_back(entry);
}

void History::Keep(const zmq::message_t& frame, int64_t time_us, uint64_t log_index) {
  Entry* entry = NewEntry();
  entry->sequence = stamped_sequence_;
  entry->time_us = time_us;
  entry->log_index = log_index;
  entry->ns = stamped_ns_;
  entry->frame.copy(const_cast<zmq::message_t&>(frame));
  entry->bytes = frame.size() + kEntryOverheadBytes + stamped_topics_.size() * kTopicSlotBytes;
  Pending& pending = pending_.emplace_back(Pending{entry, {}});
  for (size_t i = 0; i < stamped_topics_.size(); ++i) {
    ++stamped_topics_[i]->pending;
    pending.offsets.emplace_back(stamped_topics_[i], stamped_offsets_[i].offset);
  }
  stamped_topics_.clear();
  stamped_offsets_.clear();
}

void History::Commit() {
  for (const Pending& pending : pending_) {
    Entry* entry = pending.entry;
    Link(entry);
    for (const auto& [topic, offset] : pending.offsets) {
      --topic->pending;
      AddToTopic(entry, topic, offset);
    }
    EvictOverLimits(entry);
  }
  pending_.clear();
}

size_t History::Abandon() {
  if (pending_.empty()) return 0;
  const size_t dropped = pending_.size();
  next_sequence_ = pending_.front().entry->sequence;
  absl::InlinedVector<Topic*, wire::kInlineRooms> touched;
  // Newest first: each topic's next offset steps back to the oldest one
  // given out in the batch.
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    for (const auto& [topic, offset] : it->offsets) {
      topic->next_offset = offset;
      topic->stamp = 0;
      --topic->pending;
      touched.push_back(topic);
    }
    DeleteEntry(it->entry);
  }
  pending_.clear();
  // Topics the batch created hold nothing: forget them (each once).
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (Topic* topic : touched) {
    if (topic->entries.empty() && topic->pending == 0) ForgetTopic(topic);
  }
  return dropped;
}

void History::Restore(std::string_view ns_name, std::span<const wire::RoomOffset> offsets,
                      uint64_t sequence, const zmq::message_t& frame, int64_t time_us,
                      uint64_t log_index) {
  next_sequence_ = std::max(next_sequence_, sequence + 1);
  if (LimitsOf(ns_name).max_messages == 0 || offsets.empty()) return;
  Namespace* ns = NamespaceFor(ns_name);
  Entry* entry = NewEntry();
  entry->sequence = sequence;
  entry->time_us = time_us;
  entry->log_index = log_index;
  entry->ns = ns;
  entry->frame.copy(const_cast<zmq::message_t&>(frame));
  entry->bytes = frame.size() + kEntryOverheadBytes + offsets.size() * kTopicSlotBytes;
  Link(entry);
  for (const wire::RoomOffset& offset : offsets) {
    Topic* topic = TopicFor(ns, offset.room);
    if (topic->stamp == sequence) continue;
    if (!topic->entries.empty() && offset.offset != topic->next_offset) {
      // The topic restarted its offsets (it was forgotten, as the live
      // broker did): its older entries were gone before this one came.
      while (!topic->entries.empty() && topic->entries.size() > 1) PopFront(topic);
      PopFront(topic);  // forgets the topic
      topic = TopicFor(ns, offset.room);
    }
    topic->stamp = sequence;
    topic->next_offset = std::max(topic->next_offset, offset.offset + 1);
    AddToTopic(entry, topic, offset.offset);
  }
  if (entry->topics.empty()) {
    Release(entry);
    return;
  }
  EvictOverLimits(entry);
}

void History::EvictOverLimits(Entry* entry) {
  const uint32_t max_messages = entry->ns->limits.max_messages;
  // Copy: PopFront may release the entry's topics' other entries, never
  // this one (it is the newest of each of them unless max_messages is 0).
  const absl::InlinedVector<Topic*, 1> topics = entry->topics;
  for (Topic* topic : topics) {
    while (topic->entries.size() > max_messages) PopFront(topic);
  }
  while (bytes_ > options_.max_bytes && entries_ > 0) {
    // The broker-wide oldest: the oldest of the namespace heads.
    Entry* oldest = nullptr;
    for (const auto& [name, ns] : namespaces_) {
      if (ns->head != nullptr && (oldest == nullptr || ns->head->sequence < oldest->sequence)) {
        oldest = ns->head;
      }
    }
    if (oldest == nullptr) break;
    Evict(oldest);
  }
}

void History::PopFront(Topic* topic) {
  Entry* entry = topic->entries.front();
  topic->entries.pop_front();
  --entry_slots_;
  topic->evicted_offset = topic->first_offset;
  topic->evicted_sequence = entry->sequence;
  ++topic->first_offset;
  auto it = std::find(entry->topics.begin(), entry->topics.end(), topic);
  if (it != entry->topics.end()) entry->topics.erase(it);
  if (entry->topics.empty()) Release(entry);
  if (topic->entries.empty() && topic->pending == 0) ForgetTopic(topic);
}

void History::Evict(Entry* entry) {
  // The head of its namespace is at the front of every topic holding it
  // (the invariant); PopFront releases the entry with its last topic.
  for (bool last = false; !last;) {
    last = entry->topics.size() == 1;
    PopFront(entry->topics.back());
  }
}

void History::Release(Entry* entry) {
  Namespace* ns = entry->ns;
  if (entry->prev != nullptr) {
    entry->prev->next = entry->next;
  } else {
    ns->head = entry->next;
  }
  if (entry->next != nullptr) {
    entry->next->prev = entry->prev;
  } else {
    ns->tail = entry->prev;
  }
  --entries_;
  bytes_ -= entry->bytes;
  DeleteEntry(entry);
}

void History::ForgetTopic(Topic* topic) {
  Namespace* ns = topic->ns;
  ns->forgotten_sequence = std::max(ns->forgotten_sequence, topic->evicted_sequence);
  --ns->topics;
  topics_.erase(topic->key);  // deletes `topic`
}

void History::ExpireOld(int64_t now_us) {
  for (auto& [name, ns] : namespaces_) {
    const int64_t max_age_us =
        std::chrono::duration_cast<std::chrono::microseconds>(ns->limits.max_age).count();
    while (ns->head != nullptr && now_us - ns->head->time_us > max_age_us) Evict(ns->head);
  }
  // Namespaces that hold nothing are forgotten here (never on the publish
  // path, which holds a Namespace* between Stamp and Keep); what they knew
  // about gaps folds into one broker-wide number.
  for (auto it = namespaces_.begin(); it != namespaces_.end();) {
    const Namespace& ns = *it->second;
    if (ns.head == nullptr && ns.topics == 0) {
      forgotten_sequence_ = std::max(forgotten_sequence_, ns.forgotten_sequence);
      namespaces_.erase(it++);
    } else {
      ++it;
    }
  }
}

void History::CollectSince(std::string_view ns, std::string_view room, uint64_t after_sequence,
                           std::vector<const Entry*>& out) const {
  const Topic* topic = FindTopic(ns, room);
  if (topic == nullptr) return;
  auto first = std::upper_bound(
      topic->entries.begin(), topic->entries.end(), after_sequence,
      [](uint64_t sequence, const Entry* entry) { return sequence < entry->sequence; });
  out.insert(out.end(), first, topic->entries.end());
}

bool History::MissingSince(std::string_view ns, std::string_view room,
                           uint64_t after_sequence) const {
  if (LimitsOf(ns).max_messages == 0) return true;
  if (const Topic* topic = FindTopic(ns, room)) return topic->evicted_sequence > after_sequence;
  auto it = namespaces_.find(ToAbsl(ns));
  const uint64_t forgotten =
      it != namespaces_.end() ? it->second->forgotten_sequence : forgotten_sequence_;
  return forgotten > after_sequence;
}

uint64_t History::oldest_log_index() const {
  uint64_t oldest = 0;
  for (const auto& [name, ns] : namespaces_) {
    if (ns->head != nullptr && ns->head->log_index != 0 &&
        (oldest == 0 || ns->head->log_index < oldest)) {
      oldest = ns->head->log_index;
    }
  }
  return oldest;
}

std::pair<uint64_t, uint64_t> History::OffsetRange(std::string_view ns,
                                                   std::string_view room) const {
  const Topic* topic = FindTopic(ns, room);
  if (topic == nullptr || topic->entries.empty()) return {0, 0};  // or only pending ones
  return {topic->first_offset, topic->first_offset + topic->entries.size() - 1};
}

}  // namespace roomq::broker::history
