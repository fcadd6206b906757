#ifndef ROOMQ_PROTO_BASE_FLAG_FILE_H_
#define ROOMQ_PROTO_BASE_FLAG_FILE_H_

// One config file per binary: every flag of a binary is also a top-level key
// of its YAML --config file, spelled with underscores (--max-outbound-bytes
// is max_outbound_bytes), so a deployment is a file, not a long command line.
//
//   listen: 0.0.0.0:3000
//   max_outbound_bytes: 1048576
//   trusted_proxy: [10.0.0.0/8]     # a repeatable flag takes a list
//   log_format: json
//   namespaces: [...]               # a section: the binary's own parser reads it
//
// The command line wins: a flag given there keeps its value and the file's
// key is ignored (a list from the file is replaced, not extended). A key
// that names no flag, or --config/--print-config/--help, is an error at its
// file:line:column, and so is a value the flag refuses (the same checks as
// on the command line). Other top-level keys are `sections`, left to the
// binary's own parser (which ignores the flag keys: FlagKeys).
//
// --print-config prints the effective flags (command line over file over
// defaults) as YAML in the same shape, to start a file from or to check one.
//
// Thread safety: from main() before starting threads, like the command line.

#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"

namespace roomq::base {

// The flags the file may not hold.
inline constexpr std::string_view kConfigFlag = "--config";
inline constexpr std::string_view kPrintConfigFlag = "--print-config";

// The top-level keys of a config file for `app`'s flags ("max_outbound_bytes").
std::vector<std::string> FlagKeys(const CLI::App& app);

// Applies the flag keys of the YAML `text` (named `source` in errors) to the
// options of `app` the command line left unset; `sections` are skipped.
// Call after a successful ParseCommandLine. InvalidArgument
// "<source>:<line>:<column>: <what>" on the first problem.
absl::Status ApplyFlagFile(CLI::App& app, std::string_view text, std::string_view source,
                           const std::vector<std::string>& sections);

// `app`'s flags with their effective values as YAML, one key per line in
// --help order (--config, --print-config and --help left out).
std::string FormatFlags(const CLI::App& app);

// Adds --print-config, bound to `print`. Each binary adds its own --config
// (its help says what its sections are).
void AddPrintConfigFlag(CLI::App& app, bool& print);

// What every binary's main does after ParseCommandLineOrExit: applies the
// flag keys of the file at `path` (none when empty), then with `print`
// writes FormatFlags and the file's `sections` (as written; a comment for
// each one absent, which means its defaults) to stdout and exits 0. On a
// problem writes "<program>: --config: <error>" to stderr and exits 2.
// Returns the file's text ("" without a file) for the binary's own parser
// of the sections, which must skip FlagKeys(app).
std::string ApplyConfigFileOrExit(CLI::App& app, const std::string& path, bool print,
                                  const std::vector<std::string>& sections);

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_FLAG_FILE_H_
