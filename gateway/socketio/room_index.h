#ifndef ROOMQ_GATEWAY_SOCKETIO_ROOM_INDEX_H_
#define ROOMQ_GATEWAY_SOCKETIO_ROOM_INDEX_H_

// One shard's two-way membership index: (namespace, room) -> local sockets
// and socket -> its rooms, so a delivery finds its recipients by room and a
// disconnect leaves every room in one pass.
//
// Members are opaque 64-bit handles (the shard maps them to sockets). A
// member belongs to exactly one namespace (a Socket.IO socket is per
// namespace), fixed by its first Join. Room "" stands for "the namespace
// alone": the shard puts every socket in it so namespace-wide deliveries
// find all of them.
//
// Join / Leave report edges: the first local member of a room arriving and
// the last one leaving, which is when the shard (un)subscribes the room's
// topic at the broker.
//
// Thread safety: not thread-safe; owned by one shard thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace roomq::gateway::socketio {

class RoomIndex {
 public:
  using Member = uint64_t;
  using MemberSet = absl::flat_hash_set<Member>;
  using RoomSet = absl::flat_hash_set<std::string>;

  struct Change {
    bool changed = false;  // the membership changed
    bool edge = false;     // Join: first local member; Leave: last one left
  };
  struct Left {
    std::string room;
    bool last = false;  // the room has no local member any more
  };

  // Adds `member` (of namespace `ns`) to `room`. A member already bound to
  // another namespace is refused (changed = false).
  Change Join(Member member, std::string_view ns, std::string_view room);
  Change Leave(Member member, std::string_view room);
  // Removes `member` from all its rooms and forgets it; returns those rooms.
  std::vector<Left> LeaveAll(Member member);

  // Local members of (ns, room); nullptr when none.
  const MemberSet* Members(std::string_view ns, std::string_view room) const;
  // Rooms of `member` except the namespace room "" (held as a flag, so a
  // socket in no other room costs no set allocation); nullptr when it is in
  // none, an empty set when it is in "" only.
  const RoomSet* RoomsOf(Member member) const;
  // Number of rooms of `member`, "" included.
  size_t RoomCount(Member member) const;
  bool Contains(Member member, std::string_view room) const;

  size_t room_count() const { return rooms_.size(); }
  size_t member_count() const { return members_.size(); }

  // The map key of (ns, room): the broker topic key, unambiguous.
  static std::string Key(std::string_view ns, std::string_view room);

 private:
  struct MemberRooms {
    std::string ns;
    bool in_namespace_room = false;  // member of room ""
    RoomSet rooms;                   // every other room
  };
  absl::flat_hash_map<std::string, MemberSet> rooms_;  // Key(ns, room) -> members
  absl::flat_hash_map<Member, MemberRooms> members_;
};

}  // namespace roomq::gateway::socketio

#endif  // ROOMQ_GATEWAY_SOCKETIO_ROOM_INDEX_H_
