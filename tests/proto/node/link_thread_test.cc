#include "proto/node/link_thread.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "proto/wire/topic.h"
#include "tests/proto/node/fake_broker.h"

namespace roomq::node {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeBroker;
using Bound = LinkThread::Bound;
using AtStop = LinkThread::AtStop;

// Generous: a loaded machine (ASan, ctest -j) must never reach it.
constexpr seconds kPatience{20};

template <typename T>
bool Ready(const std::future<T>& future) {
  return future.wait_for(seconds(0)) == std::future_status::ready;
}

// Runs what it is given on the thread that calls RunAll (the test's).
class TestExecutor {
 public:
  Executor executor() {
    return [this](std::function<void()> fn) {
      absl::MutexLock lock(&mutex_);
      queue_.push_back(std::move(fn));
    };
  }
  size_t size() {
    absl::MutexLock lock(&mutex_);
    return queue_.size();
  }
  void RunAll() {
    std::deque<std::function<void()>> batch;
    {
      absl::MutexLock lock(&mutex_);
      batch.swap(queue_);
    }
    for (auto& fn : batch) fn();
  }

 private:
  absl::Mutex mutex_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mutex_);
};

class LinkThreadTest : public ::testing::Test {
 protected:
  // Long heartbeat and receipt timeout: no silent-broker reconnect (which
  // re-sends the subscription set) can happen in a test about something
  // else.
  static LinkThreadOptions Options(const FakeBroker& broker, size_t bound = 65536) {
    LinkThreadOptions options;
    options.link.pub_endpoint = broker.pub_endpoint();
    options.link.sub_endpoint = broker.sub_endpoint();
    options.link.node_prefix = "test";
    options.link.heartbeat = milliseconds(5000);
    options.link.receipt_timeout = milliseconds(20000);
    options.link.linger = milliseconds(5000);
    options.max_queued_bounded = bound;
    return options;
  }

  static LinkThreadHooks Hooks() {
    LinkThreadHooks hooks;
    hooks.on_delivery = [](Delivery&) {};
    return hooks;
  }

  // Services `broker` until `done` or kPatience passes.
  static bool PumpUntil(FakeBroker& broker, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      broker.ServiceFor(milliseconds(5));
    }
    return done();
  }

  // Runs `fn` on the link thread and waits for it.
  static void OnLinkThread(LinkThread& thread, std::function<void(Link&)> fn) {
    std::promise<void> ran;
    std::future<void> done = ran.get_future();
    ASSERT_TRUE(thread
                    .Post(
                        [&](Link& link) {
                          fn(link);
                          ran.set_value();
                        },
                        Bound::kUnbounded)
                    .ok());
    ASSERT_EQ(done.wait_for(kPatience), std::future_status::ready);
  }

  // Confirms a probe topic: once it is confirmed the broker has read every
  // command the Link sent before it (one socket, in order).
  static void Barrier(LinkThread& thread, FakeBroker& broker, const std::string& name) {
    std::promise<absl::Status> confirmed;
    std::future<absl::Status> future = confirmed.get_future();
    ASSERT_TRUE(thread
                    .Acquire(wire::EncodeTopicKey(wire::RoomTopic("/probe", name)),
                             [&](const absl::Status& status) { confirmed.set_value(status); })
                    .ok());
    ASSERT_TRUE(PumpUntil(broker, [&] { return Ready(future); }));
    ASSERT_TRUE(future.get().ok());
  }

  static int CountWithTopic(const FakeBroker& broker, v1::SubscriberCommand::CommandCase which,
                            const std::string& name) {
    int count = 0;
    for (const v1::SubscriberCommand& command : broker.commands) {
      if (command.command_case() != which) continue;
      const auto& topics = which == v1::SubscriberCommand::kSubscribe
                               ? command.subscribe().topics()
                               : command.unsubscribe().topics();
      for (const v1::Topic& topic : topics) {
        if (topic.name() == name) ++count;
      }
    }
    return count;
  }

  zmq::context_t context_;
};

TEST_F(LinkThreadTest, StartReturnsTheLinkCreateError) {
  LinkThreadOptions options;
  options.link.pub_endpoint = "not-an-endpoint";
  LinkThread bad_endpoint(options);
  EXPECT_EQ(bad_endpoint.Start(Hooks()).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(bad_endpoint.Post([](Link&) {}, Bound::kUnbounded).code(),
            absl::StatusCode::kFailedPrecondition);

  LinkThread no_delivery_hook{LinkThreadOptions{}};
  EXPECT_EQ(no_delivery_hook.Start(LinkThreadHooks{}).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LinkThreadTest, PostBeforeStartAndSecondStartAreRefused) {
  FakeBroker broker(context_);
  LinkThread thread(Options(broker));
  EXPECT_EQ(thread.Post([](Link&) {}, Bound::kUnbounded).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(thread.Start(Hooks()).ok());
  EXPECT_EQ(thread.node_id().rfind("test-", 0), 0u) << thread.node_id();
  EXPECT_EQ(thread.Start(Hooks()).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(LinkThreadTest, BoundedCommandsAreRefusedAtTheBoundAndCounted) {
  FakeBroker broker(context_);
  LinkThread thread(Options(broker, /*bound=*/2));
  ASSERT_TRUE(thread.Start(Hooks()).ok());

  // Hold the link thread so nothing drains the queue.
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  ASSERT_TRUE(thread
                  .Post(
                      [&](Link&) {
                        entered.set_value();
                        released.wait();
                      },
                      Bound::kUnbounded)
                  .ok());
  if (entered.get_future().wait_for(kPatience) != std::future_status::ready) {
    release.set_value();
    FAIL() << "the link thread never ran the command";
  }
  std::atomic<int> ran{0};
  auto count = [&](Link&) { ++ran; };
  EXPECT_TRUE(thread.Post(count, Bound::kBounded).ok());
  EXPECT_TRUE(thread.Post(count, Bound::kBounded).ok());
  EXPECT_EQ(thread.Post(count, Bound::kBounded).code(), absl::StatusCode::kResourceExhausted);
  bool receipt_called = false;
  EXPECT_EQ(thread
                .Publish(v1::Envelope(),
                         [&](const absl::StatusOr<v1::PublishReceipt>&) { receipt_called = true; })
                .code(),
            absl::StatusCode::kResourceExhausted);
  // Unbounded commands are never refused.
  EXPECT_TRUE(thread.Post(count, Bound::kUnbounded).ok());
  EXPECT_EQ(thread.stats().refused, 2u);
  release.set_value();

  OnLinkThread(thread, [](Link&) {});
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(receipt_called);
  // The thread took the queue: there is room again.
  EXPECT_TRUE(thread.Post(count, Bound::kBounded).ok());
  EXPECT_EQ(thread.stats().refused, 2u);
  // `ran` dies before `thread`: the command must have run by then.
  OnLinkThread(thread, [](Link&) {});
  EXPECT_EQ(ran.load(), 4);
}

TEST_F(LinkThreadTest, TwoAcquirersOfOneTopicMakeOneSubscribeAndBothAreConfirmed) {
  FakeBroker broker(context_);
  LinkThread thread(Options(broker));
  ASSERT_TRUE(thread.Start(Hooks()).ok());
  const std::string key = wire::EncodeTopicKey(wire::RoomTopic("/chat", "general"));

  std::promise<absl::Status> first, second, third;
  std::future<absl::Status> first_done = first.get_future(), second_done = second.get_future(),
                            third_done = third.get_future();
  ASSERT_TRUE(thread.Acquire(key, [&](const absl::Status& s) { first.set_value(s); }).ok());
  ASSERT_TRUE(thread.Acquire(key, [&](const absl::Status& s) { second.set_value(s); }).ok());
  ASSERT_TRUE(PumpUntil(broker, [&] { return Ready(first_done) && Ready(second_done); }));
  EXPECT_TRUE(first_done.get().ok());
  EXPECT_TRUE(second_done.get().ok());

  // Once confirmed, a third acquirer is answered without asking again.
  ASSERT_TRUE(thread.Acquire(key, [&](const absl::Status& s) { third.set_value(s); }).ok());
  ASSERT_TRUE(PumpUntil(broker, [&] { return Ready(third_done); }));
  EXPECT_TRUE(third_done.get().ok());
  Barrier(thread, broker, "barrier");
  EXPECT_EQ(CountWithTopic(broker, v1::SubscriberCommand::kSubscribe, "general"), 1);
  size_t references = 0;
  OnLinkThread(thread, [&](Link&) { references = thread.references(key); });
  EXPECT_EQ(references, 3u);
}

TEST_F(LinkThreadTest, ReleaseOfTheLastReferenceUnsubscribesOnce) {
  FakeBroker broker(context_);
  LinkThread thread(Options(broker));
  ASSERT_TRUE(thread.Start(Hooks()).ok());
  const wire::TopicRef topic = wire::RoomTopic("/chat", "general");
  const std::string key = wire::EncodeTopicKey(topic);
  ASSERT_TRUE(thread.Acquire(key).ok());
  ASSERT_TRUE(thread.Acquire(key).ok());
  Barrier(thread, broker, "subscribed");

  ASSERT_TRUE(thread.Release(key).ok());
  Barrier(thread, broker, "one-left");
  EXPECT_EQ(CountWithTopic(broker, v1::SubscriberCommand::kUnsubscribe, "general"), 0);

  ASSERT_TRUE(thread.Release(key).ok());
  ASSERT_TRUE(thread.Release(key).ok());  // no reference left: a no-op
  Barrier(thread, broker, "none-left");
  EXPECT_EQ(CountWithTopic(broker, v1::SubscriberCommand::kUnsubscribe, "general"), 1);
  bool subscribed = true;
  size_t references = 1;
  OnLinkThread(thread, [&](Link& link) {
    subscribed = link.subscribed(topic);
    references = thread.references(key);
  });
  EXPECT_FALSE(subscribed);
  EXPECT_EQ(references, 0u);
}

TEST_F(LinkThreadTest, AnInvalidTopicIsRefusedWithoutAReference) {
  FakeBroker broker(context_);
  LinkThread thread(Options(broker));
  ASSERT_TRUE(thread.Start(Hooks()).ok());
  std::promise<absl::Status> done;
  std::future<absl::Status> result = done.get_future();
  ASSERT_TRUE(thread.Acquire("not a key", [&](const absl::Status& s) { done.set_value(s); }).ok());
  ASSERT_EQ(result.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(result.get().code(), absl::StatusCode::kInvalidArgument);
  size_t references = 1;
  OnLinkThread(thread, [&](Link&) { references = thread.references("not a key"); });
  EXPECT_EQ(references, 0u);
}

TEST_F(LinkThreadTest, AnAdoptedTopicIsCountedWithoutAskingTheBroker) {
  FakeBroker broker(context_);
  LinkThread thread(Options(broker));
  ASSERT_TRUE(thread.Start(Hooks()).ok());
  const std::string key = wire::EncodeTopicKey(wire::RoomTopic("/chat", "recovered"));
  bool adopted = false;
  OnLinkThread(thread, [&](Link&) { adopted = thread.AdoptTopic(key); });
  EXPECT_TRUE(adopted);
  Barrier(thread, broker, "adopted");
  EXPECT_EQ(CountWithTopic(broker, v1::SubscriberCommand::kSubscribe, "recovered"), 0);
  size_t references = 0;
  OnLinkThread(thread, [&](Link&) { references = thread.references(key); });
  EXPECT_EQ(references, 1u);
}

TEST_F(LinkThreadTest, CallbacksRunOnTheGivenExecutorOrInlineOnTheLinkThread) {
  FakeBroker broker(context_);
  LinkThread thread(Options(broker));
  ASSERT_TRUE(thread.Start(Hooks()).ok());
  TestExecutor executor;
  const std::thread::id test_thread = std::this_thread::get_id();

  std::atomic<bool> confirmed{false}, receipt{false}, inline_on_link_thread{false};
  std::thread::id confirmed_on, receipt_on;
  ASSERT_TRUE(thread
                  .Acquire(
                      wire::EncodeTopicKey(wire::RoomTopic("/chat", "a")),
                      [&](const absl::Status& status) {
                        EXPECT_TRUE(status.ok()) << status;
                        confirmed_on = std::this_thread::get_id();
                        confirmed = true;
                      },
                      executor.executor())
                  .ok());
  v1::Envelope envelope;
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_("/chat");
  ASSERT_TRUE(thread
                  .Publish(
                      envelope,
                      [&](const absl::StatusOr<v1::PublishReceipt>& answer) {
                        EXPECT_TRUE(answer.ok()) << answer.status();
                        receipt_on = std::this_thread::get_id();
                        receipt = true;
                      },
                      executor.executor())
                  .ok());
  std::promise<void> inline_done;
  std::future<void> inline_ran = inline_done.get_future();
  ASSERT_TRUE(thread
                  .Acquire(wire::EncodeTopicKey(wire::RoomTopic("/chat", "b")),
                           [&](const absl::Status&) {
                             inline_on_link_thread = thread.OnLinkThread();
                             inline_done.set_value();
                           })
                  .ok());
  ASSERT_TRUE(PumpUntil(broker, [&] { return executor.size() == 2 && Ready(inline_ran); }));
  // Handed to the executor, not run by the link thread.
  EXPECT_FALSE(confirmed.load());
  EXPECT_FALSE(receipt.load());
  EXPECT_TRUE(inline_on_link_thread.load());
  executor.RunAll();
  EXPECT_TRUE(confirmed.load());
  EXPECT_TRUE(receipt.load());
  EXPECT_EQ(confirmed_on, test_thread);
  EXPECT_EQ(receipt_on, test_thread);
  EXPECT_EQ(thread.stats().published, 1u);
}

TEST_F(LinkThreadTest, RecoverAnswersRunOnTheGivenExecutor) {
  // Nothing listens there: the Link is never connected and answers a
  // Recover with Unavailable at once.
  LinkThreadOptions options;
  options.link.pub_endpoint = "tcp://127.0.0.1:1";
  options.link.sub_endpoint = "tcp://127.0.0.1:1";
  options.link.linger = milliseconds(0);
  LinkThread thread(options);
  ASSERT_TRUE(thread.Start(Hooks()).ok());
  TestExecutor executor;
  std::promise<absl::Status> answered;
  std::future<absl::Status> answer = answered.get_future();
  std::promise<void> queued;
  std::future<void> handed_over = queued.get_future();
  Executor counting = [&](std::function<void()> fn) {
    executor.executor()(std::move(fn));
    queued.set_value();
  };
  ASSERT_TRUE(thread
                  .Recover(
                      v1::Recover(),
                      [&](const absl::StatusOr<v1::Recovered>& result) {
                        answered.set_value(result.status());
                      },
                      counting)
                  .ok());
  ASSERT_EQ(handed_over.wait_for(kPatience), std::future_status::ready);
  EXPECT_FALSE(Ready(answer));
  executor.RunAll();
  ASSERT_TRUE(Ready(answer));
  EXPECT_EQ(answer.get().code(), absl::StatusCode::kUnavailable);
}

TEST_F(LinkThreadTest, StopRunsWhatWasQueuedBeforeItThenOnStopThenGoodbye) {
  FakeBroker broker(context_);
  absl::Mutex mutex;
  std::vector<std::string> events;  // link thread, then the test after Stop
  auto record = [&](std::string event) {
    absl::MutexLock lock(&mutex);
    events.push_back(std::move(event));
  };
  LinkThreadHooks hooks = Hooks();
  hooks.on_stop = [&](Link&) { record("on_stop"); };
  LinkThread thread(Options(broker));
  ASSERT_TRUE(thread.Start(std::move(hooks)).ok());
  Barrier(thread, broker, "connected");  // the publish below finds the broker

  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> stop_returned{false};
  ASSERT_TRUE(thread
                  .Post(
                      [&](Link&) {
                        entered.set_value();
                        released.wait();
                        // From the link thread Stop returns at once.
                        thread.Stop();
                        stop_returned = true;
                      },
                      Bound::kUnbounded)
                  .ok());
  if (entered.get_future().wait_for(kPatience) != std::future_status::ready) {
    release.set_value();
    FAIL() << "the link thread never ran the command";
  }
  EXPECT_TRUE(thread.Post([&](Link&) { record("run 1"); }, Bound::kUnbounded).ok());
  EXPECT_TRUE(
      thread.Post([&](Link&) { record("discarded"); }, Bound::kUnbounded, AtStop::kDiscard).ok());
  v1::Envelope envelope;
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_("/chat");
  envelope.set_event("before-stop");
  EXPECT_TRUE(thread.Publish(envelope).ok());
  EXPECT_TRUE(thread.Post([&](Link&) { record("run 2"); }, Bound::kBounded).ok());
  release.set_value();

  thread.Stop();  // joins
  EXPECT_TRUE(stop_returned.load());
  {
    absl::MutexLock lock(&mutex);
    EXPECT_EQ(events, (std::vector<std::string>{"run 1", "run 2", "on_stop"}));
  }
  EXPECT_EQ(thread.Post([&](Link&) { record("after"); }, Bound::kUnbounded).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(thread.Publish(envelope).code(), absl::StatusCode::kFailedPrecondition);
  thread.Stop();  // idempotent

  // The publish queued before Stop went out, then Goodbye.
  auto goodbye = [&] {
    for (const auto& command : broker.commands) {
      if (command.has_goodbye()) return true;
    }
    return false;
  };
  ASSERT_TRUE(PumpUntil(broker, [&] { return !broker.published.empty() && goodbye(); }));
  EXPECT_EQ(broker.published.back().event(), "before-stop");
}

// The owner's last reference is let go while its loop runs; the owner stops
// the thread from a command of its own and is destroyed on the link thread
// once the loop has ended (keep_alive), not under it.
TEST_F(LinkThreadTest, AnOwnerReleasedWhileItsLoopRunsOutlivesTheLoop) {
  FakeBroker broker(context_);
  struct Owner {
    Owner(LinkThreadOptions options, std::promise<std::thread::id>* destroyed)
        : thread(std::move(options)), destroyed(destroyed) {}
    ~Owner() { destroyed->set_value(std::this_thread::get_id()); }
    LinkThread thread;
    std::promise<std::thread::id>* destroyed;
  };
  std::promise<std::thread::id> destroyed;
  std::future<std::thread::id> gone = destroyed.get_future();
  auto owner = std::make_shared<Owner>(Options(broker), &destroyed);
  LinkThreadHooks hooks = Hooks();
  hooks.keep_alive = owner;
  ASSERT_TRUE(owner->thread.Start(std::move(hooks)).ok());

  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<std::thread::id> link_thread;
  std::future<std::thread::id> link_thread_id = link_thread.get_future();
  Owner* raw = owner.get();
  ASSERT_TRUE(raw->thread
                  .Post(
                      [raw, released, &link_thread](Link&) {
                        released.wait();
                        link_thread.set_value(std::this_thread::get_id());
                        raw->thread.Stop();  // returns at once on the link thread
                      },
                      Bound::kUnbounded)
                  .ok());
  owner.reset();  // the link thread holds the last reference now
  release.set_value();
  ASSERT_EQ(gone.wait_for(kPatience), std::future_status::ready);
  ASSERT_TRUE(Ready(link_thread_id));
  EXPECT_EQ(gone.get(), link_thread_id.get());
}

}  // namespace
}  // namespace roomq::node
