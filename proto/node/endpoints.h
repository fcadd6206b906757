#ifndef ROOMQ_PROTO_NODE_ENDPOINTS_H_
#define ROOMQ_PROTO_NODE_ENDPOINTS_H_

// Where a broker started without flags listens (its --pub-bind / --sub-bind
// defaults): the one place every node's default broker endpoints come from.

namespace roomq::node {

inline constexpr char kDefaultPubEndpoint[] = "tcp://127.0.0.1:5555";
inline constexpr char kDefaultSubEndpoint[] = "tcp://127.0.0.1:5556";

}  // namespace roomq::node

#endif  // ROOMQ_PROTO_NODE_ENDPOINTS_H_
