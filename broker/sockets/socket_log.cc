#include "broker/sockets/socket_log.h"

#include <algorithm>
#include <utility>

#include "broker/storage/record_format.h"

namespace roomq::broker::sockets {
namespace {

constexpr uint8_t kRecord = 1;
constexpr uint8_t kRooms = 2;
constexpr uint8_t kState = 3;
constexpr uint8_t kErase = 4;
constexpr size_t kStateHeaderBytes = 1 + sizeof(int64_t);

void AppendStateHeader(SocketState state, int64_t deadline_us, std::string& out) {
  out.push_back(static_cast<char>(state));
  const auto value = static_cast<uint64_t>(deadline_us);
  for (size_t i = 0; i < sizeof(value); ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

// Reads the state header; false when `payload` is too short or the state
// unknown.
bool ReadStateHeader(std::string_view payload, SocketState* state, int64_t* deadline_us) {
  if (payload.size() < kStateHeaderBytes) return false;
  const auto raw = static_cast<uint8_t>(payload[0]);
  if (raw != static_cast<uint8_t>(SocketState::kConnected) &&
      raw != static_cast<uint8_t>(SocketState::kDisconnected)) {
    return false;
  }
  *state = static_cast<SocketState>(raw);
  uint64_t value = 0;
  for (size_t i = 0; i < sizeof(value); ++i) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(payload[1 + i])) << (8 * i);
  }
  *deadline_us = static_cast<int64_t>(value);
  return true;
}

bool ParseSession(std::string_view bytes, v1::Session* session) {
  return session->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) &&
         !session->namespace_().empty() && !session->socket_id().empty();
}

void EncodeRecord(const SocketRecord& record, std::string& out) {
  out.clear();
  AppendStateHeader(record.state, record.deadline_us, out);
  record.ToSession().AppendToString(&out);
}

}  // namespace

bool ApplySocketRecord(uint8_t type, std::string_view payload, SocketIndex& index) {
  SocketState state;
  int64_t deadline_us = 0;
  v1::Session session;
  switch (type) {
    case kRecord:
      if (!ReadStateHeader(payload, &state, &deadline_us) ||
          !ParseSession(payload.substr(kStateHeaderBytes), &session)) {
        return false;
      }
      index.RestorePut(session, state, deadline_us);
      return true;
    case kRooms: {
      v1::SocketRooms rooms;
      if (!rooms.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return false;
      index.RestoreRooms(rooms);
      return true;
    }
    case kState:
      if (!ReadStateHeader(payload, &state, &deadline_us) ||
          !ParseSession(payload.substr(kStateHeaderBytes), &session)) {
        return false;
      }
      index.RestoreState(session.namespace_(), session.socket_id(), state, session.node(),
                         deadline_us);
      return true;
    case kErase:
      if (!ParseSession(payload, &session)) return false;
      index.RestoreErase(session.namespace_(), session.socket_id());
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::unique_ptr<SocketLog>> SocketLog::Open(SocketLogOptions options,
                                                           SocketIndex& index,
                                                           SocketLogReport* report) {
  SocketLogReport local;
  if (report == nullptr) report = &local;
  storage::LogOptions log_options;
  log_options.dir = std::move(options.dir);
  log_options.segment_bytes = options.segment_bytes;
  log_options.fsync = options.fsync;
  log_options.clock = options.clock;
  log_options.env = options.env;
  auto log = storage::RecordLog::Open(
      std::move(log_options),
      [&index, report](const storage::Record& record) {
        if (!ApplySocketRecord(record.type, record.payload, index)) ++report->skipped;
      },
      &report->open);
  if (!log.ok()) return log.status();
  return std::unique_ptr<SocketLog>(new SocketLog(*std::move(log), options.min_compact_bytes));
}

void SocketLog::Append(uint8_t type, std::string_view payload) {
  log_->Append(type, payload);
  appended_since_compaction_ += payload.size() + storage::kRecordHeaderBytes;
}

void SocketRecordEncoder::Put(const SocketRecord& record) {
  EncodeRecord(record, scratch_);
  sink_(kRecord, scratch_);
}

void SocketRecordEncoder::Rooms(const v1::SocketRooms& applied) {
  scratch_.clear();
  applied.AppendToString(&scratch_);
  sink_(kRooms, scratch_);
}

void SocketRecordEncoder::State(const SocketRecord& record) {
  scratch_.clear();
  AppendStateHeader(record.state, record.deadline_us, scratch_);
  v1::Session key;
  key.set_namespace_(record.session.namespace_());
  key.set_socket_id(record.session.socket_id());
  key.set_node(record.session.node());
  key.AppendToString(&scratch_);
  sink_(kState, scratch_);
}

void SocketRecordEncoder::Erase(std::string_view ns, std::string_view socket_id) {
  scratch_.clear();
  v1::Session key;
  key.set_namespace_(std::string(ns));
  key.set_socket_id(std::string(socket_id));
  key.AppendToString(&scratch_);
  sink_(kErase, scratch_);
}

absl::Status SocketLog::MaybeCompact(const SocketIndex& index) {
  if (appended_since_compaction_ <= std::max(min_compact_bytes_, 2 * index.bytes())) {
    return log_->Flush();
  }
  const uint64_t start = log_->next_index();
  index.ForEach([this](const SocketRecord& record) { Put(record); });
  appended_since_compaction_ = 0;
  ++compactions_;
  if (absl::Status status = log_->Flush(); !status.ok()) return status;
  return log_->DropBefore(start);
}

}  // namespace roomq::broker::sockets
