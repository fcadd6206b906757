// Replication between the brokers of a failover pair (broker.h
// "Replication", broker/failover/README.md "What the backup holds").
//
// Active side: a passive peer's SyncRequest starts a session; its first
// messages are a snapshot (every history entry in sequence order and every
// socket record, as their logs write them), the rest carry each record the
// active appends from then on, history's once its burst is settled (written
// to the active's own log, when it has one). Messages are queued in the
// feed's outbox and handed to ZeroMQ as it takes them; the passive
// acknowledges positions. A lost passive, a send that cannot be queued and
// a lag past --pair-max-lag-bytes end the session: the active goes on
// alone (pair_degraded) and the passive asks for a new one when it returns.
//
// Passive side: a snapshot start drops everything held (memory and logs)
// and takes the active's epoch; each record is appended to the passive's
// own log and applied with the code that replays the logs at start, so
// sequences, offsets, socket ids and pids are the active's. A gap (a
// message of another session, or a missing position) makes it ask again.
// The epoch rule at takeover is TakeOver's.

#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "broker/broker.h"
#include "broker/broker_internal.h"
#include "broker/storage/epoch_file.h"
#include "spdlog/spdlog.h"

namespace roomq::broker {
namespace {

using internal::kRecordEnvelope;
using internal::RandomNonZero;

// A replication message is closed once its records pass this many bytes
// (a single larger record goes alone).
constexpr size_t kReplicaChunkBytes = size_t{256} << 10;

// Removes the record log files of `dir` (segments and EPOCH), leaving its
// LOCK and anything else.
absl::Status RemoveLogFiles(const std::filesystem::path& dir) {
  std::error_code error;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    const std::filesystem::path& path = it->path();
    if (path.extension() == ".log" || path.filename() == "EPOCH") {
      std::filesystem::remove(path, error);
      if (error) break;
    }
  }
  if (error && error != std::errc::no_such_file_or_directory) {
    return absl::InternalError(absl::StrCat("clearing ", dir.string(), ": ", error.message()));
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------
// Active side

void Broker::AddReplicaRecord(v1::ReplicatedLog log, uint8_t type, std::string payload) {
  if (feed_.session == 0) return;
  v1::ReplicatedRecord& record = *feed_.building.add_records();
  record.set_log(log);
  record.set_type(type);
  feed_.building_bytes += payload.size();
  record.set_payload(std::move(payload));
  ++stats_.pair_replicated_records;
  if (feed_.building_bytes >= kReplicaChunkBytes) QueueReplicaMessage();
}

void Broker::QueueReplicaMessage() {
  v1::PairFrame frame;
  frame.set_version(v1::VERSION_1);
  v1::Replicate& replicate = *frame.mutable_replicate();
  replicate.Swap(&feed_.building);
  replicate.set_session(feed_.session);
  replicate.set_position(++feed_.position);
  replicate.set_complete_at(feed_.complete_at);
  feed_.building.Clear();
  feed_.building_bytes = 0;
  std::string bytes = frame.SerializeAsString();
  feed_.unacked.emplace_back(feed_.position, bytes.size());
  feed_.unacked_bytes += bytes.size();
  feed_.outbox.push_back(std::move(bytes));
}

void Broker::ShipReplica() {
  if (feed_.session == 0) return;
  if (feed_.building.records_size() > 0) QueueReplicaMessage();
  FlushReplicaOutbox();
  if (feed_.session != 0 &&
      feed_.unacked_bytes > feed_.snapshot_bytes + options_.pair.max_lag_bytes) {
    EndReplicaSession(absl::StrCat("it lags more than --pair-max-lag-bytes (",
                                   options_.pair.max_lag_bytes, " bytes)"));
  }
}

void Broker::FlushReplicaOutbox() {
  while (!feed_.outbox.empty()) {
    const std::string& bytes = feed_.outbox.front();
    if (!pair_out_.send(zmq::buffer(bytes), zmq::send_flags::dontwait)) return;  // full: later
    feed_.outbox.pop_front();
  }
}

void Broker::StartReplicaSession() {
  feed_ = ReplicaFeed{};
  feed_.session = RandomNonZero();
  feed_.building.set_snapshot_start(true);
  feed_.building.set_epoch(epoch_);
  size_t history_records = 0;
  history_->ForEachEntry([this, &history_records](const history::Entry& entry) {
    std::string record;
    internal::EncodeEnvelopeRecord(entry.time_us, internal::View(entry.frame), record);
    AddReplicaRecord(v1::REPLICATED_LOG_HISTORY, kRecordEnvelope, std::move(record));
    ++history_records;
  });
  size_t socket_records = 0;
  sockets::SocketRecordEncoder encoder([this](uint8_t type, std::string_view payload) {
    AddReplicaRecord(v1::REPLICATED_LOG_SOCKETS, type, std::string(payload));
  });
  sockets_->ForEach([&encoder, &socket_records](const sockets::SocketRecord& record) {
    encoder.Put(record);
    ++socket_records;
  });
  feed_.building.set_snapshot_end(true);
  QueueReplicaMessage();
  feed_.snapshot_end = feed_.position;
  feed_.snapshot_bytes = feed_.unacked_bytes;
  ++stats_.pair_syncs;
  spdlog::info(
      "pair: replicating to the passive broker: session {:x}, snapshot of {} history and {} "
      "socket records ({} messages, {} bytes), epoch={}",
      feed_.session, history_records, socket_records, feed_.position, feed_.snapshot_bytes, epoch_);
  FlushReplicaOutbox();
}

void Broker::EndReplicaSession(std::string_view why) {
  if (feed_.session == 0) return;
  spdlog::warn("pair: replication session {:x} ended: {}; serving without a replica", feed_.session,
               why);
  feed_ = ReplicaFeed{};
}

void Broker::HandleReplicaAck(const v1::ReplicaAck& ack) {
  if (ack.session() != feed_.session || ack.position() <= feed_.acked) return;
  const bool was_synced = feed_.synced();
  feed_.acked = std::min(ack.position(), feed_.position);
  while (!feed_.unacked.empty() && feed_.unacked.front().first <= feed_.acked) {
    feed_.unacked_bytes -= feed_.unacked.front().second;
    feed_.unacked.pop_front();
  }
  if (!was_synced && feed_.synced()) {
    // What was sent or built up to now went out unwaited; from here on
    // (with --pair-ack both) nothing leaves before the passive has it.
    if (feed_.building.records_size() > 0) QueueReplicaMessage();
    feed_.complete_at = feed_.position;
    spdlog::info("pair: the passive broker holds the snapshot of session {:x}", feed_.session);
  }
}

void Broker::AwaitReplica() {
  if (!feed_.synced()) return;  // no passive holds the stream: alone (degraded)
  if (feed_.building.records_size() > 0) QueueReplicaMessage();
  const uint64_t session = feed_.session;
  const uint64_t target = feed_.position;
  if (feed_.acked >= target) return;
  awaiting_replica_ = true;
  zmq_pollitem_t items[2] = {{pair_in_.handle(), 0, ZMQ_POLLIN, 0},
                             {pair_out_.handle(), 0, ZMQ_POLLOUT, 0}};
  // Ends when the passive has the burst, is lost (SendPairHeartbeat ends
  // the session), or asked for a new session (its snapshot then holds the
  // burst, unwaited: complete_at comes after it).
  while (feed_.session == session && feed_.acked < target &&
         !stop_.load(std::memory_order_relaxed)) {
    FlushReplicaOutbox();
    const Clock::time_point now = options_.clock->Now();
    if (now >= next_pair_heartbeat_) SendPairHeartbeat(now);
    if (feed_.session != session) break;
    const long timeout_ms = std::max<long>(
        0,
        std::chrono::duration_cast<std::chrono::milliseconds>(next_pair_heartbeat_ - now).count() +
            1);
    if (zmq_poll(items, feed_.outbox.empty() ? 1 : 2, timeout_ms) < 0 && zmq_errno() != EINTR) {
      break;
    }
    if (items[0].revents & ZMQ_POLLIN) DrainPair();
  }
  awaiting_replica_ = false;
}

// ---------------------------------------------------------------------------
// Passive side

void Broker::RequestSync(Clock::time_point now) {
  if (now < follow_.next_request) return;
  // Time for a large snapshot to start arriving before asking again.
  follow_.next_request = now + 4 * options_.pair.heartbeat;
  v1::PairFrame frame;
  frame.set_version(v1::VERSION_1);
  frame.mutable_sync_request();
  SendPairFrame(frame);
}

void Broker::HandleReplicate(const v1::Replicate& replicate) {
  if (pair_->state() != failover::PairState::kPassive) return;  // only a follower applies
  if (replicate.snapshot_start()) {
    ResetForSnapshot(replicate.epoch());
    follow_ = ReplicaFollow{.session = replicate.session(),
                            .position = replicate.position() - 1,
                            .next_request = follow_.next_request};
    ++stats_.pair_syncs;
  }
  if (replicate.session() != follow_.session || replicate.position() != follow_.position + 1) {
    if (follow_.session != 0) {
      spdlog::warn("pair: replication gap: expected {:x}/{}, got {:x}/{}; asking again",
                   follow_.session, follow_.position + 1, replicate.session(),
                   replicate.position());
    }
    follow_ = ReplicaFollow{.next_request = follow_.next_request};
    RequestSync(options_.clock->Now());
    return;
  }
  for (const v1::ReplicatedRecord& record : replicate.records()) {
    const auto type = static_cast<uint8_t>(record.type());
    if (record.log() == v1::REPLICATED_LOG_HISTORY) {
      const uint64_t index = log_ != nullptr ? log_->Append(type, record.payload()) : 0;
      RestoreRecord({index, type, record.payload()});
    } else if (record.log() == v1::REPLICATED_LOG_SOCKETS) {
      if (socket_log_ != nullptr) socket_log_->Append(type, record.payload());
      if (!sockets::ApplySocketRecord(type, record.payload(), *sockets_)) ++restore_skipped_;
    } else {
      ++restore_skipped_;
    }
  }
  stats_.pair_replicated_records += replicate.records_size();
  follow_.position = replicate.position();
  follow_.ack_due = true;
  NoteCompleteAt(replicate.complete_at());
  if (replicate.snapshot_end()) {
    spdlog::info(
        "pair: in sync with the active broker: session {:x}, epoch={}, history {} entries "
        "(sequence {}), {} socket records",
        follow_.session, epoch_, history_->entry_count(), history_->last_sequence(),
        sockets_->connected() + sockets_->disconnected());
  }
}

void Broker::NoteCompleteAt(uint64_t complete_at) {
  if (complete_at != 0) follow_.complete_at = complete_at;
  follow_.synced =
      follow_.session != 0 && follow_.complete_at != 0 && follow_.position >= follow_.complete_at;
}

void Broker::AckReplica() {
  follow_.ack_due = false;
  // Written to the logs (per --fsync) before the active hears it; a log
  // that fails is counted and retried, the records are held in memory.
  FlushLog();
  FlushSocketLog();
  v1::PairFrame frame;
  frame.set_version(v1::VERSION_1);
  frame.mutable_ack()->set_session(follow_.session);
  frame.mutable_ack()->set_position(follow_.position);
  SendPairFrame(frame);
}

void Broker::ResetForSnapshot(uint64_t epoch) {
  history_ = std::make_unique<history::History>(options_.history);
  sockets_ = std::make_unique<sockets::SocketIndex>(options_.sessions);
  sockets_->SetJournal(socket_journal_.get());
  restart_grace_pending_ = false;
  epoch_ = epoch;
  if (options_.data_dir.empty()) return;
  log_.reset();
  socket_log_.reset();
  const std::filesystem::path dir(options_.data_dir);
  absl::Status status = RemoveLogFiles(dir);
  if (status.ok()) status = RemoveLogFiles(dir / "sockets");
  if (status.ok()) status = storage::WriteEpoch(options_.data_dir, epoch);
  if (status.ok()) status = OpenLog();
  if (status.ok()) status = OpenSocketLog();
  if (!status.ok()) {
    // The replica lives on in memory; a restart of this broker loses it.
    spdlog::error("pair: starting the logs afresh for the snapshot failed: {}", status.ToString());
    log_.reset();
    socket_log_.reset();
  }
}

void Broker::TakeOver() {
  // The new active keeps the epoch only when it provably holds every record
  // the old one delivered: with --pair-ack both nothing left the old active
  // after Replicate.complete_at before this broker had it, and this broker
  // applied everything up to complete_at (follow_.synced). Otherwise offsets the old active handed
  // out after the last record here could be handed out again for other envelopes: a new epoch makes
  // every resume a `truncated` one instead.
  const bool keep = options_.pair.ack_both && follow_.synced;
  const uint64_t old_epoch = epoch_;
  if (!keep) {
    epoch_ = RandomNonZero();
    if (!options_.data_dir.empty()) {
      if (absl::Status status = storage::WriteEpoch(options_.data_dir, epoch_); !status.ok()) {
        spdlog::error("pair: writing the new epoch: {}", status.ToString());
      }
    }
  }
  spdlog::info(
      "pair: serving with epoch {} ({}), history {} entries (sequence {}), {} socket records",
      epoch_,
      keep
          ? "kept: every record the old active delivered is here"
          : absl::StrCat("new, was ", old_epoch,
                         follow_.synced ? ": --pair-ack primary" : ": the replica was not in sync"),
      history_->entry_count(), history_->last_sequence(),
      sockets_->connected() + sockets_->disconnected());
  follow_ = ReplicaFollow{};
  if (sockets_->connected() > 0) {
    // The old active's nodes get three heartbeats to say Hello here (and
    // list their sockets); the records of those that do not disconnect.
    restart_grace_pending_ = true;
    restart_grace_until_ = options_.clock->Now() + kSilentHeartbeats * options_.heartbeat;
  }
}

}  // namespace roomq::broker
