// SessionImpl's outbound bound (EngineOptions::max_outbound_bytes) against
// clients that provoke replies and never read them: WebSocket pings,
// Engine.IO pings over WebSocket or in a polling POST, pings to an upgrade
// probe. Each reply counts against the same bound as messages do, and at
// the bound the session is cut off ("transport error", counted as
// transport_errors{reason="outbound_full"}) instead of queuing without end.
//
// Time is a FakeTimerService that no test advances unless it tests a timer;
// sockets are loopback TCP pairs (small kernel buffers, so the gateway's own
// queue fills soon) on one io_context that the test thread runs until a
// condition holds.

#include "gateway/engineio/session_impl.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "gateway/engineio/options.h"
#include "gateway/engineio/packet.h"
#include "gateway/engineio/timer_service.h"
#include "gateway/engineio/transport_errors.h"
#include "gateway/engineio/websocket_transport.h"
#include "proto/base/clock.h"

namespace roomq::gateway::engineio {
namespace {

using tcp = boost::asio::ip::tcp;

constexpr size_t kBound = size_t{64} * 1024;

// Records how the session ended.
class Listener final : public SessionListener {
 public:
  explicit Listener(std::string* close_reason) : close_reason_(close_reason) {}
  void OnMessage(std::string_view, bool) override {}
  void OnClose(std::string_view reason) override { *close_reason_ = std::string(reason); }

 private:
  std::string* close_reason_;
};

// A client frame (always masked, RFC 6455 5.3) with a zero mask key, so the
// payload goes out as is; payloads up to 125 bytes.
std::string ClientFrame(uint8_t opcode, const std::string& payload) {
  std::string frame;
  frame.push_back(static_cast<char>(0x80 | opcode));
  frame.push_back(static_cast<char>(0x80 | payload.size()));
  frame.append(4, '\0');
  return frame + payload;
}

std::string Repeat(const std::string& piece, size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (size_t i = 0; i < times; ++i) out += piece;
  return out;
}

class SessionImplTest : public ::testing::Test {
 protected:
  SessionImplTest() {
    options_.timers = &timers_;
    options_.max_outbound_bytes = kBound;
  }
  // The thread's list of transports to flush (websocket_transport.cc) must
  // not carry one of this test's transports into the next test, whose
  // io_context would never run the flush task posted for it.
  ~SessionImplTest() override { WebSocketTransport::FlushDirty(); }

  std::shared_ptr<SessionImpl> NewSession() {
    return std::make_shared<SessionImpl>("sid", io_.get_executor(), HandshakeInfo{"peer", "", ""},
                                         options_, &errors_,
                                         [this](const std::string&) { finished_ = true; });
  }
  std::unique_ptr<SessionListener> NewListener() {
    return std::make_unique<Listener>(&close_reason_);
  }

  // A connected loopback pair; the client's receive buffer and the server's
  // send buffer as small as the kernel allows.
  std::pair<tcp::socket, tcp::socket> SocketPair() {
    tcp::acceptor acceptor(io_, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
    tcp::socket client(io_);
    client.open(tcp::v4());
    client.set_option(tcp::socket::receive_buffer_size(4096));
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();
    server.set_option(tcp::socket::send_buffer_size(4096));
    return {std::move(server), std::move(client)};
  }
  std::shared_ptr<WebSocketTransport> NewTransport(tcp::socket socket) {
    return std::make_shared<WebSocketTransport>(std::move(socket), options_.max_payload, "peer",
                                                &errors_);
  }

  // Runs the io_context until `done()` (true) or 10 s of real time passed
  // (false), noting the largest outbound total `session` had on the way.
  bool RunUntil(const std::function<bool()>& done,
                const std::shared_ptr<SessionImpl>& session = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_one_for(std::chrono::milliseconds(100));
      if (session) max_queued_ = std::max(max_queued_, session->queued_bytes());
    }
    return true;
  }

  // Writes `bytes` to `client` without reading anything; `*done` once all
  // are written or the connection failed (the server cut it off).
  void Flood(tcp::socket& client, const std::shared_ptr<std::string>& bytes, bool* done) {
    boost::asio::async_write(client, boost::asio::buffer(*bytes),
                             [bytes, done](boost::system::error_code, size_t) { *done = true; });
  }

  uint64_t OutboundFullCount() const { return errors_.Snapshot()["outbound_full"]; }

  base::FakeClock clock_;
  FakeTimerService timers_{clock_};
  TransportErrorCounters errors_;
  EngineOptions options_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::string close_reason_;
  bool finished_ = false;
  size_t max_queued_ = 0;
};

EngineRequest Post(std::string body) {
  EngineRequest request;
  request.method = HttpMethod::kPost;
  request.body = std::move(body);
  return request;
}

TEST_F(SessionImplTest, PollingPostOfPingsOverTheBoundCutsTheSessionOff) {
  auto session = NewSession();
  session->Open(NewListener());
  // 5000 empty pings: their pongs' bytes alone are 5000, far under the
  // bound; what each queued pong costs is not.
  std::string body = Repeat(std::string("2") + kRecordSeparator, 5000);
  body.pop_back();
  std::optional<HttpReply> reply;
  session->HandlePollPost(Post(std::move(body)), [&](HttpReply r) { reply = std::move(r); });
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(close_reason_, "transport error");
  EXPECT_TRUE(finished_);
  EXPECT_EQ(OutboundFullCount(), 1u);
  EXPECT_EQ(session->queued_bytes(), 0u);
}

TEST_F(SessionImplTest, PollingPongsWithinTheBoundAreCountedAndReleasedByTheGet) {
  auto session = NewSession();
  session->Open(NewListener());
  std::string body = Repeat(std::string("2n") + kRecordSeparator, 10);
  body.pop_back();
  session->HandlePollPost(Post(std::move(body)), [](const HttpReply&) {});
  ASSERT_FALSE(session->closed());
  // Ten queued pongs of 2 bytes count as more than their bytes: a queue of
  // tiny frames holds far more memory than its payload.
  EXPECT_GE(session->queued_bytes(), 10u * 100u);
  std::optional<HttpReply> reply;
  session->HandlePollGet([&](HttpReply r) { reply = std::move(r); });
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->body, Repeat(std::string("3n") + kRecordSeparator, 9) + "3n");
  EXPECT_EQ(session->queued_bytes(), 0u);
  EXPECT_FALSE(session->closed());
  EXPECT_EQ(OutboundFullCount(), 0u);
}

TEST_F(SessionImplTest, HeartbeatPingThatDoesNotFitCutsTheSessionOff) {
  auto session = NewSession();
  session->Open(NewListener());
  // A polling client that stopped polling: its queue is a few bytes short of
  // the bound when the heartbeat comes due.
  auto message = std::make_shared<OutboundMessage>();
  message->push_back(OutboundPart{false, std::string(kBound - 10, 'x')});
  ASSERT_TRUE(session->Send(message).ok());
  timers_.Advance(options_.ping_interval);
  ASSERT_TRUE(RunUntil([&] { return session->closed(); }));
  EXPECT_EQ(close_reason_, "transport error");
  EXPECT_EQ(OutboundFullCount(), 1u);
}

TEST_F(SessionImplTest, WebSocketPingFloodIsCutOffAtTheBound) {
  auto [server, client] = SocketPair();
  auto session = NewSession();
  session->AttachWebSocket(NewTransport(std::move(server)));
  session->Open(NewListener());
  // 20000 pings of 125 bytes (2.6 MB), answered by as many pongs: over a
  // hundred times what the kernel buffers and the bound hold.
  auto flood =
      std::make_shared<std::string>(Repeat(ClientFrame(0x9, std::string(125, 'p')), 20000));
  bool written = false;
  Flood(client, flood, &written);
  ASSERT_TRUE(RunUntil([&] { return session->closed() || written; }, session));
  EXPECT_TRUE(session->closed()) << "the whole flood was answered, queued_bytes "
                                 << session->queued_bytes();
  EXPECT_EQ(close_reason_, "transport error");
  EXPECT_EQ(OutboundFullCount(), 1u);
  EXPECT_LE(max_queued_, kBound);
  EXPECT_EQ(session->queued_bytes(), 0u);
}

TEST_F(SessionImplTest, EngineIoPingFloodOverWebSocketIsCutOffAtTheBound) {
  auto [server, client] = SocketPair();
  auto session = NewSession();
  session->AttachWebSocket(NewTransport(std::move(server)));
  session->Open(NewListener());
  auto flood =
      std::make_shared<std::string>(Repeat(ClientFrame(0x1, "2" + std::string(100, 'p')), 20000));
  bool written = false;
  Flood(client, flood, &written);
  ASSERT_TRUE(RunUntil([&] { return session->closed() || written; }, session));
  EXPECT_TRUE(session->closed()) << "the whole flood was answered, queued_bytes "
                                 << session->queued_bytes();
  EXPECT_EQ(close_reason_, "transport error");
  EXPECT_EQ(OutboundFullCount(), 1u);
  EXPECT_LE(max_queued_, kBound);
}

TEST_F(SessionImplTest, PingFloodOnAnUpgradeProbeIsCutOffAtTheBound) {
  auto [server, client] = SocketPair();
  auto session = NewSession();
  session->Open(NewListener());  // polling
  session->HandleUpgradeCandidate(NewTransport(std::move(server)));
  // The upgrade timeout would end the probe only once the fake clock moves.
  auto flood =
      std::make_shared<std::string>(Repeat(ClientFrame(0x9, std::string(125, 'p')), 20000));
  bool written = false;
  Flood(client, flood, &written);
  ASSERT_TRUE(RunUntil([&] { return session->closed() || written; }, session));
  EXPECT_TRUE(session->closed()) << "the whole flood was answered";
  EXPECT_EQ(close_reason_, "transport error");
  EXPECT_EQ(OutboundFullCount(), 1u);
  EXPECT_LE(max_queued_, kBound);
}

TEST_F(SessionImplTest, WebSocketPongsAreReleasedOnceWritten) {
  auto [server, client] = SocketPair();
  auto session = NewSession();
  session->AttachWebSocket(NewTransport(std::move(server)));
  session->Open(NewListener());
  auto pings = std::make_shared<std::string>(Repeat(ClientFrame(0x9, "hi"), 10) +
                                             Repeat(ClientFrame(0x1, "2hi"), 10));
  bool written = false;
  Flood(client, pings, &written);
  // The client reads every frame: the open packet, 10 pongs (4 bytes each)
  // and 10 Engine.IO pongs (5 bytes each).
  const std::string open = "0" + session->OpenPacketData(false);
  const size_t expected = 2 + open.size() + size_t{10} * 4 + size_t{10} * 5;
  std::string received(expected, '\0');
  bool read = false;
  boost::asio::async_read(client, boost::asio::buffer(received),
                          [&](boost::system::error_code ec, size_t) { read = !ec; });
  ASSERT_TRUE(RunUntil([&] { return read && written; }));
  EXPECT_EQ(received.substr(expected - 5), std::string("\x81\x03"
                                                       "3hi",
                                                       5));
  ASSERT_TRUE(RunUntil([&] { return session->queued_bytes() == 0; }));
  EXPECT_FALSE(session->closed());
  EXPECT_EQ(OutboundFullCount(), 0u);
}

}  // namespace
}  // namespace roomq::gateway::engineio
