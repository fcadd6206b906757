#include "gateway/engineio/session_impl.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <utility>

#include "absl/status/status.h"
#include "gateway/engineio/errors.h"
#include "proto/base/absl_compat.h"

namespace roomq::gateway::engineio {
namespace {

// What an Engine.IO control packet with `text` after its type byte is
// charged against the outbound bound.
size_t ControlPacketCost(std::string_view text) { return 1 + text.size() + kControlFrameOverhead; }

}  // namespace

SessionImpl::SessionImpl(std::string id, const boost::asio::any_io_executor& executor,
                         HandshakeInfo handshake, const EngineOptions& options,
                         TransportErrorCounters* errors, FinishedCallback on_finished)
    : id_(std::move(id)),
      executor_(executor),
      handshake_(std::move(handshake)),
      options_(options),
      errors_(errors),
      on_finished_(std::move(on_finished)),
      heartbeat_timer_(options.timers->NewTimer(executor)) {}

SessionImpl::~SessionImpl() {
  if (ws_) ws_->Abort();
  if (probe_) probe_->Abort();
}

std::string_view SessionImpl::transport() const {
  return transport_ == Transport::kPolling ? "polling" : "websocket";
}

std::string SessionImpl::OpenPacketData(bool offer_websocket) const {
  return "{\"sid\":\"" + id_ + "\",\"upgrades\":" + (offer_websocket ? "[\"websocket\"]" : "[]") +
         ",\"pingInterval\":" + std::to_string(options_.ping_interval.count()) +
         ",\"pingTimeout\":" + std::to_string(options_.ping_timeout.count()) +
         ",\"maxPayload\":" + std::to_string(options_.max_payload) + "}";
}

void SessionImpl::AttachWebSocket(std::shared_ptr<WebSocketTransport> ws) {
  transport_ = Transport::kWebSocket;
  ws_ = std::move(ws);
  EnqueueControl(PacketType::kOpen, OpenPacketData(false));
}

void SessionImpl::Open(std::unique_ptr<SessionListener> listener) {
  listener_ = std::move(listener);
  opened_ = true;
  if (ws_) ws_->SetHandler(weak_from_this());
  SchedulePing();
  Flush();
}

absl::Status SessionImpl::Send(SharedOutbound message) {
  if (closed_ || closing_) return absl::FailedPreconditionError("session closed");
  if (!message) return absl::InvalidArgumentError("null message");
  size_t bytes = 0;
  for (const auto& part : *message) bytes += part.data.size();
  if (queued_bytes() + bytes > options_.max_outbound_bytes) {
    spdlog::warn("session {}: outbound queue over {} bytes, closing", id_,
                 options_.max_outbound_bytes);
    closing_ = true;
    cut_off_ = true;
    boost::asio::post(executor_,
                      [self = shared_from_this()] { self->Finish("transport error", false); });
    return absl::ResourceExhaustedError("outbound queue full");
  }
  queued_bytes_ += bytes;
  if (opened_ && transport_ == Transport::kWebSocket && ws_ && queue_.empty()) {
    // The hot path: straight into the transport's FIFO, no staging.
    WriteMessageToWebSocket(message);
    return absl::OkStatus();
  }
  queue_.push_back(Outgoing{PacketType::kMessage, {}, std::move(message), bytes});
  Flush();
  return absl::OkStatus();
}

void SessionImpl::Close() {
  if (closed_ || closing_) return;
  closing_ = true;
  boost::asio::post(executor_,
                    [self = shared_from_this()] { self->BeginGracefulClose("forced close"); });
}

void SessionImpl::Shutdown(std::string_view reason) {
  if (closed_) return;
  BeginGracefulClose(std::string(reason));
  if (!closed_) Finish(reason, true);
}

void SessionImpl::BeginGracefulClose(std::string reason) {
  if (closed_) return;
  closing_ = true;
  close_reason_ = std::move(reason);
  EnqueueControl(PacketType::kClose);
  if (probe_) AbortProbe();
  if (transport_ == Transport::kWebSocket || pending_get_) {
    Flush();  // finishes the session once the close packet is handed over
    return;
  }
  // Polling without a pending GET: the client's next GET gets the close
  // packet; bounded by close_timeout.
  LazyTimer(close_timer_).Start(options_.close_timeout, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || self->closed_) return;
    self->Finish(self->close_reason_, true);
  });
}

bool SessionImpl::EnqueueControl(PacketType type, std::string text) {
  const size_t bytes = ControlPacketCost(text);
  const bool always = type == PacketType::kOpen || type == PacketType::kClose;
  if (!ChargeControl(bytes, queued_bytes_, always)) return false;
  queue_.push_back(Outgoing{type, std::move(text), nullptr, bytes});
  return true;
}

bool SessionImpl::ChargeControl(size_t bytes, size_t& counter, bool always) {
  if (!always) {
    if (closed_ || cut_off_) return false;
    if (queued_bytes() + bytes > options_.max_outbound_bytes) {
      CutOff();
      return false;
    }
  }
  counter += bytes;
  return true;
}

void SessionImpl::CutOff() {
  if (closed_) return;
  if (!cut_off_) {
    cut_off_ = true;
    CountError(TransportError::kOutboundFull, "control frame over max_outbound_bytes " +
                                                  std::to_string(options_.max_outbound_bytes) +
                                                  ", cut off");
  }
  Finish("transport error", false);
}

void SessionImpl::Flush() {
  if (!opened_ || closed_) return;
  if (transport_ == Transport::kWebSocket) {
    FlushToWebSocket();
  } else {
    FlushToPoll();
  }
}

void SessionImpl::FlushToWebSocket() {
  if (!ws_) return;
  bool close_sent = false;
  for (Outgoing& out : queue_) {
    if (out.type == PacketType::kMessage) {
      WriteMessageToWebSocket(out.message);
    } else {
      if (out.type == PacketType::kClose) close_sent = true;
      WsFrame frame;
      frame.prefix = static_cast<char>(out.type);
      frame.owned = std::move(out.text);
      frame.accounted = out.bytes;
      ws_->Write(std::move(frame));
    }
  }
  ReleaseQueue();
  if (closing_ && close_sent) Finish(close_reason_, true);
}

void SessionImpl::WriteMessageToWebSocket(const SharedOutbound& message) {
  for (size_t i = 0; i < message->size(); ++i) {
    const OutboundPart& part = (*message)[i];
    WsFrame frame;
    frame.binary = part.binary;
    frame.prefix = part.binary ? 0 : static_cast<char>(PacketType::kMessage);
    frame.shared = message;
    frame.shared_part = i;
    frame.accounted = part.data.size();
    ws_->Write(std::move(frame));
  }
}

void SessionImpl::ReleaseQueue() { std::vector<Outgoing>().swap(queue_); }

Timer& SessionImpl::LazyTimer(std::unique_ptr<Timer>& timer) {
  if (!timer) timer = options_.timers->NewTimer(executor_);
  return *timer;
}

void SessionImpl::FlushToPoll() {
  if (!pending_get_ || queue_.empty()) return;
  std::string payload;
  bool close_sent = false;
  for (Outgoing& out : queue_) {
    if (out.type == PacketType::kMessage) {
      for (const OutboundPart& part : *out.message) {
        AppendPayloadPacket(&payload, PacketType::kMessage, part.data, part.binary);
      }
    } else {
      if (out.type == PacketType::kClose) close_sent = true;
      AppendPayloadPacket(&payload, out.type, out.text);
    }
    queued_bytes_ -= std::min(queued_bytes_, out.bytes);
  }
  ReleaseQueue();
  AnswerPendingGet(std::move(payload));
  if (closing_ && close_sent) Finish(close_reason_, true);
}

void SessionImpl::AnswerPendingGet(std::string payload) {
  if (!pending_get_) return;
  Responder respond = std::move(*pending_get_);
  pending_get_.reset();
  HttpReply reply;
  reply.content_type = "text/plain; charset=UTF-8";
  reply.body = std::move(payload);
  respond(std::move(reply));
}

std::optional<ErrorCode> SessionImpl::PollRefusal() const {
  if (closed_) return ErrorCode::kUnknownSid;
  if (transport_ != Transport::kPolling) return ErrorCode::kBadRequest;
  return std::nullopt;
}

void SessionImpl::HandlePollGet(Responder respond) {
  if (std::optional<ErrorCode> refusal = PollRefusal()) {
    respond(ErrorReply(*refusal));
    return;
  }
  if (pending_get_) {
    // Like engine.io: overlapping polls are a client error; the session ends
    // and the first poll receives the close packet.
    spdlog::info("session {}: overlapping poll from {}", id_, handshake_.remote_address);
    respond(ErrorReply(ErrorCode::kBadRequest));
    Finish("transport error", true);
    return;
  }
  pending_get_ = std::move(respond);
  if (upgrading_ && queue_.empty()) {
    AnswerPendingGet(EncodeTextPacket(PacketType::kNoop));
    return;
  }
  Flush();
}

void SessionImpl::HandlePollPost(const EngineRequest& request, const Responder& respond) {
  if (std::optional<ErrorCode> refusal = PollRefusal()) {
    respond(ErrorReply(*refusal));
    return;
  }
  if (request.body_too_large) {
    CountError(TransportError::kHttpTooLarge,
               "POST over maxPayload " + std::to_string(options_.max_payload));
    HttpReply reply;
    reply.status = 413;
    reply.content_type = "text/plain";
    reply.body = "Payload Too Large";
    reply.close_connection = true;
    respond(std::move(reply));
    Finish("transport error", true);
    return;
  }
  auto packets = DecodePayload(request.body);
  if (!packets.ok()) {
    CountError(TransportError::kEnginePacket,
               "bad payload: " + std::string(roomq::FromAbsl(packets.status().message())));
    respond(ErrorReply(ErrorCode::kBadRequest));
    Finish("parse error", true);
    return;
  }
  auto self = shared_from_this();
  for (const Packet& packet : *packets) {
    if (closed_) break;
    HandlePacket(packet.type, packet.data, packet.binary);
  }
  HttpReply reply;
  reply.content_type = "text/html";
  reply.body = "ok";
  respond(std::move(reply));
}

void SessionImpl::HandlePacket(PacketType type, std::string_view data, bool binary) {
  switch (type) {
    case PacketType::kMessage:
      if (listener_) listener_->OnMessage(data, binary);
      break;
    case PacketType::kPing:
      // Client-initiated ping (Engine.IO v3 habit): answer it, within the
      // outbound bound like everything queued for the client.
      if (EnqueueControl(PacketType::kPong, std::string(data))) Flush();
      break;
    case PacketType::kPong:
      if (awaiting_pong_) {
        awaiting_pong_ = false;
        SchedulePing();
      }
      break;
    case PacketType::kClose:
      if (pending_get_) AnswerPendingGet(EncodeTextPacket(PacketType::kNoop));
      Finish("transport close", true);
      break;
    case PacketType::kOpen:
    case PacketType::kUpgrade:
    case PacketType::kNoop:
      break;
  }
}

void SessionImpl::HandleUpgradeCandidate(std::shared_ptr<WebSocketTransport> ws) {
  if (closed_ || closing_ || transport_ != Transport::kPolling || probe_) {
    // As engine.io: the handshake (101) stands and the extra WebSocket gets
    // a close frame, so the client sees an orderly close, not a reset.
    ws->Close();
    return;
  }
  probe_ = std::move(ws);
  probe_->SetHandler(weak_from_this());
  LazyTimer(upgrade_timer_)
      .Start(options_.upgrade_timeout,
             [weak = weak_from_this(), probe = std::weak_ptr<WebSocketTransport>(probe_)] {
               auto self = weak.lock();
               if (!self || self->closed_) return;
               if (self->probe_ && self->probe_ == probe.lock()) {
                 self->CountError(TransportError::kUpgradeTimeout, "upgrade probe not completed");
                 self->AbortProbe();
               }
             });
}

void SessionImpl::AbortProbe() {
  if (probe_) probe_->Abort();
  probe_.reset();
  probe_bytes_ = 0;
  upgrading_ = false;
  if (upgrade_timer_) upgrade_timer_->Cancel();
}

void SessionImpl::HandleProbeMessage(std::string_view data, bool binary) {
  if (!binary && data == "2probe") {
    WsFrame frame;
    frame.prefix = static_cast<char>(PacketType::kPong);
    frame.owned = "probe";
    frame.accounted = ControlPacketCost(frame.owned);
    if (!ChargeControl(frame.accounted, probe_bytes_)) return;
    probe_->Write(std::move(frame));
    upgrading_ = true;
    if (pending_get_ && queue_.empty()) AnswerPendingGet(EncodeTextPacket(PacketType::kNoop));
    return;
  }
  if (!binary && data == "5" && upgrading_) {
    if (upgrade_timer_) upgrade_timer_->Cancel();
    upgrading_ = false;
    if (pending_get_) AnswerPendingGet(EncodeTextPacket(PacketType::kNoop));
    ws_ = std::move(probe_);
    transport_ = Transport::kWebSocket;
    queued_bytes_ += probe_bytes_;  // what the probe's FIFO holds is now ws_'s
    probe_bytes_ = 0;
    // A noop first tells the client the new transport carries traffic now;
    // clients ignore it.
    const size_t noop_bytes = ControlPacketCost({});
    queued_bytes_ += noop_bytes;
    queue_.insert(queue_.begin(), Outgoing{PacketType::kNoop, {}, nullptr, noop_bytes});
    Flush();
    return;
  }
  CountError(TransportError::kEnginePacket, "unexpected packet during upgrade, probe closed");
  AbortProbe();
}

void SessionImpl::OnWsMessage(WebSocketTransport* ws, std::string_view data, bool binary) {
  if (closed_) return;
  if (probe_ && ws == probe_.get()) {
    HandleProbeMessage(data, binary);
    return;
  }
  if (!ws_ || ws != ws_.get()) return;
  if (binary) {
    HandlePacket(PacketType::kMessage, data, true);
    return;
  }
  auto packet = DecodeTextPacket(data);
  if (!packet.ok()) {
    CountError(TransportError::kEnginePacket,
               "bad packet: " + std::string(roomq::FromAbsl(packet.status().message())));
    Finish("parse error", true);
    return;
  }
  HandlePacket(packet->type, packet->data, false);
}

void SessionImpl::OnWsWritten(WebSocketTransport* ws, size_t bytes) {
  size_t& counter = probe_ && ws == probe_.get() ? probe_bytes_ : queued_bytes_;
  counter -= std::min(counter, bytes);
}

bool SessionImpl::AdmitWsControl(WebSocketTransport* ws, size_t bytes) {
  if (probe_ && ws == probe_.get()) return ChargeControl(bytes, probe_bytes_);
  if (ws_ && ws == ws_.get()) return ChargeControl(bytes, queued_bytes_);
  return false;
}

void SessionImpl::OnWsClosed(WebSocketTransport* ws, std::string_view reason) {
  if (probe_ && ws == probe_.get()) {
    probe_.reset();
    probe_bytes_ = 0;
    upgrading_ = false;
    if (upgrade_timer_) upgrade_timer_->Cancel();
    return;
  }
  if (ws_ && ws == ws_.get()) {
    ws_.reset();
    Finish(reason, false);
  }
}

void SessionImpl::SchedulePing() {
  uint64_t generation = ++heartbeat_generation_;
  heartbeat_timer_->Start(options_.ping_interval, [weak = weak_from_this(), generation] {
    auto self = weak.lock();
    if (!self || self->closed_ || generation != self->heartbeat_generation_) return;
    self->SendPing();
  });
}

void SessionImpl::SendPing() {
  // The pong deadline is armed before the ping can reach the client, so
  // whoever sees the ping knows the deadline is running.
  awaiting_pong_ = true;
  uint64_t generation = ++heartbeat_generation_;
  heartbeat_timer_->Start(options_.ping_timeout, [weak = weak_from_this(), generation] {
    auto self = weak.lock();
    if (!self || self->closed_ || generation != self->heartbeat_generation_) return;
    if (self->awaiting_pong_) {
      self->CountError(TransportError::kPingTimeout, "no pong within pingTimeout");
      self->Finish("ping timeout", true);
    }
  });
  if (EnqueueControl(PacketType::kPing)) Flush();
}

void SessionImpl::CountError(TransportError reason, const std::string& detail) {
  if (errors_ != nullptr) {
    errors_->Record(reason, handshake_.remote_address, "session " + id_ + ": " + detail);
  } else {
    spdlog::info("session {} from {}: {}", id_, handshake_.remote_address, detail);
  }
}

void SessionImpl::Finish(std::string_view reason, bool graceful) {
  if (closed_) return;
  closed_ = true;
  auto self = shared_from_this();
  heartbeat_timer_->Cancel();
  if (upgrade_timer_) upgrade_timer_->Cancel();
  if (close_timer_) close_timer_->Cancel();
  if (pending_get_) AnswerPendingGet(EncodeTextPacket(PacketType::kClose));
  if (probe_) {
    probe_->Abort();
    probe_.reset();
  }
  if (ws_) {
    if (graceful) {
      ws_->Close();
    } else {
      ws_->Abort();
    }
    ws_.reset();
  }
  ReleaseQueue();
  queued_bytes_ = 0;
  probe_bytes_ = 0;
  spdlog::debug("engine.io session {} closed: {}", id_, reason);
  if (listener_) {
    listener_->OnClose(reason);
    listener_.reset();
  }
  if (on_finished_) {
    FinishedCallback done = std::move(on_finished_);
    on_finished_ = nullptr;
    done(id_);
  }
}

}  // namespace roomq::gateway::engineio
