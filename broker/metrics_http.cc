#include "broker/metrics_http.h"

#include <chrono>
#include <optional>
#include <utility>

#include "proto/base/status_macros.h"

namespace roomq::broker {

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    std::string_view bind, const StatsSnapshot* snapshot, const security::ZapHandler* curve) {
  base::MetricsHandlers handlers;
  handlers.server_name = "roomq-broker";
  handlers.metrics = [snapshot, curve](const std::function<void(std::string)>& reply) {
    std::chrono::steady_clock::time_point published;
    const BrokerStats stats = snapshot->Latest(&published);
    const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - published);
    std::optional<CurveCounters> counters;
    if (curve != nullptr) {
      counters = CurveCounters{curve->accepted(), curve->refused(), curve->handshake_failed()};
    }
    reply(FormatPrometheus(stats, age, counters));
  };
  handlers.health = [snapshot] {
    Health health = CheckHealth(snapshot->Latest());
    return base::Health{health.ok, std::move(health.body)};
  };
  ROOMQ_ASSIGN_OR_RETURN(std::unique_ptr<base::MetricsListener> listener,
                         base::MetricsListener::Start(bind, std::move(handlers)));
  return std::unique_ptr<MetricsHttpServer>(new MetricsHttpServer(std::move(listener)));
}

}  // namespace roomq::broker
