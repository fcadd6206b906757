#include "broker/security/zap_handler.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/security/curve_server.h"
#include "proto/base/start_thread.h"
#include "proto/node/curve.h"

namespace roomq::broker::security {
namespace {

constexpr std::chrono::milliseconds kPollInterval{100};

std::string Z85(const std::string& binary_key) {
  char text[node::kCurveKeyZ85Chars + 1];
  if (binary_key.size() != 32 ||
      zmq_z85_encode(text, reinterpret_cast<const uint8_t*>(binary_key.data()), 32) == nullptr) {
    return "invalid";
  }
  return std::string(text, node::kCurveKeyZ85Chars);
}

std::string HandshakeFailure(uint16_t event, uint32_t value) {
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) return "no_detail";
  switch (value) {
    case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
      return "mechanism_mismatch";
    case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
      return "cryptographic";
    default: {
      char code[16];
      std::snprintf(code, sizeof code, "0x%08x", value);
      return absl::StrCat("protocol_", code);
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ZapHandler>> ZapHandler::Start(
    zmq::context_t& context, const std::vector<std::string>& allowed_public_keys,
    const std::vector<std::string>& monitored_sockets) {
  if (allowed_public_keys.empty()) {
    return absl::InvalidArgumentError("ZAP handler: no allowed client key");
  }
  std::set<std::string> allowed;
  for (const std::string& key : allowed_public_keys) {
    if (absl::Status valid = node::ValidateCurveKey(key); !valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("allowed client key: ", valid.message()));
    }
    std::string binary(32, '\0');
    zmq_z85_decode(reinterpret_cast<uint8_t*>(binary.data()), key.c_str());
    allowed.insert(std::move(binary));
  }
  std::unique_ptr<ZapHandler> handler(
      new ZapHandler(context, std::move(allowed), monitored_sockets));
  std::promise<absl::Status> started;
  std::future<absl::Status> result = started.get_future();
  handler->thread_ = base::StartThread([raw = handler.get(), &started] { raw->Run(&started); });
  absl::Status status = result.get();
  if (!status.ok()) {
    handler->thread_.join();
    handler->thread_ = std::thread();
    return status;
  }
  return handler;
}

ZapHandler::ZapHandler(zmq::context_t& context, std::set<std::string> allowed,
                       std::vector<std::string> monitored)
    : context_(context), allowed_(std::move(allowed)), monitored_(std::move(monitored)) {}

ZapHandler::~ZapHandler() {
  stop_.store(true);
  if (thread_.joinable()) {
    thread_.join();
    spdlog::info("curve stopped accepted={} refused={} handshake_failed={}", accepted(), refused(),
                 handshake_failed());
  }
}

void ZapHandler::Run(std::promise<absl::Status>* started) {
  std::vector<zmq::socket_t> sockets;
  try {
    sockets.emplace_back(context_, zmq::socket_type::rep);
    sockets.back().set(zmq::sockopt::linger, 0);
    sockets.back().bind(kZapEndpoint);
    for (const std::string& name : monitored_) {
      sockets.emplace_back(context_, zmq::socket_type::pair);
      sockets.back().set(zmq::sockopt::linger, 0);
      sockets.back().connect(MonitorEndpoint(name));  // inproc: may precede the monitor's bind
    }
  } catch (const zmq::error_t& e) {
    started->set_value(
        absl::InternalError(absl::StrCat("ZAP handler on ", kZapEndpoint, ": ", e.what())));
    return;
  }
  started->set_value(absl::OkStatus());  // `started` is gone after this

  std::vector<zmq::pollitem_t> items;
  items.reserve(sockets.size());
  for (auto& socket : sockets) items.push_back({socket.handle(), 0, ZMQ_POLLIN, 0});
  while (!stop_.load()) {
    try {
      zmq::poll(items.data(), items.size(), kPollInterval);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      spdlog::error("curve: ZAP handler poll failed: {}; CURVE clients can no longer connect",
                    e.what());
      return;
    }
    if (items[0].revents & ZMQ_POLLIN) HandleRequest(sockets[0]);
    for (size_t i = 1; i < items.size(); ++i) {
      if (items[i].revents & ZMQ_POLLIN) HandleMonitorEvent(sockets[i], monitored_[i - 1]);
    }
  }
}

bool ZapHandler::MayLog() {
  const auto now = std::chrono::steady_clock::now();
  if (now - window_start_ >= kLogWindow) {
    if (not_logged_ > 0) spdlog::warn("curve refusals not logged={}", not_logged_);
    window_start_ = now;
    logged_in_window_ = 0;
    not_logged_ = 0;
  }
  if (logged_in_window_ < kLogBurst) {
    ++logged_in_window_;
    return true;
  }
  ++not_logged_;
  return false;
}

void ZapHandler::HandleRequest(zmq::socket_t& rep) {
  // Request frames (RFC 27): version, request id, domain, address, identity,
  // mechanism, credentials...
  std::vector<std::string> frames;
  try {
    zmq::message_t frame;
    do {
      if (!rep.recv(frame, zmq::recv_flags::dontwait)) break;
      if (frames.size() < 16) frames.push_back(frame.to_string());
    } while (frame.more());
  } catch (const zmq::error_t& e) {
    spdlog::warn("curve: ZAP receive failed: {}", e.what());
    return;
  }
  const std::string request_id = frames.size() > 1 ? frames[1] : std::string();
  const std::string address = frames.size() > 3 ? frames[3] : std::string();
  bool ok = false;
  std::string user_id;
  if (frames.size() < 6 || frames[0] != "1.0") {
    refused_.fetch_add(1, std::memory_order_relaxed);
    if (MayLog()) spdlog::warn("curve refused reason=malformed_request frames={}", frames.size());
  } else if (frames[5] != "CURVE" || frames.size() != 7 || frames[6].size() != 32) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    if (MayLog()) {
      spdlog::warn("curve refused reason=mechanism mechanism={} address={}", frames[5], address);
    }
  } else if (allowed_.count(frames[6]) == 0) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    if (MayLog()) {
      spdlog::warn("curve refused reason=unknown_key key={} address={}", Z85(frames[6]), address);
    }
  } else {
    ok = true;
    user_id = Z85(frames[6]);
    accepted_.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("curve accepted key={} address={}", user_id, address);
  }
  const std::string reply[] = {"1.0",   request_id, ok ? "200" : "400", ok ? "OK" : "not allowed",
                               user_id, ""};
  try {
    for (size_t i = 0; i < std::size(reply); ++i) {
      rep.send(zmq::buffer(reply[i]),
               i + 1 < std::size(reply) ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  } catch (const zmq::error_t& e) {
    spdlog::warn("curve: ZAP reply failed: {}", e.what());
  }
}

void ZapHandler::HandleMonitorEvent(zmq::socket_t& monitor, const std::string& name) {
  // Monitor messages: [u16 event, u32 value] then [endpoint].
  zmq::message_t event_frame;
  zmq::message_t endpoint;
  try {
    if (!monitor.recv(event_frame, zmq::recv_flags::dontwait)) return;
    if (event_frame.more()) (void)monitor.recv(endpoint, zmq::recv_flags::dontwait);
  } catch (const zmq::error_t& e) {
    return;
  }
  if (event_frame.size() < 6) return;
  uint16_t event;
  uint32_t value;
  std::memcpy(&event, event_frame.data(), sizeof event);
  std::memcpy(&value, static_cast<const char*>(event_frame.data()) + 2, sizeof value);
  // An AUTH failure is a ZAP refusal, already counted and logged there.
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) return;
  if (event != ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
      event != ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
    return;
  }
  handshake_failed_.fetch_add(1, std::memory_order_relaxed);
  if (MayLog()) {
    spdlog::warn("curve handshake failed socket={} reason={} endpoint={}", name,
                 HandshakeFailure(event, value), endpoint.to_string());
  }
}

}  // namespace roomq::broker::security
