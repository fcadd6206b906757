#ifndef ROOMQ_GATEWAY_ENGINEIO_WEBSOCKET_TRANSPORT_H_
#define ROOMQ_GATEWAY_ENGINEIO_WEBSOCKET_TRANSPORT_H_

// One accepted WebSocket connection carrying Engine.IO packets: text frames
// are "<type><data>", binary frames are message packets with raw bytes.
//
// Thread safety: lives on one shard thread; every method must be called on
// the executor of its socket. Keeps itself alive (shared_from_this) while a
// read or write is outstanding.
//
// Write path: at most one async_write in flight; frames wait in a FIFO.
// A message part is written as a two-buffer sequence (the 1-byte type
// prefix, then the shared data) so a frame shared by many recipients is never
// copied. The FIFO itself is unbounded here; the owning Session bounds it in
// bytes (EngineOptions::max_outbound_bytes).

#include <array>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "gateway/engineio/session.h"

namespace roomq::gateway::engineio {

class WebSocketTransport;

// Receives what a WebSocketTransport reads and how it ends. Called on the
// transport's thread.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual void OnWsMessage(WebSocketTransport* ws, std::string_view data, bool binary) = 0;
  // `bytes` of accounted message data reached the socket.
  virtual void OnWsWritten(WebSocketTransport* ws, size_t bytes) = 0;
  // The connection ended; `reason` is "transport close" (peer closed) or
  // "transport error". Not called after Close()/Abort() from our side.
  virtual void OnWsClosed(WebSocketTransport* ws, std::string_view reason) = 0;
};

// One frame to write.
struct WsFrame {
  bool binary = false;
  char prefix = 0;          // the packet type byte, or 0 for none
  std::string owned;        // data when not shared
  SharedOutbound shared;    // keeps `shared_part` alive
  size_t shared_part = 0;
  size_t accounted = 0;     // bytes reported to OnWsWritten once written
};

class WebSocketTransport : public std::enable_shared_from_this<WebSocketTransport> {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using AcceptCallback = std::function<void(std::shared_ptr<WebSocketTransport>)>;

  // Performs the WebSocket handshake for `request` on `socket`; calls `done`
  // with the transport, or with nullptr when the handshake failed (logged).
  static void Accept(boost::asio::ip::tcp::socket socket, Request request, size_t max_payload,
                     std::string remote_address, AcceptCallback done);

  explicit WebSocketTransport(boost::asio::ip::tcp::socket socket, size_t max_payload,
                              std::string remote_address);

  // Starts (or redirects) the read loop to `handler`.
  void SetHandler(std::weak_ptr<WebSocketHandler> handler);
  void Write(WsFrame frame);
  // Writes what is queued, then closes the WebSocket (close frame 1000).
  void Close();
  // Closes the TCP connection now, dropping what is queued.
  void Abort();

  const std::string& remote_address() const { return remote_address_; }

 private:
  void DoRead();
  void OnRead(boost::beast::error_code ec, size_t bytes);
  void DoWrite();
  void OnWrite(boost::beast::error_code ec, size_t bytes);
  void Fail(std::string_view reason, boost::beast::error_code ec);

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer read_buffer_;
  std::weak_ptr<WebSocketHandler> handler_;
  std::deque<WsFrame> queue_;
  std::string remote_address_;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;   // Close() requested: close frame after the queue
  bool done_ = false;      // no more callbacks to the handler
  bool aborted_ = false;   // Abort(): the socket is closed
};

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_WEBSOCKET_TRANSPORT_H_
