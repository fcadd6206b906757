#ifndef ROOMQ_GATEWAY_SOCKETIO_SOCKET_H_
#define ROOMQ_GATEWAY_SOCKETIO_SOCKET_H_

// One Socket.IO socket: a client's membership of one namespace over one
// Engine.IO session. Owned by its Connection; registered with its Shard
// under `handle` so deliveries find it.
//
// Thread safety: lives on its session's shard thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "gateway/engineio/address_table.h"
#include "gateway/engineio/timer_service.h"
#include "gateway/socketio/auth/socket_auth.h"
#include "gateway/socketio/namespace_registry.h"
#include "proto/base/clock.h"
#include "proto/base/token_bucket.h"

namespace roomq::gateway::socketio {

class Connection;

struct Socket {
  enum class State {
    kConnecting,  // CONNECT received, waiting for the broker to confirm its rooms
    kConnected,   // CONNECT answered
  };

  // An ack a service asked for, under the per-socket id the client sees.
  struct ServiceAck {
    uint64_t ack_id = 0;   // the service's own ack id
    std::string reply_to;  // the service's node
  };

  uint64_t handle = 0;  // shard-local, never reused
  std::string id;       // Socket.IO socket id; also the name of its own room
  const Namespace* ns = nullptr;
  // Keeps `ns` in its shard's registry: a dynamic namespace is freed when
  // the last socket holding it is destroyed (namespace_registry.h). Empty
  // for sockets built without a registry (tests).
  NamespaceRef ns_ref;
  Connection* connection = nullptr;
  State state = State::kConnecting;
  // The shard's own-room lookup holds this socket under (ns, id) (shard.h);
  // `id` must not change while it does.
  bool in_own_room = false;
  bool recovered = false;  // this socket is a recovered session
  // The broker holds a record of this socket (Shard::RecordOpen): its room
  // changes and its close are reported.
  bool recorded = false;
  // Memberships taken from the client address at CONNECT for the socket's
  // own and namespace rooms: the shard's first joins use them up, LeaveAll
  // gives back what is left.
  uint8_t reserved_rooms = 0;
  std::string auth = "{}";  // CONNECT auth payload, JSON text
  // What the namespace's auth policy granted (auth/socket_auth.h); null
  // under auth: none (no limit beyond the namespace policy).
  std::shared_ptr<const auth::Grant> grant;
  // Connection state recovery (recovery.h), namespaces with `recovery` only:
  // the private session id ("" = not offered), and where a reconnect
  // without an offset replays from (the broker epoch and sequence seen
  // when the socket connected, or the point it was recovered from).
  std::string pid;
  uint64_t epoch = 0;
  uint64_t since_sequence = 0;
  uint64_t next_ack_id = 0;
  std::map<uint64_t, ServiceAck> service_acks;  // client-visible ack id -> service ack
  // Message rate token bucket (ConnectionOptions::message_rate/burst):
  // events and acks from the client.
  base::TokenBucket rate;
  // The client address (its session's HandshakeInfo::address): the shard
  // counts this socket's room memberships there. Null: not counted.
  const engineio::AddressLease* address = nullptr;
  // Fires when the grant's token expires (auth: jwt only).
  std::unique_ptr<engineio::Timer> expiry_timer;
  // socket.data as JSON text ("" = none): what the service middleware's
  // verdict or a later KIND_SET_DATA set (at most
  // ConnectionOptions::max_socket_data_bytes), or what the recovered
  // record held. Services get it with every lifecycle
  // and client event; the broker's record keeps it.
  std::string data;
  // `middleware: required`: the verdict admitted this socket.
  bool admitted = false;
  // Runs while the socket awaits its verdict (connecting, rooms confirmed).
  std::unique_ptr<engineio::Timer> verdict_timer;
};

}  // namespace roomq::gateway::socketio

#endif  // ROOMQ_GATEWAY_SOCKETIO_SOCKET_H_
