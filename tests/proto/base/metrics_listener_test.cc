// The operators' endpoint: /metrics answered from another thread, a
// /metrics answer that never comes (503 at answer_timeout, and the next
// scrape is served), /healthz, 404/405, and a late answer after the
// listener is gone.

#include "proto/base/metrics_listener.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "tests/support/http_scrape.h"

namespace roomq::base {
namespace {

using test_support::HttpExchange;
using test_support::HttpGet;

int PortOf(const MetricsListener& listener) {
  const std::string& endpoint = listener.endpoint();
  int port = 0;
  EXPECT_TRUE(absl::SimpleAtoi(endpoint.substr(endpoint.rfind(':') + 1), &port)) << endpoint;
  return port;
}

TEST(MetricsListener, AnswersMetricsFromAnotherThreadAndHealth) {
  std::vector<std::thread> workers;
  absl::Mutex mutex;
  MetricsHandlers handlers;
  handlers.server_name = "roomq-test";
  handlers.metrics = [&](std::function<void(std::string)> reply) {
    absl::MutexLock lock(&mutex);
    workers.emplace_back([reply = std::move(reply)] { reply("roomq_test_total 7\n"); });
  };
  handlers.health = [] { return Health{false, R"({"status":"degraded"})"}; };
  auto listener = MetricsListener::Start("127.0.0.1:0", std::move(handlers));
  ASSERT_TRUE(listener.ok()) << listener.status();
  const int port = PortOf(**listener);

  const std::string metrics = HttpGet(port, "/metrics");
  EXPECT_NE(metrics.find("HTTP/1.1 200"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("roomq_test_total 7"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("roomq-test"), std::string::npos) << metrics;
  const std::string health = HttpGet(port, "/healthz");
  EXPECT_NE(health.find("HTTP/1.1 503"), std::string::npos) << health;
  EXPECT_NE(health.find("degraded"), std::string::npos) << health;
  EXPECT_NE(HttpGet(port, "/").find("HTTP/1.1 404"), std::string::npos);
  EXPECT_NE(HttpExchange(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                .find("HTTP/1.1 405"),
            std::string::npos);
  listener->reset();
  for (std::thread& worker : workers) worker.join();
}

TEST(MetricsListener, AMissingAnswerIs503AtTheTimeoutAndALateOneFindsNothing) {
  absl::Mutex mutex;
  std::function<void(std::string)> held;  // guarded by mutex
  MetricsHandlers handlers;
  handlers.answer_timeout = std::chrono::milliseconds(50);
  handlers.metrics = [&](std::function<void(std::string)> reply) {
    absl::MutexLock lock(&mutex);
    if (!held) {
      held = std::move(reply);
      return;
    }
    reply("fresh 1\n");
  };
  auto listener = MetricsListener::Start("127.0.0.1:0", std::move(handlers));
  ASSERT_TRUE(listener.ok()) << listener.status();
  const int port = PortOf(**listener);

  EXPECT_NE(HttpGet(port, "/metrics").find("HTTP/1.1 503"), std::string::npos);
  const std::string next = HttpGet(port, "/metrics");
  EXPECT_NE(next.find("fresh 1"), std::string::npos) << next;
  std::function<void(std::string)> late;
  {
    absl::MutexLock lock(&mutex);
    late = held;
  }
  late("late 1\n");  // for an exchange that is over: ignored
  EXPECT_NE(HttpGet(port, "/healthz").find("HTTP/1.1 200"), std::string::npos);
  listener->reset();
  auto after_stop = MetricsListener::Start("127.0.0.1:0", MetricsHandlers{});
  ASSERT_TRUE(after_stop.ok());
  late("after the listener is gone\n");  // does nothing, touches nothing freed
}

TEST(MetricsListener, RefusesABadAddress) {
  EXPECT_EQ(MetricsListener::Start("localhost", MetricsHandlers{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsListener::Start("example.org:80", MetricsHandlers{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace roomq::base
