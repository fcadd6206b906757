// Connection's part of what services decide about a socket: its service
// middleware (`middleware: required`, config.h) and its socket.data. A
// fresh socket whose rooms are confirmed is described to the namespace's
// services and waits for the first verdict addressed to its own room, or
// for middleware_timeout. Kept apart from connection.cc so the CONNECT
// path there stays readable.
//
// Why the verdict travels to the socket's own room: that room is
// subscribed before the handshake goes out (BeginConnect), it reaches the
// right gateway, shard and socket with no other index, and no client can
// publish into it (auth::IsIssuedSocketId).

#include <spdlog/spdlog.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/engineio/client_log.h"
#include "gateway/engineio/sid.h"
#include "gateway/socketio/connection.h"
#include "gateway/socketio/packet.h"
#include "proto/base/absl_compat.h"

namespace roomq::gateway::socketio {
namespace {

using engineio::LogSafe;

std::string Cut(const std::string& header) { return header.substr(0, kMaxHandshakeHeaderBytes); }

}  // namespace

void Connection::RequestVerdict(Socket& socket) {
  const engineio::HandshakeInfo& info = session_.handshake();
  v1::Envelope envelope;
  envelope.set_kind(v1::KIND_HANDSHAKE);
  envelope.set_auth(socket.auth);
  v1::Handshake& handshake = *envelope.mutable_handshake();
  handshake.set_address(Cut(info.remote_address));
  handshake.set_query(Cut(info.query));
  handshake.set_origin(Cut(info.origin));
  handshake.set_user_agent(Cut(info.user_agent));
  handshake.set_forwarded_for(Cut(info.forwarded_for));
  PublishToService(socket, std::move(envelope));
  socket.verdict_timer = options_.timers->NewTimer(session_.executor());
  socket.verdict_timer->Start(
      options_.middleware_timeout,
      [token = Token(), this, nsp = socket.ns->name, handle = socket.handle] {
        if (token.expired() || closed_ || failed_) return;
        auto it = sockets_.find(nsp);
        if (it == sockets_.end() || it->second->handle != handle) return;
        RefuseJudged(*it->second, kMiddlewareTimeout, "middleware timeout", {});
      });
}

void Connection::ApplyVerdict(Socket& socket, const v1::Envelope& envelope) {
  // Shard::OnDispatch hands a verdict only to the socket whose own room
  // alone it targets: one sent namespace-wide, or to a room other sockets
  // share, answers no handshake.
  if (socket.state != Socket::State::kConnecting || socket.verdict_timer == nullptr) return;
  socket.verdict_timer.reset();
  const v1::Verdict& verdict = envelope.verdict();
  if (!verdict.admitted()) {
    RefuseJudged(socket, kMiddlewareRefused,
                 verdict.message().empty() ? "not authorized" : verdict.message(), verdict.data());
    return;
  }
  if (verdict.data().size() > options_.max_socket_data_bytes) {
    spdlog::warn("socket {} ns={}: the middleware of {} set {} bytes of socket.data, over {}",
                 socket.id, socket.ns->name, envelope.origin(), verdict.data().size(),
                 options_.max_socket_data_bytes);
    RefuseJudged(socket, kMiddlewareDataTooLarge, "socket data too large", {});
    return;
  }
  ++shard_->stats().middleware[std::string(kMiddlewareAdmitted)];
  socket.data = verdict.data();
  socket.admitted = true;
  FinishConnect(socket.ns->name, socket.handle, absl::OkStatus());
}

void Connection::SetSocketData(Socket& socket, const v1::Envelope& envelope) {
  if (socket.state != Socket::State::kConnected) return;
  if (envelope.socket_data().size() > options_.max_socket_data_bytes) {
    const uint64_t n = ++shard_->stats().socket_data_refused;
    engineio::LogThrottled(
        n, absl::StrCat("socket ", socket.id, " ns=", LogSafe(socket.ns->name), ": ",
                        envelope.origin(), " set ", envelope.socket_data().size(),
                        " bytes of socket.data, over ", options_.max_socket_data_bytes,
                        "; kept the old; ", n, " so far"));
    return;
  }
  if (socket.data == envelope.socket_data()) return;
  socket.data = envelope.socket_data();
  // The record is replaced whole (an Open is an upsert keeping where the
  // socket started): presence and a later recovery see the new data.
  if (socket.recorded) RecordOpen(socket);
}

void Connection::RefuseJudged(Socket& socket, std::string_view outcome, std::string_view message,
                              std::string_view data_json) {
  const uint64_t n = ++shard_->stats().middleware[std::string(outcome)];
  engineio::LogThrottled(n, absl::StrCat("session ", engineio::SidForLog(session_.id()), " (",
                                         session_.handshake().remote_address, "): CONNECT to ",
                                         LogSafe(socket.ns->name),
                                         " refused by the service middleware: ", ToAbsl(outcome),
                                         " (", LogSafe(message), "); ", n, " so far"));
  Send(EncodeConnectError(socket.ns->name, message, data_json));
  CloseSocket(socket, "middleware refused", false);
}

}  // namespace roomq::gateway::socketio
