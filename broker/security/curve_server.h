#ifndef ROOMQ_BROKER_SECURITY_CURVE_SERVER_H_
#define ROOMQ_BROKER_SECURITY_CURVE_SERVER_H_

// The broker side of CURVE: what makes one of its ROUTER sockets a CURVE
// server. Called by Broker::Bind() on each socket before it binds, while a
// ZapHandler (zap_handler.h) on the same context decides which client keys
// get in.
//
// Thread safety: call on the socket's thread.

#include <memory>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/security/zap_handler.h"

namespace roomq::broker::security {

// ZAP domain the broker's sockets announce (shows in ZAP requests).
inline constexpr char kZapDomain[] = "roomq";

// Where a CURVE socket's handshake-failure events go (zmq_socket_monitor);
// the ZapHandler reads them to count and log peers that fail before ZAP
// (no CURVE at all, the wrong server key, garbage). `name` is "pub"/"sub".
std::string MonitorEndpoint(std::string_view name);

// ZMQ_CURVE_SERVER = 1, ZMQ_CURVE_SECRETKEY = `secret_key` (Z85),
// ZMQ_ZAP_DOMAIN = kZapDomain, ZMQ_ZAP_ENFORCE_DOMAIN = 1 (no ZAP handler
// means no client gets in, rather than every client), and a monitor of handshake failures on
// MonitorEndpoint(name). InvalidArgument for a malformed key, Internal when
// libzmq refuses an option.
absl::Status EnableCurveServer(zmq::socket_t& socket, const std::string& secret_key,
                               std::string_view name);

// What roomq-broker's --curve-secret-key FILE and --curve-clients DIR set up.
struct CurveServerSetup {
  std::string secret_key;           // Z85, for BrokerOptions::curve_secret_key; empty = off
  std::string public_key;           // Z85, what nodes pass as --curve-server-key
  std::unique_ptr<ZapHandler> zap;  // running; null when off
};

// Neither flag: CURVE off (empty setup). Otherwise loads the key pair and
// the allowed client keys and starts the ZapHandler (monitoring "pub" and
// "sub") on `context`, to be done before the broker binds. InvalidArgument
// (exit 2) for one flag without the other or a bad/unreadable key file or
// dir; FailedPrecondition when libzmq lacks CURVE; Internal when the ZAP
// handler cannot start. Logs "curve on clients=N server_key=<z85>".
absl::StatusOr<CurveServerSetup> SetUpCurveServer(zmq::context_t& context,
                                                  const std::string& secret_key_file,
                                                  const std::string& clients_dir);

}  // namespace roomq::broker::security

#endif  // ROOMQ_BROKER_SECURITY_CURVE_SERVER_H_
