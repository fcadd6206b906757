#ifndef ROOMQ_BROKER_CONFIG_H_
#define ROOMQ_BROKER_CONFIG_H_

// The broker's optional YAML config (--config FILE): history limits and the
// session store, next to any of its flags as keys (hwm: 1000; main.cc reads
// those with proto/base/flag_file.h). Every key is optional; an unknown key, a wrong type or a
// bad value is an error naming the file, line and column, and the key's
// path (e.g. 'history.namespaces./chat.max_age'). Durations take a unit
// (proto/base/yaml_config.h): 500ms, 30s, 2m, 1h.
//
//   history:
//     max_messages: 1000        # per topic, for every namespace (0 = no history)
//     max_age: 2m               # an envelope older than this is evicted
//     max_bytes: 268435456      # all history together (oldest evicted first)
//     namespaces:               # overrides; unset fields inherit the values above
//       /chat: { max_messages: 5000, max_age: 10m }
//       /telemetry: { max_messages: 0 }
//   sessions:                   # socket records (broker/sockets/socket_index.h)
//     max_records: 1000000      # connected and disconnected together
//     max_bytes: 536870912      # their encoded sizes summed
//     max_ttl: 10m              # a record's ttl_ms is clamped to this
//   (at either bound the disconnected record expiring soonest is evicted;
//   with none left a new socket's record is refused)
//
// max_age is 1ms to 2^40 ms, max_ttl 1ms to 2^32 ms. Their older spellings
// max_age_ms and max_ttl_ms (bare milliseconds, same bounds) are still read,
// with a warning naming the new key; giving both spellings in one map is an
// error. The retired sessions.max_sessions is refused, naming max_records.
//
// Thread safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/history/history.h"
#include "broker/sockets/socket_index.h"

namespace roomq::broker {

struct BrokerConfig {
  history::HistoryOptions history;
  sockets::SocketIndexOptions sessions;
};

// Parses YAML text; `source` names it in errors. InvalidArgument on any
// problem. Top-level `flag_keys` are the broker's flags, which the flag
// layer reads (proto/base/flag_file.h); they are skipped here.
absl::StatusOr<BrokerConfig> ParseBrokerConfig(std::string_view yaml, std::string_view source,
                                               const std::vector<std::string>& flag_keys = {});

}  // namespace roomq::broker

#endif  // ROOMQ_BROKER_CONFIG_H_
