// Dynamic namespaces (config patterns, namespace_registry.h) through the
// Connection and the Shard: created only for an admitted CONNECT, freed
// with their broker subscriptions when their last socket is gone, bounded
// per shard (ShardOptions::max_dynamic_namespaces) with a counter, and
// refused CONNECTs logged by the client-log policy (engineio/client_log.h),
// bounded and escaped. "Attack 5": a flood of CONNECTs to distinct
// pattern names must neither fill the registry nor the log.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "gateway/engineio/timer_service.h"
#include "gateway/socketio/config.h"
#include "gateway/socketio/connection.h"
#include "gateway/socketio/metrics.h"
#include "gateway/socketio/shard.h"
#include "proto/base/clock.h"
#include "tests/gateway/socketio/fakes.h"
#include "tests/support/log_capture.h"

namespace roomq::gateway::socketio {
namespace {

using roomq::testing::LogCapture;
using testing::FakePort;
using testing::FakeSession;

constexpr char kConfig[] = R"(
namespaces:
  - name: /
    relay: broadcast
  - pattern: '^/t-[\w-]+$'
    relay: broadcast
  - pattern: '^/s-[\w-]+$'
    relay: broadcast
    auth:
      type: jwt
      secret_env: ROOMQ_NAMESPACE_LIFECYCLE_TEST_UNUSED
)";

struct Client {
  std::unique_ptr<FakeSession> session;
  std::unique_ptr<Connection> connection;
  void Send(std::string_view text) { connection->OnMessage(text, false); }
  std::vector<std::string> Take() { return session->TakeSent(); }
};

class NamespaceLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeShard(ShardOptions{}); }

  void MakeShard(ShardOptions options) {
    options.timers = &timers_;
    auto config = ParseConfig(kConfig);
    ASSERT_TRUE(config.ok()) << config.status();
    config->namespaces[2].auth.secret = "not used: no CONNECT here carries a token";
    shard_ = std::make_shared<Shard>(0, io_.get_executor(), std::make_shared<const Config>(*config),
                                     port_, options);
  }
  Client NewClient() {
    Client client;
    client.session = std::make_unique<FakeSession>(io_, "eio" + std::to_string(++sessions_));
    ConnectionOptions options;
    options.clock = &clock_;
    options.timers = &timers_;
    // Thousands of CONNECTs in one session: what they leave behind is the
    // point here, not the session's CONNECT rate (limits_test.cc).
    options.message_rate = 0;
    client.connection = std::make_unique<Connection>(*client.session, shard_, options);
    return client;
  }
  void Run() {
    port_->ConfirmAll();
    io_.restart();
    io_.poll();
  }
  // CONNECTs `client` to `nsp` and returns the answer.
  std::string Connect(Client& client, const std::string& nsp) {
    client.Send(nsp == "/" ? "0" : "0" + nsp + ",");
    Run();
    std::vector<std::string> sent = client.Take();
    return sent.size() == 1 ? sent[0] : "(" + std::to_string(sent.size()) + " answers)";
  }
  static bool Admitted(const std::string& answer, const std::string& nsp) {
    return answer.rfind(nsp == "/" ? "0{\"sid\":" : "0" + nsp + ",{\"sid\":", 0) == 0;
  }
  size_t Count(const std::vector<std::string>& keys, const std::string& key) const {
    return std::count(keys.begin(), keys.end(), key);
  }

  base::FakeClock clock_;
  engineio::FakeTimerService timers_{clock_};
  boost::asio::io_context io_;
  std::shared_ptr<FakePort> port_ = std::make_shared<FakePort>(io_);
  std::shared_ptr<Shard> shard_;
  int sessions_ = 0;
};

TEST_F(NamespaceLifecycleTest,
       ADynamicNamespaceIsFreedWithItsSubscriptionsWhenItsLastSocketLeaves) {
  Client a = NewClient();
  Client b = NewClient();
  ASSERT_TRUE(Admitted(Connect(a, "/t-acme"), "/t-acme"));
  ASSERT_TRUE(Admitted(Connect(b, "/t-acme"), "/t-acme"));
  const Namespace* acme = shard_->namespaces().Find("/t-acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(shard_->namespaces().dynamic_count(), 1u);

  // One socket leaves (client DISCONNECT): the other still holds it.
  a.Send("1/t-acme,");
  Run();
  EXPECT_EQ(shard_->namespaces().Find("/t-acme"), acme);
  EXPECT_EQ(Count(port_->unsubscribed(), "/t-acme#"), 0u) << "the namespace room is still used";

  // The last one goes with its transport: the namespace, its namespace
  // room and every own room are gone from the shard and the broker.
  b.connection->OnClose("transport close");
  Run();
  EXPECT_EQ(shard_->namespaces().Find("/t-acme"), nullptr);
  EXPECT_EQ(shard_->namespaces().dynamic_count(), 0u);
  EXPECT_EQ(Count(port_->unsubscribed(), "/t-acme#"), 1u);
  for (const std::string& key : port_->subscribed()) {
    EXPECT_EQ(Count(port_->subscribed(), key), Count(port_->unsubscribed(), key)) << key;
  }
  EXPECT_EQ(shard_->subscription_count(), 0u);
  EXPECT_EQ(shard_->room_count(), 0u);

  // Connecting again makes it anew, with the same policy.
  Client c = NewClient();
  ASSERT_TRUE(Admitted(Connect(c, "/t-acme"), "/t-acme"));
  ASSERT_NE(shard_->namespaces().Find("/t-acme"), nullptr);
  EXPECT_EQ(shard_->namespaces().Find("/t-acme")->policy->relay, RelayPolicy::kBroadcast);
}

TEST_F(NamespaceLifecycleTest, ASessionThatEndsWithoutOnCloseStillFreesItsNamespaces) {
  {
    Client a = NewClient();
    ASSERT_TRUE(Admitted(Connect(a, "/t-x"), "/t-x"));
    ASSERT_TRUE(Admitted(Connect(a, "/t-y"), "/t-y"));
    EXPECT_EQ(shard_->namespaces().dynamic_count(), 2u);
  }  // the Connection is destroyed without OnClose
  EXPECT_EQ(shard_->namespaces().dynamic_count(), 0u);
}

TEST_F(NamespaceLifecycleTest, ASocketGoneBeforeItsConnectWasAnsweredFreesItsNamespace) {
  Client a = NewClient();
  a.Send("0/t-slow,");  // the broker has not confirmed: still connecting
  io_.restart();
  io_.poll();
  EXPECT_EQ(shard_->namespaces().dynamic_count(), 1u);
  a.connection->OnClose("transport close");
  EXPECT_EQ(shard_->namespaces().dynamic_count(), 0u);
  Run();  // a late confirmation finds nothing
  EXPECT_EQ(shard_->namespaces().Find("/t-slow"), nullptr);
}

TEST_F(NamespaceLifecycleTest, RefusedConnectsCreateNoNamespace) {
  Client attacker = NewClient();
  // Refused by the namespace's auth (no token): 12,000 distinct names.
  for (int i = 0; i < 12000; ++i) {
    attacker.Send("0/s-tenant" + std::to_string(i) + ",");
  }
  Run();
  EXPECT_EQ(shard_->namespaces().dynamic_count(), 0u);
  EXPECT_EQ(shard_->namespaces().Find("/s-tenant1"), nullptr);
  EXPECT_EQ(shard_->stats().auth_refusals["missing token"], 12000u);
  std::vector<std::string> sent = attacker.Take();
  ASSERT_EQ(sent.size(), 12000u);
  EXPECT_EQ(sent[0], R"(4/s-tenant0,{"message":"missing token"})");
  EXPECT_FALSE(attacker.session->closed()) << "a refused CONNECT leaves the session";
  EXPECT_TRUE(port_->subscribed().empty());
  // Past the per-session namespace count, nothing is even resolved.
  for (int i = 0; i < 32; ++i) {
    ASSERT_TRUE(Admitted(Connect(attacker, "/t-" + std::to_string(i)), "/t-" + std::to_string(i)));
  }
  for (int i = 32; i < 1000; ++i) attacker.Send("0/t-" + std::to_string(i) + ",");
  Run();
  EXPECT_EQ(shard_->namespaces().dynamic_count(), 32u);
  EXPECT_EQ(shard_->stats().namespaces_refused, 968u);
}

TEST_F(NamespaceLifecycleTest, AtTheBoundAConnectIsRefusedAndCountedUntilANamespaceIsFreed) {
  ShardOptions options;
  options.max_dynamic_namespaces = 3;
  MakeShard(options);
  std::vector<Client> tenants;
  for (int i = 1; i <= 3; ++i) {
    tenants.push_back(NewClient());
    const std::string nsp = "/t-" + std::to_string(i);
    ASSERT_TRUE(Admitted(Connect(tenants.back(), nsp), nsp));
  }
  Client late = NewClient();
  EXPECT_EQ(Connect(late, "/t-4"), R"(4/t-4,{"message":"Too many dynamic namespaces"})");
  EXPECT_FALSE(late.session->closed()) << "the session stays";
  EXPECT_EQ(shard_->stats().dynamic_namespaces_refused, 1u);
  EXPECT_EQ(ShardSnapshot(*shard_).refusals["max_dynamic_namespaces"], 1u);
  EXPECT_EQ(ShardSnapshot(*shard_).dynamic_namespaces, 3u);
  EXPECT_EQ(shard_->namespaces().Find("/t-4"), nullptr);
  // Static namespaces and live dynamic ones are not affected by the bound.
  ASSERT_TRUE(Admitted(Connect(late, "/t-2"), "/t-2"));
  ASSERT_TRUE(Admitted(Connect(late, "/"), "/"));

  // Tenant 1 leaves: its namespace is freed, and the new tenant gets in,
  // on the same session that was refused.
  tenants[0].connection->OnClose("transport close");
  Run();
  EXPECT_EQ(shard_->namespaces().dynamic_count(), 2u);
  ASSERT_TRUE(Admitted(Connect(late, "/t-4"), "/t-4"));
  EXPECT_EQ(shard_->stats().dynamic_namespaces_refused, 1u);
  EXPECT_NE(FormatPrometheus(ShardSnapshot(*shard_))
                .find("roomq_gateway_refusals_total{limit=\"max_dynamic_namespaces\"} 1\n"),
            std::string::npos);
}

TEST_F(NamespaceLifecycleTest, RefusedConnectLogsAreBoundedPerKind) {
  LogCapture log;
  Client attacker = NewClient();
  for (int i = 0; i < 5000; ++i) attacker.Send("0/nope-" + std::to_string(i) + ",");
  for (int i = 0; i < 5000; ++i) attacker.Send("0/s-" + std::to_string(i) + ",");
  Run();
  EXPECT_EQ(shard_->stats().unknown_namespaces, 5000u);
  EXPECT_EQ(shard_->stats().auth_refusals["missing token"], 5000u);
  // Per kind: the first 10 in full, then one per 1000 (the 1000th, ...).
  const std::vector<std::string> unknown = log.Grep("refused: unknown namespace");
  const std::vector<std::string> auth = log.Grep("refused: missing token");
  EXPECT_EQ(unknown.size(), 10u + 5u);
  EXPECT_EQ(auth.size(), 10u + 5u);
  EXPECT_LE(log.Lines().size(), 30u);
  ASSERT_GE(unknown.size(), 11u);
  EXPECT_NE(unknown[9].find("further ones logged once per 1000"), std::string::npos) << unknown[9];
  EXPECT_NE(unknown[10].find("CONNECT to \"/nope-999\" refused"), std::string::npos) << unknown[10];
  EXPECT_NE(unknown[10].find("; 1000 so far"), std::string::npos) << unknown[10];
  EXPECT_NE(unknown[10].find("(suppressed 989 like it since the last)"), std::string::npos)
      << unknown[10];
  EXPECT_NE(unknown[11].find("(suppressed 999 like it since the last)"), std::string::npos)
      << unknown[11];
}

TEST_F(NamespaceLifecycleTest, TheLoggedNamespaceIsCutAndEscaped) {
  LogCapture log;
  Client attacker = NewClient();
  // A CONNECT packet's namespace runs to the first ',': it may hold control
  // bytes, quotes and anything else a client puts there.
  const std::string forged =
      "/x\n2026-01-01 [info] socket connected: \"admin\"" + std::string(300, 'a');
  attacker.Send("0" + forged + ",");
  Run();
  const std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u) << "one line: the newline did not split it";
  EXPECT_NE(lines[0].find(R"("/x\x0a2026-01-01 [info] socket connected: \"admin\"aaaa)"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("...(" + std::to_string(forged.size()) + " bytes)"), std::string::npos)
      << lines[0];
  EXPECT_LT(lines[0].size(), 250u);
}

// Every socket's connected and disconnected lines share the shard's
// --socket-log-rate budget: a flood of connections writes at most that many
// lines a second at info; the rest go to debug, counted for /metrics, and
// the next line at info says how many did. The namespace is quoted.
TEST_F(NamespaceLifecycleTest, SocketLinesStayWithinTheShardsBudget) {
  ShardOptions options;
  options.socket_log_rate = 2;
  MakeShard(options);
  LogCapture log;
  std::vector<Client> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(NewClient());
    ASSERT_TRUE(Admitted(Connect(clients.back(), "/t-acme"), "/t-acme"));
  }
  const std::vector<std::string> connected = log.Grep("socket connected: ");
  ASSERT_EQ(connected.size(), 2u);
  EXPECT_NE(connected[0].find(" ns=\"/t-acme\" transport="), std::string::npos) << connected[0];
  EXPECT_EQ(shard_->socket_lines().at_debug(), 3u);
  EXPECT_NE(FormatPrometheus(ShardSnapshot(*shard_))
                .find("\nroomq_gateway_socket_log_lines_at_debug_total 3\n"),
            std::string::npos);

  timers_.Advance(std::chrono::milliseconds(500));  // one line's worth
  clients[0].Send("1/t-acme,");
  clients[1].Send("1/t-acme,");
  Run();
  const std::vector<std::string> disconnected = log.Grep("socket disconnected: ");
  ASSERT_EQ(disconnected.size(), 1u);
  EXPECT_NE(disconnected[0].find("reason=\"client namespace disconnect\" (3 like it at debug "
                                 "since the last)"),
            std::string::npos)
      << disconnected[0];
  EXPECT_EQ(shard_->socket_lines().at_debug(), 4u);
}

}  // namespace
}  // namespace roomq::gateway::socketio
