#ifndef ROOMQ_GATEWAY_ENGINEIO_SESSION_H_
#define ROOMQ_GATEWAY_ENGINEIO_SESSION_H_

// The seam between the Engine.IO layer (sessions, transports, heartbeats)
// and the Socket.IO layer above it (namespaces, sockets, rooms).
//
// Thread safety: a Session lives on exactly one shard thread (one
// io_context run by one thread) for its whole life, including across the
// polling -> websocket upgrade. Every method of Session and SessionListener
// is called on that thread; work from other threads is posted to
// Session::executor().

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "gateway/engineio/address_table.h"

namespace roomq::gateway::engineio {

// One Engine.IO "message" packet's data, without the leading packet type:
// text "2[\"ev\",1]" goes on the wire as "42[\"ev\",1]"; binary goes as is.
struct OutboundPart {
  bool binary = false;
  std::string data;
};

// What one Socket.IO packet becomes: a text part followed by its binary
// attachments, all of which reach the client in order and without anything
// interleaved. Encoded once and shared by every recipient, hence immutable.
using OutboundMessage = std::vector<OutboundPart>;
using SharedOutbound = std::shared_ptr<const OutboundMessage>;

// Facts about the handshake request, for the Socket.IO layer and its logs.
// Move-only: it holds the session's place in its client address's limits.
struct HandshakeInfo {
  std::string remote_address;  // "127.0.0.1:53422" (the TCP peer)
  std::string origin;          // Origin header, may be empty
  std::string query;           // raw query string of the handshake request
  // The client address's entry (address_table.h), held for the session's
  // life; the Socket.IO layer counts its sockets' rooms through it. Empty
  // when no per-address limit is on.
  AddressLease address{};
  std::string user_agent{};     // User-Agent header, may be empty
  std::string forwarded_for{};  // X-Forwarded-For (every line, joined), may be empty
};

// The Socket.IO layer's face of one Engine.IO session.
class Session {
 public:
  virtual ~Session() = default;

  // The Engine.IO sid.
  virtual const std::string& id() const = 0;
  // "polling" or "websocket"; changes once, on upgrade.
  virtual std::string_view transport() const = 0;
  virtual const HandshakeInfo& handshake() const = 0;
  // The shard thread's executor, for posting work to this session.
  virtual boost::asio::any_io_executor executor() const = 0;

  // Queues `message` for the client. ResourceExhausted when the session's
  // bounded outbound queue is full: the message is dropped and the session
  // is being closed (a client that does not read is cut off, never
  // buffered without bound). FailedPrecondition after close.
  virtual absl::Status Send(SharedOutbound message) = 0;

  // Bytes queued for the client and not yet written (for metrics).
  virtual size_t queued_bytes() const { return 0; }

  // Server-initiated close: flushes what is queued, sends the Engine.IO
  // close packet, then closes the transport. The listener's OnClose follows
  // with reason "forced close".
  virtual void Close() = 0;
};

// Implemented by the Socket.IO layer: one per Session.
class SessionListener {
 public:
  virtual ~SessionListener() = default;

  // One Engine.IO message packet from the client, type byte stripped; for
  // polling, binary parts are already base64-decoded.
  virtual void OnMessage(std::string_view data, bool binary) = 0;

  // The session ended; the last call. Reasons as Engine.IO names them:
  // "transport close", "transport error", "ping timeout", "parse error",
  // "forced close", "server shutting down".
  virtual void OnClose(std::string_view reason) = 0;
};

// Implemented by the Socket.IO layer; the Engine.IO server calls it on the
// session's shard thread once the handshake succeeded, before any message.
class SessionListenerFactory {
 public:
  virtual ~SessionListenerFactory() = default;
  // `shard` is the index of the io thread the session lives on, in
  // [0, number of io threads).
  virtual std::unique_ptr<SessionListener> OnSessionOpen(Session& session, size_t shard) = 0;
};

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_SESSION_H_
