#ifndef ROOMQ_PROTO_BASE_COMMAND_LINE_H_
#define ROOMQ_PROTO_BASE_COMMAND_LINE_H_

// The command line of every roomq binary, on CLI11, with the conventions they
// all promise: flags are spelled with dashes (--ping-interval-ms),
// "--flag=value" or "--flag value" ("-flag" and "--flag_name" are read as
// "--flag" and "--flag-name"); a boolean flag is "--bool", "--bool=false" or
// "--nobool"; a vector option takes one value per occurrence and repeated
// occurrences accumulate (--room a --room b); a repeated scalar option takes
// its last value; --help / -h prints the usage to stdout and exits 0; an
// unknown flag, a bad value or a stray argument prints the error and the
// usage to stderr and exits 2 (CLI11's own exit codes are 100 and up).
//
// Options bind straight to the option struct a main fills, so each default
// lives in the struct's member initializer and --help shows it from there:
//
//   CLI::App app{"Routes roomq envelopes.", "roomq-broker"};
//   base::UseRoomqConventions(app);
//   app.add_option("--hwm", options.hwm, "High-water mark")->check(CLI::Range(1, kMax));
//   base::AddMilliseconds(app, "--heartbeat-ms", options.heartbeat, "Heartbeat");
//   base::ParseCommandLineOrExit(app, argc, argv);
//
// Thread safety: parse once from main() before starting threads.

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"

namespace roomq::base {

// Call on a fresh app before adding options: a repeated scalar option takes
// its last value, and --help shows every option's default as bound.
void UseRoomqConventions(CLI::App& app);

// Parses `args` (argv without argv[0]) into `app`'s options. OK; NotFound
// when --help / -h was asked for (anywhere, also after a subcommand);
// InvalidArgument naming the flag or argument at fault.
absl::Status ParseCommandLine(CLI::App& app, std::vector<std::string> args);

// The usage text of `app`, or of its subcommand that the last parse chose.
std::string Usage(const CLI::App& app);

// ParseCommandLine, then: std::nullopt to go on; after --help, the usage on
// `out` and 0; after an error, "program: error", the usage on `err` and 2.
std::optional<int> ParseCommandLineOrUsage(CLI::App& app, const std::vector<std::string>& args,
                                           std::ostream& out, std::ostream& err);

// ParseCommandLineOrUsage on argv with std::cout / std::cerr; exits unless
// the program should go on.
void ParseCommandLineOrExit(CLI::App& app, int argc, char** argv);

// A whole number of milliseconds bound to `value` (--help shows its current
// count as the default). Add CLI::Range / CLI::PositiveNumber as needed.
CLI::Option* AddMilliseconds(CLI::App& app, const std::string& name,
                             std::chrono::milliseconds& value, const std::string& help);

// One of `names` bound to the enum `value`; --help lists the names and shows
// the one `value` holds as the default.
template <typename Enum>
CLI::Option* AddChoice(CLI::App& app, const std::string& name, Enum& value,
                       std::vector<std::pair<std::string, Enum>> names, const std::string& help) {
  std::vector<std::string> choices;
  std::string current;
  for (const auto& [text, choice] : names) {
    choices.push_back(text);
    if (choice == value) current = text;
  }
  return app
      .add_option_function<std::string>(
          name,
          [&value, names](const std::string& text) {
            for (const auto& [candidate, choice] : names) {
              if (candidate == text) value = choice;
            }
          },
          help)
      ->check(CLI::IsMember(choices))
      ->default_str(current);
}

// A whole number of at least `min`; the error names the flag.
CLI::Validator AtLeast(int64_t min);

// HOST:PORT as ParseHostPort (host_port.h) reads it: a non-empty host and a
// port of 0..65535 (0: the system picks one).
extern const CLI::Validator kHostPort;

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_COMMAND_LINE_H_
