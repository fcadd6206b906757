#ifndef ROOMQ_BROKER_METRICS_HTTP_H_
#define ROOMQ_BROKER_METRICS_HTTP_H_

// roomq-broker's metrics endpoint (--metrics-bind, off by default): a tiny
// HTTP/1.1 server on its own thread answering GET /metrics with
// FormatPrometheus of the latest StatsSnapshot (broker/metrics.h), plus the
// CURVE counters when given a ZapHandler (atomics, read at each scrape), and
// GET /healthz with CheckHealth of that snapshot: 200 {"status":"ok"}, or 503
// {"status":"degraded",...} while the history log fails. It never reads the
// broker loop's state.
//
// Deliberately small and bounded: one connection at a time (the next is
// accepted when the current one ends), one request per connection
// (Connection: close), request header at most 8 KiB and no body, 5 s for
// the whole exchange. Other paths get 404, other methods 405, a malformed
// request 400; nothing it receives can stop the server.
//
// Thread safety: Start() and the destructor from one controlling thread;
// the server thread owns its sockets.

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "broker/metrics.h"
#include "broker/security/zap_handler.h"

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
  // Stops the server thread and closes its sockets.
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // The address actually bound, e.g. "127.0.0.1:9102".
  const std::string& endpoint() const { return endpoint_; }

 private:
  class Acceptor;
  MetricsHttpServer() = default;

  boost::asio::io_context io_;
  std::unique_ptr<Acceptor> acceptor_;
  std::string endpoint_;
  std::thread thread_;
};

}  // namespace roomq::broker

#endif  // ROOMQ_BROKER_METRICS_HTTP_H_
