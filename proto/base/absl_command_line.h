#ifndef ROOMQ_PROTO_BASE_ABSL_COMMAND_LINE_H_
#define ROOMQ_PROTO_BASE_ABSL_COMMAND_LINE_H_

// The Abseil-flags command line, kept only for gateway/server/main.cc until
// its flags move to CLI11 like every other binary's (command_line.h); then
// this file, its .cc and the absl::flags link go. Same conventions as
// command_line.h: flags are spelled with dashes (--ping-interval-ms; the
// ABSL_FLAG is ping_interval_ms), "--flag=value" or "--flag value", "--bool"
// / "--nobool"; a std::vector<std::string> flag may be repeated and
// accumulates (--cors-origin a --cors-origin b); --help / -h prints only this
// binary's flags and exits 0; an unknown flag, a bad value or a stray
// argument prints the error and the usage to stderr and exits 2.
// (absl::ParseCommandLine exits 1 and lists every flag of every linked
// library, hence this.)
//
// Thread safety: call once from main() before starting threads.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace roomq::base {

// Parses `args` (argv without argv[0]) into the flags defined in files whose
// path contains `file_filter` (e.g. "broker/main.cc"). InvalidArgument
// naming the problem; NotFound when --help was asked for (nothing else is
// parsed then).
absl::Status ParseFlags(const std::vector<std::string>& args, std::string_view file_filter);

std::string FlagsUsage(std::string_view program, std::string_view description,
                       std::string_view file_filter);

// ParseFlags on argv; --help: usage to stdout, exit 0; error: error and usage
// to stderr, exit 2.
void ParseFlagsOrExit(int argc, char** argv, std::string_view description,
                      std::string_view file_filter);

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_ABSL_COMMAND_LINE_H_
