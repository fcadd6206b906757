#include "gateway/socketio/metrics.h"

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>

#include "gateway/socketio/connection.h"
#include "gateway/socketio/shard.h"

namespace roomq::gateway::socketio {
namespace {

constexpr std::string_view kPrefix = "roomq_gateway_";

// Label values: backslash, double quote and newline escaped.
std::string Escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Appends every piece (std::string_view: Debian's Abseil has its own
// string_view, so absl::StrAppend does not take ours).
void Append(std::string& out, std::initializer_list<std::string_view> pieces) {
  for (std::string_view piece : pieces) out.append(piece);
}

void Header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  Append(out, {"# HELP ", kPrefix, name, " ", help, "\n# TYPE ", kPrefix, name, " ", type, "\n"});
}

void Scalar(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            uint64_t value) {
  Header(out, name, type, help);
  Append(out, {kPrefix, name, " ", std::to_string(value), "\n"});
}

void ByLabel(std::string& out, std::string_view name, std::string_view help, std::string_view label,
             const std::map<std::string, uint64_t>& values) {
  Header(out, name, "counter", help);
  for (const auto& [key, value] : values) {
    Append(out,
           {kPrefix, name, "{", label, "=\"", Escape(key), "\"} ", std::to_string(value), "\n"});
  }
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
  MergeMap(transport_errors, shard.transport_errors);
  MergeMap(auth_refusals, shard.auth_refusals);
  MergeMap(recovery, shard.recovery);
  MergeMap(disconnects, shard.disconnects);
}

MetricsSnapshot ShardSnapshot(const Shard& shard) {
  MetricsSnapshot s;
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
  s.protocol_errors = stats.protocol_errors;
  for (const auto& [reason, count] : stats.disconnects) s.disconnects[reason] = count;
  for (const auto& [reason, count] : stats.auth_refusals) s.auth_refusals[reason] = count;
  s.recovery["saved"] = stats.sessions_saved;
  s.recovery["recovered"] = stats.recoveries;
  s.recovery["failed"] = stats.recoveries_failed;
  s.recovery["rooms_dropped"] = stats.recovery_rooms_dropped;
  s.recovery["taken_over"] = stats.sockets_taken_over;
  return s;
}

std::string FormatPrometheus(const MetricsSnapshot& s) {
  std::string out;
  Scalar(out, "engine_sessions", "gauge", "Engine.IO sessions open", s.engine_sessions);
  Scalar(out, "sessions", "gauge", "Engine.IO sessions open in the Socket.IO layer", s.sessions);
  Scalar(out, "client_addresses", "gauge",
         "Client addresses (IPv6: /64s) the per-address limits track", s.client_addresses);
  Header(out, "sockets", "gauge", "Connected Socket.IO sockets by namespace and transport");
  for (const auto& [key, value] : s.sockets) {
    Append(out, {kPrefix, "sockets{namespace=\"", Escape(key.first), "\",transport=\"",
                 Escape(key.second), "\"} ", std::to_string(value), "\n"});
  }
  Scalar(out, "rooms", "gauge", "Rooms with local members, summed over shards", s.rooms);
  Scalar(out, "dynamic_namespaces", "gauge",
         "Namespaces from config patterns with a socket, summed over shards", s.dynamic_namespaces);
  Scalar(out, "broker_subscriptions", "gauge", "Topics the shards hold subscribed",
         s.subscriptions);
  Scalar(out, "outbound_queued_bytes", "gauge", "Bytes queued for clients, all sessions",
         s.queued_bytes);
  Scalar(out, "outbound_queued_bytes_max", "gauge", "Largest outbound queue of one session",
         s.max_queued_bytes);
  Scalar(out, "messages_in_total", "counter", "Engine.IO messages received from clients",
         s.messages_in);
  Scalar(out, "bytes_in_total", "counter", "Bytes of Engine.IO messages received from clients",
         s.bytes_in);
  Scalar(out, "messages_out_total", "counter", "Messages queued to clients", s.messages_out);
  Scalar(out, "bytes_out_total", "counter", "Bytes of messages queued to clients", s.bytes_out);
  std::map<std::string, uint64_t> drops = s.drops;
  drops["shard_queue_full"] = s.bridge.dispatches_dropped;
  ByLabel(out, "drops_total", "Messages dropped, by reason", "reason", drops);
  ByLabel(out, "refusals_total", "Requests refused by a limit", "limit", s.refusals);
  Scalar(out, "protocol_errors_total", "counter", "Sessions closed for a malformed packet",
         s.protocol_errors);
  ByLabel(out, "transport_errors_total",
          "Connections closed for bad input or silence below the packet level, by reason", "reason",
          s.transport_errors);
  ByLabel(out, "auth_refusals_total", "CONNECTs refused by a namespace's auth policy, by reason",
          "reason", s.auth_refusals);
  ByLabel(out, "recovery_total",
          "Connection state recovery: sessions saved (closed recoverable), recovered, failed "
          "(fresh session), rooms_dropped (saved rooms re-authorization left out), taken_over "
          "(closed here: recovered on another node)",
          "outcome", s.recovery);
  ByLabel(out, "disconnects_total", "Socket disconnects, by reason", "reason", s.disconnects);
  Scalar(out, "broker_connected", "gauge", "1 while the broker answers",
         s.broker_connected ? 1 : 0);
  Scalar(out, "bridge_deliveries_total", "counter", "Envelopes received from the broker",
         s.bridge.deliveries);
  Scalar(out, "bridge_deliveries_unrouted_total", "counter",
         "Envelopes from the broker no shard had a target for", s.bridge.deliveries_unrouted);
  Scalar(out, "bridge_publishes_total", "counter", "Envelopes published to the broker",
         s.bridge.publishes);
  Scalar(out, "bridge_publishes_refused_total", "counter",
         "Publishes refused (bridge queue bound or ZeroMQ high-water mark)",
         s.bridge.publishes_refused);
  Scalar(out, "bridge_topics", "gauge", "Topics subscribed at the broker", s.bridge.topics);
  Scalar(out, "bridge_shard_queued_bytes", "gauge",
         "Bytes of broker deliveries posted to the shards and not yet run, summed",
         s.bridge.shard_queued_bytes);
  return out;
}

}  // namespace roomq::gateway::socketio
