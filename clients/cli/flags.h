#ifndef ROOMQ_CLIENTS_CLI_FLAGS_H_
#define ROOMQ_CLIENTS_CLI_FLAGS_H_

// A small table-driven flag parser for the `roomq` CLI and the examples.
// Why not Abseil flags: they are process-global, so they cannot give each
// subcommand (`roomq pub`, `roomq sub`) its own flag set, and they spell
// flags with underscores. The conventions are the same as roomq's other
// binaries: "--flag=value", "--flag value", "--bool" / "--nobool",
// "--" ends flags; --help / -h is reported as help; an unknown flag, a
// missing value or a repeated non-repeatable flag is InvalidArgument (the
// caller prints usage and exits 2).
//
// Thread safety: pure functions.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace roomq::cli {

struct FlagSpec {
  std::string name;        // without dashes: "broker-pub"
  std::string value_name;  // "" for a boolean flag, else e.g. "ENDPOINT"
  std::string help;
  std::string default_value;  // shown in usage; "" = none
  bool repeatable = false;
};

struct ParsedFlags {
  bool help = false;                                       // --help / -h seen
  std::map<std::string, std::vector<std::string>> values;  // flag -> values in order
  std::vector<std::string> positional;

  bool Has(const std::string& name) const { return values.contains(name); }
  // The last value of `name`, or `fallback` when absent.
  std::string Get(const std::string& name, const std::string& fallback) const;
  std::vector<std::string> GetAll(const std::string& name) const;
};

// Parses `args` (without the program / subcommand names) against `specs`.
// Positional arguments are allowed anywhere (a lone "-" too).
absl::StatusOr<ParsedFlags> ParseFlags(const std::vector<FlagSpec>& specs,
                                       const std::vector<std::string>& args);

// "  --broker-pub=ENDPOINT\n      help (default: x)\n" for each spec.
std::string FlagsHelp(const std::vector<FlagSpec>& specs);

// Parses a non-negative integer flag value; InvalidArgument naming the flag.
absl::StatusOr<int64_t> ParseNonNegative(std::string_view flag, std::string_view value);

}  // namespace roomq::cli

#endif  // ROOMQ_CLIENTS_CLI_FLAGS_H_
