// roomq-loadgen: flags in, one load scenario run, a table and a JSON line out.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "clients/loadgen/load_generator.h"
#include "clients/loadgen/report.h"
#include "proto/base/command_line.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Server IPv4 address");
ABSL_FLAG(int32_t, port, 0, "Server port (required)");
ABSL_FLAG(std::string, namespace, "/", "Socket.IO namespace every client connects to");
ABSL_FLAG(std::string, scenario, "fanout", "fanout | rooms | idle");
ABSL_FLAG(int32_t, receivers, 100, "Receiving clients (idle: connections held)");
ABSL_FLAG(int32_t, publishers, 1, "Publishing clients (not in any room; not used by idle)");
ABSL_FLAG(int32_t, room_size, 10, "rooms: receivers per room");
ABSL_FLAG(double, rate, 100, "Messages published per second, all publishers together");
ABSL_FLAG(double, duration_s, 10, "Publish window (idle: hold time) in seconds");
ABSL_FLAG(double, drain_s, 3, "Longest wait for in-flight deliveries after the window");
ABSL_FLAG(int32_t, pad_bytes, 0, "Extra string argument of this many bytes per message");
ABSL_FLAG(int32_t, connect_concurrency, 256, "Handshakes in flight at once");
ABSL_FLAG(double, setup_timeout_s, 60, "Longest time for all clients to become ready");
ABSL_FLAG(std::vector<std::string>, server_pid, {},
          "Server PID whose CPU time and RSS are measured (repeatable; all summed)");
ABSL_FLAG(bool, json_only, false, "Print only the JSON line");

namespace {

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "roomq-loadgen: %s (see --help)\n", message.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  namespace loadgen = roomq::loadgen;
  roomq::base::ParseFlagsOrExit(
      argc, argv, "Socket.IO WebSocket load generator: fan-out, many rooms, idle connections.",
      "clients/loadgen/main.cc");
  spdlog::set_default_logger(spdlog::stderr_color_mt("loadgen"));

  loadgen::LoadOptions options;
  options.host = absl::GetFlag(FLAGS_host);
  options.port = absl::GetFlag(FLAGS_port);
  options.ns = absl::GetFlag(FLAGS_namespace);
  const std::string scenario = absl::GetFlag(FLAGS_scenario);
  if (scenario == "fanout") {
    options.scenario = loadgen::Scenario::kFanout;
  } else if (scenario == "rooms") {
    options.scenario = loadgen::Scenario::kRooms;
  } else if (scenario == "idle") {
    options.scenario = loadgen::Scenario::kIdle;
  } else {
    UsageError("--scenario must be fanout, rooms or idle");
  }
  options.receivers = absl::GetFlag(FLAGS_receivers);
  options.publishers = absl::GetFlag(FLAGS_publishers);
  options.room_size = absl::GetFlag(FLAGS_room_size);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.duration_s = absl::GetFlag(FLAGS_duration_s);
  options.drain_s = absl::GetFlag(FLAGS_drain_s);
  options.pad_bytes = absl::GetFlag(FLAGS_pad_bytes);
  options.connect_concurrency = absl::GetFlag(FLAGS_connect_concurrency);
  options.setup_timeout_s = absl::GetFlag(FLAGS_setup_timeout_s);
  if (options.pad_bytes < 0 || options.connect_concurrency < 1) {
    UsageError("--pad-bytes must be >= 0 and --connect-concurrency >= 1");
  }
  for (const std::string& text : absl::GetFlag(FLAGS_server_pid)) {
    int pid = 0;
    if (!absl::SimpleAtoi(text, &pid) || pid <= 0) UsageError("--server-pid: not a PID: " + text);
    options.server_pids.push_back(static_cast<pid_t>(pid));
  }

  auto report = loadgen::RunLoad(options);
  if (!report.ok()) {
    std::fprintf(stderr, "roomq-loadgen: %s\n", std::string(report.status().message()).c_str());
    return 1;
  }
  if (!absl::GetFlag(FLAGS_json_only)) std::fputs(loadgen::FormatTable(*report).c_str(), stdout);
  std::puts(loadgen::FormatJson(*report).c_str());
  return 0;
}
