// Bad input below the Engine.IO packet level: malformed WebSocket
// frames, bad UTF-8, messages over maxPayload, garbage HTTP, half-open TCP
// and requests that never finish. Each closes only the offending connection,
// is counted by reason in Engine::transport_errors(), and a healthy client
// talking to the gateway at the same time keeps working throughout.
// (tests/e2e/test/malformed.test.js covers the same from the stock Node
// client's side, without the counters.)

#include "gateway/engineio/transport_errors.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "tests/gateway/server/test_gateway.h"
#include "tests/support/wait_until.h"

namespace roomq::gateway::server::testing {
namespace {

using engineio::TransportError;

// A WebSocket client echoing "4alive-<n>" round trips on its own thread
// (answering pings) until stopped.
class HealthyClient {
 public:
  explicit HealthyClient(TestGateway& gateway) : gateway_(gateway) {
    EXPECT_TRUE(ws_.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket"));
    std::string open;
    EXPECT_TRUE(ws_.Read(&open));
    sid_ = SidFromOpen(open);
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        const std::string text = "4alive-" + std::to_string(round_trips_.load());
        std::string data;
        if (!ws_.SendText(text) || !ws_.ReadSkippingPings(&data) || data != text) {
          failed_ = true;
          return;
        }
        ++round_trips_;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  ~HealthyClient() { StopAndCheck(); }

  // Waits (up to 5 s) for one more round trip than had happened when called,
  // i.e. the client still works after whatever the test did, then stops the
  // thread; expects no failure and the session still open. (Not just
  // "round trips > 0": a bad-input case can finish in a few milliseconds,
  // before the first round trip.)
  void StopAndCheck() {
    if (!thread_.joinable()) return;
    const int before = round_trips_.load();
    test_support::WaitUntil([&] { return failed_.load() || round_trips_.load() > before; },
                            std::chrono::seconds(5), std::chrono::milliseconds(2));
    stop_ = true;
    thread_.join();
    EXPECT_FALSE(failed_) << "the healthy client failed after " << round_trips_ << " round trips";
    EXPECT_GT(round_trips_.load(), before) << "no round trip after the test's bad input";
    EXPECT_TRUE(gateway_.recorder().Get(sid_).close_reason.empty());
  }

 private:
  TestGateway& gateway_;
  WsClient ws_;
  std::string sid_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<int> round_trips_{0};
};

bool WaitCount(TestGateway& gateway, TransportError reason, uint64_t at_least) {
  return test_support::WaitUntil(
      [&] { return gateway.server().engine().transport_errors().count(reason) >= at_least; });
}

// The shared raw client, after the handshake holding the Engine.IO open
// packet; everything read stays in received().
class RawWebSocket : public RawWebSocketConnection {
 public:
  bool Open(uint16_t port) {
    if (!Handshake(port)) return false;
    while (buffer().empty() || buffer().back() != '}') {
      if (ReadSome()) return false;
    }
    const size_t open = buffer().find("0{\"sid\"");
    if (open == std::string::npos) return false;
    sid_ = SidFromOpen(buffer().substr(open));
    return !sid_.empty();
  }
  // Reads until the server closes; true when it did (EOF or reset) within
  // the bound. Everything read is appended to received().
  bool ReadUntilClosed(std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      beast::error_code ec = ReadSome();
      if (ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) return true;
      if (ec || std::chrono::steady_clock::now() > deadline) return false;
    }
  }
  const std::string& received() const { return buffer(); }
  const std::string& sid() const { return sid_; }

 private:
  std::string sid_;
};

// The close code of the first close frame (opcode 8) in what the server
// sent after the handshake, or -1.
int CloseCodeIn(const std::string& received) {
  size_t pos = received.find('\x88');
  while (pos != std::string::npos) {
    if (pos + 3 < received.size() && static_cast<uint8_t>(received[pos + 1]) >= 2) {
      return (static_cast<uint8_t>(received[pos + 2]) << 8) |
             static_cast<uint8_t>(received[pos + 3]);
    }
    pos = received.find('\x88', pos + 1);
  }
  return -1;
}

void ExpectWebSocketClosedFor(TestGateway& gateway, const std::string& bad_frame,
                              TransportError reason, int close_code) {
  HealthyClient healthy(gateway);
  RawWebSocket bad;
  ASSERT_TRUE(bad.Open(gateway.port()));
  ASSERT_TRUE(bad.Send(bad_frame));
  ASSERT_TRUE(WaitCount(gateway, reason, 1));
  EXPECT_TRUE(bad.ReadUntilClosed());
  EXPECT_EQ(CloseCodeIn(bad.received()), close_code);
  std::string close_reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(bad.sid(), &close_reason));
  EXPECT_EQ(close_reason, "transport error");
  healthy.StopAndCheck();
}

TEST(TransportErrors, UnmaskedClientFrame) {
  TestGateway gateway;
  ExpectWebSocketClosedFor(gateway, std::string("\x81\x02hi", 4), TransportError::kWsProtocol,
                           1002);
}

TEST(TransportErrors, ReservedBitsAndUnknownOpcode) {
  TestGateway gateway;
  ExpectWebSocketClosedFor(gateway, MaskedClientFrame(0xC1, "4x"), TransportError::kWsProtocol,
                           1002);
  ExpectWebSocketClosedFor(gateway, MaskedClientFrame(0x83, "4x"), TransportError::kWsProtocol,
                           1002);
  EXPECT_EQ(gateway.server().engine().transport_errors().count(TransportError::kWsProtocol), 2u);
}

TEST(TransportErrors, FragmentedControlFrame) {
  TestGateway gateway;
  ExpectWebSocketClosedFor(gateway, MaskedClientFrame(0x09, "p"), TransportError::kWsProtocol,
                           1002);
}

TEST(TransportErrors, BadUtf8InTextFrame) {
  TestGateway gateway;
  ExpectWebSocketClosedFor(gateway, MaskedClientFrame(0x81, "4\xff\xfe"),
                           TransportError::kWsBadUtf8, 1007);
}

TEST(TransportErrors, BadUtf8AcrossFragments) {
  TestGateway gateway;
  // "4é" split inside the two-byte sequence is fine...
  HealthyClient healthy(gateway);
  RawWebSocket ok;
  ASSERT_TRUE(ok.Open(gateway.port()));
  ASSERT_TRUE(ok.Send(MaskedClientFrame(0x01, "4\xc3") + MaskedClientFrame(0x80, "\xa9")));
  ASSERT_TRUE(gateway.recorder().WaitFor(
      ok.sid(), [](const Recorder::SessionRecord& r) { return r.messages.size() == 1; }));
  EXPECT_EQ(gateway.recorder().Get(ok.sid()).messages[0].first, "\xc3\xa9");
  // ...a truncated sequence at the end of the message is not.
  ASSERT_TRUE(ok.Send(MaskedClientFrame(0x01, "4a") + MaskedClientFrame(0x80, "\xc3")));
  ASSERT_TRUE(WaitCount(gateway, TransportError::kWsBadUtf8, 1));
  EXPECT_TRUE(ok.ReadUntilClosed());
  healthy.StopAndCheck();
}

TEST(TransportErrors, MessageOverMaxPayload) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.max_payload = 1000;
  TestGateway gateway(options);
  ExpectWebSocketClosedFor(gateway, MaskedClientFrame(0x81, "4" + std::string(5000, 'a')),
                           TransportError::kWsTooBig, 1009);
}

TEST(TransportErrors, FragmentsOverMaxPayload) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.max_payload = 1000;
  TestGateway gateway(options);
  // Each fragment is small; together they are over the bound.
  ExpectWebSocketClosedFor(gateway,
                           MaskedClientFrame(0x01, "4" + std::string(600, 'a')) +
                               MaskedClientFrame(0x80, std::string(600, 'b')),
                           TransportError::kWsTooBig, 1009);
}

TEST(TransportErrors, GarbageHttp) {
  TestGateway gateway;
  HealthyClient healthy(gateway);
  std::string answer = RawExchange(gateway.port(), "\x16\x03\x01garbage\r\n\r\n");
  EXPECT_NE(answer.find("400"), std::string::npos) << answer;
  EXPECT_EQ(gateway.server().engine().transport_errors().count(TransportError::kHttpMalformed), 1u);
  answer = RawExchange(gateway.port(),
                       "GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(40000, 'a') + "\r\n\r\n");
  EXPECT_NE(answer.find("400"), std::string::npos);
  EXPECT_EQ(gateway.server().engine().transport_errors().count(TransportError::kHttpTooLarge), 1u);
  healthy.StopAndCheck();
}

TEST(TransportErrors, BadUpgradeRequest) {
  TestGateway gateway;
  HealthyClient healthy(gateway);
  // No Sec-WebSocket-Key.
  std::string answer = RawExchange(
      gateway.port(),
      "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_NE(answer.find("400"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("101"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("<not closed"), std::string::npos) << answer;
  EXPECT_TRUE(WaitCount(gateway, TransportError::kWsHandshake, 1));
  healthy.StopAndCheck();
}

// Half-open TCP, HTTP side: a connection that never sends a request.
TEST(TransportErrors, SilentConnectionTimesOut) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.http_idle_timeout = std::chrono::milliseconds(300);
  TestGateway gateway(options);
  HealthyClient healthy(gateway);
  boost::asio::io_context ioc;
  tcp::socket socket(ioc);
  ASSERT_TRUE(ConnectLocal(ioc, socket, gateway.port()));
  ASSERT_TRUE(WaitCount(gateway, TransportError::kIdleTimeout, 1));
  char byte;
  beast::error_code ec = RunBounded(ioc, socket, [&](auto handler) {
    socket.async_read_some(boost::asio::buffer(&byte, 1), handler);
  });
  EXPECT_EQ(ec, boost::asio::error::eof);
  healthy.StopAndCheck();
}

// A request (here a WebSocket upgrade) that never finishes.
TEST(TransportErrors, UnfinishedRequestTimesOut) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.http_idle_timeout = std::chrono::milliseconds(300);
  TestGateway gateway(options);
  HealthyClient healthy(gateway);
  boost::asio::io_context ioc;
  tcp::socket socket(ioc);
  ASSERT_TRUE(ConnectLocal(ioc, socket, gateway.port()));
  const std::string partial =
      "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n";
  ASSERT_FALSE(RunBounded(ioc, socket, [&](auto handler) {
    boost::asio::async_write(socket, boost::asio::buffer(partial), handler);
  }));
  ASSERT_TRUE(WaitCount(gateway, TransportError::kRequestTimeout, 1));
  char byte;
  beast::error_code ec = RunBounded(ioc, socket, [&](auto handler) {
    socket.async_read_some(boost::asio::buffer(&byte, 1), handler);
  });
  EXPECT_EQ(ec, boost::asio::error::eof);
  healthy.StopAndCheck();
}

// Half-open TCP, WebSocket side: the peer vanished without a FIN, so only the
// Engine.IO heartbeat notices. The healthy client answers its pings.
TEST(TransportErrors, SilentWebSocketPeerTimesOut) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.ping_interval = std::chrono::milliseconds(200);
  options.engine.ping_timeout = std::chrono::milliseconds(300);
  TestGateway gateway(options);
  HealthyClient healthy(gateway);
  RawWebSocket silent;
  ASSERT_TRUE(silent.Open(gateway.port()));
  gateway.AdvanceTime(std::chrono::milliseconds(200));  // both get a ping
  // The healthy client's pong re-arms its ping interval; the silent peer's
  // ping timeout still runs (300 ms from now, not 200). Both are armed on io
  // threads: wait for each before moving the clock, or a loaded machine
  // could arm one only after the advance, 300 ms too late.
  ASSERT_TRUE(gateway.WaitForTimerIn(std::chrono::milliseconds(200)));
  ASSERT_TRUE(gateway.WaitForTimerIn(std::chrono::milliseconds(300)));
  gateway.AdvanceTime(std::chrono::milliseconds(300));
  ASSERT_TRUE(WaitCount(gateway, TransportError::kPingTimeout, 1));
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(silent.sid(), &reason));
  EXPECT_EQ(reason, "ping timeout");
  EXPECT_TRUE(silent.ReadUntilClosed());
  healthy.StopAndCheck();
}

TEST(TransportErrors, CountersAppearInEngineStats) {
  TestGateway gateway;
  RawExchange(gateway.port(), "garbage\r\n\r\n");
  auto stats = gateway.server().engine().stats();
  EXPECT_EQ(stats.transport_errors["http_malformed"], 1u);
  EXPECT_EQ(stats.transport_errors["ws_protocol"], 0u);
  EXPECT_EQ(stats.transport_errors.size(), static_cast<size_t>(TransportError::kCount));
}

}  // namespace
}  // namespace roomq::gateway::server::testing
