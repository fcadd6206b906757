// roomq-gateway: flags in, io shards + Socket.IO layer + HTTP server out.
// Everything else lives in the libraries.

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "gateway/engineio/client_address.h"
#include "gateway/engineio/sid.h"
#include "gateway/server/gateway_server.h"
#include "gateway/server/host_port.h"
#include "gateway/server/io_shards.h"
#include "gateway/socketio/config.h"
#include "gateway/socketio/server.h"
#include "proto/base/command_line.h"
#include "proto/base/metrics_listener.h"
#include "proto/node/curve.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:8080",
          "HOST:PORT to serve HTTP and WebSocket on; port 0 picks a free port (logged)");
ABSL_FLAG(std::string, metrics_listen, "",
          "HOST:PORT serving GET /metrics (Prometheus text) and GET /healthz on a listener of "
          "their own, never on --listen; port 0 picks a free port (logged). Empty: no metrics");
ABSL_FLAG(int32_t, threads, static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency())),
          "io threads (shards), default = cores");
ABSL_FLAG(std::string, broker_pub, "tcp://127.0.0.1:5555", "Broker endpoint envelopes are sent to");
ABSL_FLAG(std::string, broker_sub, "tcp://127.0.0.1:5556",
          "Broker endpoint deliveries are received from");
ABSL_FLAG(std::string, curve_server_key, "",
          "CURVE: the broker's public key file (NAME.pub); with --curve-secret-key");
ABSL_FLAG(std::string, curve_secret_key, "",
          "CURVE: this gateway's secret key file (NAME.key, from roomq keygen)");
ABSL_FLAG(std::string, config, "",
          "YAML namespace policy file; empty = namespace / open (join any room, relay broadcast)");
ABSL_FLAG(int32_t, ping_interval_ms, 25000, "Engine.IO pingInterval: the server pings this often");
ABSL_FLAG(int32_t, ping_timeout_ms, 20000,
          "Engine.IO pingTimeout: a session without pong this long after a ping is closed");
ABSL_FLAG(int32_t, connect_timeout_ms, 45000,
          "Socket.IO: an Engine.IO session without a namespace CONNECT this long is closed");
ABSL_FLAG(int64_t, max_payload, 1000000,
          "Engine.IO maxPayload: largest polling POST body / WebSocket message in bytes");
ABSL_FLAG(std::vector<std::string>, cors_origin, {},
          "Allowed Origin (repeatable; '*' = any). Unset: no CORS headers, any origin");
ABSL_FLAG(std::string, static_dir, "",
          "Directory served at / (index.html for directories), e.g. the chat app; "
          "empty = <binary dir>/../web (a missing directory serves nothing: 404)");
ABSL_FLAG(std::string, client_dir, "",
          "Directory holding socket.io.min.js(.map) for /socket.io/; empty = <binary dir>/../web");
ABSL_FLAG(std::string, sid_prefix, "",
          "Put at the start of every Engine.IO sid this gateway issues (up to 16 of A-Z a-z 0-9 - "
          "_), so a load balancer can route each session's requests to this gateway by its sid "
          "(see deploy/lb/nginx.conf); distinct per gateway behind one balancer");
ABSL_FLAG(int64_t, max_outbound_bytes, 1 << 20,
          "Per-session bound on bytes queued for the client: messages, and control frames "
          "(pongs, pings) at their size plus 128 each; over it the session is closed");
ABSL_FLAG(int64_t, max_event_bytes, 0,
          "Bytes of one client event or ack, its text plus all its binary attachments; a client "
          "sending more is disconnected. 0 = --max-payload. Must fit in --max-outbound-bytes "
          "with the framing a delivery adds, so no accepted event can cut off a reader");
ABSL_FLAG(int64_t, max_shard_queue_bytes, int64_t{64} << 20,
          "Bytes of broker deliveries the bridge may have posted to one io shard that it has not "
          "yet run; past it a delivery is dropped for that shard "
          "(drops_total{reason=\"shard_queue_full\"})");
ABSL_FLAG(int64_t, max_connections, 100000,
          "Engine.IO sessions at once; a handshake over it gets HTTP 503 \"Too many connections\" "
          "(0 = no limit)");
ABSL_FLAG(double, handshake_rate, 50,
          "Engine.IO handshakes per second per client address (token bucket; IPv6 by /64); over "
          "it a handshake gets HTTP 429 \"Too many handshakes from this address\" (0 = no limit)");
ABSL_FLAG(double, handshake_burst, 200, "Token bucket size of --handshake-rate");
ABSL_FLAG(int64_t, max_sessions_per_address, 5000,
          "Engine.IO sessions one client address (IPv6: one /64) may hold at once; over it a "
          "handshake gets HTTP 503 \"Too many sessions from this address\" (0 = no limit)");
ABSL_FLAG(int64_t, max_rooms_per_address, 100000,
          "Room memberships the sockets of one client address may hold together (own and "
          "namespace rooms included); a join over it is acked {\"error\":\"too many rooms for "
          "this address\"}, a CONNECT gets CONNECT_ERROR (0 = no limit)");
ABSL_FLAG(std::vector<std::string>, trusted_proxy, {},
          "CIDR range of load balancers (repeatable, e.g. 10.0.0.0/8): from a peer in one, the "
          "client address is the rightmost X-Forwarded-For hop that is not itself a trusted "
          "proxy. Unset: the TCP peer is the client, X-Forwarded-For is ignored");
ABSL_FLAG(int32_t, max_namespaces, 32,
          "Namespaces one connection may join; a CONNECT over it gets CONNECT_ERROR");
ABSL_FLAG(int32_t, max_dynamic_namespaces, 10000,
          "Namespaces from --config patterns each io thread holds at once (each exists while an "
          "admitted socket is in it); a CONNECT that would create one more gets CONNECT_ERROR "
          "\"Too many dynamic namespaces\"");
ABSL_FLAG(int32_t, attachment_timeout_ms, 30000,
          "How long a client's binary event or ack may wait for its attachments; past it the "
          "client's connection is closed and nothing of the event is published");
ABSL_FLAG(int32_t, max_rooms_per_socket, 1000,
          "Rooms a socket may be in (its own and the namespace's included); a join over it is "
          "acked {\"error\":\"too many rooms\"}");
ABSL_FLAG(double, message_rate, 1000,
          "Client events and acks per second per socket, and CONNECT/DISCONNECT packets per "
          "second per session (token buckets; 0 = no limit)");
ABSL_FLAG(double, message_burst, 2000, "Token bucket size of --message-rate");
ABSL_FLAG(int32_t, shutdown_grace_ms, 1000,
          "After SIGTERM/SIGINT: how long clients' transports may take to flush what was queued "
          "for them and close; the gateway exits as soon as all have, or when this passes");
ABSL_FLAG(std::string, rate_limit_policy, "ack",
          "What an event over --message-rate gets: 'ack' (dropped; an error ack when the client "
          "asked for one) or 'disconnect' (the socket is disconnected)");

namespace {

// <binary dir>/../web: where the build (and the deploy image) puts the chat
// app and the socket.io-client bundle.
std::string DefaultWebDir() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  return (exe.parent_path().parent_path() / "web").string();
}

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "roomq-gateway: %s (see --help)\n", message.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  namespace server = roomq::gateway::server;
  namespace socketio = roomq::gateway::socketio;
  namespace engineio = roomq::gateway::engineio;
  roomq::base::ParseFlagsOrExit(
      argc, argv,
      "Socket.IO-compatible WebSocket/HTTP gateway mapping rooms onto roomq broker topics.",
      "gateway/server/main.cc");

  server::GatewayServerOptions options;
  int port = 0;
  if (auto status = server::ParseHostPort(absl::GetFlag(FLAGS_listen), &options.host, &port);
      !status.ok()) {
    UsageError("--listen: " + std::string(status.message()));
  }
  options.port = static_cast<uint16_t>(port);
  const int threads = absl::GetFlag(FLAGS_threads);
  const int ping_interval = absl::GetFlag(FLAGS_ping_interval_ms);
  const int ping_timeout = absl::GetFlag(FLAGS_ping_timeout_ms);
  const int connect_timeout = absl::GetFlag(FLAGS_connect_timeout_ms);
  const int64_t max_payload = absl::GetFlag(FLAGS_max_payload);
  const int64_t max_outbound = absl::GetFlag(FLAGS_max_outbound_bytes);
  if (threads < 1 || threads > 4096) UsageError("--threads must be 1..4096");
  if (ping_interval <= 0 || ping_timeout <= 0 || connect_timeout <= 0) {
    UsageError("--ping-interval-ms, --ping-timeout-ms and --connect-timeout-ms must be positive");
  }
  if (max_payload <= 0 || max_outbound <= 0) {
    UsageError("--max-payload and --max-outbound-bytes must be positive");
  }
  options.engine.ping_interval = std::chrono::milliseconds(ping_interval);
  options.engine.ping_timeout = std::chrono::milliseconds(ping_timeout);
  options.engine.max_payload = static_cast<size_t>(max_payload);
  options.engine.max_outbound_bytes = static_cast<size_t>(max_outbound);
  int64_t max_event = absl::GetFlag(FLAGS_max_event_bytes);
  if (max_event == 0) max_event = max_payload;
  if (max_event < 0) UsageError("--max-event-bytes must not be negative");
  if (static_cast<uint64_t>(max_event) + socketio::kDeliveryFramingBytes >
      static_cast<uint64_t>(max_outbound)) {
    UsageError(absl::StrCat("--max-event-bytes (", max_event, ") plus ",
                            socketio::kDeliveryFramingBytes,
                            " bytes of framing must fit in --max-outbound-bytes (", max_outbound,
                            "): an event the gateway accepts must never cut off a reader"));
  }
  options.engine.cors_origins = absl::GetFlag(FLAGS_cors_origin);
  options.engine.sid_prefix = absl::GetFlag(FLAGS_sid_prefix);
  if (!roomq::gateway::engineio::IsValidSidPrefix(options.engine.sid_prefix)) {
    UsageError("--sid-prefix must be at most 16 characters of A-Z a-z 0-9 - _");
  }
  options.static_dir = absl::GetFlag(FLAGS_static_dir);
  if (options.static_dir.empty()) options.static_dir = DefaultWebDir();
  options.client_dir = absl::GetFlag(FLAGS_client_dir);
  if (options.client_dir.empty()) options.client_dir = DefaultWebDir();

  socketio::ServerOptions socketio_options;
  const std::string config_path = absl::GetFlag(FLAGS_config);
  if (config_path.empty()) {
    socketio_options.config = socketio::DefaultConfig();
  } else {
    auto config = socketio::LoadConfigFile(config_path);
    if (!config.ok()) UsageError("--config " + config_path + ": " + config.status().ToString());
    socketio_options.config = *std::move(config);
  }
  socketio_options.broker.pub_endpoint = absl::GetFlag(FLAGS_broker_pub);
  socketio_options.broker.sub_endpoint = absl::GetFlag(FLAGS_broker_sub);
  auto curve = roomq::node::LoadCurveClientOptions(absl::GetFlag(FLAGS_curve_server_key),
                                                   absl::GetFlag(FLAGS_curve_secret_key));
  if (!curve.ok()) UsageError(std::string(curve.status().message()));
  socketio_options.broker.curve = *std::move(curve);
  socketio_options.connect_timeout = std::chrono::milliseconds(connect_timeout);
  const int64_t max_connections = absl::GetFlag(FLAGS_max_connections);
  const int max_namespaces = absl::GetFlag(FLAGS_max_namespaces);
  const int max_dynamic_namespaces = absl::GetFlag(FLAGS_max_dynamic_namespaces);
  const int attachment_timeout_ms = absl::GetFlag(FLAGS_attachment_timeout_ms);
  const int max_rooms = absl::GetFlag(FLAGS_max_rooms_per_socket);
  const double message_rate = absl::GetFlag(FLAGS_message_rate);
  const double message_burst = absl::GetFlag(FLAGS_message_burst);
  const std::string rate_policy = absl::GetFlag(FLAGS_rate_limit_policy);
  const int shutdown_grace_ms = absl::GetFlag(FLAGS_shutdown_grace_ms);
  if (shutdown_grace_ms < 0) UsageError("--shutdown-grace-ms must be >= 0");
  if (max_connections < 0) UsageError("--max-connections must be >= 0");
  if (max_namespaces < 1 || max_rooms < 2) {
    UsageError("--max-namespaces must be >= 1 and --max-rooms-per-socket >= 2");
  }
  if (max_dynamic_namespaces < 1) UsageError("--max-dynamic-namespaces must be >= 1");
  if (attachment_timeout_ms <= 0) UsageError("--attachment-timeout-ms must be positive");
  if (!(message_rate >= 0) || !(message_burst >= 1)) {
    UsageError("--message-rate must be >= 0 and --message-burst >= 1");
  }
  if (rate_policy != "ack" && rate_policy != "disconnect") {
    UsageError("--rate-limit-policy must be 'ack' or 'disconnect'");
  }
  options.engine.max_connections = static_cast<size_t>(max_connections);
  const double handshake_rate = absl::GetFlag(FLAGS_handshake_rate);
  const double handshake_burst = absl::GetFlag(FLAGS_handshake_burst);
  const int64_t max_sessions_per_address = absl::GetFlag(FLAGS_max_sessions_per_address);
  const int64_t max_rooms_per_address = absl::GetFlag(FLAGS_max_rooms_per_address);
  if (!(handshake_rate >= 0) || !(handshake_burst >= 1)) {
    UsageError("--handshake-rate must be >= 0 and --handshake-burst >= 1");
  }
  if (max_sessions_per_address < 0 || max_rooms_per_address < 0) {
    UsageError("--max-sessions-per-address and --max-rooms-per-address must be >= 0");
  }
  options.engine.address_limits.handshake_rate = handshake_rate;
  options.engine.address_limits.handshake_burst = handshake_burst;
  options.engine.address_limits.max_sessions = static_cast<size_t>(max_sessions_per_address);
  options.engine.address_limits.max_rooms = static_cast<uint64_t>(max_rooms_per_address);
  for (const std::string& list : absl::GetFlag(FLAGS_trusted_proxy)) {
    auto range = engineio::IpRange::Parse(list);
    if (!range.ok()) UsageError("--trusted-proxy: " + std::string(range.status().message()));
    options.engine.trusted_proxies.push_back(*range);
  }
  socketio_options.limits.max_namespaces = static_cast<size_t>(max_namespaces);
  socketio_options.limits.max_event_bytes = static_cast<size_t>(max_event);
  socketio_options.limits.attachment_timeout = std::chrono::milliseconds(attachment_timeout_ms);
  socketio_options.max_dynamic_namespaces = static_cast<size_t>(max_dynamic_namespaces);
  socketio_options.max_rooms_per_socket = static_cast<size_t>(max_rooms);
  const int64_t max_shard_queue = absl::GetFlag(FLAGS_max_shard_queue_bytes);
  if (max_shard_queue <= 0) UsageError("--max-shard-queue-bytes must be positive");
  socketio_options.max_shard_queue_bytes = static_cast<uint64_t>(max_shard_queue);
  socketio_options.limits.message_rate = message_rate;
  socketio_options.limits.message_burst = message_burst;
  socketio_options.limits.rate_limit_policy = rate_policy == "disconnect"
                                                  ? socketio::RateLimitPolicy::kDisconnect
                                                  : socketio::RateLimitPolicy::kErrorAck;

  // Every thread started from here on inherits the blocked mask; main waits
  // for the signals with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  server::IoShards shards(static_cast<size_t>(threads));
  auto socketio_server = socketio::Server::Create(std::move(socketio_options), shards.executors());
  if (!socketio_server.ok()) {
    spdlog::error("roomq-gateway: {}", socketio_server.status().ToString());
    shards.Stop(std::chrono::milliseconds(0));
    return absl::IsInvalidArgument(socketio_server.status()) ? 2 : 1;
  }
  // GET /metrics on --metrics-listen: the Socket.IO layer's shard snapshot
  // plus the engine's counters (the engine exists once the server does).
  server::GatewayServer* metrics_gateway = nullptr;
  auto collect_metrics = [sio = socketio_server->get(),
                          &metrics_gateway](std::function<void(std::string)> reply) {
    engineio::EngineStats engine;
    if (metrics_gateway != nullptr) engine = metrics_gateway->engine().stats();
    const uint64_t origin_refused =
        metrics_gateway != nullptr ? metrics_gateway->engine().cors().refused() : 0;
    sio->CollectMetrics(
        [reply = std::move(reply), engine, origin_refused](socketio::MetricsSnapshot snapshot) {
          snapshot.engine_sessions = engine.sessions;
          snapshot.refusals["max_connections"] = engine.refused_max_connections;
          snapshot.refusals["handshake_rate"] = engine.refused_handshake_rate;
          snapshot.refusals["sessions_per_address"] = engine.refused_sessions_per_address;
          snapshot.client_addresses = engine.client_addresses;
          snapshot.refusals["origin"] = origin_refused;
          snapshot.transport_errors = engine.transport_errors;
          reply(socketio::FormatPrometheus(snapshot));
        });
  };
  auto gateway = server::GatewayServer::Create(options, &shards, socketio_server->get());
  if (!gateway.ok()) {
    spdlog::error("roomq-gateway: {}", gateway.status().ToString());
    (*socketio_server)->Shutdown();
    shards.Stop(std::chrono::milliseconds(0));
    return 1;
  }
  metrics_gateway = gateway->get();
  std::unique_ptr<roomq::base::MetricsListener> metrics_listener;
  if (const std::string bind = absl::GetFlag(FLAGS_metrics_listen); !bind.empty()) {
    roomq::base::MetricsHandlers handlers;
    handlers.server_name = "roomq-gateway";
    handlers.metrics = collect_metrics;
    auto started = roomq::base::MetricsListener::Start(bind, std::move(handlers));
    if (!started.ok()) {
      spdlog::error("roomq-gateway: --metrics-listen: {}", started.status().ToString());
      (*socketio_server)->Shutdown();
      shards.Stop(std::chrono::milliseconds(0));
      gateway->reset();
      return absl::IsInvalidArgument(started.status()) ? 2 : 1;
    }
    metrics_listener = *std::move(started);
    spdlog::info("roomq-gateway metrics on http://{}/metrics", metrics_listener->endpoint());
  }
  (*gateway)->Start();
  const std::string& host = (*gateway)->host();
  spdlog::info("roomq-gateway listening on http://{}:{} ({} io threads)",
               host.find(':') != std::string::npos ? "[" + host + "]" : host, (*gateway)->port(),
               threads);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("roomq-gateway: signal {}, shutting down", signal_number);
  metrics_listener.reset();
  // Stop accepting and tell every client at once (close packet, then each
  // transport flushes what it had queued and closes). The bridge stops while
  // the io threads flush; the process leaves once every transport closed,
  // or after the grace (a client that does not read cannot hold it longer).
  const auto signalled = std::chrono::steady_clock::now();
  if (!(*gateway)->Shutdown("server shutting down", std::chrono::seconds(3))) {
    spdlog::warn("roomq-gateway: sessions did not all close in time");
  }
  const auto flush_deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(shutdown_grace_ms);
  (*socketio_server)->Shutdown();
  const bool flushed = (*gateway)->WaitForTransportsClosed(flush_deadline);
  const auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - signalled)
                             .count();
  if (flushed) {
    spdlog::info("roomq-gateway: transports flushed and closed {} ms after the signal", waited_ms);
  } else {
    spdlog::warn("roomq-gateway: transports still open after --shutdown-grace-ms={}; closing them",
                 shutdown_grace_ms);
  }
  shards.Stop(std::chrono::milliseconds(0));
  gateway->reset();
  socketio_server->reset();
  spdlog::info("roomq-gateway stopped");
  return 0;
}
