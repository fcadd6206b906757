#include "gateway/engineio/client_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace roomq::gateway::engineio {

void LogThrottled(uint64_t n, std::string_view line) {
  if (!LogInFull(n)) {
    spdlog::debug("{}", line);
  } else if (n == kLoggedInFull) {
    spdlog::info("{}; further ones logged once per {}", line, kLogEvery);
  } else if (n > kLoggedInFull) {
    // The events since the last line at info, which went to debug.
    const uint64_t suppressed = n == kLogEvery ? n - kLoggedInFull - 1 : kLogEvery - 1;
    spdlog::info("{} (suppressed {} like it since the last)", line, suppressed);
  } else {
    spdlog::info("{}", line);
  }
}

LineBudget::LineBudget(double rate, const base::Clock* clock)
    : rate_(rate),
      burst_(std::max(1.0, rate)),
      clock_(clock),
      bucket_(base::TokenBucket::Full(burst_, clock->Now())) {}

void LineBudget::Log(std::string_view line) {
  if (!bucket_.Take(clock_->Now(), rate_, burst_)) {
    ++at_debug_;
    ++at_debug_since_info_;
    spdlog::debug("{}", line);
    return;
  }
  if (at_debug_since_info_ == 0) {
    spdlog::info("{}", line);
    return;
  }
  spdlog::info("{} ({} like it at debug since the last)", line, at_debug_since_info_);
  at_debug_since_info_ = 0;
}

std::string LogSafe(std::string_view text, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string_view shown = text.substr(0, max_bytes);
  std::string out;
  out.reserve(shown.size() + 24);
  out.push_back('"');
  for (const char c : shown) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte >= 0x20 && byte < 0x7f) {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  out.push_back('"');
  if (shown.size() < text.size()) {
    out += "...(";
    out += std::to_string(text.size());
    out += " bytes)";
  }
  return out;
}

}  // namespace roomq::gateway::engineio
