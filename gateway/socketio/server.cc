#include "gateway/socketio/server.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "gateway/socketio/connection.h"

namespace roomq::gateway::socketio {

absl::StatusOr<std::unique_ptr<Server>> Server::Create(
    ServerOptions options, std::vector<boost::asio::any_io_executor> shards) {
  if (shards.empty()) return absl::InvalidArgumentError("socketio::Server needs at least one shard");
  std::unique_ptr<Server> server(new Server());
  server->config_ = std::make_shared<const Config>(std::move(options.config));
  server->connect_timeout_ = options.connect_timeout;

  bridge::Bridge::Options bridge_options;
  bridge_options.link = options.broker;
  server->bridge_ = std::make_shared<bridge::Bridge>(std::move(bridge_options), shards);

  ShardOptions shard_options;
  shard_options.subscribe_wait = options.subscribe_wait;
  for (size_t i = 0; i < shards.size(); ++i) {
    server->shards_.push_back(
        std::make_shared<Shard>(i, shards[i], server->config_, server->bridge_, shard_options));
  }
  std::vector<std::weak_ptr<Shard>> targets(server->shards_.begin(), server->shards_.end());
  absl::Status started = server->bridge_->Start(
      [targets = std::move(targets), shards](size_t shard, bridge::SharedDispatch dispatch) {
        boost::asio::post(shards[shard], [weak = targets[shard], dispatch = std::move(dispatch)] {
          if (auto target = weak.lock()) target->OnDispatch(dispatch);
        });
      });
  if (!started.ok()) return started;
  spdlog::info("socket.io layer ready: node={} shards={} namespaces={}", server->node_id(),
               shards.size(), server->config_->namespaces.size());
  return server;
}

Server::~Server() { Shutdown(); }

std::unique_ptr<engineio::SessionListener> Server::OnSessionOpen(engineio::Session& session,
                                                                 size_t shard) {
  if (shard >= shards_.size()) shard %= shards_.size();
  return std::make_unique<Connection>(session, shards_[shard], ConnectionOptions{connect_timeout_});
}

void Server::Shutdown() {
  if (bridge_) bridge_->Stop();
}

const std::string& Server::node_id() const { return bridge_->node_id(); }

bool Server::broker_connected() const { return bridge_->broker_connected(); }

bridge::BridgeStats Server::bridge_stats() const { return bridge_->stats(); }

}  // namespace roomq::gateway::socketio
