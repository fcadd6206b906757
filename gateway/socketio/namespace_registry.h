#ifndef ROOMQ_GATEWAY_SOCKETIO_NAMESPACE_REGISTRY_H_
#define ROOMQ_GATEWAY_SOCKETIO_NAMESPACE_REGISTRY_H_

// Which namespaces exist and what policy each follows. Static names from the
// config exist from the start and for the registry's life. A name matching
// one of the config's patterns is its own (dynamic) namespace, like
// Socket.IO's io.of(/regex/), but it exists only while an admitted socket
// holds it: Acquire creates it for a CONNECT that passed admission, and the
// last NamespaceRef to go frees it. A CONNECT that is refused (unknown name,
// auth) asks only Resolve, which creates nothing, so no client can make the
// registry grow without holding a socket for every entry. Anything that
// matches no entry is unknown ("Invalid namespace").
//
// Invariants: a dynamic namespace is in the registry exactly while its
// holder count is positive; dynamic_count() <= max_dynamic. Nothing but a
// NamespaceRef (held by a Socket) keeps a Namespace pointer past the
// current call: the room index, topics, recovery and the bridge go by name.
//
// Thread safety: not thread-safe; each shard owns its own registry (the
// config is immutable, so every shard reaches the same answers). The
// bridge thread has a registry of its own and only calls Resolve.
// Limits: at most `max_dynamic` dynamic namespaces per registry (default
// kDefaultMaxDynamicNamespaces, --max-dynamic-namespaces); Acquire past it
// is refused (ResourceExhausted) and nothing is created.
// Costs: Find and Acquire of a live name are one hash lookup; Resolve of a
// name that is not live, and Acquire creating one, try the patterns in
// file order (proto/base/pattern.h: linear in the name's length).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "gateway/socketio/config.h"
#include "proto/base/pattern.h"

namespace roomq::gateway::socketio {

inline constexpr size_t kDefaultMaxDynamicNamespaces = 10000;

// A namespace and its compiled policy. Stable address while it exists.
struct Namespace {
  std::string name;
  const NamespacePolicy* policy = nullptr;
  const base::Pattern* join = nullptr;     // null when clients may not join rooms
  const base::Pattern* publish = nullptr;  // null when clients may not publish
  bool dynamic = false;

  // True when the namespace's `join` pattern lets a client join `room`.
  bool MayJoin(std::string_view room) const;
  // True when the namespace's `publish` pattern (by default its `join`) lets
  // a client publish into `room`.
  bool MayPublish(std::string_view room) const;
};

class NamespaceRegistry;

// One socket's hold on its namespace: a dynamic namespace exists while any
// NamespaceRef holds it, and the last one to go frees it. Move-only; empty
// when default-constructed or moved from. Must not outlive its registry.
class NamespaceRef {
 public:
  NamespaceRef() = default;
  NamespaceRef(NamespaceRef&& other) noexcept;
  NamespaceRef& operator=(NamespaceRef&& other) noexcept;
  NamespaceRef(const NamespaceRef&) = delete;
  NamespaceRef& operator=(const NamespaceRef&) = delete;
  ~NamespaceRef() { Reset(); }

  const Namespace* get() const { return ns_; }
  // Gives the hold up (the namespace may be freed); the ref is then empty.
  void Reset();

 private:
  friend class NamespaceRegistry;
  NamespaceRef(NamespaceRegistry* registry, const Namespace* ns) : registry_(registry), ns_(ns) {}

  NamespaceRegistry* registry_ = nullptr;
  const Namespace* ns_ = nullptr;
};

class NamespaceRegistry {
 public:
  // `config` must outlive the registry. Its regexes were validated by
  // ParseConfig; one that still fails to compile disables that entry.
  explicit NamespaceRegistry(const Config& config,
                             size_t max_dynamic = kDefaultMaxDynamicNamespaces);
  NamespaceRegistry(const NamespaceRegistry&) = delete;
  NamespaceRegistry& operator=(const NamespaceRegistry&) = delete;

  // The policy that governs `name`: its exact entry, else the first pattern
  // (in file order) it fully matches; nullptr when unknown. Creates
  // nothing: what a CONNECT is admitted under, and what the bridge asks.
  const NamespacePolicy* Resolve(std::string_view name) const;

  // The namespace `name` as it exists now: a static one, or a dynamic one
  // some socket holds; nullptr otherwise. Creates nothing.
  const Namespace* Find(std::string_view name) const;

  // A hold on namespace `name` for one admitted socket, creating it from
  // its pattern when no socket holds it yet. NotFound when `name` is
  // unknown; ResourceExhausted when creating it would exceed max_dynamic
  // (nothing is created).
  absl::StatusOr<NamespaceRef> Acquire(std::string_view name);

  // Dynamic namespaces that exist (each held by at least one socket).
  size_t dynamic_count() const { return dynamic_count_; }
  size_t max_dynamic() const { return max_dynamic_; }

 private:
  friend class NamespaceRef;

  struct Compiled {
    const NamespacePolicy* policy;
    std::unique_ptr<base::Pattern> pattern;  // null for exact names
    std::unique_ptr<base::Pattern> join;     // null when join is ''
    std::unique_ptr<base::Pattern> publish;  // set only when `publish` differs from `join`
    const base::Pattern* MayPublishPattern() const {
      return policy->publish.has_value() ? publish.get() : join.get();
    }
  };
  struct Entry {
    std::unique_ptr<Namespace> ns;
    size_t holders = 0;  // NamespaceRefs; a dynamic entry goes at zero
  };

  // The first pattern entry `name` fully matches, or nullptr.
  const Compiled* MatchPattern(std::string_view name) const;
  // A NamespaceRef of `ns` went away.
  void Release(const Namespace* ns);

  std::vector<Compiled> compiled_;
  absl::flat_hash_map<std::string, Entry> namespaces_;  // static and live dynamic
  size_t max_dynamic_;
  size_t dynamic_count_ = 0;
};

}  // namespace roomq::gateway::socketio

#endif  // ROOMQ_GATEWAY_SOCKETIO_NAMESPACE_REGISTRY_H_
