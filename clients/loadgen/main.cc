// roomq-loadgen: flags in, one load scenario run, a table and a JSON line out.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/types.h>

#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "clients/loadgen/load_generator.h"
#include "clients/loadgen/report.h"
#include "proto/base/command_line.h"
#include "proto/base/log_options.h"

int main(int argc, char** argv) {
  namespace loadgen = roomq::loadgen;
  using loadgen::Scenario;
  loadgen::LoadOptions options;
  bool json_only = false;
  CLI::App app{"Socket.IO WebSocket load generator: fan-out, many rooms, idle connections.",
               "roomq-loadgen"};
  roomq::base::UseRoomqConventions(app);
  app.add_option("--host", options.host, "Server IPv4 address");
  app.add_option("--port", options.port, "Server port (required)")->check(CLI::Range(0, 65535));
  app.add_option("--namespace", options.ns, "Socket.IO namespace every client connects to");
  roomq::base::AddChoice(
      app, "--scenario", options.scenario,
      {{"fanout", Scenario::kFanout}, {"rooms", Scenario::kRooms}, {"idle", Scenario::kIdle}},
      "fanout | rooms | idle");
  app.add_option("--receivers", options.receivers, "Receiving clients (idle: connections held)");
  app.add_option("--publishers", options.publishers,
                 "Publishing clients (not in any room; not used by idle)");
  app.add_option("--room-size", options.room_size, "rooms: receivers per room");
  app.add_option("--rate", options.rate, "Messages published per second, all publishers together");
  app.add_option("--duration-s", options.duration_s, "Publish window (idle: hold time) in seconds");
  app.add_option("--drain-s", options.drain_s,
                 "Longest wait for in-flight deliveries after the window");
  app.add_option("--pad-bytes", options.pad_bytes,
                 "Extra string argument of this many bytes per message")
      ->check(roomq::base::AtLeast(0));
  app.add_option("--connect-concurrency", options.connect_concurrency,
                 "Handshakes in flight at once")
      ->check(roomq::base::AtLeast(1));
  app.add_option("--setup-timeout-s", options.setup_timeout_s,
                 "Longest time for all clients to become ready");
  app.add_option("--server-pid", options.server_pids,
                 "Server PID whose CPU time and RSS are measured (repeatable; all summed)")
      ->check(CLI::Range(1, std::numeric_limits<pid_t>::max()));
  app.add_flag("--json-only", json_only, "Print only the JSON line");
  roomq::base::LogOptions log;
  roomq::base::AddLogOptions(app, log);
  roomq::base::ParseCommandLineOrExit(app, argc, argv);
  spdlog::set_default_logger(spdlog::stderr_color_mt("loadgen"));
  roomq::base::ApplyLogOptions(log);

  auto report = loadgen::RunLoad(options);
  if (!report.ok()) {
    std::fprintf(stderr, "roomq-loadgen: %s\n", std::string(report.status().message()).c_str());
    return 1;
  }
  if (!json_only) std::fputs(loadgen::FormatTable(*report).c_str(), stdout);
  std::puts(loadgen::FormatJson(*report).c_str());
  return 0;
}
