#ifndef ROOMQ_CLIENTS_EXAMPLES_ECHO_ECHO_SERVICE_H_
#define ROOMQ_CLIENTS_EXAMPLES_ECHO_ECHO_SERVICE_H_

// The Socket.IO conformance service (tests/e2e/test/conformance.test.js) as a native roomq
// service behind gateways. For each namespace it serves:
//   on connection         emit "auth" with the handshake auth payload to that socket
//   on "message"          emit "message-back" with the same args (binary too) to the sender
//   on "message-with-ack" ack with the same args
// Thread safety: handlers run on the client's thread.

#include <string>

#include "roomq/client.h"

namespace roomq::examples {

void ServeEcho(Client& client, const std::string& ns);

}  // namespace roomq::examples

#endif  // ROOMQ_CLIENTS_EXAMPLES_ECHO_ECHO_SERVICE_H_
