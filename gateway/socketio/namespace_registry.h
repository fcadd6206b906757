#ifndef ROOMQ_GATEWAY_SOCKETIO_NAMESPACE_REGISTRY_H_
#define ROOMQ_GATEWAY_SOCKETIO_NAMESPACE_REGISTRY_H_

// Which namespaces exist and what policy each follows. Static names from the
// config exist from the start; a name matching one of the config's patterns
// becomes its own (dynamic) namespace on first use, like Socket.IO's
// io.of(/regex/). Anything else is unknown ("Invalid namespace").
//
// Thread safety: not thread-safe; each shard owns its own registry (the
// config is immutable, so every shard reaches the same answers).
// Limits: at most `max_dynamic` dynamic namespaces per registry (default
// 10000); past it, new dynamic names are refused as unknown (logged).

#include <cstddef>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gateway/socketio/config.h"

namespace roomq::gateway::socketio {

// A namespace and its compiled policy. Stable address for the registry's life.
struct Namespace {
  std::string name;
  const NamespacePolicy* policy = nullptr;
  const std::regex* join = nullptr;     // null when clients may not join rooms
  const std::regex* publish = nullptr;  // null when clients may not publish
  bool dynamic = false;

  // True when the namespace's `join` regex lets a client join `room`.
  bool MayJoin(std::string_view room) const;
  // True when the namespace's `publish` regex (by default its `join`) lets
  // a client publish into `room`.
  bool MayPublish(std::string_view room) const;
};

class NamespaceRegistry {
 public:
  // `config` must outlive the registry. Its regexes were validated by
  // ParseConfig; one that still fails to compile disables that entry.
  explicit NamespaceRegistry(const Config& config, size_t max_dynamic = 10000);
  NamespaceRegistry(const NamespaceRegistry&) = delete;
  NamespaceRegistry& operator=(const NamespaceRegistry&) = delete;

  // The namespace called `name`, created if it matches a pattern; nullptr
  // when unknown.
  const Namespace* Find(std::string_view name);

  size_t dynamic_count() const { return dynamic_count_; }

 private:
  struct Compiled {
    const NamespacePolicy* policy;
    std::unique_ptr<std::regex> pattern;  // null for exact names
    std::unique_ptr<std::regex> join;     // null when join is ''
    std::unique_ptr<std::regex> publish;  // set only when `publish` differs from `join`
    const std::regex* MayPublishRegex() const {
      return policy->publish.has_value() ? publish.get() : join.get();
    }
  };

  std::vector<Compiled> compiled_;
  absl::flat_hash_map<std::string, std::unique_ptr<Namespace>> namespaces_;
  size_t max_dynamic_;
  size_t dynamic_count_ = 0;
};

}  // namespace roomq::gateway::socketio

#endif  // ROOMQ_GATEWAY_SOCKETIO_NAMESPACE_REGISTRY_H_
