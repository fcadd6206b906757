#include "broker/security/curve_server.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"
#include "proto/node/curve.h"

namespace roomq::broker::security {

std::string MonitorEndpoint(std::string_view name) {
  return absl::StrCat("inproc://roomq-curve-monitor-", ToAbsl(name));
}

absl::Status EnableCurveServer(zmq::socket_t& socket, const std::string& secret_key,
                               std::string_view name) {
  if (absl::Status valid = node::ValidateCurveKey(secret_key); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("CURVE secret key: ", valid.message()));
  }
  try {
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey, secret_key);
    socket.set(zmq::sockopt::zap_domain, kZapDomain);
    // Fail closed: with no ZAP handler bound (it stopped, or was never
    // started) libzmq would otherwise admit every CURVE client.
    // ZMQ_ZAP_ENFORCE_DOMAIN (93) is declared only under ZMQ_BUILD_DRAFT_API,
    // though Debian's libzmq 4.3.4 implements it; a libzmq without it fails
    // here, so the broker refuses to start rather than run open.
    constexpr int kZapEnforceDomain = 93;
    const int enforce = 1;
    if (zmq_setsockopt(socket.handle(), kZapEnforceDomain, &enforce, sizeof enforce) != 0) {
      throw zmq::error_t();
    }
  } catch (const zmq::error_t& e) {
    return absl::InternalError(absl::StrCat("CURVE server options: ", e.what()));
  }
  const std::string monitor = MonitorEndpoint(name);
  if (zmq_socket_monitor(socket.handle(), monitor.c_str(),
                         ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0) {
    return absl::InternalError(
        absl::StrCat("zmq_socket_monitor ", monitor, ": ", zmq_strerror(zmq_errno())));
  }
  return absl::OkStatus();
}

absl::StatusOr<CurveServerSetup> SetUpCurveServer(zmq::context_t& context,
                                                  const std::string& secret_key_file,
                                                  const std::string& clients_dir) {
  CurveServerSetup setup;
  if (secret_key_file.empty() && clients_dir.empty()) return setup;
  if (secret_key_file.empty() || clients_dir.empty()) {
    return absl::InvalidArgumentError(
        "CURVE needs both --curve-secret-key (the broker's key) and --curve-clients (the allowed "
        "client keys)");
  }
  if (absl::Status available = node::CheckCurveAvailable(); !available.ok()) return available;
  absl::StatusOr<node::CurveKeyPair> pair = node::LoadCurveSecretKey(secret_key_file);
  if (!pair.ok()) return absl::InvalidArgumentError(pair.status().message());
  absl::StatusOr<std::vector<std::string>> clients = node::LoadCurvePublicKeyDir(clients_dir);
  if (!clients.ok()) return absl::InvalidArgumentError(clients.status().message());
  // The broker's own key gets in too: the two brokers of a failover pair
  // share one key pair and reach each other's pair socket with it
  // (broker/failover/README.md). Whoever holds the secret key could pose as
  // the broker anyway.
  std::vector<std::string> allowed = *clients;
  allowed.push_back(pair->public_key);
  absl::StatusOr<std::unique_ptr<ZapHandler>> zap =
      ZapHandler::Start(context, allowed, {"pub", "sub", "pair"});
  if (!zap.ok()) return zap.status();
  setup.secret_key = pair->secret_key;
  setup.public_key = pair->public_key;
  setup.zap = *std::move(zap);
  spdlog::info("curve on clients={} server_key={}", clients->size(), setup.public_key);
  return setup;
}

}  // namespace roomq::broker::security
