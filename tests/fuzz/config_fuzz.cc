// libFuzzer target for the namespace config loader (built with
// -DROOMQ_FUZZ=ON and clang): any text gives a Config or InvalidArgument,
// never a crash or an escaped exception; a Config it accepts builds a
// NamespaceRegistry that answers lookups.

#include <cstdint>
#include <string_view>

#include "gateway/socketio/config.h"
#include "gateway/socketio/namespace_registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = roomq::gateway::socketio::ParseConfig(text, "fuzz");
  if (config.ok()) {
    roomq::gateway::socketio::NamespaceRegistry registry(*config, 4);
    for (const auto& ns : config->namespaces) {
      // Both arms string_view: `cond ? "/x" : ns.name` would be a temporary
      // std::string, gone by the next line.
      const std::string_view name =
          ns.name.empty() ? std::string_view("/x") : std::string_view(ns.name);
      (void)registry.Resolve(name);
      auto held = registry.Acquire(name);
      if (held.ok()) (void)held->get()->MayJoin("room");
    }
  }
  return 0;
}
