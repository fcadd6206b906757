#ifndef ROOMQ_PROTO_NODE_COMMAND_LINE_H_
#define ROOMQ_PROTO_NODE_COMMAND_LINE_H_

// The flags every node binary (roomq-echo, the `roomq` CLI, the gateway)
// spells the same way: where the broker is and which CURVE key files to
// use. They bind to the caller's strings, whose initial values are the
// defaults --help shows (ClientOptions' come from endpoints.h).

#include <string>

#include "CLI/CLI.hpp"

namespace roomq::node {

// --broker-pub / --broker-sub.
inline void AddBrokerEndpointOptions(CLI::App& app, std::string& broker_pub,
                                     std::string& broker_sub) {
  app.add_option("--broker-pub", broker_pub,
                 "The broker's publish endpoint (its --pub-bind); a failover pair's two, "
                 "comma-separated, primary first.")
      ->type_name("ENDPOINT[,ENDPOINT]");
  app.add_option("--broker-sub", broker_sub,
                 "The broker's subscribe endpoint (its --sub-bind); a failover pair's two, "
                 "comma-separated, in the order of --broker-pub.")
      ->type_name("ENDPOINT[,ENDPOINT]");
}

// --curve-server-key / --curve-secret-key: both or neither, which
// LoadCurveClientOptions (curve.h) checks when it reads them.
inline void AddCurveClientOptions(CLI::App& app, std::string& server_public_key_file,
                                  std::string& secret_key_file) {
  app.add_option("--curve-server-key", server_public_key_file,
                 "CURVE: the broker's public key file (NAME.pub); with --curve-secret-key.")
      ->type_name("FILE");
  app.add_option("--curve-secret-key", secret_key_file,
                 "CURVE: this node's secret key file (NAME.key).")
      ->type_name("FILE");
}

}  // namespace roomq::node

#endif  // ROOMQ_PROTO_NODE_COMMAND_LINE_H_
