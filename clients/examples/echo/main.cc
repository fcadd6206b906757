// roomq-echo: the conformance echo service (see echo_service.h).
//   roomq-echo [--broker-pub ENDPOINT] [--broker-sub ENDPOINT]
//              [--curve-server-key FILE --curve-secret-key FILE]
// Logs "roomq-echo ready" once the broker confirmed its service
// subscriptions; exits 0 on SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "clients/cli/command_line.h"
#include "clients/cli/flags.h"
#include "clients/examples/echo/echo_service.h"
#include "roomq/client.h"
#include "roomq/curve.h"
#include "spdlog/spdlog.h"

namespace {

const std::vector<roomq::cli::FlagSpec> kFlags = {
    {"broker-pub", "ENDPOINT", "The broker's publish endpoint (its --pub-bind).",
     roomq::cli::kDefaultBrokerPub},
    {"broker-sub", "ENDPOINT", "The broker's subscribe endpoint (its --sub-bind).",
     roomq::cli::kDefaultBrokerSub},
    {"curve-server-key", "FILE",
     "CURVE: the broker's public key file (NAME.pub); with --curve-secret-key.", ""},
    {"curve-secret-key", "FILE", "CURVE: this service's secret key file (NAME.key).", ""},
};

std::string Usage() {
  return "Usage: roomq-echo [flags]\n"
         "The Socket.IO conformance echo service for namespaces / and /custom, behind\n"
         "roomq gateways: emits `auth` on connection, `message-back` on `message`, acks\n"
         "`message-with-ack`.\n\nFlags:\n" +
         roomq::cli::FlagsHelp(kFlags);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto flags = roomq::cli::ParseFlags(kFlags, args);
  if (flags.ok() && !flags->positional.empty()) {
    flags = absl::InvalidArgumentError("unexpected argument \"" + flags->positional[0] + "\"");
  }
  if (!flags.ok()) {
    std::fprintf(stderr, "roomq-echo: %s\n\n%s", std::string(flags.status().message()).c_str(),
                 Usage().c_str());
    return 2;
  }
  if (flags->help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  roomq::ClientOptions options;
  auto curve = roomq::client::LoadCurveClientOptions(flags->Get("curve-server-key", ""),
                                                     flags->Get("curve-secret-key", ""));
  if (!curve.ok()) {
    std::fprintf(stderr, "roomq-echo: %s\n", std::string(curve.status().message()).c_str());
    return 2;
  }
  options.curve = *std::move(curve);
  options.broker_pub = flags->Get("broker-pub", roomq::cli::kDefaultBrokerPub);
  options.broker_sub = flags->Get("broker-sub", roomq::cli::kDefaultBrokerSub);
  options.node_prefix = "svc-echo";
  auto client = roomq::Client::Connect(options);
  if (!client.ok()) {
    spdlog::error("roomq-echo: {}", client.status().ToString());
    return 1;
  }
  spdlog::info("roomq-echo starting as node {} (broker pub={} sub={})", (*client)->node_id(),
               options.broker_pub, options.broker_sub);
  const std::vector<std::string> namespaces = {"/", "/custom"};
  for (const std::string& ns : namespaces) roomq::examples::ServeEcho(**client, ns);
  // Announce readiness from a helper thread so signals are still handled
  // while the broker is away.
  std::thread announcer([&client, namespaces] {
    for (bool first = true;; first = false) {
      bool ok = true;
      for (const std::string& ns : namespaces) {
        const absl::Status status = (*client)->Of(ns).Listening().get();
        if (absl::IsCancelled(status) || absl::IsFailedPrecondition(status)) return;  // closing
        ok = ok && status.ok();
      }
      if (ok) {
        spdlog::info("roomq-echo ready: serving namespaces / and /custom");
        return;
      }
      if (first) spdlog::warn("roomq-echo: broker not answering yet; retrying");
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("roomq-echo: signal {}, exiting", signal_number);
  (*client)->Close();
  announcer.join();
  return 0;
}
