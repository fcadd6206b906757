#ifndef ROOMQ_BROKER_COMMAND_LINE_H_
#define ROOMQ_BROKER_COMMAND_LINE_H_

// Command-line parsing on top of Abseil flags, with the conventions roomq's
// binaries promise: flags are spelled with dashes (--pub-bind; the ABSL_FLAG
// is pub_bind), "--flag=value", "--flag value", "--bool", "--nobool";
// --help / -h prints only this binary's flags and exits 0; an unknown flag,
// a bad value or a stray positional argument prints the error and the usage
// to stderr and exits 2. (absl::ParseCommandLine exits 1 and lists every
// flag of every linked library, hence this.)
//
// Thread safety: call once from main() before starting threads.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace roomq::broker {

// Parses `args` (argv without argv[0]) into the flags defined in files whose
// path contains `file_filter` (e.g. "broker/main.cc"). InvalidArgument
// naming the problem; NotFound when --help was asked for (nothing else is
// parsed then).
absl::Status ParseFlags(const std::vector<std::string>& args, std::string_view file_filter);

// "Usage: <program> [flags]\n<description>\n\nFlags:\n  --pub-bind=<string> ..."
std::string FlagsUsage(std::string_view program, std::string_view description,
                       std::string_view file_filter);

// ParseFlags on argv; on --help prints FlagsUsage to stdout and exits 0, on
// an error prints it to stderr with the error and exits 2.
void ParseFlagsOrExit(int argc, char** argv, std::string_view description,
                      std::string_view file_filter);

}  // namespace roomq::broker

#endif  // ROOMQ_BROKER_COMMAND_LINE_H_
