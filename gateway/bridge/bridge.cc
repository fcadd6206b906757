#include "gateway/bridge/bridge.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cstring>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/str_format.h"
#include "proto/base/absl_compat.h"
#include "proto/wire/topic.h"

namespace roomq::gateway::bridge {
namespace {

// How long one Poll may block when nothing wakes it.
constexpr std::chrono::milliseconds kPollSlice{100};
// Socket updates per Sockets command, in bytes: far below the broker's
// 4 MiB message limit.
constexpr size_t kMaxSocketCommandBytes = size_t{256} << 10;

std::string GatewayNodeId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::strcpy(host, "host");
  std::random_device device;
  return absl::StrFormat("gw-%s-%d-%08x", host, static_cast<int>(getpid()), device());
}

Bridge::Options WithNodeId(Bridge::Options options) {
  if (options.link.node_id.empty()) options.link.node_id = GatewayNodeId();
  return options;
}

node::LinkThreadOptions LinkThreadOptionsFor(const Bridge::Options& options) {
  node::LinkThreadOptions thread_options;
  thread_options.link = options.link;
  thread_options.max_queued_bounded = options.max_queued_publishes;
  thread_options.max_poll_wait = kPollSlice;
  return thread_options;
}

}  // namespace

Bridge::Bridge(Options options, std::vector<boost::asio::any_io_executor> shards)
    : options_(WithNodeId(std::move(options))),
      shards_(std::move(shards)),
      node_id_(options_.link.node_id),
      link_thread_(LinkThreadOptionsFor(options_)) {
  budgets_.reserve(shards_.size());
  for (size_t i = 0; i < shards_.size(); ++i) budgets_.emplace_back(options_.max_shard_queue_bytes);
}

Bridge::~Bridge() { Stop(); }

absl::Status Bridge::Start(Sink sink) {
  if (started_) return absl::FailedPreconditionError("bridge already started");
  if (!options_.prepare) return absl::InvalidArgumentError("bridge needs Options::prepare");
  if (!options_.dispatch_bytes) {
    return absl::InvalidArgumentError("bridge needs Options::dispatch_bytes");
  }
  started_ = true;
  sink_ = std::move(sink);
  node::LinkThreadHooks hooks;
  hooks.on_delivery = [this](node::Delivery& delivery) { OnDelivery(delivery); };
  hooks.on_broker_state = [this](bool connected) {
    spdlog::info("bridge {}: broker {}", node_id_, connected ? "connected" : "unreachable");
  };
  hooks.on_start = [this](node::Link&) {
    spdlog::info("bridge {}: linking to broker pub={} sub={}", node_id_, options_.link.pub_endpoint,
                 options_.link.sub_endpoint);
  };
  hooks.on_loop = [this](node::Link& link) {
    NoteBrokerPosition(link.epoch(), link.last_sequence());
    if (pending_sockets_.updates_size() > 0 &&
        options_.link.clock->Now() - pending_since_ >= kSocketUpdateDelay) {
      FlushSocketUpdates(link);
    }
  };
  hooks.poll_wait = [this] {
    if (pending_sockets_.updates_size() == 0) return kPollSlice;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        pending_since_ + kSocketUpdateDelay - options_.link.clock->Now());
    return std::max(left, std::chrono::milliseconds(0));
  };
  hooks.on_hello = [this](node::Link& link) {
    FlushSocketUpdates(link);  // what came before the Hello goes before the list
    sockets_.FullList(kMaxSocketCommandBytes,
                      [&link](v1::Sockets command) { link.SendSockets(std::move(command)); });
  };
  hooks.on_close_socket = [this](const v1::CloseSocket& close) { OnCloseSocket(close); };
  hooks.on_stop = [this](node::Link& link) {
    FlushSocketUpdates(link);
    topics_.clear();
    spdlog::info("bridge {}: stopped", node_id_);
  };
  absl::Status status = link_thread_.Start(std::move(hooks));
  if (!status.ok()) Stop();
  return status;
}

void Bridge::Stop() { link_thread_.Stop(); }

void Bridge::Post(size_t shard, std::function<void()> fn) {
  if (shard >= shards_.size()) return;
  boost::asio::post(shards_[shard], std::move(fn));
}

node::Executor Bridge::ShardExecutor(size_t shard) {
  return [this, shard](std::function<void()> fn) { Post(shard, std::move(fn)); };
}

node::Executor Bridge::ConfirmExecutor(size_t shard) {
  return [this, shard](std::function<void()> fn) {
    const node::Link& link = link_thread_.link();
    NoteBrokerPosition(link.epoch(), link.last_sequence());
    Post(shard, std::move(fn));
  };
}

void Bridge::Subscribe(size_t shard, std::string topic_key,
                       std::function<void(absl::Status)> done) {
  (void)link_thread_.Post(
      [this, shard, topic_key = std::move(topic_key), done = std::move(done)](node::Link&) mutable {
        SubscribeShard(shard, topic_key, std::move(done));
      },
      node::LinkThread::Bound::kUnbounded, node::LinkThread::AtStop::kDiscard);
}

void Bridge::Unsubscribe(size_t shard, std::string topic_key) {
  (void)link_thread_.Post([this, shard, topic_key = std::move(topic_key)](
                              node::Link&) { UnsubscribeShard(shard, topic_key); },
                          node::LinkThread::Bound::kUnbounded, node::LinkThread::AtStop::kDiscard);
}

void Bridge::Publish(size_t shard, v1::Envelope envelope,
                     std::function<void(absl::StatusOr<v1::PublishReceipt>)> on_receipt) {
  // Kept to answer a refusal at the bound, which does not call on_receipt.
  std::function<void(absl::StatusOr<v1::PublishReceipt>)> refused = on_receipt;
  absl::Status status =
      link_thread_.Publish(std::move(envelope), std::move(on_receipt), ShardExecutor(shard));
  if (status.code() == absl::StatusCode::kResourceExhausted && refused) {
    Post(shard, [refused = std::move(refused)] {
      refused(absl::ResourceExhaustedError("gateway bridge queue is full"));
    });
  }
}

void Bridge::SocketUpdates(size_t shard, std::vector<v1::SocketUpdate> updates) {
  (void)link_thread_.Post(
      [this, shard, updates = std::move(updates)](node::Link& link) mutable {
        QueueSocketUpdates(link, shard, updates);
      },
      node::LinkThread::Bound::kUnbounded, node::LinkThread::AtStop::kRun);
}

void Bridge::QueueSocketUpdates(node::Link& link, size_t shard,
                                std::vector<v1::SocketUpdate>& updates) {
  uint64_t queued = 0;
  uint64_t dropped = 0;
  bool closed = false;
  for (v1::SocketUpdate& update : updates) {
    if (!sockets_.Apply(shard, update)) {
      ++dropped;
      continue;
    }
    closed = closed || update.has_close();
    if (pending_sockets_.updates_size() == 0) pending_since_ = options_.link.clock->Now();
    pending_socket_bytes_ += update.ByteSizeLong() + 4;
    *pending_sockets_.add_updates() = std::move(update);
    ++queued;
    if (pending_socket_bytes_ >= kMaxSocketCommandBytes) FlushSocketUpdates(link);
  }
  // A close goes at once: the client may already be asking another gateway
  // for its session, and a close that comes after that ask is ignored.
  if (closed) FlushSocketUpdates(link);
  absl::MutexLock lock(&stats_mutex_);
  stats_.socket_updates += queued;
  stats_.socket_updates_dropped += dropped;
}

void Bridge::FlushSocketUpdates(node::Link& link) {
  if (pending_sockets_.updates_size() == 0) return;
  link.SendSockets(std::exchange(pending_sockets_, {}));
  pending_socket_bytes_ = 0;
}

void Bridge::OnCloseSocket(const v1::CloseSocket& close) {
  const std::optional<size_t> shard = sockets_.Forget(close.namespace_(), close.socket_id());
  if (!shard.has_value()) return;  // already gone here
  {
    absl::MutexLock lock(&stats_mutex_);
    ++stats_.sockets_moved;
  }
  if (!options_.close_socket) return;
  Post(*shard, [close_socket = options_.close_socket, shard = *shard, ns = close.namespace_(),
                id = close.socket_id()] { close_socket(shard, ns, id); });
}

void Bridge::Recover(size_t shard, v1::Recover request,
                     std::function<void(absl::StatusOr<Recovery>)> done) {
  if (shard >= shards_.size()) return;
  // The socket updates queued so far go first: a client back on this very
  // gateway must find its old socket's Close at the broker before its
  // Recover, or the record still looks connected here.
  (void)link_thread_.Post([this](node::Link& link) { FlushSocketUpdates(link); },
                          node::LinkThread::Bound::kUnbounded, node::LinkThread::AtStop::kDiscard);
  // No executor: OnRecovered counts the shard on the link thread, then posts.
  (void)link_thread_.Recover(
      std::move(request),
      [this, shard, done = std::move(done)](absl::StatusOr<v1::Recovered> answer) {
        OnRecovered(shard, std::move(answer), done);
      },
      /*executor=*/nullptr, node::LinkThread::AtStop::kDiscard);
}

void Bridge::NoteBrokerPosition(uint64_t epoch, uint64_t sequence) {
  if (epoch == 0) return;
  if (epoch != epoch_.load(std::memory_order_relaxed)) {
    epoch_.store(epoch, std::memory_order_relaxed);
    last_sequence_.store(sequence, std::memory_order_relaxed);
    return;
  }
  if (sequence > last_sequence_.load(std::memory_order_relaxed)) {
    last_sequence_.store(sequence, std::memory_order_relaxed);
  }
}

void Bridge::OnRecovered(size_t shard, absl::StatusOr<v1::Recovered> answer,
                         const std::function<void(absl::StatusOr<Recovery>)>& done) {
  auto fail = [&](absl::Status status) {
    {
      absl::MutexLock lock(&stats_mutex_);
      ++stats_.recoveries_refused;
    }
    Post(shard, [done, status = std::move(status)] { done(status); });
  };
  if (!answer.ok()) {
    fail(answer.status());
    return;
  }
  if (!answer->ok()) {
    fail(absl::NotFoundError(answer->error().empty() ? "session not recovered" : answer->error()));
    return;
  }
  Recovery recovery;
  recovery.session = std::move(*answer->mutable_session());
  const std::string& ns = recovery.session.namespace_();
  // The broker already routes the session's rooms to this node (and the
  // Link has them in its set): count the shard for them now, before the
  // next delivery is looked up, and hold a LinkThread reference for it.
  std::vector<std::string> rooms(recovery.session.rooms().begin(), recovery.session.rooms().end());
  rooms.push_back("");
  for (const std::string& room : rooms) {
    const wire::TopicRef topic = wire::RoomTopic(ns, room);
    if (!wire::ValidateTopic(topic).ok()) continue;
    std::string key = wire::EncodeTopicKey(topic);
    TopicShards& entry = topics_[key];
    if (!entry.Has(shard)) {
      entry.Set(shard, true);
      ++entry.count;
      link_thread_.AdoptTopic(key);
    }
  }
  recovery.missed.reserve(answer->missed_size());
  for (v1::Delivery& delivery : *answer->mutable_missed()) {
    NoteBrokerPosition(delivery.epoch(), delivery.sequence());
    recovery.missed.push_back(options_.prepare(std::move(*delivery.mutable_envelope()),
                                               delivery.epoch(), delivery.sequence()));
  }
  {
    absl::MutexLock lock(&stats_mutex_);
    ++stats_.recoveries;
    stats_.topics = topics_.size();
  }
  auto shared = std::make_shared<Recovery>(std::move(recovery));
  Post(shard, [done, shared] { done(std::move(*shared)); });
}

void Bridge::SubscribeShard(size_t shard, const std::string& topic_key,
                            std::function<void(absl::Status)> done) {
  auto topic = wire::DecodeTopicKey(topic_key);
  if (!topic.ok() || shard >= shards_.size()) {
    if (done) {
      absl::Status status = topic.ok() ? absl::InvalidArgumentError("bad shard") : topic.status();
      Post(shard, [done = std::move(done), status] { done(status); });
    }
    return;
  }
  TopicShards& entry = topics_[topic_key];
  if (!entry.Has(shard)) {
    entry.Set(shard, true);
    ++entry.count;
    link_thread_.AcquireTopic(topic_key, std::move(done), ConfirmExecutor(shard));
  } else {
    // Already counted for this shard (e.g. by a recovery): it gets its own
    // confirmation, through a reference taken and given back at once.
    link_thread_.AcquireTopic(topic_key, std::move(done), ConfirmExecutor(shard));
    link_thread_.ReleaseTopic(topic_key);
  }
  absl::MutexLock lock(&stats_mutex_);
  stats_.topics = topics_.size();
}

void Bridge::UnsubscribeShard(size_t shard, const std::string& topic_key) {
  auto it = topics_.find(topic_key);
  if (it == topics_.end() || !it->second.Has(shard)) return;
  it->second.Set(shard, false);
  link_thread_.ReleaseTopic(topic_key);
  if (--it->second.count == 0) topics_.erase(it);
  absl::MutexLock lock(&stats_mutex_);
  stats_.topics = topics_.size();
}

void Bridge::OnDelivery(node::Delivery& delivery) {
  v1::Envelope& envelope = delivery.envelope;
  NoteBrokerPosition(delivery.header.epoch(), delivery.header.sequence());
  {
    absl::MutexLock lock(&stats_mutex_);
    ++stats_.deliveries;
  }
  if (envelope.channel() != v1::CHANNEL_ROOMS) {
    absl::MutexLock lock(&stats_mutex_);
    ++stats_.deliveries_unrouted;
    return;
  }
  std::vector<bool> targets(shards_.size(), false);
  size_t target_count = 0;
  auto add = [&](std::string_view room) {
    auto it = topics_.find(wire::EncodeTopicKey(wire::RoomTopic(envelope.namespace_(), room)));
    if (it == topics_.end()) return;
    for (size_t i = 0; i < shards_.size(); ++i) {
      if (it->second.Has(i) && !targets[i]) {
        targets[i] = true;
        ++target_count;
      }
    }
  };
  if (envelope.rooms_size() == 0) {
    add("");
  } else {
    for (const std::string& room : envelope.rooms()) add(room);
  }
  if (target_count == 0) {
    absl::MutexLock lock(&stats_mutex_);
    ++stats_.deliveries_unrouted;
    return;
  }
  SharedDispatch dispatch =
      options_.prepare(std::move(envelope), delivery.header.epoch(), delivery.header.sequence());
  const size_t bytes = options_.dispatch_bytes(*dispatch);
  size_t dropped = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!targets[i]) continue;
    std::optional<HandOff> charge = budgets_[i].TryCharge(bytes);
    if (!charge.has_value()) {
      ++dropped;
      continue;
    }
    sink_(i, dispatch, std::move(*charge));
  }
  absl::MutexLock lock(&stats_mutex_);
  stats_.dispatches += target_count - dropped;
  stats_.dispatches_dropped += dropped;
}

Bridge::Stats Bridge::stats() const {
  Stats stats;
  {
    absl::MutexLock lock(&stats_mutex_);
    stats = stats_;
  }
  const node::LinkThreadStats thread = link_thread_.stats();
  stats.publishes = thread.published;
  stats.publishes_refused = thread.refused + thread.publish_failed;
  stats.shard_queued_bytes = 0;
  for (const ShardBudget& budget : budgets_) stats.shard_queued_bytes += budget.queued();
  return stats;
}

}  // namespace roomq::gateway::bridge
