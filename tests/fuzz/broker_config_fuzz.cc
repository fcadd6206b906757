// libFuzzer target for the broker's --config YAML loader (broker/config.h):
// any text gives a BrokerConfig or InvalidArgument, never a crash or an
// escaped exception. Besides that it checks what the header promises:
//   - an error names the source ("fuzz") and is InvalidArgument;
//   - an accepted config holds only values within the documented bounds
//     (max_age and max_ttl > 0, namespace overrides start with '/');
//   - parsing is deterministic (the same text gives the same result).

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "broker/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = roomq::broker::ParseBrokerConfig(text, "fuzz");
  auto again = roomq::broker::ParseBrokerConfig(text, "fuzz");
  if (config.ok() != again.ok()) std::abort();
  if (!config.ok()) {
    if (!absl::IsInvalidArgument(config.status())) std::abort();
    if (config.status().message().substr(0, 4) != "fuzz") std::abort();
    if (config.status() != again.status()) std::abort();
    return 0;
  }
  const auto& history = config->history;
  if (history.defaults.max_age.count() <= 0) std::abort();
  if (config->sessions.max_ttl.count() <= 0) std::abort();
  if (history.namespaces != again->history.namespaces) std::abort();
  for (const auto& [name, limits] : history.namespaces) {
    if (name.empty() || name[0] != '/' || limits.max_age.count() <= 0) std::abort();
  }
  return 0;
}
