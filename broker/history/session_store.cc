#include "broker/history/session_store.h"

#include <algorithm>

#include "proto/base/absl_compat.h"

namespace roomq::broker::history {

absl::Status SessionStore::Save(v1::Session session, std::chrono::milliseconds ttl,
                                Clock::time_point now) {
  if (session.pid().empty() || session.namespace_().empty()) {
    return absl::InvalidArgumentError("a session needs a pid and a namespace");
  }
  if (ttl <= std::chrono::milliseconds::zero())
    return absl::InvalidArgumentError("ttl must be > 0");
  const size_t bytes = session.ByteSizeLong();
  if (static_cast<size_t>(session.rooms_size()) > kMaxSessionRooms || bytes > kMaxSessionBytes ||
      bytes > options_.max_bytes) {
    return absl::InvalidArgumentError("session over the size limit");
  }
  const Clock::time_point deadline = now + std::min(ttl, options_.max_ttl);
  if (options_.max_sessions == 0) return absl::ResourceExhaustedError("sessions are disabled");
  std::string pid = session.pid();
  Erase(pid);  // a new save replaces the old one
  while (!sessions_.empty() &&
         (sessions_.size() >= options_.max_sessions || bytes_ + bytes > options_.max_bytes)) {
    const std::string victim = by_deadline_.begin()->second;
    Erase(victim);
    ++evicted_;
  }
  sessions_.emplace(pid, Stored{std::move(session), deadline, bytes});
  bytes_ += bytes;
  by_deadline_.emplace(deadline, std::move(pid));
  return absl::OkStatus();
}

absl::StatusOr<v1::Session> SessionStore::Claim(std::string_view pid, Clock::time_point now) {
  auto it = sessions_.find(ToAbsl(pid));
  if (it == sessions_.end()) return absl::NotFoundError("unknown session");
  const bool expired = it->second.deadline <= now;
  v1::Session session = std::move(it->second.session);
  Erase(std::string(pid));
  if (expired) return absl::NotFoundError("session expired");
  return session;
}

size_t SessionStore::Expire(Clock::time_point now) {
  size_t removed = 0;
  while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
    const std::string pid = by_deadline_.begin()->second;
    Erase(pid);
    ++removed;
  }
  return removed;
}

void SessionStore::ForEach(
    const std::function<void(const v1::Session&, Clock::time_point)>& visit) const {
  for (const auto& [pid, stored] : sessions_) visit(stored.session, stored.deadline);
}

void SessionStore::Erase(const std::string& pid) {
  auto it = sessions_.find(pid);
  if (it == sessions_.end()) return;
  by_deadline_.erase({it->second.deadline, pid});
  bytes_ -= it->second.bytes;
  sessions_.erase(it);
}

}  // namespace roomq::broker::history
