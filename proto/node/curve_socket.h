#ifndef ROOMQ_PROTO_NODE_CURVE_SOCKET_H_
#define ROOMQ_PROTO_NODE_CURVE_SOCKET_H_

// The client side of CURVE on a ZeroMQ socket (key files: curve.h).
//
// Thread safety: touches only the socket passed in; call it on the socket's
// thread.

#include <zmq.hpp>

#include "absl/status/status.h"
#include "proto/node/curve.h"

namespace roomq::node {

// Makes `socket` (not yet connected) a CURVE client of the server:
// ZMQ_CURVE_SERVERKEY, ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY. No-op
// when !options.enabled(). Internal when libzmq refuses an option.
absl::Status ApplyCurveClient(zmq::socket_t& socket, const CurveClientOptions& options);

}  // namespace roomq::node

#endif  // ROOMQ_PROTO_NODE_CURVE_SOCKET_H_
