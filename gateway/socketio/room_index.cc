#include "gateway/socketio/room_index.h"

#include "proto/base/absl_compat.h"
#include "proto/wire/topic.h"

namespace roomq::gateway::socketio {

std::string RoomIndex::Key(std::string_view ns, std::string_view room) {
  return wire::EncodeTopicKey(wire::RoomTopic(ns, room));
}

RoomIndex::Change RoomIndex::Join(Member member, std::string_view ns, std::string_view room) {
  auto [it, inserted] = members_.try_emplace(member);
  if (inserted) {
    it->second.ns = std::string(ns);
  } else if (it->second.ns != ns) {
    return {};
  }
  if (room.empty()) {
    if (it->second.in_namespace_room) return {};
    it->second.in_namespace_room = true;
  } else if (!it->second.rooms.insert(std::string(room)).second) {
    return {};
  }
  MemberSet& set = rooms_[Key(ns, room)];
  set.insert(member);
  return {true, set.size() == 1};
}

RoomIndex::Change RoomIndex::Leave(Member member, std::string_view room) {
  auto it = members_.find(member);
  if (it == members_.end()) return {};
  if (room.empty()) {
    if (!it->second.in_namespace_room) return {};
    it->second.in_namespace_room = false;
  } else {
    auto room_it = it->second.rooms.find(ToAbsl(room));
    if (room_it == it->second.rooms.end()) return {};
    it->second.rooms.erase(room_it);
  }
  const std::string key = Key(it->second.ns, room);
  if (it->second.rooms.empty() && !it->second.in_namespace_room) members_.erase(it);
  auto set_it = rooms_.find(key);
  if (set_it == rooms_.end()) return {true, false};
  set_it->second.erase(member);
  if (!set_it->second.empty()) return {true, false};
  rooms_.erase(set_it);
  return {true, true};
}

std::vector<RoomIndex::Left> RoomIndex::LeaveAll(Member member) {
  std::vector<Left> left;
  auto it = members_.find(member);
  if (it == members_.end()) return left;
  left.reserve(it->second.rooms.size() + 1);
  auto leave = [&](const std::string& room) {
    bool last = false;
    auto set_it = rooms_.find(Key(it->second.ns, room));
    if (set_it != rooms_.end()) {
      set_it->second.erase(member);
      if (set_it->second.empty()) {
        rooms_.erase(set_it);
        last = true;
      }
    }
    left.push_back({room, last});
  };
  if (it->second.in_namespace_room) leave(std::string());
  for (const std::string& room : it->second.rooms) leave(room);
  members_.erase(it);
  return left;
}

const RoomIndex::MemberSet* RoomIndex::Members(std::string_view ns, std::string_view room) const {
  auto it = rooms_.find(Key(ns, room));
  return it == rooms_.end() ? nullptr : &it->second;
}

const RoomIndex::RoomSet* RoomIndex::RoomsOf(Member member) const {
  auto it = members_.find(member);
  return it == members_.end() ? nullptr : &it->second.rooms;
}

size_t RoomIndex::RoomCount(Member member) const {
  auto it = members_.find(member);
  if (it == members_.end()) return 0;
  return it->second.rooms.size() + (it->second.in_namespace_room ? 1 : 0);
}

bool RoomIndex::Contains(Member member, std::string_view room) const {
  auto it = members_.find(member);
  if (it == members_.end()) return false;
  if (room.empty()) return it->second.in_namespace_room;
  return it->second.rooms.contains(ToAbsl(room));
}

}  // namespace roomq::gateway::socketio
