#include "gateway/socketio/namespace_registry.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"
#include "proto/base/pattern.h"
#include "proto/wire/topic.h"

namespace roomq::gateway::socketio {
namespace {

std::unique_ptr<base::Pattern> Compile(const std::string& pattern) {
  absl::StatusOr<base::Pattern> compiled = base::Pattern::Compile(pattern);
  if (!compiled.ok()) {
    spdlog::error("namespace config: regex '{}' does not compile: {}", pattern,
                  std::string(compiled.status().message()));
    return nullptr;
  }
  return std::make_unique<base::Pattern>(*std::move(compiled));
}

}  // namespace

namespace {

bool Matches(const base::Pattern* pattern, std::string_view room) {
  if (pattern == nullptr || room.empty()) return false;
  return pattern->FullMatch(room);
}

}  // namespace

bool Namespace::MayJoin(std::string_view room) const { return Matches(join, room); }

bool Namespace::MayPublish(std::string_view room) const { return Matches(publish, room); }

NamespaceRef::NamespaceRef(NamespaceRef&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)), ns_(std::exchange(other.ns_, nullptr)) {}

NamespaceRef& NamespaceRef::operator=(NamespaceRef&& other) noexcept {
  if (this != &other) {
    Reset();
    registry_ = std::exchange(other.registry_, nullptr);
    ns_ = std::exchange(other.ns_, nullptr);
  }
  return *this;
}

void NamespaceRef::Reset() {
  if (registry_ != nullptr && ns_ != nullptr) registry_->Release(ns_);
  registry_ = nullptr;
  ns_ = nullptr;
}

NamespaceRegistry::NamespaceRegistry(const Config& config, size_t max_dynamic)
    : max_dynamic_(max_dynamic) {
  for (const NamespacePolicy& policy : config.namespaces) {
    Compiled compiled{&policy, nullptr, nullptr, nullptr};
    if (!policy.join.empty()) {
      compiled.join = Compile(policy.join);
      if (compiled.join == nullptr) continue;
    }
    if (policy.publish.has_value() && !policy.publish->empty()) {
      compiled.publish = Compile(*policy.publish);
      if (compiled.publish == nullptr) continue;
    }
    if (!policy.pattern.empty()) {
      compiled.pattern = Compile(policy.pattern);
      if (compiled.pattern == nullptr) continue;
    }
    compiled_.push_back(std::move(compiled));
  }
  for (const Compiled& compiled : compiled_) {
    if (compiled.pattern != nullptr) continue;
    auto ns = std::make_unique<Namespace>();
    ns->name = compiled.policy->name;
    ns->policy = compiled.policy;
    ns->join = compiled.join.get();
    ns->publish = compiled.MayPublishPattern();
    std::string key = ns->name;
    namespaces_.emplace(std::move(key), Entry{std::move(ns), 0});
  }
}

const NamespaceRegistry::Compiled* NamespaceRegistry::MatchPattern(std::string_view name) const {
  if (name.empty() || name[0] != '/' || name.size() > wire::kMaxNamespaceBytes) return nullptr;
  for (const Compiled& compiled : compiled_) {
    if (compiled.pattern == nullptr) continue;
    if (compiled.pattern->FullMatch(name)) return &compiled;
  }
  return nullptr;
}

const NamespacePolicy* NamespaceRegistry::Resolve(std::string_view name) const {
  if (const Namespace* ns = Find(name); ns != nullptr) return ns->policy;
  const Compiled* compiled = MatchPattern(name);
  return compiled == nullptr ? nullptr : compiled->policy;
}

const Namespace* NamespaceRegistry::Find(std::string_view name) const {
  auto it = namespaces_.find(ToAbsl(name));
  return it == namespaces_.end() ? nullptr : it->second.ns.get();
}

absl::StatusOr<NamespaceRef> NamespaceRegistry::Acquire(std::string_view name) {
  if (auto it = namespaces_.find(ToAbsl(name)); it != namespaces_.end()) {
    ++it->second.holders;
    return NamespaceRef(this, it->second.ns.get());
  }
  const Compiled* compiled = MatchPattern(name);
  if (compiled == nullptr) return absl::NotFoundError("Invalid namespace");
  if (dynamic_count_ >= max_dynamic_) {
    return absl::ResourceExhaustedError(
        absl::StrCat(max_dynamic_, " dynamic namespaces already exist"));
  }
  auto ns = std::make_unique<Namespace>();
  ns->name = std::string(name);
  ns->policy = compiled->policy;
  ns->join = compiled->join.get();
  ns->publish = compiled->MayPublishPattern();
  ns->dynamic = true;
  ++dynamic_count_;
  const Namespace* created = ns.get();
  namespaces_.emplace(std::string(name), Entry{std::move(ns), 1});
  return NamespaceRef(this, created);
}

void NamespaceRegistry::Release(const Namespace* ns) {
  auto it = namespaces_.find(ns->name);
  if (it == namespaces_.end() || it->second.ns.get() != ns || it->second.holders == 0) return;
  if (--it->second.holders > 0 || !ns->dynamic) return;
  namespaces_.erase(it);
  --dynamic_count_;
}

}  // namespace roomq::gateway::socketio
