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

  // Two heartbeats between primary_ and backup_, each delivering one
  // broker's state to the other as the pair's sockets would: enough for a
  // pair started together to settle.
  void Settle() {
    for (int i = 0; i < 2; ++i) {
      primary_.OnPeerState(backup_.state());
      backup_.OnPeerState(primary_.state());
    }
  }

  base::FakeClock clock_;
  PairStateMachine primary_{Options(Role::kPrimary)};
  PairStateMachine backup_{Options(Role::kBackup)};
};

TEST_F(PairStateTest, APrimaryAndABackupStartingTogetherSettleAsActiveAndPassive) {
  EXPECT_EQ(primary_.state(), PairState::kStartingPrimary);
  EXPECT_EQ(backup_.state(), PairState::kStartingBackup);
  Settle();
  EXPECT_EQ(primary_.state(), PairState::kActive);
  EXPECT_EQ(backup_.state(), PairState::kPassive);
  EXPECT_TRUE(primary_.OnClientRequest().served);
  EXPECT_FALSE(backup_.OnClientRequest().served);
  EXPECT_EQ(backup_.counters().clients_refused, 1u);
  EXPECT_EQ(primary_.counters().conflicts + backup_.counters().conflicts, 0u);
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
  Settle();
  ASSERT_EQ(backup_.state(), PairState::kPassive);

  // The primary dies: no heartbeat from now on. Losing it is not enough.
  clock_.Advance(kPeerTimeout - milliseconds(1));
  EXPECT_FALSE(backup_.OnClientRequest().served);  // still within the timeout
  clock_.Advance(milliseconds(1));
  EXPECT_FALSE(backup_.PeerAlive());
  EXPECT_EQ(backup_.state(), PairState::kPassive);

  PairStateMachine::ClientVerdict verdict = backup_.OnClientRequest();
  EXPECT_TRUE(verdict.served);
  EXPECT_EQ(verdict.transition.from, PairState::kPassive);
  EXPECT_EQ(verdict.transition.to, PairState::kActive);
  EXPECT_EQ(backup_.counters().failovers, 1u);
}

TEST_F(PairStateTest, APartitionBetweenTheBrokersAloneLeavesTheBackupPassive) {
  Settle();
  // The brokers no longer hear each other, and every client still reaches
  // the primary: none comes to the backup, so it never becomes active.
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(kPeerTimeout);
    EXPECT_TRUE(primary_.OnClientRequest().served);
  }
  EXPECT_EQ(primary_.state(), PairState::kActive);
  EXPECT_EQ(backup_.state(), PairState::kPassive);
  EXPECT_FALSE(primary_.PeerAlive());
}

TEST_F(PairStateTest, TheOldPrimaryComesBackPassiveAndTheBackupStaysActive) {
  Settle();
  clock_.Advance(kPeerTimeout);
  ASSERT_TRUE(backup_.OnClientRequest().served);  // failover

  // The primary restarts: it must not serve while the active backup is there.
  PairStateMachine restarted(Options(Role::kPrimary));
  EXPECT_FALSE(restarted.OnClientRequest().served);
  restarted.OnPeerState(backup_.state());
  EXPECT_EQ(restarted.state(), PairState::kPassive);
  backup_.OnPeerState(restarted.state());
  EXPECT_EQ(backup_.state(), PairState::kActive);
  clock_.Advance(kPeerTimeout / 2);
  EXPECT_FALSE(restarted.OnClientRequest().served);
  EXPECT_TRUE(backup_.OnClientRequest().served);
}

TEST_F(PairStateTest, APassiveBrokerBecomesActiveWhenItsPeerRestarts) {
  Settle();
  clock_.Advance(kPeerTimeout);
  ASSERT_TRUE(backup_.OnClientRequest().served);
  // Now the primary is passive behind the active backup; the backup dies and restarts.
  PairStateMachine old_primary(Options(Role::kPrimary));
  old_primary.OnPeerState(PairState::kActive);
  ASSERT_EQ(old_primary.state(), PairState::kPassive);
  PairTransition transition = old_primary.OnPeerState(PairState::kStartingBackup);
  EXPECT_EQ(transition.to, PairState::kActive);
  EXPECT_EQ(transition.why, "the peer restarted");
}

TEST_F(PairStateTest, OfTwoActiveBrokersTheBackupYields) {
  Settle();
  // The brokers and the clients were split: each side had a client.
  clock_.Advance(kPeerTimeout);
  ASSERT_TRUE(backup_.OnClientRequest().served);
  ASSERT_EQ(primary_.state(), PairState::kActive);
  // The partition heals.
  primary_.OnPeerState(backup_.state());
  EXPECT_EQ(primary_.state(), PairState::kActive);
  backup_.OnPeerState(primary_.state());
  EXPECT_EQ(backup_.state(), PairState::kPassive);
  EXPECT_EQ(primary_.counters().conflicts, 1u);
  EXPECT_EQ(backup_.counters().conflicts, 1u);
}

TEST_F(PairStateTest, OfTwoPassiveBrokersThePrimaryServes) {
  PairStateMachine primary(Options(Role::kPrimary));
  primary.OnPeerState(PairState::kActive);
  ASSERT_EQ(primary.state(), PairState::kPassive);
  const PairTransition transition = primary.OnPeerState(PairState::kPassive);
  EXPECT_EQ(transition.to, PairState::kActive);
  EXPECT_TRUE(transition.conflict);
  EXPECT_FALSE(primary.OnPeerState(PairState::kPassive).conflict);  // now active: as it should be

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
  EXPECT_EQ(RoleName(Role::kPrimary), "primary");
  EXPECT_EQ(RoleName(Role::kBackup), "backup");
}

}  // namespace
}  // namespace roomq::broker::failover
