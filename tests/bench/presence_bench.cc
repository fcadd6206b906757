// roomq-bench-presence: how long a presence query takes (Client::FetchSockets,
// CountSockets; proto/README.md "Presence") for one room of N sockets, all
// answered by a real roomq-broker from its socket records. A raw Link plays
// the gateway that holds the sockets (it sends their records, as a gateway's
// bridge does); a roomq::Client asks. Prints p50 / p99 / max per query kind.
//
//   roomq-bench-presence [--sockets 10000] [--rounds 50]
//
// No comparison in the same run: Socket.IO's fetchSockets() asks every
// server and waits for all, a different shape of cost (README "Performance").

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "CLI/CLI.hpp"
#include "proto/base/command_line.h"
#include "proto/node/link.h"
#include "roomq/client.h"
#include "tests/support/broker_process.h"

namespace roomq::bench {
namespace {

struct Flags {
  int sockets = 10000;
  int rounds = 50;
} flags;

constexpr char kNamespace[] = "/bench";
constexpr char kRoom[] = "big";

using Clock = std::chrono::steady_clock;

struct Summary {
  double p50_ms, p99_ms, max_ms;
};

Summary Summarize(std::vector<double> samples_ms) {
  std::sort(samples_ms.begin(), samples_ms.end());
  auto at = [&](double q) {
    return samples_ms[std::min(samples_ms.size() - 1,
                               static_cast<size_t>(q * static_cast<double>(samples_ms.size())))];
  };
  return {at(0.50), at(0.99), samples_ms.back()};
}

// Sends the records of `count` sockets in `kRoom`, in commands of 1000, and
// polls until the broker has taken them (it answers the Ping after them).
absl::Status OpenSockets(node::Link& gateway, int count) {
  for (int begin = 0; begin < count; begin += 1000) {
    v1::Sockets batch;
    for (int i = begin; i < std::min(count, begin + 1000); ++i) {
      v1::Session& session = *batch.add_updates()->mutable_open()->mutable_session();
      const std::string id = "socket-" + std::to_string(1000000 + i);
      session.set_namespace_(kNamespace);
      session.set_socket_id(id);
      session.add_rooms(id);
      session.add_rooms(kRoom);
      session.set_address("127.0.0.1:40000");
      session.set_user_agent("roomq-bench-presence");
      session.set_data(R"({"user":"u)" + std::to_string(i) + R"(","role":"member"})");
    }
    gateway.SendSockets(std::move(batch));
  }
  return absl::OkStatus();
}

template <typename Ask>
absl::StatusOr<std::vector<double>> Time(int rounds, Ask ask) {
  std::vector<double> samples;
  for (int round = 0; round < rounds; ++round) {
    std::promise<absl::Status> done;
    const Clock::time_point start = Clock::now();
    if (absl::Status status = ask(done); !status.ok()) return status;
    if (absl::Status status = done.get_future().get(); !status.ok()) return status;
    samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return samples;
}

int Run() {
  auto broker = test_support::StartBroker();
  if (!broker.ok()) {
    std::fprintf(stderr, "broker: %s\n", broker.status().ToString().c_str());
    return 1;
  }
  zmq::context_t context;
  node::LinkOptions link_options;
  link_options.pub_endpoint = broker->pub_endpoint;
  link_options.sub_endpoint = broker->sub_endpoint;
  link_options.node_prefix = "gw-bench";
  auto gateway = node::Link::Create(context, link_options, {.on_delivery = [](node::Delivery&) {}});
  if (!gateway.ok()) {
    std::fprintf(stderr, "link: %s\n", gateway.status().ToString().c_str());
    return 1;
  }
  // Hello first: the broker drops socket records of a node it does not know.
  while (!(*gateway)->broker_connected()) (void)(*gateway)->Poll(std::chrono::milliseconds(10));
  (void)OpenSockets(**gateway, flags.sockets);

  ClientOptions options;
  options.broker_pub = broker->pub_endpoint;
  options.broker_sub = broker->sub_endpoint;
  options.receipt_timeout = std::chrono::seconds(30);
  auto client = Client::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "client: %s\n", client.status().ToString().c_str());
    return 1;
  }
  const BroadcastOperator room = (*client)->Of(kNamespace).In(kRoom);
  // The records went on the gateway's connection: wait until all are in.
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(60);
  uint64_t present = 0;
  while (present != static_cast<uint64_t>(flags.sockets) && Clock::now() < deadline) {
    (void)(*gateway)->Poll(std::chrono::milliseconds(1));
    std::promise<uint64_t> count;
    (void)room.CountSockets(
        [&](const absl::StatusOr<uint64_t>& n) { count.set_value(n.value_or(0)); });
    present = count.get_future().get();
  }
  if (present != static_cast<uint64_t>(flags.sockets)) {
    std::fprintf(stderr, "the broker holds %llu of %d sockets\n",
                 static_cast<unsigned long long>(present), flags.sockets);
    return 1;
  }

  auto fetch_all = Time(flags.rounds, [&](std::promise<absl::Status>& done) {
    return room.FetchSockets([&](absl::StatusOr<std::vector<SocketInfo>> all) {
      done.set_value(!all.ok() ? all.status()
                     : all->size() == static_cast<size_t>(flags.sockets)
                         ? absl::OkStatus()
                         : absl::InternalError("a socket is missing"));
    });
  });
  auto first_page = Time(flags.rounds, [&](std::promise<absl::Status>& done) {
    return room.FetchSocketPages(1000,
                                 [&](const absl::StatusOr<std::vector<SocketInfo>>& page, bool) {
                                   done.set_value(page.status());
                                   return false;
                                 });
  });
  auto count = Time(flags.rounds, [&](std::promise<absl::Status>& done) {
    return room.CountSockets(
        [&](const absl::StatusOr<uint64_t>& n) { done.set_value(n.status()); });
  });
  (*client)->Close();
  for (const auto& [name, samples] : {std::pair{"FetchSockets (all)", &fetch_all},
                                      std::pair{"FetchSocketPages (first 1000)", &first_page},
                                      std::pair{"CountSockets", &count}}) {
    if (!samples->ok()) {
      std::fprintf(stderr, "%s: %s\n", name, samples->status().ToString().c_str());
      return 1;
    }
    const Summary summary = Summarize(**samples);
    std::printf("%-30s sockets=%d rounds=%d p50=%.2f ms p99=%.2f ms max=%.2f ms\n", name,
                flags.sockets, flags.rounds, summary.p50_ms, summary.p99_ms, summary.max_ms);
  }
  return 0;
}

}  // namespace
}  // namespace roomq::bench

int main(int argc, char** argv) {
  CLI::App app{"Presence query latency for one room of N sockets, answered by roomq-broker.",
               "roomq-bench-presence"};
  roomq::base::UseRoomqConventions(app);
  app.add_option("--sockets", roomq::bench::flags.sockets, "Sockets in the room")
      ->check(roomq::base::AtLeast(1));
  app.add_option("--rounds", roomq::bench::flags.rounds, "Queries of each kind")
      ->check(roomq::base::AtLeast(1));
  roomq::base::ParseCommandLineOrExit(app, argc, argv);
  return roomq::bench::Run();
}
