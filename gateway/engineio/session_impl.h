#ifndef ROOMQ_GATEWAY_ENGINEIO_SESSION_IMPL_H_
#define ROOMQ_GATEWAY_ENGINEIO_SESSION_IMPL_H_

// The Engine.IO session: the Session the Socket.IO layer sees, plus the
// transport state machine behind it (polling, websocket, the upgrade probe),
// the heartbeat and the bounded outbound queue.
//
// Thread safety: lives on one shard thread; every method must be called on
// executor(). Owned (shared_ptr) by its shard's session table in Engine;
// timers and transports hold only weak references.
//
// Outbound queue: packets wait in `queue_` until a transport can take them
// (a pending polling GET, or the WebSocket writer). `queued_bytes_` counts the
// bytes queued for the client and not yet written to a socket (including
// those inside the WebSocket writer's FIFO): the message bytes accepted by
// Send, and every control frame (Engine.IO open/ping/pong/noop/close
// packets, WebSocket pongs) at its size plus kControlFrameOverhead;
// `probe_bytes_` the same for the upgrade probe's FIFO ("3probe" and
// pongs). Invariant: their sum stays within EngineOptions::max_outbound_bytes,
// except that the open, close and upgrade noop packets (one each per
// session) are queued even over it. Whatever else would take it over cuts
// the session off: Send refuses the message (ResourceExhausted; the
// Socket.IO layer counts the drop), a control frame is not queued (counted
// as TransportError::kOutboundFull), and the session closes with "transport
// error", the WebSocket aborted. So a client that never reads is cut off at
// the same bound whether it is sent messages or provokes replies (pings,
// "2probe", a polling POST full of pings).
//
// Upgrade: a WebSocket opened with this sid becomes the probe; "2probe" is
// answered "3probe" and the pending polling GET is ended with a noop; "5"
// switches the transport, and everything still queued goes out on the
// WebSocket, so nothing is lost. A probe that misbehaves or does not finish
// within upgrade_timeout is closed and the session stays on polling.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/engineio/errors.h"
#include "gateway/engineio/http_types.h"
#include "gateway/engineio/options.h"
#include "gateway/engineio/packet.h"
#include "gateway/engineio/session.h"
#include "gateway/engineio/timer_service.h"
#include "gateway/engineio/transport_errors.h"
#include "gateway/engineio/websocket_transport.h"

namespace roomq::gateway::engineio {

class SessionImpl final : public Session,
                          public WebSocketHandler,
                          public std::enable_shared_from_this<SessionImpl> {
 public:
  // Called on the shard thread once the session ended (after the listener's
  // OnClose); the Engine drops it from its table.
  using FinishedCallback = std::function<void(const std::string& sid)>;

  SessionImpl(std::string id, const boost::asio::any_io_executor& executor, HandshakeInfo handshake,
              const EngineOptions& options, TransportErrorCounters* errors,
              FinishedCallback on_finished);
  ~SessionImpl() override;

  // Session.
  const std::string& id() const override { return id_; }
  std::string_view transport() const override;
  const HandshakeInfo& handshake() const override { return handshake_; }
  boost::asio::any_io_executor executor() const override { return executor_; }
  absl::Status Send(SharedOutbound message) override;
  void Close() override;

  // The open packet's JSON (after the '0').
  std::string OpenPacketData(bool offer_websocket) const;

  // A WebSocket-only session: `ws` is its transport from the start; the
  // open packet is queued first.
  void AttachWebSocket(std::shared_ptr<WebSocketTransport> ws);
  // Hands over the listener; starts the heartbeat, the WebSocket read loop
  // and the delivery of what was queued meanwhile.
  void Open(std::unique_ptr<SessionListener> listener);

  void HandlePollGet(Responder respond);
  void HandlePollPost(const EngineRequest& request, const Responder& respond);
  void HandleUpgradeCandidate(std::shared_ptr<WebSocketTransport> ws);
  // Sends the close packet where possible and ends the session now.
  void Shutdown(std::string_view reason);

  bool closed() const { return closed_; }
  size_t queued_bytes() const override { return queued_bytes_ + probe_bytes_; }

  // WebSocketHandler.
  void OnWsMessage(WebSocketTransport* ws, std::string_view data, bool binary) override;
  void OnWsWritten(WebSocketTransport* ws, size_t bytes) override;
  bool AdmitWsControl(WebSocketTransport* ws, size_t bytes) override;
  void OnWsClosed(WebSocketTransport* ws, std::string_view reason) override;

 private:
  // Why a polling request cannot be served by this session (it is closed:
  // unknown sid; it moved to WebSocket: bad request), nullopt when it can.
  std::optional<ErrorCode> PollRefusal() const;
  enum class Transport { kPolling, kWebSocket };
  struct Outgoing {
    PacketType type = PacketType::kNoop;
    std::string text;        // control packets
    SharedOutbound message;  // kMessage
    size_t bytes = 0;        // accounted bytes
  };
  static_assert(sizeof(Outgoing) + 16 <= kControlFrameOverhead,
                "kControlFrameOverhead must cover a queue entry and a heap block header");

  // Queues a control packet, charged (ChargeControl) into queued_bytes_.
  // False when it did not fit: the session was cut off. The open and close
  // packets are always queued.
  bool EnqueueControl(PacketType type, std::string text = {});
  // Adds `bytes` to `counter` (queued_bytes_ or probe_bytes_) when the
  // session's outbound total stays within max_outbound_bytes, or when
  // `always`. Otherwise adds nothing, cuts the session off and returns false.
  bool ChargeControl(size_t bytes, size_t& counter, bool always = false);
  // At the outbound bound: counts kOutboundFull (unless Send already cut the
  // session off) and ends the session like a reader that falls behind.
  void CutOff();
  void Flush();
  void FlushToWebSocket();
  void WriteMessageToWebSocket(const SharedOutbound& message);
  void FlushToPoll();
  void AnswerPendingGet(std::string payload);
  void HandlePacket(PacketType type, std::string_view data, bool binary);
  void HandleProbeMessage(std::string_view data, bool binary);
  void AbortProbe();
  void SchedulePing();
  void SendPing();
  void BeginGracefulClose(std::string reason);
  // Ends the session. `graceful`: a WebSocket gets its queue and a close
  // frame; otherwise it is aborted.
  void Finish(std::string_view reason, bool graceful);
  // Empties queue_ and releases its memory.
  void ReleaseQueue();
  // From options_.timers, created on first use.
  Timer& LazyTimer(std::unique_ptr<Timer>& timer);
  // Counts (and logs, rate-limited) a transport-level error of this session.
  void CountError(TransportError reason, const std::string& detail);

  const std::string id_;
  const boost::asio::any_io_executor executor_;
  const HandshakeInfo handshake_;
  const EngineOptions& options_;
  TransportErrorCounters* const errors_;  // not owned; may be null (tests)
  FinishedCallback on_finished_;
  // Declared after handshake_, so destroyed before it: a listener still
  // counting its sockets' rooms in handshake_.address finds it alive.
  std::unique_ptr<SessionListener> listener_;

  Transport transport_ = Transport::kPolling;
  std::shared_ptr<WebSocketTransport> ws_;     // when kWebSocket
  std::shared_ptr<WebSocketTransport> probe_;  // upgrade candidate
  bool upgrading_ = false;                     // "2probe" answered
  std::optional<Responder> pending_get_;

  // Packets not yet handed to a transport. A vector, released whenever it
  // empties: an idle session holds no queue memory (an empty std::deque
  // would hold ~600 bytes).
  std::vector<Outgoing> queue_;
  size_t queued_bytes_ = 0;
  size_t probe_bytes_ = 0;  // charged for frames in probe_'s FIFO
  bool cut_off_ = false;    // the outbound bound was reached; Finish follows

  std::unique_ptr<Timer> heartbeat_timer_;
  uint64_t heartbeat_generation_ = 0;
  bool awaiting_pong_ = false;
  // Rarely needed; created on first use.
  std::unique_ptr<Timer> upgrade_timer_;
  std::unique_ptr<Timer> close_timer_;

  bool opened_ = false;
  bool closing_ = false;  // graceful close under way; Send refused
  bool closed_ = false;
  std::string close_reason_;
};

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_SESSION_IMPL_H_
