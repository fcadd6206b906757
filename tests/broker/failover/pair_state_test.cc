#include "broker/failover/pair_state.h"

#include <gtest/gtest.h>

#include <chrono>

namespace roomq::broker::failover {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kPeerTimeout{2000};

class PairStateTest : public ::testing::Test {
 protected:
  PairOptions Options(Role role) const {
    return PairOptions{.role = role, .peer_timeout = kPeerTimeout, .clock = &clock_};
  }

  base::FakeClock clock_;
};

// Two machines wired to each other: each heartbeat delivers one broker's
// state to the other, as the pair's sockets would.
struct Pair {
  PairStateMachine& primary;
  PairStateMachine& backup;
  void Heartbeat() {
    primary.OnPeerState(backup.state());
    backup.OnPeerState(primary.state());
  }
};

TEST_F(PairStateTest, APrimaryAndABackupStartingTogetherSettleAsActiveAndPassive) {
  PairStateMachine primary(Options(Role::kPrimary));
  PairStateMachine backup(Options(Role::kBackup));
  EXPECT_EQ(primary.state(), PairState::kStartingPrimary);
  EXPECT_EQ(backup.state(), PairState::kStartingBackup);
  Pair pair{primary, backup};
  pair.Heartbeat();
  pair.Heartbeat();
  EXPECT_EQ(primary.state(), PairState::kActive);
  EXPECT_EQ(backup.state(), PairState::kPassive);
  EXPECT_TRUE(primary.OnClientRequest().served);
  EXPECT_FALSE(backup.OnClientRequest().served);
  EXPECT_EQ(backup.counters().clients_refused, 1u);
  EXPECT_EQ(primary.counters().conflicts + backup.counters().conflicts, 0u);
}

TEST_F(PairStateTest, ABackupStartedAloneServesNoClientHoweverLongItWaits) {
  PairStateMachine backup(Options(Role::kBackup));
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(kPeerTimeout);
    EXPECT_FALSE(backup.OnClientRequest().served);
  }
  EXPECT_EQ(backup.state(), PairState::kStartingBackup);
  EXPECT_EQ(backup.counters().clients_refused, 10u);
}

TEST_F(PairStateTest, APrimaryStartedAloneServesOnlyOnceThePeerTimeoutHasPassed) {
  PairStateMachine primary(Options(Role::kPrimary));
  EXPECT_FALSE(primary.OnClientRequest().served);
  clock_.Advance(kPeerTimeout - milliseconds(1));
  EXPECT_FALSE(primary.OnClientRequest().served);
  clock_.Advance(milliseconds(1));
  PairStateMachine::ClientVerdict verdict = primary.OnClientRequest();
  EXPECT_TRUE(verdict.served);
  EXPECT_TRUE(verdict.transition.changed());
  EXPECT_EQ(primary.state(), PairState::kActive);
  EXPECT_EQ(primary.counters().failovers, 0u);  // not a failover: nobody was active
}

TEST_F(PairStateTest, ThePassiveBackupTakesOverOnlyWhenTheActiveIsLostAndAClientComes) {
  PairStateMachine primary(Options(Role::kPrimary));
  PairStateMachine backup(Options(Role::kBackup));
  Pair pair{primary, backup};
  pair.Heartbeat();
  pair.Heartbeat();
  ASSERT_EQ(backup.state(), PairState::kPassive);

  // The primary dies: no heartbeat from now on. Losing it is not enough.
  clock_.Advance(kPeerTimeout - milliseconds(1));
  EXPECT_FALSE(backup.OnClientRequest().served);  // still within the timeout
  clock_.Advance(milliseconds(1));
  EXPECT_FALSE(backup.PeerAlive());
  EXPECT_EQ(backup.state(), PairState::kPassive);

  PairStateMachine::ClientVerdict verdict = backup.OnClientRequest();
  EXPECT_TRUE(verdict.served);
  EXPECT_EQ(verdict.transition.from, PairState::kPassive);
  EXPECT_EQ(verdict.transition.to, PairState::kActive);
  EXPECT_EQ(backup.counters().failovers, 1u);
}

TEST_F(PairStateTest, APartitionBetweenTheBrokersAloneLeavesTheBackupPassive) {
  PairStateMachine primary(Options(Role::kPrimary));
  PairStateMachine backup(Options(Role::kBackup));
  Pair pair{primary, backup};
  pair.Heartbeat();
  pair.Heartbeat();
  // The brokers no longer hear each other, and every client still reaches
  // the primary: none comes to the backup, so it never becomes active.
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(kPeerTimeout);
    EXPECT_TRUE(primary.OnClientRequest().served);
  }
  EXPECT_EQ(primary.state(), PairState::kActive);
  EXPECT_EQ(backup.state(), PairState::kPassive);
  EXPECT_FALSE(primary.PeerAlive());
}

TEST_F(PairStateTest, TheOldPrimaryComesBackPassiveAndTheBackupStaysActive) {
  PairStateMachine primary(Options(Role::kPrimary));
  PairStateMachine backup(Options(Role::kBackup));
  Pair pair{primary, backup};
  pair.Heartbeat();
  pair.Heartbeat();
  clock_.Advance(kPeerTimeout);
  ASSERT_TRUE(backup.OnClientRequest().served);  // failover

  // The primary restarts: it must not serve while the active backup is there.
  PairStateMachine restarted(Options(Role::kPrimary));
  EXPECT_FALSE(restarted.OnClientRequest().served);
  restarted.OnPeerState(backup.state());
  EXPECT_EQ(restarted.state(), PairState::kPassive);
  backup.OnPeerState(restarted.state());
  EXPECT_EQ(backup.state(), PairState::kActive);
  clock_.Advance(kPeerTimeout / 2);
  EXPECT_FALSE(restarted.OnClientRequest().served);
  EXPECT_TRUE(backup.OnClientRequest().served);
}

TEST_F(PairStateTest, APassiveBrokerBecomesActiveWhenItsPeerRestarts) {
  PairStateMachine primary(Options(Role::kPrimary));
  PairStateMachine backup(Options(Role::kBackup));
  Pair pair{primary, backup};
  pair.Heartbeat();
  pair.Heartbeat();
  clock_.Advance(kPeerTimeout);
  ASSERT_TRUE(backup.OnClientRequest().served);
  // Now the primary is passive behind the active backup; the backup dies and restarts.
  PairStateMachine old_primary(Options(Role::kPrimary));
  old_primary.OnPeerState(PairState::kActive);
  ASSERT_EQ(old_primary.state(), PairState::kPassive);
  PairTransition transition = old_primary.OnPeerState(PairState::kStartingBackup);
  EXPECT_EQ(transition.to, PairState::kActive);
  EXPECT_EQ(transition.why, "the peer restarted");
}

TEST_F(PairStateTest, OfTwoActiveBrokersTheBackupYields) {
  PairStateMachine primary(Options(Role::kPrimary));
  PairStateMachine backup(Options(Role::kBackup));
  Pair pair{primary, backup};
  pair.Heartbeat();
  pair.Heartbeat();
  // The brokers and the clients were split: each side had a client.
  clock_.Advance(kPeerTimeout);
  ASSERT_TRUE(backup.OnClientRequest().served);
  ASSERT_EQ(primary.state(), PairState::kActive);
  // The partition heals.
  primary.OnPeerState(backup.state());
  EXPECT_EQ(primary.state(), PairState::kActive);
  backup.OnPeerState(primary.state());
  EXPECT_EQ(backup.state(), PairState::kPassive);
  EXPECT_EQ(primary.counters().conflicts, 1u);
  EXPECT_EQ(backup.counters().conflicts, 1u);
}

TEST_F(PairStateTest, OfTwoPassiveBrokersThePrimaryServes) {
  PairStateMachine primary(Options(Role::kPrimary));
  primary.OnPeerState(PairState::kActive);
  ASSERT_EQ(primary.state(), PairState::kPassive);
  EXPECT_EQ(primary.OnPeerState(PairState::kPassive).to, PairState::kActive);

  PairStateMachine backup(Options(Role::kBackup));
  backup.OnPeerState(PairState::kActive);
  ASSERT_EQ(backup.state(), PairState::kPassive);
  EXPECT_EQ(backup.OnPeerState(PairState::kPassive).to, PairState::kPassive);
  EXPECT_EQ(primary.counters().conflicts, 1u);
  EXPECT_EQ(backup.counters().conflicts, 1u);
}

TEST_F(PairStateTest, TwoBrokersOfOneRoleAreAConflictAndNeitherServesBeforeTheTimeout) {
  PairStateMachine one(Options(Role::kPrimary));
  PairStateMachine other(Options(Role::kPrimary));
  one.OnPeerState(other.state());
  other.OnPeerState(one.state());
  EXPECT_EQ(one.state(), PairState::kStartingPrimary);
  EXPECT_EQ(one.counters().conflicts, 1u);
  EXPECT_FALSE(one.OnClientRequest().served);
  // Still heard, still the same role: still refused after the timeout.
  clock_.Advance(kPeerTimeout);
  one.OnPeerState(other.state());
  EXPECT_FALSE(one.OnClientRequest().served);
}

TEST_F(PairStateTest, ARestartedPrimaryThatHearsAWaitingPassivePeerWaitsForItToGoActive) {
  PairStateMachine restarted(Options(Role::kPrimary));
  EXPECT_EQ(restarted.OnPeerState(PairState::kPassive).to, PairState::kStartingPrimary);
  EXPECT_FALSE(restarted.OnClientRequest().served);
  EXPECT_EQ(restarted.OnPeerState(PairState::kActive).to, PairState::kPassive);
}

TEST_F(PairStateTest, NamesAreTheLogsWords) {
  EXPECT_EQ(PairStateName(PairState::kStartingPrimary), "starting-primary");
  EXPECT_EQ(PairStateName(PairState::kStartingBackup), "starting-backup");
  EXPECT_EQ(PairStateName(PairState::kActive), "active");
  EXPECT_EQ(PairStateName(PairState::kPassive), "passive");
}

}  // namespace
}  // namespace roomq::broker::failover
