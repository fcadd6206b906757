#ifndef ROOMQ_PROTO_BASE_HOST_PORT_H_
#define ROOMQ_PROTO_BASE_HOST_PORT_H_

// The one reader of "HOST:PORT" for every listening address roomq takes
// (the gateway's --listen, the metrics listener's --metrics-listen and
// --metrics-bind, the kHostPort flag check in command_line.h), so they all
// accept the same spellings:
//   127.0.0.1:8080   localhost:0   [::1]:9000   (IPv6 in brackets)
// The port is what follows the last ':': decimal digits only, 0..65535
// (0: the system picks one). The host is what precedes it, with one pair of
// enclosing brackets removed, and must not be empty. The host is not
// resolved or checked any further: each caller decides what it accepts.
//
// Thread safety: a stateless function.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace roomq::base {

struct HostPort {
  std::string host;  // without the brackets of an IPv6 address
  uint16_t port = 0;
};

// InvalidArgument saying what is wrong (no ':', a port that is not 0..65535,
// an empty host); the message does not repeat `text`.
absl::StatusOr<HostPort> ParseHostPort(std::string_view text);

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_HOST_PORT_H_
