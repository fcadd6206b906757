#include "broker/history/session_log.h"

#include <algorithm>
#include <utility>

#include "broker/storage/record_format.h"

namespace roomq::broker::history {
namespace {

int64_t WallMicros(base::Clock::WallTime time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}

void PutU64(uint64_t value, std::string& out) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

uint64_t GetU64(std::string_view bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  }
  return value;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SessionLog>> SessionLog::Open(storage::LogOptions options,
                                                             SessionStore* store,
                                                             Restored* restored) {
  const base::Clock* clock = options.clock;
  const int64_t wall_now = WallMicros(clock->WallNow());
  const auto now = clock->Now();
  Restored counts;
  auto replay = [&](const storage::Record& record) {
    if (record.type == kRecordSessionErased) {
      (void)store->Claim(record.payload, now);
      return;
    }
    v1::Session session;
    if (record.type != kRecordSessionSaved || record.payload.size() < 8 ||
        !session.ParseFromArray(record.payload.data() + 8,
                                static_cast<int>(record.payload.size() - 8))) {
      ++counts.skipped;
      return;
    }
    const auto deadline = static_cast<int64_t>(GetU64(record.payload));
    if (deadline <= wall_now || !store
                                     ->Save(std::move(session),
                                            std::chrono::ceil<std::chrono::milliseconds>(
                                                std::chrono::microseconds(deadline - wall_now)),
                                            now)
                                     .ok()) {
      ++counts.skipped;
    }
  };
  options.segment_bytes = kSessionSegmentBytes;
  auto log = storage::RecordLog::Open(std::move(options), replay, &counts.report);
  if (!log.ok()) return log.status();
  counts.saved = store->size();
  if (restored != nullptr) *restored = counts;
  return std::unique_ptr<SessionLog>(new SessionLog(*std::move(log), clock));
}

void SessionLog::Append(uint8_t type, std::string_view payload) {
  log_->Append(type, payload);
  appended_since_compaction_ += payload.size() + storage::kRecordHeaderBytes;
}

void SessionLog::Saved(const v1::Session& session, std::chrono::milliseconds ttl) {
  scratch_.clear();
  PutU64(
      static_cast<uint64_t>(WallMicros(clock_->WallNow()) + std::chrono::microseconds(ttl).count()),
      scratch_);
  session.AppendToString(&scratch_);
  Append(kRecordSessionSaved, scratch_);
}

void SessionLog::Erased(std::string_view pid) { Append(kRecordSessionErased, pid); }

absl::Status SessionLog::Flush() { return log_->Flush(); }

absl::Status SessionLog::MaybeCompact(const SessionStore& store) {
  if (appended_since_compaction_ > std::max(kMinCompactBytes, 2 * store.bytes())) {
    const uint64_t start = log_->next_index();
    const auto now = clock_->Now();
    appended_since_compaction_ = 0;
    store.ForEach([&](const v1::Session& session, SessionStore::Clock::time_point deadline) {
      if (deadline > now) {
        Saved(session, std::chrono::ceil<std::chrono::milliseconds>(deadline - now));
      }
    });
    ++compactions_;
    if (absl::Status status = log_->Flush(); !status.ok()) return status;
    return log_->DropBefore(start);
  }
  return log_->Flush();
}

}  // namespace roomq::broker::history
