// The broker's HTTP endpoint in process: /healthz follows the published
// counters (ok, or degraded while the history log fails), and /metrics
// carries the history failure metrics.

#include "broker/metrics_http.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "broker/metrics.h"
#include "tests/support/http_scrape.h"

namespace roomq::broker {
namespace {

using test_support::HttpGet;
using test_support::PrometheusSample;

int PortOf(const MetricsHttpServer& server) {
  const std::string& endpoint = server.endpoint();
  int port = 0;
  EXPECT_TRUE(absl::SimpleAtoi(endpoint.substr(endpoint.rfind(':') + 1), &port)) << endpoint;
  return port;
}

TEST(BrokerHealth, IsOkUntilTheHistoryLogFailsThenDegradedWith503) {
  StatsSnapshot snapshot;
  auto server = MetricsHttpServer::Start("127.0.0.1:0", &snapshot, nullptr);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = PortOf(**server);

  std::string answer = HttpGet(port, "/healthz");
  EXPECT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << answer;
  EXPECT_NE(answer.find("{\"status\":\"ok\"}"), std::string::npos) << answer;

  BrokerStats stats;
  stats.history_failing = 1;
  stats.history_write_failures = 3;
  stats.history_refused = 5;
  snapshot.Publish(stats);
  answer = HttpGet(port, "/healthz");
  EXPECT_NE(answer.find("HTTP/1.1 503"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"status\":\"degraded\""), std::string::npos) << answer;
  EXPECT_NE(answer.find("history_log_failing"), std::string::npos) << answer;

  const std::string metrics = HttpGet(port, "/metrics");
  EXPECT_EQ(PrometheusSample(metrics, "roomq_broker_history_failing"), 1);
  EXPECT_EQ(PrometheusSample(metrics, "roomq_broker_history_write_failures_total"), 3);
  EXPECT_EQ(PrometheusSample(metrics, "roomq_broker_history_refused_total"), 5);

  stats.history_failing = 0;
  snapshot.Publish(stats);
  EXPECT_NE(HttpGet(port, "/healthz").find("HTTP/1.1 200"), std::string::npos);
}

}  // namespace
}  // namespace roomq::broker
