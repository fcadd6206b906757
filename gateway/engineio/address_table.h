#ifndef ROOMQ_GATEWAY_ENGINEIO_ADDRESS_TABLE_H_
#define ROOMQ_GATEWAY_ENGINEIO_ADDRESS_TABLE_H_

// AddressTable: what the gateway holds per client address group
// (client_address.h AddressKey), so that a hostile client hurts only
// itself: its handshakes per second (a token bucket), its Engine.IO sessions
// open, and, for the Socket.IO layer, the room memberships its sockets hold
// (the broker caps the topics of a whole gateway, so one address must not
// take them all).
//
// An admitted handshake gets an AddressLease: the session holds it (in its
// HandshakeInfo) for its whole life, so the address's session count is the
// number of leases alive, and the entry lives at least as long as they do.
// A lease shares ownership of the table, so a session destroyed late (with
// the io_contexts, after the Engine) still finds it.
//
// Sharding: one table for all io shards, behind one mutex. Connections are
// accepted onto the shards round-robin, so one address's handshakes and
// sessions are spread over every shard: per-shard tables would each see a
// fraction of them (letting an address have N times its limit), and a split
// of each limit into per-shard shares would refuse a client whose sessions
// happen to pile up on one shard. The mutex is taken once per handshake and
// once per session end, never per message or delivery. The room count,
// which changes on every join and leave, is an atomic in the entry that the
// Socket.IO layer reaches through its session's lease: no lookup, no lock.
//
// Bound: an entry exists while its address has a session or its bucket is
// not full. When the last session ends, a full bucket frees the entry at
// once; otherwise it joins a FIFO of idle entries and is freed when it is at
// the front and its bucket is full, which is at most burst / rate seconds
// (4 s by default) after it went idle (checked on every handshake and
// session end). At most kMaxIdleEntries idle entries are kept; past that the
// oldest is freed early, which gives its address a full bucket back: only a
// client holding more than that many addresses (or /64s) within burst /
// rate seconds gets there. So the table holds at most one entry per address
// with a session (no more than the sessions open, --max-connections) plus
// kMaxIdleEntries, each about kBytesPerEntry bytes.
//
// Refusals are counted in stats(); the table does not log.
//
// Thread safety: every method may be called from any thread. A lease is
// used and destroyed on its session's thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "gateway/engineio/client_address.h"
#include "proto/base/clock.h"
#include "proto/base/token_bucket.h"

namespace roomq::gateway::engineio {

struct AddressLimits {
  // Handshakes (new Engine.IO sessions, both transports) per second per
  // address, a token bucket of `handshake_burst` that starts full. Over it:
  // HTTP 429. A rate <= 0: no limit. Defaults 50/s, burst 200.
  double handshake_rate = 50;
  double handshake_burst = 200;
  // Engine.IO sessions one address may hold at once; over it: HTTP 503.
  // 0: no limit. Default 5000 (generous: many users may share one NAT).
  size_t max_sessions = 5000;
  // Room memberships the sockets of one address may hold at once, enforced
  // by the Socket.IO layer through AddressLease::TryAddRooms. 0: no limit.
  // Default 100000 (a tenth of the broker's default per-gateway topic cap).
  uint64_t max_rooms = 100000;
};

class AddressTable;

// One session's hold on its address's entry (see above). Move-only; an
// empty lease (default-constructed, or from a table with every limit off)
// counts nothing and admits every room.
class AddressLease {
 public:
  AddressLease() = default;
  AddressLease(AddressLease&& other) noexcept;
  AddressLease& operator=(AddressLease&& other) noexcept;
  ~AddressLease();

  explicit operator bool() const { return entry_ != nullptr; }
  // The address group, for logs ("" when empty).
  std::string address() const;

  // Room memberships of the address's sockets (the Socket.IO layer counts
  // them; the lease only holds the number). TryAddRooms adds `n` unless
  // that would take the address past AddressLimits::max_rooms (false:
  // nothing added). AddRooms adds past the bound too (memberships a trusted
  // service asked for). Lock-free; const because the count belongs to the
  // address, not to this lease.
  bool TryAddRooms(uint64_t n) const;
  void AddRooms(uint64_t n) const;
  void RemoveRooms(uint64_t n) const;
  uint64_t rooms() const;

 private:
  friend class AddressTable;
  struct Entry;
  AddressLease(std::shared_ptr<AddressTable> table, Entry* entry)
      : table_(std::move(table)), entry_(entry) {}
  void Release();

  std::shared_ptr<AddressTable> table_;
  Entry* entry_ = nullptr;
};

class AddressTable : public std::enable_shared_from_this<AddressTable> {
 public:
  // Idle entries kept at most (see above).
  static constexpr size_t kMaxIdleEntries = 65536;
  // The most one entry costs: its allocation (rounded up by malloc) plus
  // its hash-table slot at the table's lowest load (checked by the tests
  // against sizeof).
  static constexpr size_t kBytesPerEntry = 160;

  enum class Outcome {
    kAdmitted,
    kOverRate,      // handshake_rate: answer 429
    kOverSessions,  // max_sessions: answer 503
  };
  struct Admission {
    Outcome outcome = Outcome::kAdmitted;
    AddressLease lease;              // when admitted
    double retry_after_seconds = 0;  // kOverRate: until the next token
    uint64_t refused = 0;            // refusals of this kind so far, this one included
  };
  struct Stats {
    uint64_t refused_handshake_rate = 0;
    uint64_t refused_sessions = 0;
    size_t entries = 0;
    size_t idle_entries = 0;
  };

  // Held by shared_ptr (leases share it). `clock` (bucket refills) must
  // outlive the table.
  static std::shared_ptr<AddressTable> Create(AddressLimits limits, const base::Clock& clock);
  ~AddressTable();
  AddressTable(const AddressTable&) = delete;
  AddressTable& operator=(const AddressTable&) = delete;

  const AddressLimits& limits() const { return limits_; }

  // A handshake from `key`: checks its sessions, then takes a token.
  // Admitted: the lease counts the new session until destroyed. Refused:
  // nothing is held (a refusal never creates an entry).
  Admission Admit(const AddressKey& key);

  Stats stats() const;

 private:
  friend class AddressLease;
  using Entry = AddressLease::Entry;

  AddressTable(AddressLimits limits, const base::Clock& clock);

  void Release(Entry* entry);
  // Frees idle entries from the front of the FIFO while their bucket is
  // full, then the oldest past kMaxIdleEntries.
  void PruneIdle(base::Clock::TimePoint now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void PushIdle(Entry* entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void UnlinkIdle(Entry* entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Erase(Entry* entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const AddressLimits limits_;
  const base::Clock& clock_;
  // With every limit off nothing is tracked: leases are empty.
  const bool enabled_;
  mutable absl::Mutex mutex_;
  absl::flat_hash_map<AddressKey, std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mutex_);
  // The idle FIFO, oldest first, linked through the entries.
  Entry* idle_head_ ABSL_GUARDED_BY(mutex_) = nullptr;
  Entry* idle_tail_ ABSL_GUARDED_BY(mutex_) = nullptr;
  size_t idle_count_ ABSL_GUARDED_BY(mutex_) = 0;
  std::atomic<uint64_t> refused_rate_{0};
  std::atomic<uint64_t> refused_sessions_{0};
};

// The entry of one address group. `rooms` is read and written without the
// table's mutex (atomics); everything else only under it.
struct AddressLease::Entry {
  AddressKey key;
  uint32_t sessions = 0;  // leases alive
  bool idle = false;      // in the idle FIFO
  base::TokenBucket handshakes;
  std::atomic<uint64_t> rooms{0};
  Entry* idle_prev = nullptr;
  Entry* idle_next = nullptr;
};

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_ADDRESS_TABLE_H_
