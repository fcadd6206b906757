#include "gateway/engineio/address_table.h"

#include <utility>

namespace roomq::gateway::engineio {

AddressLease::AddressLease(AddressLease&& other) noexcept
    : table_(std::move(other.table_)), entry_(std::exchange(other.entry_, nullptr)) {}

AddressLease& AddressLease::operator=(AddressLease&& other) noexcept {
  if (this != &other) {
    Release();
    table_ = std::move(other.table_);
    entry_ = std::exchange(other.entry_, nullptr);
  }
  return *this;
}

AddressLease::~AddressLease() { Release(); }

void AddressLease::Release() {
  if (entry_ != nullptr) table_->Release(std::exchange(entry_, nullptr));
  table_.reset();
}

std::string AddressLease::address() const {
  return entry_ == nullptr ? std::string() : entry_->key.ToString();
}

bool AddressLease::TryAddRooms(uint64_t n) const {
  if (entry_ == nullptr) return true;
  const uint64_t max = table_->limits_.max_rooms;
  if (max == 0) {
    entry_->rooms.fetch_add(n, std::memory_order_relaxed);
    return true;
  }
  // Exact across shards: the check and the add are one step.
  uint64_t held = entry_->rooms.load(std::memory_order_relaxed);
  do {
    if (held + n > max) return false;
  } while (!entry_->rooms.compare_exchange_weak(held, held + n, std::memory_order_relaxed));
  return true;
}

void AddressLease::AddRooms(uint64_t n) const {
  if (entry_ != nullptr) entry_->rooms.fetch_add(n, std::memory_order_relaxed);
}

void AddressLease::RemoveRooms(uint64_t n) const {
  if (entry_ != nullptr) entry_->rooms.fetch_sub(n, std::memory_order_relaxed);
}

uint64_t AddressLease::rooms() const {
  return entry_ == nullptr ? 0 : entry_->rooms.load(std::memory_order_relaxed);
}

std::shared_ptr<AddressTable> AddressTable::Create(AddressLimits limits, const base::Clock& clock) {
  return std::shared_ptr<AddressTable>(new AddressTable(limits, clock));
}

AddressTable::AddressTable(AddressLimits limits, const base::Clock& clock)
    : limits_(limits),
      clock_(clock),
      enabled_(limits.handshake_rate > 0 || limits.max_sessions > 0 || limits.max_rooms > 0) {
  // kBytesPerEntry holds: the entry's allocation (malloc adds 8 bytes and
  // rounds to 16) plus one slot of the hash map at its lowest load after a
  // growth (7/16 full), control byte included.
  constexpr size_t kAllocation = (sizeof(Entry) + 8 + 15) / 16 * 16;
  constexpr size_t kSlot = sizeof(std::pair<const AddressKey, std::unique_ptr<Entry>>) + 1;
  static_assert(kAllocation + (kSlot * 16 + 6) / 7 <= kBytesPerEntry,
                "update kBytesPerEntry and the README's per-address table bound");
}

AddressTable::~AddressTable() = default;

AddressTable::Admission AddressTable::Admit(const AddressKey& key) {
  Admission admission;
  if (!enabled_) return admission;
  const base::Clock::TimePoint now = clock_.Now();
  absl::MutexLock lock(&mutex_);
  PruneIdle(now);
  auto it = entries_.find(key);
  Entry* entry = it == entries_.end() ? nullptr : it->second.get();
  if (entry != nullptr && limits_.max_sessions > 0 && entry->sessions >= limits_.max_sessions) {
    admission.refused = refused_sessions_.fetch_add(1, std::memory_order_relaxed) + 1;
    admission.outcome = Outcome::kOverSessions;
    return admission;
  }
  if (entry != nullptr &&
      !entry->handshakes.Take(now, limits_.handshake_rate, limits_.handshake_burst)) {
    admission.refused = refused_rate_.fetch_add(1, std::memory_order_relaxed) + 1;
    admission.outcome = Outcome::kOverRate;
    admission.retry_after_seconds =
        entry->handshakes.SecondsUntilToken(now, limits_.handshake_rate, limits_.handshake_burst);
    return admission;
  }
  if (entry == nullptr) {
    auto owned = std::make_unique<Entry>();
    entry = owned.get();
    entry->key = key;
    entry->handshakes = base::TokenBucket::Full(limits_.handshake_burst, now);
    entry->handshakes.Take(now, limits_.handshake_rate, limits_.handshake_burst);
    entries_.emplace(key, std::move(owned));
  }
  if (entry->idle) UnlinkIdle(entry);
  ++entry->sessions;
  admission.lease = AddressLease(shared_from_this(), entry);
  return admission;
}

void AddressTable::Release(Entry* entry) {
  const base::Clock::TimePoint now = clock_.Now();
  absl::MutexLock lock(&mutex_);
  if (--entry->sessions == 0) {
    if (entry->handshakes.IsFull(now, limits_.handshake_rate, limits_.handshake_burst)) {
      Erase(entry);
    } else {
      PushIdle(entry);
    }
  }
  PruneIdle(now);
}

void AddressTable::PruneIdle(base::Clock::TimePoint now) {
  while (idle_head_ != nullptr &&
         (idle_count_ > kMaxIdleEntries ||
          idle_head_->handshakes.IsFull(now, limits_.handshake_rate, limits_.handshake_burst))) {
    Entry* entry = idle_head_;
    UnlinkIdle(entry);
    Erase(entry);
  }
}

void AddressTable::PushIdle(Entry* entry) {
  entry->idle = true;
  entry->idle_prev = idle_tail_;
  entry->idle_next = nullptr;
  if (idle_tail_ != nullptr) {
    idle_tail_->idle_next = entry;
  } else {
    idle_head_ = entry;
  }
  idle_tail_ = entry;
  ++idle_count_;
}

void AddressTable::UnlinkIdle(Entry* entry) {
  if (entry->idle_prev != nullptr) {
    entry->idle_prev->idle_next = entry->idle_next;
  } else {
    idle_head_ = entry->idle_next;
  }
  if (entry->idle_next != nullptr) {
    entry->idle_next->idle_prev = entry->idle_prev;
  } else {
    idle_tail_ = entry->idle_prev;
  }
  entry->idle_prev = entry->idle_next = nullptr;
  entry->idle = false;
  --idle_count_;
}

void AddressTable::Erase(Entry* entry) {
  // Copied: the key lives in the entry being freed.
  const AddressKey key = entry->key;
  entries_.erase(key);
}

AddressTable::Stats AddressTable::stats() const {
  Stats stats;
  stats.refused_handshake_rate = refused_rate_.load(std::memory_order_relaxed);
  stats.refused_sessions = refused_sessions_.load(std::memory_order_relaxed);
  absl::MutexLock lock(&mutex_);
  stats.entries = entries_.size();
  stats.idle_entries = idle_count_;
  return stats;
}

}  // namespace roomq::gateway::engineio
