// roomq-bench-broker: envelopes/s through the real roomq-broker next to a
// plain ZeroMQ XSUB/XPUB proxy relaying the same bytes, in one run, so the
// broker's overhead is a measured ratio; next to Redis pub/sub, the bus
// Socket.IO's Redis adapter uses, when redis-server is installed; and next
// to NATS, core and JetStream, when nats-server is installed.
//
// Each run starts the relay as a child process (the broker binary, this
// binary in --proxy mode running zmq::proxy, redis-server on a free
// loopback port without persistence, or nats-server on a loopback port of
// its choosing), connects 1 publisher and N subscribers (each in its own
// thread and ZeroMQ context or Redis/NATS connection, as separate processes
// would be), lets the publisher send one pre-encoded Envelope as fast as the
// relay takes it for --duration-ms, and counts what every subscriber
// received inside that window. Runs alternate (proxy, broker, redis, nats
// core, jetstream mem, jetstream file, proxy, ...) for --rounds rounds so
// drift on a shared machine hits them all.
//
// Like for like: both relays get the same high-water marks; both
// publishers block when the relay's input queue is full (DEALER does;
// PUB is given ZMQ_XPUB_NODROP); both relays drop for a subscriber whose
// queue is full (XPUB's default, the broker's policy), and the loss is shown.
// Redis: the publisher PUBLISHes the same bytes to one channel, pipelined in
// batches of --redis-batch (it waits for a batch's replies before sending the
// next, so Redis sets the pace); each subscriber SUBSCRIBEs to the channel.
// Redis buffers for slow subscribers (client-output-buffer-limit pubsub is
// raised to 256 MiB so none is cut off in a run) instead of dropping.
// NATS core: the publisher publishes the same bytes to one subject and
// flushes after every --nats-batch messages (a PING the server answers once
// it has routed everything before it, so NATS sets the pace as Redis does);
// each subscriber has its own connection with a core subscription on the
// subject. nats-server buffers for slow subscribers (max_pending raised to
// 256 MiB, as for Redis; past it the server cuts the subscriber off, which
// the bench reports) and so does the client library (256 MiB per
// subscription, past it the library drops: the loss column).
// NATS JetStream (nats-server -js): a stream on the subject keeps the
// envelopes, as the broker keeps every one in its history (in memory, or in
// files in a scratch directory; the last 1000, the broker's default per
// topic). The publisher publishes asynchronously with at most --nats-batch
// messages awaiting their acknowledgement, and only acknowledged messages
// count as published. The subscribers are the same core subscribers (the
// server delivers every published message to them whether or not a stream
// keeps it): fan-out with persistence, which is what the broker does.
//
// Prints a markdown table: per run, and the median per relay with the
// ratio of the broker to each other relay. Not a test: no assertion on rates
// (the CTest smoke run only proves the harness works).

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "proto/base/command_line.h"
#include "proto/roomq.pb.h"
#include "proto/wire/delivery.h"
#include "proto/wire/topic.h"
#include "tests/support/binaries.h"
#include "tests/support/broker_process.h"
#include "tests/support/child_process.h"

#if ROOMQ_BENCH_REDIS
#include <hiredis/hiredis.h>
#endif
#if ROOMQ_BENCH_NATS
#include <nats/nats.h>
#endif

namespace roomq::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The command line; main() fills it before any thread starts, nothing
// writes it after.
struct BenchOptions {
  int subscribers = 4;      // each receives every envelope
  int payload_bytes = 100;  // the envelope's args
  int duration_ms = 3000;   // measured window per run
  int warmup_ms = 300;      // traffic before the window opens
  int rounds = 3;           // runs per relay, alternating
  int hwm = 100000;         // on every socket, relays and clients
  std::string only;         // "" = every relay
  std::string redis_server = "redis-server";
  int redis_batch = 100;
  std::string nats_server = "nats-server";
  int nats_batch = 100;    // core: messages per flush; JetStream: unacknowledged at most
  std::string broker_pub;  // "" = start a broker
  std::string broker_sub;
  std::string proxy_xsub;  // "" = start a proxy
  std::string proxy_xpub;
  int broker_frames_per_message = wire::kMaxDeliveriesPerMessage;
  bool proxy = false;
};
BenchOptions flags;

constexpr char kNamespace[] = "/bench";
constexpr char kRoom[] = "room";

enum class Relay {
  kProxy = 0,
  kBroker = 1,
  kRedis = 2,
  kNats = 3,
  kJetStreamMemory = 4,
  kJetStreamFile = 5
};
constexpr int kRelays = 6;
const char* Name(Relay relay) {
  switch (relay) {
    case Relay::kProxy:
      return "zmq proxy";
    case Relay::kBroker:
      return "roomq-broker";
    case Relay::kRedis:
      return "redis pub/sub";
    case Relay::kNats:
      return "nats core";
    case Relay::kJetStreamMemory:
      return "nats jetstream mem";
    case Relay::kJetStreamFile:
      return "nats jetstream file";
  }
  return "?";
}
// Each relay's name for --only (and in the ratio lines), by Relay value.
constexpr const char* kOnlyNames[kRelays] = {"proxy",     "broker",        "redis",
                                             "nats-core", "jetstream-mem", "jetstream-file"};
bool IsNats(Relay relay) {
  return relay == Relay::kNats || relay == Relay::kJetStreamMemory ||
         relay == Relay::kJetStreamFile;
}
constexpr char kRedisChannel[] = "roomq-bench";
constexpr char kNatsSubject[] = "roomq-bench";

// --proxy: the baseline relay. Prints its endpoints, then relays until killed.
int RunProxy() {
  zmq::context_t context(1);
  zmq::socket_t xsub(context, zmq::socket_type::xsub);
  zmq::socket_t xpub(context, zmq::socket_type::xpub);
  const int hwm = flags.hwm;
  for (zmq::socket_t* socket : {&xsub, &xpub}) {
    socket->set(zmq::sockopt::sndhwm, hwm);
    socket->set(zmq::sockopt::rcvhwm, hwm);
  }
  xsub.bind("tcp://127.0.0.1:*");
  xpub.bind("tcp://127.0.0.1:*");
  std::printf("proxy listening xsub=%s xpub=%s\n", xsub.get(zmq::sockopt::last_endpoint).c_str(),
              xpub.get(zmq::sockopt::last_endpoint).c_str());
  std::fflush(stdout);
  zmq::proxy(xsub, xpub);
  return 0;
}

std::string EncodedEnvelope(int payload_bytes) {
  v1::Envelope envelope;
  envelope.set_version(v1::VERSION_1);
  envelope.set_kind(v1::KIND_EVENT);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_(kNamespace);
  envelope.add_rooms(kRoom);
  envelope.set_event("bench");
  envelope.set_args(std::string(static_cast<size_t>(payload_bytes), 'x'));
  envelope.set_origin("bench-publisher");
  envelope.set_message_id(1);
  return envelope.SerializeAsString();
}

struct Endpoints {
  std::string publish;    // where the publisher connects
  std::string subscribe;  // where subscribers connect
};

// What a run needs from its clients, whatever the relay.
class SubscriberBase {
 public:
  virtual ~SubscriberBase() = default;
  virtual uint64_t received() const = 0;
};
class PublisherBase {
 public:
  virtual ~PublisherBase() = default;
  virtual uint64_t sent() const = 0;
};

// The thread a client runs its loop on. Stop() tells the loop to end and
// joins it; each client calls it first in its destructor, so a loop never
// sees the client's members go.
class LoopThread {
 public:
  ~LoopThread() { Stop(); }
  void Start(std::function<void()> loop) { thread_ = std::thread(std::move(loop)); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool stopping() const { return stop_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One subscriber thread: connects, subscribes, counts received envelopes.
class Subscriber : public SubscriberBase {
 public:
  Subscriber(Relay relay, const Endpoints& endpoints, int index, int hwm)
      : relay_(relay),
        context_(1),
        socket_(context_,
                relay == Relay::kProxy ? zmq::socket_type::sub : zmq::socket_type::dealer) {
    // As roomq::node::Link does: a broker message carries up to 64
    // deliveries, so the receive queue holds hwm deliveries at full batches.
    const int per_message = std::max(1, flags.broker_frames_per_message);
    socket_.set(zmq::sockopt::rcvhwm,
                relay == Relay::kProxy ? hwm : (hwm + per_message - 1) / per_message);
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoints.subscribe);
    if (relay == Relay::kProxy) {
      socket_.set(zmq::sockopt::subscribe, "");
    } else {
      v1::SubscriberCommand hello;
      hello.mutable_hello()->set_version(v1::VERSION_1);
      hello.mutable_hello()->set_node("bench-sub-" + std::to_string(index));
      hello.mutable_hello()->set_heartbeat_ms(60000);
      socket_.send(zmq::buffer(hello.SerializeAsString()));
      v1::SubscriberCommand subscribe;
      subscribe.set_request_id(1);
      *subscribe.mutable_subscribe()->add_topics() =
          wire::ToProto(wire::RoomTopic(kNamespace, kRoom));
      socket_.send(zmq::buffer(subscribe.SerializeAsString()));
    }
    loop_.Start([this] { Loop(); });
  }
  ~Subscriber() override { loop_.Stop(); }

  uint64_t received() const override { return received_.load(std::memory_order_relaxed); }

 private:
  void Loop() {
    zmq::message_t frame;
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    // Every frame is one envelope (the broker packs several frames, each
    // one BrokerFrame, into a message; frames are counted whatever the
    // message). From the broker, a delivery is a BrokerFrame whose first
    // byte is the tag of field 1 (delivery); Replies and Pongs are not.
    const bool any_frame = relay_ == Relay::kProxy;
    while (!loop_.stopping()) {
      if (zmq::poll(&item, 1, milliseconds(50)) == 0) continue;
      while (zmq_msg_recv(frame.handle(), socket_.handle(), ZMQ_DONTWAIT) >= 0) {
        if (any_frame || (frame.size() > 0 && *static_cast<const uint8_t*>(frame.data()) == 0x0a)) {
          received_.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
  }

  const Relay relay_;
  zmq::context_t context_;
  zmq::socket_t socket_;
  std::atomic<uint64_t> received_{0};
  LoopThread loop_;
};

// The publisher thread: sends the same bytes as fast as the relay takes them.
class Publisher : public PublisherBase {
 public:
  Publisher(Relay relay, const Endpoints& endpoints, std::string bytes, int hwm)
      : context_(1),
        socket_(context_,
                relay == Relay::kProxy ? zmq::socket_type::pub : zmq::socket_type::dealer),
        bytes_(std::move(bytes)) {
    socket_.set(zmq::sockopt::sndhwm, hwm);
    socket_.set(zmq::sockopt::linger, 0);
    // Block at the high-water mark like the DEALER, instead of dropping.
    if (relay == Relay::kProxy) socket_.set(zmq::sockopt::xpub_nodrop, true);
    socket_.connect(endpoints.publish);
    loop_.Start([this] { Loop(); });
  }
  ~Publisher() override { loop_.Stop(); }

  uint64_t sent() const override { return sent_.load(std::memory_order_relaxed); }

 private:
  void Loop() {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLOUT, 0};
    while (!loop_.stopping()) {
      zmq::message_t message(bytes_.data(), bytes_.size());
      if (zmq_msg_send(message.handle(), socket_.handle(), ZMQ_DONTWAIT) >= 0) {
        sent_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      // Full (or not connected yet): wait for room without spinning.
      zmq::poll(&item, 1, milliseconds(20));
    }
  }

  zmq::context_t context_;
  zmq::socket_t socket_;
  const std::string bytes_;
  std::atomic<uint64_t> sent_{0};
  LoopThread loop_;
};

#if ROOMQ_BENCH_REDIS
// hiredis contexts are not thread-safe: each client owns one on its thread.
using RedisContext = std::unique_ptr<redisContext, decltype(&redisFree)>;

absl::StatusOr<RedisContext> ConnectRedis(const Endpoints& endpoints) {
  // endpoints.publish == endpoints.subscribe == "host:port".
  const size_t colon = endpoints.publish.rfind(':');
  const std::string host = endpoints.publish.substr(0, colon);
  const int port = std::stoi(endpoints.publish.substr(colon + 1));
  RedisContext context(redisConnect(host.c_str(), port), &redisFree);
  if (context == nullptr || context->err != 0) {
    return absl::UnavailableError(
        absl::StrCat("redis connect: ", context ? context->errstr : "out of memory"));
  }
  return context;
}

// SUBSCRIBEs to the channel and counts "message" pushes. Reads without
// blocking (poll on the fd, then hiredis' reader) so it can stop at once.
class RedisSubscriber : public SubscriberBase {
 public:
  explicit RedisSubscriber(RedisContext context) : context_(std::move(context)) {
    redisAppendCommand(context_.get(), "SUBSCRIBE %s", kRedisChannel);
    int done = 0;
    while (!done && redisBufferWrite(context_.get(), &done) == REDIS_OK) {
    }
    loop_.Start([this] { Loop(); });
  }
  ~RedisSubscriber() override { loop_.Stop(); }
  uint64_t received() const override { return received_.load(std::memory_order_relaxed); }

 private:
  void Loop() {
    redisContext* const c = context_.get();
    while (!loop_.stopping()) {
      pollfd item{c->fd, POLLIN, 0};
      if (::poll(&item, 1, 50) <= 0) continue;
      if (redisBufferRead(c) != REDIS_OK) return;  // closed: the count stops
      void* reply = nullptr;
      uint64_t messages = 0;
      while (redisGetReplyFromReader(c, &reply) == REDIS_OK && reply != nullptr) {
        const auto* r = static_cast<const redisReply*>(reply);
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
            r->element[0]->type == REDIS_REPLY_STRING &&
            std::string_view(r->element[0]->str, r->element[0]->len) == "message") {
          ++messages;
        }
        freeReplyObject(reply);
        reply = nullptr;
      }
      received_.fetch_add(messages, std::memory_order_relaxed);
    }
  }

  RedisContext context_;
  std::atomic<uint64_t> received_{0};
  LoopThread loop_;
};

// PUBLISHes the bytes in pipelined batches: appends --redis-batch commands,
// then reads their replies (the number of receivers) before the next batch.
class RedisPublisher : public PublisherBase {
 public:
  RedisPublisher(RedisContext context, std::string bytes, int batch)
      : context_(std::move(context)), bytes_(std::move(bytes)), batch_(std::max(1, batch)) {
    loop_.Start([this] { Loop(); });
  }
  ~RedisPublisher() override { loop_.Stop(); }
  uint64_t sent() const override { return sent_.load(std::memory_order_relaxed); }

 private:
  void Loop() {
    redisContext* const c = context_.get();
    while (!loop_.stopping()) {
      for (int i = 0; i < batch_; ++i) {
        redisAppendCommand(c, "PUBLISH %s %b", kRedisChannel, bytes_.data(), bytes_.size());
      }
      for (int i = 0; i < batch_; ++i) {
        void* reply = nullptr;
        if (redisGetReply(c, &reply) != REDIS_OK) return;
        freeReplyObject(reply);
      }
      sent_.fetch_add(batch_, std::memory_order_relaxed);
    }
  }

  RedisContext context_;
  const std::string bytes_;
  const int batch_;
  std::atomic<uint64_t> sent_{0};
  LoopThread loop_;
};
#endif  // ROOMQ_BENCH_REDIS

#if ROOMQ_BENCH_NATS
// NATS connections are thread-safe, but each client here owns its own, as
// separate processes would: one connection per subscriber and one for the
// publisher. The library runs a read thread and a flush thread per
// connection, and calls JetStream acknowledgement handlers on a thread of
// its own.
using NatsConnection = std::unique_ptr<natsConnection, decltype(&natsConnection_Destroy)>;
using NatsSubscription = std::unique_ptr<natsSubscription, decltype(&natsSubscription_Destroy)>;
using JetStreamContext = std::unique_ptr<jsCtx, decltype(&jsCtx_Destroy)>;

// What the client library queues for one subscription before it drops
// (counted in the loss column); as much as Redis and nats-server buffer.
constexpr int kNatsPendingBytes = 256 << 20;
// The stream keeps the last 1000 envelopes: the broker's default history
// per topic (broker/config.h).
constexpr int64_t kNatsStreamMessages = 1000;
constexpr char kNatsStream[] = "roomq-bench";

// A failed NATS call as a Status, with the library's text for the code and
// its last error on this thread (which says what exactly failed).
absl::Status NatsError(const std::string& what, natsStatus status) {
  const char* detail = nats_GetLastError(nullptr);
  return absl::UnavailableError(absl::StrCat(what, ": ", natsStatus_GetText(status), " (",
                                             detail != nullptr ? detail : "", ")"));
}

// A client thread that stops on a failed call says so: its count stops too.
void ReportNatsFailure(const char* who, natsStatus status) {
  std::fprintf(stderr, "%s: %s\n", who, natsStatus_GetText(status));
}

// Connects to `url` ("nats://host:port") without reconnecting: a run is over
// when its server goes.
absl::StatusOr<NatsConnection> ConnectNats(const std::string& url, const std::string& name) {
  natsOptions* raw_options = nullptr;
  natsStatus status = natsOptions_Create(&raw_options);
  if (status != NATS_OK) return NatsError("natsOptions_Create", status);
  const std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)> options(raw_options,
                                                                             &natsOptions_Destroy);
  status = natsOptions_SetURL(options.get(), url.c_str());
  if (status == NATS_OK) status = natsOptions_SetName(options.get(), name.c_str());
  if (status == NATS_OK) status = natsOptions_SetAllowReconnect(options.get(), false);
  natsConnection* connection = nullptr;
  if (status == NATS_OK) status = natsConnection_Connect(&connection, options.get());
  if (status != NATS_OK) return NatsError(absl::StrCat("connect to ", url), status);
  return NatsConnection(connection, &natsConnection_Destroy);
}

// Creates the stream the JetStream runs publish to: the subject, in memory
// or in files, the last kNatsStreamMessages kept.
absl::Status AddNatsStream(const std::string& url, jsStorageType storage) {
  auto connection = ConnectNats(url, "bench-setup");
  if (!connection.ok()) return connection.status();
  jsCtx* raw_js = nullptr;
  natsStatus status = natsConnection_JetStream(&raw_js, connection->get(), nullptr);
  if (status != NATS_OK) return NatsError("natsConnection_JetStream", status);
  const JetStreamContext js(raw_js, &jsCtx_Destroy);
  std::array<const char*, 1> subjects = {kNatsSubject};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = kNatsStream;
  config.Subjects = subjects.data();
  config.SubjectsLen = static_cast<int>(subjects.size());
  config.Storage = storage;
  config.MaxMsgs = kNatsStreamMessages;
  jsErrCode error = static_cast<jsErrCode>(0);
  status = js_AddStream(nullptr, js.get(), &config, nullptr, &error);
  if (status != NATS_OK) {
    return NatsError(absl::StrCat("js_AddStream (JetStream error ", static_cast<int>(error), ")"),
                     status);
  }
  return absl::OkStatus();
}

// A core subscription on the subject, on its own connection, polled by its
// own thread (natsSubscription_NextMsg), counting messages. The library's
// read thread queues them for it, up to kNatsPendingBytes.
class NatsSubscriber : public SubscriberBase {
 public:
  static absl::StatusOr<std::unique_ptr<NatsSubscriber>> Start(const std::string& url, int index) {
    auto connection = ConnectNats(url, "bench-sub-" + std::to_string(index));
    if (!connection.ok()) return connection.status();
    natsSubscription* raw = nullptr;
    natsStatus status = natsConnection_SubscribeSync(&raw, connection->get(), kNatsSubject);
    NatsSubscription subscription(raw, &natsSubscription_Destroy);
    if (status == NATS_OK) status = natsSubscription_SetPendingLimits(raw, -1, kNatsPendingBytes);
    // The server answers the flush's PING after it registered the subscription.
    if (status == NATS_OK) status = natsConnection_Flush(connection->get());
    if (status != NATS_OK) return NatsError("subscribe", status);
    return std::unique_ptr<NatsSubscriber>(
        new NatsSubscriber(std::move(*connection), std::move(subscription)));
  }
  ~NatsSubscriber() override {
    loop_.Stop();
    // Closing joins the connection's read thread; only then may the
    // subscription go: libnats 3.4's read thread uses a subscription without
    // holding a reference to it, so destroying it while messages arrive is a
    // use-after-free.
    natsConnection_Close(connection_.get());
    subscription_.reset();
  }
  uint64_t received() const override { return received_.load(std::memory_order_relaxed); }

 private:
  NatsSubscriber(NatsConnection connection, NatsSubscription subscription)
      : connection_(std::move(connection)), subscription_(std::move(subscription)) {
    loop_.Start([this] { Loop(); });
  }

  void Loop() {
    while (!loop_.stopping()) {
      natsMsg* message = nullptr;
      const natsStatus status = natsSubscription_NextMsg(&message, subscription_.get(), 50);
      if (status == NATS_OK) {
        natsMsg_Destroy(message);
        received_.fetch_add(1, std::memory_order_relaxed);
      } else if (status != NATS_TIMEOUT && status != NATS_SLOW_CONSUMER) {
        // Closed, e.g. the server cut this subscriber off.
        return ReportNatsFailure("nats subscriber", status);
      }
      // NATS_SLOW_CONSUMER: the library dropped messages; they are not counted.
    }
  }

  NatsConnection connection_;
  NatsSubscription subscription_;
  std::atomic<uint64_t> received_{0};
  LoopThread loop_;
};

// Core NATS: publishes the bytes in batches of --nats-batch, each followed
// by a flush (a PING the server answers once it has routed every message
// before it), so the server sets the pace as Redis does with --redis-batch.
class NatsPublisher : public PublisherBase {
 public:
  NatsPublisher(NatsConnection connection, std::string bytes, int batch)
      : connection_(std::move(connection)), bytes_(std::move(bytes)), batch_(std::max(1, batch)) {
    loop_.Start([this] { Loop(); });
  }
  ~NatsPublisher() override { loop_.Stop(); }
  uint64_t sent() const override { return sent_.load(std::memory_order_relaxed); }

 private:
  void Loop() {
    natsConnection* const c = connection_.get();
    const int size = static_cast<int>(bytes_.size());
    while (!loop_.stopping()) {
      for (int i = 0; i < batch_; ++i) {
        const natsStatus status = natsConnection_Publish(c, kNatsSubject, bytes_.data(), size);
        if (status != NATS_OK) return ReportNatsFailure("nats publisher", status);
      }
      const natsStatus status = natsConnection_FlushTimeout(c, 10000);
      if (status != NATS_OK) return ReportNatsFailure("nats publisher flush", status);
      sent_.fetch_add(batch_, std::memory_order_relaxed);
    }
  }

  NatsConnection connection_;
  const std::string bytes_;
  const int batch_;
  std::atomic<uint64_t> sent_{0};
  LoopThread loop_;
};

// JetStream: publishes the bytes asynchronously, at most `window` messages
// awaiting the stream's acknowledgement (js_PublishAsync stalls the thread
// past that), and counts as sent what the stream acknowledged: an envelope
// counts once it is kept, as every envelope the broker takes is kept.
class JetStreamPublisher : public PublisherBase {
 public:
  static absl::StatusOr<std::unique_ptr<JetStreamPublisher>> Start(const std::string& url,
                                                                   std::string bytes, int window) {
    auto connection = ConnectNats(url, "bench-publisher");
    if (!connection.ok()) return connection.status();
    std::unique_ptr<JetStreamPublisher> publisher(
        new JetStreamPublisher(std::move(*connection), std::move(bytes)));
    jsOptions options;
    jsOptions_Init(&options);
    options.PublishAsync.MaxPending = std::max(1, window);
    options.PublishAsync.AckHandler = &JetStreamPublisher::OnAck;
    options.PublishAsync.AckHandlerClosure = publisher.get();
    jsCtx* js = nullptr;
    const natsStatus status = natsConnection_JetStream(&js, publisher->connection_.get(), &options);
    if (status != NATS_OK) return NatsError("natsConnection_JetStream", status);
    publisher->js_.reset(js);
    publisher->loop_.Start([p = publisher.get()] { p->Loop(); });
    return publisher;
  }
  ~JetStreamPublisher() override {
    loop_.Stop();
    // Acknowledgements still on their way would call OnAck after this
    // object is gone: wait for them (bounded, in case the server is gone).
    if (js_ != nullptr) {
      jsPubOptions options;
      jsPubOptions_Init(&options);
      options.MaxWait = 5000;
      (void)js_PublishAsyncComplete(js_.get(), &options);
    }
    // As for a subscriber: the connection's read thread stops before the
    // context's reply subscription goes.
    natsConnection_Close(connection_.get());
    js_.reset();
    const uint64_t failed = failed_.load();
    if (failed > 0) {
      std::fprintf(stderr, "nats jetstream: %llu publishes not acknowledged\n",
                   static_cast<unsigned long long>(failed));
    }
  }
  uint64_t sent() const override { return acked_.load(std::memory_order_relaxed); }

 private:
  JetStreamPublisher(NatsConnection connection, std::string bytes)
      : bytes_(std::move(bytes)), connection_(std::move(connection)) {}

  // On the library's thread, once per published message.
  static void OnAck(jsCtx* /*js*/, natsMsg* message, jsPubAck* ack, jsPubAckErr* /*error*/,
                    void* closure) {
    auto* self = static_cast<JetStreamPublisher*>(closure);
    (ack != nullptr ? self->acked_ : self->failed_).fetch_add(1, std::memory_order_relaxed);
    natsMsg_Destroy(message);
  }

  void Loop() {
    const int size = static_cast<int>(bytes_.size());
    while (!loop_.stopping()) {
      const natsStatus status =
          js_PublishAsync(js_.get(), kNatsSubject, bytes_.data(), size, nullptr);
      // NATS_TIMEOUT: the window stayed full for the stall wait (200 ms)
      // and this message was not sent.
      if (status != NATS_OK && status != NATS_TIMEOUT) {
        return ReportNatsFailure("nats jetstream publisher", status);
      }
    }
  }

  const std::string bytes_;
  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> failed_{0};
  LoopThread loop_;
  // Last, so they are closed before the counters OnAck writes go.
  NatsConnection connection_;
  JetStreamContext js_{nullptr, &jsCtx_Destroy};
};
#endif  // ROOMQ_BENCH_NATS

// An executable: `name` itself when it has a slash, else the first match in
// PATH, then in the sbin directories (Debian installs nats-server in
// /usr/sbin, which a user's PATH may lack). Empty when there is none.
std::string FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  const std::string dirs_text = absl::StrCat(
      path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin", ":/usr/local/sbin:/usr/sbin:/sbin");
  std::string_view dirs = dirs_text;
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    std::string candidate = std::string(dirs.substr(0, colon)) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
  }
  return "";
}

// The redis-server executable (--redis-server). Empty when there is none
// (or hiredis was not found at build time).
std::string FindRedisServer() {
#if ROOMQ_BENCH_REDIS
  return FindExecutable(flags.redis_server);
#else
  return "";
#endif
}

// The nats-server executable (--nats-server). Empty when there is none (or
// the NATS C client was not found at build time).
std::string FindNatsServer() {
#if ROOMQ_BENCH_NATS
  return FindExecutable(flags.nats_server);
#else
  return "";
#endif
}

// A loopback TCP port nobody listens on right now (bind to 0, read, close).
absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok) return absl::InternalError("bind/getsockname on 127.0.0.1:0");
  return ntohs(address.sin_port);
}

struct RunResult {
  Relay relay;
  double delivered_per_sub = 0;       // envelopes/s received by each subscriber (mean)
  double published = 0;               // envelopes/s the relay took from the publisher
  double loss = 0;                    // 1 - delivered/published
  double relay_cores = -1;            // CPU the relay process used (1.0 = one core), -1 = unknown
  double relay_us_per_envelope = -1;  // relay CPU time per published envelope
  double relay_io_us_per_envelope = -1;  // of which its ZeroMQ I/O threads (ZMQbg/IO/*)
  double clients_us_per_envelope = -1;   // this process (publisher + subscribers) likewise
};

// CPU time (ns) the threads of `pid` have run so far: the sum of the first
// field of /proc/<pid>/task/*/schedstat (0 when unreadable); with
// io_only, only ZeroMQ's I/O threads (named "ZMQbg/IO/<n>").
uint64_t ProcessCpuNs(pid_t pid, bool io_only = false) {
  uint64_t total = 0;
  std::error_code error;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(dir, error)) {
    if (io_only) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      if (!std::getline(comm, name) || name.rfind("ZMQbg/IO/", 0) != 0) continue;
    }
    std::ifstream schedstat(task.path() / "schedstat");
    uint64_t ns = 0;
    if (schedstat >> ns) total += ns;
  }
  return total;
}

// A directory for one run's nats-server (its config, the JetStream store),
// removed with all it holds when the run ends. RunOnce declares it before
// the relay's child process, so the server is gone first.
struct ScratchDir {
  ScratchDir() = default;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code error;
    if (!path.empty()) std::filesystem::remove_all(path, error);
  }
  std::filesystem::path path;  // empty = none
};

#if ROOMQ_BENCH_NATS
// Starts nats-server on a loopback port it picks (and reports in its log),
// with JetStream and a stream on the subject for the JetStream relays.
absl::StatusOr<Endpoints> StartNats(Relay relay,
                                    std::unique_ptr<test_support::ChildProcess>& server,
                                    ScratchDir& scratch) {
  std::string dir = (std::filesystem::temp_directory_path() / "roomq-bench-nats-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) return absl::InternalError("mkdtemp " + dir);
  scratch.path = dir;
  // Room for a slow subscriber's backlog during a run, as for Redis (the
  // default cuts it off at 64 MiB); there is no command-line flag for it.
  const std::filesystem::path config = scratch.path / "nats.conf";
  std::ofstream(config) << "max_pending: 256MB\n";
  std::vector<std::string> args = {"-c", config.string(), "-a", "127.0.0.1", "-p", "-1"};
  if (relay != Relay::kNats) {
    args.insert(args.end(), {"-js", "-sd", (scratch.path / "store").string()});
  }
  test_support::ChildOptions options;
  options.name = "nats-server";
  options.echo = false;
  auto started = test_support::ChildProcess::Start(FindNatsServer(), args, options);
  if (!started.ok()) return started.status();
  server = std::move(*started);
  static const std::regex kListening(R"(Listening for client connections on (\S+))");
  auto line = server->WaitForLine(kListening, milliseconds(5000));
  if (!line.ok()) return line.status();
  std::smatch match;
  std::regex_search(*line, match, kListening);
  const std::string url = "nats://" + match[1].str();
  if (relay != Relay::kNats) {
    const absl::Status added =
        AddNatsStream(url, relay == Relay::kJetStreamMemory ? js_MemoryStorage : js_FileStorage);
    if (!added.ok()) return added;
  }
  return Endpoints{url, url};
}
#endif  // ROOMQ_BENCH_NATS

// Starts the relay child, returns its endpoints.
absl::StatusOr<Endpoints> StartRelay(Relay relay, test_support::BrokerProcess& broker,
                                     std::unique_ptr<test_support::ChildProcess>& proxy,
                                     ScratchDir& scratch, const char* self) {
  const int hwm = flags.hwm;
  if (IsNats(relay)) {
#if ROOMQ_BENCH_NATS
    return StartNats(relay, proxy, scratch);
#else
    (void)scratch;
    return absl::FailedPreconditionError("built without the NATS C client");
#endif
  }
  if (relay == Relay::kRedis) {
    auto port = FreeLoopbackPort();
    if (!port.ok()) return port.status();
    test_support::ChildOptions options;
    options.name = "redis-server";
    options.echo = false;
    // No persistence, loopback only, and room for a slow subscriber's
    // backlog during a run (the default pubsub limit cuts it off at 32 MiB).
    auto started = test_support::ChildProcess::Start(
        FindRedisServer(),
        {"--port", std::to_string(*port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--protected-mode", "no", "--client-output-buffer-limit", "pubsub", "256mb", "0", "0"},
        options);
    if (!started.ok()) return started.status();
    proxy = std::move(*started);
    auto line = proxy->WaitForLine(std::regex("Ready to accept connections"), milliseconds(5000));
    if (!line.ok()) return line.status();
    const std::string endpoint = absl::StrCat("127.0.0.1:", *port);
    return Endpoints{endpoint, endpoint};
  }
  if (relay == Relay::kBroker && !flags.broker_pub.empty()) {
    return Endpoints{flags.broker_pub, flags.broker_sub};
  }
  if (relay == Relay::kBroker) {
    test_support::BrokerOptions options;
    options.extra_args = {absl::StrFormat("--hwm=%d", hwm)};
    options.child.echo = false;
    auto started = test_support::StartBroker(options);
    if (!started.ok()) return started.status();
    broker = std::move(*started);
    return Endpoints{broker.pub_endpoint, broker.sub_endpoint};
  }
  if (!flags.proxy_xsub.empty()) {
    return Endpoints{flags.proxy_xsub, flags.proxy_xpub};
  }
  test_support::ChildOptions options;
  options.name = "proxy";
  options.echo = false;
  auto started = test_support::ChildProcess::Start(
      self, {"--proxy", absl::StrFormat("--hwm=%d", hwm)}, options);
  if (!started.ok()) return started.status();
  proxy = std::move(*started);
  static const std::regex kListening(R"(proxy listening xsub=(\S+) xpub=(\S+))");
  auto line = proxy->WaitForLine(kListening, milliseconds(5000));
  if (!line.ok()) return line.status();
  std::smatch match;
  std::regex_search(*line, match, kListening);
  return Endpoints{match[1].str(), match[2].str()};
}

absl::StatusOr<RunResult> RunOnce(Relay relay, const char* self) {
  test_support::BrokerProcess broker;
  ScratchDir scratch;
  std::unique_ptr<test_support::ChildProcess> proxy;
  auto endpoints = StartRelay(relay, broker, proxy, scratch, self);
  if (!endpoints.ok()) return endpoints.status();

  const int hwm = flags.hwm;
  const std::string bytes = EncodedEnvelope(flags.payload_bytes);
  std::vector<std::unique_ptr<SubscriberBase>> subscribers;
  std::unique_ptr<PublisherBase> publisher;
  if (relay == Relay::kRedis) {
#if ROOMQ_BENCH_REDIS
    for (int i = 0; i < flags.subscribers; ++i) {
      auto context = ConnectRedis(*endpoints);
      if (!context.ok()) return context.status();
      subscribers.push_back(std::make_unique<RedisSubscriber>(std::move(*context)));
    }
    auto context = ConnectRedis(*endpoints);
    if (!context.ok()) return context.status();
    publisher = std::make_unique<RedisPublisher>(std::move(*context), bytes, flags.redis_batch);
#endif
  } else if (IsNats(relay)) {
#if ROOMQ_BENCH_NATS
    for (int i = 0; i < flags.subscribers; ++i) {
      auto subscriber = NatsSubscriber::Start(endpoints->subscribe, i);
      if (!subscriber.ok()) return subscriber.status();
      subscribers.push_back(std::move(*subscriber));
    }
    if (relay == Relay::kNats) {
      auto connection = ConnectNats(endpoints->publish, "bench-publisher");
      if (!connection.ok()) return connection.status();
      publisher = std::make_unique<NatsPublisher>(std::move(*connection), bytes, flags.nats_batch);
    } else {
      auto started = JetStreamPublisher::Start(endpoints->publish, bytes, flags.nats_batch);
      if (!started.ok()) return started.status();
      publisher = std::move(*started);
    }
#endif
  } else {
    for (int i = 0; i < flags.subscribers; ++i) {
      subscribers.push_back(std::make_unique<Subscriber>(relay, *endpoints, i, hwm));
    }
    // Subscriptions travel asynchronously (XPUB) or are answered with a
    // Reply the subscriber thread does not wait for: start publishing and
    // open the window once every subscriber receives.
    publisher = std::make_unique<Publisher>(relay, *endpoints, bytes, hwm);
  }
  const auto ready_deadline = Clock::now() + milliseconds(10000);
  auto all_receiving = [&] {
    return std::all_of(subscribers.begin(), subscribers.end(),
                       [](const auto& s) { return s->received() > 0; });
  };
  while (!all_receiving()) {
    if (Clock::now() > ready_deadline) {
      return absl::DeadlineExceededError(absl::StrCat(Name(relay), ": subscribers got nothing"));
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  std::this_thread::sleep_for(milliseconds(flags.warmup_ms));

  auto snapshot = [&](std::vector<uint64_t>& received) {
    received.clear();
    for (const auto& s : subscribers) received.push_back(s->received());
    return publisher->sent();
  };
  // The relay's pid: the broker, the proxy, redis-server or nats-server child (0 when external).
  const pid_t relay_pid = broker.process ? broker.process->pid() : proxy ? proxy->pid() : 0;
  std::vector<uint64_t> received_start, received_end;
  const auto start = Clock::now();
  const uint64_t cpu_start = relay_pid != 0 ? ProcessCpuNs(relay_pid) : 0;
  const uint64_t io_cpu_start = relay_pid != 0 ? ProcessCpuNs(relay_pid, /*io_only=*/true) : 0;
  const uint64_t clients_cpu_start = ProcessCpuNs(getpid());
  const uint64_t sent_start = snapshot(received_start);
  std::this_thread::sleep_for(milliseconds(flags.duration_ms));
  const uint64_t sent_end = snapshot(received_end);
  const uint64_t cpu_end = relay_pid != 0 ? ProcessCpuNs(relay_pid) : 0;
  const uint64_t io_cpu_end = relay_pid != 0 ? ProcessCpuNs(relay_pid, /*io_only=*/true) : 0;
  const uint64_t clients_cpu_end = ProcessCpuNs(getpid());
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  RunResult result{relay};
  double delivered = 0;
  for (size_t i = 0; i < subscribers.size(); ++i) delivered += received_end[i] - received_start[i];
  result.delivered_per_sub = delivered / subscribers.size() / seconds;
  result.published = (sent_end - sent_start) / seconds;
  result.loss =
      result.published > 0 ? std::max(0.0, 1.0 - result.delivered_per_sub / result.published) : 0.0;
  if (sent_end > sent_start && clients_cpu_end > clients_cpu_start) {
    result.clients_us_per_envelope =
        (clients_cpu_end - clients_cpu_start) / 1e3 / (sent_end - sent_start);
  }
  if (relay_pid != 0 && cpu_end > cpu_start) {
    const double cpu_seconds = (cpu_end - cpu_start) / 1e9;
    result.relay_cores = cpu_seconds / seconds;
    if (sent_end > sent_start) {
      result.relay_us_per_envelope = 1e6 * cpu_seconds / (sent_end - sent_start);
      result.relay_io_us_per_envelope =
          (io_cpu_end - io_cpu_start) / 1e3 / static_cast<double>(sent_end - sent_start);
    }
  }
  publisher.reset();
  subscribers.clear();
  // nats-server logs each subscriber it cut off for falling behind; its
  // loss shows in the table, this says why.
  if (IsNats(relay) && proxy != nullptr) {
    const int cut_off = proxy->CountLines(std::regex("Slow Consumer"));
    if (cut_off > 0) {
      std::fprintf(stderr, "%s: nats-server reported %d slow consumer(s)\n", Name(relay), cut_off);
    }
  }
  if (broker.process) {
    (void)broker.process->Signal(SIGTERM);
    (void)broker.process->Wait(milliseconds(5000));
  }
  return result;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

int RunBench(const char* self) {
  std::vector<Relay> relays;
  const std::string only = flags.only;
  for (int i = 0; i < kRelays; ++i) {
    if (only.empty() || only == kOnlyNames[i]) relays.push_back(static_cast<Relay>(i));
  }
  auto any = [&relays](auto is) { return std::any_of(relays.begin(), relays.end(), is); };
  auto drop = [&relays](auto is) {
    relays.erase(std::remove_if(relays.begin(), relays.end(), is), relays.end());
  };
  auto is_redis = [](Relay relay) { return relay == Relay::kRedis; };
  if (any(is_redis) && FindRedisServer().empty()) {
#if ROOMQ_BENCH_REDIS
    std::printf("redis-server (--redis-server=%s) not found: skipping the Redis relay\n\n",
                flags.redis_server.c_str());
#else
    std::printf("built without hiredis: skipping the Redis relay\n\n");
#endif
    drop(is_redis);
  }
  if (any(IsNats) && FindNatsServer().empty()) {
#if ROOMQ_BENCH_NATS
    std::printf("nats-server (--nats-server=%s) not found: skipping the NATS relays\n\n",
                flags.nats_server.c_str());
#else
    std::printf("built without the NATS C client (libnats): skipping the NATS relays\n\n");
#endif
    drop(IsNats);
  }
  if (relays.empty()) return 1;  // --only named a relay that cannot run here
  std::printf(
      "roomq broker benchmark: 1 publisher, %d subscribers, %d-byte payload (%zu-byte envelope), "
      "%d ms per run, hwm %d\n\n",
      flags.subscribers, flags.payload_bytes, EncodedEnvelope(flags.payload_bytes).size(),
      flags.duration_ms, flags.hwm);
  std::printf(
      "| round | relay | delivered/s per subscriber | published/s | loss | relay CPU (cores) | "
      "relay CPU µs/envelope | of which zmq I/O thread | clients CPU µs/envelope |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  std::vector<double> rates[kRelays];
  std::vector<double> costs[kRelays];
  // Adjacent runs share the machine's mood; their ratio is steadier than
  // the ratio of medians on a shared box. Broker against each other relay.
  std::vector<double> pair_ratios[kRelays];
  for (int round = 1; round <= flags.rounds; ++round) {
    double round_rates[kRelays] = {};
    for (Relay relay : relays) {
      auto result = RunOnce(relay, self);
      if (!result.ok()) {
        std::fprintf(stderr, "run failed: %s\n", std::string(result.status().message()).c_str());
        return 1;
      }
      std::printf("| %d | %s | %.0f | %.0f | %.1f%% | %.2f | %.2f | %.2f | %.2f |\n", round,
                  Name(relay), result->delivered_per_sub, result->published, 100 * result->loss,
                  result->relay_cores, result->relay_us_per_envelope,
                  result->relay_io_us_per_envelope, result->clients_us_per_envelope);
      std::fflush(stdout);
      const int index = static_cast<int>(relay);
      rates[index].push_back(result->delivered_per_sub);
      round_rates[index] = result->delivered_per_sub;
      if (result->relay_us_per_envelope > 0) costs[index].push_back(result->relay_us_per_envelope);
    }
    const double broker = round_rates[static_cast<int>(Relay::kBroker)];
    for (int other = 0; other < kRelays; ++other) {
      const double rate = round_rates[other];
      if (broker > 0 && rate > 0 && other != static_cast<int>(Relay::kBroker)) {
        pair_ratios[other].push_back(broker / rate);
      }
    }
  }
  std::printf(
      "\n| relay | median delivered/s per subscriber | median relay CPU µs/envelope | roomq-broker "
      "/ relay (medians) | median of round pairs |\n|---|---:|---:|---:|---:|\n");
  const double broker = Median(rates[static_cast<int>(Relay::kBroker)]);
  for (Relay relay : relays) {
    const int index = static_cast<int>(relay);
    const double rate = Median(rates[index]);
    std::string ratio = "";
    std::string pairs = "";
    if (relay != Relay::kBroker && broker > 0 && rate > 0) {
      ratio = absl::StrFormat("%.2fx (%.1f%%)", broker / rate, 100 * broker / rate);
      if (!pair_ratios[index].empty()) {
        const double pair = Median(pair_ratios[index]);
        pairs = absl::StrFormat("%.2fx (%.1f%%)", pair, 100 * pair);
      }
    }
    std::printf("| %s | %.0f | %.2f | %s | %s |\n", Name(relay), rate, Median(costs[index]),
                ratio.c_str(), pairs.c_str());
  }
  const double proxy = Median(rates[static_cast<int>(Relay::kProxy)]);
  const double redis = Median(rates[static_cast<int>(Relay::kRedis)]);
  if (broker > 0 && proxy > 0) {
    std::printf(
        "\nbroker/proxy ratio: %.1f%% of medians, %.1f%% median of round pairs (target >= 85%%)\n",
        100 * broker / proxy, 100 * Median(pair_ratios[static_cast<int>(Relay::kProxy)]));
  }
  if (broker > 0 && redis > 0) {
    std::printf(
        "broker/redis ratio: %.2fx of medians, %.2fx median of round pairs (target >= 3x)\n",
        broker / redis, Median(pair_ratios[static_cast<int>(Relay::kRedis)]));
  }
  for (Relay nats : {Relay::kNats, Relay::kJetStreamMemory, Relay::kJetStreamFile}) {
    const int index = static_cast<int>(nats);
    const double rate = Median(rates[index]);
    if (broker > 0 && rate > 0) {
      std::printf("broker/%s ratio: %.2fx of medians, %.2fx median of round pairs\n",
                  kOnlyNames[index], broker / rate, Median(pair_ratios[index]));
    }
  }
  return 0;
}

}  // namespace
}  // namespace roomq::bench

namespace roomq::bench {
namespace {

void AddOptions(CLI::App& app) {
  base::UseRoomqConventions(app);
  app.add_option("--subscribers", flags.subscribers, "Subscribers (each receives every envelope)")
      ->check(base::AtLeast(1));
  app.add_option("--payload-bytes", flags.payload_bytes, "Size of the envelope's args payload")
      ->check(base::AtLeast(0));
  app.add_option("--duration-ms", flags.duration_ms, "Measured window per run")
      ->check(base::AtLeast(1));
  app.add_option("--warmup-ms", flags.warmup_ms, "Traffic before the window opens")
      ->check(base::AtLeast(0));
  app.add_option("--rounds", flags.rounds, "Runs per relay, alternating");
  app.add_option("--hwm", flags.hwm, "High-water mark on every socket, relays and clients");
  app.add_option("--only", flags.only,
                 "Run only this relay: proxy, broker, redis, nats-core, jetstream-mem or "
                 "jetstream-file")
      ->check(
          CLI::IsMember(std::vector<std::string>(std::begin(kOnlyNames), std::end(kOnlyNames))));
  app.add_option("--redis-server", flags.redis_server,
                 "The redis-server executable (a path, or a name looked up in PATH); missing = no "
                 "Redis relay");
  app.add_option("--redis-batch", flags.redis_batch,
                 "PUBLISH commands pipelined per round trip to Redis");
  app.add_option("--nats-server", flags.nats_server,
                 "The nats-server executable (a path, or a name looked up in PATH and the sbin "
                 "directories); missing = no NATS relays");
  app.add_option("--nats-batch", flags.nats_batch,
                 "NATS core: messages published per flush (a round trip to the server); "
                 "JetStream: messages awaiting their acknowledgement at most")
      ->check(base::AtLeast(1));
  app.add_option("--broker-pub", flags.broker_pub,
                 "Use an already running broker (e.g. under a profiler) at this pub endpoint; "
                 "needs --broker-sub");
  app.add_option("--broker-sub", flags.broker_sub, "Sub endpoint of the already running broker");
  app.add_option("--proxy-xsub", flags.proxy_xsub,
                 "Use an already running proxy (e.g. `roomq-bench-broker --proxy` under a "
                 "profiler); needs --proxy-xpub");
  app.add_option("--proxy-xpub", flags.proxy_xpub, "XPUB endpoint of the already running proxy");
  app.add_option("--broker-frames-per-message", flags.broker_frames_per_message,
                 "The broker subscribers' ZMQ_RCVHWM is --hwm divided by this (as the Link does: a "
                 "broker message holds up to that many deliveries); 1 = the same queue as before "
                 "the batching, for A/B runs");
  app.add_flag("--proxy", flags.proxy, "Internal: run as the XSUB/XPUB proxy child");
}

}  // namespace
}  // namespace roomq::bench

int main(int argc, char** argv) {
  CLI::App app{
      "Envelopes/s through roomq-broker next to a plain XSUB/XPUB proxy, Redis pub/sub and NATS.",
      "roomq-bench-broker"};
  roomq::bench::AddOptions(app);
  roomq::base::ParseCommandLineOrExit(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (roomq::bench::flags.proxy) return roomq::bench::RunProxy();
  // The proxy child is this very binary, wherever it was started from.
  char self[4096];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (length <= 0) {
    std::perror("readlink /proc/self/exe");
    return 1;
  }
  self[length] = '\0';
  const int exit_code = roomq::bench::RunBench(self);
#if ROOMQ_BENCH_NATS
  // Stops the library's threads (a no-op when no NATS relay ran).
  nats_CloseAndWait(2000);
#endif
  return exit_code;
}
