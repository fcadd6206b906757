#include "gateway/bridge/socket_mirror.h"

#include <utility>

namespace roomq::gateway::bridge {

std::string SocketMirror::Key(std::string_view ns, std::string_view socket_id) {
  // A namespace name never holds a NUL (the Socket.IO layer refuses it).
  std::string key;
  key.reserve(ns.size() + 1 + socket_id.size());
  key.append(ns).push_back('\0');
  key.append(socket_id);
  return key;
}

bool SocketMirror::Apply(size_t shard, const v1::SocketUpdate& update) {
  switch (update.update_case()) {
    case v1::SocketUpdate::kOpen: {
      const v1::Session& session = update.open().session();
      Entry& entry = entries_[Key(session.namespace_(), session.socket_id())];
      entry.shard = shard;
      v1::Session without_rooms = session;
      without_rooms.clear_rooms();
      entry.session = without_rooms.SerializeAsString();
      entry.rooms.clear();
      entry.rooms.insert(session.rooms().begin(), session.rooms().end());
      return true;
    }
    case v1::SocketUpdate::kRooms: {
      const v1::SocketRooms& rooms = update.rooms();
      auto it = entries_.find(Key(rooms.namespace_(), rooms.socket_id()));
      if (it == entries_.end()) return false;
      for (const std::string& room : rooms.joined()) it->second.rooms.insert(room);
      for (const std::string& room : rooms.left()) it->second.rooms.erase(room);
      return true;
    }
    case v1::SocketUpdate::kClose:
      return entries_.erase(Key(update.close().namespace_(), update.close().socket_id())) > 0;
    case v1::SocketUpdate::UPDATE_NOT_SET:
      break;
  }
  return false;
}

std::optional<size_t> SocketMirror::Forget(std::string_view ns, std::string_view socket_id) {
  auto it = entries_.find(Key(ns, socket_id));
  if (it == entries_.end()) return std::nullopt;
  const size_t shard = it->second.shard;
  entries_.erase(it);
  return shard;
}

void SocketMirror::FullList(size_t max_bytes, const std::function<void(v1::Sockets)>& emit) const {
  v1::Sockets command;
  size_t bytes = 0;
  for (const auto& [key, entry] : entries_) {
    v1::Session& session = *command.add_updates()->mutable_open()->mutable_session();
    // Bytes this mirror encoded from a v1::Session parse back.
    (void)session.ParseFromString(entry.session);
    for (const std::string& room : entry.rooms) session.add_rooms(room);
    bytes += session.ByteSizeLong() + 8;
    if (bytes >= max_bytes) {
      emit(std::exchange(command, {}));
      bytes = 0;
    }
  }
  command.set_full(true);
  emit(std::move(command));
}

}  // namespace roomq::gateway::bridge
