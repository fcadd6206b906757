// SIGTERM to the real roomq-gateway binary (with a real broker): it tells
// every client at once and exits 0 as soon as their transports have flushed
// and closed -- long before --shutdown-grace-ms when the clients are idle --
// and no later than the grace (plus slack for a loaded machine) when a
// client does not read. The in-process details: shutdown_test.cc.

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/gateway/server/test_gateway.h"
#include "tests/support/binaries.h"
#include "tests/support/broker_process.h"
#include "tests/support/child_process.h"

namespace roomq::gateway::server::testing {
namespace {

using std::chrono::milliseconds;
using test_support::ChildProcess;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kStartTimeout{10000};

class GatewaySigtermTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = test_support::StartBroker();
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
  }

  // Starts roomq-gateway on a free port with `grace_ms`.
  void StartGateway(int grace_ms) {
    auto gateway = ChildProcess::Start(
        test_support::BinaryPath("roomq-gateway"),
        {"--listen=127.0.0.1:0", "--threads=2", "--broker-pub=" + broker_.pub_endpoint,
         "--broker-sub=" + broker_.sub_endpoint,
         "--shutdown-grace-ms=" + std::to_string(grace_ms)});
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = std::move(*gateway);
    const std::regex listening(R"(roomq-gateway listening on http://127\.0\.0\.1:([0-9]+))");
    auto line = gateway_->WaitForLine(listening, kStartTimeout);
    ASSERT_TRUE(line.ok()) << line.status();
    std::smatch match;
    ASSERT_TRUE(std::regex_search(*line, match, listening));
    port_ = static_cast<uint16_t>(std::stoi(match[1]));
  }

  // SIGTERM; waits (up to `limit`) for the exit and returns how long after
  // the signal it came.
  milliseconds TerminateAndTime(milliseconds limit) {
    const auto signalled = Clock::now();
    EXPECT_TRUE(gateway_->Signal(SIGTERM).ok());
    auto status = gateway_->Wait(signalled + limit);
    const auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - signalled);
    EXPECT_TRUE(status.ok()) << status.status();
    if (status.ok()) {
      EXPECT_TRUE(status->exited_ok()) << status->ToString();
    }
    return elapsed;
  }

  test_support::BrokerProcess broker_;
  std::unique_ptr<ChildProcess> gateway_;
  uint16_t port_ = 0;
};

TEST_F(GatewaySigtermTest, IdleClientsLetItExitLongBeforeTheGrace) {
  ASSERT_NO_FATAL_FAILURE(StartGateway(10000));
  std::vector<std::unique_ptr<ReadUntilClosedClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<ReadUntilClosedClient>());
    ASSERT_TRUE(clients.back()->Open(port_, /*connect_namespace=*/true)) << "client " << i;
  }
  // An idle keep-alive HTTP connection: the gateway closes it rather than
  // waiting out its 60 s idle timeout.
  boost::asio::io_context ioc;
  tcp::socket keep_alive(ioc);
  ASSERT_TRUE(OpenIdleKeepAlive(ioc, keep_alive, port_));

  const milliseconds exited = TerminateAndTime(milliseconds(10000));
  EXPECT_LT(exited.count(), 5000) << "waited for the grace instead of the transports";
  EXPECT_EQ(
      gateway_->CountLines(std::regex("transports flushed and closed [0-9]+ ms after the signal")),
      1);
  for (auto& client : clients) EXPECT_TRUE(client->JoinTold());
  std::printf("# SIGTERM with idle clients, --shutdown-grace-ms=10000: exit 0 after %lld ms\n",
              static_cast<long long>(exited.count()));
}

TEST_F(GatewaySigtermTest, AClientThatDoesNotReadCannotHoldItPastTheGrace) {
  constexpr int kGraceMs = 1500;
  ASSERT_NO_FATAL_FAILURE(StartGateway(kGraceMs));
  ReadUntilClosedClient reading;
  ASSERT_TRUE(reading.Open(port_, /*connect_namespace=*/true));
  // Connects, then never reads again (nor answers the close).
  RawWebSocketConnection stalled;
  ASSERT_TRUE(stalled.Handshake(port_));
  ASSERT_TRUE(stalled.Send(MaskedClientFrame(0x81, "40")));
  while (stalled.buffer().find("40{") == std::string::npos) ASSERT_FALSE(stalled.ReadSome());

  const milliseconds exited = TerminateAndTime(milliseconds(15000));
  EXPECT_GE(exited.count(), kGraceMs) << "left before the stalled transport closed";
  EXPECT_LT(exited.count(), kGraceMs + 4500);
  EXPECT_EQ(
      gateway_->CountLines(std::regex("transports still open after --shutdown-grace-ms=1500")), 1);
  EXPECT_TRUE(reading.JoinTold());
  std::printf(
      "# SIGTERM with a client that does not read, --shutdown-grace-ms=%d: exit 0 after "
      "%lld ms\n",
      kGraceMs, static_cast<long long>(exited.count()));
}

}  // namespace
}  // namespace roomq::gateway::server::testing
