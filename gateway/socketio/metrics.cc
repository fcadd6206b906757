#include "gateway/socketio/metrics.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "gateway/socketio/auth/jwt_verifier.h"
#include "gateway/socketio/connection.h"
#include "gateway/socketio/shard.h"
#include "proto/base/prometheus_text.h"

namespace roomq::gateway::socketio {
namespace {

// The counters of one label: one sample per key, under one HELP/TYPE.
void ByLabel(base::PrometheusText& page, std::string_view name, std::string_view help,
             std::string_view label, const std::map<std::string, uint64_t>& values) {
  page.Header(name, "counter", help);
  for (const auto& [key, value] : values) page.Sample(name, {{label, key}}, value);
}

template <typename Map>
void MergeMap(Map& into, const Map& from) {
  for (const auto& [key, value] : from) into[key] += value;
}

}  // namespace

void MetricsSnapshot::Merge(const MetricsSnapshot& shard) {
  engine_sessions += shard.engine_sessions;
  client_addresses += shard.client_addresses;
  sessions += shard.sessions;
  MergeMap(sockets, shard.sockets);
  rooms += shard.rooms;
  dynamic_namespaces += shard.dynamic_namespaces;
  subscriptions += shard.subscriptions;
  queued_bytes += shard.queued_bytes;
  max_queued_bytes = std::max(max_queued_bytes, shard.max_queued_bytes);
  messages_in += shard.messages_in;
  bytes_in += shard.bytes_in;
  messages_out += shard.messages_out;
  bytes_out += shard.bytes_out;
  MergeMap(drops, shard.drops);
  MergeMap(refusals, shard.refusals);
  protocol_errors += shard.protocol_errors;
  socket_log_lines_at_debug += shard.socket_log_lines_at_debug;
  MergeMap(transport_errors, shard.transport_errors);
  MergeMap(auth_refusals, shard.auth_refusals);
  MergeMap(middleware, shard.middleware);
  MergeMap(recovery, shard.recovery);
  MergeMap(disconnects, shard.disconnects);
}

namespace {

// Labels from closed sets, exported at zero so that a rate() or an alert
// sees each series before its first event (disconnect reasons are an open
// set: they appear with their first socket).
constexpr std::string_view kAuthRefusalReasons[] = {
    auth::kReasonMissingToken,     auth::kReasonInvalidToken,    auth::kReasonTokenExpired,
    auth::kReasonTokenNotYetValid, auth::kReasonInvalidAudience, auth::kReasonInvalidIssuer};
constexpr std::string_view kMiddlewareOutcomes[] = {kMiddlewareAdmitted, kMiddlewareRefused,
                                                    kMiddlewareTimeout, kMiddlewareDataTooLarge};

}  // namespace

MetricsSnapshot ShardSnapshot(const Shard& shard) {
  MetricsSnapshot s;
  for (std::string_view reason : kAuthRefusalReasons) s.auth_refusals[std::string(reason)] = 0;
  for (std::string_view outcome : kMiddlewareOutcomes) s.middleware[std::string(outcome)] = 0;
  const ShardStats& stats = shard.stats();
  s.sessions = shard.connections().size();
  for (const Connection* connection : shard.connections()) {
    const uint64_t queued = connection->queued_bytes();
    s.queued_bytes += queued;
    s.max_queued_bytes = std::max(s.max_queued_bytes, queued);
  }
  shard.ForEachSocket([&s](const Socket& socket) {
    if (socket.state != Socket::State::kConnected || socket.connection == nullptr) return;
    ++s.sockets[{socket.ns->name, std::string(socket.connection->transport())}];
  });
  s.rooms = shard.room_count();
  s.dynamic_namespaces = shard.namespaces().dynamic_count();
  s.subscriptions = shard.subscription_count();
  s.messages_in = stats.messages_in;
  s.bytes_in = stats.bytes_in;
  s.messages_out = stats.messages_out;
  s.bytes_out = stats.bytes_out;
  s.drops["outbound_full"] = stats.dropped_outbound_full;
  s.drops["closed"] = stats.dropped_closed;
  s.drops["rate_limited"] = stats.rate_limited;
  s.refusals["max_namespaces"] = stats.namespaces_refused;
  s.refusals["max_dynamic_namespaces"] = stats.dynamic_namespaces_refused;
  s.refusals["unknown_namespace"] = stats.unknown_namespaces;
  s.refusals["max_rooms_per_socket"] = stats.joins_refused;
  s.refusals["publish"] = stats.publishes_refused;
  s.refusals["broker_subscription"] = stats.joins_refused_by_broker;
  s.refusals["max_event_bytes"] = stats.events_too_large;
  s.refusals["attachment_timeout"] = stats.attachments_timed_out;
  s.refusals["rooms_per_address"] = stats.rooms_per_address_refused;
  s.refusals["max_socket_data_bytes"] = stats.socket_data_refused;
  s.protocol_errors = stats.protocol_errors;
  s.socket_log_lines_at_debug = shard.socket_lines().at_debug();
  for (const auto& [reason, count] : stats.disconnects) s.disconnects[reason] = count;
  for (const auto& [reason, count] : stats.auth_refusals) s.auth_refusals[reason] = count;
  for (const auto& [outcome, count] : stats.middleware) s.middleware[outcome] = count;
  s.recovery["saved"] = stats.sessions_saved;
  s.recovery["recovered"] = stats.recoveries;
  s.recovery["failed"] = stats.recoveries_failed;
  s.recovery["rooms_dropped"] = stats.recovery_rooms_dropped;
  s.recovery["taken_over"] = stats.sockets_taken_over;
  return s;
}

std::string FormatPrometheus(const MetricsSnapshot& s) {
  base::PrometheusText page("roomq_gateway_");
  page.Gauge("engine_sessions", "Engine.IO sessions open", s.engine_sessions);
  page.Gauge("sessions", "Engine.IO sessions open in the Socket.IO layer", s.sessions);
  page.Gauge("client_addresses", "Client addresses (IPv6: /64s) the per-address limits track",
             s.client_addresses);
  page.Header("sockets", "gauge", "Connected Socket.IO sockets by namespace and transport");
  for (const auto& [key, value] : s.sockets) {
    page.Sample("sockets", {{"namespace", key.first}, {"transport", key.second}}, value);
  }
  page.Gauge("rooms", "Rooms with local members, summed over shards", s.rooms);
  page.Gauge("dynamic_namespaces",
             "Namespaces from config patterns with a socket, summed over shards",
             s.dynamic_namespaces);
  page.Gauge("broker_subscriptions", "Topics the shards hold subscribed", s.subscriptions);
  page.Gauge("outbound_queued_bytes", "Bytes queued for clients, all sessions", s.queued_bytes);
  page.Gauge("outbound_queued_bytes_max", "Largest outbound queue of one session",
             s.max_queued_bytes);
  page.Counter("messages_in_total", "Engine.IO messages received from clients", s.messages_in);
  page.Counter("bytes_in_total", "Bytes of Engine.IO messages received from clients", s.bytes_in);
  page.Counter("messages_out_total", "Messages queued to clients", s.messages_out);
  page.Counter("bytes_out_total", "Bytes of messages queued to clients", s.bytes_out);
  std::map<std::string, uint64_t> drops = s.drops;
  drops["shard_queue_full"] = s.bridge.dispatches_dropped;
  ByLabel(page, "drops_total", "Messages dropped, by reason", "reason", drops);
  ByLabel(page, "refusals_total", "Requests refused by a limit", "limit", s.refusals);
  page.Counter("protocol_errors_total", "Sessions closed for a malformed packet",
               s.protocol_errors);
  page.Counter("socket_log_lines_at_debug_total",
               "Socket connected/recovered/disconnected lines over --socket-log-rate, at debug",
               s.socket_log_lines_at_debug);
  ByLabel(page, "transport_errors_total",
          "Connections closed for bad input or silence below the packet level, by reason", "reason",
          s.transport_errors);
  ByLabel(page, "auth_refusals_total", "CONNECTs refused by a namespace's auth policy, by reason",
          "reason", s.auth_refusals);
  ByLabel(page, "middleware_total",
          "CONNECTs judged by a service middleware, by outcome: admitted, refused, timeout (no "
          "verdict in time, no service included), data_too_large (socket.data over the bound)",
          "outcome", s.middleware);
  ByLabel(page, "recovery_total",
          "Connection state recovery: sessions saved (closed recoverable), recovered, failed "
          "(fresh session), rooms_dropped (saved rooms re-authorization left out), taken_over "
          "(closed here: recovered on another node)",
          "outcome", s.recovery);
  ByLabel(page, "disconnects_total", "Socket disconnects, by reason", "reason", s.disconnects);
  page.Gauge("broker_connected", "1 while the broker answers", s.broker_connected ? 1 : 0);
  page.Counter("bridge_deliveries_total", "Envelopes received from the broker",
               s.bridge.deliveries);
  page.Counter("bridge_deliveries_unrouted_total",
               "Envelopes from the broker no shard had a target for", s.bridge.deliveries_unrouted);
  page.Counter("bridge_publishes_total", "Envelopes published to the broker", s.bridge.publishes);
  page.Counter("bridge_publishes_refused_total",
               "Publishes refused (bridge queue bound or ZeroMQ high-water mark)",
               s.bridge.publishes_refused);
  page.Gauge("bridge_topics", "Topics subscribed at the broker", s.bridge.topics);
  page.Gauge("bridge_shard_queued_bytes",
             "Bytes of broker deliveries posted to the shards and not yet run, summed",
             s.bridge.shard_queued_bytes);
  return page.Take();
}

}  // namespace roomq::gateway::socketio
