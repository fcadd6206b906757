#include "clients/cli/run.h"

#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <variant>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "clients/cli/format.h"
#include "proto/base/json.h"
#include "proto/base/log_options.h"
#include "proto/node/curve.h"
#include "proto/node/link.h"
#include "roomq/client.h"

namespace roomq::cli {
namespace {

// Counts confirmations of the events `roomq pub` sent.
class ReceiptTracker {
 public:
  PublishCallback Callback() ABSL_LOCKS_EXCLUDED(mutex_) {
    absl::MutexLock lock(&mutex_);
    ++pending_;
    ++total_;
    return [this](const absl::Status& status) {
      absl::MutexLock lock(&mutex_);
      --pending_;
      if (!status.ok()) {
        ++failed_;
        if (first_error_.empty()) first_error_ = status.ToString();
      }
    };
  }
  // For an event that never reached the queue.
  void Failed(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mutex_) {
    absl::MutexLock lock(&mutex_);
    --pending_;
    ++failed_;
    if (first_error_.empty()) first_error_ = status.ToString();
  }
  // True when nothing is pending any more (before the deadline).
  bool WaitAll(std::chrono::steady_clock::time_point deadline) ABSL_LOCKS_EXCLUDED(mutex_) {
    const auto left = deadline - std::chrono::steady_clock::now();
    absl::MutexLock lock(&mutex_);
    return mutex_.AwaitWithTimeout(absl::Condition(this, &ReceiptTracker::NonePending),
                                   absl::FromChrono(left));
  }
  int pending() ABSL_LOCKS_EXCLUDED(mutex_) {
    absl::MutexLock lock(&mutex_);
    return pending_;
  }
  int failed() ABSL_LOCKS_EXCLUDED(mutex_) {
    absl::MutexLock lock(&mutex_);
    return failed_;
  }
  int total() ABSL_LOCKS_EXCLUDED(mutex_) {
    absl::MutexLock lock(&mutex_);
    return total_;
  }
  std::string first_error() ABSL_LOCKS_EXCLUDED(mutex_) {
    absl::MutexLock lock(&mutex_);
    return first_error_;
  }

 private:
  bool NonePending() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return pending_ == 0; }

  absl::Mutex mutex_;
  int pending_ ABSL_GUARDED_BY(mutex_) = 0;
  int failed_ ABSL_GUARDED_BY(mutex_) = 0;
  int total_ ABSL_GUARDED_BY(mutex_) = 0;
  std::string first_error_ ABSL_GUARDED_BY(mutex_);
};

// Emits, retrying while the client's bounded queue is full.
void EmitOne(const BroadcastOperator& target, const std::string& event, const Args& args,
             ReceiptTracker& tracker) {
  PublishCallback callback = tracker.Callback();
  while (true) {
    absl::Status status = target.Emit(event, args, callback);
    if (status.ok()) return;
    if (!absl::IsResourceExhausted(status)) {
      tracker.Failed(status);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// A client for a one-shot command (`what`: "pub", "sockets"), or nullptr
// after printing why, with the exit status in `exit_code` (2 for unreadable
// CURVE keys, 1 otherwise).
std::unique_ptr<Client> ConnectOneShot(const char* what, const std::string& broker_pub,
                                       const std::string& broker_sub,
                                       const std::string& curve_server_key,
                                       const std::string& curve_secret_key,
                                       std::chrono::milliseconds timeout, int& exit_code) {
  auto curve = node::LoadCurveClientOptions(curve_server_key, curve_secret_key);
  if (!curve.ok()) {
    std::fprintf(stderr, "roomq %s: %s\n", what, std::string(curve.status().message()).c_str());
    exit_code = 2;
    return nullptr;
  }
  ClientOptions options;
  options.curve = *std::move(curve);
  options.broker_pub = broker_pub;
  options.broker_sub = broker_sub;
  options.node_prefix = "cli";
  options.receipt_timeout = timeout;
  auto client = Client::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "roomq %s: %s\n", what, client.status().ToString().c_str());
    exit_code = 1;
    return nullptr;
  }
  return *std::move(client);
}

std::string Describe(const std::string& ns, const std::vector<std::string>& rooms) {
  return rooms.empty() ? "namespace " + ns
                       : "namespace " + ns + " rooms " + absl::StrJoin(rooms, ",");
}

}  // namespace

int RunKeygen(const KeygenCommand& command) {
  auto pair = node::GenerateCurveKeyPair();
  absl::Status status = pair.ok() ? node::WriteCurveKeyPair(*pair, command.base) : pair.status();
  if (!status.ok()) {
    std::fprintf(stderr, "roomq keygen: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  std::printf("%s.key %s.pub public-key %s\n", command.base.c_str(), command.base.c_str(),
              pair->public_key.c_str());
  return 0;
}

int RunPub(const PubCommand& command, std::istream& in) {
  int exit_code = 0;
  std::unique_ptr<Client> client =
      ConnectOneShot("pub", command.broker_pub, command.broker_sub, command.curve_server_key,
                     command.curve_secret_key, command.timeout, exit_code);
  if (client == nullptr) return exit_code;
  BroadcastOperator target = client->Of(command.ns).To(command.rooms).Except(command.except_rooms);
  if (!command.except_socket.empty()) target = target.ExceptSocket(command.except_socket);

  ReceiptTracker tracker;
  int bad_lines = 0;
  if (!command.args.empty()) {
    Args args;
    for (const std::string& arg : command.args) args.Json(arg);
    EmitOne(target, command.event, args, tracker);
  } else {
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      if (absl::Status status = base::ValidateJsonValue(line); !status.ok()) {
        std::fprintf(stderr, "roomq pub: line %d is not JSON (%s), skipped\n", number,
                     std::string(status.message()).c_str());
        ++bad_lines;
        continue;
      }
      EmitOne(target, command.event, Args().Json(line), tracker);
    }
  }
  // Receipts time out inside the client after `timeout`; the extra second
  // only guards against a lost callback.
  const bool all_answered =
      tracker.WaitAll(std::chrono::steady_clock::now() + command.timeout + std::chrono::seconds(1));
  const int failed = tracker.failed() + (all_answered ? 0 : tracker.pending());
  client->Close();
  if (failed > 0) {
    std::fprintf(
        stderr,
        "roomq pub: the broker at %s did not confirm %d of %d event(s) within %lld ms: %s\n",
        command.broker_pub.c_str(), failed, tracker.total(),
        static_cast<long long>(command.timeout.count()), tracker.first_error().c_str());
    return 1;
  }
  return bad_lines > 0 ? 1 : 0;
}

int RunSockets(const SocketsCommand& command) {
  int exit_code = 0;
  std::unique_ptr<Client> client =
      ConnectOneShot("sockets", command.broker_pub, command.broker_sub, command.curve_server_key,
                     command.curve_secret_key, command.timeout, exit_code);
  if (client == nullptr) return exit_code;
  const BroadcastOperator target =
      client->Of(command.ns).To(command.rooms).Except(command.except_rooms);
  // Callbacks run on the client's thread, one at a time: lines are written
  // in page order.
  std::promise<absl::Status> finished;
  absl::Status asked;
  if (command.count) {
    asked = target.CountSockets([&finished](absl::StatusOr<uint64_t> count) {
      if (count.ok()) std::printf("%llu\n", static_cast<unsigned long long>(*count));
      finished.set_value(count.status());
    });
  } else {
    asked = target.FetchSocketPages(
        1000, [&finished](absl::StatusOr<std::vector<SocketInfo>> page, bool last) {
          if (page.ok()) {
            for (const SocketInfo& socket : *page) {
              std::string line = FormatSocketLine(socket);
              line.push_back('\n');
              std::fwrite(line.data(), 1, line.size(), stdout);
            }
          }
          if (last) finished.set_value(page.status());
          return true;
        });
  }
  absl::Status status = asked.ok() ? finished.get_future().get() : asked;
  std::fflush(stdout);
  client->Close();
  if (!status.ok()) {
    std::fprintf(stderr, "roomq sockets: %s (broker %s)\n", status.ToString().c_str(),
                 command.broker_sub.c_str());
    return 1;
  }
  return 0;
}

// `roomq sub --from-offset`: a Link of its own (the high-level Client has
// no resume point), polled on this thread with the signals as a signalfd.
int RunResumingSub(const SubCommand& command, const node::CurveClientOptions& curve,
                   const sigset_t& signals) {
  const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (signal_fd < 0) {
    std::perror("roomq sub: signalfd");
    return 1;
  }
  zmq::context_t context;
  node::LinkOptions options;
  options.pub_endpoint = command.broker_pub;
  options.sub_endpoint = command.broker_sub;
  options.node_prefix = "cli";
  options.curve = curve;
  const std::string room = command.rooms.empty() ? std::string() : command.rooms.front();
  const std::string what = Describe(command.ns, command.rooms);
  node::LinkHandlers handlers;
  handlers.on_delivery = [&command](node::Delivery& delivery) {
    const v1::Envelope& envelope = delivery.envelope;
    if (envelope.kind() != v1::KIND_EVENT || envelope.namespace_() != command.ns) return;
    Message message;
    message.ns = envelope.namespace_();
    message.rooms.assign(envelope.rooms().begin(), envelope.rooms().end());
    message.event = envelope.event();
    message.args_json = envelope.args().empty() ? "[]" : envelope.args();
    message.attachments.assign(envelope.attachments().begin(), envelope.attachments().end());
    message.origin = envelope.origin();
    message.message_id = envelope.message_id();
    message.timestamp_us = envelope.timestamp_us();
    message.epoch = delivery.header.epoch();
    for (const v1::TopicOffset& offset : delivery.header.offsets()) {
      message.offsets.push_back({offset.topic().name(), offset.offset()});
    }
    std::string line = FormatMessageLine(message);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  };
  handlers.on_broker_state = [](bool up) {
    std::fprintf(stderr, "roomq sub: broker %s\n", up ? "up" : "down");
  };
  handlers.on_resumed = [](const v1::ResumeResult& result) {
    std::fprintf(stderr, "roomq sub: replayed %llu from history (newest offset %llu)%s\n",
                 static_cast<unsigned long long>(result.replayed()),
                 static_cast<unsigned long long>(result.last_offset()),
                 result.truncated() ? ", with a gap: history no longer holds part of it" : "");
  };
  auto link = node::Link::Create(context, options, std::move(handlers));
  if (!link.ok()) {
    std::fprintf(stderr, "roomq sub: %s\n", link.status().ToString().c_str());
    close(signal_fd);
    return 1;
  }
  (*link)->Subscribe(
      wire::RoomTopic(command.ns, room),
      [what](const absl::Status& status) {
        if (status.ok()) {
          std::fprintf(stderr, "roomq sub: ready, subscribed to %s\n", what.c_str());
        } else {
          std::fprintf(stderr, "roomq sub: not confirmed yet (%s)\n", status.ToString().c_str());
        }
      },
      node::ResumeFrom{command.epoch, *command.from_offset});
  zmq::pollitem_t items[1] = {{nullptr, signal_fd, ZMQ_POLLIN, 0}};
  while (true) {
    if (absl::Status status = (*link)->Poll(std::chrono::milliseconds(1000), items); !status.ok()) {
      std::fprintf(stderr, "roomq sub: %s\n", status.ToString().c_str());
      break;
    }
    if (items[0].revents & ZMQ_POLLIN) {
      signalfd_siginfo info{};
      [[maybe_unused]] ssize_t ignored = read(signal_fd, &info, sizeof(info));
      std::fprintf(stderr, "roomq sub: signal %u, exiting\n", info.ssi_signo);
      break;
    }
  }
  close(signal_fd);
  return 0;
}

int RunSub(const SubCommand& command) {
  // Block the signals before the client's thread starts so only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto curve = node::LoadCurveClientOptions(command.curve_server_key, command.curve_secret_key);
  if (!curve.ok()) {
    std::fprintf(stderr, "roomq sub: %s\n", std::string(curve.status().message()).c_str());
    return 2;
  }
  if (command.from_offset.has_value()) return RunResumingSub(command, *curve, signals);

  ClientOptions options;
  options.curve = *std::move(curve);
  options.broker_pub = command.broker_pub;
  options.broker_sub = command.broker_sub;
  options.node_prefix = "cli";
  options.on_broker_state = [](bool up) {
    std::fprintf(stderr, "roomq sub: broker %s\n", up ? "up" : "down");
  };
  auto client = Client::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "roomq sub: %s\n", client.status().ToString().c_str());
    return 1;
  }
  const std::string what = Describe(command.ns, command.rooms);
  Subscription subscription =
      (*client)
          ->Of(command.ns)
          .Subscribe(
              command.rooms,
              [](const Message& message) {
                std::string line = FormatMessageLine(message);
                line.push_back('\n');
                std::fwrite(line.data(), 1, line.size(), stdout);
                std::fflush(stdout);
              },
              [what, broker = command.broker_sub](const absl::Status& status) {
                if (status.ok()) {
                  std::fprintf(stderr, "roomq sub: ready, subscribed to %s\n", what.c_str());
                } else {
                  std::fprintf(stderr,
                               "roomq sub: not confirmed yet by the broker at %s (%s); "
                               "will subscribe as soon as it answers\n",
                               broker.c_str(), status.ToString().c_str());
                }
              });
  if (!subscription.active()) {
    std::fprintf(stderr, "roomq sub: %s\n", subscription.ready().get().ToString().c_str());
    return 2;
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::fprintf(stderr, "roomq sub: signal %d, exiting\n", signal_number);
  subscription.Cancel();
  (*client)->Close();
  return 0;
}

int Main(int argc, char** argv) {
  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  auto command = ParseCommandLine(args);
  if (!command.ok()) {
    std::fprintf(stderr, "roomq: %s\n\n%s", std::string(command.status().message()).c_str(),
                 UsageFor(args).c_str());
    return 2;
  }
  std::visit(
      [](const auto& parsed) {
        if constexpr (requires { parsed.log; }) {
          base::ApplyLogOptions(parsed.log);
        } else {
          base::ApplyLogOptions(kDefaultLogOptions);
        }
      },
      *command);
  if (auto* help = std::get_if<HelpCommand>(&*command)) {
    std::fputs(help->text.c_str(), stdout);
    return 0;
  }
  if (auto* pub = std::get_if<PubCommand>(&*command)) return RunPub(*pub, std::cin);
  if (auto* keygen = std::get_if<KeygenCommand>(&*command)) return RunKeygen(*keygen);
  if (auto* sockets = std::get_if<SocketsCommand>(&*command)) return RunSockets(*sockets);
  return RunSub(std::get<SubCommand>(*command));
}

}  // namespace roomq::cli
