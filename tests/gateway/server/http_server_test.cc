// HTTP routing of the real server: healthz, static files, the client
// bundle, keep-alive, and bad input closing only the offending connection.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/gateway/server/test_gateway.h"

namespace roomq::gateway::server::testing {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("roomq-http-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void Write(const std::string& relative, const std::string& content) {
    fs::path file = path_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
  }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(HttpServer, HealthzAnswersOk) {
  TestGateway gateway;
  HttpResult res = DoRequest(gateway.port(), http::verb::get, "/healthz");
  ASSERT_TRUE(res.ok);
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.body, "{\"status\":\"ok\"}");
  EXPECT_EQ(res.headers["content-type"], "application/json");
}

TEST(HttpServer, UnknownPathIs404) {
  TestGateway gateway;
  EXPECT_EQ(DoRequest(gateway.port(), http::verb::get, "/nothing-here").status, 404u);
  EXPECT_EQ(DoRequest(gateway.port(), http::verb::get, "/").status, 404u);  // no static dir
  EXPECT_EQ(DoRequest(gateway.port(), http::verb::get, "/socket.io/socket.io.min.js").status,
            404u);  // no client dir
}

TEST(HttpServer, ServesStaticFilesWithContentTypes) {
  TempDir root;
  root.Write("index.html", "<h1>chat</h1>");
  root.Write("js/app.js", "console.log(1)");
  root.Write("style.css", "body{}");
  root.Write("sub/index.html", "sub index");
  TempDir outside;
  outside.Write("secret.txt", "secret");
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.static_dir = root.path();
  TestGateway gateway(options);
  HttpResult index = DoRequest(gateway.port(), http::verb::get, "/");
  EXPECT_EQ(index.status, 200u);
  EXPECT_EQ(index.body, "<h1>chat</h1>");
  EXPECT_EQ(index.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_NE(index.headers["content-security-policy"].find("default-src 'self'"), std::string::npos);
  EXPECT_NE(index.headers["content-security-policy"].find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_EQ(index.headers["x-content-type-options"], "nosniff");
  EXPECT_EQ(index.headers["x-frame-options"], "DENY");
  HttpResult js = DoRequest(gateway.port(), http::verb::get, "/js/app.js?v=1");
  EXPECT_EQ(js.status, 200u);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.headers["content-type"], "application/javascript; charset=utf-8");
  EXPECT_EQ(DoRequest(gateway.port(), http::verb::get, "/style.css").headers["content-type"],
            "text/css; charset=utf-8");
  EXPECT_EQ(DoRequest(gateway.port(), http::verb::get, "/sub/").body, "sub index");
  EXPECT_EQ(DoRequest(gateway.port(), http::verb::get, "/missing.html").status, 404u);
  HttpResult head = DoRequest(gateway.port(), http::verb::head, "/style.css");
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.headers["content-length"], "6");
  // Traversal attempts, raw and encoded, never leave the root.
  std::string escape = "/../" + fs::path(outside.path()).filename().string() + "/secret.txt";
  for (const std::string& target :
       {escape, std::string("/%2e%2e/%2e%2e/etc/passwd"), std::string("/js/../../etc/passwd"),
        std::string("/..%2fetc%2fpasswd"), std::string("/%00index.html")}) {
    HttpResult res = DoRequest(gateway.port(), http::verb::get, target);
    EXPECT_TRUE(res.status == 400u || res.status == 404u) << target << " " << res.status;
    EXPECT_EQ(res.body.find("secret"), std::string::npos) << target;
    EXPECT_EQ(res.body.find("root:"), std::string::npos) << target;
  }
  // A raw request line with ".." (clients normally collapse it).
  std::string raw = RawExchange(
      gateway.port(), "GET " + escape + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw.find("secret"), std::string::npos);
  EXPECT_NE(raw.find("400 Bad Request"), std::string::npos) << raw;
  // Each 400 is counted (and logged by the bad-input policy, escaped).
  EXPECT_GE(
      gateway.server().engine().transport_errors().count(engineio::TransportError::kHttpBadPath),
      1u);
}

TEST(HttpServer, ServesClientBundle) {
  TempDir web;
  web.Write("socket.io.min.js", "/* bundle */");
  web.Write("socket.io.min.js.map", "{\"version\":3}");
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.client_dir = web.path();
  TestGateway gateway(options);
  HttpResult js = DoRequest(gateway.port(), http::verb::get, "/socket.io/socket.io.min.js");
  EXPECT_EQ(js.status, 200u);
  EXPECT_EQ(js.body, "/* bundle */");
  EXPECT_EQ(js.headers["content-type"], "application/javascript; charset=utf-8");
  EXPECT_EQ(js.headers["x-content-type-options"], "nosniff");
  HttpResult map = DoRequest(gateway.port(), http::verb::get, "/socket.io/socket.io.min.js.map");
  EXPECT_EQ(map.status, 200u);
  EXPECT_EQ(map.body, "{\"version\":3}");
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  TestGateway gateway;
  std::string raw = RawExchange(gateway.port(),
                                "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  size_t first = raw.find("{\"status\":\"ok\"}");
  ASSERT_NE(first, std::string::npos) << raw;
  EXPECT_NE(raw.find("{\"status\":\"ok\"}", first + 1), std::string::npos) << raw;
}

TEST(HttpServer, GarbageClosesOnlyThatConnection) {
  TestGateway gateway;
  WsClient ws;
  ASSERT_TRUE(ws.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket"));
  std::string open, data;
  ASSERT_TRUE(ws.Read(&open));
  std::string sid = SidFromOpen(open);
  std::string polling_sid = gateway.PollingHandshake();

  std::string answer = RawExchange(gateway.port(), "\x16\x03\x01garbage\r\n\r\n");
  EXPECT_NE(answer.find("400"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("<not closed"), std::string::npos) << answer;
  answer = RawExchange(gateway.port(), "GET / HTTP/1.1\r\nBad Header Line\r\n\r\n");
  EXPECT_NE(answer.find("400"), std::string::npos) << answer;
  answer = RawExchange(gateway.port(),
                       "GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(40000, 'a') + "\r\n\r\n");
  EXPECT_NE(answer.find("400"), std::string::npos);
  answer =
      RawExchange(gateway.port(), "POST /socket.io/?EIO=4&transport=polling&sid=" + polling_sid +
                                      " HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n");
  EXPECT_NE(answer.find("400"), std::string::npos);

  ASSERT_TRUE(ws.SendText("4still-here"));
  ASSERT_TRUE(ws.ReadSkippingPings(&data));
  EXPECT_EQ(data, "4still-here");
  ASSERT_EQ(gateway.Post(polling_sid, "4polling-too").body, "ok");
  EXPECT_EQ(gateway.Poll(polling_sid).body, "4polling-too");
  EXPECT_TRUE(gateway.recorder().Get(sid).close_reason.empty());
  EXPECT_TRUE(gateway.recorder().Get(polling_sid).close_reason.empty());
}

TEST(HttpServer, BadWebSocketFrameClosesOnlyThatConnection) {
  TestGateway gateway;
  WsClient good;
  ASSERT_TRUE(good.Connect(gateway.port(), "/socket.io/?EIO=4&transport=websocket"));
  std::string open, data;
  ASSERT_TRUE(good.Read(&open));

  // A hand-made WebSocket handshake, then an unmasked client frame (a
  // protocol violation).
  boost::asio::io_context ioc;
  tcp::socket socket(ioc);
  ASSERT_TRUE(ConnectLocal(ioc, socket, gateway.port()));
  std::string request =
      "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n";
  ASSERT_FALSE(RunBounded(ioc, socket, [&](auto handler) {
    boost::asio::async_write(socket, boost::asio::buffer(request), handler);
  }));
  std::string received;
  auto read_some = [&] { return ReadSomeBounded(ioc, socket, received); };
  // Until the whole open packet (it ends with '}') is in.
  while (received.empty() || received.back() != '}') ASSERT_FALSE(read_some());
  ASSERT_NE(received.find("101 Switching Protocols"), std::string::npos);
  std::string bad_sid = SidFromOpen(received.substr(received.find("0{\"sid\"")));
  ASSERT_FALSE(bad_sid.empty());
  ASSERT_FALSE(RunBounded(ioc, socket, [&](auto handler) {
    boost::asio::async_write(socket, boost::asio::buffer(std::string("\x81\x02hi", 4)), handler);
  }));
  beast::error_code ec;
  while (!(ec = read_some())) {
  }
  EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
      << ec.message();
  // The server sent its close frame and half-closed; it ends the session
  // when the peer closes too (or after the close handshake timeout).
  EXPECT_NE(received.find('\x88'), std::string::npos);
  socket.close();
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(bad_sid, &reason));
  EXPECT_EQ(reason, "transport error");

  ASSERT_TRUE(good.SendText("4fine"));
  ASSERT_TRUE(good.ReadSkippingPings(&data));
  EXPECT_EQ(data, "4fine");
}

TEST(HttpServer, BodyOverLimitOutsideEngineIsRefused) {
  TestGateway gateway;
  std::string answer =
      RawExchange(gateway.port(),
                  "POST /upload HTTP/1.1\r\nHost: x\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n" +
                      std::string("20000\r\n") + std::string(0x20000, 'a') + "\r\n0\r\n\r\n");
  EXPECT_NE(answer.find("413"), std::string::npos) << answer.substr(0, 200);
}

}  // namespace
}  // namespace roomq::gateway::server::testing
