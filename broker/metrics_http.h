#ifndef ROOMQ_BROKER_METRICS_HTTP_H_
#define ROOMQ_BROKER_METRICS_HTTP_H_

// roomq-broker's metrics endpoint (--metrics-bind, off by default): a
// base::MetricsListener (proto/base/metrics_listener.h: its own thread,
// bounded, off the routing ports) answering GET /metrics with
// FormatPrometheus of the latest StatsSnapshot (broker/metrics.h), plus the
// CURVE counters when given a ZapHandler (atomics, read at each scrape), and
// GET /healthz with CheckHealth of that snapshot: 200 {"status":"ok"}, or 503
// {"status":"degraded",...} while the history log fails. It never reads the
// broker loop's state.
//
// Thread safety: Start() and the destructor from one controlling thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "broker/metrics.h"
#include "broker/security/zap_handler.h"
#include "proto/base/metrics_listener.h"

namespace roomq::broker {

class MetricsHttpServer {
 public:
  // Binds "HOST:PORT" (IPv4, IPv6 in brackets; port 0 picks a free one) and
  // starts serving `snapshot`, and the counters of `curve` when not null
  // (CURVE on); both must outlive the server. InvalidArgument for a bad
  // address, Unavailable when it cannot bind.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      std::string_view bind, const StatsSnapshot* snapshot,
      const security::ZapHandler* curve = nullptr);
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // The address actually bound, e.g. "127.0.0.1:9102".
  const std::string& endpoint() const { return listener_->endpoint(); }

 private:
  explicit MetricsHttpServer(std::unique_ptr<base::MetricsListener> listener)
      : listener_(std::move(listener)) {}

  std::unique_ptr<base::MetricsListener> listener_;
};

}  // namespace roomq::broker

#endif  // ROOMQ_BROKER_METRICS_HTTP_H_
