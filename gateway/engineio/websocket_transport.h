#ifndef ROOMQ_GATEWAY_ENGINEIO_WEBSOCKET_TRANSPORT_H_
#define ROOMQ_GATEWAY_ENGINEIO_WEBSOCKET_TRANSPORT_H_

// One accepted WebSocket connection carrying Engine.IO packets: text frames
// are "<type><data>", binary frames are message packets with raw bytes.
// RFC 6455 is spoken directly on the TCP socket (proto/websocket/ws_frame.h does the
// framing): no extensions (permessage-deflate is never negotiated), server
// frames unmasked and unfragmented, client frames validated strictly.
//
// Thread safety: lives on one shard thread; every method must be called on
// the executor of its socket. Keeps itself alive (shared_from_this) while an
// operation is outstanding.
//
// Write path (the gateway's hot path under fan-out): Write() only appends
// the frame to the FIFO and marks the transport dirty on its thread's flush
// list; one task per io-thread wakeup then writes every dirty transport's
// whole FIFO with ONE sendmsg (a gather write of header and shared payload
// buffers, up to IOV_MAX pieces), so a socket costs one syscall per wakeup
// however many frames were queued for it, and no Asio operation at all
// unless the kernel buffer is full (then one async_wait for writability).
// With a WriteCoalescer (opt-in, write_coalescer.h) the flush waits for the
// end of the shard's write window instead of the end of the wakeup.
// Payloads shared by many recipients are never copied. Control frames
// (pong, close) go through the same FIFO, so frames never interleave.
// The FIFO is unbounded here; the owning Session bounds it in bytes
// (EngineOptions::max_outbound_bytes): every frame it writes carries the
// bytes it was charged, and the pong answering a client's ping is queued
// only once the handler admitted its cost (AdmitWsControl), so a client
// that pings and never reads is cut off at the same bound as any reader
// that falls behind.
//
// Read path: no buffer while idle. The socket is waited on for readability
// (async_wait), then read non-blocking into a per-thread 64 KiB scratch
// buffer and parsed in place; only the bytes of an incomplete frame are kept
// per connection, and released once the frame is complete.
//
// Closing: Close() queues a close frame (1000) after what is queued; a
// protocol violation, an over-long message or bad UTF-8 drops what is queued
// and sends the matching close code (1002, 1009, 1007), counted in
// TransportErrorCounters; a peer's close frame is answered. After our close
// frame is written the socket is shut down for writing and kept open until
// the peer closes or kCloseLinger passes, so the close frame is not lost to
// a reset.
//
// Shutdown: the transport counts as open (OpenTransportToken, one per io
// thread's count) from construction until its socket closes, so a graceful
// shutdown knows when every transport has flushed and closed.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/engineio/open_transports.h"
#include "gateway/engineio/session.h"
#include "gateway/engineio/transport_errors.h"
#include "gateway/engineio/write_coalescer.h"
#include "proto/websocket/ws_frame.h"

namespace roomq::gateway::engineio {

class WebSocketTransport;

// What one queued control frame (a pong, an Engine.IO ping/pong/open/noop/
// close packet) is charged against the session's max_outbound_bytes on top
// of its bytes: its FIFO entry (WebSocketTransport's OutFrame or the
// session's queue entry, 80 and 64 bytes on 64-bit Linux; static_asserts
// next to both keep them under it) and the heap block of its own copy of
// the payload (malloc's header and rounding). Without it a flood of empty
// pings, each answered by a 2-byte pong, would hold some forty times the
// memory it is counted for.
inline constexpr size_t kControlFrameOverhead = 128;

// Receives what a WebSocketTransport reads and how it ends. Called on the
// transport's thread.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual void OnWsMessage(WebSocketTransport* ws, std::string_view data, bool binary) = 0;
  // `bytes` of accounted data (WsFrame::accounted) reached the socket.
  virtual void OnWsWritten(WebSocketTransport* ws, size_t bytes) = 0;
  // The peer's ping is to be answered by a pong that costs `bytes`
  // (payload, header and kControlFrameOverhead), reported by OnWsWritten
  // once written. True: the pong is queued. False: it is not, and the
  // handler is cutting the connection off (outbound bound reached).
  virtual bool AdmitWsControl(WebSocketTransport* ws, size_t bytes) = 0;
  // The connection ended; `reason` is "transport close" (peer closed) or
  // "transport error". Not called after Close()/Abort() from our side.
  virtual void OnWsClosed(WebSocketTransport* ws, std::string_view reason) = 0;
};

// One frame to write.
struct WsFrame {
  bool binary = false;
  char prefix = 0;        // the packet type byte, or 0 for none
  std::string owned;      // data when not shared
  SharedOutbound shared;  // keeps `shared_part` alive
  size_t shared_part = 0;
  size_t accounted = 0;  // bytes reported to OnWsWritten once written
};

class WebSocketTransport : public std::enable_shared_from_this<WebSocketTransport> {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using AcceptCallback = std::function<void(std::shared_ptr<WebSocketTransport>)>;

  // After our close frame, how long the peer has to close its side.
  static constexpr std::chrono::seconds kCloseLinger{5};

  // Answers the upgrade `request` on `socket` (101, or 400/426 for a request
  // that cannot be accepted: counted as ws_handshake) and calls `done` with
  // the transport, or with nullptr when refused. Violations are counted in
  // `errors` (may be null; must outlive the transport). `coalescer`: the
  // shard's write window, or null to write at the end of each wakeup.
  static void Accept(boost::asio::ip::tcp::socket socket, const Request& request,
                     size_t max_payload, std::string remote_address, TransportErrorCounters* errors,
                     WriteCoalescer* coalescer, const AcceptCallback& done);

  WebSocketTransport(boost::asio::ip::tcp::socket socket, size_t max_payload,
                     std::string remote_address, TransportErrorCounters* errors,
                     WriteCoalescer* coalescer = nullptr);
  ~WebSocketTransport();

  // Starts (or redirects) the read loop to `handler`.
  void SetHandler(std::weak_ptr<WebSocketHandler> handler);
  void Write(WsFrame frame);
  // Writes what is queued, then closes the WebSocket (close frame 1000).
  void Close();
  // Closes the TCP connection now, dropping what is queued.
  void Abort();

  const std::string& remote_address() const { return remote_address_; }

  // Writes every transport made dirty on the calling thread (what the
  // per-wakeup flush task runs); exposed for tests.
  static void FlushDirty();

 private:
  friend class WriteCoalescer;  // runs FlushNow() when its window ends

  // One queued frame: header (+ the packet type byte) inline, payload
  // shared or owned. `raw` entries (the HTTP 101 answer) have no header.
  struct OutFrame {
    char head[websocket::kWsMaxServerHeader + 1];
    uint8_t head_size = 0;
    size_t accounted = 0;
    SharedOutbound shared;
    size_t shared_part = 0;
    std::string owned;
    std::string_view payload() const;
  };
  static_assert(sizeof(OutFrame) + 16 <= kControlFrameOverhead,
                "kControlFrameOverhead must cover a FIFO entry and a heap block header");

  void Enqueue(OutFrame frame);
  // Appends to out_, taking a spare buffer when out_ has none.
  void PushFrame(OutFrame frame);
  // Empties out_ and gives its buffer to the thread's spares (or frees it).
  void ReleaseQueue();
  void MarkDirty();
  void FlushNow();
  void WaitWritable();
  void CompactQueue();

  void StartReading();
  void ReadAvailable();
  // Parses `size` bytes at `data`; returns bytes consumed; false in `ok`
  // when the connection ended while parsing.
  size_t Parse(char* data, size_t size, bool* ok);
  void HandleEvent(const websocket::WsEvent& event, bool* ok);

  // Our close frame with `code` after (graceful) or instead of (not) what
  // is queued; then linger.
  void SendClose(uint16_t code, bool graceful);
  void AfterCloseWritten();
  // Tells the handler the connection ended (once).
  void NotifyClosed(std::string_view reason);
  void CloseSocket();

  boost::asio::ip::tcp::socket socket_;
  const std::string remote_address_;
  TransportErrorCounters* const errors_;
  WriteCoalescer* const coalescer_;  // null: flush at the end of the wakeup
  std::weak_ptr<WebSocketHandler> handler_;
  websocket::WsFrameParser parser_;
  std::string partial_;        // bytes of an incomplete frame; empty when idle
  std::vector<OutFrame> out_;  // FIFO from out_head_; no capacity when idle
  size_t out_head_ = 0;
  size_t front_offset_ = 0;  // bytes of out_[out_head_] already written
  std::unique_ptr<boost::asio::steady_timer> linger_timer_;  // only while closing
  OpenTransportToken open_ = OpenTransportToken::Acquire();  // released when the socket closes
  bool reading_ = false;           // an async_wait for readability is pending
  bool dirty_ = false;             // on the thread's flush list
  bool waiting_writable_ = false;  // an async_wait for writability is pending
  bool close_queued_ = false;      // our close frame is in the FIFO; nothing after it
  bool close_sent_ = false;        // our close frame reached the socket
  bool peer_closed_ = false;       // the peer's close frame arrived
  bool parser_dead_ = false;       // after a close frame or a violation: input discarded
  bool notified_ = false;          // the handler was told (or released)
  bool closed_ = false;            // the socket is closed
};

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_WEBSOCKET_TRANSPORT_H_
