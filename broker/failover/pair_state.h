#ifndef ROOMQ_BROKER_FAILOVER_PAIR_STATE_H_
#define ROOMQ_BROKER_FAILOVER_PAIR_STATE_H_

// PairStateMachine: which broker of a primary/backup pair serves clients.
// It is the ZeroMQ guide's Binary Star rule (chapter 4), told here in
// roomq's terms; broker/failover/README.md has the whole design (what the
// pair replicates, the epoch rule, the failure cases it does not cover).
//
// Each broker of the pair runs one machine, fed with two inputs:
//  - OnPeerState: the other broker's heartbeat, which carries its state;
//  - OnClientRequest: a node (a gateway, a client, the CLI) asks to be served.
// The machine answers whether the client is served and moves between four
// states:
//
//   kStartingPrimary --peer kStartingBackup--> kActive
//   kStartingPrimary --peer kActive----------> kPassive
//   kStartingPrimary --client, peer silent since start for peer_timeout--> kActive
//   kStartingBackup  --peer kActive----------> kPassive
//   kPassive --peer kStartingPrimary|kStartingBackup--> kActive  (the peer restarted)
//   kPassive --client, peer silent for peer_timeout--> kActive   (failover)
//
// Invariants it keeps:
//  - A backup serves no client before it has seen an active peer and then
//    lost it: a backup started alone waits, however many clients ask.
//  - A passive broker becomes active on a client's request only: losing the
//    peer is not enough. A broker cut off from its peer but not from the
//    clients' path to that peer sees no client, so it stays passive; this is
//    what keeps a partition between the two brokers alone from making two
//    active brokers.
//  - A restarted primary does not serve until it has heard its peer (and
//    follows it: passive when the peer is active) or peer_timeout has passed
//    since it started with no word from the peer.
//  - Two active brokers (a partition that also split the clients, then
//    healed): the backup steps down as soon as it hears the active primary.
//    Two passive brokers: the primary takes over. Both are counted
//    (conflicts), as is a pair whose two brokers have the same role.
//
// Time comes from the injected clock (proto/base/clock.h). Thread safety:
// none; the broker's loop owns its machine.

#include <cstdint>
#include <string_view>

#include "proto/base/clock.h"

namespace roomq::broker::failover {

// The role a broker is configured with; it does not change while it runs.
enum class Role { kPrimary, kBackup };

// The numbers are v1::PairState's, the PairHeartbeat's wire values.
enum class PairState {
  kStartingPrimary = 1,  // the primary since its start, until it hears the peer or it is late
  kStartingBackup = 2,   // the backup since its start, until it sees an active primary
  kActive = 3,           // serves clients
  kPassive = 4,          // follows the active peer, refuses clients
};

std::string_view PairStateName(PairState state);
std::string_view RoleName(Role role);  // "primary", "backup"

struct PairOptions {
  Role role = Role::kPrimary;
  // The peer is lost when it has been silent this long: two of the pair's
  // heartbeats in the guide's rule (the broker's --pair-heartbeat-ms x 2).
  base::Clock::Duration peer_timeout = std::chrono::seconds(2);
  const base::Clock* clock = &base::Clock::Real();  // must outlive the machine
};

// What an input did; `why` is static text for the log line.
struct PairTransition {
  PairState from = PairState::kStartingPrimary;
  PairState to = PairState::kStartingPrimary;
  std::string_view why;
  // The peer's state contradicts this one's (counters().conflicts counts it).
  bool conflict = false;
  bool changed() const { return from != to; }
};

struct PairCounters {
  uint64_t became_active = 0;   // every move to kActive
  uint64_t failovers = 0;       // of which kPassive -> kActive on a client's request
  uint64_t became_passive = 0;  // every move to kPassive
  uint64_t clients_refused = 0;
  uint64_t conflicts = 0;  // two active, two passive, or two brokers of one role
};

class PairStateMachine {
 public:
  explicit PairStateMachine(const PairOptions& options);

  PairStateMachine(const PairStateMachine&) = delete;
  PairStateMachine& operator=(const PairStateMachine&) = delete;

  // The peer's heartbeat arrived, saying it is in `peer`.
  PairTransition OnPeerState(PairState peer);

  // A node asks to be served. `served` is false while this broker must not
  // serve (the node should try the other broker).
  struct ClientVerdict {
    bool served = false;
    PairTransition transition;
  };
  ClientVerdict OnClientRequest();

  PairState state() const { return state_; }
  Role role() const { return options_.role; }
  // The peer's heartbeat came within peer_timeout.
  bool PeerAlive() const;
  // The peer's last reported state; meaningful once PeerEverHeard().
  PairState peer_state() const { return peer_state_; }
  bool PeerEverHeard() const { return peer_heard_; }
  const PairCounters& counters() const { return counters_; }

 private:
  PairTransition MoveTo(PairState next, std::string_view why);
  // MoveTo, counted and marked as a conflict.
  PairTransition Conflict(PairState next, std::string_view why);
  bool PeerSilentFor(base::Clock::Duration span) const;

  const PairOptions options_;
  const base::Clock::TimePoint started_;
  PairState state_;
  PairState peer_state_ = PairState::kStartingPrimary;
  bool peer_heard_ = false;
  base::Clock::TimePoint peer_heard_at_{};
  PairCounters counters_;
};

}  // namespace roomq::broker::failover

#endif  // ROOMQ_BROKER_FAILOVER_PAIR_STATE_H_
