// Write coalescing: with a WriteCoalescer a transport's frames reach the
// socket when the shard's window ends, all of a window's transports at once;
// without one, at the end of the wakeup that queued them.

#include "gateway/engineio/write_coalescer.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "gateway/engineio/timer_service.h"
#include "gateway/engineio/websocket_transport.h"
#include "proto/base/clock.h"

namespace roomq::gateway::engineio {
namespace {

using boost::asio::ip::tcp;
using std::chrono::milliseconds;

// A server transport and the client end of its loopback connection.
struct Connection {
  std::shared_ptr<WebSocketTransport> server;
  tcp::socket client;
};

class WriteCoalescerTest : public ::testing::Test {
 protected:
  Connection Connect(WriteCoalescer* coalescer) {
    tcp::acceptor acceptor(io_, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
    tcp::socket client(io_);
    client.connect(acceptor.local_endpoint());
    auto server = std::make_shared<WebSocketTransport>(acceptor.accept(), 1 << 20, "peer", nullptr,
                                                       coalescer);
    return {std::move(server), std::move(client)};
  }

  void Run() {
    io_.restart();
    io_.poll();
  }

  // What the client has received so far (loopback delivers a write before
  // sendmsg returns, so nothing is in flight once Run() returned).
  static std::string Received(tcp::socket& client) {
    std::string bytes(client.available(), '\0');
    if (!bytes.empty()) boost::asio::read(client, boost::asio::buffer(bytes));
    return bytes;
  }

  static void Write(WebSocketTransport& transport, std::string text) {
    WsFrame frame;
    frame.owned = std::move(text);
    transport.Write(std::move(frame));
  }

  base::FakeClock clock_;
  FakeTimerService timers_{clock_};
  boost::asio::io_context io_;  // after timers_: its handlers go first
};

// An unmasked text frame as the server writes it (payloads under 126 bytes).
std::string TextFrame(const std::string& text) {
  return std::string("\x81", 1) + static_cast<char>(text.size()) + text;
}

TEST_F(WriteCoalescerTest, WithoutACoalescerFramesGoOutAtTheEndOfTheWakeup) {
  Connection connection = Connect(nullptr);
  Write(*connection.server, "a");
  Run();
  EXPECT_EQ(Received(connection.client), TextFrame("a"));
}

TEST_F(WriteCoalescerTest, FramesWaitForTheWindowAndThenGoOutTogether) {
  WriteCoalescer coalescer(io_.get_executor(), milliseconds(10), timers_);
  Connection connection = Connect(&coalescer);
  Write(*connection.server, "a");
  Run();
  timers_.Advance(milliseconds(5));
  Write(*connection.server, "b");
  Run();
  EXPECT_EQ(Received(connection.client), "") << "held until the window ends";
  timers_.Advance(milliseconds(4));
  Run();
  EXPECT_EQ(Received(connection.client), "");
  timers_.Advance(milliseconds(1));
  Run();
  EXPECT_EQ(Received(connection.client), TextFrame("a") + TextFrame("b"));
  EXPECT_EQ(coalescer.windows(), 1U);
}

TEST_F(WriteCoalescerTest, OneWindowWritesEveryTransportThatJoinedIt) {
  WriteCoalescer coalescer(io_.get_executor(), milliseconds(10), timers_);
  Connection first = Connect(&coalescer);
  Connection second = Connect(&coalescer);
  Write(*first.server, "1");
  Run();
  timers_.Advance(milliseconds(8));
  Write(*second.server, "2");
  Run();
  timers_.Advance(milliseconds(2));
  Run();
  EXPECT_EQ(Received(first.client), TextFrame("1"));
  EXPECT_EQ(Received(second.client), TextFrame("2")) << "joined the open window: waited 2 ms";
  EXPECT_EQ(coalescer.windows(), 1U);
}

TEST_F(WriteCoalescerTest, AFrameAfterAWindowEndedWaitsForTheNextOne) {
  WriteCoalescer coalescer(io_.get_executor(), milliseconds(10), timers_);
  Connection connection = Connect(&coalescer);
  Write(*connection.server, "a");
  timers_.Advance(milliseconds(10));
  Run();
  ASSERT_EQ(Received(connection.client), TextFrame("a"));
  Write(*connection.server, "b");
  timers_.Advance(milliseconds(9));
  Run();
  EXPECT_EQ(Received(connection.client), "");
  timers_.Advance(milliseconds(1));
  Run();
  EXPECT_EQ(Received(connection.client), TextFrame("b"));
  EXPECT_EQ(coalescer.windows(), 2U);
}

TEST_F(WriteCoalescerTest, CloseWaitsBehindTheQueuedFrames) {
  WriteCoalescer coalescer(io_.get_executor(), milliseconds(10), timers_);
  Connection connection = Connect(&coalescer);
  Write(*connection.server, "last");
  connection.server->Close();
  Run();
  EXPECT_EQ(Received(connection.client), "");
  timers_.Advance(milliseconds(10));
  Run();
  // The frame, then a close frame with code 1000.
  EXPECT_EQ(Received(connection.client), TextFrame("last") + std::string("\x88\x02\x03\xe8", 4));
}

TEST_F(WriteCoalescerTest, StopWritesTheOpenWindowAndHoldsNothingAfter) {
  WriteCoalescer coalescer(io_.get_executor(), milliseconds(10), timers_);
  Connection connection = Connect(&coalescer);
  Write(*connection.server, "a");
  Run();
  ASSERT_EQ(Received(connection.client), "");
  coalescer.Stop();
  EXPECT_EQ(Received(connection.client), TextFrame("a"));
  Write(*connection.server, "b");
  Run();
  EXPECT_EQ(Received(connection.client), TextFrame("b")) << "no window after Stop";
  timers_.Advance(milliseconds(10));
  Run();
  EXPECT_EQ(Received(connection.client), "");
  EXPECT_EQ(coalescer.windows(), 1U) << "only Stop's: frame b never went through the coalescer";
}

}  // namespace
}  // namespace roomq::gateway::engineio
