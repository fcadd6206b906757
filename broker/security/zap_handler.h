#ifndef ROOMQ_BROKER_SECURITY_ZAP_HANDLER_H_
#define ROOMQ_BROKER_SECURITY_ZAP_HANDLER_H_

// The broker's ZAP handler (ZeroMQ Authentication Protocol, RFC 27): a REP
// socket bound to inproc://zeromq.zap.01 on its own thread that answers
// libzmq's authentication requests for the broker's CURVE sockets. It admits
// a CURVE client whose public key is in the allowed set (200, User-Id = the
// key in Z85) and refuses every other request (400): an unknown key, another
// mechanism, a malformed request.
//
// The same thread reads the handshake-failure monitors of the broker's CURVE
// sockets (curve_server.h), so peers that fail before ZAP is asked (no CURVE
// at all: mechanism mismatch; the wrong server key: cryptographic error) are
// counted and logged too. Log lines (stable; tests match them):
//   curve refused reason=unknown_key key=<z85> address=<peer ip>
//   curve refused reason=mechanism mechanism=<name> address=<peer ip>
//   curve handshake failed socket=pub|sub
//   reason=mechanism_mismatch|cryptographic|protocol_0x<code>|no_detail curve stopped accepted=N
//   refused=N handshake_failed=N
// At most kLogBurst refusal lines per kLogWindow; beyond that they are only
// counted ("curve refusals not logged=N" when the next window opens).
//
// Lifetime: start it on the broker's context BEFORE the broker binds its
// CURVE sockets (without a ZAP handler libzmq admits every CURVE client) and
// destroy it before the context is closed. One per context (the ZAP
// endpoint is per context): a second Start fails.
//
// Thread safety: the counters may be read from any thread; the handler's
// sockets live on its own thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "absl/status/statusor.h"

namespace roomq::broker::security {

inline constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";
inline constexpr int kLogBurst = 20;
inline constexpr std::chrono::seconds kLogWindow{10};

class ZapHandler {
 public:
  // `allowed_public_keys`: Z85 client public keys (InvalidArgument for a
  // malformed one, or for none). `monitored_sockets`: names given to
  // EnableCurveServer ("pub", "sub") whose failure monitors are read.
  // Internal when the ZAP endpoint cannot be bound (another handler).
  static absl::StatusOr<std::unique_ptr<ZapHandler>> Start(
      zmq::context_t& context, const std::vector<std::string>& allowed_public_keys,
      const std::vector<std::string>& monitored_sockets);
  // Stops the thread (within ~100 ms) and logs the "curve stopped" line.
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
  // ZAP requests refused (unknown key, other mechanism, malformed).
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  // Handshakes that failed before ZAP (no CURVE, wrong server key, ...).
  uint64_t handshake_failed() const { return handshake_failed_.load(std::memory_order_relaxed); }

 private:
  ZapHandler(zmq::context_t& context, std::set<std::string> allowed,
             std::vector<std::string> monitored);
  void Run(std::promise<absl::Status>* started);
  void HandleRequest(zmq::socket_t& rep);
  void HandleMonitorEvent(zmq::socket_t& monitor, const std::string& name);
  bool MayLog();

  zmq::context_t& context_;
  const std::set<std::string> allowed_;  // 32-byte binary keys
  const std::vector<std::string> monitored_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> handshake_failed_{0};
  // Log rate limit; handler thread only.
  std::chrono::steady_clock::time_point window_start_{};
  int logged_in_window_ = 0;
  uint64_t not_logged_ = 0;
  std::thread thread_;
};

}  // namespace roomq::broker::security

#endif  // ROOMQ_BROKER_SECURITY_ZAP_HANDLER_H_
