#include "clients/cli/command_line.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/flags.h"
#include "proto/base/json.h"
#include "proto/wire/topic.h"

namespace roomq::cli {
namespace {

std::vector<FlagSpec> CommonSpecs() {
  return {
      {"broker-pub", "ENDPOINT", "The broker's publish endpoint (its --pub-bind).",
       kDefaultBrokerPub},
      {"broker-sub", "ENDPOINT", "The broker's subscribe endpoint (its --sub-bind).",
       kDefaultBrokerSub},
      {"ns", "NAMESPACE", "Socket.IO namespace.", "/"},
      {"curve-server-key", "FILE",
       "CURVE: the broker's public key file (NAME.pub); with --curve-secret-key.", ""},
      {"curve-secret-key", "FILE", "CURVE: this client's secret key file (NAME.key).", ""},
  };
}

// Both CURVE files or neither (they are read when the command runs).
absl::Status ReadCurveFlags(const ParsedFlags& flags, std::string* server_key,
                            std::string* secret_key) {
  *server_key = flags.Get("curve-server-key", "");
  *secret_key = flags.Get("curve-secret-key", "");
  if (server_key->empty() != secret_key->empty()) {
    return absl::InvalidArgumentError("--curve-server-key and --curve-secret-key go together");
  }
  return absl::OkStatus();
}

std::vector<FlagSpec> PubSpecs() {
  std::vector<FlagSpec> specs = CommonSpecs();
  specs.push_back({"room", "ROOM", "Target room; none = the whole namespace.", "", true});
  specs.push_back({"except-room", "ROOM", "Skip sockets in this room.", "", true});
  specs.push_back({"except-socket", "SOCKET_ID", "Skip this socket.", ""});
  specs.push_back({"event", "NAME", "Event name.", "message"});
  specs.push_back({"timeout-ms", "MS", "How long to wait for the broker's receipts.", "5000"});
  return specs;
}

std::vector<FlagSpec> SubSpecs() {
  std::vector<FlagSpec> specs = CommonSpecs();
  specs.push_back(
      {"room", "ROOM", "Room to receive; none = namespace-wide events only.", "", true});
  specs.push_back({"from-offset", "N",
                   "First replay what the broker's history holds after offset N of the topic "
                   "(one --room at most; 0 = everything held), then go live.",
                   ""});
  specs.push_back({"epoch", "E",
                   "The epoch --from-offset belongs to (printed with each event); another epoch "
                   "than the broker's replays everything held.",
                   "0"});
  return specs;
}

absl::Status ValidateTarget(const std::string& ns, const std::vector<std::string>& rooms) {
  if (absl::Status status = wire::ValidateTopic(wire::NamespaceTopic(ns)); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("flag --ns: ", status.message()));
  }
  for (const std::string& room : rooms) {
    if (room.empty()) return absl::InvalidArgumentError("a room name must not be empty");
    if (absl::Status status = wire::ValidateTopic(wire::RoomTopic(ns, room)); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("room \"", room, "\": ", status.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Command> ParsePub(const std::vector<std::string>& args) {
  auto flags = ParseFlags(PubSpecs(), args);
  if (!flags.ok()) return flags.status();
  if (flags->help) return HelpCommand{PubUsage()};
  PubCommand command;
  command.broker_pub = flags->Get("broker-pub", kDefaultBrokerPub);
  command.broker_sub = flags->Get("broker-sub", kDefaultBrokerSub);
  command.ns = flags->Get("ns", "/");
  command.event = flags->Get("event", "message");
  command.rooms = flags->GetAll("room");
  command.except_rooms = flags->GetAll("except-room");
  command.except_socket = flags->Get("except-socket", "");
  if (absl::Status status =
          ReadCurveFlags(*flags, &command.curve_server_key, &command.curve_secret_key);
      !status.ok()) {
    return status;
  }
  if (flags->Has("timeout-ms")) {
    auto timeout = ParseNonNegative("timeout-ms", flags->Get("timeout-ms", ""));
    if (!timeout.ok()) return timeout.status();
    if (*timeout == 0) return absl::InvalidArgumentError("flag --timeout-ms must be positive");
    command.timeout = std::chrono::milliseconds(*timeout);
  }
  if (absl::Status status = ValidateTarget(command.ns, command.rooms); !status.ok()) return status;
  if (absl::Status status = ValidateTarget(command.ns, command.except_rooms); !status.ok()) {
    return status;
  }
  if (command.event.empty()) return absl::InvalidArgumentError("flag --event must not be empty");
  for (size_t i = 0; i < flags->positional.size(); ++i) {
    const std::string& arg = flags->positional[i];
    if (absl::Status status = base::ValidateJsonValue(arg); !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("argument ", i + 1, " is not JSON (", status.message(), "): ", arg,
                       "\n(a string argument needs JSON quotes: '\"text\"')"));
    }
    command.args.push_back(arg);
  }
  return command;
}

absl::StatusOr<Command> ParseSub(const std::vector<std::string>& args) {
  auto flags = ParseFlags(SubSpecs(), args);
  if (!flags.ok()) return flags.status();
  if (flags->help) return HelpCommand{SubUsage()};
  if (!flags->positional.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument \"", flags->positional.front(), "\""));
  }
  SubCommand command;
  command.broker_pub = flags->Get("broker-pub", kDefaultBrokerPub);
  command.broker_sub = flags->Get("broker-sub", kDefaultBrokerSub);
  command.ns = flags->Get("ns", "/");
  command.rooms = flags->GetAll("room");
  if (absl::Status status = ValidateTarget(command.ns, command.rooms); !status.ok()) return status;
  if (const std::string from = flags->Get("from-offset", ""); !from.empty()) {
    uint64_t offset = 0;
    if (!absl::SimpleAtoi(from, &offset)) {
      return absl::InvalidArgumentError("flag --from-offset: not an unsigned integer");
    }
    if (command.rooms.size() > 1) {
      return absl::InvalidArgumentError("--from-offset resumes one topic: give at most one --room");
    }
    command.from_offset = offset;
  }
  if (!absl::SimpleAtoi(flags->Get("epoch", "0"), &command.epoch)) {
    return absl::InvalidArgumentError("flag --epoch: not an unsigned integer");
  }
  if (absl::Status status =
          ReadCurveFlags(*flags, &command.curve_server_key, &command.curve_secret_key);
      !status.ok()) {
    return status;
  }
  return command;
}

absl::StatusOr<Command> ParseKeygen(const std::vector<std::string>& args) {
  auto flags = ParseFlags({}, args);
  if (!flags.ok()) return flags.status();
  if (flags->help) return HelpCommand{KeygenUsage()};
  if (flags->positional.size() != 1 || flags->positional.front().empty()) {
    return absl::InvalidArgumentError("keygen takes exactly one NAME");
  }
  return KeygenCommand{flags->positional.front()};
}

}  // namespace

absl::StatusOr<Command> ParseCommandLine(const std::vector<std::string>& args) {
  if (args.empty()) return absl::InvalidArgumentError("missing subcommand");
  const std::string& sub = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "pub") return ParsePub(rest);
  if (sub == "sub") return ParseSub(rest);
  if (sub == "keygen") return ParseKeygen(rest);
  if (sub == "help" || sub == "--help" || sub == "-h" || sub == "-help") {
    if (!rest.empty() && rest.front() == "pub") return HelpCommand{PubUsage()};
    if (!rest.empty() && rest.front() == "sub") return HelpCommand{SubUsage()};
    if (!rest.empty() && rest.front() == "keygen") return HelpCommand{KeygenUsage()};
    return HelpCommand{Usage()};
  }
  if (!sub.empty() && sub[0] == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown flag ", sub, " (flags follow the subcommand)"));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown subcommand \"", sub, "\""));
}

std::string UsageFor(const std::vector<std::string>& args) {
  if (!args.empty() && args.front() == "pub") return PubUsage();
  if (!args.empty() && args.front() == "sub") return SubUsage();
  if (!args.empty() && args.front() == "keygen") return KeygenUsage();
  return Usage();
}

std::string Usage() {
  return "Usage: roomq <command> [flags]\n"
         "roomq's command-line client: publish to and subscribe on a roomq broker.\n"
         "\n"
         "Commands:\n"
         "  pub    Publish an event to a namespace or rooms; waits for the broker's receipts.\n"
         "  sub    Print one JSON line per event received in a namespace or rooms.\n"
         "  keygen Write a CURVE key pair NAME.key (secret, 0600) and NAME.pub.\n"
         "  help   Print this (or `roomq help pub|sub|keygen`).\n"
         "\n"
         "Examples:\n"
         "  roomq sub --ns /chat --room general\n"
         "  roomq pub --ns /chat --room general --event \"chat message\" '{\"text\":\"hi\"}'\n"
         "\n"
         "Run `roomq <command> --help` for the command's flags.\n";
}

std::string PubUsage() {
  return absl::StrCat(
      "Usage: roomq pub [flags] [JSON-ARG ...]\n"
      "Publishes event(JSON-ARG, ...) to the rooms (or the whole namespace) and waits\n"
      "until the broker confirmed it. Each JSON-ARG is one argument and must be JSON\n"
      "(quote strings: '\"text\"'). Without JSON-ARGs, every non-empty stdin line is\n"
      "published as one event whose single argument is that line.\n"
      "Exit status: 0 when every event was confirmed, 1 when not (or a line was not JSON),\n"
      "2 for a usage error.\n\nFlags:\n",
      FlagsHelp(PubSpecs()));
}

std::string SubUsage() {
  return absl::StrCat(
      "Usage: roomq sub [flags]\n"
      "Subscribes to the rooms (or the namespace alone) and prints one JSON line per event:\n"
      "  {\"namespace\":\"/chat\",\"rooms\":[\"general\"],\"event\":\"chat "
      "message\",\"args\":[...]}\n"
      "with \"attachments\" (base64) when the event carries binary data. A line saying\n"
      "\"ready\" goes to stderr once the broker confirmed the subscription. Keeps running\n"
      "(and resubscribes) across broker restarts; exits 0 on SIGINT/SIGTERM.\n\nFlags:\n",
      FlagsHelp(SubSpecs()));
}

std::string KeygenUsage() {
  return "Usage: roomq keygen NAME\n"
         "Writes a new CURVE key pair: NAME.key (the secret key, mode 0600) and NAME.pub\n"
         "(the public key), Z85 text as zmq_curve_keypair gives it. Refuses to overwrite.\n"
         "The broker: --curve-secret-key broker.key, and every allowed node's NAME.pub in\n"
         "its --curve-clients DIR. A node: --curve-server-key broker.pub --curve-secret-key\n"
         "NAME.key.\n";
}

}  // namespace roomq::cli
