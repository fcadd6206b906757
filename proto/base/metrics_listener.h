#ifndef ROOMQ_PROTO_BASE_METRICS_LISTENER_H_
#define ROOMQ_PROTO_BASE_METRICS_LISTENER_H_

// MetricsListener: the operators' HTTP endpoint of a roomq process (the
// broker's --metrics-bind, the gateway's --metrics-listen), kept off the
// public port: a tiny HTTP/1.1 server on its own thread answering
//   GET /metrics   Prometheus text from MetricsHandlers::metrics
//   GET /healthz   200 or 503 with the JSON body of MetricsHandlers::health
//
// Deliberately small and bounded: one connection at a time (the next is
// accepted when the current one ends), one request per connection
// (Connection: close), request header at most 8 KiB and no body, 5 s to
// read the request and 5 s to write the answer; an answer from `metrics` that takes longer than
// `answer_timeout` gets 503.
// Other paths get 404, other methods 405, a malformed request 400; nothing
// it receives can stop the server.
//
// Thread safety: Start() and the destructor from one controlling thread;
// the server thread owns its sockets. The handlers run on the server
// thread; the `reply` callback of `metrics` may be called from any thread,
// at most once, also after the listener is gone (it then does nothing).

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace roomq::base {

struct Health {
  bool ok = true;
  std::string body;  // JSON
};

struct MetricsHandlers {
  // "Server:" header value, e.g. "roomq-broker".
  std::string server_name;
  // Produces the Prometheus text and passes it to `reply`, now or later.
  std::function<void(std::function<void(std::string)> reply)> metrics;
  // Unset: /healthz answers 200 {"status":"ok"}.
  std::function<Health()> health;
  std::chrono::milliseconds answer_timeout{5000};
};

class MetricsListener {
 public:
  // Binds "HOST:PORT" (an IP address; IPv6 in brackets; port 0 picks a free
  // one) and starts serving. InvalidArgument for a bad address, Unavailable
  // when it cannot bind.
  static absl::StatusOr<std::unique_ptr<MetricsListener>> Start(std::string_view bind,
                                                                MetricsHandlers handlers);
  // Stops the server thread and closes its sockets.
  ~MetricsListener();
  MetricsListener(const MetricsListener&) = delete;
  MetricsListener& operator=(const MetricsListener&) = delete;

  // The address actually bound, e.g. "127.0.0.1:9102".
  const std::string& endpoint() const { return endpoint_; }

 private:
  struct State;
  explicit MetricsListener(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
  std::string endpoint_;
};

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_METRICS_LISTENER_H_
