#ifndef ROOMQ_BROKER_CONFIG_H_
#define ROOMQ_BROKER_CONFIG_H_

// The broker's optional YAML config (--config FILE): history limits and the
// session store. Every key is optional; an unknown key, a wrong type or a
// bad value is an error naming the file, line and column.
//
//   history:
//     max_messages: 1000        # per topic, for every namespace (0 = no history)
//     max_age_ms: 120000        # an envelope older than this is evicted
//     max_bytes: 268435456      # all history together (oldest evicted first)
//     namespaces:               # overrides; unset fields inherit the values above
//       /chat: { max_messages: 5000, max_age_ms: 600000 }
//       /telemetry: { max_messages: 0 }
//   sessions:
//     max_sessions: 100000      # saved Socket.IO sessions (soonest-expiring evicted)
//     max_bytes: 67108864       # their encoded sizes summed (the same eviction)
//     max_ttl_ms: 600000        # a SaveSession ttl is clamped to this
//
// Thread safety: pure functions.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "broker/history/history.h"
#include "broker/history/session_store.h"

namespace roomq::broker {

struct BrokerConfig {
  history::HistoryOptions history;
  history::SessionOptions sessions;
};

// Parses YAML text; `source` names it in errors. InvalidArgument on any
// problem.
absl::StatusOr<BrokerConfig> ParseBrokerConfig(std::string_view yaml, std::string_view source);
// Reads and parses a file; NotFound / InvalidArgument.
absl::StatusOr<BrokerConfig> LoadBrokerConfig(const std::string& path);

}  // namespace roomq::broker

#endif  // ROOMQ_BROKER_CONFIG_H_
