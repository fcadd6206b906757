// Black-box tests of roomq-broker's metrics endpoint (--metrics-bind): the
// real binary on free loopback ports, scraped over plain TCP after traffic.

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "proto/roomq.pb.h"
#include "tests/broker/wire_node.h"
#include "tests/support/binaries.h"
#include "tests/support/broker_process.h"
#include "tests/support/child_process.h"
#include "tests/support/http_scrape.h"
#include "tests/support/wait_until.h"

namespace roomq::broker_test {
namespace {

using std::chrono::milliseconds;
using test_support::BrokerProcess;
using test_support::ChildProcess;
using test_support::HttpExchange;
using test_support::HttpGet;
using test_support::PrometheusSample;
using test_support::StartBroker;
using wire::RoomTopic;

constexpr milliseconds kWait{5000};

class BrokerMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test_support::BrokerOptions options;
    options.extra_args = {"--metrics-bind=127.0.0.1:0"};
    auto broker = StartBroker(std::move(options));
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
    port_ = broker_.metrics_port();
    ASSERT_NE(port_, 0) << "no metrics line";
  }

  // Scrapes until `name` reads `value` (the loop publishes every 100 ms);
  // returns the last body seen.
  std::string ScrapeUntil(const std::string& name, double value) {
    std::string body;
    const bool read = test_support::WaitUntil(
        [&] {
          body = HttpGet(port_, "/metrics");
          return PrometheusSample(body, name) == value;
        },
        kWait, milliseconds(20));
    if (read) return body;
    ADD_FAILURE() << name << " never read " << value << ":\n" << body;
    return body;
  }

  zmq::context_t context_;
  BrokerProcess broker_;
  int port_ = 0;
};

TEST_F(BrokerMetricsTest, ServesTheCountersAfterPublishing) {
  WireNode subscriber(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  // It never pings: a heartbeat that cannot expire it (the gauges below count it)
  // while a loaded machine is slow to reach the awaited counters.
  ASSERT_TRUE(subscriber.Join("sub", /*heartbeat_ms=*/60000).ok());
  ASSERT_TRUE(subscriber.Subscribe({RoomTopic("/chat", "a"), RoomTopic("/chat", "b")}).ok());
  WireNode publisher(context_, broker_.pub_endpoint, broker_.sub_endpoint);
  for (int i = 0; i < 5; ++i) publisher.Publish(RoomsEnvelope("/chat", {"a"}, "hit"));
  for (int i = 0; i < 2; ++i) publisher.Publish(RoomsEnvelope("/chat", {"nobody"}, "miss"));
  publisher.SendPub({"\xff\xfe not an envelope"});
  v1::Envelope wrong_version = RoomsEnvelope("/chat", {"a"}, "wrong-version");
  wrong_version.set_version(static_cast<v1::Version>(2));
  publisher.Publish(wrong_version);
  for (int i = 0; i < 5; ++i) {
    auto delivery = subscriber.ReceiveDelivery(kWait);
    ASSERT_TRUE(delivery.ok()) << delivery.status();
  }

  const std::string response = ScrapeUntil("roomq_broker_routed_total", 7);
  EXPECT_NE(response.find("HTTP/1.1 200 OK"), std::string::npos) << response;
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(response.find("# TYPE roomq_broker_routed_total counter"), std::string::npos);
  EXPECT_EQ(PrometheusSample(response, "roomq_broker_unrouted_total"), 2);
  EXPECT_EQ(PrometheusSample(response, "roomq_broker_delivered_total"), 5);
  EXPECT_EQ(PrometheusSample(response, "roomq_broker_dropped_total{reason=\"hwm\"}"), 0);
  EXPECT_EQ(PrometheusSample(response, "roomq_broker_dropped_total{reason=\"unreachable\"}"), 0);
  EXPECT_EQ(PrometheusSample(response, "roomq_broker_malformed_total{reason=\"envelope\"}"), 1);
  EXPECT_EQ(PrometheusSample(response, "roomq_broker_malformed_total{reason=\"version\"}"), 1);
  EXPECT_EQ(PrometheusSample(response, "roomq_broker_malformed_total{reason=\"topic\"}"), 0);
  EXPECT_EQ(PrometheusSample(response, "roomq_broker_subscribers"), 1);
  EXPECT_EQ(PrometheusSample(response, "roomq_broker_topics"), 2);
  for (const char* name :
       {"roomq_broker_history_kept_total", "roomq_broker_history_entries",
        "roomq_broker_history_bytes", "roomq_broker_socket_records{state=\"connected\"}",
        "roomq_broker_socket_records_bytes",
        "roomq_broker_recovery_total{outcome=\"taken_over\"}"}) {
    EXPECT_TRUE(PrometheusSample(response, name).has_value()) << name;
  }
  EXPECT_LT(*PrometheusSample(response, "roomq_broker_snapshot_age_seconds"), 1.0);
  // CURVE is off: no CURVE counters (tests/integration/curve_integration_test.cc has them).
  EXPECT_EQ(response.find("roomq_broker_curve_"), std::string::npos);

  // Gauges follow the routing table: the subscriber leaves.
  subscriber.Goodbye();
  ScrapeUntil("roomq_broker_subscribers", 0);
  EXPECT_EQ(PrometheusSample(HttpGet(port_, "/metrics"), "roomq_broker_topics"), 0);
}

TEST_F(BrokerMetricsTest, AnswersOnlyGetMetricsAndSurvivesBadRequests) {
  EXPECT_NE(HttpGet(port_, "/").find("HTTP/1.1 404"), std::string::npos);
  EXPECT_NE(HttpExchange(port_, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                .find("HTTP/1.1 405"),
            std::string::npos);
  EXPECT_NE(HttpExchange(port_, "\x16\x03\x01 garbage\r\n\r\n").find("HTTP/1.1 400"),
            std::string::npos);
  // A header over the 8 KiB limit is refused, not buffered.
  const std::string huge =
      "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(size_t{64} * 1024, 'a') + "\r\n\r\n";
  EXPECT_EQ(HttpExchange(port_, huge).find("200 OK"), std::string::npos);
  // A connect-and-close without a request is harmless.
  HttpExchange(port_, "");
  EXPECT_NE(HttpGet(port_, "/metrics").find("roomq_broker_up 1"), std::string::npos);
  EXPECT_NE(HttpGet(port_, "/metrics").find("HTTP/1.1 200 OK"), std::string::npos);
}

TEST(BrokerMetricsBinary, RefusesABadMetricsAddress) {
  auto broker = ChildProcess::Start(
      test_support::BinaryPath("roomq-broker"),
      {"--pub-bind=tcp://127.0.0.1:*", "--sub-bind=tcp://127.0.0.1:*", "--metrics-bind=localhost"});
  ASSERT_TRUE(broker.ok()) << broker.status();
  auto exit = (*broker)->Wait(kWait);
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->exit_code, 2);
  EXPECT_TRUE((*broker)->WaitForLine(std::regex("--metrics-bind: .*HOST:PORT"), kWait).ok());
}

}  // namespace
}  // namespace roomq::broker_test
