// roomq-echo: the conformance echo service and the /admin middleware
// example (see echo_service.h).
//   roomq-echo [--broker-pub ENDPOINT] [--broker-sub ENDPOINT]
//              [--curve-server-key FILE --curve-secret-key FILE] [--config FILE]
// Logs "roomq-echo ready" once the broker confirmed its service
// subscriptions; exits 0 on SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <thread>

#include "clients/examples/echo/echo_service.h"
#include "proto/base/command_line.h"
#include "proto/base/flag_file.h"
#include "proto/base/log_options.h"
#include "proto/node/command_line.h"
#include "proto/node/curve.h"
#include "roomq/client.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  roomq::ClientOptions options;
  std::string curve_server_key;
  std::string curve_secret_key;
  CLI::App app{
      "The Socket.IO conformance echo service for namespaces / and /custom, behind\n"
      "roomq gateways: emits `auth` on connection, `message-back` on `message`, acks\n"
      "`message-with-ack`. Serves /admin too: a middleware admits only sockets whose\n"
      "auth has \"role\": \"admin\", and the family ^/tenant-\\w+$: `hello` to the\n"
      "whole tenant on each connection (clients/examples/echo/echo_service.h).",
      "roomq-echo"};
  roomq::base::UseRoomqConventions(app);
  roomq::node::AddBrokerEndpointOptions(app, options.broker_pub, options.broker_sub);
  roomq::node::AddCurveClientOptions(app, curve_server_key, curve_secret_key);
  roomq::base::LogOptions log;
  roomq::base::AddLogOptions(app, log);
  std::string config_path;
  app.add_option("--config", config_path,
                 "YAML config file: any flag as a key (broker_pub: tcp://broker:5555; flags given "
                 "here win)")
      ->check(CLI::ExistingFile);
  bool print_config = false;
  roomq::base::AddPrintConfigFlag(app, print_config);
  roomq::base::ParseCommandLineOrExit(app, argc, argv);
  roomq::base::ApplyConfigFileOrExit(app, config_path, print_config, {});
  roomq::base::ApplyLogOptions(log);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto curve = roomq::node::LoadCurveClientOptions(curve_server_key, curve_secret_key);
  if (!curve.ok()) {
    std::fprintf(stderr, "roomq-echo: %s\n", std::string(curve.status().message()).c_str());
    return 2;
  }
  options.curve = *std::move(curve);
  options.node_prefix = "svc-echo";
  auto client = roomq::Client::Connect(options);
  if (!client.ok()) {
    spdlog::error("roomq-echo: {}", client.status().ToString());
    return 1;
  }
  spdlog::info("roomq-echo starting as node {} (broker pub={} sub={})", (*client)->node_id(),
               options.broker_pub, options.broker_sub);
  const std::vector<std::string> echoed = {"/", "/custom"};
  for (const std::string& ns : echoed) roomq::examples::ServeEcho(**client, ns);
  roomq::examples::ServeAdmin(**client, "/admin");
  const std::string tenants = R"(^/tenant-\w+$)";
  roomq::examples::ServeTenants(**client, tenants);
  const std::vector<std::string> namespaces = {"/", "/custom", "/admin", tenants};
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
        spdlog::info("roomq-echo ready: serving namespaces /, /custom, /admin and {}",
                     namespaces.back());
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
