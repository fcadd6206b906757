// roomq-gateway: flags (gateway_flags.h) in, a Gateway (gateway.h) out, run
// until SIGINT or SIGTERM. Everything else lives in the libraries.

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "gateway/server/gateway.h"
#include "gateway/server/gateway_flags.h"
#include "gateway/server/gateway_options.h"
#include "proto/base/command_line.h"
#include "proto/base/flag_file.h"
#include "proto/base/log_options.h"

int main(int argc, char** argv) {
  using roomq::gateway::server::GatewayOptions;
  CLI::App app{
      "Socket.IO-compatible WebSocket/HTTP gateway mapping rooms onto roomq broker topics.",
      "roomq-gateway"};
  roomq::base::UseRoomqConventions(app);
  GatewayOptions options;
  roomq::gateway::server::AddGatewayOptions(app, options);
  roomq::base::LogOptions log;
  roomq::base::AddLogOptions(app, log);
  bool print_config = false;
  roomq::base::AddPrintConfigFlag(app, print_config);
  roomq::base::ParseCommandLineOrExit(app, argc, argv);
  roomq::base::ApplyConfigFileOrExit(app, options.config, print_config, {"namespaces"});
  options.config_flag_keys = roomq::base::FlagKeys(app);
  roomq::base::ApplyLogOptions(log);
  auto gateway = roomq::gateway::server::Gateway::Create(std::move(options));
  if (!gateway.ok()) {
    std::fprintf(stderr, "roomq-gateway: %s (see --help)\n",
                 std::string(gateway.status().message()).c_str());
    return 2;
  }

  // Every thread started from here on inherits the blocked mask; main waits
  // for the signals with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Start() logged why it failed; InvalidArgument is a refused option.
  if (absl::Status started = (*gateway)->Start(); !started.ok()) {
    return absl::IsInvalidArgument(started) ? 2 : 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("roomq-gateway: signal {}, shutting down", signal_number);
  (*gateway)->Shutdown();
  return 0;
}
