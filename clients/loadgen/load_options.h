#ifndef ROOMQ_CLIENTS_LOADGEN_LOAD_OPTIONS_H_
#define ROOMQ_CLIENTS_LOADGEN_LOAD_OPTIONS_H_

// What one roomq-loadgen run does, and what it measured.
//
// Scenarios (all clients are Engine.IO v4 / Socket.IO v5 over the websocket
// transport only, answering every ping):
//  - kFanout: `receivers` clients join room "r0"; `publishers` more clients
//    (not in the room) send the reserved `publish` event ("r0", "m",
//    publisher, seq, send time) at `rate` messages/s in total.
//  - kRooms:  the receivers are split into rooms of `room_size`
//    ("r0", "r1", ...); the publishers cycle over the rooms.
//  - kIdle:   `receivers` clients connect to the namespace and are held for
//    `duration_s` with heartbeats; nothing is published.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace roomq::loadgen {

enum class Scenario { kFanout, kRooms, kIdle };

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string ns = "/";
  Scenario scenario = Scenario::kFanout;
  int receivers = 100;
  int publishers = 1;
  int room_size = 10;
  double rate = 100;              // published messages/s, all publishers together
  double duration_s = 10;         // publish (or hold) window
  double drain_s = 3;             // longest wait for in-flight deliveries after it
  int pad_bytes = 0;              // extra string argument of this size per message
  int connect_concurrency = 256;  // handshakes in flight at once
  double setup_timeout_s = 60;
  std::vector<pid_t> server_pids;  // CPU and RSS are sampled from these
};

struct Report {
  std::string scenario;
  int connections = 0;     // asked for (receivers + publishers)
  int ready = 0;           // reached the ready state (joined / connected)
  int connect_failed = 0;  // never became ready
  int dropped = 0;         // closed by the server or the network after ready
  double setup_s = 0;
  double window_s = 0;  // the publish / hold window actually run
  uint64_t published = 0;
  uint64_t publish_skipped = 0;  // publisher's send queue was over its bound
  uint64_t expected = 0;         // published x members of the target room
  uint64_t delivered = 0;        // unique (publisher, seq) received per receiver
  uint64_t lost = 0;             // expected - delivered after the drain
  uint64_t gaps = 0;             // sequence numbers skipped while receiving
  uint64_t duplicates = 0;
  uint64_t pings_answered = 0;
  double delivered_per_s = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  // Server side, summed over `server_pids` (0 when none were given).
  uint64_t server_cpu_ns = 0;        // during the window + drain
  double server_cpu_ns_per_msg = 0;  // per delivered message
  uint64_t server_rss_before = 0;    // before any client connected
  uint64_t server_rss_held = 0;      // all clients connected
  double server_rss_per_conn = 0;    // (held - before) / ready
  uint64_t loadgen_cpu_ns = 0;       // this process, whole run
};

}  // namespace roomq::loadgen

#endif  // ROOMQ_CLIENTS_LOADGEN_LOAD_OPTIONS_H_
