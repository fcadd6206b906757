#include "gateway/bridge/bridge.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cstring>
#include <future>
#include <random>

#include "absl/strings/str_format.h"
#include "proto/base/absl_compat.h"
#include "proto/wire/topic.h"

namespace roomq::gateway::bridge {
namespace {

// How long one Poll may block; Stop is noticed within this.
constexpr std::chrono::milliseconds kPollSlice{100};

std::string GatewayNodeId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::strcpy(host, "host");
  std::random_device device;
  return absl::StrFormat("gw-%s-%d-%08x", host, static_cast<int>(getpid()), device());
}

}  // namespace

Bridge::Bridge(Options options, std::vector<boost::asio::any_io_executor> shards)
    : options_(std::move(options)), shards_(std::move(shards)) {
  node_id_ = options_.link.node_id.empty() ? GatewayNodeId() : options_.link.node_id;
  options_.link.node_id = node_id_;
}

Bridge::~Bridge() { Stop(); }

absl::Status Bridge::Start(Sink sink) {
  if (thread_.joinable()) return absl::FailedPreconditionError("bridge already started");
  if (!options_.prepare) return absl::InvalidArgumentError("bridge needs Options::prepare");
  sink_ = std::move(sink);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  std::promise<absl::Status> started;
  std::future<absl::Status> result = started.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = true;
  }
  thread_ = std::thread([this, &started] { Run(&started); });
  absl::Status status = result.get();
  if (!status.ok()) Stop();
  return status;
}

void Bridge::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = false;
  }
  stop_ = true;
  if (thread_.joinable()) {
    Wake();
    thread_.join();
  }
  if (wake_fd_ >= 0) {
    close(wake_fd_);
    wake_fd_ = -1;
  }
}

void Bridge::Run(std::promise<absl::Status>* started) {
  context_ = std::make_unique<zmq::context_t>(1);
  node::LinkHandlers handlers;
  handlers.on_delivery = [this](node::Delivery& delivery) { OnDelivery(delivery); };
  handlers.on_broker_state = [this](bool connected) {
    broker_connected_ = connected;
    spdlog::info("bridge {}: broker {}", node_id_, connected ? "connected" : "unreachable");
  };
  auto link = node::Link::Create(*context_, options_.link, std::move(handlers));
  if (!link.ok()) {
    started->set_value(link.status());
    context_.reset();
    return;
  }
  link_ = *std::move(link);
  spdlog::info("bridge {}: linking to broker pub={} sub={}", node_id_, options_.link.pub_endpoint,
               options_.link.sub_endpoint);
  started->set_value(absl::OkStatus());

  std::vector<Command> batch;
  while (!stop_.load()) {
    zmq::pollitem_t wake{nullptr, wake_fd_, ZMQ_POLLIN, 0};
    absl::Status status = link_->Poll(kPollSlice, std::span<zmq::pollitem_t>(&wake, 1));
    if (!status.ok()) spdlog::warn("bridge {}: poll: {}", node_id_, status.ToString());
    NoteBrokerPosition(link_->epoch(), link_->last_sequence());
    if (wake.revents & ZMQ_POLLIN) {
      uint64_t count = 0;
      [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof(count));
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      batch.swap(queue_);
      queued_publishes_ = 0;
    }
    for (Command& command : batch) Execute(command);
    batch.clear();
  }
  // Publishes queued before Stop (e.g. the disconnections of a graceful
  // shutdown) still go out; the Link's linger bounds how long they may take.
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(queue_);
  }
  for (Command& command : batch) {
    if (command.type == Command::Type::kPublish || command.type == Command::Type::kSaveSession) {
      Execute(command);
    }
  }
  link_.reset();  // Goodbye
  topics_.clear();
  context_.reset();
  spdlog::info("bridge {}: stopped", node_id_);
}

void Bridge::Wake() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

void Bridge::Enqueue(Command command) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!accepting_) return;
    if (command.type == Command::Type::kPublish) {
      if (queued_publishes_ >= options_.max_queued_publishes) {
        {
          std::lock_guard<std::mutex> stats_lock(stats_mutex_);
          ++stats_.publishes_refused;
        }
        if (command.on_receipt) {
          auto callback = std::move(command.on_receipt);
          Post(command.shard, [callback = std::move(callback)] {
            callback(absl::ResourceExhaustedError("gateway bridge queue is full"));
          });
        }
        return;
      }
      ++queued_publishes_;
    }
    queue_.push_back(std::move(command));
  }
  Wake();
}

void Bridge::Post(size_t shard, std::function<void()> fn) {
  if (shard >= shards_.size()) return;
  boost::asio::post(shards_[shard], std::move(fn));
}

void Bridge::Subscribe(size_t shard, std::string topic_key,
                       std::function<void(absl::Status)> done) {
  Command command;
  command.type = Command::Type::kSubscribe;
  command.shard = shard;
  command.topic_key = std::move(topic_key);
  command.done = std::move(done);
  Enqueue(std::move(command));
}

void Bridge::Unsubscribe(size_t shard, std::string topic_key) {
  Command command;
  command.type = Command::Type::kUnsubscribe;
  command.shard = shard;
  command.topic_key = std::move(topic_key);
  Enqueue(std::move(command));
}

void Bridge::Publish(size_t shard, v1::Envelope envelope,
                     std::function<void(absl::StatusOr<v1::PublishReceipt>)> on_receipt) {
  Command command;
  command.type = Command::Type::kPublish;
  command.shard = shard;
  command.envelope = std::move(envelope);
  command.on_receipt = std::move(on_receipt);
  Enqueue(std::move(command));
}

void Bridge::SaveSession(size_t shard, v1::Session session, std::chrono::milliseconds ttl) {
  Command command;
  command.type = Command::Type::kSaveSession;
  command.shard = shard;
  command.session = std::move(session);
  command.ttl = ttl;
  Enqueue(std::move(command));
}

void Bridge::Recover(size_t shard, v1::Recover request,
                     std::function<void(absl::StatusOr<Recovery>)> done) {
  Command command;
  command.type = Command::Type::kRecover;
  command.shard = shard;
  command.recover = std::move(request);
  command.on_recovered = std::move(done);
  Enqueue(std::move(command));
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
      std::lock_guard<std::mutex> lock(stats_mutex_);
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
  // next delivery is looked up.
  std::vector<std::string> rooms(recovery.session.rooms().begin(), recovery.session.rooms().end());
  rooms.push_back("");
  for (const std::string& room : rooms) {
    const wire::TopicRef topic = wire::RoomTopic(ns, room);
    if (!wire::ValidateTopic(topic).ok()) continue;
    TopicShards& entry = topics_[wire::EncodeTopicKey(topic)];
    if (!entry.Has(shard)) {
      entry.Set(shard, true);
      ++entry.count;
    }
  }
  recovery.missed.reserve(answer->missed_size());
  for (v1::Delivery& delivery : *answer->mutable_missed()) {
    NoteBrokerPosition(delivery.epoch(), delivery.sequence());
    recovery.missed.push_back(options_.prepare(std::move(*delivery.mutable_envelope()),
                                               delivery.epoch(), delivery.sequence()));
  }
  {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    ++stats_.recoveries;
    stats_.topics = topics_.size();
  }
  auto shared = std::make_shared<Recovery>(std::move(recovery));
  Post(shard, [done, shared] { done(std::move(*shared)); });
}

void Bridge::Execute(Command& command) {
  switch (command.type) {
    case Command::Type::kSubscribe: {
      auto topic = wire::DecodeTopicKey(command.topic_key);
      if (!topic.ok() || command.shard >= shards_.size()) {
        if (command.done) {
          auto done = std::move(command.done);
          absl::Status status =
              topic.ok() ? absl::InvalidArgumentError("bad shard") : topic.status();
          Post(command.shard, [done = std::move(done), status] { done(status); });
        }
        return;
      }
      TopicShards& entry = topics_[command.topic_key];
      if (!entry.Has(command.shard)) {
        entry.Set(command.shard, true);
        ++entry.count;
      }
      const size_t shard = command.shard;
      auto done = std::move(command.done);
      link_->Subscribe(*topic, [this, shard, done = std::move(done)](absl::Status status) {
        if (done) Post(shard, [done, status] { done(status); });
      });
      {
        std::lock_guard<std::mutex> lock(stats_mutex_);
        stats_.topics = topics_.size();
      }
      return;
    }
    case Command::Type::kUnsubscribe: {
      auto it = topics_.find(command.topic_key);
      if (it == topics_.end() || !it->second.Has(command.shard)) return;
      it->second.Set(command.shard, false);
      if (--it->second.count == 0) {
        auto topic = wire::DecodeTopicKey(command.topic_key);
        if (topic.ok()) link_->Unsubscribe(*topic);
        topics_.erase(it);
      }
      std::lock_guard<std::mutex> lock(stats_mutex_);
      stats_.topics = topics_.size();
      return;
    }
    case Command::Type::kPublish: {
      const size_t shard = command.shard;
      std::function<void(absl::StatusOr<v1::PublishReceipt>)> receipt;
      if (command.on_receipt) {
        receipt = [this, shard,
                   callback = command.on_receipt](absl::StatusOr<v1::PublishReceipt> result) {
          Post(shard, [callback, result = std::move(result)] { callback(result); });
        };
      }
      absl::Status status = link_->Publish(std::move(command.envelope), std::move(receipt));
      std::lock_guard<std::mutex> lock(stats_mutex_);
      if (status.ok()) {
        ++stats_.publishes;
      } else {
        ++stats_.publishes_refused;
        spdlog::warn("bridge {}: publish refused: {}", node_id_, status.ToString());
        if (command.on_receipt) {
          Post(shard, [callback = std::move(command.on_receipt), status] { callback(status); });
        }
      }
      return;
    }
    case Command::Type::kSaveSession: {
      link_->SaveSession(command.session, command.ttl);
      std::lock_guard<std::mutex> lock(stats_mutex_);
      ++stats_.sessions_saved;
      return;
    }
    case Command::Type::kRecover: {
      if (command.shard >= shards_.size()) return;
      const size_t shard = command.shard;
      link_->Recover(command.recover, [this, shard, done = std::move(command.on_recovered)](
                                          absl::StatusOr<v1::Recovered> answer) {
        OnRecovered(shard, std::move(answer), done);
      });
      return;
    }
  }
}

void Bridge::OnDelivery(node::Delivery& delivery) {
  v1::Envelope& envelope = delivery.envelope;
  NoteBrokerPosition(delivery.header.epoch(), delivery.header.sequence());
  {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    ++stats_.deliveries;
  }
  if (envelope.channel() != v1::CHANNEL_ROOMS) {
    std::lock_guard<std::mutex> lock(stats_mutex_);
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
    std::lock_guard<std::mutex> lock(stats_mutex_);
    ++stats_.deliveries_unrouted;
    return;
  }
  SharedDispatch dispatch =
      options_.prepare(std::move(envelope), delivery.header.epoch(), delivery.header.sequence());
  for (size_t i = 0; i < targets.size(); ++i) {
    if (targets[i]) sink_(i, dispatch);
  }
  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_.dispatches += target_count;
}

Bridge::Stats Bridge::stats() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return stats_;
}

}  // namespace roomq::gateway::bridge
