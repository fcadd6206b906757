#include "clients/loadgen/message.h"

#include <charconv>
#include <ctime>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"

namespace roomq::loadgen {
namespace {

// Parses the unsigned integer at the front of `s`, advancing past it and one
// following separator.
bool TakeNumber(std::string_view& s, uint64_t* value) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *value);
  if (ec != std::errc() || end == s.data()) return false;
  s.remove_prefix(static_cast<size_t>(end - s.data()));
  if (!s.empty()) s.remove_prefix(1);
  return true;
}

}  // namespace

uint64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string PadArgument(int pad_bytes) {
  if (pad_bytes <= 0) return std::string();
  return absl::StrCat(",\"", std::string(static_cast<size_t>(pad_bytes), 'x'), "\"");
}

void AppendPublishArgs(std::string& out, uint32_t room, uint32_t publisher, uint32_t seq,
                       uint64_t sent_ns, std::string_view pad) {
  absl::StrAppend(&out, "[\"publish\",\"r", room, "\",\"m\",", publisher, ",", seq, ",", sent_ns,
                  ToAbsl(pad), "]");
}

std::optional<Message> ParseMessageArgs(std::string_view args) {
  constexpr std::string_view kPrefix = "[\"m\",";
  if (args.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  args.remove_prefix(kPrefix.size());
  Message message;
  if (!TakeNumber(args, &message.publisher) || !TakeNumber(args, &message.seq) ||
      !TakeNumber(args, &message.sent_ns)) {
    return std::nullopt;
  }
  return message;
}

}  // namespace roomq::loadgen
