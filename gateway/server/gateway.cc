#include "gateway/server/gateway.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <system_error>
#include <utility>

#include "gateway/engineio/client_address.h"
#include "gateway/socketio/config.h"
#include "gateway/socketio/metrics.h"
#include "proto/base/host_port.h"
#include "proto/node/curve.h"

namespace roomq::gateway::server {
namespace {

// How long Shutdown() gives the io threads to stop accepting and end every
// session (each shard does so in one pass; only a wedged shard is slower).
constexpr std::chrono::seconds kEndSessionsBound{3};

// <binary dir>/../web: where the build (and the deploy image) puts the chat
// app and the socket.io-client bundle.
std::string DefaultWebDir() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  return (exe.parent_path().parent_path() / "web").string();
}

// The HTTP server's share of `options`, which Validate() accepted.
GatewayServerOptions HttpOptionsFrom(const GatewayOptions& options) {
  GatewayServerOptions http;
  if (absl::StatusOr<base::HostPort> listen = base::ParseHostPort(options.listen); listen.ok()) {
    http.host = std::move(listen->host);
    http.port = listen->port;
  }
  engineio::EngineOptions& engine = http.engine;
  engine.ping_interval = std::chrono::milliseconds(options.ping_interval_ms);
  engine.ping_timeout = std::chrono::milliseconds(options.ping_timeout_ms);
  engine.max_payload = static_cast<size_t>(options.max_payload);
  engine.max_outbound_bytes = static_cast<size_t>(options.max_outbound_bytes);
  engine.write_delay = std::chrono::milliseconds(options.write_delay_ms);
  engine.cors_origins = options.cors_origin;
  engine.sid_prefix = options.sid_prefix;
  engine.max_connections = static_cast<size_t>(options.max_connections);
  engine.address_limits.handshake_rate = options.handshake_rate;
  engine.address_limits.handshake_burst = options.handshake_burst;
  engine.address_limits.max_sessions = static_cast<size_t>(options.max_sessions_per_address);
  engine.address_limits.max_rooms = static_cast<uint64_t>(options.max_rooms_per_address);
  for (const std::string& range : options.trusted_proxy) {
    engine.trusted_proxies.push_back(*engineio::IpRange::Parse(range));
  }
  http.static_dir = options.static_dir.empty() ? DefaultWebDir() : options.static_dir;
  http.client_dir = options.client_dir.empty() ? DefaultWebDir() : options.client_dir;
  return http;
}

// The Socket.IO layer's share of `options`, which Validate() accepted;
// reads --config and the CURVE key files.
absl::StatusOr<socketio::ServerOptions> SocketioOptionsFrom(const GatewayOptions& options) {
  socketio::ServerOptions socketio;
  if (options.config.empty()) {
    socketio.config = socketio::DefaultConfig();
  } else {
    auto config = socketio::LoadConfigFile(options.config, options.config_flag_keys);
    if (!config.ok()) {
      return absl::InvalidArgumentError("--config " + options.config + ": " +
                                        config.status().ToString());
    }
    socketio.config = *std::move(config);
  }
  socketio.broker.pub_endpoint = options.broker_pub;
  socketio.broker.sub_endpoint = options.broker_sub;
  auto curve = node::LoadCurveClientOptions(options.curve_server_key, options.curve_secret_key);
  if (!curve.ok()) return absl::InvalidArgumentError(curve.status().message());
  socketio.broker.curve = *std::move(curve);
  socketio.connect_timeout = std::chrono::milliseconds(options.connect_timeout_ms);
  socketio.limits.max_namespaces = static_cast<size_t>(options.max_namespaces);
  socketio.limits.max_event_bytes = static_cast<size_t>(
      options.max_event_bytes == 0 ? options.max_payload : options.max_event_bytes);
  socketio.limits.attachment_timeout = std::chrono::milliseconds(options.attachment_timeout_ms);
  socketio.limits.middleware_timeout = std::chrono::milliseconds(options.middleware_timeout_ms);
  socketio.limits.max_socket_data_bytes = static_cast<size_t>(options.max_socket_data_bytes);
  socketio.limits.message_rate = options.message_rate;
  socketio.limits.message_burst = options.message_burst;
  socketio.limits.rate_limit_policy = options.rate_limit_policy == "disconnect"
                                          ? socketio::RateLimitPolicy::kDisconnect
                                          : socketio::RateLimitPolicy::kErrorAck;
  socketio.max_dynamic_namespaces = static_cast<size_t>(options.max_dynamic_namespaces);
  socketio.socket_log_rate = options.socket_log_rate;
  socketio.max_rooms_per_socket = static_cast<size_t>(options.max_rooms_per_socket);
  socketio.max_shard_queue_bytes = static_cast<uint64_t>(options.max_shard_queue_bytes);
  return socketio;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Create(GatewayOptions options) {
  if (absl::Status valid = options.Validate(); !valid.ok()) return valid;
  auto socketio = SocketioOptionsFrom(options);
  if (!socketio.ok()) return socketio.status();
  GatewayServerOptions http = HttpOptionsFrom(options);
  return std::unique_ptr<Gateway>(
      new Gateway(std::move(options), std::move(http), *std::move(socketio)));
}

Gateway::Gateway(GatewayOptions options, GatewayServerOptions http_options,
                 socketio::ServerOptions socketio_options)
    : options_(std::move(options)),
      http_options_(std::move(http_options)),
      socketio_options_(std::move(socketio_options)) {}

Gateway::~Gateway() { Stop(); }

absl::Status Gateway::Start() {
  shards_ = std::make_unique<IoShards>(static_cast<size_t>(options_.threads));
  auto socketio = socketio::Server::Create(std::move(socketio_options_), shards_->executors());
  if (!socketio.ok()) {
    spdlog::error("roomq-gateway: {}", socketio.status().ToString());
    Stop();
    return socketio.status();
  }
  socketio_ = *std::move(socketio);
  auto http = GatewayServer::Create(http_options_, shards_.get(), socketio_.get());
  if (!http.ok()) {
    spdlog::error("roomq-gateway: {}", http.status().ToString());
    Stop();
    // Not binding --listen is a failure to start (exit 1) whatever its
    // code, an unresolvable host included.
    return absl::IsInvalidArgument(http.status()) ? absl::UnavailableError(http.status().message())
                                                  : http.status();
  }
  http_ = *std::move(http);
  if (!options_.metrics_listen.empty()) {
    base::MetricsHandlers handlers;
    handlers.server_name = "roomq-gateway";
    handlers.metrics = [this](std::function<void(std::string)> reply) {
      CollectMetrics(std::move(reply));
    };
    auto started = base::MetricsListener::Start(options_.metrics_listen, std::move(handlers));
    if (!started.ok()) {
      spdlog::error("roomq-gateway: --metrics-listen: {}", started.status().ToString());
      Stop();
      return started.status();
    }
    metrics_ = *std::move(started);
    spdlog::info("roomq-gateway metrics on http://{}/metrics", metrics_->endpoint());
  }
  http_->Start();
  const std::string& host = http_->host();
  spdlog::info("roomq-gateway listening on http://{}:{} ({} io threads)",
               host.find(':') != std::string::npos ? "[" + host + "]" : host, http_->port(),
               options_.threads);
  return absl::OkStatus();
}

uint16_t Gateway::port() const { return http_ != nullptr ? http_->port() : 0; }

std::string Gateway::metrics_endpoint() const {
  return metrics_ != nullptr ? metrics_->endpoint() : "";
}

void Gateway::CollectMetrics(std::function<void(std::string)> reply) {
  const engineio::EngineStats engine = http_->engine().stats();
  const uint64_t origin_refused = http_->engine().cors().refused();
  socketio_->CollectMetrics(
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
}

bool Gateway::Shutdown() {
  if (http_ == nullptr) return true;  // never started, or shut down already
  metrics_.reset();
  // Stop accepting and tell every client at once (close packet, then each
  // transport flushes what it had queued and closes). The bridge stops while
  // the io threads flush; the process leaves once every transport closed,
  // or after the grace (a client that does not read cannot hold it longer).
  const auto signalled = std::chrono::steady_clock::now();
  if (!http_->Shutdown("server shutting down", kEndSessionsBound)) {
    spdlog::warn("roomq-gateway: sessions did not all close in time");
  }
  const auto flush_deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.shutdown_grace_ms);
  socketio_->Shutdown();
  const bool flushed = http_->WaitForTransportsClosed(flush_deadline);
  const auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - signalled)
                             .count();
  if (flushed) {
    spdlog::info("roomq-gateway: transports flushed and closed {} ms after the signal", waited_ms);
  } else {
    spdlog::warn("roomq-gateway: transports still open after --shutdown-grace-ms={}; closing them",
                 options_.shutdown_grace_ms);
  }
  Stop();
  spdlog::info("roomq-gateway stopped");
  return flushed;
}

void Gateway::Stop() {
  // The metrics thread reads the servers: it goes first. The bridge stops
  // before the io threads; the servers are destroyed only once the io
  // threads are joined (socketio/server.h, gateway_server.h).
  metrics_.reset();
  if (socketio_ != nullptr) socketio_->Shutdown();
  if (shards_ != nullptr) shards_->Stop(std::chrono::milliseconds(0));
  http_.reset();
  socketio_.reset();
  shards_.reset();
}

}  // namespace roomq::gateway::server
