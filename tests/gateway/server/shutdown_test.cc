// Graceful shutdown of the in-process gateway: GatewayServer::Shutdown tells
// every client at once, and WaitForTransportsClosed returns as soon as every
// transport has flushed and closed: at once with idle clients (WebSocket,
// long-polling, an idle keep-alive HTTP connection), only at its deadline
// while a client does not read, and right after that client drained.
// (The SIGTERM path of the real binary: sigterm_test.cc.)

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/gateway/server/test_gateway.h"

namespace roomq::gateway::server::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(GatewayShutdown, IdleTransportsCloseLongBeforeTheDeadline) {
  TestGateway gateway;
  std::vector<std::unique_ptr<ReadUntilClosedClient>> ws;
  for (int i = 0; i < 4; ++i) {  // round-robin: both shards get some
    ws.push_back(std::make_unique<ReadUntilClosedClient>());
    ASSERT_TRUE(ws.back()->Open(gateway.port(), /*connect_namespace=*/false));
  }
  // A long-polling client: polls until the close packet or an error.
  const std::string sid = gateway.PollingHandshake();
  ASSERT_FALSE(sid.empty());
  std::thread polling([&] {
    for (int i = 0; i < 100; ++i) {
      HttpResult result = gateway.Poll(sid);
      if (!result.ok || result.status != 200 || result.body.find('1') == 0) return;
    }
  });
  // An idle keep-alive HTTP connection (http_idle_timeout is 60 s).
  boost::asio::io_context ioc;
  tcp::socket keep_alive(ioc);
  ASSERT_TRUE(OpenIdleKeepAlive(ioc, keep_alive, gateway.port()));

  const auto start = Clock::now();
  ASSERT_TRUE(gateway.server().Shutdown("server shutting down", std::chrono::seconds(5)));
  EXPECT_TRUE(gateway.server().WaitForTransportsClosed(start + std::chrono::seconds(10)));
  const auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_LT(elapsed.count(), 5000) << "the wait did not end when the transports closed";
  // The keep-alive connection was closed by the server, not left open.
  char byte;
  beast::error_code ec = RunBounded(ioc, keep_alive, [&](auto handler) {
    keep_alive.async_read_some(boost::asio::buffer(&byte, 1),
                               [handler](beast::error_code e, size_t) mutable { handler(e); });
  });
  EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
      << ec.message();
  polling.join();
  for (auto& client : ws) EXPECT_TRUE(client->JoinTold());
  std::printf("# idle transports closed %lld ms after Shutdown began\n",
              static_cast<long long>(elapsed.count()));
}

TEST(GatewayShutdown, AWriteWindowDoesNotHoldBackTheClosePackets) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.write_delay = milliseconds(50);
  TestGateway gateway(options);
  ReadUntilClosedClient client;
  bool opened = false;
  std::thread opener([&] { opened = client.Open(gateway.port(), /*connect_namespace=*/false); });
  // The upgrade's answer and the open packet wait for a window, which ends
  // only when the fake clock is moved.
  ASSERT_TRUE(gateway.WaitForTimerIn(milliseconds(50)));
  gateway.AdvanceTime(milliseconds(50));
  opener.join();
  ASSERT_TRUE(opened);
  // The clock does not move again: the close packet and close frame must go
  // out without a window ending.
  const auto start = Clock::now();
  ASSERT_TRUE(gateway.server().Shutdown("server shutting down", std::chrono::seconds(5)));
  EXPECT_TRUE(gateway.server().WaitForTransportsClosed(start + std::chrono::seconds(10)));
  EXPECT_TRUE(client.JoinTold());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5)) << "the close waited for the deadline";
}

TEST(GatewayShutdown, AClientThatDoesNotReadHoldsItsTransportUntilItDrains) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.max_outbound_bytes = 64 << 20;
  TestGateway gateway(options);
  std::optional<RawWebSocketConnection> stalled;
  stalled.emplace();
  ASSERT_TRUE(stalled->Handshake(gateway.port()));
  // 32 MiB for a client that stops reading: more than the socket buffers
  // hold, so most of it stays queued in the gateway.
  ASSERT_TRUE(stalled->Send(MaskedClientFrame(0x81, "4flood:64:524288")));
  const std::string sid = [&] {
    std::string open = stalled->buffer();
    while (open.find("\"sid\":\"") == std::string::npos && !stalled->ReadSome())
      open = stalled->buffer();
    return SidFromOpen(open);
  }();
  ASSERT_FALSE(sid.empty());
  ASSERT_TRUE(gateway.recorder().WaitFor(
      sid, [](const Recorder::SessionRecord& r) { return r.send_results.size() == 64; }));

  ASSERT_TRUE(gateway.server().Shutdown("server shutting down", std::chrono::seconds(5)));
  const auto start = Clock::now();
  EXPECT_FALSE(gateway.server().WaitForTransportsClosed(start + milliseconds(500)));
  EXPECT_GE(Clock::now() - start, milliseconds(500)) << "returned before its deadline";

  // The client reads again: everything queued, the close, EOF (the server
  // shut its side after the close frame); once it closes too, the wait ends.
  size_t received = stalled->buffer().size();
  stalled->buffer().clear();
  beast::error_code ec;
  while (!(ec = stalled->ReadSome())) {
    received += stalled->buffer().size();
    stalled->buffer().clear();
  }
  EXPECT_EQ(ec, boost::asio::error::eof) << ec.message();
  EXPECT_GT(received, size_t{64} * 524288);
  stalled.reset();
  const auto drained = Clock::now();
  EXPECT_TRUE(gateway.server().WaitForTransportsClosed(drained + std::chrono::seconds(10)));
  EXPECT_LT(Clock::now() - drained, milliseconds(5000)) << "not ended by the drain";
}

}  // namespace
}  // namespace roomq::gateway::server::testing
