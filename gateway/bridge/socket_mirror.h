#ifndef ROOMQ_GATEWAY_BRIDGE_SOCKET_MIRROR_H_
#define ROOMQ_GATEWAY_BRIDGE_SOCKET_MIRROR_H_

// SocketMirror: the Socket.IO sockets this gateway holds, as the broker's
// socket records (proto/README.md "Socket records") should show them. The
// bridge feeds it every SocketUpdate the shards send and forwards only what
// it accepted; after each Hello it sends the whole mirror as the node's full
// list, so the broker reconciles what a lost command or a broker restart
// left stale.
//
// Keyed by (namespace, socket id), each entry remembers the shard holding
// the socket (where a broker's CloseSocket is taken) and the session as its
// last Open gave it, rooms kept as a set that Rooms updates edit.
//   open   creates or replaces the entry (a recovered socket, a repeat).
//   rooms  edits an entry; dropped when there is none.
//   close  removes an entry; dropped when there is none.
// An entry is also removed by Forget, when the broker moved its record to
// another node: whatever the shard still sends about that socket is then
// dropped here, so a gateway never edits or closes a record it lost.
//
// Bound: one entry per socket the shards hold, each the size of its
// session and rooms; the shards' own limits (sockets per session, rooms per
// socket) bound it. An entry keeps its session encoded: it is only read
// whole, for the full list after a Hello, and the bytes take about a third
// of a parsed v1::Session's heap (a string per field); every idle socket
// holds one.
//
// Thread safety: none; the bridge's link thread.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "proto/roomq.pb.h"

namespace roomq::gateway::bridge {

class SocketMirror {
 public:
  // Applies `update` from shard `shard`; false when it was dropped (see
  // above): it must then not be sent.
  bool Apply(size_t shard, const v1::SocketUpdate& update);
  // Removes the entry of (ns, socket_id); the shard that held it, or
  // nullopt when there was none.
  std::optional<size_t> Forget(std::string_view ns, std::string_view socket_id);
  // The full list: one Open per entry, in commands of about `max_bytes`
  // at most (one entry's session may exceed it alone); the last command
  // has `full` set, and there is one (empty, full) even with no entries.
  void FullList(size_t max_bytes, const std::function<void(v1::Sockets)>& emit) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    size_t shard = 0;
    std::string session;  // v1::Session encoded, without rooms
    absl::flat_hash_set<std::string> rooms;
  };
  static std::string Key(std::string_view ns, std::string_view socket_id);

  absl::flat_hash_map<std::string, Entry> entries_;
};

}  // namespace roomq::gateway::bridge

#endif  // ROOMQ_GATEWAY_BRIDGE_SOCKET_MIRROR_H_
