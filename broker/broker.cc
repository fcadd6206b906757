#include "broker/broker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/broker_internal.h"
#include "broker/security/curve_server.h"
#include "proto/base/absl_compat.h"
#include "proto/wire/delivery.h"
#include "proto/wire/topic.h"
#include "spdlog/spdlog.h"

namespace roomq::broker {
namespace {

using internal::DrainRest;
using internal::kBurst;
using internal::kMaxBatchFrames;
using internal::kRecordEnvelope;
using internal::MicrosSinceEpoch;
using internal::View;

// Bytes of one ROUTER message to a subscriber (with kMaxBatchFrames).
constexpr size_t kMaxBatchBytes = size_t{256} * 1024;
// How often silent peers, old history and expired sessions are looked for.
constexpr std::chrono::milliseconds kHousekeepingInterval{25};
// PublishReceipt.error of a publish refused because its history record could
// not be written. Fixed text: the log's own error names paths, which the
// gateway would pass on to browsers.
constexpr std::string_view kHistoryUnavailable = "history log unavailable";
// PublishReceipt.error of an envelope sent to a broker of a pair that does
// not serve now (proto/roomq.proto Standby).
constexpr std::string_view kStandbyBroker = "standby broker";

Malformed FromScanError(wire::ScanError error) {
  switch (error) {
    case wire::ScanError::kVersion:
      return Malformed::kVersion;
    case wire::ScanError::kKind:
      return Malformed::kKind;
    case wire::ScanError::kChannel:
      return Malformed::kChannel;
    case wire::ScanError::kTopic:
      return Malformed::kTopic;
    case wire::ScanError::kTooManyRooms:
      return Malformed::kTooManyRooms;
    default:
      return Malformed::kEnvelope;
  }
}

// Sends one frame of `size` bytes copied from `data`. Returns 0 or errno.
int SendCopy(void* socket, const void* data, size_t size, int flags) {
  zmq_msg_t message;
  zmq_msg_init_size(&message, size);
  if (size > 0) std::memcpy(zmq_msg_data(&message), data, size);
  if (zmq_msg_send(&message, socket, flags) >= 0) return 0;
  const int error = zmq_errno();
  zmq_msg_close(&message);
  return error;
}

// ZMQ_SNDHWM of the subscriber socket, in messages: hwm / kMaxBatchFrames,
// rounded up (0 = no limit stays 0).
int SubscriberHwm(int hwm) {
  return hwm == 0 ? 0
                  : static_cast<int>((static_cast<int64_t>(hwm) + kMaxBatchFrames - 1) /
                                     static_cast<int64_t>(kMaxBatchFrames));
}

void SetCommonOptions(zmq::socket_t& socket, const BrokerOptions& options) {
  socket.set(zmq::sockopt::sndhwm, options.hwm);
  socket.set(zmq::sockopt::rcvhwm, options.hwm);
  socket.set(zmq::sockopt::maxmsgsize, options.max_message_bytes);
  socket.set(zmq::sockopt::router_mandatory, true);
  socket.set(zmq::sockopt::linger, 0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Broker>> Broker::Create(zmq::context_t& context,
                                                       BrokerOptions options) {
  if (options.hwm < 0) return absl::InvalidArgumentError("hwm must be >= 0");
  if (options.clock == nullptr) return absl::InvalidArgumentError("no clock");
  if (options.log_env == nullptr) return absl::InvalidArgumentError("no log env");
  if (options.heartbeat <= std::chrono::milliseconds::zero()) {
    return absl::InvalidArgumentError("heartbeat must be > 0");
  }
  if (options.max_message_bytes <= 0) {
    return absl::InvalidArgumentError("max message size must be > 0");
  }
  if (options.max_peer_queue_bytes < options.max_message_bytes + kMaxDeliveryOverheadBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("max peer queue bytes (", options.max_peer_queue_bytes,
                     ") must be at least max message bytes + ", kMaxDeliveryOverheadBytes, " (",
                     options.max_message_bytes + kMaxDeliveryOverheadBytes,
                     "): the largest delivery must fit an empty queue"));
  }
  if (options.max_topics_per_peer <= 0) {
    return absl::InvalidArgumentError("max topics per peer must be > 0");
  }
  const uint64_t epoch = options.epoch != 0 ? options.epoch : internal::RandomNonZero();
  std::unique_ptr<Broker> broker;
  try {
    broker.reset(new Broker(context, std::move(options), epoch));
  } catch (const zmq::error_t& e) {
    return absl::InternalError(absl::StrCat("creating sockets: ", e.what()));
  }
  if (broker->wake_fd_ < 0) {
    return absl::InternalError(absl::StrCat("eventfd: ", strerror(errno)));
  }
  if (absl::Status status = broker->Bind(); !status.ok()) return status;
  if (broker->options_.pair.enabled) {
    if (absl::Status status = broker->BindPair(); !status.ok()) return status;
  }
  if (!broker->options_.data_dir.empty()) {
    if (absl::Status status = broker->OpenLog(); !status.ok()) return status;
    if (absl::Status status = broker->OpenSocketLog(); !status.ok()) return status;
  }
  if (broker->socket_log_ != nullptr || broker->pair_ != nullptr) {
    // Every socket record change goes to the log and, while this broker
    // feeds a passive peer, to it (broker_replica.cc).
    Broker* self = broker.get();
    broker->socket_journal_ = std::make_unique<sockets::SocketRecordEncoder>(
        [self](uint8_t type, std::string_view payload) {
          if (self->socket_log_ != nullptr) self->socket_log_->Append(type, payload);
          if (self->feed_.session != 0) {
            self->AddReplicaRecord(v1::REPLICATED_LOG_SOCKETS, type, std::string(payload));
          }
        });
    broker->sockets_->SetJournal(broker->socket_journal_.get());
  }
  return broker;
}

Broker::Broker(zmq::context_t& context, BrokerOptions options, uint64_t epoch)
    : options_(std::move(options)),
      epoch_(epoch),
      pub_(context, zmq::socket_type::router),
      sub_(context, zmq::socket_type::router),
      pair_in_(options_.pair.enabled ? zmq::socket_t(context, zmq::socket_type::router)
                                     : zmq::socket_t()),
      pair_out_(options_.pair.enabled ? zmq::socket_t(context, zmq::socket_type::dealer)
                                      : zmq::socket_t()),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      peers_(routes_, options_.heartbeat),
      history_(std::make_unique<history::History>(options_.history)),
      sockets_(std::make_unique<sockets::SocketIndex>(options_.sessions)) {
  targets_.reserve(64);
  peers_.SetRemovalObserver(
      [this](const Peer& peer, std::string_view reason) { PeerRemoved(peer, reason); });
}

Broker::~Broker() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

absl::Status Broker::Bind() {
  struct Side {
    zmq::socket_t& socket;
    const std::string& endpoint;
    std::string& bound;
    const char* flag;
  };
  for (Side side : {Side{pub_, options_.pub_bind, pub_endpoint_, "--pub-bind"},
                    Side{sub_, options_.sub_bind, sub_endpoint_, "--sub-bind"}}) {
    try {
      SetCommonOptions(side.socket, options_);
      if (&side.socket == &sub_) {
        // A message to a subscriber carries up to kMaxBatchFrames
        // deliveries: the queue bound stays about `hwm` deliveries when it
        // fills with full batches (the case that matters: a subscriber
        // falling behind a busy broker).
        side.socket.set(zmq::sockopt::sndhwm, SubscriberHwm(options_.hwm));
      }
      if (!options_.curve_secret_key.empty()) {  // CURVE server; the ZapHandler admits clients
        absl::Status curve = security::EnableCurveServer(side.socket, options_.curve_secret_key,
                                                         &side.socket == &pub_ ? "pub" : "sub");
        if (!curve.ok()) return curve;
      }
      side.socket.bind(side.endpoint);
      side.bound = side.socket.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
      return internal::BindError(side.flag, side.endpoint, e);
    }
  }
  return absl::OkStatus();
}

void Broker::Stop() {
  stop_.store(true, std::memory_order_relaxed);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
}

absl::Status Broker::Run() {
  spdlog::info("roomq-broker listening pub={} sub={} epoch={}", pub_endpoint_, sub_endpoint_,
               epoch_);
  const Clock::time_point start = options_.clock->Now();
  next_housekeeping_ = start + kHousekeepingInterval;
  next_stats_ = start + options_.stats_interval;
  next_pair_heartbeat_ = start;
  if (pair_ != nullptr) {
    spdlog::info("pair: {} role={} pair={} peer={}", failover::PairStateName(pair_->state()),
                 failover::RoleName(pair_->role()), pair_endpoint_, options_.pair.peer);
  }
  absl::Status result = absl::OkStatus();
  zmq_pollitem_t items[5] = {
      {pub_.handle(), 0, ZMQ_POLLIN, 0},
      {sub_.handle(), 0, ZMQ_POLLIN, 0},
      {nullptr, wake_fd_, ZMQ_POLLIN, 0},
      // Polled only with a pair; the DEALER only while replication waits for it.
      {pair_in_.handle(), 0, ZMQ_POLLIN, 0},
      {pair_out_.handle(), 0, ZMQ_POLLOUT, 0},
  };
  while (!stop_.load(std::memory_order_relaxed)) {
    const int item_count = pair_ == nullptr ? 3 : feed_.outbox.empty() ? 4 : 5;
    Clock::time_point now = options_.clock->Now();
    Clock::time_point next_timer = std::min(next_housekeeping_, next_stats_);
    if (pair_ != nullptr) next_timer = std::min(next_timer, next_pair_heartbeat_);
    const long timeout_ms = std::max<long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(next_timer - now).count() + 1);
    if (zmq_poll(items, item_count, timeout_ms) < 0) {
      if (zmq_errno() == EINTR) continue;
      result = absl::InternalError(absl::StrCat("zmq_poll: ", zmq_strerror(zmq_errno())));
      break;
    }
    if (item_count >= 4 && (items[3].revents & ZMQ_POLLIN)) DrainPair();
    if (items[1].revents & ZMQ_POLLIN) DrainSubscribers();
    if (items[0].revents & ZMQ_POLLIN) DrainPublishers();
    now = options_.clock->Now();
    if (pair_ != nullptr && now >= next_pair_heartbeat_) SendPairHeartbeat(now);
    if (now >= next_housekeeping_) Housekeeping(now);
    if (feed_.session != 0) ShipReplica();
    if (now >= next_stats_) {
      LogStats(/*final=*/false);
      next_stats_ = now + options_.stats_interval;
    }
  }
  FlushLog();
  FlushSocketLog();
  LogStats(/*final=*/true);
  if (stats_observer_) stats_observer_(stats_);
  return result;
}

void Broker::Housekeeping(Clock::time_point now) {
  peers_.ExpireSilent(now);
  const int64_t wall_us = WallMicros();
  history_->ExpireOld(wall_us);
  if (restart_grace_pending_ && now >= restart_grace_until_) {
    // Records restored as connected whose node has not said Hello since
    // the restart: the node is gone (or will reconcile when it comes).
    restart_grace_pending_ = false;
    for (const std::string& node : sockets_->Nodes()) {
      if (peers_.FindByNode(node) == nullptr) sockets_->NodeDown(node, wall_us);
    }
  }
  sockets_->Expire(wall_us);
  if (socket_log_ != nullptr) {
    FlushSocketLog(/*compact=*/true);
  }
  if (log_ != nullptr) {
    FlushLog();  // also runs the interval fsync when publishing is quiet
    const uint64_t oldest = history_->oldest_log_index();
    if (absl::Status status = log_->DropBefore(oldest != 0 ? oldest : log_->next_index());
        !status.ok()) {
      spdlog::warn("roomq-broker: dropping old log segments: {}", status.ToString());
    }
  }
  next_housekeeping_ = now + kHousekeepingInterval;
  if (stats_observer_ && now >= next_observe_) {
    RefreshGauges();
    stats_observer_(stats_);
    next_observe_ = now + stats_observer_interval_;
  }
}

void Broker::SetStatsObserver(std::function<void(const BrokerStats&)> observer,
                              std::chrono::milliseconds interval) {
  stats_observer_ = std::move(observer);
  stats_observer_interval_ = interval;
}

void Broker::RefreshGauges() {
  stats_.peers = peers_.size();
  stats_.topics = routes_.topic_count();
  stats_.history_entries = history_->entry_count();
  stats_.history_bytes = history_->bytes();
  stats_.socket_records_connected = sockets_->connected();
  stats_.socket_records_disconnected = sockets_->disconnected();
  stats_.socket_records_bytes = sockets_->bytes();
  stats_.socket_records_evicted = sockets_->stats().evicted;
  stats_.socket_records_refused = sockets_->stats().refused;
  stats_.socket_records_invalid = sockets_->stats().invalid;
  stats_.socket_records_expired = sockets_->stats().expired;
  stats_.socket_updates_ignored = sockets_->stats().unknown;
  stats_.history_failing = log_failing_ ? 1 : 0;
  stats_.peer_queued_bytes = 0;
  stats_.peer_queued_bytes_max = 0;
  peers_.ForEach([this](const Peer& peer) {
    const uint64_t queued = peer.queue->queued();
    stats_.peer_queued_bytes += queued;
    stats_.peer_queued_bytes_max = std::max(stats_.peer_queued_bytes_max, queued);
  });
  stats_.log_buffered_bytes = log_ != nullptr ? log_->buffered_bytes() : 0;
  if (pair_ != nullptr) {
    stats_.pair_state = static_cast<uint64_t>(pair_->state());
    stats_.pair_peer_alive = pair_->PeerAlive() ? 1 : 0;
    stats_.pair_failovers = pair_->counters().failovers;
    stats_.pair_conflicts = pair_->counters().conflicts;
    stats_.pair_degraded =
        pair_->state() == failover::PairState::kActive && !feed_.synced() ? 1 : 0;
    stats_.pair_replica_lag_bytes = feed_.unacked_bytes;
  }
}

void Broker::LogStats(bool final) {
  RefreshGauges();
  if (final) {
    spdlog::info("roomq-broker stopped: {}", stats_.ToString());
    return;
  }
  if (stats_ == last_logged_) return;
  spdlog::info("stats {}", stats_.ToString());
  last_logged_ = stats_;
}

// ---------------------------------------------------------------------------
// Publish path

void Broker::DrainPublishers() {
  wall_now_us_ = MicrosSinceEpoch(options_.clock->WallNow());
  // A stop ends the burst: a burst of large envelopes can take longer than
  // main's shutdown grace on a slow (sanitized, loaded) machine.
  for (int i = 0; i < kBurst && !stop_.load(std::memory_order_relaxed); ++i) {
    if (zmq_msg_recv(identity_.handle(), pub_.handle(), ZMQ_DONTWAIT) < 0) break;
    // A ROUTER message always starts with the identity frame; exactly one
    // frame (the Envelope) must follow.
    if (!identity_.more()) {
      ++stats_.malformed_count(Malformed::kEnvelopeFrames);
      continue;
    }
    if (zmq_msg_recv(body_.handle(), pub_.handle(), ZMQ_DONTWAIT) < 0) break;
    if (body_.more()) {
      DrainRest(pub_);
      ++stats_.malformed_count(Malformed::kEnvelopeFrames);
      continue;
    }
    Route();
  }
  // The burst's records reach the file (and with --pair-ack both the
  // passive) before anyone sees their offsets.
  SettleHistory();
  if (options_.pair.ack_both) AwaitReplica();
  SendBurst();
  if (standby_pending_) DropPeersForStandby();
}

void Broker::SettleHistory() {
  const bool written = FlushLog();
  if (burst_kept_ == 0) return;
  const uint64_t kept = std::exchange(burst_kept_, 0);
  if (written) {
    history_->Commit();
    stats_.kept += kept;
    for (std::string& record : feed_.burst_history) {
      AddReplicaRecord(v1::REPLICATED_LOG_HISTORY, kRecordEnvelope, std::move(record));
    }
    feed_.burst_history.clear();
    return;
  }
  feed_.burst_history.clear();
  // Nothing of these envelopes was stored: take them back and refuse them.
  log_->DiscardBuffered();
  history_->Abandon();
  stats_.history_refused += kept;
  for (size_t b = 0; b < batch_count_; ++b) {
    std::vector<uint32_t>& frames = batches_[b].frames;
    frames.erase(std::remove_if(frames.begin(), frames.end(),
                                [this](uint32_t frame) { return burst_frame_kept_[frame]; }),
                 frames.end());
  }
  for (PendingReceipt& pending : receipts_) {
    if (!pending.kept) continue;
    v1::PublishReceipt receipt;
    receipt.ParseFromString(pending.receipt);
    receipt.set_accepted(false);
    receipt.set_error(std::string(kHistoryUnavailable));
    receipt.clear_offsets();
    receipt.set_sequence(0);
    pending.receipt = receipt.SerializeAsString();
  }
}

void Broker::Route() {
  const wire::ScanError error = wire::ScanRouteInto(View(body_), route_);
  if (error != wire::ScanError::kOk) {
    ++stats_.malformed_count(FromScanError(error));
    // Well-formed but invalid: the publisher learns why, if it asked.
    if (error != wire::ScanError::kMalformed && route_.confirm) {
      receipts_.push_back(
          {std::string(View(identity_)),
           EncodeReceipt(false,
                         absl::StrCat("invalid envelope: ", ToAbsl(wire::ScanErrorName(error))), 0,
                         {})});
    }
    return;
  }
  if (!PairServes(/*from_node=*/false)) {
    // A standby broker routes nothing: the node moves on at its next command.
    ++stats_.pair_refused;
    if (route_.confirm) {
      receipts_.push_back(
          {std::string(View(identity_)), EncodeReceipt(false, kStandbyBroker, 0, {})});
    }
    return;
  }
  ++stats_.routed;

  targets_.clear();
  routes_.Match(route_, [this](const Subscriber& subscriber) { targets_.push_back(&subscriber); });
  if (targets_.empty()) ++stats_.unrouted;

  std::string receipt;
  const bool kept = history_->Keeps(route_);
  if (kept) {
    const uint64_t sequence = history_->Stamp(route_);
    BuildDeliveryFrame(sequence, history_->stamped_offsets());
    if (route_.confirm) {
      receipt = EncodeReceipt(true, {}, sequence, history_->stamped_offsets(), AckSockets());
    }
    uint64_t index = 0;
    if (log_ != nullptr || feed_.session != 0) {
      internal::EncodeEnvelopeRecord(wall_now_us_, View(delivery_), record_scratch_);
      if (log_ != nullptr) index = log_->Append(kRecordEnvelope, record_scratch_);
      if (feed_.session != 0) feed_.burst_history.push_back(record_scratch_);
    }
    history_->Keep(delivery_, wall_now_us_, index);  // pending until SettleHistory
    ++burst_kept_;
  } else {
    if (!targets_.empty()) BuildDeliveryFrame(0, {});
    if (route_.confirm) receipt = EncodeReceipt(true, {}, 0, {}, AckSockets());
  }

  if (!targets_.empty()) {
    // The frame joins the burst; each recipient's batch lists it.
    const auto frame = static_cast<uint32_t>(burst_frames_.size());
    burst_frames_.push_back(std::move(delivery_));
    burst_frame_kept_.push_back(kept);
    for (const Subscriber* target : targets_) {
      auto [slot, added] = batch_of_.try_emplace(target, static_cast<uint32_t>(batch_count_));
      if (added) {
        if (batch_count_ == batches_.size()) batches_.emplace_back();
        batches_[batch_count_].subscriber = target;
        ++batch_count_;
      }
      batches_[slot->second].frames.push_back(frame);
    }
  }
  if (route_.confirm) {
    receipts_.push_back({std::string(View(identity_)), std::move(receipt), kept});
  }
}

void Broker::BuildDeliveryFrame(uint64_t sequence, std::span<const wire::RoomOffset> offsets) {
  // One frame for every recipient: the delivery prefix (epoch, offsets,
  // sequence) and the envelope bytes, written once into one zmq buffer;
  // each recipient's copy shares it by reference count (zmq_msg_copy of a
  // message over 33 bytes), and so does History.
  if (offsets.empty()) {
    char prefix[wire::kMaxDeliveryPrefixBytes];
    const size_t prefix_size = wire::EncodeDeliveryPrefix(epoch_, body_.size(), prefix);
    delivery_.rebuild(prefix_size + body_.size());
    char* const out = static_cast<char*>(delivery_.data());
    std::memcpy(out, prefix, prefix_size);
    std::memcpy(out + prefix_size, body_.data(), body_.size());
    return;
  }
  wire::DeliveryHeader header;
  header.epoch = epoch_;
  header.offsets = offsets;
  header.sequence = sequence;
  const size_t prefix_size = wire::DeliveryPrefixSize(header, body_.size());
  delivery_.rebuild(prefix_size + body_.size());
  char* const out = static_cast<char*>(delivery_.data());
  wire::WriteDeliveryPrefix(header, body_.size(), out);
  std::memcpy(out + prefix_size, body_.data(), body_.size());
}

Broker::SendResult Broker::SendFrames(const Peer& peer, std::span<zmq::message_t* const> frames,
                                      bool stop_when_full) {
  SendResult result;
  void* const socket = sub_.handle();
  PeerQueue& queue = *peer.queue;
  const auto budget = static_cast<uint64_t>(options_.max_peer_queue_bytes);
  zmq_msg_t copy;
  zmq_msg_init(&copy);
  size_t i = 0;
  while (i < frames.size()) {
    // This message: frames [i, end), at least one, within the limits.
    size_t end = i + 1;
    size_t bytes = frames[i]->size();
    while (end < frames.size() && end - i < kMaxBatchFrames &&
           bytes + frames[end]->size() <= kMaxBatchBytes) {
      bytes += frames[end]->size();
      ++end;
    }
    if (queue.queued() + bytes > budget) {
      if (stop_when_full) {
        result.over_budget += frames.size() - i;
        break;
      }
      result.over_budget += end - i;
      i = end;
      continue;
    }
    // The identity frame is where ROUTER_MANDATORY reports a full or gone
    // peer; once it is accepted the rest of the message is too.
    const int error_code =
        SendCopy(socket, peer.identity.data(), peer.identity.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (error_code == EAGAIN) {
      if (stop_when_full) {
        result.full += frames.size() - i;
        break;
      }
      result.full += end - i;
      i = end;
      continue;
    }
    if (error_code != 0) {
      result.unreachable += frames.size() - i;
      break;
    }
    queue.Sent(bytes);
    const bool mark = queue.WantsMark(/*last_of_operation=*/end == frames.size());
    for (; i < end; ++i) {
      const bool last = i + 1 == end;
      if (last && mark) {
        zmq_msg_close(&copy);
        PeerQueue::MarkFrame(peer.queue, frames[i]->handle(), &copy);
      } else {
        zmq_msg_copy(&copy, frames[i]->handle());
      }
      // A successful send leaves `copy` empty (reusable); a failed one keeps
      // its reference, released by the next copy or the close below.
      if (zmq_msg_send(&copy, socket, (last ? 0 : ZMQ_SNDMORE) | ZMQ_DONTWAIT) >= 0) {
        ++result.sent;
      }
    }
  }
  zmq_msg_close(&copy);
  return result;
}

Broker::SendOutcome Broker::SendMessage(std::string_view identity, const Peer* peer,
                                        zmq_msg_t* frame) {
  const size_t bytes = zmq_msg_size(frame);
  if (peer != nullptr &&
      peer->queue->queued() + bytes > static_cast<uint64_t>(options_.max_peer_queue_bytes)) {
    zmq_msg_close(frame);
    return SendOutcome::kOverBudget;
  }
  void* const socket = sub_.handle();
  const int error_code =
      SendCopy(socket, identity.data(), identity.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT);
  if (error_code != 0) {
    zmq_msg_close(frame);
    return error_code == EAGAIN ? SendOutcome::kFull : SendOutcome::kUnreachable;
  }
  zmq_msg_t marked;
  zmq_msg_t* out = frame;
  if (peer != nullptr) {
    peer->queue->Sent(bytes);
    PeerQueue::MarkFrame(peer->queue, frame, &marked);
    zmq_msg_close(frame);
    out = &marked;
  }
  if (zmq_msg_send(out, socket, ZMQ_DONTWAIT) < 0) {
    zmq_msg_close(out);
    return SendOutcome::kFull;
  }
  return SendOutcome::kSent;
}

void Broker::SendBurst() {
  for (size_t b = 0; b < batch_count_; ++b) {
    Batch& batch = batches_[b];
    frame_scratch_.clear();
    for (uint32_t frame : batch.frames) frame_scratch_.push_back(&burst_frames_[frame]);
    const std::string& identity = batch.subscriber->identity();
    Peer* peer = peers_.Find(identity);  // every subscriber is a peer's
    if (peer == nullptr) {
      batch.frames.clear();
      continue;
    }
    const SendResult result = SendFrames(*peer, frame_scratch_, /*stop_when_full=*/false);
    stats_.delivered += result.sent;
    stats_.dropped_hwm += result.full;
    stats_.dropped_peer_bytes += result.over_budget;
    peer->dropped += result.full + result.over_budget;
    if (result.unreachable > 0) {
      stats_.dropped_unreachable += result.unreachable;
      unreachable_.push_back(identity);
    }
    batch.frames.clear();
  }
  batch_count_ = 0;
  batch_of_.clear();
  burst_frames_.clear();
  burst_frame_kept_.clear();
  for (const PendingReceipt& receipt : receipts_) SendReceipt(receipt.identity, receipt.receipt);
  receipts_.clear();
  RemoveUnreachable();
}

void Broker::RemoveUnreachable() {
  if (unreachable_.empty()) return;
  for (const std::string& identity : unreachable_) peers_.Remove(identity, "unreachable");
  unreachable_.clear();
}

uint64_t Broker::AckSockets() const {
  if (!route_.has_ack_id || route_.kind != v1::KIND_EVENT || route_.channel != v1::CHANNEL_ROOMS) {
    return 0;
  }
  // Rare (a confirmed broadcast with acks): the exclusions are read from a
  // full parse rather than scanned for every envelope.
  v1::Envelope envelope;
  if (!envelope.ParseFromArray(body_.data(), static_cast<int>(body_.size()))) return 0;
  v1::Presence query;
  query.set_namespace_(envelope.namespace_());
  *query.mutable_rooms() = envelope.rooms();
  *query.mutable_except_rooms() = envelope.except_rooms();
  query.set_except_socket(envelope.except_socket());
  query.set_count_only(true);
  return sockets_->Presence(query, 0).total;
}

std::string Broker::EncodeReceipt(bool accepted, std::string_view error, uint64_t sequence,
                                  std::span<const wire::RoomOffset> offsets,
                                  uint64_t ack_sockets) const {
  v1::PublishReceipt receipt;
  receipt.set_ack_sockets(ack_sockets);
  receipt.set_origin(std::string(route_.origin));
  receipt.set_message_id(route_.message_id);
  receipt.set_accepted(accepted);
  if (!error.empty()) receipt.set_error(std::string(error));
  for (const wire::RoomOffset& offset : offsets) {
    v1::TopicOffset* entry = receipt.add_offsets();
    *entry->mutable_topic() = wire::ToProto(wire::RoomTopic(offset.ns, offset.room));
    entry->set_offset(offset.offset);
  }
  receipt.set_sequence(sequence);
  return receipt.SerializeAsString();
}

void Broker::SendReceipt(std::string_view identity, const std::string& receipt) {
  if (SendCopy(pub_.handle(), identity.data(), identity.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) != 0 ||
      SendCopy(pub_.handle(), receipt.data(), receipt.size(), ZMQ_DONTWAIT) != 0) {
    ++stats_.receipts_dropped;
    return;
  }
  ++stats_.receipts;
}

}  // namespace roomq::broker
