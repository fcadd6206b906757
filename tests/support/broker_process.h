#ifndef ROOMQ_TESTS_SUPPORT_BROKER_PROCESS_H_
#define ROOMQ_TESTS_SUPPORT_BROKER_PROCESS_H_

// Starts the real build/bin/roomq-broker for integration tests and learns
// the endpoints it actually bound from its start line
//   "roomq-broker listening pub=tcp://127.0.0.1:41001 sub=tcp://127.0.0.1:41002 epoch=123"
// so tests can bind free ports ("tcp://127.0.0.1:*") and later restart a
// broker on the very same endpoints:
//
//   auto broker = StartBroker();                         // free ports
//   ... broker->process->Kill();
//   auto again = StartBroker(broker->SameEndpoints());   // same ports, new epoch
//
// CMake: a test using this must add_dependencies(<test> roomq-broker).
// Thread safety: as ChildProcess.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/child_process.h"

namespace roomq::test_support {

struct BrokerOptions {
  std::string pub_bind = "tcp://127.0.0.1:*";
  std::string sub_bind = "tcp://127.0.0.1:*";
  // More flags, e.g. {"--heartbeat-ms=100", "--hwm=1000"}.
  std::vector<std::string> extra_args;
  // How long to wait for the start line. A broker that exits before it
  // (e.g. the port is still held by a dying predecessor) is started again
  // until this runs out.
  std::chrono::milliseconds start_timeout{5000};
  ChildOptions child;  // name defaults to "roomq-broker"
};

struct BrokerProcess {
  std::unique_ptr<ChildProcess> process;
  std::string pub_endpoint;  // actual, e.g. "tcp://127.0.0.1:41001"
  std::string sub_endpoint;
  uint64_t epoch = 0;

  // Options that bind the same endpoints again (for restart tests).
  BrokerOptions SameEndpoints() const;
  // The port of the broker's /metrics endpoint (started with
  // --metrics-bind=127.0.0.1:0), from its "metrics on" line, which comes
  // before the start line; 0 if there is none.
  int metrics_port() const;
};

// DeadlineExceeded / FailedPrecondition (with the broker's last output) when
// no start line came within start_timeout.
absl::StatusOr<BrokerProcess> StartBroker(BrokerOptions options = {});

}  // namespace roomq::test_support

#endif  // ROOMQ_TESTS_SUPPORT_BROKER_PROCESS_H_
