// Gateway limits and /metrics at the HTTP level: --max-connections and the
// per-address limits (handshake rate, sessions; X-Forwarded-For behind a
// trusted proxy) refuse handshakes on both transports with a clear answer
// (and count them); /metrics is not served on the public port.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "tests/gateway/server/test_gateway.h"
#include "tests/support/wait_until.h"

namespace roomq::gateway::server::testing {
namespace {

TEST(GatewayLimits, MaxConnectionsRefusesHandshakesOnBothTransports) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
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
  test_support::WaitUntil([&] { return gateway.server().engine().stats().sessions <= 1; });
  EXPECT_EQ(gateway.server().engine().stats().sessions, 1u);
  EXPECT_FALSE(gateway.PollingHandshake().empty());
}

constexpr char kPollingHandshake[] = "/socket.io/?EIO=4&transport=polling";
constexpr char kWebSocketHandshake[] = "/socket.io/?EIO=4&transport=websocket";

TEST(GatewayLimits, HandshakesOverAnAddressRateGet429OnBothTransports) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.address_limits.handshake_rate = 1;
  options.engine.address_limits.handshake_burst = 2;
  TestGateway gateway(options);
  const std::string first = gateway.PollingHandshake();
  ASSERT_FALSE(first.empty());
  WsClient ws;
  ASSERT_TRUE(ws.Connect(gateway.port(), kWebSocketHandshake));
  std::string open;
  ASSERT_TRUE(ws.Read(&open));

  HttpResult refused = DoRequest(gateway.port(), http::verb::get, kPollingHandshake);
  ASSERT_TRUE(refused.ok);
  EXPECT_EQ(refused.status, 429u);
  EXPECT_EQ(refused.body, R"({"code":3,"message":"Too many handshakes from this address"})");
  EXPECT_EQ(refused.headers["retry-after"], "1");
  WsClient refused_ws;
  EXPECT_FALSE(refused_ws.Connect(gateway.port(), kWebSocketHandshake));
  EXPECT_EQ(refused_ws.response().result_int(), 429u);
  EXPECT_EQ(gateway.server().engine().stats().refused_handshake_rate, 2u);
  EXPECT_EQ(gateway.server().engine().stats().refused_max_connections, 0u);

  // The open sessions are untouched.
  ASSERT_TRUE(ws.SendText("4still here"));
  std::string data;
  ASSERT_TRUE(ws.ReadSkippingPings(&data));
  EXPECT_EQ(data, "4still here");
  EXPECT_EQ(gateway.Post(first, "4hello").status, 200u);

  // One second (of the gateway's clock) later there is a token again.
  gateway.AdvanceTime(std::chrono::seconds(1));
  EXPECT_FALSE(gateway.PollingHandshake().empty());
  EXPECT_EQ(DoRequest(gateway.port(), http::verb::get, kPollingHandshake).status, 429u);
}

TEST(GatewayLimits, SessionsOverAnAddressBoundGet503UntilOneCloses) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.address_limits.handshake_rate = 0;
  options.engine.address_limits.max_sessions = 2;
  TestGateway gateway(options);
  ASSERT_FALSE(gateway.PollingHandshake().empty());
  WsClient ws;
  ASSERT_TRUE(ws.Connect(gateway.port(), kWebSocketHandshake));
  std::string open;
  ASSERT_TRUE(ws.Read(&open));

  HttpResult refused = DoRequest(gateway.port(), http::verb::get, kPollingHandshake);
  ASSERT_TRUE(refused.ok);
  EXPECT_EQ(refused.status, 503u);
  EXPECT_EQ(refused.body, R"({"code":3,"message":"Too many sessions from this address"})");
  WsClient refused_ws;
  EXPECT_FALSE(refused_ws.Connect(gateway.port(), kWebSocketHandshake));
  EXPECT_EQ(refused_ws.response().result_int(), 503u);
  EXPECT_EQ(gateway.server().engine().stats().refused_sessions_per_address, 2u);

  ASSERT_TRUE(ws.SendText("4close"));
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(SidFromOpen(open), &reason));
  std::string again;
  test_support::WaitUntil([&] { return !(again = gateway.PollingHandshake()).empty(); });
  EXPECT_FALSE(again.empty()) << "a closed session gives its address a place back";
}

TEST(GatewayLimits, BehindATrustedProxyEveryForwardedAddressHasItsOwnLimits) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.address_limits.handshake_rate = 0.001;
  options.engine.address_limits.handshake_burst = 1;
  auto loopback = engineio::IpRange::Parse("127.0.0.1/32");
  ASSERT_TRUE(loopback.ok());
  options.engine.trusted_proxies.push_back(*loopback);
  TestGateway gateway(options);
  auto handshake = [&](const std::string& forwarded_for) {
    return DoRequest(gateway.port(), http::verb::get, kPollingHandshake, "",
                     {{"X-Forwarded-For", forwarded_for}})
        .status;
  };
  EXPECT_EQ(handshake("203.0.113.1"), 200u);
  EXPECT_EQ(handshake("203.0.113.1"), 429u);
  EXPECT_EQ(handshake("203.0.113.2"), 200u) << "another client behind the same proxy";
  // What the client wrote left of the proxy's hop changes nothing.
  EXPECT_EQ(handshake("198.51.100.9, 203.0.113.2"), 429u);
  WsClient ws;
  ASSERT_TRUE(
      ws.Connect(gateway.port(), kWebSocketHandshake, {{"X-Forwarded-For", "2001:db8:1:2::1"}}));
  WsClient same_slash64;
  EXPECT_FALSE(same_slash64.Connect(gateway.port(), kWebSocketHandshake,
                                    {{"X-Forwarded-For", "[2001:db8:1:2::99]:4000"}}));
  EXPECT_EQ(same_slash64.response().result_int(), 429u);
  // A malformed deciding hop: the proxy (127.0.0.1) is the client.
  EXPECT_EQ(handshake("not-an-address"), 200u);
  EXPECT_EQ(handshake(""), 429u);
  EXPECT_EQ(gateway.server().engine().stats().client_addresses, 4u);
}

TEST(GatewayLimits, WithoutATrustedProxyForwardedForIsIgnored) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.address_limits.handshake_rate = 0.001;
  options.engine.address_limits.handshake_burst = 1;
  TestGateway gateway(options);
  auto handshake = [&](const std::string& forwarded_for) {
    return DoRequest(gateway.port(), http::verb::get, kPollingHandshake, "",
                     {{"X-Forwarded-For", forwarded_for}})
        .status;
  };
  EXPECT_EQ(handshake("203.0.113.1"), 200u);
  EXPECT_EQ(handshake("203.0.113.2"), 429u) << "every client here is 127.0.0.1";
}

TEST(GatewayMetrics, NotOnThePublicPort) {
  TestGateway gateway(TestGateway::DefaultOptions());
  HttpResult res = DoRequest(gateway.port(), http::verb::get, "/metrics");
  ASSERT_TRUE(res.ok);
  EXPECT_EQ(res.status, 404u);
}

}  // namespace
}  // namespace roomq::gateway::server::testing
