// /metrics of the Socket.IO layer: every counter and gauge of a shard
// snapshot moves with what it counts, and the Prometheus text carries it.

#include "gateway/socketio/metrics.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "gateway/socketio/config.h"
#include "gateway/socketio/connection.h"
#include "gateway/socketio/shard.h"
#include "tests/gateway/socketio/fakes.h"

namespace roomq::gateway::socketio {
namespace {

using testing::FakePort;
using testing::FakeSession;

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = ParseConfig("namespaces:\n  - name: /\n    relay: broadcast\n  - name: /b\n");
    ASSERT_TRUE(config.ok()) << config.status();
    shard_ = std::make_shared<Shard>(0, io_.get_executor(), std::make_shared<const Config>(*config),
                                     port_);
  }
  struct Client {
    std::unique_ptr<FakeSession> session;
    std::unique_ptr<Connection> connection;
  };
  Client NewClient(ConnectionOptions options = {}) {
    Client client;
    client.session = std::make_unique<FakeSession>(io_, "eio" + std::to_string(++count_));
    client.connection = std::make_unique<Connection>(*client.session, shard_, options);
    return client;
  }
  void Send(Client& client, std::string_view text) {
    client.connection->OnMessage(text, false);
    port_->ConfirmAll();
    io_.restart();
    io_.poll();
  }

  boost::asio::io_context io_;
  std::shared_ptr<FakePort> port_ = std::make_shared<FakePort>(io_);
  std::shared_ptr<Shard> shard_;
  int count_ = 0;
};

TEST_F(MetricsTest, ClosedLabelSetsAreExportedAtZero) {
  const std::string page = FormatPrometheus(ShardSnapshot(*shard_));
  for (const char* series : {"roomq_gateway_auth_refusals_total{reason=\"missing token\"} 0\n",
                             "roomq_gateway_auth_refusals_total{reason=\"invalid issuer\"} 0\n",
                             "roomq_gateway_middleware_total{outcome=\"admitted\"} 0\n",
                             "roomq_gateway_middleware_total{outcome=\"data_too_large\"} 0\n",
                             "roomq_gateway_socket_log_lines_at_debug_total 0\n"}) {
    EXPECT_NE(page.find(series), std::string::npos) << series << page;
  }
}

TEST_F(MetricsTest, GaugesFollowSessionsSocketsAndRooms) {
  EXPECT_EQ(ShardSnapshot(*shard_).sessions, 0u);
  Client a = NewClient();
  Client b = NewClient();
  Send(a, "0");
  Send(b, "0");
  Send(b, "0/b,");
  Send(a, R"(2["join","x"])");
  MetricsSnapshot s = ShardSnapshot(*shard_);
  EXPECT_EQ(s.sessions, 2u);
  EXPECT_EQ((s.sockets[{"/", "websocket"}]), 2u);
  EXPECT_EQ((s.sockets[{"/b", "websocket"}]), 1u);
  // "/" namespace room, "/b" namespace room, 3 own rooms, "x".
  EXPECT_EQ(s.rooms, 6u);
  EXPECT_EQ(s.subscriptions, 6u);
  b.connection.reset();
  b.session.reset();
  s = ShardSnapshot(*shard_);
  EXPECT_EQ(s.sessions, 1u);
  EXPECT_EQ((s.sockets[{"/", "websocket"}]), 1u);
  EXPECT_EQ(s.sockets.count({"/b", "websocket"}), 0u);
}

TEST_F(MetricsTest, CountersFollowTrafficDropsAndDisconnects) {
  ConnectionOptions options;
  options.message_rate = 0.001;
  options.message_burst = 2;
  options.max_namespaces = 1;
  Client a = NewClient(options);
  Send(a, "0");                  // in: 1 message, 1 byte; out: the CONNECT answer
  Send(a, R"(21["join","x"])");  // in; out: the ack
  Send(a, R"(2["chat",1])");     // in; relayed, nothing out
  Send(a, R"(2["chat",2])");     // in; over the rate: dropped
  Send(a, "0/b,");               // in; over max_namespaces: CONNECT_ERROR out
  MetricsSnapshot s = ShardSnapshot(*shard_);
  EXPECT_EQ(s.messages_in, 5u);
  EXPECT_EQ(s.bytes_in, 1u + 14u + 11u + 11u + 4u);
  EXPECT_EQ(s.messages_out, 3u);
  EXPECT_GT(s.bytes_out, 30u);
  EXPECT_EQ(s.drops["rate_limited"], 1u);
  EXPECT_EQ(s.refusals["max_namespaces"], 1u);
  EXPECT_EQ(s.protocol_errors, 0u);
  Send(a, "1");  // DISCONNECT from the client
  Client b = NewClient();
  Send(b, R"(2["x"])");  // an event before CONNECT: protocol error
  a.session->Close();
  s = ShardSnapshot(*shard_);
  EXPECT_EQ(s.disconnects["client namespace disconnect"], 1u);
  EXPECT_EQ(s.protocol_errors, 1u);
  // A send the session refuses (it closed) is a drop too.
  Client c = NewClient();
  Send(c, "0");
  c.session->Close();
  Send(c, R"(21["join","y"])");
  s = ShardSnapshot(*shard_);
  EXPECT_EQ(s.drops["closed"], 1u);
}

TEST(MetricsFormatTest, PrometheusTextHasEveryMetric) {
  MetricsSnapshot s;
  s.engine_sessions = 3;
  s.sessions = 2;
  s.sockets[{"/chat", "polling"}] = 4;
  s.sockets[{"/a\"b", "websocket"}] = 1;
  s.rooms = 7;
  s.messages_in = 11;
  s.bytes_out = 99;
  s.drops["outbound_full"] = 5;
  s.refusals["max_connections"] = 6;
  s.disconnects["ping timeout"] = 8;
  s.queued_bytes = 123;
  s.max_queued_bytes = 100;
  s.broker_connected = true;
  s.bridge.publishes_refused = 9;
  const std::string text = FormatPrometheus(s);
  for (const char* line : {
           "roomq_gateway_engine_sessions 3\n",
           "roomq_gateway_sessions 2\n",
           "roomq_gateway_sockets{namespace=\"/chat\",transport=\"polling\"} 4\n",
           "roomq_gateway_sockets{namespace=\"/a\\\"b\",transport=\"websocket\"} 1\n",
           "roomq_gateway_rooms 7\n",
           "roomq_gateway_messages_in_total 11\n",
           "roomq_gateway_bytes_out_total 99\n",
           "roomq_gateway_drops_total{reason=\"outbound_full\"} 5\n",
           "roomq_gateway_refusals_total{limit=\"max_connections\"} 6\n",
           "roomq_gateway_disconnects_total{reason=\"ping timeout\"} 8\n",
           "roomq_gateway_outbound_queued_bytes 123\n",
           "roomq_gateway_outbound_queued_bytes_max 100\n",
           "roomq_gateway_broker_connected 1\n",
           "roomq_gateway_bridge_publishes_refused_total 9\n",
           "# TYPE roomq_gateway_messages_in_total counter\n",
           "# TYPE roomq_gateway_sockets gauge\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
  }
}

TEST(MetricsFormatTest, MergeSumsCountersAndKeepsTheLargestQueue) {
  MetricsSnapshot a, b;
  a.messages_in = 1;
  a.max_queued_bytes = 10;
  a.sockets[{"/", "polling"}] = 1;
  a.disconnects["x"] = 1;
  b.messages_in = 2;
  b.max_queued_bytes = 30;
  b.sockets[{"/", "polling"}] = 2;
  b.disconnects["x"] = 3;
  a.Merge(b);
  EXPECT_EQ(a.messages_in, 3u);
  EXPECT_EQ(a.max_queued_bytes, 30u);
  EXPECT_EQ((a.sockets[{"/", "polling"}]), 3u);
  EXPECT_EQ(a.disconnects["x"], 4u);
}

}  // namespace
}  // namespace roomq::gateway::socketio
