#include "gateway/engineio/timer_service.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>
#include <utility>

namespace roomq::gateway::engineio {
namespace {

class QueuedTimer;

// One execution context's real timers: a binary min-heap of the armed
// timers by (deadline, arming order) under ONE steady_timer set to the
// earliest. A gateway shard holds a heartbeat timer per connection; with a
// steady_timer each, every connection paid for the timer, its shared
// generation and an asio handler allocation while armed (about 320 bytes);
// here an armed timer costs its own 72 bytes and a heap slot, and re-arming
// a heartbeat (later than the earliest deadline) touches no asio state.
//
// An asio service, so there is one per context and it lives exactly as
// long: shutdown() detaches the timers that outlive it.
//
// Thread safety: none. Every timer of a context is used on that context's
// one thread (TimerService's contract; each gateway shard runs its
// io_context on one thread, gateway/server/io_shards.h).
class TimerQueue final : public boost::asio::execution_context::service {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static inline boost::asio::execution_context::id id;

  explicit TimerQueue(boost::asio::execution_context& context) : service(context) {}

  // Called for every new timer, with its executor (of this context): the
  // first one gives the queue's wake-up timer its executor.
  void Attach(const boost::asio::any_io_executor& executor) {
    if (!wake_) wake_.emplace(executor);
  }
  // (Re)arms `timer` to fire at `deadline`.
  void Arm(QueuedTimer& timer, TimePoint deadline);
  void Disarm(QueuedTimer& timer);

 private:
  void shutdown() override;
  bool Before(const QueuedTimer& a, const QueuedTimer& b) const;
  void Place(size_t index, QueuedTimer* timer);
  void SiftUp(size_t index);
  void SiftDown(size_t index);
  void RemoveAt(size_t index);
  // Sets the steady_timer to the earliest deadline when that is sooner
  // than the one it waits for.
  void WakeForEarliest();
  void RunDue();

  std::vector<QueuedTimer*> heap_;
  uint64_t next_sequence_ = 0;
  std::optional<boost::asio::steady_timer> wake_;
  TimePoint wake_at_ = TimePoint::max();
};

class QueuedTimer final : public Timer {
 public:
  static constexpr size_t kNotArmed = static_cast<size_t>(-1);

  explicit QueuedTimer(TimerQueue& queue) : queue_(&queue) {}
  ~QueuedTimer() override { Cancel(); }
  QueuedTimer(const QueuedTimer&) = delete;
  QueuedTimer& operator=(const QueuedTimer&) = delete;

  void Start(base::Clock::Duration delay, std::function<void()> fire) override {
    if (queue_ == nullptr) return;  // the context is gone: nothing would run it
    fire_ = std::move(fire);
    queue_->Arm(*this, std::chrono::steady_clock::now() + delay);
  }

  void Cancel() override {
    if (queue_ != nullptr && index_ != kNotArmed) queue_->Disarm(*this);
    fire_ = nullptr;
  }

 private:
  friend class TimerQueue;
  TimerQueue* queue_;         // null once the context shut down
  size_t index_ = kNotArmed;  // in the queue's heap
  TimerQueue::TimePoint deadline_;
  uint64_t sequence_ = 0;  // arming order: equal deadlines fire in it
  std::function<void()> fire_;
};

void TimerQueue::Arm(QueuedTimer& timer, TimePoint deadline) {
  if (timer.index_ != QueuedTimer::kNotArmed) RemoveAt(timer.index_);
  timer.deadline_ = deadline;
  timer.sequence_ = next_sequence_++;
  heap_.push_back(&timer);
  timer.index_ = heap_.size() - 1;
  SiftUp(timer.index_);
  WakeForEarliest();
}

void TimerQueue::Disarm(QueuedTimer& timer) {
  RemoveAt(timer.index_);
  // With timers left the wake-up stays set: when it comes early it finds
  // nothing due and waits for the new earliest. With none, no wait may be
  // left pending: it would keep the context's run() from returning.
  if (heap_.empty() && wake_at_ != TimePoint::max()) {
    wake_at_ = TimePoint::max();
    wake_->cancel();
  }
}

void TimerQueue::shutdown() {
  for (QueuedTimer* timer : heap_) {
    timer->index_ = QueuedTimer::kNotArmed;
    timer->queue_ = nullptr;
  }
  heap_.clear();
  wake_.reset();  // before the context destroys the timer service it uses
}

bool TimerQueue::Before(const QueuedTimer& a, const QueuedTimer& b) const {
  if (a.deadline_ != b.deadline_) return a.deadline_ < b.deadline_;
  return a.sequence_ < b.sequence_;
}

void TimerQueue::Place(size_t index, QueuedTimer* timer) {
  heap_[index] = timer;
  timer->index_ = index;
}

void TimerQueue::SiftUp(size_t index) {
  QueuedTimer* timer = heap_[index];
  while (index > 0) {
    const size_t parent = (index - 1) / 2;
    if (!Before(*timer, *heap_[parent])) break;
    Place(index, heap_[parent]);
    index = parent;
  }
  Place(index, timer);
}

void TimerQueue::SiftDown(size_t index) {
  QueuedTimer* timer = heap_[index];
  for (;;) {
    size_t child = 2 * index + 1;
    if (child >= heap_.size()) break;
    if (child + 1 < heap_.size() && Before(*heap_[child + 1], *heap_[child])) ++child;
    if (!Before(*heap_[child], *timer)) break;
    Place(index, heap_[child]);
    index = child;
  }
  Place(index, timer);
}

void TimerQueue::RemoveAt(size_t index) {
  heap_[index]->index_ = QueuedTimer::kNotArmed;
  QueuedTimer* last = heap_.back();
  heap_.pop_back();
  if (index == heap_.size()) return;
  Place(index, last);
  SiftUp(index);
  SiftDown(last->index_);
}

void TimerQueue::WakeForEarliest() {
  if (heap_.empty() || heap_.front()->deadline_ >= wake_at_) return;
  wake_at_ = heap_.front()->deadline_;
  wake_->expires_at(wake_at_);  // a wait already pending ends as aborted
  wake_->async_wait([this](boost::system::error_code ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    wake_at_ = TimePoint::max();
    RunDue();
    WakeForEarliest();
  });
}

void TimerQueue::RunDue() {
  const TimePoint now = std::chrono::steady_clock::now();
  // Only timers armed before this run: one that a callback re-arms with no
  // delay waits for the next wake-up, so I/O runs in between.
  const uint64_t armed_before = next_sequence_;
  while (!heap_.empty()) {
    QueuedTimer* timer = heap_.front();
    if (timer->deadline_ > now || timer->sequence_ >= armed_before) break;
    RemoveAt(0);
    // The callback may cancel, restart or destroy this timer or others.
    std::function<void()> fire = std::exchange(timer->fire_, nullptr);
    fire();
  }
}

class RealTimerService final : public TimerService {
 public:
  std::unique_ptr<Timer> NewTimer(boost::asio::any_io_executor executor) override {
    auto& queue = boost::asio::use_service<TimerQueue>(
        boost::asio::query(executor, boost::asio::execution::context));
    queue.Attach(executor);
    return std::make_unique<QueuedTimer>(queue);
  }
  const base::Clock& clock() const override { return base::Clock::Real(); }
};

}  // namespace

TimerService& TimerService::Real() {
  // Never destroyed, like Clock::Real().
  static RealTimerService* const service = new RealTimerService();
  return *service;
}

struct FakeTimerService::Entry {
  explicit Entry(boost::asio::any_io_executor executor) : executor(std::move(executor)) {}
  const boost::asio::any_io_executor executor;
  // Guarded by the service's mutex_.
  bool armed = false;
  bool listed = false;  // in entries_
  base::Clock::TimePoint deadline;
  uint64_t generation = 0;
  std::function<void()> fire;
};

class FakeTimer final : public Timer {
 public:
  FakeTimer(FakeTimerService& service, boost::asio::any_io_executor executor)
      : service_(service), entry_(std::make_shared<FakeTimerService::Entry>(std::move(executor))) {}
  ~FakeTimer() override { Cancel(); }

  void Start(base::Clock::Duration delay, std::function<void()> fire) override {
    service_.Arm(entry_, delay, std::move(fire));
  }
  void Cancel() override { service_.Disarm(*entry_); }

 private:
  FakeTimerService& service_;
  const std::shared_ptr<FakeTimerService::Entry> entry_;
};

std::unique_ptr<Timer> FakeTimerService::NewTimer(boost::asio::any_io_executor executor) {
  return std::make_unique<FakeTimer>(*this, std::move(executor));
}

void FakeTimerService::Arm(const std::shared_ptr<Entry>& entry, base::Clock::Duration delay,
                           std::function<void()> fire) {
  absl::MutexLock lock(&mutex_);
  if (!entry->listed) {
    std::erase_if(entries_, [](const std::weak_ptr<Entry>& e) { return e.expired(); });
    entries_.push_back(entry);
    entry->listed = true;
  }
  entry->armed = true;
  entry->deadline = clock_.Now() + delay;
  ++entry->generation;
  entry->fire = std::move(fire);
}

void FakeTimerService::Disarm(Entry& entry) {
  std::function<void()> dropped;  // destroyed outside the lock
  absl::MutexLock lock(&mutex_);
  entry.armed = false;
  ++entry.generation;
  dropped = std::move(entry.fire);
  entry.fire = nullptr;
}

void FakeTimerService::Advance(base::Clock::Duration step) {
  clock_.Advance(step);
  struct Due {
    std::shared_ptr<Entry> entry;
    base::Clock::TimePoint deadline;
    uint64_t generation;
    std::function<void()> fire;
  };
  std::vector<Due> due;
  {
    absl::MutexLock lock(&mutex_);
    const base::Clock::TimePoint now = clock_.Now();
    for (auto it = entries_.begin(); it != entries_.end();) {
      std::shared_ptr<Entry> entry = it->lock();
      if (!entry || !entry->armed) {
        if (entry) entry->listed = false;
        it = entries_.erase(it);
        continue;
      }
      if (entry->deadline <= now) {
        entry->armed = false;
        entry->listed = false;
        due.push_back({entry, entry->deadline, entry->generation, std::move(entry->fire)});
        entry->fire = nullptr;
        it = entries_.erase(it);
        continue;
      }
      ++it;
    }
  }
  std::stable_sort(due.begin(), due.end(),
                   [](const Due& a, const Due& b) { return a.deadline < b.deadline; });
  for (Due& d : due) {
    boost::asio::post(d.entry->executor, [this, weak = std::weak_ptr<Entry>(d.entry),
                                          generation = d.generation, fire = std::move(d.fire)] {
      // The timer lives (and is used) on this thread: if it still exists
      // and was not restarted or cancelled since, the callback is current.
      auto entry = weak.lock();
      if (!entry) return;
      {
        absl::MutexLock lock(&mutex_);
        if (entry->generation != generation) return;
      }
      fire();
    });
  }
}

std::vector<base::Clock::TimePoint> FakeTimerService::deadlines() const {
  std::vector<base::Clock::TimePoint> result;
  {
    absl::MutexLock lock(&mutex_);
    for (const auto& weak : entries_) {
      auto entry = weak.lock();
      if (entry && entry->armed) result.push_back(entry->deadline);
    }
  }
  std::sort(result.begin(), result.end());
  return result;
}

bool FakeTimerService::WaitUntilArmed(base::Clock::TimePoint deadline,
                                      std::chrono::milliseconds limit) const {
  absl::MutexLock lock(&mutex_);
  auto armed = [this, deadline]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    for (const auto& weak : entries_) {
      auto entry = weak.lock();
      if (entry && entry->armed && entry->deadline == deadline) return true;
    }
    return false;
  };
  return mutex_.AwaitWithTimeout(absl::Condition(&armed), absl::FromChrono(limit));
}

}  // namespace roomq::gateway::engineio
