#ifndef ROOMQ_CLIENTS_CLI_COMMAND_LINE_H_
#define ROOMQ_CLIENTS_CLI_COMMAND_LINE_H_

// The `roomq` command line: subcommands, their flags and usage texts,
// parsed into plain structs (no I/O here, so it is unit-tested directly).
//
//   roomq pub [flags] [JSON-ARG ...]   publish one event (or one per stdin line)
//   roomq sub [flags]                  print one JSON line per received event
//   roomq sockets [flags]              print the connected sockets (presence), or --count
//   roomq keygen NAME                  write a CURVE key pair NAME.key / NAME.pub
//   roomq help | --help                usage

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/base/log_options.h"
#include "proto/node/endpoints.h"

namespace roomq::cli {

inline constexpr const char* kDefaultBrokerPub = node::kDefaultPubEndpoint;
inline constexpr const char* kDefaultBrokerSub = node::kDefaultSubEndpoint;
// --log-format and --log-level of the commands that talk to the broker: by
// default only warnings, since the library's lifecycle lines would clutter
// the stderr of a command meant for scripts.
inline constexpr base::LogOptions kDefaultLogOptions{base::LogFormat::kText, base::LogLevel::kWarn};

struct PubCommand {
  std::string broker_pub = kDefaultBrokerPub;
  std::string broker_sub = kDefaultBrokerSub;
  std::string ns = "/";
  std::string event = "message";
  std::vector<std::string> rooms;  // none = the whole namespace
  std::vector<std::string> except_rooms;
  std::string except_socket;
  // Each one JSON argument of a single event, validated. Empty: read stdin,
  // one event per non-empty line, that line being its single argument.
  std::vector<std::string> args;
  std::chrono::milliseconds timeout{5000};  // wait for broker receipts
  std::string curve_server_key;             // CURVE key files (both or neither; loaded when run)
  std::string curve_secret_key;
  base::LogOptions log = kDefaultLogOptions;
};

struct SubCommand {
  std::string broker_pub = kDefaultBrokerPub;
  std::string broker_sub = kDefaultBrokerSub;
  std::string ns = "/";
  std::vector<std::string> rooms;  // none = the namespace alone
  // --from-offset / --epoch: resume the (single) topic from broker history
  // after this offset of that epoch, then live (see roomq::node::ResumeFrom).
  std::optional<uint64_t> from_offset;
  uint64_t epoch = 0;
  std::string curve_server_key;  // CURVE key files (both or neither; loaded when run)
  std::string curve_secret_key;
  base::LogOptions log = kDefaultLogOptions;
};

struct SocketsCommand {
  std::string broker_pub = kDefaultBrokerPub;
  std::string broker_sub = kDefaultBrokerSub;
  std::string ns = "/";
  std::vector<std::string> rooms;  // ORed; none = the whole namespace
  std::vector<std::string> except_rooms;
  bool count = false;                       // print the number only
  std::chrono::milliseconds timeout{5000};  // per broker answer
  std::string curve_server_key;
  std::string curve_secret_key;
  base::LogOptions log = kDefaultLogOptions;
};

struct KeygenCommand {
  std::string base;  // writes <base>.key and <base>.pub
};

struct HelpCommand {
  std::string text;  // printed to stdout, exit 0
};

using Command = std::variant<PubCommand, SubCommand, SocketsCommand, HelpCommand, KeygenCommand>;

// `args` is argv without argv[0]. InvalidArgument says what is wrong; print
// it with UsageFor(args) and exit 2.
absl::StatusOr<Command> ParseCommandLine(const std::vector<std::string>& args);

// The usage text fitting `args` (the subcommand's when one was named).
std::string UsageFor(const std::vector<std::string>& args);
std::string Usage();
std::string PubUsage();
std::string SubUsage();
std::string SocketsUsage();
std::string KeygenUsage();

}  // namespace roomq::cli

#endif  // ROOMQ_CLIENTS_CLI_COMMAND_LINE_H_
