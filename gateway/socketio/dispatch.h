#ifndef ROOMQ_GATEWAY_SOCKETIO_DISPATCH_H_
#define ROOMQ_GATEWAY_SOCKETIO_DISPATCH_H_

// What the shards get for one broker delivery (the bridge's opaque
// gateway::Dispatch, gateway/bridge/port.h): the envelope and its Socket.IO
// frame, encoded once on the bridge thread for every recipient.

#include <memory>
#include <string_view>

#include "gateway/bridge/port.h"
#include "gateway/engineio/session.h"
#include "proto/roomq.pb.h"

namespace roomq::gateway {

struct Dispatch {
  v1::Envelope envelope;
  // The Socket.IO packet, encoded once for all recipients: set for
  // KIND_EVENT without ack_id and for KIND_ACK. Null for kinds that send
  // nothing (JOIN, LEAVE, DISCONNECT), for an event asking for an ack (each
  // recipient gets its own ack id, so it is encoded per socket), and for an
  // envelope that cannot be encoded (bad args, reserved event name; logged).
  engineio::SharedOutbound frame;
  // False when the envelope cannot be delivered (bad args, reserved event
  // name, an ack without ack_id); shards then skip it.
  bool deliverable = true;
};

}  // namespace roomq::gateway

namespace roomq::gateway::socketio {

// Builds the Dispatch for `envelope`, encoding the frame when there is one.
// Runs on the bridge thread, once per delivery. A non-empty `offset_arg`
// (a JSON value: OffsetArg in recovery.h, for a namespace with connection
// state recovery) is appended as the last argument of a KIND_EVENT frame
// without ack id, as npm socket.io does for the events it keeps.
SharedDispatch MakeDispatch(v1::Envelope envelope, std::string_view offset_arg = {});

// What `dispatch` holds in memory, about: the envelope (SpaceUsedLong) plus
// the bytes of its encoded frame. What the bridge charges a shard's
// hand-off budget for it (bridge.h).
size_t DispatchBytes(const Dispatch& dispatch);

}  // namespace roomq::gateway::socketio

#endif  // ROOMQ_GATEWAY_SOCKETIO_DISPATCH_H_
