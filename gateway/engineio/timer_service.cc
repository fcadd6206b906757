#include "gateway/engineio/timer_service.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <utility>

namespace roomq::gateway::engineio {
namespace {

// steady_timer, plus a generation so a handler already queued when the timer
// was cancelled, restarted or destroyed does nothing (asio would run it).
class RealTimer final : public Timer {
 public:
  explicit RealTimer(const boost::asio::any_io_executor& executor) : timer_(executor) {}

  void Start(base::Clock::Duration delay, std::function<void()> fire) override {
    const uint64_t generation = ++*generation_;
    timer_.expires_after(delay);
    timer_.async_wait([weak = std::weak_ptr<uint64_t>(generation_), generation,
                       fire = std::move(fire)](boost::system::error_code ec) {
      auto current = weak.lock();
      if (ec || !current || *current != generation) return;
      fire();
    });
  }

  void Cancel() override {
    ++*generation_;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  std::shared_ptr<uint64_t> generation_ = std::make_shared<uint64_t>(0);
};

class RealTimerService final : public TimerService {
 public:
  std::unique_ptr<Timer> NewTimer(boost::asio::any_io_executor executor) override {
    return std::make_unique<RealTimer>(std::move(executor));
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
