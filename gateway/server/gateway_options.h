#ifndef ROOMQ_GATEWAY_SERVER_GATEWAY_OPTIONS_H_
#define ROOMQ_GATEWAY_SERVER_GATEWAY_OPTIONS_H_

// Everything roomq-gateway is started with: one member per command-line
// flag, named as the flag (--ping-interval-ms is ping_interval_ms) and of
// the flag's type. Each initializer IS the flag's default: the flag
// definitions take their defaults from here, so a default lives in one
// place. What each one means, at length, is the flag's help text
// (gateway/server/gateway_flags.cc) and README.md's limits table.
//
// Validate() holds every range check; Gateway::Create calls it and also
// reads the files named here (--config, the CURVE keys).

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "proto/node/endpoints.h"

namespace roomq::gateway::server {

struct GatewayOptions {
  // HOST:PORT of HTTP and WebSocket; port 0 picks a free port.
  std::string listen = "127.0.0.1:8080";
  // HOST:PORT of GET /metrics and /healthz; empty: no metrics listener.
  std::string metrics_listen;
  // io threads (shards), 1..4096; default: one per core.
  int32_t threads = static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
  std::string broker_pub = node::kDefaultPubEndpoint;
  std::string broker_sub = node::kDefaultSubEndpoint;
  // CURVE key files: both or neither.
  std::string curve_server_key;
  std::string curve_secret_key;
  // YAML config file: flags as keys (read by main, proto/base/flag_file.h)
  // and the namespaces; empty: namespace "/" open.
  std::string config;
  // The top-level keys of `config` that are flags, which the namespaces'
  // parser skips (base::FlagKeys of the command line).
  std::vector<std::string> config_flag_keys;
  int32_t ping_interval_ms = 25000;
  int32_t ping_timeout_ms = 20000;
  int32_t connect_timeout_ms = 45000;
  int64_t max_payload = 1000000;
  // Allowed Origins ('*' = any); empty: no CORS headers.
  std::vector<std::string> cors_origin;
  // Empty: <binary dir>/../web.
  std::string static_dir;
  std::string client_dir;
  // Up to 16 of A-Z a-z 0-9 - _.
  std::string sid_prefix;
  int64_t max_outbound_bytes = 1 << 20;
  // 0: max_payload. With its framing it must fit in max_outbound_bytes.
  int64_t max_event_bytes = 0;
  int64_t max_shard_queue_bytes = int64_t{64} << 20;
  // The limits below: 0 = no limit where the flag's help says so.
  int64_t max_connections = 100000;
  double handshake_rate = 50;
  double handshake_burst = 200;
  int64_t max_sessions_per_address = 5000;
  int64_t max_rooms_per_address = 100000;
  // CIDR ranges of load balancers trusted for X-Forwarded-For.
  std::vector<std::string> trusted_proxy;
  int32_t max_namespaces = 32;
  int32_t max_dynamic_namespaces = 10000;
  int32_t attachment_timeout_ms = 30000;
  // How long a CONNECT waits for a service middleware's verdict
  // (`middleware: required` namespaces); past it the CONNECT is refused.
  int32_t middleware_timeout_ms = 5000;
  // Bytes of socket.data a middleware may set; over it the CONNECT is refused.
  int32_t max_socket_data_bytes = 16384;
  int32_t max_rooms_per_socket = 1000;
  double message_rate = 1000;
  double message_burst = 2000;
  // Socket connected/recovered/disconnected lines each io thread logs at
  // info per second; the rest go to debug. 0 = no limit.
  double socket_log_rate = 50;
  int32_t shutdown_grace_ms = 1000;
  // 0..100; 0 = off (each wakeup writes what it queued).
  int32_t write_delay_ms = 0;
  // "ack" or "disconnect".
  std::string rate_limit_policy = "ack";

  // InvalidArgument naming the first flag out of range or malformed (the
  // message roomq-gateway prints before "(see --help)"); OK otherwise.
  // Reads no file.
  absl::Status Validate() const;
};

}  // namespace roomq::gateway::server

#endif  // ROOMQ_GATEWAY_SERVER_GATEWAY_OPTIONS_H_
