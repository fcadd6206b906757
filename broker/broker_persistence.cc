// Broker: the history log and the socket log behind --data-dir (opening,
// restoring, flushing). The loop is in broker.cc.

#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "broker/broker.h"
#include "broker/broker_internal.h"
#include "proto/wire/delivery.h"
#include "spdlog/spdlog.h"

namespace roomq::broker {

using internal::kRecordEnvelope;
using internal::MicrosSinceEpoch;

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
  history_->ExpireOld(MicrosSinceEpoch(options_.clock->WallNow()));
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.clock->Now() - start);
  spdlog::info("history restored from {}: records={} segments={} kept={} sequence={} in {} ms{}",
               options_.data_dir, report.records, report.segments, history_->entry_count(),
               history_->last_sequence(), took.count(),
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
  auto log = sockets::SocketLog::Open(log_options, *sockets_, &report);
  if (!log.ok()) return log.status();
  socket_log_ = std::move(*log);
  const size_t expired = sockets_->Expire(WallMicros());
  if (sockets_->connected() > 0) {
    // Their nodes get three heartbeats to say Hello (and then list their
    // sockets); the records of a node that does not are disconnected.
    restart_grace_pending_ = true;
    restart_grace_until_ = options_.clock->Now() + kSilentHeartbeats * options_.heartbeat;
  }
  spdlog::info(
      "socket records restored from {}/sockets: records={} connected={} "
      "disconnected={} expired={} skipped={}{}",
      options_.data_dir, report.open.records, sockets_->connected(), sockets_->disconnected(),
      expired, report.skipped,
      report.open.truncated_bytes == 0
          ? std::string()
          : absl::StrCat(" torn tail cut: ", report.open.truncated_bytes, " bytes (",
                         report.open.truncated_reason, ")"));
  return absl::OkStatus();
}

void Broker::FlushSocketLog(bool compact) {
  if (socket_log_ == nullptr) return;
  const absl::Status status = compact ? socket_log_->MaybeCompact(*sockets_) : socket_log_->Flush();
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
  history_->Restore(offsets.front().ns, offsets, delivery.sequence(), message,
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

}  // namespace roomq::broker
