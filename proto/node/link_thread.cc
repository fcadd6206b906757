#include "proto/node/link_thread.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"
#include "proto/base/start_thread.h"
#include "proto/wire/topic.h"
#include "spdlog/spdlog.h"

namespace roomq::node {
namespace {

// How long the thread backs off after zmq_poll itself failed, so a broken
// poll cannot spin a core.
constexpr std::chrono::milliseconds kPollFailureBackoff{10};

// `done` routed through `executor` (unchanged when either is null).
std::function<void(absl::Status)> Route(std::function<void(absl::Status)> done, Executor executor) {
  if (!done || !executor) return done;
  return [done = std::move(done), executor = std::move(executor)](absl::Status status) {
    executor([done, status = std::move(status)] { done(status); });
  };
}

}  // namespace

LinkThread::LinkThread(LinkThreadOptions options) : options_(std::move(options)) {}

LinkThread::~LinkThread() {
  Stop();
  // Only left joinable when the owner was released on the link thread itself.
  absl::MutexLock lock(&join_mutex_);
  if (thread_.joinable()) thread_.detach();
  if (wake_fd_ >= 0) close(wake_fd_);
}

absl::Status LinkThread::Start(LinkThreadHooks hooks) {
  {
    absl::MutexLock lock(&mutex_);
    if (started_ || stopping_) return absl::FailedPreconditionError("link thread already started");
    started_ = true;
  }
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  std::shared_ptr<const void> keep_alive = std::move(hooks.keep_alive);
  hooks_ = std::move(hooks);
  std::promise<absl::Status> started;
  std::future<absl::Status> result = started.get_future();
  {
    absl::MutexLock lock(&join_mutex_);
    thread_ =
        base::StartThread([this, &started, keep_alive = std::move(keep_alive)] { Run(&started); });
  }
  absl::Status status = result.get();
  if (!status.ok()) {
    absl::MutexLock lock(&join_mutex_);
    thread_.join();
  }
  return status;
}

void LinkThread::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    accepting_ = false;
    if (!stopping_) {
      stopping_ = true;
      WakeLocked();
    }
  }
  // On the link thread the loop ends once the running command or hook
  // returns; whoever joins later (or the destructor) takes care of thread_.
  if (OnLinkThread()) return;
  absl::MutexLock lock(&join_mutex_);
  if (thread_.joinable()) thread_.join();
}

void LinkThread::WakeLocked() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

absl::Status LinkThread::Post(Command command, Bound bound, AtStop at_stop) {
  absl::MutexLock lock(&mutex_);
  if (!accepting_) return absl::FailedPreconditionError("link thread is not running");
  if (bound == Bound::kBounded) {
    if (queued_bounded_ >= options_.max_queued_bounded) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return absl::ResourceExhaustedError(
          absl::StrCat("link thread queue full (", options_.max_queued_bounded, " entries)"));
    }
    ++queued_bounded_;
  }
  // The thread takes the whole queue per wake-up: only the first command
  // of a batch needs to wake it.
  if (queue_.empty()) WakeLocked();
  queue_.push_back({std::move(command), at_stop});
  return absl::OkStatus();
}

absl::Status LinkThread::Publish(v1::Envelope envelope, ReceiptCallback on_receipt,
                                 Executor executor) {
  return Post(
      [this, envelope = std::move(envelope), on_receipt = std::move(on_receipt),
       executor = std::move(executor)](Link& link) mutable {
        ReceiptCallback routed;
        if (on_receipt && executor) {
          routed = [on_receipt, executor](absl::StatusOr<v1::PublishReceipt> receipt) {
            executor([on_receipt, receipt = std::move(receipt)] { on_receipt(receipt); });
          };
        } else {
          routed = on_receipt;
        }
        absl::Status status = link.Publish(std::move(envelope), std::move(routed));
        if (status.ok()) {
          published_.fetch_add(1, std::memory_order_relaxed);
          return;
        }
        publish_failed_.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("roomq link {}: publish refused: {}", node_id_, status.ToString());
        if (!on_receipt) return;
        if (executor) {
          executor([on_receipt = std::move(on_receipt), status] { on_receipt(status); });
        } else {
          on_receipt(status);
        }
      },
      Bound::kBounded);
}

absl::Status LinkThread::Acquire(std::string topic_key, std::function<void(absl::Status)> done,
                                 Executor executor) {
  return Post([this, topic_key = std::move(topic_key), done = std::move(done),
               executor = std::move(executor)](
                  Link&) mutable { AcquireTopic(topic_key, std::move(done), std::move(executor)); },
              Bound::kUnbounded);
}

absl::Status LinkThread::Release(std::string topic_key) {
  return Post([this, topic_key = std::move(topic_key)](Link&) { ReleaseTopic(topic_key); },
              Bound::kUnbounded);
}

absl::Status LinkThread::Recover(v1::Recover request, RecoverCallback done, Executor executor,
                                 AtStop at_stop) {
  return Post(
      [request = std::move(request), done = std::move(done),
       executor = std::move(executor)](Link& link) mutable {
        if (!executor) {
          link.Recover(request, std::move(done));
          return;
        }
        link.Recover(request, [done = std::move(done), executor = std::move(executor)](
                                  absl::StatusOr<v1::Recovered> answer) {
          executor([done, answer = std::move(answer)]() mutable { done(std::move(answer)); });
        });
      },
      Bound::kUnbounded, at_stop);
}

void LinkThread::AcquireTopic(std::string_view topic_key, std::function<void(absl::Status)> done,
                              Executor executor) {
  done = Route(std::move(done), std::move(executor));
  absl::StatusOr<wire::TopicRef> topic = wire::DecodeTopicKey(topic_key);
  absl::Status valid = topic.ok() ? wire::ValidateTopic(*topic) : topic.status();
  if (!valid.ok()) {
    if (done) done(valid);
    return;
  }
  TopicEntry& entry = topics_[ToAbsl(topic_key)];
  ++entry.references;
  if (entry.waiting != nullptr) {
    if (done) entry.waiting->push_back(std::move(done));
    return;
  }
  if (entry.confirmed && link_->broker_connected() && link_->subscribed(*topic)) {
    if (done) done(absl::OkStatus());
    return;
  }
  auto waiting = std::make_shared<std::vector<std::function<void(absl::Status)>>>();
  if (done) waiting->push_back(std::move(done));
  entry.waiting = waiting;
  // `entry` is not used past this point: the Link may answer at once.
  link_->Subscribe(*topic,
                   [this, key = std::string(topic_key), waiting](const absl::Status& status) {
                     auto it = topics_.find(key);
                     if (it != topics_.end() && it->second.waiting == waiting) {
                       it->second.waiting = nullptr;
                       it->second.confirmed = status.ok();
                     }
                     for (auto& callback : *waiting) callback(status);
                   });
}

bool LinkThread::AdoptTopic(std::string_view topic_key) {
  absl::StatusOr<wire::TopicRef> topic = wire::DecodeTopicKey(topic_key);
  if (!topic.ok() || !wire::ValidateTopic(*topic).ok()) return false;
  TopicEntry& entry = topics_[ToAbsl(topic_key)];
  if (entry.references++ == 0) entry.confirmed = true;
  return true;
}

void LinkThread::ReleaseTopic(std::string_view topic_key) {
  auto it = topics_.find(ToAbsl(topic_key));
  if (it == topics_.end()) return;
  if (--it->second.references > 0) return;
  topics_.erase(it);
  absl::StatusOr<wire::TopicRef> topic = wire::DecodeTopicKey(topic_key);
  if (topic.ok()) link_->Unsubscribe(*topic);
}

size_t LinkThread::references(std::string_view topic_key) const {
  auto it = topics_.find(ToAbsl(topic_key));
  return it == topics_.end() ? 0 : it->second.references;
}

LinkThreadStats LinkThread::stats() const {
  LinkThreadStats stats;
  stats.refused = refused_.load(std::memory_order_relaxed);
  stats.published = published_.load(std::memory_order_relaxed);
  stats.publish_failed = publish_failed_.load(std::memory_order_relaxed);
  return stats;
}

void LinkThread::Run(std::promise<absl::Status>* started) {
  thread_id_.store(std::this_thread::get_id());
  zmq::context_t context(1);
  LinkHandlers handlers;
  if (hooks_.on_delivery) {
    handlers.on_delivery = [this](Delivery& delivery) { hooks_.on_delivery(delivery); };
  }
  handlers.on_broker_state = [this](bool connected) {
    broker_connected_.store(connected);
    if (hooks_.on_broker_state) hooks_.on_broker_state(connected);
  };
  if (hooks_.on_hello) {
    // The Link exists whenever it says Hello: Create sends none.
    handlers.on_hello = [this] { hooks_.on_hello(*link_); };
  }
  if (hooks_.on_close_socket) {
    handlers.on_close_socket = [this](const v1::CloseSocket& close) {
      hooks_.on_close_socket(close);
    };
  }
  absl::StatusOr<std::unique_ptr<Link>> link =
      Link::Create(context, options_.link, std::move(handlers));
  if (!link.ok()) {
    hooks_ = {};
    started->set_value(link.status());
    return;
  }
  link_ = *std::move(link);
  node_id_ = link_->node_id();
  {
    absl::MutexLock lock(&mutex_);
    accepting_ = !stopping_;
  }
  if (hooks_.on_start) hooks_.on_start(*link_);
  started->set_value(absl::OkStatus());  // `started` dangles from here on

  Loop();

  if (hooks_.on_stop) hooks_.on_stop(*link_);
  link_.reset();  // Goodbye
  topics_.clear();
  context.close();
  hooks_ = {};
}

void LinkThread::Loop() {
  std::vector<Queued> batch;
  bool stopping = false;
  while (true) {
    std::chrono::milliseconds wait = options_.max_poll_wait;
    if (hooks_.poll_wait) wait = std::min(wait, hooks_.poll_wait());
    if (stopping) wait = std::chrono::milliseconds(0);
    wait = std::max(wait, std::chrono::milliseconds(0));
    zmq::pollitem_t wake{nullptr, wake_fd_, ZMQ_POLLIN, 0};
    if (absl::Status status = link_->Poll(wait, std::span<zmq::pollitem_t>(&wake, 1));
        !status.ok()) {
      spdlog::error("roomq link {}: {}", node_id_, status.ToString());
      std::this_thread::sleep_for(kPollFailureBackoff);
    }
    if (wake.revents & ZMQ_POLLIN) {
      uint64_t count = 0;
      [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof(count));
    }
    {
      absl::MutexLock lock(&mutex_);
      batch.swap(queue_);
      queued_bounded_ = 0;
      stopping = stopping_;
    }
    for (Queued& queued : batch) {
      if (stopping && queued.at_stop == AtStop::kDiscard) continue;
      queued.command(*link_);
    }
    batch.clear();
    if (hooks_.on_loop) hooks_.on_loop(*link_);
    absl::MutexLock lock(&mutex_);
    if (stopping_ && queue_.empty()) return;
  }
}

}  // namespace roomq::node
