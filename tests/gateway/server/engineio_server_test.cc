// Engine.IO behaviour of the real HTTP server, driven by Beast clients:
// handshakes, polling, WebSocket, the upgrade, heartbeat, errors, CORS,
// maxPayload, the outbound bound, server-side close and cross-shard routing.

#include <gtest/gtest.h>

#include <future>
#include <string>

#include "tests/gateway/server/test_gateway.h"

namespace roomq::gateway::server::testing {
namespace {

using Record = Recorder::SessionRecord;

TEST(EngineIoPolling, HandshakeAnnouncesSessionParameters) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.ping_interval = std::chrono::milliseconds(300);
  options.engine.ping_timeout = std::chrono::milliseconds(200);
  TestGateway gateway(options);
  HttpResult res =
      DoRequest(gateway.port(), http::verb::get, "/socket.io/?EIO=4&transport=polling");
  ASSERT_TRUE(res.ok);
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.headers["content-type"], "text/plain; charset=UTF-8");
  std::string sid = SidFromOpen(res.body);
  ASSERT_EQ(sid.size(), 22u);
  EXPECT_EQ(res.body, "0{\"sid\":\"" + sid +
                          "\",\"upgrades\":[\"websocket\"],\"pingInterval\":300,"
                          "\"pingTimeout\":200,\"maxPayload\":1000000}");
  EXPECT_TRUE(gateway.recorder().WaitFor(sid, [](const Record&) { return true; }));
}

TEST(EngineIoPolling, PostAndGetRoundTripTextAndBinary) {
  TestGateway gateway;
  std::string sid = gateway.PollingHandshake();
  ASSERT_FALSE(sid.empty());
  HttpResult post = gateway.Post(sid,
                                 "4hello\x1e"
                                 "4world\x1e"
                                 "bAQIDBA==");
  ASSERT_TRUE(post.ok);
  EXPECT_EQ(post.status, 200u);
  EXPECT_EQ(post.body, "ok");
  ASSERT_TRUE(
      gateway.recorder().WaitFor(sid, [](const Record& r) { return r.messages.size() == 3; }));
  Record record = gateway.recorder().Get(sid);
  EXPECT_EQ(record.messages[0], std::make_pair(std::string("hello"), false));
  EXPECT_EQ(record.messages[1], std::make_pair(std::string("world"), false));
  EXPECT_EQ(record.messages[2], std::make_pair(std::string("\x01\x02\x03\x04", 4), true));
  HttpResult poll = gateway.Poll(sid);
  ASSERT_TRUE(poll.ok);
  EXPECT_EQ(poll.status, 200u);
  EXPECT_EQ(poll.body,
            "4hello\x1e"
            "4world\x1e"
            "bAQIDBA==");
}

TEST(EngineIoPolling, LongPollWaitsForAMessage) {
  TestGateway gateway;
  std::string sid = gateway.PollingHandshake();
  ASSERT_FALSE(sid.empty());
  auto poll = std::async(std::launch::async, [&] { return gateway.Poll(sid); });
  EXPECT_EQ(poll.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  ASSERT_EQ(gateway.Post(sid, "4late").body, "ok");
  HttpResult res = poll.get();
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.body, "4late");
}

TEST(EngineIoPolling, ClientPingIsAnsweredWithPong) {
  TestGateway gateway;
  std::string sid = gateway.PollingHandshake();
  ASSERT_EQ(gateway.Post(sid, "2").body, "ok");
  EXPECT_EQ(gateway.Poll(sid).body, "3");
}

TEST(EngineIoPolling, OverlappingPollClosesTheSession) {
  TestGateway gateway;
  std::string sid = gateway.PollingHandshake();
  auto first = std::async(std::launch::async, [&] { return gateway.Poll(sid); });
  ASSERT_EQ(first.wait_for(std::chrono::milliseconds(150)), std::future_status::timeout);
  HttpResult second = gateway.Poll(sid);
  EXPECT_EQ(second.status, 400u);
  HttpResult first_result = first.get();
  EXPECT_EQ(first_result.status, 200u);
  EXPECT_EQ(first_result.body, "1");
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "transport error");
  EXPECT_EQ(gateway.Poll(sid).status, 400u);
}

TEST(EngineIoPolling, ClientCloseEndsPendingPollWithNoop) {
  TestGateway gateway;
  std::string sid = gateway.PollingHandshake();
  auto poll = std::async(std::launch::async, [&] { return gateway.Poll(sid); });
  ASSERT_EQ(poll.wait_for(std::chrono::milliseconds(150)), std::future_status::timeout);
  EXPECT_EQ(gateway.Post(sid, "1").body, "ok");
  EXPECT_EQ(poll.get().body, "6");
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "transport close");
  HttpResult after = gateway.Poll(sid);
  EXPECT_EQ(after.status, 400u);
  EXPECT_EQ(after.body, "{\"code\":1,\"message\":\"Session ID unknown\"}");
}

TEST(EngineIoPolling, MalformedPayloadClosesTheSession) {
  TestGateway gateway;
  std::string sid = gateway.PollingHandshake();
  HttpResult res = gateway.Post(sid, "abc");
  EXPECT_EQ(res.status, 400u);
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "parse error");
  EXPECT_EQ(gateway.Poll(sid).status, 400u);
}

TEST(EngineIoPolling, ServerCloseDeliversClosePacket) {
  TestGateway gateway;
  std::string sid = gateway.PollingHandshake();
  auto poll = std::async(std::launch::async, [&] { return gateway.Poll(sid); });
  ASSERT_EQ(poll.wait_for(std::chrono::milliseconds(150)), std::future_status::timeout);
  ASSERT_EQ(gateway
                .Post(sid,
                      "4before\x1e"
                      "4close")
                .body,
            "ok");
  // The echo went out at once; the close packet waits for the next poll.
  EXPECT_EQ(poll.get().body, "4before");
  EXPECT_EQ(gateway.Poll(sid).body, "1");
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "forced close");
}

TEST(EngineIoPolling, MaxPayloadExceededAnswers413AndCloses) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.max_payload = 1000;
  TestGateway gateway(options);
  std::string sid = gateway.PollingHandshake();
  HttpResult ok = gateway.Post(sid, "4" + std::string(900, 'a'));
  EXPECT_EQ(ok.status, 200u);
  HttpResult res = gateway.Post(sid, "4" + std::string(2000, 'a'));
  EXPECT_EQ(res.status, 413u);
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "transport error");
  EXPECT_EQ(gateway.Poll(sid).status, 400u);
}

TEST(EngineIoPolling, OutboundQueueBoundClosesSlowConsumer) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.max_outbound_bytes = 10000;
  TestGateway gateway(options);
  std::string sid = gateway.PollingHandshake();
  // Nobody polls: 20 x 1000 bytes cannot all be queued.
  ASSERT_EQ(gateway.Post(sid, "4flood:20:1000").body, "ok");
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "transport error");
  Record record = gateway.recorder().Get(sid);
  ASSERT_GE(record.send_results.size(), 11u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(record.send_results[i], absl::StatusCode::kOk);
  EXPECT_EQ(record.send_results[10], absl::StatusCode::kResourceExhausted);
  for (size_t i = 11; i < record.send_results.size(); ++i) {
    EXPECT_EQ(record.send_results[i], absl::StatusCode::kFailedPrecondition);
  }
}

TEST(EngineIoPolling, HeartbeatTimeoutClosesSession) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.ping_interval = std::chrono::milliseconds(100);
  options.engine.ping_timeout = std::chrono::milliseconds(100);
  TestGateway gateway(options);
  std::string sid = gateway.PollingHandshake();
  gateway.AdvanceTime(std::chrono::milliseconds(100));  // the ping is queued
  HttpResult ping = gateway.Poll(sid);
  EXPECT_EQ(ping.body, "2");
  gateway.AdvanceTime(std::chrono::milliseconds(99));
  ASSERT_EQ(gateway.Post(sid, "4still open").body, "ok");
  gateway.AdvanceTime(std::chrono::milliseconds(1));
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "ping timeout");
  EXPECT_EQ(gateway.Post(sid, "3").status, 400u);
}

TEST(EngineIoPolling, PongKeepsSessionAlive) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.ping_interval = std::chrono::milliseconds(100);
  options.engine.ping_timeout = std::chrono::milliseconds(150);
  TestGateway gateway(options);
  std::string sid = gateway.PollingHandshake();
  // Each ping after the first is only sent once the previous pong arrived,
  // and each step after it is a whole ping timeout: had a pong not counted,
  // that step would close the session instead of sending the next ping.
  for (int i = 0; i < 4; ++i) {
    gateway.AdvanceTime(std::chrono::milliseconds(i == 0 ? 100 : 150));
    HttpResult ping = gateway.Poll(sid);
    ASSERT_EQ(ping.body, "2") << i;
    ASSERT_EQ(gateway.Post(sid, "3").body, "ok") << i;
  }
  EXPECT_TRUE(gateway.recorder().Get(sid).close_reason.empty());
}

TEST(EngineIoWebSocket, WebSocketOnlySessionEchoesTextAndBinary) {
  TestGateway gateway;
  WsClient ws;
  ASSERT_TRUE(ws.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket"));
  std::string open;
  ASSERT_TRUE(ws.Read(&open));
  std::string sid = SidFromOpen(open);
  ASSERT_FALSE(sid.empty());
  EXPECT_EQ(open, "0{\"sid\":\"" + sid +
                      "\",\"upgrades\":[],\"pingInterval\":10000,\"pingTimeout\":5000,"
                      "\"maxPayload\":1000000}");
  ASSERT_TRUE(ws.SendText("4hello"));
  std::string data;
  bool binary = true;
  ASSERT_TRUE(ws.ReadSkippingPings(&data, &binary));
  EXPECT_EQ(data, "4hello");
  EXPECT_FALSE(binary);
  ASSERT_TRUE(ws.SendBinary(std::string("\x01\x02\x00\x04", 4)));
  ASSERT_TRUE(ws.ReadSkippingPings(&data, &binary));
  EXPECT_EQ(data, std::string("\x01\x02\x00\x04", 4));
  EXPECT_TRUE(binary);
  Record record = gateway.recorder().Get(sid);
  ASSERT_EQ(record.messages.size(), 2u);
  EXPECT_EQ(record.messages[1], std::make_pair(std::string("\x01\x02\x00\x04", 4), true));
  ws.Close();
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "transport close");
}

TEST(EngineIoWebSocket, HeartbeatTimeoutClosesSession) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.ping_interval = std::chrono::milliseconds(100);
  options.engine.ping_timeout = std::chrono::milliseconds(100);
  TestGateway gateway(options);
  WsClient ws;
  ASSERT_TRUE(ws.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket"));
  std::string open, ping;
  ASSERT_TRUE(ws.Read(&open));
  std::string sid = SidFromOpen(open);
  gateway.AdvanceTime(std::chrono::milliseconds(100));
  ASSERT_TRUE(ws.Read(&ping));
  EXPECT_EQ(ping, "2");
  gateway.AdvanceTime(std::chrono::milliseconds(99));
  ASSERT_TRUE(ws.SendText("4still open"));
  std::string echo;
  ASSERT_TRUE(ws.Read(&echo));
  EXPECT_EQ(echo, "4still open");
  gateway.AdvanceTime(std::chrono::milliseconds(1));
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "ping timeout");
  std::string more;
  EXPECT_FALSE(ws.Read(&more));  // the server closed the WebSocket
}

TEST(EngineIoWebSocket, ServerCloseSendsClosePacket) {
  TestGateway gateway;
  WsClient ws;
  ASSERT_TRUE(ws.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket"));
  std::string open, data;
  ASSERT_TRUE(ws.Read(&open));
  std::string sid = SidFromOpen(open);
  ASSERT_TRUE(ws.SendText("4close"));
  ASSERT_TRUE(ws.ReadSkippingPings(&data));
  EXPECT_EQ(data, "1");
  EXPECT_FALSE(ws.Read(&data));
  EXPECT_EQ(ws.last_error(), websocket::error::closed);
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "forced close");
}

TEST(EngineIoWebSocket, InvalidPacketClosesSession) {
  TestGateway gateway;
  WsClient ws;
  ASSERT_TRUE(ws.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket"));
  std::string open, data;
  ASSERT_TRUE(ws.Read(&open));
  std::string sid = SidFromOpen(open);
  ASSERT_TRUE(ws.SendText("abc"));
  EXPECT_FALSE(ws.ReadSkippingPings(&data));
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "parse error");
}

TEST(EngineIoWebSocket, MessageOverMaxPayloadClosesSession) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.max_payload = 1000;
  TestGateway gateway(options);
  WsClient ws;
  ASSERT_TRUE(ws.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket"));
  std::string open, data;
  ASSERT_TRUE(ws.Read(&open));
  std::string sid = SidFromOpen(open);
  ASSERT_TRUE(ws.SendText("4" + std::string(500, 'a')));
  ASSERT_TRUE(ws.ReadSkippingPings(&data));
  EXPECT_EQ(data.size(), 501u);
  ws.SendText("4" + std::string(5000, 'a'));
  EXPECT_FALSE(ws.ReadSkippingPings(&data));
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "transport error");
}

// The full upgrade with server messages produced between the probe and the
// upgrade packet: none may be lost or reordered.
void RunUpgrade(TestGateway& gateway, int burst) {
  std::string sid = gateway.PollingHandshake();
  ASSERT_FALSE(sid.empty());
  auto pending = std::async(std::launch::async, [&] { return gateway.Poll(sid); });
  ASSERT_EQ(pending.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  WsClient ws;
  ASSERT_TRUE(ws.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket&sid=" + sid));
  ASSERT_TRUE(ws.SendText("2probe"));
  std::string data;
  ASSERT_TRUE(ws.Read(&data));
  EXPECT_EQ(data, "3probe");
  HttpResult flushed = pending.get();
  EXPECT_EQ(flushed.status, 200u);
  EXPECT_EQ(flushed.body, "6");
  // Messages produced while the client has paused polling.
  ASSERT_EQ(gateway.Post(sid, "4burst:" + std::to_string(burst)).body, "ok");
  ASSERT_TRUE(gateway.recorder().WaitFor(
      sid, [&](const Record& r) { return r.send_results.size() == static_cast<size_t>(burst); }));
  ASSERT_TRUE(ws.SendText("5"));
  int next = 0;
  while (next < burst) {
    ASSERT_TRUE(ws.ReadSkippingPings(&data)) << "after " << next;
    if (data == "6") continue;
    ASSERT_EQ(data, "4m" + std::to_string(next));
    ++next;
  }
  // The session now lives on the WebSocket; polling is refused.
  EXPECT_EQ(gateway.Poll(sid).status, 400u);
  ASSERT_TRUE(ws.SendText("4after"));
  ASSERT_TRUE(ws.ReadSkippingPings(&data));
  EXPECT_EQ(data, "4after");
  Record record = gateway.recorder().Get(sid);
  // Every callback ran on the session's own shard thread.
  for (auto id : record.message_threads) EXPECT_EQ(id, record.open_thread);
  ws.Close();
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "transport close");
  EXPECT_EQ(gateway.recorder().Get(sid).transport_at_close, "websocket");
}

TEST(EngineIoUpgrade, PollingToWebSocketLosesNothing) {
  TestGateway gateway;
  RunUpgrade(gateway, 50);
}

TEST(EngineIoUpgrade, WorksFromEveryShard) {
  // Connections are spread round-robin, so over several upgrades the
  // WebSocket lands both on the session's shard and on the other one (its
  // socket is then moved to the owner).
  TestGateway gateway(TestGateway::DefaultOptions(), 2);
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    RunUpgrade(gateway, 5);
  }
}

TEST(EngineIoUpgrade, BadProbeLeavesSessionOnPolling) {
  TestGateway gateway;
  std::string sid = gateway.PollingHandshake();
  WsClient ws;
  ASSERT_TRUE(ws.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket&sid=" + sid));
  ASSERT_TRUE(ws.SendText("4nonsense"));
  std::string data;
  EXPECT_FALSE(ws.Read(&data));
  ASSERT_EQ(gateway.Post(sid, "4still-polling").body, "ok");
  EXPECT_EQ(gateway.Poll(sid).body, "4still-polling");
}

TEST(EngineIoUpgrade, UnknownSidIsRefused) {
  TestGateway gateway;
  WsClient ws;
  EXPECT_FALSE(ws.Connect(gateway.port(),
                          "/socket.io/?EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAAAA"));
}

// --sid-prefix: every sid starts with the instance's prefix, polling and
// the upgrade work with it from every shard, and a sid without it (another
// gateway's, or an unprefixed one) is unknown here.
TEST(EngineIoSidPrefix, SessionsCarryThePrefixAndUpgrade) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.sid_prefix = "gw2-";
  TestGateway gateway(options, 2);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    RunUpgrade(gateway, 3);
  }
  std::string sid = gateway.PollingHandshake();
  ASSERT_EQ(sid.size(), 4u + 22u);
  EXPECT_EQ(sid.substr(0, 4), "gw2-");
  ASSERT_EQ(gateway.Post(sid, "4hi").body, "ok");
  EXPECT_EQ(gateway.Poll(sid).body, "4hi");
  const std::string foreign = "gw1-" + sid.substr(4);
  HttpResult res = gateway.Poll(foreign);
  EXPECT_EQ(res.status, 400u);
  EXPECT_EQ(res.body, "{\"code\":1,\"message\":\"Session ID unknown\"}");
  EXPECT_EQ(gateway.Poll(sid.substr(4)).status, 400u);
  WsClient ws;
  EXPECT_FALSE(ws.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket&sid=" + foreign));
}

TEST(EngineIoShards, SessionRequestsWorkFromEveryShard) {
  // Each request uses a new connection; with round-robin accepting, every
  // other request arrives on a shard that does not own the session.
  TestGateway gateway(TestGateway::DefaultOptions(), 3);
  std::string sid = gateway.PollingHandshake();
  for (int i = 0; i < 6; ++i) {
    std::string text = "4n" + std::to_string(i);
    ASSERT_EQ(gateway.Post(sid, text).body, "ok");
    EXPECT_EQ(gateway.Poll(sid).body, text);
  }
  Record record = gateway.recorder().Get(sid);
  ASSERT_EQ(record.messages.size(), 6u);
  for (auto id : record.message_threads) EXPECT_EQ(id, record.open_thread);
}

TEST(EngineIoErrors, AnswerWithEngineIoCodes) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.cors_origins = {"http://allowed.example"};
  TestGateway gateway(options);
  auto check = [&](http::verb verb, const std::string& target, unsigned status, int code,
                   const std::string& message,
                   const std::map<std::string, std::string>& headers = {}) {
    HttpResult res = DoRequest(gateway.port(), verb, target, "", headers);
    ASSERT_TRUE(res.ok) << target;
    EXPECT_EQ(res.status, status) << target;
    EXPECT_EQ(res.headers["content-type"], "application/json") << target;
    EXPECT_EQ(res.body, "{\"code\":" + std::to_string(code) + ",\"message\":\"" + message + "\"}")
        << target;
  };
  check(http::verb::get, "/socket.io/?EIO=4&transport=tobi", 400, 0, "Transport unknown");
  check(http::verb::get, "/socket.io/?EIO=4", 400, 0, "Transport unknown");
  check(http::verb::get, "/socket.io/?EIO=4&transport=polling&sid=nope", 400, 1,
        "Session ID unknown");
  check(http::verb::get, "/socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAAAA", 400, 1,
        "Session ID unknown");
  check(http::verb::post, "/socket.io/?EIO=4&transport=polling", 400, 2, "Bad handshake method");
  check(http::verb::put, "/socket.io/?EIO=4&transport=polling", 400, 2, "Bad handshake method");
  check(http::verb::get, "/socket.io/?EIO=4&transport=websocket", 400, 3, "Bad request");
  check(http::verb::get, "/socket.io/?EIO=4&transport=polling", 403, 4, "Forbidden",
        {{"Origin", "http://evil.example"}});
  check(http::verb::get, "/socket.io/?EIO=3&transport=polling", 400, 5,
        "Unsupported protocol version");
  check(http::verb::get, "/socket.io/?transport=polling", 400, 5, "Unsupported protocol version");
  // A WebSocket from a refused origin does not get through either.
  WsClient ws;
  EXPECT_FALSE(ws.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket",
                          {{"Origin", "http://evil.example"}}));
  WsClient allowed;
  EXPECT_TRUE(allowed.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket",
                              {{"Origin", "http://allowed.example"}}));
}

TEST(EngineIoCors, EchoesAllowedOriginAndAnswersPreflight) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.cors_origins = {"http://allowed.example"};
  TestGateway gateway(options);
  HttpResult res = DoRequest(gateway.port(), http::verb::get, "/socket.io/?EIO=4&transport=polling",
                             "", {{"Origin", "http://allowed.example"}});
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.headers["access-control-allow-origin"], "http://allowed.example");
  EXPECT_EQ(res.headers["access-control-allow-credentials"], "true");
  HttpResult preflight =
      DoRequest(gateway.port(), http::verb::options, "/socket.io/?EIO=4&transport=polling", "",
                {{"Origin", "http://allowed.example"},
                 {"Access-Control-Request-Method", "POST"},
                 {"Access-Control-Request-Headers", "content-type"}});
  EXPECT_EQ(preflight.status, 204u);
  EXPECT_EQ(preflight.headers["access-control-allow-origin"], "http://allowed.example");
  EXPECT_EQ(preflight.headers["access-control-allow-methods"], "GET,HEAD,PUT,PATCH,POST,DELETE");
  EXPECT_EQ(preflight.headers["access-control-allow-headers"], "content-type");
  EXPECT_EQ(preflight.header_counts["access-control-allow-origin"], 1u);
  // Error answers carry the CORS headers too, so browsers can read them.
  HttpResult error = DoRequest(gateway.port(), http::verb::get, "/socket.io/?EIO=4&transport=x", "",
                               {{"Origin", "http://allowed.example"}});
  EXPECT_EQ(error.status, 400u);
  EXPECT_EQ(error.headers["access-control-allow-origin"], "http://allowed.example");
}

TEST(EngineIoCors, WildcardAnswersStar) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.cors_origins = {"*"};
  TestGateway gateway(options);
  HttpResult res = DoRequest(gateway.port(), http::verb::get, "/socket.io/?EIO=4&transport=polling",
                             "", {{"Origin", "http://any.example"}});
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.headers["access-control-allow-origin"], "*");
  EXPECT_EQ(res.headers.count("access-control-allow-credentials"), 0u);
  HttpResult preflight =
      DoRequest(gateway.port(), http::verb::options, "/socket.io/?EIO=4&transport=polling", "",
                {{"Origin", "http://any.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(preflight.status, 204u);
  EXPECT_EQ(preflight.headers["access-control-allow-origin"], "*");
  EXPECT_EQ(preflight.header_counts["access-control-allow-origin"], 1u);
}

TEST(EngineIoCors, NoOriginListMeansNoHeaders) {
  TestGateway gateway;
  HttpResult res = DoRequest(gateway.port(), http::verb::get, "/socket.io/?EIO=4&transport=polling",
                             "", {{"Origin", "http://any.example"}});
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.headers.count("access-control-allow-origin"), 0u);
}

TEST(EngineIoShutdown, ClosesSessionsWithReason) {
  auto gateway = std::make_unique<TestGateway>();
  WsClient ws;
  ASSERT_TRUE(ws.Connect(gateway->port(), "/socket.io/?EIO=4&transport=websocket"));
  std::string open, data;
  ASSERT_TRUE(ws.Read(&open));
  std::string sid = SidFromOpen(open);
  std::string polling_sid = gateway->PollingHandshake();
  auto poll = std::async(std::launch::async, [&] { return gateway->Poll(polling_sid); });
  ASSERT_EQ(poll.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_TRUE(gateway->server().Shutdown("server shutting down", std::chrono::seconds(2)));
  ASSERT_TRUE(ws.ReadSkippingPings(&data));
  EXPECT_EQ(data, "1");
  EXPECT_EQ(poll.get().body, "1");
  std::string reason;
  ASSERT_TRUE(gateway->recorder().WaitClosed(sid, &reason));
  EXPECT_EQ(reason, "server shutting down");
  ASSERT_TRUE(gateway->recorder().WaitClosed(polling_sid, &reason));
  EXPECT_EQ(reason, "server shutting down");
  // New handshakes are refused; nothing is accepted any more.
  HttpResult late =
      DoRequest(gateway->port(), http::verb::get, "/socket.io/?EIO=4&transport=polling");
  EXPECT_FALSE(late.ok && late.status == 200u);
}

}  // namespace
}  // namespace roomq::gateway::server::testing
