#ifndef ROOMQ_PROTO_BASE_LOG_OPTIONS_H_
#define ROOMQ_PROTO_BASE_LOG_OPTIONS_H_

// --log-format and --log-level, the same on every roomq binary:
//
//   base::LogOptions log;
//   base::AddLogOptions(app, log);
//   base::ParseCommandLineOrExit(app, argc, argv);
//   base::ApplyLogOptions(log);
//
// text (the default) is spdlog's readable line; json is one object per line
// for log pipelines:
//
//   {"time":"2026-12-06T23:30:01.123456Z","level":"info","msg":"..."}
//
// with "logger" added when the line came from a named logger. A message
// that is not valid UTF-8 still makes valid JSON: its bytes are then read
// as Latin-1 (each byte of 0x80 and up becomes U+0080..U+00FF).
//
// Thread safety: ApplyLogOptions from main() before starting threads; the
// formatter is spdlog's, called under its logger's lock.

#include <memory>
#include <string_view>

#include "CLI/CLI.hpp"

namespace spdlog {
class formatter;
}  // namespace spdlog

namespace roomq::base {

enum class LogFormat { kText, kJson };
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };

struct LogOptions {
  LogFormat format = LogFormat::kText;
  LogLevel level = LogLevel::kInfo;
};

// Adds --log-format text|json and --log-level trace|debug|info|warn|error|off,
// bound to `options` (its values are the defaults --help shows).
void AddLogOptions(CLI::App& app, LogOptions& options);

// Sets spdlog's level and formatter on every logger, and on those made later.
void ApplyLogOptions(const LogOptions& options);

// The json format's formatter (tests build lines with it).
std::unique_ptr<spdlog::formatter> NewJsonLogFormatter();

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_LOG_OPTIONS_H_
