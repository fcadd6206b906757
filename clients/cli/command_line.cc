#include "clients/cli/command_line.h"

#include "absl/strings/str_cat.h"
#include "proto/base/command_line.h"
#include "proto/base/json.h"
#include "proto/node/command_line.h"
#include "proto/wire/topic.h"

namespace roomq::cli {
namespace {

// Each subcommand is its own CLI::App bound to its command struct, whose
// member initializers are the defaults. Unlike the other binaries, a
// non-repeatable flag given twice is an error here.
void UseCliConventions(CLI::App& app) {
  base::UseRoomqConventions(app);
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::Throw);
}

// The flags of every command that talks to the broker.
template <typename Command>
void AddCommonOptions(CLI::App& app, Command& command) {
  node::AddBrokerEndpointOptions(app, command.broker_pub, command.broker_sub);
  app.add_option("--ns", command.ns, "Socket.IO namespace.")->type_name("NAMESPACE");
  node::AddCurveClientOptions(app, command.curve_server_key, command.curve_secret_key);
  base::AddLogOptions(app, command.log);
}

// Both CURVE files or neither (they are read when the command runs).
absl::Status CheckCurveFlags(const std::string& server_key, const std::string& secret_key) {
  if (server_key.empty() != secret_key.empty()) {
    return absl::InvalidArgumentError("--curve-server-key and --curve-secret-key go together");
  }
  return absl::OkStatus();
}

// Builds an app around a throwaway command: the usage texts.
template <typename Flags>
std::string SubcommandUsage(void (*add)(CLI::App&, Flags&)) {
  Flags flags;
  CLI::App app;
  UseCliConventions(app);
  add(app, flags);
  return app.help();
}

// Parses `args` into `add`'s flags; --help answers with the usage, else
// `finish` checks what CLI11 cannot and makes the command.
template <typename Flags>
absl::StatusOr<Command> ParseSubcommand(void (*add)(CLI::App&, Flags&),
                                        absl::StatusOr<Command> (*finish)(Flags&),
                                        const std::vector<std::string>& args) {
  Flags flags;
  CLI::App app;
  UseCliConventions(app);
  add(app, flags);
  if (absl::Status status = base::ParseCommandLine(app, args); !status.ok()) {
    if (absl::IsNotFound(status)) return HelpCommand{app.help()};
    return status;
  }
  return finish(flags);
}

void AddPubOptions(CLI::App& app, PubCommand& command) {
  app.name("roomq pub");
  app.description(
      "Publishes event(JSON-ARG, ...) to the rooms (or the whole namespace) and waits\n"
      "until the broker confirmed it. Each JSON-ARG is one argument and must be JSON\n"
      "(quote strings: '\"text\"'). Without JSON-ARGs, every non-empty stdin line is\n"
      "published as one event whose single argument is that line.");
  app.footer(
      "Exit status: 0 when every event was confirmed, 1 when not (or a line was not JSON),\n"
      "2 for a usage error.");
  AddCommonOptions(app, command);
  app.add_option("--room", command.rooms, "Target room; none = the whole namespace.")
      ->type_name("ROOM");
  app.add_option("--except-room", command.except_rooms, "Skip sockets in this room.")
      ->type_name("ROOM");
  app.add_option("--except-socket", command.except_socket, "Skip this socket.")
      ->type_name("SOCKET_ID");
  app.add_option("--event", command.event, "Event name.")->type_name("NAME");
  base::AddMilliseconds(app, "--timeout-ms", command.timeout,
                        "How long to wait for the broker's receipts.")
      ->check(base::AtLeast(1));
  app.add_option("JSON-ARG", command.args, "The event's arguments, each one JSON value.");
}

// --from-offset is optional: whether it was given is the option's count.
struct SubFlags {
  SubCommand command;
  uint64_t from_offset = 0;
  CLI::Option* from_offset_option = nullptr;
};

void AddSubOptions(CLI::App& app, SubFlags& flags) {
  app.name("roomq sub");
  app.description(
      "Subscribes to the rooms (or the namespace alone) and prints one JSON line per event:\n"
      "  {\"namespace\":\"/chat\",\"rooms\":[\"general\"],\"event\":\"chat "
      "message\",\"args\":[...]}\n"
      "with \"attachments\" (base64) when the event carries binary data. A line saying\n"
      "\"ready\" goes to stderr once the broker confirmed the subscription. Keeps running\n"
      "(and resubscribes) across broker restarts; exits 0 on SIGINT/SIGTERM.");
  SubCommand& command = flags.command;
  AddCommonOptions(app, command);
  app.add_option("--room", command.rooms, "Room to receive; none = namespace-wide events only.")
      ->type_name("ROOM");
  flags.from_offset_option =
      app.add_option("--from-offset", flags.from_offset,
                     "First replay what the broker's history holds after offset N of the topic "
                     "(one --room at most; 0 = everything held), then go live.")
          ->type_name("N")
          ->check(base::AtLeast(0));
  app.add_option("--epoch", command.epoch,
                 "The epoch --from-offset belongs to (printed with each event); another epoch "
                 "than the broker's replays everything held.")
      ->type_name("E");  // a random 64-bit number: all of uint64's range
}

void AddSocketsOptions(CLI::App& app, SocketsCommand& command) {
  app.name("roomq sockets");
  app.description(
      "Prints the sockets connected to the namespace (or in any of the rooms), whichever\n"
      "gateway holds them, one JSON line each, in socket id order:\n"
      "  "
      "{\"id\":\"...\",\"namespace\":\"/chat\",\"rooms\":[...],\"data\":...,\"address\":\"...\",\n"
      "   \"userAgent\":\"...\",\"subject\":\"...\",\"gateway\":\"...\"}\n"
      "The broker answers from its socket records (io.in(room).fetchSockets()).");
  app.footer(
      "Exit status: 0 when answered, 1 when the broker did not answer, 2 for a usage error.");
  AddCommonOptions(app, command);
  app.add_option("--room", command.rooms, "Sockets in this room; none = the whole namespace.")
      ->type_name("ROOM");
  app.add_option("--except-room", command.except_rooms, "Leave out sockets in this room.")
      ->type_name("ROOM");
  app.add_flag("--count", command.count, "Print the number of sockets only.");
  base::AddMilliseconds(app, "--timeout-ms", command.timeout,
                        "How long to wait for each of the broker's answers.")
      ->check(base::AtLeast(1));
}

void AddKeygenOptions(CLI::App& app, KeygenCommand& command) {
  app.name("roomq keygen");
  app.description(
      "Writes a new CURVE key pair: NAME.key (the secret key, mode 0600) and NAME.pub\n"
      "(the public key), Z85 text as zmq_curve_keypair gives it. Refuses to overwrite.\n"
      "The broker: --curve-secret-key broker.key, and every allowed node's NAME.pub in\n"
      "its --curve-clients DIR. A node: --curve-server-key broker.pub --curve-secret-key\n"
      "NAME.key.");
  app.add_option("NAME", command.base, "Writes NAME.key and NAME.pub.")->required();
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

// The CURVE flags and a target selection (rooms and except rooms of ns).
template <typename Command>
absl::Status CheckTargetCommand(const Command& command) {
  if (absl::Status status = CheckCurveFlags(command.curve_server_key, command.curve_secret_key);
      !status.ok()) {
    return status;
  }
  if (absl::Status status = ValidateTarget(command.ns, command.rooms); !status.ok()) {
    return status;
  }
  return ValidateTarget(command.ns, command.except_rooms);
}

absl::StatusOr<Command> FinishPub(PubCommand& command) {
  if (absl::Status status = CheckTargetCommand(command); !status.ok()) return status;
  if (command.event.empty()) return absl::InvalidArgumentError("flag --event must not be empty");
  for (size_t i = 0; i < command.args.size(); ++i) {
    const std::string& arg = command.args[i];
    if (absl::Status status = base::ValidateJsonValue(arg); !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("argument ", i + 1, " is not JSON (", status.message(), "): ", arg,
                       "\n(a string argument needs JSON quotes: '\"text\"')"));
    }
  }
  return std::move(command);
}

absl::StatusOr<Command> FinishSub(SubFlags& flags) {
  SubCommand& command = flags.command;
  if (absl::Status status = ValidateTarget(command.ns, command.rooms); !status.ok()) {
    return status;
  }
  if (flags.from_offset_option->count() > 0) {
    if (command.rooms.size() > 1) {
      return absl::InvalidArgumentError("--from-offset resumes one topic: give at most one --room");
    }
    command.from_offset = flags.from_offset;
  }
  if (absl::Status status = CheckCurveFlags(command.curve_server_key, command.curve_secret_key);
      !status.ok()) {
    return status;
  }
  return std::move(command);
}

absl::StatusOr<Command> FinishSockets(SocketsCommand& command) {
  if (absl::Status status = CheckTargetCommand(command); !status.ok()) return status;
  return std::move(command);
}

absl::StatusOr<Command> FinishKeygen(KeygenCommand& command) {
  if (command.base.empty()) return absl::InvalidArgumentError("keygen takes exactly one NAME");
  return command;
}

}  // namespace

absl::StatusOr<Command> ParseCommandLine(const std::vector<std::string>& args) {
  if (args.empty()) return absl::InvalidArgumentError("missing subcommand");
  const std::string& sub = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "pub") return ParseSubcommand(&AddPubOptions, &FinishPub, rest);
  if (sub == "sub") return ParseSubcommand(&AddSubOptions, &FinishSub, rest);
  if (sub == "sockets") return ParseSubcommand(&AddSocketsOptions, &FinishSockets, rest);
  if (sub == "keygen") return ParseSubcommand(&AddKeygenOptions, &FinishKeygen, rest);
  if (sub == "help" || sub == "--help" || sub == "-h" || sub == "-help") {
    if (!rest.empty() && rest.front() == "pub") return HelpCommand{PubUsage()};
    if (!rest.empty() && rest.front() == "sub") return HelpCommand{SubUsage()};
    if (!rest.empty() && rest.front() == "sockets") return HelpCommand{SocketsUsage()};
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
  if (!args.empty() && args.front() == "sockets") return SocketsUsage();
  if (!args.empty() && args.front() == "keygen") return KeygenUsage();
  return Usage();
}

std::string Usage() {
  return "Usage: roomq <command> [flags]\n"
         "roomq's command-line client: publish to and subscribe on a roomq broker.\n"
         "\n"
         "Commands:\n"
         "  pub     Publish an event to a namespace or rooms; waits for the broker's receipts.\n"
         "  sub     Print one JSON line per event received in a namespace or rooms.\n"
         "  sockets Print the sockets connected to a namespace or rooms (or --count).\n"
         "  keygen  Write a CURVE key pair NAME.key (secret, 0600) and NAME.pub.\n"
         "  help    Print this (or `roomq help pub|sub|sockets|keygen`).\n"
         "\n"
         "Examples:\n"
         "  roomq sub --ns /chat --room general\n"
         "  roomq pub --ns /chat --room general --event \"chat message\" '{\"text\":\"hi\"}'\n"
         "\n"
         "Run `roomq <command> --help` for the command's flags.\n";
}

std::string PubUsage() { return SubcommandUsage(&AddPubOptions); }

std::string SubUsage() { return SubcommandUsage(&AddSubOptions); }

std::string SocketsUsage() { return SubcommandUsage(&AddSocketsOptions); }

std::string KeygenUsage() { return SubcommandUsage(&AddKeygenOptions); }

}  // namespace roomq::cli
