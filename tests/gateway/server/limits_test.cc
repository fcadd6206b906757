// Gateway limits and /metrics at the HTTP level: --max-connections refuses
// handshakes on both transports with a clear answer (and counts them), the
// /metrics route serves what GatewayOptions::metrics produces.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "tests/gateway/server/test_gateway.h"

namespace roomq::gateway::server::testing {
namespace {

TEST(GatewayLimits, MaxConnectionsRefusesHandshakesOnBothTransports) {
  GatewayOptions options = TestGateway::DefaultOptions();
  options.engine.max_connections = 2;
  TestGateway gateway(options);
  const std::string first = gateway.PollingHandshake();
  ASSERT_FALSE(first.empty());
  WsClient ws;
  ASSERT_TRUE(ws.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket"));
  std::string open;
  ASSERT_TRUE(ws.Read(&open));
  const std::string second = SidFromOpen(open);

  HttpResult refused =
      DoRequest(gateway.port(), http::verb::get, "/socket.io/?EIO=4&transport=polling");
  ASSERT_TRUE(refused.ok);
  EXPECT_EQ(refused.status, 503u);
  EXPECT_EQ(refused.body, R"({"code":3,"message":"Too many connections"})");

  WsClient refused_ws;
  EXPECT_FALSE(refused_ws.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket"));
  EXPECT_EQ(refused_ws.response().result_int(), 503u);
  EXPECT_EQ(gateway.server().engine().stats().refused_max_connections, 2u);

  // The open sessions are untouched.
  ASSERT_TRUE(ws.SendText("4still here"));
  std::string data;
  ASSERT_TRUE(ws.ReadSkippingPings(&data));
  EXPECT_EQ(data, "4still here");
  HttpResult post = gateway.Post(first, "4hello");
  EXPECT_EQ(post.status, 200u);

  // A closed session makes room.
  ASSERT_TRUE(ws.SendText("4close"));
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(second, &reason));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (gateway.server().engine().stats().sessions > 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(gateway.server().engine().stats().sessions, 1u);
  EXPECT_FALSE(gateway.PollingHandshake().empty());
}

TEST(GatewayMetrics, ServesTheProvidersText) {
  GatewayOptions options = TestGateway::DefaultOptions();
  options.metrics = [](std::function<void(std::string)> reply) {
    // Answered from another thread, as the Socket.IO layer's last shard does.
    std::thread([reply = std::move(reply)] { reply("roomq_test_metric 42\n"); }).detach();
  };
  TestGateway gateway(options);
  HttpResult res = DoRequest(gateway.port(), http::verb::get, "/metrics");
  ASSERT_TRUE(res.ok);
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res.body, "roomq_test_metric 42\n");
}

TEST(GatewayMetrics, NoProviderMeansNotFound) {
  TestGateway gateway(TestGateway::DefaultOptions());
  HttpResult res = DoRequest(gateway.port(), http::verb::get, "/metrics");
  ASSERT_TRUE(res.ok);
  EXPECT_EQ(res.status, 404u);
}

}  // namespace
}  // namespace roomq::gateway::server::testing
