#include "proto/base/log_options.h"

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <string>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proto/base/command_line.h"
#include "proto/base/json.h"

namespace roomq::base {
namespace {

// Appends `text` as a JSON string, valid even when `text` is not UTF-8.
void AppendJsonStringLossless(std::string& out, std::string_view text) {
  if (IsValidUtf8(text)) {
    AppendJsonString(out, text);
    return;
  }
  std::string escaped;
  escaped.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      escaped.push_back(c);
      continue;
    }
    // As Latin-1: the code point of the byte, in UTF-8 (two bytes).
    escaped.push_back(static_cast<char>(0xc0 | (byte >> 6)));
    escaped.push_back(static_cast<char>(0x80 | (byte & 0x3f)));
  }
  AppendJsonString(out, escaped);
}

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    line_.clear();
    line_ += R"({"time":")";
    line_ +=
        absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromChrono(msg.time), absl::UTCTimeZone());
    line_ += R"(","level":")";
    const spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);
    line_.append(level.data(), level.size());
    line_ += '"';
    if (msg.logger_name.size() > 0) {
      line_ += R"(,"logger":)";
      AppendJsonStringLossless(line_,
                               std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    }
    line_ += R"(,"msg":)";
    AppendJsonStringLossless(line_, std::string_view(msg.payload.data(), msg.payload.size()));
    line_ += "}\n";
    dest.append(line_.data(), line_.data() + line_.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>();
  }

 private:
  std::string line_;  // reused: one line at a time under the logger's lock
};

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

void AddLogOptions(CLI::App& app, LogOptions& options) {
  AddChoice(app, "--log-format", options.format,
            {{"text", LogFormat::kText}, {"json", LogFormat::kJson}},
            "Log lines as readable text, or as one JSON object per line (time, level, msg) "
            "for log pipelines");
  AddChoice(app, "--log-level", options.level,
            {{"trace", LogLevel::kTrace},
             {"debug", LogLevel::kDebug},
             {"info", LogLevel::kInfo},
             {"warn", LogLevel::kWarn},
             {"error", LogLevel::kError},
             {"off", LogLevel::kOff}},
            "Least severe log level written");
}

void ApplyLogOptions(const LogOptions& options) {
  spdlog::set_level(ToSpdlog(options.level));
  if (options.format == LogFormat::kJson) spdlog::set_formatter(NewJsonLogFormatter());
}

std::unique_ptr<spdlog::formatter> NewJsonLogFormatter() {
  return std::make_unique<JsonLogFormatter>();
}

}  // namespace roomq::base
