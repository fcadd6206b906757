// The Gateway object in-process, as roomq-gateway runs it: Create checks the
// options and the files they name, Start binds port 0 (and a metrics port)
// and serves Engine.IO, Shutdown returns once the transports closed. No
// broker: the bridge keeps trying to link to an endpoint nobody serves,
// which the HTTP side never waits for.

#include "gateway/server/gateway.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/gateway/server/test_gateway.h"
#include "tests/support/http_scrape.h"

namespace roomq::gateway::server::testing {
namespace {

// Port 0 everywhere; brokers' endpoints where no broker is.
GatewayOptions TestOptions() {
  GatewayOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 2;
  options.broker_pub = "tcp://127.0.0.1:1";
  options.broker_sub = "tcp://127.0.0.1:2";
  // Shutdown returns as soon as the transports closed: a long grace only
  // bounds a failure.
  options.shutdown_grace_ms = 10000;
  return options;
}

std::unique_ptr<Gateway> Started(GatewayOptions options) {
  auto gateway = Gateway::Create(std::move(options));
  EXPECT_TRUE(gateway.ok()) << gateway.status();
  if (!gateway.ok()) return nullptr;
  absl::Status started = (*gateway)->Start();
  EXPECT_TRUE(started.ok()) << started;
  return started.ok() ? *std::move(gateway) : nullptr;
}

TEST(GatewayTest, ServesOnPortZeroAndShutsDown) {
  GatewayOptions options = TestOptions();
  options.metrics_listen = "127.0.0.1:0";
  std::unique_ptr<Gateway> gateway = Started(options);
  ASSERT_NE(gateway, nullptr);
  const uint16_t port = gateway->port();
  ASSERT_NE(port, 0);
  ASSERT_FALSE(gateway->metrics_endpoint().empty());

  HttpResult handshake = DoRequest(port, http::verb::get, "/socket.io/?EIO=4&transport=polling");
  ASSERT_TRUE(handshake.ok);
  EXPECT_EQ(handshake.status, 200u);
  EXPECT_FALSE(SidFromOpen(handshake.body).empty()) << handshake.body;

  const std::string endpoint = gateway->metrics_endpoint();
  const int metrics_port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  const std::string metrics = test_support::HttpGet(metrics_port, "/metrics");
  EXPECT_EQ(test_support::PrometheusSample(metrics, "roomq_gateway_engine_sessions"), 1.0)
      << metrics;

  EXPECT_TRUE(gateway->Shutdown());
  EXPECT_TRUE(gateway->Shutdown()) << "a second Shutdown does nothing";
  boost::asio::io_context ioc;
  tcp::socket socket(ioc);
  EXPECT_FALSE(ConnectLocal(ioc, socket, port)) << "still accepting after Shutdown";
}

TEST(GatewayTest, CreateRefusesAnOptionOutOfRange) {
  GatewayOptions options = TestOptions();
  options.threads = 0;
  auto gateway = Gateway::Create(options);
  ASSERT_TRUE(absl::IsInvalidArgument(gateway.status())) << gateway.status();
  EXPECT_EQ(gateway.status().message(), "--threads must be 1..4096");
}

TEST(GatewayTest, CreateRefusesAConfigFileItCannotRead) {
  GatewayOptions options = TestOptions();
  options.config = "/nonexistent/roomq-gateway.yaml";
  auto gateway = Gateway::Create(options);
  ASSERT_TRUE(absl::IsInvalidArgument(gateway.status())) << gateway.status();
  EXPECT_EQ(gateway.status().message().substr(0, 43), "--config /nonexistent/roomq-gateway.yaml: N")
      << gateway.status();
}

TEST(GatewayTest, CreateRefusesHalfACurveKeyPair) {
  GatewayOptions options = TestOptions();
  options.curve_server_key = "/nonexistent/broker.pub";
  auto gateway = Gateway::Create(options);
  EXPECT_TRUE(absl::IsInvalidArgument(gateway.status())) << gateway.status();
}

// A port in use is a failure to start (exit 1), not a usage error (2).
TEST(GatewayTest, StartFailsOnAPortInUse) {
  std::unique_ptr<Gateway> first = Started(TestOptions());
  ASSERT_NE(first, nullptr);
  GatewayOptions options = TestOptions();
  options.listen = "127.0.0.1:" + std::to_string(first->port());
  auto second = Gateway::Create(options);
  ASSERT_TRUE(second.ok()) << second.status();
  absl::Status started = (*second)->Start();
  EXPECT_TRUE(absl::IsUnavailable(started)) << started;
  EXPECT_EQ((*second)->port(), 0) << "stopped what it had started";
  // `first` is destroyed without Shutdown(): the destructor stops it.
}

// A bad --metrics-listen is a usage error (exit 2), found only at Start.
TEST(GatewayTest, StartRefusesABadMetricsAddress) {
  GatewayOptions options = TestOptions();
  options.metrics_listen = "not-an-address";
  auto gateway = Gateway::Create(options);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  absl::Status started = (*gateway)->Start();
  EXPECT_TRUE(absl::IsInvalidArgument(started)) << started;
  EXPECT_EQ((*gateway)->port(), 0);
  EXPECT_TRUE((*gateway)->Shutdown()) << "nothing left to shut down";
}

}  // namespace
}  // namespace roomq::gateway::server::testing
