// AddressTable: each address's handshake bucket (on a FakeClock), its
// session count, the room count the Socket.IO layer keeps through the
// lease, and the bound on the table itself (entries freed once an address
// has no session and a full bucket; at most kMaxIdleEntries idle ones).

#include "gateway/engineio/address_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "proto/base/clock.h"

namespace roomq::gateway::engineio {
namespace {

using Outcome = AddressTable::Outcome;

AddressKey Key(const std::string& ip) { return AddressKey::Of(boost::asio::ip::make_address(ip)); }

AddressKey Nth(uint32_t n) {
  return AddressKey::Of(boost::asio::ip::address_v4(0x0a000000u + n));  // 10.x.y.z
}

class AddressTableTest : public ::testing::Test {
 protected:
  std::shared_ptr<AddressTable> Make(AddressLimits limits) {
    return AddressTable::Create(limits, clock_);
  }
  base::FakeClock clock_;
};

TEST_F(AddressTableTest, HandshakesPastTheBurstAreRefusedUntilTheBucketRefills) {
  AddressLimits limits;
  limits.handshake_rate = 10;
  limits.handshake_burst = 3;
  auto table = Make(limits);
  std::vector<AddressLease> leases;
  for (int i = 0; i < 3; ++i) {
    AddressTable::Admission admission = table->Admit(Key("192.0.2.1"));
    ASSERT_EQ(admission.outcome, Outcome::kAdmitted) << i;
    leases.push_back(std::move(admission.lease));
  }
  AddressTable::Admission refused = table->Admit(Key("192.0.2.1"));
  EXPECT_EQ(refused.outcome, Outcome::kOverRate);
  EXPECT_FALSE(refused.lease);
  EXPECT_DOUBLE_EQ(refused.retry_after_seconds, 0.1);
  EXPECT_EQ(refused.refused, 1u);
  // Another address has a bucket of its own.
  EXPECT_EQ(table->Admit(Key("192.0.2.2")).outcome, Outcome::kAdmitted);
  // 0.09 s: 0.9 of a token; 0.11 s: one.
  clock_.Advance(std::chrono::milliseconds(90));
  EXPECT_EQ(table->Admit(Key("192.0.2.1")).outcome, Outcome::kOverRate);
  clock_.Advance(std::chrono::milliseconds(20));
  EXPECT_EQ(table->Admit(Key("192.0.2.1")).outcome, Outcome::kAdmitted);
  EXPECT_EQ(table->stats().refused_handshake_rate, 2u);
  EXPECT_EQ(table->stats().refused_sessions, 0u);
}

TEST_F(AddressTableTest, AnIPv6Slash64SharesOneBucket) {
  AddressLimits limits;
  limits.handshake_rate = 1;
  limits.handshake_burst = 2;
  auto table = Make(limits);
  EXPECT_EQ(table->Admit(Key("2001:db8:1:2::1")).outcome, Outcome::kAdmitted);
  EXPECT_EQ(table->Admit(Key("2001:db8:1:2::ffff")).outcome, Outcome::kAdmitted);
  EXPECT_EQ(table->Admit(Key("2001:db8:1:2:abcd::7")).outcome, Outcome::kOverRate);
  EXPECT_EQ(table->Admit(Key("2001:db8:1:3::1")).outcome, Outcome::kAdmitted) << "another /64";
}

TEST_F(AddressTableTest, SessionsPastTheBoundAreRefusedUntilOneEnds) {
  AddressLimits limits;
  limits.handshake_rate = 0;  // sessions only
  limits.max_sessions = 2;
  auto table = Make(limits);
  AddressLease a = table->Admit(Key("192.0.2.1")).lease;
  AddressLease b = table->Admit(Key("192.0.2.1")).lease;
  ASSERT_TRUE(a && b);
  EXPECT_EQ(table->Admit(Key("192.0.2.1")).outcome, Outcome::kOverSessions);
  EXPECT_EQ(table->Admit(Key("192.0.2.9")).outcome, Outcome::kAdmitted);
  a = AddressLease();  // one session ends
  AddressTable::Admission again = table->Admit(Key("192.0.2.1"));
  EXPECT_EQ(again.outcome, Outcome::kAdmitted);
  EXPECT_EQ(table->stats().refused_sessions, 1u);
}

TEST_F(AddressTableTest, AnAddressAtItsSessionBoundKeepsItsTokens) {
  AddressLimits limits;
  limits.handshake_rate = 0.001;
  limits.handshake_burst = 2;
  limits.max_sessions = 1;
  auto table = Make(limits);
  AddressLease held = table->Admit(Key("192.0.2.1")).lease;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(table->Admit(Key("192.0.2.1")).outcome, Outcome::kOverSessions);
  }
  held = AddressLease();
  EXPECT_EQ(table->Admit(Key("192.0.2.1")).outcome, Outcome::kAdmitted)
      << "the refusals at the session bound took no token";
}

TEST_F(AddressTableTest, AnEntryIsFreedOnceItsAddressHasNoSessionAndAFullBucket) {
  AddressLimits limits;
  limits.handshake_rate = 10;
  limits.handshake_burst = 2;
  auto table = Make(limits);
  {
    AddressLease lease = table->Admit(Key("192.0.2.1")).lease;
    EXPECT_EQ(table->stats().entries, 1u);
    EXPECT_EQ(table->stats().idle_entries, 0u);
  }
  // The session ended with a token missing: kept, idle, to remember that.
  EXPECT_EQ(table->stats().entries, 1u);
  EXPECT_EQ(table->stats().idle_entries, 1u);
  // A refused handshake creates nothing.
  limits.max_sessions = 1;
  auto strict = Make(limits);
  AddressLease only = strict->Admit(Key("192.0.2.7")).lease;
  EXPECT_EQ(strict->Admit(Key("192.0.2.7")).outcome, Outcome::kOverSessions);
  EXPECT_EQ(strict->stats().entries, 1u);
  // 0.1 s later the bucket is full: the next admission frees the entry.
  clock_.Advance(std::chrono::milliseconds(100));
  AddressLease other = table->Admit(Key("192.0.2.2")).lease;
  EXPECT_EQ(table->stats().entries, 1u) << "192.0.2.1 freed, 192.0.2.2 added";
  EXPECT_EQ(table->stats().idle_entries, 0u);
  // A session ending with a full bucket frees its entry at once.
  clock_.Advance(std::chrono::milliseconds(100));
  other = AddressLease();
  EXPECT_EQ(table->stats().entries, 0u);
  EXPECT_EQ(table->stats().idle_entries, 0u);
}

TEST_F(AddressTableTest, AnIdleEntryThatIsAdmittedAgainKeepsItsBucket) {
  AddressLimits limits;
  limits.handshake_rate = 0.001;
  limits.handshake_burst = 2;
  auto table = Make(limits);
  table->Admit(Key("192.0.2.1"));  // admitted, lease dropped at once: idle
  EXPECT_EQ(table->stats().idle_entries, 1u);
  AddressLease lease = table->Admit(Key("192.0.2.1")).lease;
  ASSERT_TRUE(lease);
  EXPECT_EQ(table->stats().idle_entries, 0u);
  EXPECT_EQ(table->Admit(Key("192.0.2.1")).outcome, Outcome::kOverRate)
      << "going idle did not refill the bucket";
}

TEST_F(AddressTableTest, IdleEntriesAreBounded) {
  AddressLimits limits;
  limits.handshake_rate = 0.001;  // buckets stay depleted: nothing frees itself
  limits.handshake_burst = 1;
  auto table = Make(limits);
  const uint32_t addresses = AddressTable::kMaxIdleEntries + 100;
  for (uint32_t i = 0; i < addresses; ++i) {
    ASSERT_EQ(table->Admit(Nth(i)).outcome, Outcome::kAdmitted);  // and ended at once
  }
  EXPECT_EQ(table->stats().idle_entries, AddressTable::kMaxIdleEntries);
  EXPECT_EQ(table->stats().entries, AddressTable::kMaxIdleEntries);
  // The oldest went first: address 0 has a full bucket again, the newest not.
  EXPECT_EQ(table->Admit(Nth(0)).outcome, Outcome::kAdmitted);
  EXPECT_EQ(table->Admit(Nth(addresses - 1)).outcome, Outcome::kOverRate);
}

TEST_F(AddressTableTest, RoomsAreBoundedPerAddressAcrossLeases) {
  AddressLimits limits;
  limits.max_rooms = 5;
  auto table = Make(limits);
  AddressLease a = table->Admit(Key("192.0.2.1")).lease;
  AddressLease b = table->Admit(Key("192.0.2.1")).lease;
  AddressLease other = table->Admit(Key("192.0.2.2")).lease;
  EXPECT_TRUE(a.TryAddRooms(2));
  EXPECT_TRUE(b.TryAddRooms(3));
  EXPECT_FALSE(a.TryAddRooms(1));
  EXPECT_FALSE(b.TryAddRooms(1));
  EXPECT_EQ(a.rooms(), 5u);
  EXPECT_TRUE(other.TryAddRooms(5)) << "another address has its own count";
  a.AddRooms(1);  // a service's join: past the bound too
  EXPECT_EQ(b.rooms(), 6u);
  a.RemoveRooms(2);
  EXPECT_TRUE(b.TryAddRooms(1));
  EXPECT_EQ(b.rooms(), 5u);
  // An empty lease (no limits) counts nothing and refuses nothing.
  AddressLease empty;
  EXPECT_TRUE(empty.TryAddRooms(1000));
  EXPECT_EQ(empty.rooms(), 0u);
}

TEST_F(AddressTableTest, TheRoomBoundIsExactAcrossThreads) {
  AddressLimits limits;
  limits.max_rooms = 1000;
  auto table = Make(limits);
  std::vector<AddressLease> leases;
  leases.reserve(4);
  for (int i = 0; i < 4; ++i) leases.push_back(table->Admit(Key("192.0.2.1")).lease);
  std::atomic<uint64_t> added{0};
  std::vector<std::thread> threads;
  threads.reserve(leases.size());
  for (const AddressLease& lease : leases) {
    threads.emplace_back([&lease, &added] {
      for (int i = 0; i < 1000; ++i) {
        if (lease.TryAddRooms(1)) added.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(added.load(), 1000u);
  EXPECT_EQ(leases[0].rooms(), 1000u);
}

TEST_F(AddressTableTest, ALeaseOutlivesTheTablesOwner) {
  AddressLimits limits;
  auto table = Make(limits);
  AddressLease lease = table->Admit(Key("192.0.2.1")).lease;
  table.reset();  // as when an Engine goes before a session its io_context still holds
  EXPECT_TRUE(lease.TryAddRooms(1));
  EXPECT_EQ(lease.address(), "192.0.2.1");
  lease = AddressLease();  // releases into the table it kept alive
}

TEST_F(AddressTableTest, WithEveryLimitOffNothingIsTracked) {
  AddressLimits limits;
  limits.handshake_rate = 0;
  limits.max_sessions = 0;
  limits.max_rooms = 0;
  auto table = Make(limits);
  for (int i = 0; i < 100; ++i) {
    AddressTable::Admission admission = table->Admit(Key("192.0.2.1"));
    EXPECT_EQ(admission.outcome, Outcome::kAdmitted);
    EXPECT_FALSE(admission.lease);
  }
  EXPECT_EQ(table->stats().entries, 0u);
}

}  // namespace
}  // namespace roomq::gateway::engineio
