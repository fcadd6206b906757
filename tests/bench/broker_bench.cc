// roomq-bench-broker: envelopes/s through the real roomq-broker next to a
// plain ZeroMQ XSUB/XPUB proxy relaying the same bytes, in one run, so the
// broker's overhead is a measured ratio; and next to Redis pub/sub, the bus
// Socket.IO's Redis adapter uses, when redis-server is installed.
//
// Each run starts the relay as a child process (the broker binary, this
// binary in --proxy mode running zmq::proxy, or redis-server on a free
// loopback port without persistence), connects 1 publisher and N
// subscribers (each in its own thread and ZeroMQ context, as separate
// processes would be), lets the publisher send one pre-encoded Envelope as
// fast as the relay takes it for --duration-ms, and counts what every
// subscriber received inside that window. Runs alternate (proxy, broker,
// redis, proxy, ...) for --rounds rounds so drift on a shared machine hits
// them all.
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
//
// Prints a markdown table: per run, and the median per relay with the
// ratio broker/proxy. Not a test: no assertion on rates (the CTest smoke
// run only proves the harness works).

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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

enum class Relay { kProxy = 0, kBroker = 1, kRedis = 2 };
constexpr int kRelays = 3;
const char* Name(Relay relay) {
  switch (relay) {
    case Relay::kProxy:
      return "zmq proxy";
    case Relay::kBroker:
      return "roomq-broker";
    case Relay::kRedis:
      return "redis pub/sub";
  }
  return "?";
}
constexpr char kRedisChannel[] = "roomq-bench";

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
    thread_ = std::thread([this] { Loop(); });
  }
  ~Subscriber() override {
    stop_ = true;
    thread_.join();
  }

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
    while (!stop_) {
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
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> received_{0};
  std::thread thread_;
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
    thread_ = std::thread([this] { Loop(); });
  }
  ~Publisher() override {
    stop_ = true;
    thread_.join();
  }

  uint64_t sent() const override { return sent_.load(std::memory_order_relaxed); }

 private:
  void Loop() {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLOUT, 0};
    while (!stop_) {
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
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sent_{0};
  std::thread thread_;
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
    thread_ = std::thread([this] { Loop(); });
  }
  ~RedisSubscriber() override {
    stop_ = true;
    thread_.join();
  }
  uint64_t received() const override { return received_.load(std::memory_order_relaxed); }

 private:
  void Loop() {
    redisContext* const c = context_.get();
    while (!stop_) {
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
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> received_{0};
  std::thread thread_;
};

// PUBLISHes the bytes in pipelined batches: appends --redis-batch commands,
// then reads their replies (the number of receivers) before the next batch.
class RedisPublisher : public PublisherBase {
 public:
  RedisPublisher(RedisContext context, std::string bytes, int batch)
      : context_(std::move(context)), bytes_(std::move(bytes)), batch_(std::max(1, batch)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~RedisPublisher() override {
    stop_ = true;
    thread_.join();
  }
  uint64_t sent() const override { return sent_.load(std::memory_order_relaxed); }

 private:
  void Loop() {
    redisContext* const c = context_.get();
    while (!stop_) {
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
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sent_{0};
  std::thread thread_;
};
#endif  // ROOMQ_BENCH_REDIS

// The redis-server executable: --redis-server as a path, or looked up in
// PATH. Empty when there is none (or hiredis was not found at build time).
std::string FindRedisServer() {
#if ROOMQ_BENCH_REDIS
  const std::string name = flags.redis_server;
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    std::string candidate = std::string(dirs.substr(0, colon)) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
  }
#endif
  return "";
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

// Starts the relay child, returns its endpoints.
absl::StatusOr<Endpoints> StartRelay(Relay relay, test_support::BrokerProcess& broker,
                                     std::unique_ptr<test_support::ChildProcess>& proxy,
                                     const char* self) {
  const int hwm = flags.hwm;
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
  std::unique_ptr<test_support::ChildProcess> proxy;
  auto endpoints = StartRelay(relay, broker, proxy, self);
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
  // The relay's pid: the broker, the proxy or redis-server child (0 when external).
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
  if (only.empty() || only == "proxy") relays.push_back(Relay::kProxy);
  if (only.empty() || only == "broker") relays.push_back(Relay::kBroker);
  if (only.empty() || only == "redis") {
    if (!FindRedisServer().empty()) {
      relays.push_back(Relay::kRedis);
    } else {
#if ROOMQ_BENCH_REDIS
      std::printf("redis-server (--redis-server=%s) not found: skipping the Redis relay\n\n",
                  flags.redis_server.c_str());
#else
      std::printf("built without hiredis: skipping the Redis relay\n\n");
#endif
      if (only == "redis") return 1;
    }
  }
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
    double round_rates[kRelays] = {0, 0, 0};
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
    for (Relay other : {Relay::kProxy, Relay::kRedis}) {
      const double rate = round_rates[static_cast<int>(other)];
      if (broker > 0 && rate > 0) pair_ratios[static_cast<int>(other)].push_back(broker / rate);
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
  app.add_option("--only", flags.only, "Run only this relay: proxy, broker or redis")
      ->check(CLI::IsMember({"proxy", "broker", "redis"}));
  app.add_option("--redis-server", flags.redis_server,
                 "The redis-server executable (a path, or a name looked up in PATH); missing = no "
                 "Redis relay");
  app.add_option("--redis-batch", flags.redis_batch,
                 "PUBLISH commands pipelined per round trip to Redis");
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
      "Envelopes/s through roomq-broker next to a plain XSUB/XPUB proxy and Redis pub/sub.",
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
  return roomq::bench::RunBench(self);
}
