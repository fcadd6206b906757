#include "gateway/server/gateway_flags.h"

#include "proto/node/command_line.h"

namespace roomq::gateway::server {

void AddGatewayOptions(CLI::App& app, GatewayOptions& options) {
  app.add_option("--listen", options.listen,
                 "HOST:PORT to serve HTTP and WebSocket on; port 0 picks a free port (logged)");
  app.add_option(
      "--metrics-listen", options.metrics_listen,
      "HOST:PORT serving GET /metrics (Prometheus text) and GET /healthz on a listener of "
      "their own, never on --listen; port 0 picks a free port (logged). Empty: no metrics");
  app.add_option("--threads", options.threads, "io threads (shards), default = cores");
  node::AddBrokerEndpointOptions(app, options.broker_pub, options.broker_sub);
  node::AddCurveClientOptions(app, options.curve_server_key, options.curve_secret_key);
  app.add_option(
      "--config", options.config,
      "YAML config file: any flag as a key (max_outbound_bytes: 1048576; flags given here "
      "win) and the namespaces; none = namespace / open (join any room, relay broadcast)");
  app.add_option("--ping-interval-ms", options.ping_interval_ms,
                 "Engine.IO pingInterval: the server pings this often");
  app.add_option("--ping-timeout-ms", options.ping_timeout_ms,
                 "Engine.IO pingTimeout: a session without pong this long after a ping is closed");
  app.add_option("--connect-timeout-ms", options.connect_timeout_ms,
                 "Socket.IO: an Engine.IO session without a namespace CONNECT this long is closed");
  app.add_option("--max-payload", options.max_payload,
                 "Engine.IO maxPayload: largest polling POST body / WebSocket message in bytes");
  app.add_option("--cors-origin", options.cors_origin,
                 "Allowed Origin (repeatable; '*' = any). Unset: no CORS headers, any origin")
      ->delimiter(',');
  app.add_option("--static-dir", options.static_dir,
                 "Directory served at / (index.html for directories), e.g. the chat app; "
                 "empty = <binary dir>/../web (a missing directory serves nothing: 404)");
  app.add_option(
      "--client-dir", options.client_dir,
      "Directory holding socket.io.min.js(.map) for /socket.io/; empty = <binary dir>/../web");
  app.add_option(
      "--sid-prefix", options.sid_prefix,
      "Put at the start of every Engine.IO sid this gateway issues (up to 16 of A-Z a-z 0-9 - "
      "_), so a load balancer can route each session's requests to this gateway by its sid "
      "(see deploy/lb/nginx.conf); distinct per gateway behind one balancer");
  app.add_option("--max-outbound-bytes", options.max_outbound_bytes,
                 "Per-session bound on bytes queued for the client: messages, and control frames "
                 "(pongs, pings) at their size plus 128 each; over it the session is closed");
  app.add_option(
      "--max-event-bytes", options.max_event_bytes,
      "Bytes of one client event or ack, its text plus all its binary attachments; a client "
      "sending more is disconnected. 0 = --max-payload. Must fit in --max-outbound-bytes "
      "with the framing a delivery adds, so no accepted event can cut off a reader");
  app.add_option(
      "--max-shard-queue-bytes", options.max_shard_queue_bytes,
      "Bytes of broker deliveries the bridge may have posted to one io shard that it has not "
      "yet run; past it a delivery is dropped for that shard "
      "(drops_total{reason=\"shard_queue_full\"})");
  app.add_option(
      "--max-connections", options.max_connections,
      "Engine.IO sessions at once; a handshake over it gets HTTP 503 \"Too many connections\" "
      "(0 = no limit)");
  app.add_option(
      "--handshake-rate", options.handshake_rate,
      "Engine.IO handshakes per second per client address (token bucket; IPv6 by /64); over "
      "it a handshake gets HTTP 429 \"Too many handshakes from this address\" (0 = no limit)");
  app.add_option("--handshake-burst", options.handshake_burst,
                 "Token bucket size of --handshake-rate");
  app.add_option(
      "--max-sessions-per-address", options.max_sessions_per_address,
      "Engine.IO sessions one client address (IPv6: one /64) may hold at once; over it a "
      "handshake gets HTTP 503 \"Too many sessions from this address\" (0 = no limit)");
  app.add_option(
      "--max-rooms-per-address", options.max_rooms_per_address,
      "Room memberships the sockets of one client address may hold together (own and "
      "namespace rooms included); a join over it is acked {\"error\":\"too many rooms for "
      "this address\"}, a CONNECT gets CONNECT_ERROR (0 = no limit)");
  app.add_option(
         "--trusted-proxy", options.trusted_proxy,
         "CIDR range of load balancers (repeatable, e.g. 10.0.0.0/8): from a peer in one, the "
         "client address is the rightmost X-Forwarded-For hop that is not itself a trusted "
         "proxy. Unset: the TCP peer is the client, X-Forwarded-For is ignored")
      ->delimiter(',');
  app.add_option("--socket-log-rate", options.socket_log_rate,
                 "Socket connected, recovered and disconnected lines each io thread logs at "
                 "info per second; the rest go to debug, counted in "
                 "socket_log_lines_at_debug_total. 0: no limit");
  app.add_option("--max-namespaces", options.max_namespaces,
                 "Namespaces one connection may join; a CONNECT over it gets CONNECT_ERROR");
  app.add_option(
      "--max-dynamic-namespaces", options.max_dynamic_namespaces,
      "Namespaces from --config patterns each io thread holds at once (each exists while an "
      "admitted socket is in it); a CONNECT that would create one more gets CONNECT_ERROR "
      "\"Too many dynamic namespaces\"");
  app.add_option(
      "--attachment-timeout-ms", options.attachment_timeout_ms,
      "How long a client's binary event or ack may wait for its attachments; past it the "
      "client's connection is closed and nothing of the event is published");
  app.add_option("--middleware-timeout-ms", options.middleware_timeout_ms,
                 "How long a CONNECT to a `middleware: required` namespace waits for a native "
                 "service's verdict; past it (no service there included) it is refused");
  app.add_option("--max-socket-data-bytes", options.max_socket_data_bytes,
                 "Bytes of socket.data a service may set; a larger middleware verdict refuses "
                 "the CONNECT, a larger SetData keeps the old data");
  app.add_option(
      "--max-rooms-per-socket", options.max_rooms_per_socket,
      "Rooms a socket may be in (its own and the namespace's included); a join over it is "
      "acked {\"error\":\"too many rooms\"}");
  app.add_option("--message-rate", options.message_rate,
                 "Client events and acks per second per socket, and CONNECT/DISCONNECT packets per "
                 "second per session (token buckets; 0 = no limit)");
  app.add_option("--message-burst", options.message_burst, "Token bucket size of --message-rate");
  app.add_option(
      "--shutdown-grace-ms", options.shutdown_grace_ms,
      "After SIGTERM/SIGINT: how long clients' transports may take to flush what was queued "
      "for them and close; the gateway exits as soon as all have, or when this passes");
  app.add_option(
      "--write-delay-ms", options.write_delay_ms,
      "Write coalescing (0 = off): a WebSocket's frames wait up to this long so that what is "
      "queued meanwhile goes out in one write; fewer syscalls at a steady rate, for up to this "
      "much more latency (like Centrifugo's write_delay). Frames waiting count against "
      "--max-outbound-bytes. 0..100");
  app.add_option(
      "--rate-limit-policy", options.rate_limit_policy,
      "What an event over --message-rate gets: 'ack' (dropped; an error ack when the client "
      "asked for one) or 'disconnect' (the socket is disconnected)");
}

}  // namespace roomq::gateway::server
