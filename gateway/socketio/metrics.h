#ifndef ROOMQ_GATEWAY_SOCKETIO_METRICS_H_
#define ROOMQ_GATEWAY_SOCKETIO_METRICS_H_

// The gateway's GET /metrics: a snapshot of every shard's counters and
// gauges, summed, in the Prometheus text exposition format (version 0.0.4).
//
// Counters live per shard (ShardStats in shard.h), touched only by that
// shard's thread with no lock or atomic on the hot path. A scrape posts one
// task to every shard (Server::CollectMetrics); each takes its snapshot on
// its own thread, the last one merges and formats. So a scrape costs each
// shard one short task and never blocks it.
//
// Metric names (all prefixed roomq_gateway_):
//   engine_sessions               gauge    Engine.IO sessions open (engine.h EngineStats)
//   client_addresses              gauge    entries of the per-address table
//                                          (engineio/address_table.h; set by the caller)
//   sessions                      gauge    Engine.IO sessions with the Socket.IO layer
//   sockets{namespace,transport}  gauge    connected Socket.IO sockets
//   rooms                         gauge    (shard, namespace, room) entries, own rooms included
//   dynamic_namespaces            gauge    namespaces from config patterns, summed over
//                                          shards (each exists while a socket holds it)
//   broker_subscriptions          gauge    topics the shards hold subscribed
//   outbound_queued_bytes         gauge    bytes queued for clients, all sessions
//   outbound_queued_bytes_max     gauge    the largest one session's queue
//   messages_in_total / bytes_in_total     Engine.IO messages from clients
//   messages_out_total / bytes_out_total   messages queued to clients
//   drops_total{reason}           counter  outbound_full | closed | rate_limited |
//                                          shard_queue_full (a delivery the bridge did not
//                                          post to a shard at max_shard_queue_bytes; per shard)
//   refusals_total{limit}         counter  max_connections | max_namespaces |
//                                          max_dynamic_namespaces |
//                                          unknown_namespace | max_rooms_per_socket |
//                                          rooms_per_address | publish |
//                                          broker_subscription | max_event_bytes |
//                                          attachment_timeout |
//                                          max_socket_data_bytes (a service's
//                                          SetData over the bound); set by the caller:
//                                          origin (--cors-origin), handshake_rate,
//                                          sessions_per_address
//   protocol_errors_total         counter  sessions closed for a malformed packet
//   transport_errors_total{reason} counter connections closed for bad input or
//                                          silence below the packet level
//                                          (engineio/transport_errors.h; set by
//                                          the caller from EngineStats)
//   auth_refusals_total{reason}   counter  CONNECTs refused by a namespace's auth
//                                          policy (auth/socket_auth.h reasons; each
//                                          exported from zero, as middleware_total)
//   middleware_total{outcome}     counter  CONNECTs to `middleware: required`
//                                          namespaces: admitted, refused, timeout
//                                          (no verdict in time, no service
//                                          included), data_too_large
//   recovery_total{outcome}       counter  connection state recovery: sessions
//                                          saved, recovered, failed (fresh session),
//                                          rooms_dropped, taken_over (closed here:
//                                          recovered on another node)
//   disconnects_total{reason}     counter  socket disconnects by Socket.IO reason
//   socket_log_lines_at_debug_total counter socket connected/recovered/disconnected
//                                          lines over --socket-log-rate, logged at debug
//   broker_connected              gauge    1 while the broker answers
//   bridge_*                      counters of the bridge thread (bridge.h BridgeStats)
//
// Thread safety: MetricsSnapshot is a plain value.

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "gateway/bridge/bridge.h"

namespace roomq::gateway::socketio {

struct MetricsSnapshot {
  uint64_t engine_sessions = 0;   // Engine.IO sessions (set by the caller)
  uint64_t client_addresses = 0;  // per-address table entries (set by the caller)
  uint64_t sessions = 0;
  std::map<std::pair<std::string, std::string>, uint64_t> sockets;  // (namespace, transport)
  uint64_t rooms = 0;
  uint64_t dynamic_namespaces = 0;
  uint64_t subscriptions = 0;
  uint64_t queued_bytes = 0;
  uint64_t max_queued_bytes = 0;
  uint64_t messages_in = 0;
  uint64_t bytes_in = 0;
  uint64_t messages_out = 0;
  uint64_t bytes_out = 0;
  std::map<std::string, uint64_t> drops;     // reason -> count
  std::map<std::string, uint64_t> refusals;  // limit -> count
  uint64_t protocol_errors = 0;
  uint64_t socket_log_lines_at_debug = 0;
  std::map<std::string, uint64_t> transport_errors;  // reason -> count (set by the caller)
  std::map<std::string, uint64_t> auth_refusals;     // reason -> count
  std::map<std::string, uint64_t> middleware;        // outcome -> count
  std::map<std::string, uint64_t> recovery;          // saved | recovered | failed -> count
  std::map<std::string, uint64_t> disconnects;       // reason -> count
  bool broker_connected = false;
  bridge::BridgeStats bridge;

  // Adds one shard's snapshot (gauges and counters sum; max is max).
  void Merge(const MetricsSnapshot& shard);
};

class Shard;

// One shard's part of a scrape (everything but the engine and bridge
// fields); call on the shard's thread.
MetricsSnapshot ShardSnapshot(const Shard& shard);

// The Prometheus text of `snapshot` (every metric with HELP and TYPE lines;
// label values escaped).
std::string FormatPrometheus(const MetricsSnapshot& snapshot);

}  // namespace roomq::gateway::socketio

#endif  // ROOMQ_GATEWAY_SOCKETIO_METRICS_H_
