#include "broker/sockets/socket_index.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "proto/base/absl_compat.h"

namespace roomq::broker::sockets {

std::string_view RecoverOutcomeName(RecoverOutcome outcome) {
  switch (outcome) {
    case RecoverOutcome::kRecovered:
      return "recovered";
    case RecoverOutcome::kTakenOver:
      return "taken_over";
    case RecoverOutcome::kGap:
      return "gap";
    case RecoverOutcome::kExpired:
      return "expired";
    case RecoverOutcome::kUnknown:
      return "unknown";
    case RecoverOutcome::kEpochChanged:
      return "epoch_changed";
    case RecoverOutcome::kRefused:
      return "refused";
    case RecoverOutcome::kCount:
      break;
  }
  return "unknown";
}

v1::Session SocketRecord::ToSession() const {
  v1::Session out = session;
  out.mutable_rooms()->Reserve(static_cast<int>(rooms.size()));
  for (const std::string& room : rooms) out.add_rooms(room);
  return out;
}

SocketIndex::SocketIndex(SocketIndexOptions options) : options_(options) {}

std::string SocketIndex::Key(std::string_view ns, std::string_view socket_id) {
  // Length-prefixed: no (namespace, id) pair can spell another's key.
  return absl::StrCat(ns.size(), ":", ToAbsl(ns), ToAbsl(socket_id));
}

size_t SocketIndex::RoomBytes(std::string_view room) {
  // As a Session.rooms field: tag, length, bytes.
  return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(room.size()) + room.size();
}

SocketRecord* SocketIndex::FindMutable(std::string_view key) const {
  auto it = records_.find(ToAbsl(key));
  return it == records_.end() ? nullptr : it->second.get();
}

const SocketRecord* SocketIndex::Find(std::string_view ns, std::string_view socket_id) const {
  return FindMutable(Key(ns, socket_id));
}

const SocketRecord* SocketIndex::FindByPid(std::string_view pid) const {
  auto it = by_pid_.find(ToAbsl(pid));
  return it == by_pid_.end() ? nullptr : it->second;
}

std::vector<std::string> SocketIndex::Nodes() const {
  std::vector<std::string> nodes;
  nodes.reserve(by_node_.size());
  for (const auto& [node, records] : by_node_) nodes.push_back(node);
  return nodes;
}

void SocketIndex::Recount(SocketRecord* record) {
  bytes_ -= record->bytes;
  record->bytes = record->session.ByteSizeLong() + record->rooms_bytes;
  bytes_ += record->bytes;
}

SocketRecord* SocketIndex::Insert(v1::Session session, absl::flat_hash_set<std::string> rooms,
                                  SocketState state, int64_t deadline_us) {
  auto owned = std::make_unique<SocketRecord>();
  SocketRecord* record = owned.get();
  record->key = Key(session.namespace_(), session.socket_id());
  record->session = std::move(session);
  record->rooms = std::move(rooms);
  for (const std::string& room : record->rooms) record->rooms_bytes += RoomBytes(room);
  record->state = state;
  record->deadline_us = deadline_us;
  record->serial = next_serial_++;
  record->bytes = record->session.ByteSizeLong() + record->rooms_bytes;
  bytes_ += record->bytes;
  if (!record->session.pid().empty()) by_pid_[record->session.pid()] = record;
  if (state == SocketState::kConnected) {
    by_node_[record->session.node()].insert(record);
    AddMembers(record);
  } else {
    record->session.clear_node();
    Recount(record);
    by_deadline_.insert(record);
  }
  records_.emplace(record->key, std::move(owned));
  return record;
}

void SocketIndex::Remove(SocketRecord* record) {
  if (!record->session.pid().empty()) {
    auto pid = by_pid_.find(record->session.pid());
    if (pid != by_pid_.end() && pid->second == record) by_pid_.erase(pid);
  }
  Unplace(record);
  bytes_ -= record->bytes;
  const std::string key = record->key;
  records_.erase(key);
}

void SocketIndex::RemoveAndJournal(SocketRecord* record) {
  const std::string ns = record->session.namespace_();
  const std::string socket_id = record->session.socket_id();
  Remove(record);
  if (journal_ != nullptr) journal_->Erase(ns, socket_id);
}

void SocketIndex::Unplace(SocketRecord* record) {
  if (!record->connected()) {
    by_deadline_.erase(record);
    return;
  }
  DropMembers(record);
  auto node = by_node_.find(record->session.node());
  if (node == by_node_.end()) return;
  node->second.erase(record);
  if (node->second.empty()) by_node_.erase(node);
}

void SocketIndex::Connect(SocketRecord* record, std::string_view node) {
  if (record->connected() && record->session.node() == node) return;
  Unplace(record);
  record->state = SocketState::kConnected;
  record->deadline_us = 0;
  record->session.set_node(std::string(node));
  by_node_[record->session.node()].insert(record);
  AddMembers(record);
  Recount(record);
}

void SocketIndex::Disconnect(SocketRecord* record, int64_t deadline_us) {
  Unplace(record);
  record->state = SocketState::kDisconnected;
  record->deadline_us = deadline_us;
  record->session.clear_node();
  by_deadline_.insert(record);
  Recount(record);
}

void SocketIndex::CloseRecord(SocketRecord* record, bool recoverable, int64_t now_us) {
  const auto ttl = std::min<std::chrono::milliseconds>(
      std::chrono::milliseconds(record->session.ttl_ms()), options_.max_ttl);
  if (!recoverable || ttl <= std::chrono::milliseconds::zero() || record->session.pid().empty()) {
    RemoveAndJournal(record);
    return;
  }
  Disconnect(record, now_us + std::chrono::duration_cast<std::chrono::microseconds>(ttl).count());
  if (journal_ != nullptr) journal_->State(*record);
}

bool SocketIndex::MakeRoom(size_t records, size_t bytes) {
  while (records_.size() + records > options_.max_records || bytes_ + bytes > options_.max_bytes) {
    if (by_deadline_.empty()) return false;
    RemoveAndJournal(*by_deadline_.begin());
    ++stats_.evicted;
  }
  return true;
}

absl::Status SocketIndex::Open(v1::Session session, std::string_view node, uint64_t generation) {
  const std::string key = Key(session.namespace_(), session.socket_id());
  SocketRecord* old = FindMutable(key);
  auto refuse = [&](absl::Status status) {
    if (old != nullptr) RemoveAndJournal(old);
    return status;
  };
  if (session.namespace_().empty() || session.socket_id().empty()) {
    ++stats_.invalid;
    return absl::InvalidArgumentError("a socket record needs a namespace and a socket id");
  }
  if (session.address().size() + session.user_agent().size() > kMaxHandshakeSummaryBytes) {
    ++stats_.invalid;
    return refuse(absl::InvalidArgumentError(
        absl::StrCat("address and user agent over ", kMaxHandshakeSummaryBytes, " bytes")));
  }
  if (static_cast<size_t>(session.rooms_size()) > kMaxSessionRooms) {
    ++stats_.invalid;
    return refuse(
        absl::InvalidArgumentError(absl::StrCat("over ", kMaxSessionRooms, " rooms per socket")));
  }
  session.set_node(std::string(node));
  if (old != nullptr) {
    session.set_epoch(old->session.epoch());
    session.set_since_sequence(old->session.since_sequence());
  }
  absl::flat_hash_set<std::string> rooms;
  rooms.reserve(static_cast<size_t>(session.rooms_size()));
  size_t bytes = 0;
  for (std::string& room : *session.mutable_rooms()) {
    const size_t room_bytes = RoomBytes(room);
    if (rooms.insert(std::move(room)).second) bytes += room_bytes;
  }
  session.clear_rooms();
  bytes += session.ByteSizeLong();
  if (bytes > kMaxSessionBytes || bytes > options_.max_bytes) {
    ++stats_.invalid;
    return refuse(absl::InvalidArgumentError(
        absl::StrCat("socket record over ", kMaxSessionBytes, " bytes")));
  }
  // A pid names one record.
  if (!session.pid().empty()) {
    SocketRecord* holder = const_cast<SocketRecord*>(FindByPid(session.pid()));
    if (holder != nullptr && holder != old) RemoveAndJournal(holder);
  }
  if (old != nullptr) Remove(old);  // replaced (journaled by the Put below, or erased)
  if (!MakeRoom(1, bytes)) {
    ++stats_.refused;
    if (old != nullptr && journal_ != nullptr)
      journal_->Erase(session.namespace_(), session.socket_id());
    return absl::ResourceExhaustedError("socket records are full of connected sockets");
  }
  SocketRecord* record = Insert(std::move(session), std::move(rooms), SocketState::kConnected, 0);
  record->generation = generation;
  if (journal_ != nullptr) journal_->Put(*record);
  return absl::OkStatus();
}

absl::Status SocketIndex::Rooms(const v1::SocketRooms& rooms, std::string_view node) {
  SocketRecord* record = FindMutable(Key(rooms.namespace_(), rooms.socket_id()));
  if (record == nullptr || !record->connected() || record->session.node() != node) {
    ++stats_.unknown;
    return absl::NotFoundError("no such socket connected on this node");
  }
  // What changed, for the journal (built only when there is one).
  v1::SocketRooms applied;
  if (journal_ != nullptr) {
    applied.set_namespace_(rooms.namespace_());
    applied.set_socket_id(rooms.socket_id());
  }
  // Joins first, then leaves: a batch that joined and left a room ends
  // without it (a gateway sends separate updates when the order differs).
  bool over = false;
  bool full = false;
  for (const std::string& room : rooms.joined()) {
    if (record->rooms.contains(room)) continue;
    const size_t room_bytes = RoomBytes(room);
    if (record->rooms.size() + 1 > kMaxSessionRooms ||
        record->bytes + room_bytes > kMaxSessionBytes) {
      over = true;
      break;
    }
    if (!MakeRoom(0, room_bytes)) {
      full = true;
      break;
    }
    record->rooms.insert(room);
    JoinMembers(record, room);
    record->rooms_bytes += room_bytes;
    record->bytes += room_bytes;
    bytes_ += room_bytes;
    if (journal_ != nullptr) applied.add_joined(room);
  }
  if (over || full) {
    ++stats_.refused;
    RemoveAndJournal(record);
    return absl::ResourceExhaustedError(over ? "socket record over its limits"
                                             : "socket records are full of connected sockets");
  }
  for (const std::string& room : rooms.left()) {
    auto it = record->rooms.find(room);
    if (it == record->rooms.end()) continue;
    const size_t room_bytes = RoomBytes(room);
    record->rooms.erase(it);
    LeaveMembers(record, room);
    record->rooms_bytes -= room_bytes;
    record->bytes -= room_bytes;
    bytes_ -= room_bytes;
    if (journal_ != nullptr) applied.add_left(room);
  }
  if (journal_ != nullptr && (applied.joined_size() > 0 || applied.left_size() > 0)) {
    journal_->Rooms(applied);
  }
  return absl::OkStatus();
}

absl::Status SocketIndex::Close(std::string_view ns, std::string_view socket_id, bool recoverable,
                                std::string_view node, int64_t now_us) {
  SocketRecord* record = FindMutable(Key(ns, socket_id));
  if (record == nullptr || !record->connected() || record->session.node() != node) {
    ++stats_.unknown;
    return absl::NotFoundError("no such socket connected on this node");
  }
  CloseRecord(record, recoverable, now_us);
  return absl::OkStatus();
}

size_t SocketIndex::NodeDown(std::string_view node, int64_t now_us) {
  auto it = by_node_.find(ToAbsl(node));
  if (it == by_node_.end()) return 0;
  const std::vector<SocketRecord*> records(it->second.begin(), it->second.end());
  for (SocketRecord* record : records) CloseRecord(record, /*recoverable=*/true, now_us);
  return records.size();
}

size_t SocketIndex::Reconcile(std::string_view node, uint64_t generation, int64_t now_us) {
  auto it = by_node_.find(ToAbsl(node));
  if (it == by_node_.end()) return 0;
  std::vector<SocketRecord*> gone;
  for (SocketRecord* record : it->second) {
    if (record->generation != generation) gone.push_back(record);
  }
  for (SocketRecord* record : gone) CloseRecord(record, /*recoverable=*/true, now_us);
  return gone.size();
}

RecoverResult SocketIndex::Recover(std::string_view pid, std::string_view ns, std::string_view node,
                                   uint64_t generation, int64_t now_us,
                                   const std::function<RecoverCheck(const SocketRecord&)>& check) {
  RecoverResult result;
  SocketRecord* record = pid.empty() ? nullptr : const_cast<SocketRecord*>(FindByPid(pid));
  if (record == nullptr) {
    result.error = "unknown session";
    return result;
  }
  if (record->session.namespace_() != ns) {
    result.outcome = RecoverOutcome::kRefused;
    result.error = "namespace differs";
    return result;
  }
  if (!record->connected() && record->deadline_us <= now_us) {
    RemoveAndJournal(record);
    ++stats_.expired;
    result.outcome = RecoverOutcome::kExpired;
    result.error = "session expired";
    return result;
  }
  if (record->connected() && record->session.node() == node) {
    result.outcome = RecoverOutcome::kRefused;
    result.error = "socket still connected";
    return result;
  }
  RecoverCheck checked = check(*record);
  if (checked.outcome != RecoverOutcome::kRecovered) {
    if (!record->connected()) RemoveAndJournal(record);
    result.outcome = checked.outcome;
    result.error = std::move(checked.error);
    return result;
  }
  if (record->connected()) {
    result.outcome = RecoverOutcome::kTakenOver;
    result.previous_node = record->session.node();
  } else {
    result.outcome = RecoverOutcome::kRecovered;
  }
  Connect(record, node);
  record->generation = generation;
  if (journal_ != nullptr) journal_->State(*record);
  result.record = record;
  return result;
}

size_t SocketIndex::Expire(int64_t now_us) {
  size_t removed = 0;
  while (!by_deadline_.empty() && (*by_deadline_.begin())->deadline_us <= now_us) {
    RemoveAndJournal(*by_deadline_.begin());
    ++removed;
  }
  stats_.expired += removed;
  return removed;
}

// ---------------------------------------------------------------------------
// Presence

std::string SocketIndex::NamespaceMembersKey(std::string_view ns) {
  std::string key(1, '\0');
  key += Key(ns, "");
  return key;
}

std::string SocketIndex::RoomMembersKey(std::string_view ns, std::string_view room) {
  return Key(ns, room);
}

void SocketIndex::EraseMember(const std::string& key, const SocketRecord* record) {
  auto it = members_.find(key);
  if (it == members_.end()) return;
  it->second.erase(record);
  if (it->second.empty()) members_.erase(it);
}

void SocketIndex::AddMembers(const SocketRecord* record) {
  members_[NamespaceMembersKey(record->session.namespace_())].insert(record);
  for (const std::string& room : record->rooms) JoinMembers(record, room);
}

void SocketIndex::DropMembers(const SocketRecord* record) {
  EraseMember(NamespaceMembersKey(record->session.namespace_()), record);
  for (const std::string& room : record->rooms) LeaveMembers(record, room);
}

void SocketIndex::JoinMembers(const SocketRecord* record, std::string_view room) {
  members_[RoomMembersKey(record->session.namespace_(), room)].insert(record);
}

void SocketIndex::LeaveMembers(const SocketRecord* record, std::string_view room) {
  EraseMember(RoomMembersKey(record->session.namespace_(), room), record);
}

template <typename Visit>
void SocketIndex::WalkUnion(const std::vector<const MemberSet*>& sets, std::string_view after,
                            Visit&& visit) {
  std::vector<std::pair<MemberSet::const_iterator, MemberSet::const_iterator>> cursors;
  cursors.reserve(sets.size());
  for (const MemberSet* set : sets) {
    cursors.emplace_back(after.empty() ? set->begin() : set->upper_bound(after), set->end());
  }
  while (true) {
    const SocketRecord* next = nullptr;
    for (const auto& [it, end] : cursors) {
      if (it != end && (next == nullptr || (*it)->session.socket_id() < next->session.socket_id()))
        next = *it;
    }
    if (next == nullptr) return;
    // The same socket id in another set is the same record (one namespace).
    for (auto& [it, end] : cursors) {
      if (it != end && *it == next) ++it;
    }
    if (!visit(next)) return;
  }
}

PresencePage SocketIndex::Presence(const v1::Presence& query, size_t max_bytes) const {
  PresencePage page;
  std::vector<const MemberSet*> sets;
  auto add_set = [&](const std::string& key) {
    auto it = members_.find(key);
    if (it != members_.end() && std::find(sets.begin(), sets.end(), &it->second) == sets.end())
      sets.push_back(&it->second);
  };
  if (query.rooms().empty()) {
    add_set(NamespaceMembersKey(query.namespace_()));
  } else {
    for (const std::string& room : query.rooms()) add_set(RoomMembersKey(query.namespace_(), room));
  }
  const bool filtered = !query.except_rooms().empty() || !query.except_socket().empty();
  auto matches = [&](const SocketRecord* record) {
    if (record->session.socket_id() == query.except_socket()) return false;
    return std::none_of(query.except_rooms().begin(), query.except_rooms().end(),
                        [&](const std::string& room) { return record->rooms.contains(room); });
  };
  if (sets.size() == 1 && !filtered) {
    page.total = sets.front()->size();
  } else {
    WalkUnion(sets, "", [&](const SocketRecord* record) {
      if (matches(record)) ++page.total;
      return true;
    });
  }
  if (query.count_only()) return page;
  const size_t limit =
      query.limit() == 0 ? kMaxPresencePage : std::min<size_t>(query.limit(), kMaxPresencePage);
  size_t bytes = 0;
  WalkUnion(sets, query.after(), [&](const SocketRecord* record) {
    if (!matches(record)) return true;
    if (page.records.size() >= limit || (!page.records.empty() && bytes >= max_bytes)) {
      page.next_after = page.records.back()->session.socket_id();
      return false;
    }
    page.records.push_back(record);
    bytes += record->bytes;
    return true;
  });
  return page;
}

// ---------------------------------------------------------------------------
// Replay

void SocketIndex::RestorePut(const v1::Session& session, SocketState state, int64_t deadline_us) {
  const std::string key = Key(session.namespace_(), session.socket_id());
  if (SocketRecord* old = FindMutable(key); old != nullptr) Remove(old);
  if (!session.pid().empty()) {
    if (SocketRecord* holder = const_cast<SocketRecord*>(FindByPid(session.pid()));
        holder != nullptr) {
      Remove(holder);
    }
  }
  v1::Session copy = session;
  absl::flat_hash_set<std::string> rooms;
  for (std::string& room : *copy.mutable_rooms()) rooms.insert(std::move(room));
  copy.clear_rooms();
  Insert(std::move(copy), std::move(rooms), state, deadline_us);
}

void SocketIndex::RestoreRooms(const v1::SocketRooms& rooms) {
  SocketRecord* record = FindMutable(Key(rooms.namespace_(), rooms.socket_id()));
  if (record == nullptr) return;
  for (const std::string& room : rooms.joined()) {
    if (!record->rooms.insert(room).second) continue;
    if (record->connected()) JoinMembers(record, room);
    const size_t room_bytes = RoomBytes(room);
    record->rooms_bytes += room_bytes;
    record->bytes += room_bytes;
    bytes_ += room_bytes;
  }
  for (const std::string& room : rooms.left()) {
    if (record->rooms.erase(room) == 0) continue;
    if (record->connected()) LeaveMembers(record, room);
    const size_t room_bytes = RoomBytes(room);
    record->rooms_bytes -= room_bytes;
    record->bytes -= room_bytes;
    bytes_ -= room_bytes;
  }
}

void SocketIndex::RestoreState(std::string_view ns, std::string_view socket_id, SocketState state,
                               std::string_view node, int64_t deadline_us) {
  SocketRecord* record = FindMutable(Key(ns, socket_id));
  if (record == nullptr) return;
  if (state == SocketState::kConnected) {
    Connect(record, node);
  } else {
    Disconnect(record, deadline_us);
  }
}

void SocketIndex::RestoreErase(std::string_view ns, std::string_view socket_id) {
  if (SocketRecord* record = FindMutable(Key(ns, socket_id)); record != nullptr) Remove(record);
}

}  // namespace roomq::broker::sockets
