// RFC 6455 framing without sockets: accept key, server headers at every
// length class, the client-frame parser's acceptance and rejections, and the
// client side (masked frames, server-frame parser, upgrade request).

#include "proto/websocket/ws_frame.h"

#include <gtest/gtest.h>

#include <string>

namespace roomq::websocket {
namespace {

// A client frame with the whole first byte as given, masked with RFC 6455's
// example key (the client side's own encoder: WsClientSide.MaskedFrameOfRfcExample
// pins its bytes).
std::string Masked(uint8_t first_byte, const std::string& payload) {
  std::string frame;
  AppendMaskedFrame(frame, first_byte, payload, 0x37fa213d);
  return frame;
}

// Parses all of `bytes`; returns the events (messages as "T:data"/"B:data",
// "ping:data", "pong", "close:code", "error:close code").
std::vector<std::string> ParseAll(WsFrameParser& parser, std::string bytes) {
  std::vector<std::string> out;
  size_t used = 0;
  while (used < bytes.size()) {
    WsEvent event;
    size_t n = parser.Next(bytes.data() + used, bytes.size() - used, &event);
    switch (event.kind) {
      case WsEvent::Kind::kMessage:
        out.push_back((event.binary ? "B:" : "T:") + std::string(event.data));
        break;
      case WsEvent::Kind::kPing:
        out.push_back("ping:" + std::string(event.data));
        break;
      case WsEvent::Kind::kPong:
        out.push_back("pong");
        break;
      case WsEvent::Kind::kClose:
        out.push_back("close:" + std::to_string(event.close_code));
        break;
      case WsEvent::Kind::kError:
        out.push_back("error:" + std::to_string(event.close_code));
        return out;
      case WsEvent::Kind::kNone:
        break;
    }
    if (n == 0) {
      out.push_back("incomplete");
      return out;
    }
    used += n;
  }
  return out;
}

TEST(WsFrame, AcceptKeyOfRfcExample) {
  EXPECT_EQ(WsAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_TRUE(IsValidWsKey("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_FALSE(IsValidWsKey(""));
  EXPECT_FALSE(IsValidWsKey("dGhlIHNhbXBsZSBub25jZQ="));
  EXPECT_FALSE(IsValidWsKey("dGhlIHNhbXBsZSBub25jZ!=="));
}

TEST(WsFrame, ServerHeadersAtEveryLengthClass) {
  char head[kWsMaxServerHeader];
  ASSERT_EQ(EncodeWsHeader(kWsOpText, 125, head), 2u);
  EXPECT_EQ(static_cast<uint8_t>(head[0]), 0x81);
  EXPECT_EQ(static_cast<uint8_t>(head[1]), 125);
  ASSERT_EQ(EncodeWsHeader(kWsOpBinary, 126, head), 4u);
  EXPECT_EQ(static_cast<uint8_t>(head[0]), 0x82);
  EXPECT_EQ(static_cast<uint8_t>(head[1]), 126);
  EXPECT_EQ(static_cast<uint8_t>(head[2]), 0);
  EXPECT_EQ(static_cast<uint8_t>(head[3]), 126);
  ASSERT_EQ(EncodeWsHeader(kWsOpText, 65535, head), 4u);
  ASSERT_EQ(EncodeWsHeader(kWsOpText, 65536, head), 10u);
  EXPECT_EQ(static_cast<uint8_t>(head[1]), 127);
  EXPECT_EQ(static_cast<uint8_t>(head[7]), 1);  // 0x00 00 00 00 00 01 00 00
  EXPECT_EQ(static_cast<uint8_t>(head[8]), 0);
  EXPECT_EQ(EncodeWsClose(1000), std::string("\x88\x02\x03\xe8", 4));
}

TEST(WsFrame, ParsesMessagesControlFramesAndFragments) {
  WsFrameParser parser(1 << 20);
  std::string big(70000, 'x');
  auto events = ParseAll(parser, Masked(0x81, "4hello") + Masked(0x82, std::string("\x00\x01", 2)) +
                                     Masked(0x89, "p") + Masked(0x8A, "") + Masked(0x01, "4fr") +
                                     Masked(0x89, "mid") + Masked(0x00, "ag") +
                                     Masked(0x80, "ment") + Masked(0x81, big) +
                                     Masked(0x88,
                                            "\x03\xe8"
                                            "bye"));
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[0], "T:4hello");
  EXPECT_EQ(events[1], std::string("B:\x00\x01", 4));
  EXPECT_EQ(events[2], "ping:p");
  EXPECT_EQ(events[3], "pong");
  EXPECT_EQ(events[4], "ping:mid");  // a control frame between fragments
  EXPECT_EQ(events[5], "T:4fragment");
  EXPECT_EQ(events[6], "T:" + big);
  EXPECT_EQ(events[7], "close:1000");
}

TEST(WsFrame, IncompleteFramesWaitForMoreBytes) {
  const std::string frame = Masked(0x81, std::string(300, 'a'));
  for (size_t cut : {size_t{0}, size_t{1}, size_t{3}, size_t{7}, frame.size() - 1}) {
    WsFrameParser parser(1 << 20);
    std::string part = frame.substr(0, cut);
    WsEvent event;
    EXPECT_EQ(parser.Next(part.data(), part.size(), &event), 0u) << cut;
    EXPECT_EQ(event.kind, WsEvent::Kind::kNone) << cut;
  }
}

TEST(WsFrame, CloseWithoutCodeIs1005) {
  WsFrameParser parser(100);
  EXPECT_EQ(ParseAll(parser, Masked(0x88, "")), std::vector<std::string>{"close:1005"});
}

TEST(WsFrame, Rejections) {
  struct Case {
    std::string bytes;
    std::string expected;
  };
  const Case cases[] = {
      {std::string("\x81\x02"
                   "4x"),
       "error:1002"},                                         // unmasked
      {Masked(0xC1, "4x"), "error:1002"},                     // RSV1 (no deflate)
      {Masked(0x83, "4x"), "error:1002"},                     // opcode 3
      {Masked(0x8B, "4x"), "error:1002"},                     // opcode 0xB
      {Masked(0x80, "4x"), "error:1002"},                     // stray continuation
      {Masked(0x01, "4") + Masked(0x81, "x"), "error:1002"},  // new message mid-way
      {Masked(0x09, "p"), "error:1002"},                      // fragmented ping
      {Masked(0x89, std::string(126, 'p')), "error:1002"},    // long ping
      {Masked(0x88, "\x03"), "error:1002"},                   // 1-byte close
      {Masked(0x88, "\x03\xed"), "error:1002"},               // close code 1005
      {Masked(0x88, "\x03\xe8\xff"), "error:1007"},           // close reason
      {Masked(0x81, "4\xff"), "error:1007"},
      {Masked(0x81, "4\xed\xa0\x80"), "error:1007"},  // surrogate
      {Masked(0x01, "4\xc3") + Masked(0x80, "x"), "error:1007"},
      {Masked(0x81, std::string(101, 'a')), "error:1009"},
      {Masked(0x01, std::string(60, 'a')) + Masked(0x80, std::string(41, 'a')), "error:1009"},
  };
  for (const Case& c : cases) {
    WsFrameParser parser(100);
    auto events = ParseAll(parser, c.bytes);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back(), c.expected) << testing::PrintToString(c.bytes);
  }
  // Binary frames are not checked for UTF-8; 100 bytes is at the bound.
  WsFrameParser parser(100);
  EXPECT_EQ(ParseAll(parser, Masked(0x82, "\xff")), std::vector<std::string>{"B:\xff"});
  EXPECT_EQ(ParseAll(parser, Masked(0x81, std::string(100, 'a')))[0], "T:" + std::string(100, 'a'));
}

TEST(WsFrame, OversizedLengthIsRefusedBeforeThePayloadArrives) {
  WsFrameParser parser(1000);
  std::string header("\x81\xff\x00\x00\x00\x01\x00\x00\x00\x00", 10);  // 4 GiB, no mask key yet
  WsEvent event;
  EXPECT_EQ(parser.Next(header.data(), header.size(), &event), 0u);
  EXPECT_EQ(event.kind, WsEvent::Kind::kError);
  EXPECT_EQ(event.close_code, kWsCloseTooBig);
}

// What the server side reads from one client frame.
std::string ServerReads(std::string frame) {
  WsFrameParser parser(1 << 20);
  WsEvent event;
  EXPECT_EQ(parser.Next(frame.data(), frame.size(), &event), frame.size());
  EXPECT_EQ(event.kind, WsEvent::Kind::kMessage);
  return std::string(event.data);
}

// RFC 6455 5.7: a single-frame masked text message "Hello".
TEST(WsClientSide, MaskedFrameOfRfcExample) {
  std::string frame;
  AppendClientFrame(frame, kWsOpText, "Hello", 0x37fa213d);
  EXPECT_EQ(frame, std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));
}

TEST(WsClientSide, ClientFramesAreMaskedWithTheRightLength) {
  for (size_t n : {0u, 5u, 125u, 126u, 65535u, 65536u}) {
    const std::string payload(n, 'a');
    std::string frame;
    AppendClientFrame(frame, kWsOpText, payload, 0x01020304);
    const size_t header = (n < 126 ? 2 : n <= 65535 ? 4 : 10) + 4;
    ASSERT_EQ(frame.size(), header + n) << n;
    EXPECT_EQ(static_cast<uint8_t>(frame[0]), 0x81);
    EXPECT_EQ(static_cast<uint8_t>(frame[1]) & 0x80, 0x80);
    EXPECT_EQ(ServerReads(frame), payload);
  }
}

TEST(WsClientSide, ParsesServerFramesAndWaitsForMore) {
  std::string wire = std::string("\x81\x02", 2) + "42";
  wire += std::string("\x89\x00", 2);
  ServerFrame frame;
  ASSERT_EQ(ParseServerFrame(wire, 1 << 20, &frame), 4);
  EXPECT_TRUE(frame.fin);
  EXPECT_EQ(frame.opcode, kWsOpText);
  EXPECT_EQ(frame.payload, "42");
  ASSERT_EQ(ParseServerFrame(std::string_view(wire).substr(4), 1 << 20, &frame), 2);
  EXPECT_EQ(frame.opcode, kWsOpPing);
  EXPECT_EQ(ParseServerFrame(std::string_view(wire).substr(0, 3), 1 << 20, &frame), 0);

  std::string big = std::string("\x81\x7e\x01\x00", 4) + std::string(256, 'x');
  ASSERT_EQ(ParseServerFrame(big, 1 << 20, &frame), 260);
  EXPECT_EQ(frame.payload.size(), 256u);
  EXPECT_EQ(ParseServerFrame(big, 100, &frame), -1);  // too large
  EXPECT_EQ(ParseServerFrame(std::string("\x81\x82\0\0\0\0ab", 8), 1 << 20, &frame), -1);  // masked
}

TEST(WsClientSide, UpgradeResponse) {
  bool switched = false;
  EXPECT_EQ(ParseUpgradeResponse("HTTP/1.1 101 Switching", &switched), 0u);
  const std::string ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
  EXPECT_EQ(ParseUpgradeResponse(ok + "\x81", &switched), ok.size());
  EXPECT_TRUE(switched);
  const std::string no = "HTTP/1.1 400 Bad Request\r\n\r\n";
  EXPECT_EQ(ParseUpgradeResponse(no, &switched), no.size());
  EXPECT_FALSE(switched);
  const std::string req = UpgradeRequest("127.0.0.1:80", "/socket.io/?EIO=4&transport=websocket");
  EXPECT_EQ(req.rfind("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(req.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
}

}  // namespace
}  // namespace roomq::websocket
