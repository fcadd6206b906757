// Connection's part of Socket.IO connection state recovery (recovery.h) and
// of the broker's socket records: offering a pid, claiming a record on
// CONNECT, reporting a socket's connect and close (shard.h "Socket
// records"), closing a socket whose record moved to another node. Kept apart from connection.cc so
// the CONNECT path there stays readable; the wire conventions live in recovery.{h,cc}.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/engineio/client_log.h"
#include "gateway/engineio/sid.h"
#include "gateway/socketio/connection.h"
#include "gateway/socketio/recovery.h"
#include "proto/base/absl_compat.h"

namespace roomq::gateway::socketio {

void Connection::OfferRecovery(Socket& socket) {
  if (!socket.ns->policy->recovery.has_value()) return;
  socket.pid = NewPrivateSessionId();
}

void Connection::MarkSessionStart(Socket& socket) {
  if (!socket.ns->policy->recovery.has_value()) return;
  // Read once the socket's rooms are confirmed: the port's position then
  // covers the broker's answers to those subscriptions (bridge.h), so every
  // later event of its rooms has a higher sequence, and every event up to
  // it reached this gateway before the socket was connected.
  socket.epoch = shard_->port().epoch();
  socket.since_sequence = shard_->port().last_sequence();
}

bool Connection::StartRecovery(Socket& socket) {
  if (!socket.ns->policy->recovery.has_value()) return false;
  std::optional<RecoveryClaim> claim = ParseRecoveryClaim(socket.auth);
  if (!claim.has_value()) return false;
  v1::Recover request;
  request.set_pid(claim->pid);
  request.set_namespace_(socket.ns->name);
  if (claim->offset.has_value()) {
    std::optional<EventOffset> offset = ParseOffset(*claim->offset);
    if (!offset.has_value()) {
      // Not an offset this gateway handed out: nothing to resume from. The
      // offset is the client's to choose: logged by the bad-input policy.
      const uint64_t n = ++shard_->stats().recoveries_failed;
      engineio::LogThrottled(
          n,
          absl::StrCat("socket ", socket.id, " ns=", engineio::LogSafe(socket.ns->name),
                       ": recovery refused: malformed offset ", engineio::LogSafe(*claim->offset),
                       "; fresh session; ", n, " failed so far"));
      return false;
    }
    request.set_epoch(offset->epoch);
    request.set_after_sequence(offset->sequence);
  } else {
    // The client got no event yet: replay from where its socket started.
    request.set_epoch(shard_->port().epoch());
    request.set_use_session_start(true);
  }
  shard_->Recover(socket, std::move(request),
                  [token = Token(), this, nsp = socket.ns->name,
                   handle = socket.handle](absl::StatusOr<bridge::Recovery> recovery) {
                    if (token.expired()) return;
                    FinishRecovery(nsp, handle, std::move(recovery));
                  });
  return true;
}

void Connection::FinishRecovery(const std::string& nsp, uint64_t handle,
                                absl::StatusOr<bridge::Recovery> recovery) {
  auto it = sockets_.find(nsp);
  if (closed_ || failed_ || it == sockets_.end() || it->second->handle != handle ||
      it->second->state != Socket::State::kConnecting) {
    // Gone meanwhile: the record the broker moved here is nobody's.
    if (recovery.ok()) shard_->HandBackRecord(recovery->session, /*recoverable=*/true);
    return;
  }
  Socket& socket = *it->second;
  if (!recovery.ok()) {
    // As Socket.IO: a session that cannot be recovered becomes a new one.
    ++shard_->stats().recoveries_failed;
    shard_->socket_lines().Log(absl::StrCat("socket ", socket.id, " ns=", engineio::LogSafe(nsp),
                                            ": session not recovered (",
                                            recovery.status().ToString(), "); fresh session"));
    BeginConnect(socket);
    return;
  }
  // The shard has given the socket its old id and rooms. From here to the
  // end of this handler nothing else runs on the shard: the CONNECT answer,
  // then the missed events, go out before any live delivery.
  // The same pid again is what makes the client's `socket.recovered` true.
  // A later reconnect without an offset still replays from where this
  // session started.
  const v1::Session& session = recovery->session;
  socket.pid = session.pid();
  socket.recovered = true;
  socket.epoch = session.epoch();
  socket.since_sequence = session.since_sequence();
  socket.data = session.data();
  socket.state = Socket::State::kConnected;
  ever_connected_ = true;
  StopConnectTimer();
  Send(EncodeConnect(nsp, socket.id, socket.pid));
  RecordOpen(socket);  // the broker moved the record here; this repeats it whole
  size_t sent = 0;
  for (const SharedDispatch& dispatch : recovery->missed) {
    const v1::Envelope& envelope = dispatch->envelope;
    if (!dispatch->deliverable || !dispatch->frame || envelope.kind() != v1::KIND_EVENT ||
        envelope.namespace_() != nsp || !shard_->Accepts(socket, envelope)) {
      continue;
    }
    // Replayed for a room the socket no longer holds (re-authorization
    // dropped it): not for this socket.
    const bool for_socket =
        envelope.rooms().empty() ||
        std::any_of(envelope.rooms().begin(), envelope.rooms().end(),
                    [&](const std::string& room) { return shard_->InRoom(socket, room); });
    if (!for_socket) continue;
    Send(dispatch->frame);
    ++sent;
  }
  ++shard_->stats().recoveries;
  shard_->socket_lines().Log(absl::StrCat(
      "socket recovered: id=", socket.id, " ns=", engineio::LogSafe(nsp),
      " transport=", ToAbsl(session_.transport()), " session=", engineio::SidForLog(session_.id()),
      " remote=", session_.handshake().remote_address, " missed=", sent));
  if (socket.ns->policy->forward) {
    v1::Envelope envelope;
    envelope.set_kind(v1::KIND_CONNECTION);
    envelope.set_auth(socket.auth);
    PublishToService(socket, std::move(envelope));
  }
}

void Connection::RecordOpen(Socket& socket) {
  v1::Session session;
  session.set_pid(socket.pid);
  session.set_namespace_(socket.ns->name);
  session.set_socket_id(socket.id);
  session.set_epoch(socket.epoch);
  session.set_since_sequence(socket.since_sequence);
  if (socket.grant != nullptr) session.set_subject(socket.grant->subject);
  const std::optional<std::chrono::milliseconds>& window = socket.ns->policy->recovery;
  if (window.has_value() && !socket.pid.empty()) {
    session.set_ttl_ms(static_cast<uint32_t>(
        std::clamp<int64_t>(window->count(), 0, std::numeric_limits<uint32_t>::max())));
  }
  session.set_address(session_.handshake().remote_address.substr(0, kMaxRecordAddressBytes));
  session.set_user_agent(session_.handshake().user_agent.substr(
      0, kMaxRecordHandshakeBytes - session.address().size()));
  session.set_data(socket.data);
  shard_->RecordOpen(socket, std::move(session));
}

void Connection::RecordClose(Socket& socket, std::string_view reason) {
  const bool recoverable =
      socket.ns->policy->recovery.has_value() && !socket.pid.empty() && IsRecoverableReason(reason);
  if (recoverable && socket.recorded) ++shard_->stats().sessions_saved;
  shard_->RecordClose(socket, recoverable);
}

void Connection::CloseMovedSocket(Socket& socket) {
  spdlog::info("socket {} ns={}: its session recovered on another node; closing it here", socket.id,
               socket.ns->name);
  CloseSocket(socket, kReasonServerDisconnect, /*tell_client=*/true);
}

}  // namespace roomq::gateway::socketio
