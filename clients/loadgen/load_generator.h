#ifndef ROOMQ_CLIENTS_LOADGEN_LOAD_GENERATOR_H_
#define ROOMQ_CLIENTS_LOADGEN_LOAD_GENERATOR_H_

// Runs one load scenario (load_options.h) against a Socket.IO server
// (roomq-gateway or the reference) from a single thread: non-blocking
// sockets on one epoll set, thousands of connections per process.
//
// Raises RLIMIT_NOFILE to its hard limit first; FailedPrecondition when the
// connections asked for cannot fit under it. InvalidArgument for bad
// options; Unavailable when no client became ready.
//
// Thread safety: RunLoad blocks the calling thread; call it from one thread.

#include "absl/status/statusor.h"
#include "clients/loadgen/load_options.h"

namespace roomq::loadgen {

absl::StatusOr<Report> RunLoad(const LoadOptions& options);

}  // namespace roomq::loadgen

#endif  // ROOMQ_CLIENTS_LOADGEN_LOAD_GENERATOR_H_
