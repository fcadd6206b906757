#include "gateway/socketio/recovery.h"

#include <simdjson.h>

#include <array>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "proto/base/random_id.h"

namespace roomq::gateway::socketio {
namespace {

constexpr size_t kMaxPidBytes = 64;

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

bool IsRecoverableReason(std::string_view reason) {
  return reason == "transport error" || reason == "transport close" || reason == "forced close" ||
         reason == "ping timeout" || reason == "server shutting down" ||
         reason == "forced server close" || reason == "token expired";
}

std::string NewPrivateSessionId() { return base::RandomUrlId(16); }

std::string FormatOffset(EventOffset offset) {
  return absl::StrCat(offset.epoch, "-", offset.sequence);
}

std::string OffsetArg(EventOffset offset) {
  return absl::StrCat("\"", offset.epoch, "-", offset.sequence, "\"");
}

std::optional<EventOffset> ParseOffset(std::string_view text) {
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::optional<uint64_t> epoch = ParseDecimal(text.substr(0, dash));
  std::optional<uint64_t> sequence = ParseDecimal(text.substr(dash + 1));
  if (!epoch.has_value() || !sequence.has_value()) return std::nullopt;
  return EventOffset{*epoch, *sequence};
}

std::optional<RecoveryClaim> ParseRecoveryClaim(std::string_view auth_json) {
  if (auth_json.empty()) return std::nullopt;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(auth_json.data(), auth_json.size()).get(doc) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  simdjson::dom::object object;
  if (doc.get(object) != simdjson::SUCCESS) return std::nullopt;
  std::string_view pid;
  if (object["pid"].get(pid) != simdjson::SUCCESS || pid.empty() || pid.size() > kMaxPidBytes) {
    return std::nullopt;
  }
  RecoveryClaim claim;
  claim.pid = std::string(pid);
  std::string_view offset;
  if (object["offset"].get(offset) == simdjson::SUCCESS) claim.offset = std::string(offset);
  return claim;
}

}  // namespace roomq::gateway::socketio
