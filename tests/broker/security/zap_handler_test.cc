#include "broker/security/zap_handler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "broker/security/curve_server.h"
#include "proto/node/curve.h"
#include "proto/node/curve_socket.h"
#include "tests/support/wait_until.h"

namespace roomq::broker::security {
namespace {

using std::chrono::milliseconds;

using test_support::WaitUntil;

// A CURVE ROUTER (as the broker's) guarded by a ZapHandler, and DEALERs
// that try to reach it.
class ZapHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = node::GenerateCurveKeyPair();
    auto allowed = node::GenerateCurveKeyPair();
    ASSERT_TRUE(server.ok() && allowed.ok());
    server_ = *server;
    allowed_ = *allowed;
    auto zap = ZapHandler::Start(context_, {allowed_.public_key}, {"test"});
    ASSERT_TRUE(zap.ok()) << zap.status();
    zap_ = *std::move(zap);
    router_ = zmq::socket_t(context_, zmq::socket_type::router);
    router_.set(zmq::sockopt::linger, 0);
    ASSERT_TRUE(EnableCurveServer(router_, server_.secret_key, "test").ok());
    router_.bind("tcp://127.0.0.1:*");
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  }

  void TearDown() override {
    dealers_.clear();
    router_.close();
    zap_.reset();
  }

  // Connects a DEALER (CURVE with `curve`, or plain) and sends `text`.
  void SendFrom(const node::CurveClientOptions& curve, const std::string& text) {
    dealers_.emplace_back(context_, zmq::socket_type::dealer);
    zmq::socket_t& dealer = dealers_.back();
    dealer.set(zmq::sockopt::linger, 0);
    ASSERT_TRUE(node::ApplyCurveClient(dealer, curve).ok());
    dealer.connect(endpoint_);
    dealer.send(zmq::buffer(text), zmq::send_flags::dontwait);
  }

  // The payloads the router receives within `timeout`, or as soon as it
  // has `enough` of them.
  std::vector<std::string> Received(milliseconds timeout, size_t enough = SIZE_MAX) {
    std::vector<std::string> payloads;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (payloads.size() < enough && std::chrono::steady_clock::now() < deadline) {
      zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, milliseconds(10));
      zmq::message_t identity, body;
      while (router_.recv(identity, zmq::recv_flags::dontwait)) {
        (void)router_.recv(body);
        payloads.push_back(body.to_string());
      }
    }
    return payloads;
  }

  node::CurveClientOptions As(const node::CurveKeyPair& pair) const {
    return node::CurveClientOptions{server_.public_key, pair};
  }

  zmq::context_t context_;
  node::CurveKeyPair server_;
  node::CurveKeyPair allowed_;
  std::unique_ptr<ZapHandler> zap_;
  zmq::socket_t router_;
  std::string endpoint_;
  std::vector<zmq::socket_t> dealers_;
};

TEST_F(ZapHandlerTest, AdmitsOnlyListedKeys) {
  auto stranger = node::GenerateCurveKeyPair();
  ASSERT_TRUE(stranger.ok());
  SendFrom(As(*stranger), "from-stranger");
  ASSERT_TRUE(WaitUntil([&] { return zap_->refused() >= 1; }));
  SendFrom(As(allowed_), "from-allowed");
  // The CURVE handshake and the ZAP round trip take a while under ASan on a
  // loaded machine: wait for the message, then a little longer for anything
  // that should not be there.
  std::vector<std::string> received = Received(milliseconds(5000), 1);
  for (std::string& late : Received(milliseconds(200))) received.push_back(std::move(late));
  EXPECT_EQ(received, std::vector<std::string>{"from-allowed"});
  EXPECT_EQ(zap_->accepted(), 1u);
  EXPECT_EQ(zap_->handshake_failed(), 0u);
}

TEST_F(ZapHandlerTest, CountsPeersThatFailBeforeZap) {
  SendFrom(node::CurveClientOptions{}, "plain");  // no CURVE: mechanism mismatch
  auto wrong_server = node::GenerateCurveKeyPair();
  ASSERT_TRUE(wrong_server.ok());
  // An allowed client key but the wrong server key: the handshake cannot
  // be decrypted.
  SendFrom(node::CurveClientOptions{wrong_server->public_key, allowed_}, "wrong-server");
  ASSERT_TRUE(WaitUntil([&] { return zap_->handshake_failed() >= 2; }));
  EXPECT_TRUE(Received(milliseconds(200)).empty());
  EXPECT_EQ(zap_->accepted(), 0u);
}

TEST_F(ZapHandlerTest, FailsClosedWhenTheHandlerIsStopped) {
  zap_.reset();
  SendFrom(As(allowed_), "after-stop");
  // Nothing can arrive; a bounded wait for what must not happen.
  EXPECT_TRUE(Received(milliseconds(1000)).empty()) << "a listed key got in without a handler";
}

TEST_F(ZapHandlerTest, OnePerContextAndValidatedKeys) {
  auto second = ZapHandler::Start(context_, {allowed_.public_key}, {});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kInternal) << second.status();
  zmq::context_t other;
  EXPECT_EQ(ZapHandler::Start(other, {}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ZapHandler::Start(other, {"not-a-key"}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  zmq::socket_t socket(other, zmq::socket_type::router);
  EXPECT_EQ(EnableCurveServer(socket, "short", "x").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace roomq::broker::security
