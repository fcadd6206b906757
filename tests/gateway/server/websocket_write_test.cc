// The gateway's own WebSocket write path (gateway/engineio/websocket_transport.h),
// seen from a raw client that parses every server frame itself: a burst
// queued in one turn arrives complete and in order (it is written as one
// gather write), frames over 64 KiB carry the 8-byte length, a client ping
// sent mid-burst is answered with an intact pong between whole frames, and
// both close handshakes end cleanly.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/gateway/server/test_gateway.h"

namespace roomq::gateway::server::testing {
namespace {

struct Frame {
  uint8_t opcode = 0;
  bool fin = false;
  std::string payload;
};

// A raw client: hand-made handshake, masked frames out, server frames parsed
// strictly (no mask, no RSV bits, minimal length encoding).
class FrameClient : public RawWebSocketConnection {
 public:
  bool Open(uint16_t port) {
    if (!Handshake(port)) return false;
    Frame open;
    if (!Next(&open) || open.payload.compare(0, 8, "0{\"sid\":") != 0) return false;
    sid_ = SidFromOpen(open.payload);
    return true;
  }
  bool SendFrame(uint8_t first_byte, const std::string& payload) {
    return Send(MaskedClientFrame(first_byte, payload));
  }
  // The next server frame; false (with error() set) when none arrives.
  bool Next(Frame* frame) {
    for (;;) {
      int parsed = TryParse(frame);
      if (parsed > 0) return true;
      if (parsed < 0) return false;
      if (beast::error_code ec = ReadSome()) {
        error_ = ec;
        return false;
      }
    }
  }
  // True when the server closes the TCP connection (EOF) with nothing
  // more than `expected_rest` pending.
  bool ReadUntilEof() {
    for (;;) {
      beast::error_code ec = ReadSome();
      if (ec == boost::asio::error::eof) return true;
      if (ec) return false;
    }
  }
  const std::string& sid() const { return sid_; }
  const std::string& malformed() const { return malformed_; }

 private:
  // 1: a frame; 0: incomplete; -1: malformed.
  int TryParse(Frame* frame) {
    if (buffer().size() < 2) return 0;
    const auto b0 = static_cast<uint8_t>(buffer()[0]);
    const auto b1 = static_cast<uint8_t>(buffer()[1]);
    if ((b0 & 0x70) != 0 || (b1 & 0x80) != 0) {
      malformed_ = "RSV bits or mask from the server";
      return -1;
    }
    uint64_t length = b1 & 0x7F;
    size_t header = 2;
    if (length == 126) {
      if (buffer().size() < 4) return 0;
      length = (static_cast<uint8_t>(buffer()[2]) << 8) | static_cast<uint8_t>(buffer()[3]);
      header = 4;
      if (length < 126) malformed_ = "non-minimal 16-bit length";
    } else if (length == 127) {
      if (buffer().size() < 10) return 0;
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | static_cast<uint8_t>(buffer()[2 + i]);
      header = 10;
      if (length <= 0xFFFF) malformed_ = "non-minimal 64-bit length";
    }
    if (buffer().size() < header + length) return 0;
    frame->fin = (b0 & 0x80) != 0;
    frame->opcode = b0 & 0x0F;
    frame->payload = buffer().substr(header, length);
    buffer().erase(0, header + length);
    return 1;
  }

  std::string sid_;
  std::string malformed_;
  beast::error_code error_;
};

TEST(WebSocketWrite, BurstWithPingInsideArrivesWholeAndInOrder) {
  TestGateway gateway;
  FrameClient client;
  ASSERT_TRUE(client.Open(gateway.port()));
  // The burst (500 messages queued in one turn) and a ping right behind it.
  ASSERT_TRUE(client.SendFrame(0x81, "4burst:500"));
  ASSERT_TRUE(client.SendFrame(0x89, "are-you-there"));
  int next = 0;
  bool ponged = false;
  while (next < 500 || !ponged) {
    Frame frame;
    ASSERT_TRUE(client.Next(&frame)) << "after " << next << " messages; " << client.malformed();
    ASSERT_TRUE(frame.fin);
    if (frame.opcode == 0xA) {
      EXPECT_FALSE(ponged);
      EXPECT_EQ(frame.payload, "are-you-there");
      ponged = true;
      continue;
    }
    ASSERT_EQ(frame.opcode, 0x1);
    if (frame.payload == "2") continue;  // Engine.IO ping
    ASSERT_EQ(frame.payload, "4m" + std::to_string(next));
    ++next;
  }
  EXPECT_TRUE(client.malformed().empty()) << client.malformed();
}

TEST(WebSocketWrite, LargeFramesUseEveryLengthEncoding) {
  GatewayServerOptions options = TestGateway::DefaultOptions();
  options.engine.max_outbound_bytes = 4 << 20;
  TestGateway gateway(options);
  FrameClient client;
  ASSERT_TRUE(client.Open(gateway.port()));
  // 125 and 126 bytes of frame payload (type byte included), 64 KiB - 1,
  // 64 KiB, and 1.5 MiB (written over many sendmsg calls).
  for (size_t bytes : {size_t{124}, size_t{125}, size_t{65534}, size_t{65535}, size_t{1572864}}) {
    ASSERT_TRUE(client.SendFrame(0x81, "4flood:1:" + std::to_string(bytes)));
    Frame frame;
    do {
      ASSERT_TRUE(client.Next(&frame)) << bytes;
    } while (frame.payload == "2");
    EXPECT_EQ(frame.opcode, 0x1);
    EXPECT_EQ(frame.payload.size(), bytes + 1) << bytes;
    EXPECT_EQ(frame.payload.find_first_not_of('x', 1), std::string::npos);
  }
  EXPECT_TRUE(client.malformed().empty()) << client.malformed();
}

TEST(WebSocketWrite, ClientInitiatedCloseIsEchoedAndTheServerCloses) {
  TestGateway gateway;
  FrameClient client;
  ASSERT_TRUE(client.Open(gateway.port()));
  ASSERT_TRUE(client.SendFrame(0x88, std::string("\x0f\xa0", 2) + "bye"));  // 4000 + reason
  Frame frame;
  do {
    ASSERT_TRUE(client.Next(&frame));
  } while (frame.opcode != 0x8);
  EXPECT_EQ(frame.payload, std::string("\x0f\xa0", 2));
  EXPECT_TRUE(client.ReadUntilEof());
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(client.sid(), &reason));
  EXPECT_EQ(reason, "transport close");
}

TEST(WebSocketWrite, ServerCloseFlushesTheQueueThenClosesAfterThePeersClose) {
  TestGateway gateway;
  FrameClient client;
  ASSERT_TRUE(client.Open(gateway.port()));
  // The burst and the Engine.IO close packet are queued in the same turn.
  ASSERT_TRUE(client.SendFrame(0x81, "4burst:50"));
  ASSERT_TRUE(client.SendFrame(0x81, "4close"));
  int messages = 0;
  bool eio_close = false;
  Frame frame;
  for (;;) {
    ASSERT_TRUE(client.Next(&frame));
    if (frame.opcode == 0x8) break;
    if (frame.payload == "1") eio_close = true;
    if (frame.payload.compare(0, 2, "4m") == 0) {
      EXPECT_FALSE(eio_close) << "message after the close packet";
      ++messages;
    }
  }
  EXPECT_EQ(messages, 50);
  EXPECT_TRUE(eio_close);
  EXPECT_EQ(frame.payload, std::string("\x03\xe8", 2));
  // The server half-closed after its close frame; it closes the socket once
  // ours arrives.
  ASSERT_TRUE(client.SendFrame(0x88, std::string("\x03\xe8", 2)));
  EXPECT_TRUE(client.ReadUntilEof());
  std::string reason;
  ASSERT_TRUE(gateway.recorder().WaitClosed(client.sid(), &reason));
  EXPECT_EQ(reason, "forced close");
}

}  // namespace
}  // namespace roomq::gateway::server::testing
