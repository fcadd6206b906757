#include "tests/support/broker_process.h"

#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/support/binaries.h"

namespace roomq::test_support {

int BrokerProcess::metrics_port() const {
  static const std::regex kMetricsLine(
      "roomq-broker metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics");
  for (const std::string& line : process->Lines()) {
    std::smatch match;
    if (std::regex_search(line, match, kMetricsLine)) return std::stoi(match[1]);
  }
  return 0;
}

BrokerOptions BrokerProcess::SameEndpoints() const {
  BrokerOptions options;
  options.pub_bind = pub_endpoint;
  options.sub_bind = sub_endpoint;
  return options;
}

absl::StatusOr<BrokerProcess> StartBroker(BrokerOptions options) {
  static const std::regex kListening(R"(roomq-broker listening pub=(\S+) sub=(\S+) epoch=(\d+))");
  if (options.child.name.empty()) options.child.name = "roomq-broker";
  std::vector<std::string> args = {"--pub-bind=" + options.pub_bind,
                                   "--sub-bind=" + options.sub_bind};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());

  const Deadline deadline = DeadlineIn(options.start_timeout);
  while (true) {
    auto process = ChildProcess::Start(BinaryPath("roomq-broker"), args, options.child);
    if (!process.ok()) return process.status();
    absl::StatusOr<std::string> line = (*process)->WaitForLine(kListening, deadline);
    if (line.ok()) {
      std::smatch match;
      std::regex_search(*line, match, kListening);
      BrokerProcess broker;
      broker.process = std::move(*process);
      broker.pub_endpoint = match[1].str();
      broker.sub_endpoint = match[2].str();
      broker.epoch = std::stoull(match[3].str());
      return broker;
    }
    // Output closed before the line: the broker failed to start. Retry while
    // there is time (a restarted broker may race its predecessor's exit).
    if (!absl::IsFailedPrecondition(line.status()) || Clock::now() >= deadline) {
      return line.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace roomq::test_support
