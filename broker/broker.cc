#include "broker/broker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "broker/security/curve_server.h"
#include "google/protobuf/io/coded_stream.h"
#include "proto/base/absl_compat.h"
#include "proto/wire/delivery.h"
#include "proto/wire/topic.h"
#include "spdlog/spdlog.h"

namespace roomq::broker {
namespace {

// Messages read from one socket before the loop looks at the other one and
// at its timers: keeps either side from starving the other.
constexpr int kBurst = 1024;
// Limits of one ROUTER message to a subscriber: at most this many frames
// (deliveries), and no more bytes than kMaxBatchBytes unless its only frame
// is larger. A burst's deliveries past them go in further messages.
constexpr size_t kMaxBatchFrames = wire::kMaxDeliveriesPerMessage;
constexpr size_t kMaxBatchBytes = 256 * 1024;
// How often silent peers, old history and expired sessions are looked for.
constexpr std::chrono::milliseconds kHousekeepingInterval{25};
// RecordLog record types.
constexpr uint8_t kRecordEnvelope = 1;  // u64 LE wall-clock us + live delivery frame
// BrokerFrame.recovered (field 4, length-delimited) and Recovered.missed (5).
constexpr int kBrokerFrameRecoveredField = 4;
constexpr int kRecoveredMissedField = 5;
// PublishReceipt.error of a publish refused because its history record could
// not be written. Fixed text: the log's own error names paths, which the
// gateway would pass on to browsers.
constexpr std::string_view kHistoryUnavailable = "history log unavailable";

int64_t MicrosSinceEpoch(base::Clock::WallTime time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}

uint64_t RandomEpoch() {
  std::random_device random;
  uint64_t epoch = 0;
  while (epoch == 0) epoch = (static_cast<uint64_t>(random()) << 32) ^ random();
  return epoch;
}

std::string_view View(const zmq::message_t& message) {
  return {static_cast<const char*>(message.data()), message.size()};
}

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

// Receives and discards the rest of a multipart message.
void DrainRest(zmq::socket_t& socket) {
  zmq::message_t rest;
  do {
    if (zmq_msg_recv(rest.handle(), socket.handle(), ZMQ_DONTWAIT) < 0) return;
  } while (rest.more());
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
  const uint64_t epoch = options.epoch != 0 ? options.epoch : RandomEpoch();
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
  if (!broker->options_.data_dir.empty()) {
    if (absl::Status status = broker->OpenLog(); !status.ok()) return status;
    if (absl::Status status = broker->OpenSocketLog(); !status.ok()) return status;
  }
  return broker;
}

Broker::Broker(zmq::context_t& context, BrokerOptions options, uint64_t epoch)
    : options_(std::move(options)),
      epoch_(epoch),
      pub_(context, zmq::socket_type::router),
      sub_(context, zmq::socket_type::router),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      peers_(routes_, options_.heartbeat),
      history_(options_.history),
      sockets_(options_.sessions) {
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
      const std::string message = absl::StrCat(side.flag, " ", side.endpoint, ": ", e.what());
      if (e.num() == EADDRINUSE || e.num() == EADDRNOTAVAIL || e.num() == EACCES) {
        return absl::UnavailableError(message);
      }
      return absl::InvalidArgumentError(message);
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
  absl::Status result = absl::OkStatus();
  zmq_pollitem_t items[3] = {
      {pub_.handle(), 0, ZMQ_POLLIN, 0},
      {sub_.handle(), 0, ZMQ_POLLIN, 0},
      {nullptr, wake_fd_, ZMQ_POLLIN, 0},
  };
  while (!stop_.load(std::memory_order_relaxed)) {
    Clock::time_point now = options_.clock->Now();
    const auto wait = std::min(next_housekeeping_, next_stats_) - now;
    const long timeout_ms =
        std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(wait).count() + 1);
    if (zmq_poll(items, 3, timeout_ms) < 0) {
      if (zmq_errno() == EINTR) continue;
      result = absl::InternalError(absl::StrCat("zmq_poll: ", zmq_strerror(zmq_errno())));
      break;
    }
    if (items[1].revents & ZMQ_POLLIN) DrainSubscribers();
    if (items[0].revents & ZMQ_POLLIN) DrainPublishers();
    now = options_.clock->Now();
    if (now >= next_housekeeping_) Housekeeping(now);
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
  history_.ExpireOld(wall_us);
  if (restart_grace_pending_ && now >= restart_grace_until_) {
    // Records restored as connected whose node has not said Hello since
    // the restart: the node is gone (or will reconcile when it comes).
    restart_grace_pending_ = false;
    for (const std::string& node : sockets_.Nodes()) {
      if (peers_.FindByNode(node) == nullptr) sockets_.NodeDown(node, wall_us);
    }
  }
  sockets_.Expire(wall_us);
  if (socket_log_ != nullptr) {
    FlushSocketLog(/*compact=*/true);
  }
  if (log_ != nullptr) {
    FlushLog();  // also runs the interval fsync when publishing is quiet
    const uint64_t oldest = history_.oldest_log_index();
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
  stats_.history_entries = history_.entry_count();
  stats_.history_bytes = history_.bytes();
  stats_.socket_records_connected = sockets_.connected();
  stats_.socket_records_disconnected = sockets_.disconnected();
  stats_.socket_records_bytes = sockets_.bytes();
  stats_.socket_records_evicted = sockets_.stats().evicted;
  stats_.socket_records_refused = sockets_.stats().refused;
  stats_.socket_records_invalid = sockets_.stats().invalid;
  stats_.socket_records_expired = sockets_.stats().expired;
  stats_.socket_updates_ignored = sockets_.stats().unknown;
  stats_.history_failing = log_failing_ ? 1 : 0;
  stats_.peer_queued_bytes = 0;
  stats_.peer_queued_bytes_max = 0;
  peers_.ForEach([this](const Peer& peer) {
    const uint64_t queued = peer.queue->queued();
    stats_.peer_queued_bytes += queued;
    stats_.peer_queued_bytes_max = std::max(stats_.peer_queued_bytes_max, queued);
  });
  stats_.log_buffered_bytes = log_ != nullptr ? log_->buffered_bytes() : 0;
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
  // The burst's records reach the file before anyone sees their offsets.
  SettleHistory();
  SendBurst();
}

void Broker::SettleHistory() {
  const bool written = FlushLog();
  if (burst_kept_ == 0) return;
  const uint64_t kept = std::exchange(burst_kept_, 0);
  if (written) {
    history_.Commit();
    stats_.kept += kept;
    return;
  }
  // Nothing of these envelopes was stored: take them back and refuse them.
  log_->DiscardBuffered();
  history_.Abandon();
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
  ++stats_.routed;

  targets_.clear();
  routes_.Match(route_, [this](const Subscriber& subscriber) { targets_.push_back(&subscriber); });
  if (targets_.empty()) ++stats_.unrouted;

  std::string receipt;
  const bool kept = history_.Keeps(route_);
  if (kept) {
    const uint64_t sequence = history_.Stamp(route_);
    BuildDeliveryFrame(sequence, history_.stamped_offsets());
    if (route_.confirm) receipt = EncodeReceipt(true, {}, sequence, history_.stamped_offsets());
    uint64_t index = 0;
    if (log_ != nullptr) {
      record_scratch_.resize(sizeof(int64_t));
      const uint64_t time = static_cast<uint64_t>(wall_now_us_);
      for (size_t i = 0; i < sizeof(time); ++i)
        record_scratch_[i] = static_cast<char>(time >> (8 * i));
      record_scratch_.append(View(delivery_));
      index = log_->Append(kRecordEnvelope, record_scratch_);
    }
    history_.Keep(delivery_, wall_now_us_, index);  // pending until SettleHistory
    ++burst_kept_;
  } else {
    if (!targets_.empty()) BuildDeliveryFrame(0, {});
    if (route_.confirm) receipt = EncodeReceipt(true, {}, 0, {});
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

std::string Broker::EncodeReceipt(bool accepted, std::string_view error, uint64_t sequence,
                                  std::span<const wire::RoomOffset> offsets) const {
  v1::PublishReceipt receipt;
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

// ---------------------------------------------------------------------------
// Persistence

absl::Status Broker::OpenLog() {
  storage::LogOptions log_options;
  log_options.dir = options_.data_dir;
  log_options.fsync = options_.fsync;
  log_options.clock = options_.clock;
  log_options.env = options_.log_env;
  storage::OpenReport report;
  const auto start = options_.clock->Now();
  auto log = storage::RecordLog::Open(
      log_options, [this](const storage::Record& record) { RestoreRecord(record); }, &report);
  if (!log.ok()) return log.status();
  log_ = std::move(*log);
  epoch_ = log_->epoch();
  history_.ExpireOld(MicrosSinceEpoch(options_.clock->WallNow()));
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.clock->Now() - start);
  spdlog::info("history restored from {}: records={} segments={} kept={} sequence={} in {} ms{}",
               options_.data_dir, report.records, report.segments, history_.entry_count(),
               history_.last_sequence(), took.count(),
               report.truncated_bytes == 0
                   ? std::string()
                   : absl::StrCat(" torn tail cut: ", report.truncated_bytes, " bytes (",
                                  report.truncated_reason, ")"));
  return absl::OkStatus();
}

absl::Status Broker::OpenSocketLog() {
  sockets::SocketLogOptions log_options;
  log_options.dir = options_.data_dir + "/sockets";
  log_options.fsync = options_.fsync;
  log_options.clock = options_.clock;
  log_options.env = options_.log_env;
  sockets::SocketLogReport report;
  auto log = sockets::SocketLog::Open(log_options, sockets_, &report);
  if (!log.ok()) return log.status();
  socket_log_ = std::move(*log);
  sockets_.SetJournal(socket_log_.get());
  const size_t expired = sockets_.Expire(WallMicros());
  if (sockets_.connected() > 0) {
    // Their nodes get three heartbeats to say Hello (and then list their
    // sockets); the records of a node that does not are disconnected.
    restart_grace_pending_ = true;
    restart_grace_until_ = options_.clock->Now() + kSilentHeartbeats * options_.heartbeat;
  }
  spdlog::info(
      "socket records restored from {}/sockets: records={} connected={} "
      "disconnected={} expired={} skipped={}{}",
      options_.data_dir, report.open.records, sockets_.connected(), sockets_.disconnected(),
      expired, report.skipped,
      report.open.truncated_bytes == 0
          ? std::string()
          : absl::StrCat(" torn tail cut: ", report.open.truncated_bytes, " bytes (",
                         report.open.truncated_reason, ")"));
  return absl::OkStatus();
}

void Broker::FlushSocketLog(bool compact) {
  if (socket_log_ == nullptr) return;
  const absl::Status status = compact ? socket_log_->MaybeCompact(sockets_) : socket_log_->Flush();
  if (status.ok()) {
    if (socket_log_failing_) spdlog::info("roomq-broker: the socket record log takes writes again");
    socket_log_failing_ = false;
    return;
  }
  ++stats_.socket_log_write_failures;
  if (!socket_log_failing_) {
    spdlog::error(
        "roomq-broker: writing the socket record log failed: {}; socket records live on in "
        "memory but may not survive a restart",
        status.ToString());
  }
  socket_log_failing_ = true;
}

void Broker::RestoreRecord(const storage::Record& record) {
  if (record.type != kRecordEnvelope || record.payload.size() < sizeof(uint64_t)) {
    ++restore_skipped_;
    return;
  }
  uint64_t time = 0;
  for (size_t i = 0; i < sizeof(time); ++i) {
    time |= static_cast<uint64_t>(static_cast<uint8_t>(record.payload[i])) << (8 * i);
  }
  const std::string_view frame = record.payload.substr(sizeof(time));
  auto body = wire::DeliveryBody(frame);
  v1::Delivery delivery;
  if (!body.ok() || !delivery.ParseFromArray(body->data(), static_cast<int>(body->size())) ||
      delivery.offsets().empty() || delivery.sequence() == 0) {
    ++restore_skipped_;
    return;
  }
  absl::InlinedVector<wire::RoomOffset, wire::kInlineRooms> offsets;
  for (const v1::TopicOffset& offset : delivery.offsets()) {
    offsets.push_back({offset.topic().namespace_(), offset.topic().name(), offset.offset()});
  }
  zmq::message_t message(frame.data(), frame.size());
  history_.Restore(offsets.front().ns, offsets, delivery.sequence(), message,
                   static_cast<int64_t>(time), record.index);
}

bool Broker::FlushLog() {
  if (log_ == nullptr) return true;
  const uint64_t writes = log_->stats().writes;
  const absl::Status status = log_->Flush();
  if (status.ok()) {
    // Only a write that stored records shows the log works again; an empty
    // Flush proves nothing.
    if (log_failing_ && log_->stats().writes > writes) {
      log_failing_ = false;
      spdlog::info("roomq-broker: the history log takes writes again");
    }
    return true;
  }
  ++stats_.history_write_failures;
  if (!log_failing_) {
    spdlog::error("roomq-broker: writing the history log failed: {}{}", status.ToString(),
                  log_->broken().ok() ? "; publishes history keeps are refused until a write "
                                        "succeeds"
                                      : "; the log is broken: publishes history keeps are "
                                        "refused until the broker restarts");
  }
  log_failing_ = true;
  return false;
}

// ---------------------------------------------------------------------------
// Subscriber commands

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
        sockets_.NodeDown(peer.node, WallMicros());
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
      frame.mutable_pong()->set_sequence(history_.last_sequence());
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
        history_.Resume(topic.ns, topic.name, same_epoch, point.after_offset(),
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
        // recovery without a client offset replays from.
        v1::Session session = update.open().session();
        session.set_epoch(epoch_);
        session.set_since_sequence(history_.last_sequence());
        if (absl::IsResourceExhausted(
                sockets_.Open(std::move(session), peer->node, peer->generation))) {
          ++refused;
        }
        break;
      }
      case v1::SocketUpdate::kRooms:
        (void)sockets_.Rooms(update.rooms(), peer->node);
        break;
      case v1::SocketUpdate::kClose:
        (void)sockets_.Close(update.close().namespace_(), update.close().socket_id(),
                             update.close().recoverable(), peer->node, wall_us);
        break;
      default:
        ++stats_.malformed_count(Malformed::kCommand);
        break;
    }
  }
  if (sockets.full()) sockets_.Reconcile(peer->node, peer->generation, wall_us);
  // A node that asks for an answer (gateways do not) gets it once the
  // changes are written.
  if (command.request_id() != 0) FlushSocketLog();
  if (refused > 0) {
    refusals_unlogged_ += refused;
    if (now >= next_refusal_log_) {
      spdlog::warn(
          "roomq-broker: socket records full ({} records, {} bytes, all connected): {} sockets "
          "work but cannot be recovered (sessions.max_records / max_bytes)",
          sockets_.size(), sockets_.bytes(), refusals_unlogged_);
      refusals_unlogged_ = 0;
      next_refusal_log_ = now + std::chrono::seconds(10);
    }
  }
}

void Broker::PeerRemoved(const Peer& peer, std::string_view reason) {
  // "replaced": the same node's new connection said Hello and sends its
  // full list next, which reconciles.
  if (!peer.known || reason == "replaced") return;
  sockets_.NodeDown(peer.node, WallMicros());
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
    if (history_.MissingSince(ns, "", after)) return {RecoverOutcome::kGap, "history truncated"};
    for (const std::string& room : record.rooms) {
      if (history_.MissingSince(ns, room, after)) {
        return {RecoverOutcome::kGap, "history truncated"};
      }
    }
    history_.CollectSince(ns, "", after, missed);
    for (const std::string& room : record.rooms) history_.CollectSince(ns, room, after, missed);
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
  sockets::RecoverResult result = sockets_.Recover(request.pid(), request.namespace_(), peer.node,
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
  std::memcpy(p, head.data(), head.size());
  p += head.size();
  for (const history::Entry* entry : missed) {
    p += wire::WriteReplayedField(kRecoveredMissedField, entry->body(), p);
  }
  FlushSocketLog();  // the record's move is written before anyone acts on it
  if (SendMessage(peer.identity, &peer, &message) != SendOutcome::kSent) {
    // The node never learns it holds the socket: the record goes back to
    // disconnected for the client's next attempt.
    (void)sockets_.Close(ns, socket_id, /*recoverable=*/true, peer.node, wall_us);
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
  for (const v1::Topic& topic : subscribe.topics()) {
    if (topic.channel() != v1::CHANNEL_ROOMS ||
        history_.LimitsOf(topic.namespace_()).max_messages == 0) {
      continue;
    }
    v1::TopicOffset* current = reply.add_current();
    *current->mutable_topic() = topic;
    current->set_offset(history_.OffsetRange(topic.namespace_(), topic.name()).second);
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

void Broker::SendBrokerFrame(std::string_view identity, const v1::BrokerFrame& frame) {
  zmq_msg_t message;
  zmq_msg_init_size(&message, frame.ByteSizeLong());
  frame.SerializeWithCachedSizesToArray(static_cast<uint8_t*>(zmq_msg_data(&message)));
  // A full, over-budget or gone subscriber misses this answer; its
  // heartbeat recovers.
  (void)SendMessage(identity, peers_.Find(identity), &message);
}

}  // namespace roomq::broker
