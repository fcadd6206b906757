#include "broker/failover/pair_state.h"

namespace roomq::broker::failover {

std::string_view RoleName(Role role) { return role == Role::kPrimary ? "primary" : "backup"; }

std::string_view PairStateName(PairState state) {
  switch (state) {
    case PairState::kStartingPrimary:
      return "starting-primary";
    case PairState::kStartingBackup:
      return "starting-backup";
    case PairState::kActive:
      return "active";
    case PairState::kPassive:
      return "passive";
  }
  return "unknown";
}

PairStateMachine::PairStateMachine(const PairOptions& options)
    : options_(options),
      started_(options.clock->Now()),
      state_(options.role == Role::kPrimary ? PairState::kStartingPrimary
                                            : PairState::kStartingBackup) {}

bool PairStateMachine::PeerAlive() const {
  return peer_heard_ && !PeerSilentFor(options_.peer_timeout);
}

bool PairStateMachine::PeerSilentFor(base::Clock::Duration span) const {
  const base::Clock::TimePoint since = peer_heard_ ? peer_heard_at_ : started_;
  return options_.clock->Now() - since >= span;
}

PairTransition PairStateMachine::MoveTo(PairState next, std::string_view why) {
  PairTransition transition{.from = state_, .to = next, .why = why};
  if (!transition.changed()) return transition;
  state_ = next;
  if (next == PairState::kActive) ++counters_.became_active;
  if (next == PairState::kPassive) ++counters_.became_passive;
  return transition;
}

PairTransition PairStateMachine::Conflict(PairState next, std::string_view why) {
  ++counters_.conflicts;
  PairTransition transition = MoveTo(next, why);
  transition.conflict = true;
  return transition;
}

PairTransition PairStateMachine::OnPeerState(PairState peer) {
  peer_state_ = peer;
  peer_heard_ = true;
  peer_heard_at_ = options_.clock->Now();
  const bool primary = options_.role == Role::kPrimary;
  const PairState same_role_start =
      primary ? PairState::kStartingPrimary : PairState::kStartingBackup;
  if (peer == same_role_start)
    return Conflict(state_, "both brokers of the pair have the same role");
  switch (state_) {
    case PairState::kStartingPrimary:
      if (peer == PairState::kStartingBackup) {
        return MoveTo(PairState::kActive, "the backup started");
      }
      if (peer == PairState::kActive) return MoveTo(PairState::kPassive, "the backup is active");
      // A passive backup goes active on hearing this primary start; wait for it.
      return MoveTo(state_, "");
    case PairState::kStartingBackup:
      if (peer == PairState::kActive) return MoveTo(PairState::kPassive, "the primary is active");
      return MoveTo(state_, "");
    case PairState::kActive:
      if (peer == PairState::kActive) {
        return Conflict(primary ? state_ : PairState::kPassive,
                        "two active brokers: the backup yields");
      }
      return MoveTo(state_, "");
    case PairState::kPassive:
      if (peer == PairState::kStartingPrimary || peer == PairState::kStartingBackup) {
        return MoveTo(PairState::kActive, "the peer restarted");
      }
      if (peer == PairState::kPassive) {
        return Conflict(primary ? PairState::kActive : state_,
                        "two passive brokers: the primary serves");
      }
      return MoveTo(state_, "");
  }
  return MoveTo(state_, "");
}

PairStateMachine::ClientVerdict PairStateMachine::OnClientRequest() {
  ClientVerdict verdict{.served = false, .transition = MoveTo(state_, "")};
  switch (state_) {
    case PairState::kActive:
      verdict.served = true;
      break;
    case PairState::kStartingPrimary:
      // Never heard from the peer for a whole timeout since the start: alone.
      if (!peer_heard_ && PeerSilentFor(options_.peer_timeout)) {
        verdict.transition =
            MoveTo(PairState::kActive, "a client came and the backup never answered");
        verdict.served = true;
      } else if (peer_heard_ && !PeerAlive() && peer_state_ != PairState::kStartingPrimary) {
        verdict.transition = MoveTo(PairState::kActive, "a client came and the backup was lost");
        verdict.served = true;
      }
      break;
    case PairState::kStartingBackup:
      break;
    case PairState::kPassive:
      if (!PeerAlive()) {
        verdict.transition =
            MoveTo(PairState::kActive, "a client came and the active peer was lost");
        ++counters_.failovers;
        verdict.served = true;
      }
      break;
  }
  if (!verdict.served) ++counters_.clients_refused;
  return verdict;
}

}  // namespace roomq::broker::failover
