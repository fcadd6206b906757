// The broker's side of a failover pair (broker.h "Failover pair",
// broker/failover/README.md): the pair sockets, the heartbeats and the
// gate in front of the nodes' commands and envelopes.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/broker.h"
#include "broker/broker_internal.h"
#include "broker/security/curve_server.h"
#include "proto/base/absl_compat.h"
#include "spdlog/spdlog.h"

namespace roomq::broker {
namespace {

using internal::DrainRest;
using internal::kBurst;
using internal::View;

// What a pair socket holds: a few heartbeats, or replication messages
// (broker_replica.cc keeps the rest in its outbox). With ZMQ_IMMEDIATE
// nothing is queued for a peer not connected, so a returning peer never
// reads stale states.
constexpr int kPairHwm = 16;

v1::PairRole ToWire(failover::Role role) {
  return role == failover::Role::kPrimary ? v1::PAIR_ROLE_PRIMARY : v1::PAIR_ROLE_BACKUP;
}

}  // namespace

absl::Status Broker::BindPair() {
  const BrokerPairOptions& pair = options_.pair;
  if (pair.bind.empty() || pair.peer.empty()) {
    return absl::InvalidArgumentError("a pair role needs the pair's bind and peer endpoints");
  }
  if (pair.heartbeat <= std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError("the pair heartbeat must be > 0");
  }
  const bool curve = !options_.curve_secret_key.empty();
  if (curve) {
    // Both brokers hold the pair's one key pair: each is the other's CURVE
    // server and client with it (the ZapHandler admits the broker's own key).
    if (absl::Status status =
            security::EnableCurveServer(pair_in_, options_.curve_secret_key, "pair");
        !status.ok()) {
      return status;
    }
    char public_key[41] = {};
    if (zmq_curve_public(public_key, options_.curve_secret_key.c_str()) != 0) {
      return absl::InvalidArgumentError("the CURVE secret key does not give a public key");
    }
    try {
      pair_out_.set(zmq::sockopt::curve_serverkey, public_key);
      pair_out_.set(zmq::sockopt::curve_publickey, public_key);
      pair_out_.set(zmq::sockopt::curve_secretkey, options_.curve_secret_key);
    } catch (const zmq::error_t& e) {
      return absl::InternalError(absl::StrCat("CURVE on the pair link: ", e.what()));
    }
  }
  try {
    pair_in_.set(zmq::sockopt::rcvhwm, kPairHwm);
    pair_in_.set(zmq::sockopt::linger, 0);
    // A replication message holds one record of up to the largest delivery
    // frame, or several up to kReplicaChunkBytes (broker_replica.cc).
    pair_in_.set(zmq::sockopt::maxmsgsize,
                 options_.max_message_bytes + kMaxDeliveryOverheadBytes + (int64_t{1} << 20));
    pair_in_.bind(pair.bind);
    pair_endpoint_ = pair_in_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return internal::BindError("--pair-bind", pair.bind, e);
  }
  try {
    pair_out_.set(zmq::sockopt::sndhwm, kPairHwm);
    pair_out_.set(zmq::sockopt::linger, 0);
    pair_out_.set(zmq::sockopt::immediate, true);
    pair_out_.connect(pair.peer);
  } catch (const zmq::error_t& e) {
    return absl::InvalidArgumentError(absl::StrCat("--pair-peer ", pair.peer, ": ", e.what()));
  }
  pair_ = std::make_unique<failover::PairStateMachine>(failover::PairOptions{
      .role = pair.role, .peer_timeout = 2 * pair.heartbeat, .clock = options_.clock});
  return absl::OkStatus();
}

bool Broker::PairServes(bool from_node) {
  if (pair_ == nullptr) return true;
  if (!from_node) return pair_->state() == failover::PairState::kActive;
  const failover::PairStateMachine::ClientVerdict verdict = pair_->OnClientRequest();
  ApplyPairTransition(verdict.transition);
  return verdict.served;
}

void Broker::SendStandby(std::string_view identity) {
  ++stats_.pair_refused;
  v1::BrokerFrame frame;
  frame.mutable_standby()->set_state(std::string(failover::PairStateName(pair_->state())));
  SendBrokerFrame(identity, frame);
}

void Broker::ApplyPairTransition(const failover::PairTransition& transition) {
  if (!transition.changed()) return;
  spdlog::info("pair: {} -> {}: {} (epoch={})", failover::PairStateName(transition.from),
               failover::PairStateName(transition.to), transition.why, epoch_);
  if (transition.to == failover::PairState::kActive &&
      transition.from == failover::PairState::kPassive) {
    TakeOver();
  }
  if (transition.from != failover::PairState::kActive) return;
  EndReplicaSession("this broker stopped serving");
  // No longer serving: every node moves to the other broker. A burst
  // waiting for the passive still holds its recipients: they go after it.
  if (awaiting_replica_) {
    standby_pending_ = true;
    return;
  }
  DropPeersForStandby();
}

void Broker::DropPeersForStandby() {
  standby_pending_ = false;
  std::vector<std::string> identities;
  peers_.ForEach([&identities](const Peer& peer) { identities.push_back(peer.identity); });
  for (const std::string& identity : identities) {
    SendStandby(identity);
    peers_.Remove(identity, "standby");
  }
}

void Broker::DrainPair() {
  zmq::message_t identity;
  zmq::message_t body;
  for (int i = 0; i < kBurst; ++i) {
    if (zmq_msg_recv(identity.handle(), pair_in_.handle(), ZMQ_DONTWAIT) < 0) break;
    if (!identity.more()) {
      ++stats_.malformed_count(Malformed::kPairFrame);
      continue;
    }
    if (zmq_msg_recv(body.handle(), pair_in_.handle(), ZMQ_DONTWAIT) < 0) break;
    if (body.more()) {
      DrainRest(pair_in_);
      ++stats_.malformed_count(Malformed::kPairFrame);
      continue;
    }
    v1::PairFrame frame;
    if (!frame.ParseFromArray(body.data(), static_cast<int>(body.size())) ||
        frame.version() != v1::VERSION_1) {
      ++stats_.malformed_count(Malformed::kPairFrame);
      continue;
    }
    HandlePairFrame(frame);
  }
  if (follow_.ack_due) AckReplica();
}

void Broker::HandlePairFrame(const v1::PairFrame& frame) {
  switch (frame.body_case()) {
    case v1::PairFrame::kHeartbeat: {
      const v1::PairHeartbeat& heartbeat = frame.heartbeat();
      if (heartbeat.state() < v1::PAIR_STATE_STARTING_PRIMARY ||
          heartbeat.state() > v1::PAIR_STATE_PASSIVE) {
        ++stats_.malformed_count(Malformed::kPairFrame);
        return;
      }
      const auto peer_state = static_cast<failover::PairState>(heartbeat.state());
      const failover::PairTransition transition = pair_->OnPeerState(peer_state);
      if (transition.conflict) {
        spdlog::warn("pair: conflict: this broker is {} ({}), its peer says {} ({})",
                     failover::PairStateName(transition.from), failover::RoleName(pair_->role()),
                     failover::PairStateName(peer_state),
                     heartbeat.role() == v1::PAIR_ROLE_PRIMARY ? "primary" : "backup");
      }
      ApplyPairTransition(transition);
      // A passive broker follows the active one's current stream, or asks
      // for a new one.
      if (pair_->state() != failover::PairState::kPassive ||
          peer_state != failover::PairState::kActive) {
        return;
      }
      if (follow_.session != 0 && heartbeat.replica_session() == follow_.session) {
        NoteCompleteAt(heartbeat.replica_complete_at());
        return;
      }
      // The active feeds another stream, or none: this broker no longer
      // holds what it delivers.
      follow_ = ReplicaFollow{.next_request = follow_.next_request};
      RequestSync(options_.clock->Now());
      return;
    }
    case v1::PairFrame::kReplicate:
      HandleReplicate(frame.replicate());
      return;
    case v1::PairFrame::kAck:
      HandleReplicaAck(frame.ack());
      return;
    case v1::PairFrame::kSyncRequest:
      if (pair_->state() == failover::PairState::kActive) StartReplicaSession();
      return;
    case v1::PairFrame::BODY_NOT_SET:
      break;
  }
  ++stats_.malformed_count(Malformed::kPairFrame);
}

void Broker::SendPairFrame(const v1::PairFrame& frame) {
  const std::string bytes = frame.SerializeAsString();
  // Not connected, or full: the frame is lost, as a dead link loses it.
  (void)pair_out_.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
}

void Broker::SendPairHeartbeat(Clock::time_point now) {
  v1::PairFrame frame;
  frame.set_version(v1::VERSION_1);
  v1::PairHeartbeat& heartbeat = *frame.mutable_heartbeat();
  heartbeat.set_role(ToWire(pair_->role()));
  heartbeat.set_state(static_cast<v1::PairState>(pair_->state()));
  heartbeat.set_epoch(epoch_);
  heartbeat.set_sequence(history_->last_sequence());
  if (pair_->state() == failover::PairState::kActive) {
    heartbeat.set_replica_session(feed_.session);
    heartbeat.set_replica_complete_at(feed_.complete_at);
  } else {
    heartbeat.set_replica_session(follow_.session);
  }
  SendPairFrame(frame);
  next_pair_heartbeat_ = now + options_.pair.heartbeat;
  if (feed_.session != 0 && !pair_->PeerAlive()) EndReplicaSession("the passive broker is lost");
}

}  // namespace roomq::broker
