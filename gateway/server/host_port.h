#ifndef ROOMQ_GATEWAY_SERVER_HOST_PORT_H_
#define ROOMQ_GATEWAY_SERVER_HOST_PORT_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace roomq::gateway::server {

// Splits "HOST:PORT" ("[::1]:8080" for IPv6) for --listen. InvalidArgument
// when malformed or the port is not in 0..65535.
absl::Status ParseHostPort(std::string_view text, std::string* host, int* port);

}  // namespace roomq::gateway::server

#endif  // ROOMQ_GATEWAY_SERVER_HOST_PORT_H_
