// roomq-gateway: flags in, a Gateway (gateway.h) out, run until SIGINT or
// SIGTERM. Everything else lives in the libraries.

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "gateway/server/gateway.h"
#include "gateway/server/gateway_options.h"
#include "proto/base/command_line.h"

namespace {

using roomq::gateway::server::GatewayOptions;

// The flags' defaults are GatewayOptions' initializers.
const GatewayOptions& Defaults() {
  static const GatewayOptions defaults;
  return defaults;
}

}  // namespace

ABSL_FLAG(std::string, listen, Defaults().listen,
          "HOST:PORT to serve HTTP and WebSocket on; port 0 picks a free port (logged)");
ABSL_FLAG(std::string, metrics_listen, Defaults().metrics_listen,
          "HOST:PORT serving GET /metrics (Prometheus text) and GET /healthz on a listener of "
          "their own, never on --listen; port 0 picks a free port (logged). Empty: no metrics");
ABSL_FLAG(int32_t, threads, Defaults().threads, "io threads (shards), default = cores");
ABSL_FLAG(std::string, broker_pub, Defaults().broker_pub, "Broker endpoint envelopes are sent to");
ABSL_FLAG(std::string, broker_sub, Defaults().broker_sub,
          "Broker endpoint deliveries are received from");
ABSL_FLAG(std::string, curve_server_key, Defaults().curve_server_key,
          "CURVE: the broker's public key file (NAME.pub); with --curve-secret-key");
ABSL_FLAG(std::string, curve_secret_key, Defaults().curve_secret_key,
          "CURVE: this gateway's secret key file (NAME.key, from roomq keygen)");
ABSL_FLAG(std::string, config, Defaults().config,
          "YAML namespace policy file; empty = namespace / open (join any room, relay broadcast)");
ABSL_FLAG(int32_t, ping_interval_ms, Defaults().ping_interval_ms,
          "Engine.IO pingInterval: the server pings this often");
ABSL_FLAG(int32_t, ping_timeout_ms, Defaults().ping_timeout_ms,
          "Engine.IO pingTimeout: a session without pong this long after a ping is closed");
ABSL_FLAG(int32_t, connect_timeout_ms, Defaults().connect_timeout_ms,
          "Socket.IO: an Engine.IO session without a namespace CONNECT this long is closed");
ABSL_FLAG(int64_t, max_payload, Defaults().max_payload,
          "Engine.IO maxPayload: largest polling POST body / WebSocket message in bytes");
ABSL_FLAG(std::vector<std::string>, cors_origin, Defaults().cors_origin,
          "Allowed Origin (repeatable; '*' = any). Unset: no CORS headers, any origin");
ABSL_FLAG(std::string, static_dir, Defaults().static_dir,
          "Directory served at / (index.html for directories), e.g. the chat app; "
          "empty = <binary dir>/../web (a missing directory serves nothing: 404)");
ABSL_FLAG(std::string, client_dir, Defaults().client_dir,
          "Directory holding socket.io.min.js(.map) for /socket.io/; empty = <binary dir>/../web");
ABSL_FLAG(std::string, sid_prefix, Defaults().sid_prefix,
          "Put at the start of every Engine.IO sid this gateway issues (up to 16 of A-Z a-z 0-9 - "
          "_), so a load balancer can route each session's requests to this gateway by its sid "
          "(see deploy/lb/nginx.conf); distinct per gateway behind one balancer");
ABSL_FLAG(int64_t, max_outbound_bytes, Defaults().max_outbound_bytes,
          "Per-session bound on bytes queued for the client: messages, and control frames "
          "(pongs, pings) at their size plus 128 each; over it the session is closed");
ABSL_FLAG(int64_t, max_event_bytes, Defaults().max_event_bytes,
          "Bytes of one client event or ack, its text plus all its binary attachments; a client "
          "sending more is disconnected. 0 = --max-payload. Must fit in --max-outbound-bytes "
          "with the framing a delivery adds, so no accepted event can cut off a reader");
ABSL_FLAG(int64_t, max_shard_queue_bytes, Defaults().max_shard_queue_bytes,
          "Bytes of broker deliveries the bridge may have posted to one io shard that it has not "
          "yet run; past it a delivery is dropped for that shard "
          "(drops_total{reason=\"shard_queue_full\"})");
ABSL_FLAG(int64_t, max_connections, Defaults().max_connections,
          "Engine.IO sessions at once; a handshake over it gets HTTP 503 \"Too many connections\" "
          "(0 = no limit)");
ABSL_FLAG(double, handshake_rate, Defaults().handshake_rate,
          "Engine.IO handshakes per second per client address (token bucket; IPv6 by /64); over "
          "it a handshake gets HTTP 429 \"Too many handshakes from this address\" (0 = no limit)");
ABSL_FLAG(double, handshake_burst, Defaults().handshake_burst,
          "Token bucket size of --handshake-rate");
ABSL_FLAG(int64_t, max_sessions_per_address, Defaults().max_sessions_per_address,
          "Engine.IO sessions one client address (IPv6: one /64) may hold at once; over it a "
          "handshake gets HTTP 503 \"Too many sessions from this address\" (0 = no limit)");
ABSL_FLAG(int64_t, max_rooms_per_address, Defaults().max_rooms_per_address,
          "Room memberships the sockets of one client address may hold together (own and "
          "namespace rooms included); a join over it is acked {\"error\":\"too many rooms for "
          "this address\"}, a CONNECT gets CONNECT_ERROR (0 = no limit)");
ABSL_FLAG(std::vector<std::string>, trusted_proxy, Defaults().trusted_proxy,
          "CIDR range of load balancers (repeatable, e.g. 10.0.0.0/8): from a peer in one, the "
          "client address is the rightmost X-Forwarded-For hop that is not itself a trusted "
          "proxy. Unset: the TCP peer is the client, X-Forwarded-For is ignored");
ABSL_FLAG(int32_t, max_namespaces, Defaults().max_namespaces,
          "Namespaces one connection may join; a CONNECT over it gets CONNECT_ERROR");
ABSL_FLAG(int32_t, max_dynamic_namespaces, Defaults().max_dynamic_namespaces,
          "Namespaces from --config patterns each io thread holds at once (each exists while an "
          "admitted socket is in it); a CONNECT that would create one more gets CONNECT_ERROR "
          "\"Too many dynamic namespaces\"");
ABSL_FLAG(int32_t, attachment_timeout_ms, Defaults().attachment_timeout_ms,
          "How long a client's binary event or ack may wait for its attachments; past it the "
          "client's connection is closed and nothing of the event is published");
ABSL_FLAG(int32_t, max_rooms_per_socket, Defaults().max_rooms_per_socket,
          "Rooms a socket may be in (its own and the namespace's included); a join over it is "
          "acked {\"error\":\"too many rooms\"}");
ABSL_FLAG(double, message_rate, Defaults().message_rate,
          "Client events and acks per second per socket, and CONNECT/DISCONNECT packets per "
          "second per session (token buckets; 0 = no limit)");
ABSL_FLAG(double, message_burst, Defaults().message_burst, "Token bucket size of --message-rate");
ABSL_FLAG(int32_t, shutdown_grace_ms, Defaults().shutdown_grace_ms,
          "After SIGTERM/SIGINT: how long clients' transports may take to flush what was queued "
          "for them and close; the gateway exits as soon as all have, or when this passes");
ABSL_FLAG(std::string, rate_limit_policy, Defaults().rate_limit_policy,
          "What an event over --message-rate gets: 'ack' (dropped; an error ack when the client "
          "asked for one) or 'disconnect' (the socket is disconnected)");

namespace {

// Every flag into its GatewayOptions member of the same name.
GatewayOptions OptionsFromFlags() {
  GatewayOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.broker_pub = absl::GetFlag(FLAGS_broker_pub);
  options.broker_sub = absl::GetFlag(FLAGS_broker_sub);
  options.curve_server_key = absl::GetFlag(FLAGS_curve_server_key);
  options.curve_secret_key = absl::GetFlag(FLAGS_curve_secret_key);
  options.config = absl::GetFlag(FLAGS_config);
  options.ping_interval_ms = absl::GetFlag(FLAGS_ping_interval_ms);
  options.ping_timeout_ms = absl::GetFlag(FLAGS_ping_timeout_ms);
  options.connect_timeout_ms = absl::GetFlag(FLAGS_connect_timeout_ms);
  options.max_payload = absl::GetFlag(FLAGS_max_payload);
  options.cors_origin = absl::GetFlag(FLAGS_cors_origin);
  options.static_dir = absl::GetFlag(FLAGS_static_dir);
  options.client_dir = absl::GetFlag(FLAGS_client_dir);
  options.sid_prefix = absl::GetFlag(FLAGS_sid_prefix);
  options.max_outbound_bytes = absl::GetFlag(FLAGS_max_outbound_bytes);
  options.max_event_bytes = absl::GetFlag(FLAGS_max_event_bytes);
  options.max_shard_queue_bytes = absl::GetFlag(FLAGS_max_shard_queue_bytes);
  options.max_connections = absl::GetFlag(FLAGS_max_connections);
  options.handshake_rate = absl::GetFlag(FLAGS_handshake_rate);
  options.handshake_burst = absl::GetFlag(FLAGS_handshake_burst);
  options.max_sessions_per_address = absl::GetFlag(FLAGS_max_sessions_per_address);
  options.max_rooms_per_address = absl::GetFlag(FLAGS_max_rooms_per_address);
  options.trusted_proxy = absl::GetFlag(FLAGS_trusted_proxy);
  options.max_namespaces = absl::GetFlag(FLAGS_max_namespaces);
  options.max_dynamic_namespaces = absl::GetFlag(FLAGS_max_dynamic_namespaces);
  options.attachment_timeout_ms = absl::GetFlag(FLAGS_attachment_timeout_ms);
  options.max_rooms_per_socket = absl::GetFlag(FLAGS_max_rooms_per_socket);
  options.message_rate = absl::GetFlag(FLAGS_message_rate);
  options.message_burst = absl::GetFlag(FLAGS_message_burst);
  options.shutdown_grace_ms = absl::GetFlag(FLAGS_shutdown_grace_ms);
  options.rate_limit_policy = absl::GetFlag(FLAGS_rate_limit_policy);
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  roomq::base::ParseFlagsOrExit(
      argc, argv,
      "Socket.IO-compatible WebSocket/HTTP gateway mapping rooms onto roomq broker topics.",
      "gateway/server/main.cc");
  auto gateway = roomq::gateway::server::Gateway::Create(OptionsFromFlags());
  if (!gateway.ok()) {
    std::fprintf(stderr, "roomq-gateway: %s (see --help)\n",
                 std::string(gateway.status().message()).c_str());
    return 2;
  }

  // Every thread started from here on inherits the blocked mask; main waits
  // for the signals with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Start() logged why it failed; InvalidArgument is a refused option.
  if (absl::Status started = (*gateway)->Start(); !started.ok()) {
    return absl::IsInvalidArgument(started) ? 2 : 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("roomq-gateway: signal {}, shutting down", signal_number);
  (*gateway)->Shutdown();
  return 0;
}
