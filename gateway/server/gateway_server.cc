#include "gateway/server/gateway_server.h"

#include <future>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "absl/status/status.h"
#include "gateway/engineio/sid.h"
#include "gateway/server/http_connection.h"

namespace roomq::gateway::server {

namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;

GatewayServer::GatewayServer(GatewayOptions options, IoShards* shards,
                             engineio::SessionListenerFactory* factory)
    : options_(std::move(options)),
      shards_(shards),
      engine_(std::make_unique<engineio::Engine>(options_.engine, shards->executors(), factory)),
      acceptor_(shards->context(0)),
      retry_timer_(shards->context(0)) {}

GatewayServer::~GatewayServer() = default;

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Create(
    GatewayOptions options, IoShards* shards, engineio::SessionListenerFactory* factory) {
  if (shards->size() > engineio::kMaxShards) {
    return absl::InvalidArgumentError("too many io threads");
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    // Host names (e.g. "localhost") are resolved once, here.
    tcp::resolver resolver(shards->context(0));
    auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError("cannot resolve listen host " + options.host);
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, options.port);
  std::unique_ptr<GatewayServer> server(new GatewayServer(std::move(options), shards, factory));
  auto& acceptor = server->acceptor_;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError("cannot listen on " + endpoint.address().to_string() + ":" +
                                  std::to_string(endpoint.port()) + ": " + ec.message());
  }
  server->port_ = acceptor.local_endpoint(ec).port();
  return server;
}

void GatewayServer::Start() {
  asio::post(acceptor_.get_executor(), [this] { DoAccept(); });
}

void GatewayServer::DoAccept() {
  size_t shard = next_shard_;
  next_shard_ = (next_shard_ + 1) % shards_->size();
  acceptor_.async_accept(shards_->context(shard), [this, shard](boost::system::error_code ec,
                                                                tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Typically EMFILE: back off briefly instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec && acceptor_.is_open()) DoAccept();
      });
      return;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto connection =
        std::make_shared<HttpConnection>(std::move(socket), shard, engine_.get(), &options_);
    asio::post(shards_->executor(shard), [connection] { connection->Start(); });
    DoAccept();
  });
}

bool GatewayServer::Shutdown(const std::string& reason, std::chrono::milliseconds bound) {
  std::promise<void> closed_acceptor;
  asio::post(acceptor_.get_executor(), [this, &closed_acceptor] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
    closed_acceptor.set_value();
  });
  auto deadline = std::chrono::steady_clock::now() + bound;
  if (closed_acceptor.get_future().wait_until(deadline) != std::future_status::ready) return false;
  auto sessions_closed = std::make_shared<std::promise<void>>();
  auto future = sessions_closed->get_future();
  engine_->CloseAllSessions(reason, [sessions_closed] { sessions_closed->set_value(); });
  return future.wait_until(deadline) == std::future_status::ready;
}

}  // namespace roomq::gateway::server
