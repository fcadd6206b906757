#include "gateway/socketio/namespace_registry.h"

#include <spdlog/spdlog.h>

#include "proto/base/absl_compat.h"
#include "proto/wire/topic.h"

namespace roomq::gateway::socketio {
namespace {

std::unique_ptr<std::regex> Compile(const std::string& pattern) {
  try {
    return std::make_unique<std::regex>(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    spdlog::error("namespace config: regex '{}' does not compile: {}", pattern, e.what());
    return nullptr;
  }
}

}  // namespace

namespace {

bool Matches(const std::regex* regex, std::string_view room) {
  if (regex == nullptr || room.empty()) return false;
  return std::regex_match(room.begin(), room.end(), *regex);
}

}  // namespace

bool Namespace::MayJoin(std::string_view room) const { return Matches(join, room); }

bool Namespace::MayPublish(std::string_view room) const { return Matches(publish, room); }

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
    ns->publish = compiled.MayPublishRegex();
    namespaces_.emplace(ns->name, std::move(ns));
  }
}

const Namespace* NamespaceRegistry::Find(std::string_view name) {
  if (auto it = namespaces_.find(ToAbsl(name)); it != namespaces_.end()) return it->second.get();
  if (name.empty() || name[0] != '/' || name.size() > wire::kMaxNamespaceBytes) return nullptr;
  for (const Compiled& compiled : compiled_) {
    if (compiled.pattern == nullptr) continue;
    if (!std::regex_match(name.begin(), name.end(), *compiled.pattern)) continue;
    if (dynamic_count_ >= max_dynamic_) {
      spdlog::warn("namespace '{}' refused: {} dynamic namespaces already exist", name,
                   max_dynamic_);
      return nullptr;
    }
    auto ns = std::make_unique<Namespace>();
    ns->name = std::string(name);
    ns->policy = compiled.policy;
    ns->join = compiled.join.get();
    ns->publish = compiled.MayPublishRegex();
    ns->dynamic = true;
    ++dynamic_count_;
    const Namespace* found = ns.get();
    namespaces_.emplace(ns->name, std::move(ns));
    return found;
  }
  return nullptr;
}

}  // namespace roomq::gateway::socketio
