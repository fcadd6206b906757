// Connection: the Socket.IO session of one Engine.IO session (packets in,
// CONNECT and DISCONNECT per namespace, closing, sending). What events mean
// is in connection_events.cc, connection state recovery in
// connection_recovery.cc.

#include "gateway/socketio/connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/engineio/client_log.h"
#include "gateway/engineio/sid.h"
#include "gateway/socketio/auth/jwt_verifier.h"
#include "proto/base/absl_compat.h"
#include "proto/base/json.h"
#include "proto/wire/topic.h"

namespace roomq::gateway::socketio {

using engineio::LogSafe;

Connection::Connection(engineio::Session& session, std::shared_ptr<Shard> shard,
                       ConnectionOptions options)
    : session_(session),
      shard_(std::move(shard)),
      options_(options),
      decoder_(Decoder::Limits{.max_packet_bytes = options.max_event_bytes}, ClientCommands()),
      connect_timer_(options_.timers->NewTimer(session.executor())),
      namespace_rate_(base::TokenBucket::Full(options.message_burst, options.clock->Now())) {
  shard_->AddConnection(this);
  connect_timer_->Start(options_.connect_timeout, [token = Token(), this] {
    if (token.expired()) return;
    if (closed_ || failed_ || ever_connected_ || !sockets_.empty()) return;
    spdlog::info("session {} ({}): no namespace connected within {} ms, closing",
                 engineio::SidForLog(session_.id()), session_.handshake().remote_address,
                 options_.connect_timeout.count());
    session_.Close();
  });
}

Connection::~Connection() {
  shard_->RemoveConnection(this);
  alive_.reset();
  StopConnectTimer();
  if (!sockets_.empty()) {
    // OnClose never came: still leave the shard clean. The session may be
    // half destroyed, so it is not touched.
    closed_ = true;
    for (auto& [nsp, socket] : sockets_) {
      shard_->LeaveAll(*socket);
      shard_->Unregister(*socket);
    }
    sockets_.clear();
  }
}

void Connection::OnMessage(std::string_view data, bool binary) {
  if (closed_ || failed_) return;
  ShardStats& stats = shard_->stats();
  ++stats.messages_in;
  stats.bytes_in += data.size();
  absl::StatusOr<std::optional<Packet>> decoded = decoder_.Add(data, binary);
  if (!decoded.ok()) {
    if (absl::IsResourceExhausted(decoded.status())) ++stats.events_too_large;
    Fail(FromAbsl(decoded.status().message()));
    return;
  }
  WatchAttachments();
  if (!decoded->has_value()) return;
  HandlePacket(std::move(**decoded));
}

void Connection::WatchAttachments() {
  if (!decoder_.awaiting_attachments()) {
    attachment_timer_.reset();
    return;
  }
  if (attachment_timer_ != nullptr) return;  // armed by this packet's header
  attachment_timer_ = options_.timers->NewTimer(session_.executor());
  attachment_timer_->Start(options_.attachment_timeout, [token = Token(), this] {
    if (token.expired() || closed_ || failed_) return;
    ++shard_->stats().attachments_timed_out;
    Fail(absl::StrCat("binary attachments did not all arrive within ",
                      options_.attachment_timeout.count(), " ms"));
  });
}

void Connection::OnClose(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  StopConnectTimer();
  attachment_timer_.reset();
  std::vector<std::string> names;
  names.reserve(sockets_.size());
  for (const auto& [nsp, socket] : sockets_) names.push_back(nsp);
  for (const std::string& nsp : names) {
    auto it = sockets_.find(nsp);
    if (it != sockets_.end()) CloseSocket(*it->second, reason, false);
  }
}

void Connection::HandlePacket(Packet packet) {
  if (packet.type == PacketType::kConnect) {
    HandleConnect(packet);
    return;
  }
  auto it = sockets_.find(packet.nsp);
  if (it == sockets_.end() || it->second->state != Socket::State::kConnected) {
    Fail(absl::StrCat(ToAbsl(PacketTypeName(packet.type)), " for namespace ", LogSafe(packet.nsp),
                      ", which is not connected"));
    return;
  }
  Socket& socket = *it->second;
  switch (packet.type) {
    case PacketType::kDisconnect:
      // Counted with the CONNECTs (a connect/disconnect loop is the cost),
      // never refused: leaving only frees.
      TakeNamespaceToken();
      CloseSocket(socket, "client namespace disconnect", false);
      return;
    case PacketType::kEvent:
    case PacketType::kBinaryEvent:
      if (!TakeRateToken(socket)) {
        RefuseOverRate(socket, packet);
        return;
      }
      HandleEvent(socket, packet);
      return;
    case PacketType::kAck:
    case PacketType::kBinaryAck:
      if (!TakeRateToken(socket)) {
        RefuseOverRate(socket, packet);
        return;
      }
      HandleClientAck(socket, packet);
      return;
    case PacketType::kConnectError:
    case PacketType::kConnect:
      Fail("CONNECT_ERROR sent by a client");
      return;
  }
}

void Connection::HandleConnect(Packet& packet) {
  if (!TakeNamespaceToken()) {
    ++shard_->stats().rate_limited;
    spdlog::debug("session {} ({}): CONNECT to '{}' over the message rate, refused", session_.id(),
                  session_.handshake().remote_address, packet.nsp);
    Send(EncodeConnectError(packet.nsp, "rate limit exceeded"));
    return;
  }
  if (sockets_.contains(packet.nsp)) {
    Fail(absl::StrCat("CONNECT for namespace ", LogSafe(packet.nsp),
                      ", which is already connected"));
    return;
  }
  ShardStats& stats = shard_->stats();
  if (sockets_.size() >= options_.max_namespaces) {
    RefuseConnect(++stats.namespaces_refused, packet.nsp,
                  absl::StrCat("more than ", options_.max_namespaces, " namespaces"),
                  "Too many namespaces");
    return;
  }
  NamespaceRegistry& registry = shard_->namespaces();
  const NamespacePolicy* policy = registry.Resolve(packet.nsp);
  if (policy == nullptr) {
    RefuseConnect(++stats.unknown_namespaces, packet.nsp, "unknown namespace", "Invalid namespace");
    return;
  }
  auth::Admission admission = auth::Admit(policy->auth, packet.data, options_.clock->WallNow());
  if (!admission.ok()) {
    // Never the token or the key: the reason and a detail of what was wrong.
    const uint64_t n = ++stats.auth_refusals[std::string(admission.reason)];
    RefuseConnect(n, packet.nsp,
                  absl::StrCat(ToAbsl(admission.reason), " (", admission.detail, ")"),
                  admission.reason);
    return;
  }
  // Admitted: only now may a name matching a pattern become a namespace.
  absl::StatusOr<NamespaceRef> ns = registry.Acquire(packet.nsp);
  if (!ns.ok()) {
    const bool full = absl::IsResourceExhausted(ns.status());
    RefuseConnect(full ? ++stats.dynamic_namespaces_refused : ++stats.unknown_namespaces,
                  packet.nsp, FromAbsl(ns.status().message()),
                  full ? "Too many dynamic namespaces" : "Invalid namespace");
    return;
  }
  // Its own room and the namespace room, reserved at the client address
  // now so that neither the fresh nor the recovery path can take the
  // address past its bound (shard.h).
  const engineio::AddressLease& address = session_.handshake().address;
  if (!address.TryAddRooms(kConnectRooms)) {
    ++shard_->stats().rooms_per_address_refused;
    spdlog::info(
        "session {} ({}): CONNECT to '{}' refused: client address {} holds {} rooms "
        "(--max-rooms-per-address)",
        session_.id(), session_.handshake().remote_address, packet.nsp, address.address(),
        address.rooms());
    Send(EncodeConnectError(packet.nsp, "Too many rooms for this address"));
    return;
  }
  auto owned = std::make_unique<Socket>();
  Socket& socket = *owned;
  socket.id = Shard::NewSocketId();
  socket.ns = ns->get();
  socket.ns_ref = *std::move(ns);
  socket.connection = this;
  socket.address = &address;
  socket.reserved_rooms = kConnectRooms;
  socket.grant = std::move(admission.grant);
  if (!packet.data.empty()) socket.auth = std::move(packet.data);
  socket.rate = base::TokenBucket::Full(options_.message_burst, options_.clock->Now());
  shard_->Register(socket);
  ArmTokenExpiry(socket);
  sockets_.emplace(packet.nsp, std::move(owned));
  // A client coming back with a private session id (connection_recovery.cc).
  if (StartRecovery(socket)) return;
  BeginConnect(socket);
}

void Connection::RefuseConnect(uint64_t n, std::string_view nsp, std::string_view why,
                               std::string_view message) {
  engineio::LogThrottled(
      n, absl::StrCat("session ", engineio::SidForLog(session_.id()), " (",
                      session_.handshake().remote_address, "): CONNECT to ", LogSafe(nsp),
                      " refused: ", ToAbsl(why), "; ", n, " so far"));
  Send(EncodeConnectError(nsp, message));
}

void Connection::ArmTokenExpiry(Socket& socket) {
  if (socket.grant == nullptr) return;
  const base::Clock::Duration left = std::max<base::Clock::Duration>(
      base::Clock::Duration::zero(), std::chrono::duration_cast<base::Clock::Duration>(
                                         socket.grant->valid_until - options_.clock->WallNow()));
  socket.expiry_timer = options_.timers->NewTimer(session_.executor());
  socket.expiry_timer->Start(
      left, [token = Token(), this, nsp = socket.ns->name, handle = socket.handle] {
        if (token.expired() || closed_ || failed_) return;
        auto it = sockets_.find(nsp);
        if (it == sockets_.end() || it->second->handle != handle) return;
        CloseSocket(*it->second, auth::kReasonTokenExpired, true);
      });
}

void Connection::BeginConnect(Socket& socket) {
  OfferRecovery(socket);
  // Answer once both rooms (its own, the namespace's) are confirmed.
  auto remaining = std::make_shared<int>(2);
  auto first_error = std::make_shared<absl::Status>();
  auto done = [token = Token(), this, nsp = socket.ns->name, handle = socket.handle, remaining,
               first_error](const absl::Status& status) {
    if (token.expired()) return;
    if (!status.ok() && first_error->ok()) *first_error = status;
    if (--*remaining > 0) return;
    FinishConnect(nsp, handle, *first_error);
  };
  shard_->Join(socket, socket.id, done);
  shard_->Join(socket, "", done);
}

void Connection::FinishConnect(const std::string& nsp, uint64_t handle,
                               const absl::Status& broker_status) {
  if (closed_ || failed_) return;
  auto it = sockets_.find(nsp);
  if (it == sockets_.end() || it->second->handle != handle ||
      it->second->state != Socket::State::kConnecting) {
    return;
  }
  Socket& socket = *it->second;
  if (socket.ns->policy->middleware_required && !socket.admitted) {
    if (socket.verdict_timer == nullptr) RequestVerdict(socket);
    return;  // ApplyVerdict comes back here
  }
  if (!broker_status.ok()) {
    spdlog::warn("socket {} ns={}: answering CONNECT without broker confirmation: {}", socket.id,
                 nsp, broker_status.ToString());
  }
  socket.state = Socket::State::kConnected;
  ever_connected_ = true;
  StopConnectTimer();
  MarkSessionStart(socket);
  Send(EncodeConnect(nsp, socket.id, socket.pid));
  RecordOpen(socket);
  shard_->socket_lines().Log(absl::StrCat("socket connected: id=", socket.id, " ns=", LogSafe(nsp),
                                          " transport=", ToAbsl(session_.transport()),
                                          " session=", engineio::SidForLog(session_.id()),
                                          " remote=", session_.handshake().remote_address));
  if (socket.ns->policy->forward) {
    v1::Envelope envelope;
    envelope.set_kind(v1::KIND_CONNECTION);
    envelope.set_auth(socket.auth);
    PublishToService(socket, std::move(envelope));
  }
}

bool Connection::TakeRateToken(Socket& socket) {
  return socket.rate.Take(options_.clock->Now(), options_.message_rate, options_.message_burst);
}

bool Connection::TakeNamespaceToken() {
  return namespace_rate_.Take(options_.clock->Now(), options_.message_rate, options_.message_burst);
}

void Connection::AckJson(const Socket& socket, std::optional<uint64_t> ack_id,
                         std::string_view json) {
  if (!ack_id.has_value() || closed_ || failed_) return;
  Send(EncodeAck(socket.ns->name, *ack_id, absl::StrCat("[", ToAbsl(json), "]")));
}

void Connection::CloseSocket(Socket& socket, std::string_view reason, bool tell_client) {
  auto it = sockets_.find(socket.ns->name);
  if (it == sockets_.end() || it->second.get() != &socket) return;
  std::unique_ptr<Socket> owned = std::move(it->second);
  sockets_.erase(it);
  if (tell_client && !closed_ && !failed_) Send(EncodeDisconnect(owned->ns->name));
  std::vector<std::string> rooms = shard_->LeaveAll(*owned);
  shard_->Unregister(*owned);
  if (owned->state != Socket::State::kConnected) {
    spdlog::debug("socket {} ns={}: gone before its CONNECT was answered ({})", owned->id,
                  owned->ns->name, reason);
    return;
  }
  ++shard_->stats().disconnects[std::string(reason)];
  RecordClose(*owned, reason);
  shard_->socket_lines().Log(absl::StrCat(
      "socket disconnected: id=", owned->id, " ns=", LogSafe(owned->ns->name),
      " transport=", ToAbsl(session_.transport()), " session=", engineio::SidForLog(session_.id()),
      " reason=\"", ToAbsl(reason), "\""));
  if (owned->ns->policy->forward) {
    v1::Envelope envelope;
    envelope.set_kind(v1::KIND_DISCONNECTION);
    envelope.set_reason(std::string(reason));
    for (std::string& room : rooms) envelope.add_membership_rooms(std::move(room));
    PublishToService(*owned, std::move(envelope));
  }
}

void Connection::Fail(std::string_view why) {
  if (failed_ || closed_) return;
  failed_ = true;
  attachment_timer_.reset();
  const uint64_t n = ++shard_->stats().protocol_errors;
  engineio::LogThrottled(
      n, absl::StrCat("session ", engineio::SidForLog(session_.id()), " (",
                      session_.handshake().remote_address,
                      "): closing on protocol error: ", ToAbsl(why), "; ", n, " so far"));
  std::vector<std::string> names;
  for (const auto& [nsp, socket] : sockets_) names.push_back(nsp);
  for (const std::string& nsp : names) {
    auto it = sockets_.find(nsp);
    if (it != sockets_.end()) CloseSocket(*it->second, "parse error", false);
  }
  session_.Close();
}

void Connection::Send(engineio::OutboundMessage message) {
  Send(std::make_shared<const engineio::OutboundMessage>(std::move(message)));
}

void Connection::Send(const engineio::SharedOutbound& message) {
  absl::Status status = session_.Send(message);
  ShardStats& stats = shard_->stats();
  if (status.ok()) {
    ++stats.messages_out;
    for (const engineio::OutboundPart& part : *message) stats.bytes_out += part.data.size();
  } else {
    if (absl::IsResourceExhausted(status)) {
      ++stats.dropped_outbound_full;
    } else {
      ++stats.dropped_closed;
    }
    spdlog::debug("session {}: send dropped: {}", engineio::SidForLog(session_.id()),
                  status.ToString());
  }
}

void Connection::PublishToService(Socket& socket, v1::Envelope envelope) {
  envelope.set_channel(v1::CHANNEL_SERVICE);
  envelope.set_namespace_(socket.ns->name);
  envelope.set_socket_id(socket.id);
  envelope.set_reply_to(shard_->port().node_id());
  if (!socket.data.empty()) envelope.set_socket_data(socket.data);
  // A child of a `pattern` is served by the family's services
  // (proto/README.md "Gateway conventions").
  if (socket.ns->dynamic) envelope.set_service_family(socket.ns->policy->pattern);
  shard_->port().Publish(shard_->index(), std::move(envelope), nullptr);
}

}  // namespace roomq::gateway::socketio
