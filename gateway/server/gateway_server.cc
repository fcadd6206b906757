#include "gateway/server/gateway_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <future>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/engineio/sid.h"
#include "gateway/server/http_connection.h"

namespace roomq::gateway::server {

namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;

GatewayServer::GatewayServer(GatewayServerOptions options, IoShards* shards,
                             engineio::SessionListenerFactory* factory)
    : options_(std::move(options)),
      shards_(shards),
      engine_(std::make_unique<engineio::Engine>(options_.engine, shards->executors(), factory)),
      acceptor_(shards->context(0)),
      retry_timer_(shards->context(0)) {
  for (size_t i = 0; i < shards->size(); ++i) {
    connections_.push_back(std::make_shared<HttpConnectionSet>());
  }
}

GatewayServer::~GatewayServer() = default;

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Create(
    GatewayServerOptions options, IoShards* shards, engineio::SessionListenerFactory* factory) {
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
  acceptor_.async_accept(
      shards_->context(shard), [this, shard](boost::system::error_code ec, tcp::socket socket) {
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
        auto connection = std::make_shared<HttpConnection>(std::move(socket), shard, engine_.get(),
                                                           &options_, connections_[shard]);
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
  if (future.wait_until(deadline) != std::future_status::ready) return false;
  // Answers already under way (e.g. the close packet to a pending long-poll)
  // are the connections' last; idle keep-alive connections close now.
  for (size_t shard = 0; shard < shards_->size(); ++shard) {
    asio::post(shards_->executor(shard), [connections = connections_[shard]] {
      connections->draining = true;
      std::vector<std::shared_ptr<HttpConnection>> open;
      for (HttpConnection* connection : connections->open) {
        if (auto alive = connection->weak_from_this().lock()) open.push_back(std::move(alive));
      }
      for (auto& connection : open) connection->Drain();
    });
  }
  return true;
}

bool GatewayServer::WaitForTransportsClosed(std::chrono::steady_clock::time_point deadline) {
  // Where the threads meet: each shard thread reports once, when its count
  // of open transports reaches zero (OpenTransports::WhenNoneOpen), by
  // decrementing `shards` under the mutex; this (controlling) thread awaits
  // `shards` reaching zero or the deadline. The state is shared, so a report
  // after the deadline (or from teardown, when leftover handlers are
  // destroyed) touches nothing freed.
  // Posted after Shutdown's posts, so each shard counts after it closed its
  // sessions and drained its HTTP connections (one io_context per shard
  // runs its handlers in the order they were posted).
  struct Pending {
    explicit Pending(size_t shards) : shards(shards) {}
    void Report() ABSL_LOCKS_EXCLUDED(mutex) {
      absl::MutexLock lock(&mutex);
      --shards;
    }
    bool AllReported() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) { return shards == 0; }

    absl::Mutex mutex;
    size_t shards ABSL_GUARDED_BY(mutex);  // shards with transports still open
  };
  auto pending = std::make_shared<Pending>(shards_->size());
  for (size_t shard = 0; shard < shards_->size(); ++shard) {
    asio::post(shards_->executor(shard), [pending] {
      engineio::OpenTransports::ForThisThread()->WhenNoneOpen([pending] { pending->Report(); });
    });
  }
  const auto left = deadline - std::chrono::steady_clock::now();
  absl::MutexLock lock(&pending->mutex);
  return pending->mutex.AwaitWithTimeout(absl::Condition(pending.get(), &Pending::AllReported),
                                         absl::FromChrono(left));
}

}  // namespace roomq::gateway::server
