#ifndef ROOMQ_PROTO_NODE_LINK_THREAD_H_
#define ROOMQ_PROTO_NODE_LINK_THREAD_H_

// roomq::node::LinkThread: a Link running on a thread of its own, the engine
// under the gateway's bridge and the native client library. It owns a ZeroMQ
// context and the Link on that thread (ZeroMQ never leaves it), a command
// queue that feeds the thread from any other thread, and per-topic reference
// counts over the Link's subscription set.
//
// Thread safety: Post, Publish, Acquire, Release, Recover, Stop, stats(),
// broker_connected() and OnLinkThread() may be called from any thread,
// commands and hooks included; node_id() once Start returned OK. Start is
// called once, from the owner's thread. Methods marked "link thread only"
// may only be called from commands and hooks. Commands, hooks and every
// callback run inline on the link thread run one at a time, so they need no
// locking among themselves, but must not block: while one runs nothing is
// received from the broker.
//
// Commands: Post appends to a queue guarded by mutex_ and wakes the thread
// through an eventfd that Link::Poll watches next to the Link's sockets.
// After each Poll the thread takes the whole queue and runs it in order.
// Bound: at most LinkThreadOptions::max_queued_bounded bounded commands
// (publishes) wait in the queue, default 65536. At the bound a bounded Post
// returns ResourceExhausted at once; the command is destroyed without
// running and the refusal is counted in stats().refused. Unbounded commands
// (subscribe, unsubscribe, session saves, handler registrations, flush
// markers) are never refused: callers make them on membership transitions,
// so their number is bounded by the membership itself, and dropping one
// would leave a reference count or a subscription set wrong for good.
//
// Topic reference counts (by routing key, proto/wire/topic.h): the first
// reference subscribes at the Link, the last release unsubscribes. Every
// acquirer gets its own confirmation without another Subscribe at the
// broker: it joins the answer still in flight for the topic, or is answered
// OK at once when the last answer was OK, the Link still holds the topic and
// the broker is connected; otherwise (the last answer failed, the broker is
// down) the topic is asked for again. A confirmation still in flight when
// its topic is released is delivered all the same. Topics counted here must
// not be subscribed or unsubscribed directly on the Link by a command.
//
// Callbacks (subscribe confirmations, publish receipts, recover answers) run
// through the Executor given with the call, or inline on the link thread
// when it is null.
//
// Stop: Stop() closes the queue; every later Post returns FailedPrecondition
// (its command is destroyed without running, its callbacks never called).
// The thread then runs the commands queued before Stop() that it had not
// yet taken, in order, except those posted with AtStop::kDiscard, which are
// destroyed without running. Until they have run the thread keeps polling
// the Link, so deliveries and Link callbacks may still run after Stop() was
// called. Then hooks.on_stop runs, then the Link is destroyed (Goodbye to
// the broker; what was sent is flushed for up to LinkOptions::linger;
// callbacks still pending in the Link are destroyed without being called),
// then the ZeroMQ context and the hooks. Nothing runs on the link thread
// after that. Called from any other thread, Stop() returns once all of this
// is done; from the link thread it returns at once and the thread finishes
// once the running command or hook returns.
//
// Invariants: one Link, created and destroyed on the link thread; a topic
// has an entry in topics_ iff its reference count is positive; commands run
// in the order they were posted.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/node/link.h"
#include "proto/roomq.pb.h"

namespace roomq::node {

// Runs the function it is given, now or later, on a thread of its owner's
// choosing (e.g. a post to an io shard's executor).
using Executor = std::function<void(std::function<void()>)>;

struct LinkThreadOptions {
  LinkOptions link;
  // Bounded commands (publishes) waiting in the queue; see the file comment
  // for what happens at the bound. 0 refuses every bounded command.
  size_t max_queued_bounded = 65536;
  // Longest one Poll blocks when neither the broker nor a Post wakes it
  // (Posts and Stop wake it at once): how late hooks.on_loop may run.
  std::chrono::milliseconds max_poll_wait{100};
};

// What the owner runs on the link thread. Only on_delivery is required.
struct LinkThreadHooks {
  std::function<void(Delivery&)> on_delivery;
  // Broker up/down transitions (broker_connected() already reflects them).
  std::function<void(bool connected)> on_broker_state;
  // Once, after the Link is created and before Start returns.
  std::function<void(Link&)> on_start;
  // After every Poll and the commands run after it.
  std::function<void(Link&)> on_loop;
  // How long the next Poll may block at most, when shorter than
  // LinkThreadOptions::max_poll_wait (the owner's own timers).
  std::function<std::chrono::milliseconds()> poll_wait;
  // Link::on_hello and Link::on_close_socket (link.h).
  std::function<void(Link&)> on_hello;
  std::function<void(const v1::CloseSocket&)> on_close_socket;
  // Once, after the last command and before the Link is destroyed.
  std::function<void(Link&)> on_stop;
  // Held by the link thread until it ends. An owner that may be released
  // from inside its own callbacks (Stop from the link thread does not wait)
  // passes itself here, so it is not destroyed under the running loop.
  std::shared_ptr<const void> keep_alive;
};

struct LinkThreadStats {
  uint64_t refused = 0;         // bounded commands refused at the bound
  uint64_t published = 0;       // Publish(): envelopes the Link accepted
  uint64_t publish_failed = 0;  // Publish(): envelopes the Link refused (send_hwm, socket)
};

class LinkThread {
 public:
  using Command = std::function<void(Link&)>;
  using ReceiptCallback = std::function<void(absl::StatusOr<v1::PublishReceipt>)>;
  using RecoverCallback = std::function<void(absl::StatusOr<v1::Recovered>)>;

  // Whether a command counts against max_queued_bounded.
  enum class Bound { kBounded, kUnbounded };
  // What Stop does with a command queued before it and not yet taken.
  enum class AtStop { kRun, kDiscard };

  // Nothing runs until Start.
  explicit LinkThread(LinkThreadOptions options);
  // Stop(). From the link thread (an owner released through keep_alive) the
  // thread is detached and ends on its own.
  ~LinkThread();

  LinkThread(const LinkThread&) = delete;
  LinkThread& operator=(const LinkThread&) = delete;

  // Starts the thread and creates the Link on it; returns once the Link
  // exists (after hooks.on_start) or failed. Errors: the Link::Create error
  // (InvalidArgument without hooks.on_delivery or for bad options, Internal
  // for a malformed endpoint), Internal when the eventfd cannot be made,
  // FailedPrecondition when called twice. The broker need not be up.
  absl::Status Start(LinkThreadHooks hooks) ABSL_LOCKS_EXCLUDED(mutex_, join_mutex_);
  // See the file comment. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mutex_, join_mutex_);

  // Queues `command` to run on the link thread with its Link. OK: queued.
  // ResourceExhausted: a bounded command at the bound (counted). Both
  // FailedPrecondition before Start and after Stop. On a non-OK status the
  // command is destroyed without running.
  absl::Status Post(Command command, Bound bound, AtStop at_stop = AtStop::kRun)
      ABSL_LOCKS_EXCLUDED(mutex_);

  // Bounded: Link::Publish on the link thread. With `on_receipt`, the
  // broker's PublishReceipt or the Link's error (Unavailable after
  // receipt_timeout; the Link's refusal, ResourceExhausted at send_hwm)
  // reaches it through `executor`. Returns as Post; on a non-OK status
  // `on_receipt` is not called.
  absl::Status Publish(v1::Envelope envelope, ReceiptCallback on_receipt = nullptr,
                       Executor executor = nullptr);
  // Unbounded: AcquireTopic / ReleaseTopic on the link thread. Returns as
  // Post; on a non-OK status `done` is not called.
  absl::Status Acquire(std::string topic_key, std::function<void(absl::Status)> done = nullptr,
                       Executor executor = nullptr);
  absl::Status Release(std::string topic_key);
  // Unbounded: Link::Recover on the link thread; its answer reaches `done`
  // through `executor`. Returns as Post; on a non-OK status `done` is not
  // called.
  absl::Status Recover(v1::Recover request, RecoverCallback done, Executor executor = nullptr,
                       AtStop at_stop = AtStop::kRun);

  // Link thread only. One more reference to `topic_key`; subscribes at the
  // Link on the first. `done` gets the confirmation (see the file comment):
  // OK, Internal with the broker's refusal, Unavailable after
  // receipt_timeout (the topic stays in the Link's set), or InvalidArgument
  // at once for a key that is not a valid topic (no reference taken).
  void AcquireTopic(std::string_view topic_key, std::function<void(absl::Status)> done = nullptr,
                    Executor executor = nullptr);
  // Link thread only. One more reference to a topic the broker subscribed
  // this node to by itself (a recovered session's rooms): nothing is asked.
  // False (no reference taken) for a key that is not a valid topic.
  bool AdoptTopic(std::string_view topic_key);
  // Link thread only. One reference fewer; unsubscribes at the Link on the
  // last. No-op for a topic without references.
  void ReleaseTopic(std::string_view topic_key);
  // Link thread only: the references to `topic_key` (0 when none).
  size_t references(std::string_view topic_key) const;
  // Link thread only: the Link, from hooks.on_start to hooks.on_stop.
  Link& link() { return *link_; }

  // Valid once Start returned OK.
  const std::string& node_id() const { return node_id_; }
  bool OnLinkThread() const { return std::this_thread::get_id() == thread_id_.load(); }
  bool broker_connected() const { return broker_connected_.load(); }
  LinkThreadStats stats() const;

 private:
  struct Queued {
    Command command;
    AtStop at_stop;
  };
  // One topic with references.
  struct TopicEntry {
    size_t references = 0;
    // Whether the last answer for the topic was OK (or it was adopted).
    bool confirmed = false;
    // Acquirers waiting for the answer in flight; null when none is.
    std::shared_ptr<std::vector<std::function<void(absl::Status)>>> waiting;
  };

  void Run(std::promise<absl::Status>* started) ABSL_LOCKS_EXCLUDED(mutex_);
  void Loop() ABSL_LOCKS_EXCLUDED(mutex_);
  void WakeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const LinkThreadOptions options_;
  LinkThreadHooks hooks_;  // set by Start before the thread exists; link thread after
  int wake_fd_ = -1;       // eventfd; lives until the destructor
  std::thread thread_ ABSL_GUARDED_BY(join_mutex_);
  std::atomic<std::thread::id> thread_id_{};
  std::string node_id_;  // written on the link thread before Start returns
  std::atomic<bool> broker_connected_{false};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> publish_failed_{0};

  absl::Mutex mutex_;
  std::vector<Queued> queue_ ABSL_GUARDED_BY(mutex_);
  size_t queued_bounded_ ABSL_GUARDED_BY(mutex_) = 0;
  bool started_ ABSL_GUARDED_BY(mutex_) = false;
  bool accepting_ ABSL_GUARDED_BY(mutex_) = false;  // Posts are queued
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;   // Stop() was called
  // Serializes the joins of Stop() called from several threads (and
  // guards thread_, declared above it).
  absl::Mutex join_mutex_;

  // Link thread only.
  std::unique_ptr<Link> link_;
  absl::flat_hash_map<std::string, TopicEntry> topics_;
};

}  // namespace roomq::node

#endif  // ROOMQ_PROTO_NODE_LINK_THREAD_H_
