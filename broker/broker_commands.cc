// Broker: the subscriber-command protocol (Hello, Subscribe, Unsubscribe,
// Sockets, Recover, Ping) on the subscriber socket, and the replies. The
// loop that calls DrainSubscribers is in broker.cc.

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/broker.h"
#include "broker/broker_internal.h"
#include "google/protobuf/io/coded_stream.h"
#include "proto/wire/delivery.h"
#include "proto/wire/topic.h"
#include "spdlog/spdlog.h"

namespace roomq::broker {
namespace {

using internal::DrainRest;
using internal::kBurst;
using internal::kMaxBatchFrames;
using internal::MicrosSinceEpoch;
using internal::View;

// BrokerFrame.recovered (field 4, length-delimited) and Recovered.missed (5).
constexpr int kBrokerFrameRecoveredField = 4;
constexpr int kRecoveredMissedField = 5;

// A presence page ends once its records pass this (proto/roomq.proto
// Presence): far below any node's max_message_bytes.
constexpr size_t kPresencePageBytes = size_t{1} << 20;

}  // namespace

void Broker::DrainSubscribers() {
  zmq::message_t identity;
  zmq::message_t body;
  for (int i = 0; i < kBurst && !stop_.load(std::memory_order_relaxed); ++i) {
    if (zmq_msg_recv(identity.handle(), sub_.handle(), ZMQ_DONTWAIT) < 0) break;
    if (!identity.more()) {
      ++stats_.malformed_count(Malformed::kCommandFrames);
      continue;
    }
    if (zmq_msg_recv(body.handle(), sub_.handle(), ZMQ_DONTWAIT) < 0) break;
    if (body.more()) {
      DrainRest(sub_);
      ++stats_.malformed_count(Malformed::kCommandFrames);
      continue;
    }
    HandleCommand(View(identity), body);
  }
  // The burst's socket record changes, in one write (as a publish burst's
  // history records).
  FlushSocketLog();
}

void Broker::HandleCommand(std::string_view identity, const zmq::message_t& body) {
  v1::SubscriberCommand command;
  if (!command.ParseFromArray(body.data(), static_cast<int>(body.size())) ||
      command.command_case() == v1::SubscriberCommand::COMMAND_NOT_SET) {
    ++stats_.malformed_count(Malformed::kCommand);
    return;
  }
  ++stats_.commands;
  if (command.command_case() != v1::SubscriberCommand::kGoodbye &&
      !PairServes(/*from_node=*/true)) {
    SendStandby(identity);
    return;
  }
  const Clock::time_point now = options_.clock->Now();
  const uint64_t request_id = command.request_id();
  switch (command.command_case()) {
    case v1::SubscriberCommand::kHello: {
      const v1::Hello& hello = command.hello();
      if (hello.version() != v1::VERSION_1 || hello.node().empty() ||
          hello.node().size() > wire::kMaxNameBytes) {
        ++stats_.malformed_count(Malformed::kHelloVersion);
        if (request_id != 0)
          SendReply(identity, request_id, false, "unsupported version or no node id");
        return;
      }
      Peer& peer = peers_.Touch(identity, now);
      if (peer.known && peer.node != hello.node()) {
        // The connection now speaks for another node: the old one's
        // sockets are no longer held here.
        sockets_->NodeDown(peer.node, WallMicros());
      }
      peers_.Hello(peer, hello.node(), hello.heartbeat_ms(), now);
      break;
    }
    case v1::SubscriberCommand::kSubscribe:
      HandleSubscribe(peers_.Touch(identity, now), command);
      return;  // replies itself
    case v1::SubscriberCommand::kUnsubscribe: {
      Peer* peer = peers_.Find(identity);
      if (peer != nullptr) peer->last_seen = now;
      HandleUnsubscribe(identity, peer, command);
      return;  // replies itself
    }
    case v1::SubscriberCommand::kPing: {
      Peer* peer = peers_.Find(identity);
      if (peer != nullptr) peer->last_seen = now;
      v1::BrokerFrame frame;
      frame.mutable_pong()->set_epoch(epoch_);
      frame.mutable_pong()->set_known(peer != nullptr && peer->known);
      frame.mutable_pong()->set_sequence(history_->last_sequence());
      SendBrokerFrame(identity, frame);
      break;
    }
    case v1::SubscriberCommand::kGoodbye:
      peers_.Remove(identity, "goodbye");
      break;
    case v1::SubscriberCommand::kSockets:
      HandleSockets(identity, command, now);
      break;
    case v1::SubscriberCommand::kRecover:
      HandleRecover(peers_.Touch(identity, now), command);
      return;  // answers with Recovered
    case v1::SubscriberCommand::kPresence: {
      Peer* peer = peers_.Find(identity);
      if (peer != nullptr) peer->last_seen = now;
      HandlePresence(identity, command);
      return;  // answers with PresenceAnswer
    }
    default:
      break;
  }
  if (request_id != 0) SendReply(identity, request_id, true, {});
}

void Broker::HandleSubscribe(Peer& peer, const v1::SubscriberCommand& command) {
  const v1::Subscribe& subscribe = command.subscribe();
  auto refuse = [&](std::string_view error) {
    ++stats_.malformed_count(Malformed::kCommandTopic);
    if (command.request_id() != 0) SendReply(peer.identity, command.request_id(), false, error);
  };
  // All or nothing: a command with one bad topic or resume point changes
  // nothing.
  for (const v1::Topic& topic : subscribe.topics()) {
    if (absl::Status status = wire::ValidateTopic(wire::ToRef(topic)); !status.ok()) {
      refuse(FromAbsl(status.message()));
      return;
    }
  }
  for (const v1::ResumePoint& point : subscribe.resume()) {
    const wire::TopicRef topic = wire::ToRef(point.topic());
    if (absl::Status status = wire::ValidateTopic(topic); !status.ok()) {
      refuse(FromAbsl(status.message()));
      return;
    }
    if (topic.channel != v1::CHANNEL_ROOMS) {
      refuse("only CHANNEL_ROOMS topics can be resumed");
      return;
    }
  }
  if (peer.subscriber->topic_count() +
          static_cast<size_t>(subscribe.topics_size() + subscribe.resume_size()) >
      static_cast<size_t>(options_.max_topics_per_peer)) {
    if (command.request_id() != 0) {
      SendReply(peer.identity, command.request_id(), false,
                absl::StrCat("over the limit of ", options_.max_topics_per_peer,
                             " topics per subscriber"));
    }
    return;
  }
  for (const v1::Topic& topic : subscribe.topics())
    routes_.Subscribe(peer.subscriber, wire::ToRef(topic));
  v1::BrokerFrame frame;
  v1::Reply* reply = frame.mutable_reply();
  reply->set_request_id(command.request_id());
  reply->set_ok(true);
  AddCurrentOffsets(subscribe, *reply);
  if (subscribe.resume().empty()) {
    if (command.request_id() != 0) SendBrokerFrame(peer.identity, frame);
    return;
  }

  // Durable resume: subscribe, replay what history holds after each point
  // (each envelope once even when it is in several resumed topics, in
  // sequence order, which is offset order within every topic), then Reply.
  // Nothing is routed in between: this thread does both.
  std::vector<const history::Entry*> replay;
  for (const v1::ResumePoint& point : subscribe.resume()) {
    const wire::TopicRef topic = wire::ToRef(point.topic());
    routes_.Subscribe(peer.subscriber, topic);
    const bool same_epoch =
        point.epoch() == epoch_ || (point.epoch() == 0 && point.after_offset() == 0);
    const history::ResumeOutcome outcome =
        history_->Resume(topic.ns, topic.name, same_epoch, point.after_offset(),
                         [&replay](const history::Entry& entry) { replay.push_back(&entry); });
    v1::ResumeResult* result = reply->add_resumed();
    *result->mutable_topic() = point.topic();
    result->set_replayed(outcome.replayed);
    result->set_truncated(outcome.truncated);
    result->set_last_offset(outcome.last_offset);
  }
  if (subscribe.resume_size() > 1) {
    std::sort(replay.begin(), replay.end(), [](const history::Entry* a, const history::Entry* b) {
      return a->sequence < b->sequence;
    });
    replay.erase(std::unique(replay.begin(), replay.end()), replay.end());
  }
  // The replayed frames go in as few messages as the batch limits allow,
  // before the Reply (same pipe, so in this order). They are built a
  // message's worth at a time, so a replay that meets the high-water mark
  // stops building there.
  std::vector<zmq::message_t> frames;
  bool gap = false;
  for (size_t begin = 0; begin < replay.size(); begin += kMaxBatchFrames) {
    const size_t end = std::min(replay.size(), begin + kMaxBatchFrames);
    frames.resize(end - begin);
    frame_scratch_.clear();
    for (size_t i = begin; i < end; ++i) {
      const std::string_view body = replay[i]->body();
      zmq::message_t& message = frames[i - begin];
      message.rebuild(wire::ReplayedFrameSize(body));
      wire::WriteReplayedFrame(body, static_cast<char*>(message.data()));
      frame_scratch_.push_back(&message);
    }
    const SendResult sent = SendFrames(peer, frame_scratch_, /*stop_when_full=*/true);
    stats_.replayed += sent.sent;
    stats_.delivered += sent.sent;
    if (sent.sent == end - begin) continue;
    // Full, over budget or gone: the rest is lost too, and the subscriber
    // has a gap.
    const size_t lost = replay.size() - begin - sent.sent;
    if (sent.unreachable > 0) {
      stats_.dropped_unreachable += lost;
    } else if (sent.over_budget > 0) {
      stats_.dropped_peer_bytes += lost;
      peer.dropped += lost;
    } else {
      stats_.dropped_hwm += lost;
      peer.dropped += lost;
    }
    gap = true;
    break;
  }
  if (gap) {
    for (v1::ResumeResult& result : *reply->mutable_resumed()) result.set_truncated(true);
  }
  // The Reply goes even without a request id: it carries the ResumeResults.
  SendBrokerFrame(peer.identity, frame);
}

int64_t Broker::WallMicros() const { return MicrosSinceEpoch(options_.clock->WallNow()); }

void Broker::HandleSockets(std::string_view identity, const v1::SubscriberCommand& command,
                           Clock::time_point now) {
  Peer* peer = peers_.Find(identity);
  if (peer == nullptr || !peer->known) {
    // No node to hold the sockets: the node's Hello must come first (it
    // sends its full list after it anyway).
    ++stats_.malformed_count(Malformed::kNoHello);
    return;
  }
  peer->last_seen = now;
  const v1::Sockets& sockets = command.sockets();
  const int64_t wall_us = WallMicros();
  uint64_t refused = 0;
  for (const v1::SocketUpdate& update : sockets.updates()) {
    switch (update.update_case()) {
      case v1::SocketUpdate::kOpen: {
        // Where the socket starts (kept for an existing record): what a
        // recovery without a client offset replays from. The gateway's
        // value is exact (it read it after the Replies to the socket's
        // subscriptions, proto/roomq.proto Reply.sequence) while this
        // Open may come up to kSocketUpdateDelay later; one of another
        // epoch, or ahead of this broker, is replaced by where it is now.
        v1::Session session = update.open().session();
        if (session.epoch() != epoch_ || session.since_sequence() > history_->last_sequence()) {
          session.set_epoch(epoch_);
          session.set_since_sequence(history_->last_sequence());
        }
        if (absl::IsResourceExhausted(
                sockets_->Open(std::move(session), peer->node, peer->generation))) {
          ++refused;
        }
        break;
      }
      case v1::SocketUpdate::kRooms:
        (void)sockets_->Rooms(update.rooms(), peer->node);
        break;
      case v1::SocketUpdate::kClose:
        (void)sockets_->Close(update.close().namespace_(), update.close().socket_id(),
                              update.close().recoverable(), peer->node, wall_us);
        break;
      default:
        ++stats_.malformed_count(Malformed::kCommand);
        break;
    }
  }
  if (sockets.full()) sockets_->Reconcile(peer->node, peer->generation, wall_us);
  // A node that asks for an answer (gateways do not) gets it once the
  // changes are written.
  if (command.request_id() != 0) FlushSocketLog();
  if (refused > 0) {
    refusals_unlogged_ += refused;
    if (now >= next_refusal_log_) {
      spdlog::warn(
          "roomq-broker: socket records full ({} records, {} bytes, all connected): {} sockets "
          "work but cannot be recovered (sessions.max_records / max_bytes)",
          sockets_->size(), sockets_->bytes(), refusals_unlogged_);
      refusals_unlogged_ = 0;
      next_refusal_log_ = now + std::chrono::seconds(10);
    }
  }
}

void Broker::PeerRemoved(const Peer& peer, std::string_view reason) {
  // "replaced": the same node's new connection said Hello and sends its
  // full list next, which reconciles.
  if (!peer.known || reason == "replaced") return;
  sockets_->NodeDown(peer.node, WallMicros());
}

void Broker::CountRecovery(RecoveryOutcome outcome) {
  ++stats_.recovery_count(outcome);
  if (outcome == RecoveryOutcome::kRecovered || outcome == RecoveryOutcome::kTakenOver) {
    ++stats_.recovered;
  } else {
    ++stats_.recover_failed;
  }
}

void Broker::SendCloseSocket(std::string_view node, std::string_view ns,
                             std::string_view socket_id) {
  const Peer* holder = peers_.FindByNode(node);
  if (holder == nullptr) return;  // gone: nothing left to close
  v1::BrokerFrame frame;
  frame.mutable_close_socket()->set_namespace_(std::string(ns));
  frame.mutable_close_socket()->set_socket_id(std::string(socket_id));
  SendBrokerFrame(holder->identity, frame);
}

void Broker::HandleRecover(Peer& peer, const v1::SubscriberCommand& command) {
  const v1::Recover& request = command.recover();
  v1::Recovered recovered;
  recovered.set_request_id(command.request_id());
  auto fail = [&](sockets::RecoverOutcome outcome, std::string_view error) {
    CountRecovery(outcome);
    recovered.set_ok(false);
    recovered.set_error(std::string(error));
    v1::BrokerFrame frame;
    *frame.mutable_recovered() = std::move(recovered);
    SendBrokerFrame(peer.identity, frame);
  };
  if (!peer.known) return fail(sockets::RecoverOutcome::kRefused, "no hello");

  // The checks run on the record before it moves; what they collect is
  // sent once it has.
  std::vector<const history::Entry*> missed;
  size_t missed_bytes = 0;
  auto check = [&](const sockets::SocketRecord& record) -> sockets::RecoverCheck {
    using sockets::RecoverOutcome;
    const v1::Session& session = record.session;
    if (request.epoch() != epoch_ || (request.use_session_start() && session.epoch() != epoch_)) {
      return {RecoverOutcome::kEpochChanged, "epoch changed"};
    }
    const uint64_t after =
        request.use_session_start() ? session.since_sequence() : request.after_sequence();
    const std::string& ns = session.namespace_();
    for (const std::string& room : record.rooms) {
      if (!wire::ValidateTopic(wire::RoomTopic(ns, room)).ok()) {
        return {RecoverOutcome::kRefused, "invalid session room"};
      }
    }
    if (peer.subscriber->topic_count() + record.rooms.size() >
        static_cast<size_t>(options_.max_topics_per_peer)) {
      return {RecoverOutcome::kRefused, "over the topic limit"};
    }
    if (history_->MissingSince(ns, "", after)) return {RecoverOutcome::kGap, "history truncated"};
    for (const std::string& room : record.rooms) {
      if (history_->MissingSince(ns, room, after)) {
        return {RecoverOutcome::kGap, "history truncated"};
      }
    }
    history_->CollectSince(ns, "", after, missed);
    for (const std::string& room : record.rooms) history_->CollectSince(ns, room, after, missed);
    std::sort(missed.begin(), missed.end(), [](const history::Entry* a, const history::Entry* b) {
      return a->sequence < b->sequence;
    });
    missed.erase(std::unique(missed.begin(), missed.end()), missed.end());
    for (const history::Entry* entry : missed) {
      missed_bytes += wire::ReplayedFieldSize(entry->body());
    }
    // Too big for what the peer may have queued (now, or ever): the client
    // gets a fresh session rather than the broker an unbounded queue.
    if (peer.queue->queued() + missed_bytes + record.bytes + 64 >
        static_cast<uint64_t>(options_.max_peer_queue_bytes)) {
      return {RecoverOutcome::kRefused, "recovery over the subscriber's queue budget"};
    }
    return {};
  };
  const int64_t wall_us = WallMicros();
  sockets::RecoverResult result = sockets_->Recover(request.pid(), request.namespace_(), peer.node,
                                                    peer.generation, wall_us, check);
  if (!result.ok()) return fail(result.outcome, result.error);
  const sockets::SocketRecord& record = *result.record;
  const std::string ns = record.session.namespace_();
  const std::string socket_id = record.session.socket_id();
  if (result.outcome == sockets::RecoverOutcome::kTakenOver) {
    SendCloseSocket(result.previous_node, ns, socket_id);
  }

  // Subscribe and answer: atomic with respect to routing (one thread).
  for (const std::string& room : record.rooms) {
    routes_.Subscribe(peer.subscriber, wire::RoomTopic(ns, room));
  }
  recovered.set_ok(true);
  *recovered.mutable_session() = record.ToSession();
  // Recovered without `missed`, then every missed Delivery appended as a
  // field built from the kept frame (no envelope parse or re-encode).
  const std::string head = recovered.SerializeAsString();
  const size_t size = head.size() + missed_bytes;
  using google::protobuf::io::CodedOutputStream;
  const size_t total = 1 + CodedOutputStream::VarintSize64(size) + size;
  zmq_msg_t message;
  zmq_msg_init_size(&message, total);
  char* p = static_cast<char*>(zmq_msg_data(&message));
  *p++ = static_cast<char>((kBrokerFrameRecoveredField << 3) | 2);
  p = reinterpret_cast<char*>(
      CodedOutputStream::WriteVarint64ToArray(size, reinterpret_cast<uint8_t*>(p)));
  p = std::copy(head.begin(), head.end(), p);
  for (const history::Entry* entry : missed) {
    p += wire::WriteReplayedField(kRecoveredMissedField, entry->body(), p);
  }
  FlushSocketLog();  // the record's move is written before anyone acts on it
  if (SendMessage(peer.identity, &peer, &message) != SendOutcome::kSent) {
    // The node never learns it holds the socket: the record goes back to
    // disconnected for the client's next attempt.
    (void)sockets_->Close(ns, socket_id, /*recoverable=*/true, peer.node, wall_us);
    CountRecovery(sockets::RecoverOutcome::kRefused);
    return;
  }
  CountRecovery(result.outcome);
  stats_.replayed += missed.size();
}

void Broker::HandleUnsubscribe(std::string_view identity, Peer* peer,
                               const v1::SubscriberCommand& command) {
  const auto& topics = command.unsubscribe().topics();
  for (const v1::Topic& topic : topics) {
    if (!wire::ValidateTopic(wire::ToRef(topic)).ok()) {
      ++stats_.malformed_count(Malformed::kCommandTopic);
      continue;  // it cannot be subscribed either
    }
    if (peer != nullptr) routes_.Unsubscribe(peer->subscriber, wire::ToRef(topic));
  }
  // Nothing to undo for an unknown peer: the result holds either way.
  if (command.request_id() != 0) SendReply(identity, command.request_id(), true, {});
}

void Broker::AddCurrentOffsets(const v1::Subscribe& subscribe, v1::Reply& reply) const {
  reply.set_epoch(epoch_);
  reply.set_sequence(history_->last_sequence());
  for (const v1::Topic& topic : subscribe.topics()) {
    if (topic.channel() != v1::CHANNEL_ROOMS ||
        history_->LimitsOf(topic.namespace_()).max_messages == 0) {
      continue;
    }
    v1::TopicOffset* current = reply.add_current();
    *current->mutable_topic() = topic;
    current->set_offset(history_->OffsetRange(topic.namespace_(), topic.name()).second);
  }
}

void Broker::SendReply(std::string_view identity, uint64_t request_id, bool ok,
                       std::string_view error) {
  v1::BrokerFrame frame;
  v1::Reply* reply = frame.mutable_reply();
  reply->set_request_id(request_id);
  reply->set_ok(ok);
  if (!error.empty()) reply->set_error(std::string(error));
  SendBrokerFrame(identity, frame);
}

void Broker::HandlePresence(std::string_view identity, const v1::SubscriberCommand& command) {
  const v1::Presence& query = command.presence();
  v1::BrokerFrame frame;
  v1::PresenceAnswer& answer = *frame.mutable_presence();
  answer.set_request_id(command.request_id());
  ++stats_.presence_queries;
  auto refuse = [&](std::string_view error) {
    ++stats_.presence_refused;
    answer.set_error(std::string(error));
    SendBrokerFrame(identity, frame);
  };
  if (absl::Status status = wire::ValidateTopic(wire::NamespaceTopic(query.namespace_()));
      !status.ok()) {
    return refuse(FromAbsl(status.message()));
  }
  if (static_cast<size_t>(query.rooms_size()) > sockets::kMaxPresenceRooms ||
      static_cast<size_t>(query.except_rooms_size()) > sockets::kMaxPresenceRooms) {
    return refuse(absl::StrCat("over ", sockets::kMaxPresenceRooms, " rooms in one query"));
  }
  for (const auto* rooms : {&query.rooms(), &query.except_rooms()}) {
    for (const std::string& room : *rooms) {
      if (absl::Status status = wire::ValidateTopic(wire::RoomTopic(query.namespace_(), room));
          !status.ok()) {
        return refuse(FromAbsl(status.message()));
      }
    }
  }
  const sockets::PresencePage page = sockets_->Presence(query, kPresencePageBytes);
  answer.set_ok(true);
  answer.set_total(page.total);
  answer.set_next_after(page.next_after);
  answer.mutable_sockets()->Reserve(static_cast<int>(page.records.size()));
  for (const sockets::SocketRecord* record : page.records) {
    v1::Session& session = *answer.add_sockets();
    session = record->ToSession();
    // The pid is the socket's recovery secret; the rest is the broker's.
    session.clear_pid();
    session.clear_epoch();
    session.clear_since_sequence();
    session.clear_ttl_ms();
  }
  SendBrokerFrame(identity, frame);
}

void Broker::SendBrokerFrame(std::string_view identity, const v1::BrokerFrame& frame) {
  zmq_msg_t message;
  zmq_msg_init_size(&message, frame.ByteSizeLong());
  frame.SerializeWithCachedSizesToArray(static_cast<uint8_t*>(zmq_msg_data(&message)));
  // A full, over-budget or gone subscriber misses this answer; its
  // heartbeat recovers.
  (void)SendMessage(identity, peers_.Find(identity), &message);
}

}  // namespace roomq::broker
