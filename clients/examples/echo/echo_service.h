#ifndef ROOMQ_CLIENTS_EXAMPLES_ECHO_ECHO_SERVICE_H_
#define ROOMQ_CLIENTS_EXAMPLES_ECHO_ECHO_SERVICE_H_

// The Socket.IO conformance service (tests/e2e/test/conformance.test.js) as a native roomq
// service behind gateways. For each namespace it serves:
//   on connection         emit "auth" with the handshake auth payload to that socket
//   on "message"          emit "message-back" with the same args (binary too) to the sender
//   on "message-with-ack" ack with the same args
//
// ServeAdmin is Socket.IO's namespace-middleware example
// (io.of("/admin").use(...)) as a native service, for a namespace whose
// gateway config says `middleware: required`:
//   middleware            admits a CONNECT whose auth has "role": "admin",
//                         with socket.data {"role":"admin","user":<auth.user>};
//                         refuses the others: "not authorized", data
//                         {"role": <what they sent, or null>}
//   on connection         emit "hello" with socket.data
//   on "delete user"      ack ["deleted", <the first argument>]
//   on "set name"         socket.data.name = <the first argument> (SetData),
//                         ack "ok"
//   on "who"              ack [{"id", "data"}, ...]: the sockets of the room
//                         named by the first argument (none: the whole
//                         namespace), on every gateway, in id order
//                         (io.in(room).fetchSockets(), answered by the broker)
//   on "poll"             emits "vote" with an ack to every socket of the room
//                         named by the first argument and acks [err, answers]:
//                         err null when every socket answered within 1 s,
//                         "timeout" otherwise; answers the first argument of
//                         each socket's ack
//                         (io.to(room).timeout(1000).emit("vote", cb))
//
// ServeTenants is Socket.IO's dynamic-namespace example
// (io.of(/^\/tenant-\w+$/)) for the family of namespaces a gateway config
// `pattern` makes:
//   on connection         emit "hello" with the socket id to the socket's
//                         whole namespace (socket.nsp.emit), that tenant only
// Thread safety: handlers run on the client's thread.

#include <string>

#include "roomq/client.h"

namespace roomq::examples {

void ServeEcho(Client& client, const std::string& ns);
void ServeAdmin(Client& client, const std::string& ns);
void ServeTenants(Client& client, const std::string& pattern);

}  // namespace roomq::examples

#endif  // ROOMQ_CLIENTS_EXAMPLES_ECHO_ECHO_SERVICE_H_
