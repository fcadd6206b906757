#ifndef ROOMQ_GATEWAY_SERVER_GATEWAY_FLAGS_H_
#define ROOMQ_GATEWAY_SERVER_GATEWAY_FLAGS_H_

// roomq-gateway's command line: every flag, its help text and its binding
// to the GatewayOptions member of the same name (gateway_options.h), whose
// initializer is the flag's default. main.cc parses with it; tests parse an
// argv through it the same way (tests/gateway/server/gateway_flags_test.cc).
//
// Thread safety: call from main() before threads start, like any CLI11 setup.

#include "CLI/CLI.hpp"
#include "gateway/server/gateway_options.h"

namespace roomq::gateway::server {

// Adds the gateway's flags to `app` (on which base::UseRoomqConventions was
// called, proto/base/command_line.h), bound to `options`, which must outlive
// the parse. Only the flags' syntax is checked while parsing; the ranges are
// GatewayOptions::Validate's (Gateway::Create calls it). --cors-origin and
// --trusted-proxy are repeatable and also take comma lists.
void AddGatewayOptions(CLI::App& app, GatewayOptions& options);

}  // namespace roomq::gateway::server

#endif  // ROOMQ_GATEWAY_SERVER_GATEWAY_FLAGS_H_
