#include "gateway/server/gateway_options.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gateway/engineio/client_address.h"
#include "gateway/engineio/sid.h"
#include "gateway/socketio/connection.h"
#include "proto/base/host_port.h"

namespace roomq::gateway::server {

absl::Status GatewayOptions::Validate() const {
  if (absl::StatusOr<base::HostPort> address = base::ParseHostPort(listen); !address.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--listen: ", address.status().message()));
  }
  if (threads < 1 || threads > 4096) return absl::InvalidArgumentError("--threads must be 1..4096");
  if (ping_interval_ms <= 0 || ping_timeout_ms <= 0 || connect_timeout_ms <= 0) {
    return absl::InvalidArgumentError(
        "--ping-interval-ms, --ping-timeout-ms and --connect-timeout-ms must be positive");
  }
  if (max_payload <= 0 || max_outbound_bytes <= 0) {
    return absl::InvalidArgumentError("--max-payload and --max-outbound-bytes must be positive");
  }
  const int64_t max_event = max_event_bytes == 0 ? max_payload : max_event_bytes;
  if (max_event < 0) return absl::InvalidArgumentError("--max-event-bytes must not be negative");
  if (static_cast<uint64_t>(max_event) + socketio::kDeliveryFramingBytes >
      static_cast<uint64_t>(max_outbound_bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-event-bytes (", max_event, ") plus ", socketio::kDeliveryFramingBytes,
                     " bytes of framing must fit in --max-outbound-bytes (", max_outbound_bytes,
                     "): an event the gateway accepts must never cut off a reader"));
  }
  if (!engineio::IsValidSidPrefix(sid_prefix)) {
    return absl::InvalidArgumentError(
        "--sid-prefix must be at most 16 characters of A-Z a-z 0-9 - _");
  }
  if (shutdown_grace_ms < 0) return absl::InvalidArgumentError("--shutdown-grace-ms must be >= 0");
  if (write_delay_ms < 0 || write_delay_ms > 100) {
    return absl::InvalidArgumentError("--write-delay-ms must be in 0..100");
  }
  if (max_connections < 0) return absl::InvalidArgumentError("--max-connections must be >= 0");
  if (max_namespaces < 1 || max_rooms_per_socket < 2) {
    return absl::InvalidArgumentError(
        "--max-namespaces must be >= 1 and --max-rooms-per-socket >= 2");
  }
  if (max_dynamic_namespaces < 1) {
    return absl::InvalidArgumentError("--max-dynamic-namespaces must be >= 1");
  }
  if (attachment_timeout_ms <= 0) {
    return absl::InvalidArgumentError("--attachment-timeout-ms must be positive");
  }
  if (middleware_timeout_ms <= 0 || max_socket_data_bytes < 0) {
    return absl::InvalidArgumentError(
        "--middleware-timeout-ms must be positive and --max-socket-data-bytes >= 0");
  }
  // Written as !(x >= bound) so that NaN is refused too.
  if (!(message_rate >= 0) || !(message_burst >= 1)) {
    return absl::InvalidArgumentError("--message-rate must be >= 0 and --message-burst >= 1");
  }
  if (!(socket_log_rate >= 0)) return absl::InvalidArgumentError("--socket-log-rate must be >= 0");
  if (rate_limit_policy != "ack" && rate_limit_policy != "disconnect") {
    return absl::InvalidArgumentError("--rate-limit-policy must be 'ack' or 'disconnect'");
  }
  if (!(handshake_rate >= 0) || !(handshake_burst >= 1)) {
    return absl::InvalidArgumentError("--handshake-rate must be >= 0 and --handshake-burst >= 1");
  }
  if (max_sessions_per_address < 0 || max_rooms_per_address < 0) {
    return absl::InvalidArgumentError(
        "--max-sessions-per-address and --max-rooms-per-address must be >= 0");
  }
  for (const std::string& range : trusted_proxy) {
    if (auto parsed = engineio::IpRange::Parse(range); !parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--trusted-proxy: ", parsed.status().message()));
    }
  }
  if (max_shard_queue_bytes <= 0) {
    return absl::InvalidArgumentError("--max-shard-queue-bytes must be positive");
  }
  return absl::OkStatus();
}

}  // namespace roomq::gateway::server
