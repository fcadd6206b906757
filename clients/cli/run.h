#ifndef ROOMQ_CLIENTS_CLI_RUN_H_
#define ROOMQ_CLIENTS_CLI_RUN_H_

// What `roomq` does once its command line is parsed.

#include <istream>

#include "clients/cli/command_line.h"

namespace roomq::cli {

// The whole program: parse, run, return the exit status (0 ok, 1 failure,
// 2 usage error).
int Main(int argc, char** argv);

// Writes a CURVE key pair <base>.key / <base>.pub and prints the public key.
// 1 when a file exists or cannot be written.
int RunKeygen(const KeygenCommand& command);

// Publishes and waits for receipts. 0 when every event was confirmed.
int RunPub(const PubCommand& command, std::istream& in);

// Prints the selected sockets (one JSON line each) or their number. 0 when
// the broker answered.
int RunSockets(const SocketsCommand& command);

// Subscribes and prints until SIGINT/SIGTERM (which it blocks and waits
// for; call before any other thread starts). 0 on a signal.
int RunSub(const SubCommand& command);

}  // namespace roomq::cli

#endif  // ROOMQ_CLIENTS_CLI_RUN_H_
