#include "gateway/socketio/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gateway/socketio/connection.h"
#include "gateway/socketio/dispatch.h"
#include "gateway/socketio/recovery.h"

namespace roomq::gateway::socketio {

absl::StatusOr<std::unique_ptr<Server>> Server::Create(
    ServerOptions options, std::vector<boost::asio::any_io_executor> shards) {
  if (shards.empty())
    return absl::InvalidArgumentError("socketio::Server needs at least one shard");
  std::unique_ptr<Server> server(new Server());
  server->config_ = std::make_shared<const Config>(std::move(options.config));
  server->connection_options_ = options.limits;
  server->connection_options_.connect_timeout = options.connect_timeout;

  bridge::Bridge::Options bridge_options;
  bridge_options.link = options.broker;
  bridge_options.max_shard_queue_bytes = options.max_shard_queue_bytes;
  bridge_options.dispatch_bytes = [](const Dispatch& dispatch) { return DispatchBytes(dispatch); };
  // Events of a namespace with recovery carry their offset
  // "<epoch>-<sequence>" as a last argument. The bridge thread resolves
  // names to policies in its own registry (registries are not thread-safe),
  // and only when some namespace has recovery. Resolve creates nothing: what
  // the broker delivers never makes a namespace exist.
  const bool any_recovery =
      std::any_of(server->config_->namespaces.begin(), server->config_->namespaces.end(),
                  [](const NamespacePolicy& ns) { return ns.recovery.has_value(); });
  std::shared_ptr<NamespaceRegistry> registry;
  if (any_recovery) registry = std::make_shared<NamespaceRegistry>(*server->config_);
  bridge_options.prepare = [config = server->config_, registry](v1::Envelope envelope,
                                                                uint64_t epoch, uint64_t sequence) {
    const NamespacePolicy* policy =
        registry == nullptr || sequence == 0 ? nullptr : registry->Resolve(envelope.namespace_());
    const bool with_offset = policy != nullptr && policy->recovery.has_value();
    return MakeDispatch(std::move(envelope), with_offset ? OffsetArg({epoch, sequence}) : "");
  };
  // Filled once the shards exist, before the bridge starts.
  auto close_targets = std::make_shared<std::vector<std::weak_ptr<Shard>>>();
  bridge_options.close_socket = [close_targets](size_t shard, const std::string& ns,
                                                const std::string& socket_id) {
    if (shard >= close_targets->size()) return;
    if (auto target = (*close_targets)[shard].lock()) target->CloseMovedSocket(ns, socket_id);
  };
  server->bridge_ = std::make_shared<bridge::Bridge>(std::move(bridge_options), shards);

  ShardOptions shard_options;
  shard_options.subscribe_wait = options.subscribe_wait;
  shard_options.max_rooms_per_socket = options.max_rooms_per_socket;
  shard_options.max_dynamic_namespaces = options.max_dynamic_namespaces;
  shard_options.timers = options.limits.timers;
  shard_options.socket_log_rate = options.socket_log_rate;
  for (size_t i = 0; i < shards.size(); ++i) {
    server->shards_.push_back(
        std::make_shared<Shard>(i, shards[i], server->config_, server->bridge_, shard_options));
  }
  std::vector<std::weak_ptr<Shard>> targets(server->shards_.begin(), server->shards_.end());
  *close_targets = targets;
  absl::Status started =
      server->bridge_->Start([targets = std::move(targets), shards](
                                 size_t shard, SharedDispatch dispatch, bridge::HandOff charge) {
        // The charge is given back when this has run (or is destroyed unrun).
        boost::asio::post(shards[shard], [weak = targets[shard], dispatch = std::move(dispatch),
                                          charge = std::move(charge)] {
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
  return std::make_unique<Connection>(session, shards_[shard], connection_options_);
}

void Server::Shutdown() {
  if (bridge_) bridge_->Stop();
}

const std::string& Server::node_id() const { return bridge_->node_id(); }

bool Server::broker_connected() const { return bridge_->broker_connected(); }

bridge::BridgeStats Server::bridge_stats() const { return bridge_->stats(); }

void Server::CollectMetrics(std::function<void(MetricsSnapshot)> done) const {
  // Each shard adds its part under the mutex; the last to add hands the
  // total to `done`, outside the lock.
  class Scrape {
   public:
    Scrape(MetricsSnapshot total, size_t parts, std::function<void(MetricsSnapshot)> done)
        : total_(std::move(total)), remaining_(parts), done_(std::move(done)) {}
    void Add(const MetricsSnapshot& part) ABSL_LOCKS_EXCLUDED(mutex_) {
      MetricsSnapshot total;
      {
        absl::MutexLock lock(&mutex_);
        total_.Merge(part);
        if (--remaining_ > 0) return;
        total = std::move(total_);
      }
      done_(std::move(total));
    }

   private:
    absl::Mutex mutex_;
    MetricsSnapshot total_ ABSL_GUARDED_BY(mutex_);
    size_t remaining_ ABSL_GUARDED_BY(mutex_);         // shards still to add their part
    const std::function<void(MetricsSnapshot)> done_;  // called once, by the last Add
  };
  MetricsSnapshot total;
  total.broker_connected = bridge_->broker_connected();
  total.bridge = bridge_->stats();
  auto scrape = std::make_shared<Scrape>(std::move(total), shards_.size(), std::move(done));
  for (const std::shared_ptr<Shard>& shard : shards_) {
    boost::asio::post(shard->executor(), [shard, scrape] { scrape->Add(ShardSnapshot(*shard)); });
  }
}

}  // namespace roomq::gateway::socketio
