// Connection: what a connected socket's events mean, both ways. Client
// events become joins, leaves, publishes (envelopes to the broker), relays
// and forwards to services; envelopes from the broker become events and
// acks. The Socket.IO session itself (CONNECT, DISCONNECT, closing) is in
// connection.cc, recovery in connection_recovery.cc.

#include <spdlog/spdlog.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/engineio/sid.h"
#include "gateway/socketio/auth/socket_auth.h"
#include "gateway/socketio/connection.h"
#include "proto/base/absl_compat.h"
#include "proto/base/json.h"
#include "proto/wire/topic.h"

namespace roomq::gateway::socketio {
namespace {

constexpr std::string_view kOk = R"({"ok":true})";

constexpr NamedArguments kClientCommands[] = {
    {.event = "join", .count = 1},
    {.event = "leave", .count = 1},
    {.event = "publish", .count = 2},
};

std::string ErrorJson(std::string_view message) {
  return absl::StrCat("{\"error\":", base::JsonQuote(message), "}");
}

std::vector<std::string> CopyAttachments(const v1::Envelope& envelope) {
  return {envelope.attachments().begin(), envelope.attachments().end()};
}

bool ValidRoomName(std::string_view room) {
  return !room.empty() && room.size() <= wire::kMaxNameBytes;
}

// A client's own `join` (not its own id room): the namespace's regex, the
// token's `rooms` claim, and never a room named by an issued socket id
// (another socket's private room, auth/socket_auth.h).
bool ClientMayJoin(const Socket& socket, std::string_view room) {
  if (auth::IsIssuedSocketId(room) || !socket.ns->MayJoin(room)) return false;
  return socket.grant == nullptr || socket.grant->MayJoin(room);
}

// May publish and have its events relayed at all (the token's `publish`
// claim is not false).
bool MayPublish(const Socket& socket) {
  return socket.grant == nullptr || socket.grant->may_publish;
}

// May publish into `room`, or relay to it: never a socket's own room (only
// native services address one socket), then the namespace's `publish` regex
// and the token's `publish` list.
bool ClientMayPublishTo(const Socket& socket, std::string_view room) {
  if (auth::IsIssuedSocketId(room) || !socket.ns->MayPublish(room)) return false;
  return socket.grant == nullptr || socket.grant->MayPublishTo(room);
}

}  // namespace

absl::Span<const NamedArguments> Connection::ClientCommands() { return kClientCommands; }

void Connection::HandleEvent(Socket& socket, Packet& packet) {
  if (packet.event == "join") {
    HandleJoin(socket, packet);
  } else if (packet.event == "leave") {
    HandleLeave(socket, packet);
  } else if (packet.event == "publish") {
    HandlePublish(socket, packet);
  } else {
    Relay(socket, packet);
    Forward(socket, packet);
  }
}

void Connection::RefuseOverRate(Socket& socket, const Packet& packet) {
  ++shard_->stats().rate_limited;
  if (options_.rate_limit_policy == RateLimitPolicy::kDisconnect) {
    spdlog::warn("socket {} ns={} session={}: over {}/s (burst {}), disconnecting", socket.id,
                 socket.ns->name, engineio::SidForLog(session_.id()), options_.message_rate,
                 options_.message_burst);
    CloseSocket(socket, "rate limit exceeded", true);
    return;
  }
  if (packet.type == PacketType::kAck || packet.type == PacketType::kBinaryAck) {
    // An ACK has nobody to answer: it is dropped (the service never hears it).
    spdlog::debug("socket {}: ACK over the message rate, dropped", socket.id);
    return;
  }
  spdlog::debug("socket {}: event '{}' over the message rate, dropped", socket.id, packet.event);
  AckJson(socket, packet.ack_id, ErrorJson("rate limit exceeded"));
}

void Connection::HandleJoin(Socket& socket, const Packet& packet) {
  if (packet.names.size() != 1) {
    AckJson(socket, packet.ack_id, ErrorJson("join needs a room name"));
    return;
  }
  const std::string& room = packet.names[0];
  if (!ValidRoomName(room)) {
    AckJson(socket, packet.ack_id, ErrorJson("invalid room name"));
    return;
  }
  if (room != socket.id && !ClientMayJoin(socket, room)) {
    AckJson(socket, packet.ack_id, ErrorJson("joining this room is not allowed"));
    return;
  }
  if (!shard_->InRoom(socket, room) &&
      shard_->RoomCount(socket) >= shard_->options().max_rooms_per_socket) {
    ++shard_->stats().joins_refused;
    AckJson(socket, packet.ack_id, ErrorJson("too many rooms"));
    return;
  }
  std::function<void(absl::Status)> done;
  if (packet.ack_id.has_value()) done = JoinAck(room, socket.handle, *packet.ack_id);
  if (!shard_->Join(socket, room, std::move(done), Shard::JoinLimit::kAddress)) {
    ++shard_->stats().rooms_per_address_refused;
    spdlog::debug("socket {}: join '{}' refused: the client address holds {} rooms", socket.id,
                  room, socket.address == nullptr ? 0 : socket.address->rooms());
    AckJson(socket, packet.ack_id, ErrorJson("too many rooms for this address"));
  }
}

std::function<void(absl::Status)> Connection::JoinAck(const std::string& room, uint64_t handle,
                                                      uint64_t ack_id) {
  return [token = Token(), this, handle, ack = std::optional<uint64_t>(ack_id),
          room](const absl::Status& status) {
    if (token.expired()) return;
    Socket* socket = shard_->Find(handle);
    if (socket == nullptr) return;
    if (absl::IsInternal(status)) {
      // The broker answered and refused (e.g. its per-node topic limit):
      // the socket would never get the room's events, so the join is
      // undone and the client told, never acked ok.
      ++shard_->stats().joins_refused_by_broker;
      if (room != socket->id) shard_->Leave(*socket, room);
      AckJson(*socket, ack,
              ErrorJson(absl::StrCat("the broker refused the room: ", status.message())));
      return;
    }
    if (!status.ok()) {
      // No answer yet (broker down or slow): the subscription is kept and
      // restored when the broker is back.
      spdlog::warn("socket {}: join '{}' acknowledged without broker confirmation: {}", socket->id,
                   room, status.ToString());
    }
    AckJson(*socket, ack, kOk);
  };
}

void Connection::HandleLeave(Socket& socket, const Packet& packet) {
  if (packet.names.size() != 1) {
    AckJson(socket, packet.ack_id, ErrorJson("leave needs a room name"));
    return;
  }
  const std::string& room = packet.names[0];
  if (!ValidRoomName(room) || room == socket.id) {
    AckJson(socket, packet.ack_id, ErrorJson("cannot leave this room"));
    return;
  }
  shard_->Leave(socket, room);
  AckJson(socket, packet.ack_id, kOk);
}

void Connection::HandlePublish(Socket& socket, Packet& packet) {
  if (!MayPublish(socket)) {
    AckJson(socket, packet.ack_id, ErrorJson("publishing is not allowed"));
    return;
  }
  if (packet.names.size() != 2) {
    AckJson(socket, packet.ack_id, ErrorJson("publish needs a room and an event name"));
    return;
  }
  const std::string& room = packet.names[0];
  const std::string& event = packet.names[1];
  if (!ValidRoomName(room)) {
    AckJson(socket, packet.ack_id, ErrorJson("invalid room name"));
    return;
  }
  if (IsReservedEventName(event)) {
    AckJson(socket, packet.ack_id, ErrorJson("reserved event name"));
    return;
  }
  if (!ClientMayPublishTo(socket, room)) {
    ++shard_->stats().publishes_refused;
    AckJson(socket, packet.ack_id, ErrorJson("publishing to this room is not allowed"));
    return;
  }
  v1::Envelope envelope;
  envelope.set_kind(v1::KIND_EVENT);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_(socket.ns->name);
  envelope.add_rooms(room);
  envelope.set_except_socket(socket.id);
  envelope.set_event(event);
  envelope.set_args(std::move(packet.args));
  for (std::string& attachment : packet.attachments)
    envelope.add_attachments(std::move(attachment));
  if (!packet.ack_id.has_value()) {
    shard_->port().Publish(shard_->index(), std::move(envelope), nullptr);
    return;
  }
  shard_->port().Publish(
      shard_->index(), std::move(envelope),
      [token = Token(), this, handle = socket.handle,
       ack = packet.ack_id](absl::StatusOr<v1::PublishReceipt> receipt) {
        if (token.expired()) return;
        Socket* socket = shard_->Find(handle);
        if (socket == nullptr) return;
        if (!receipt.ok()) {
          AckJson(*socket, ack, ErrorJson(FromAbsl(receipt.status().message())));
        } else if (!receipt->accepted()) {
          AckJson(*socket, ack,
                  ErrorJson(receipt->error().empty() ? "refused by the broker" : receipt->error()));
        } else {
          AckJson(*socket, ack, kOk);
        }
      });
}

void Connection::Relay(Socket& socket, const Packet& packet) {
  const NamespacePolicy& policy = *socket.ns->policy;
  if (policy.relay == RelayPolicy::kNone || !MayPublish(socket)) return;
  v1::Envelope envelope;
  envelope.set_kind(v1::KIND_EVENT);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_(socket.ns->name);
  if (policy.relay == RelayPolicy::kRooms) {
    const RoomIndex::RoomSet* rooms = shard_->rooms().RoomsOf(socket.handle);
    if (rooms != nullptr) {
      for (const std::string& room : *rooms) {
        if (room.empty() || room == socket.id) continue;
        if (ClientMayPublishTo(socket, room)) {
          envelope.add_rooms(room);
        } else {
          ++shard_->stats().publishes_refused;
        }
      }
    }
    if (envelope.rooms_size() == 0) return;  // in no room it may reach: nobody to relay to
  }
  if (!policy.echo) envelope.set_except_socket(socket.id);
  envelope.set_event(packet.event);
  envelope.set_args(packet.args);
  for (const std::string& attachment : packet.attachments) envelope.add_attachments(attachment);
  shard_->port().Publish(shard_->index(), std::move(envelope), nullptr);
}

void Connection::Forward(Socket& socket, Packet& packet) {
  if (!socket.ns->policy->forward) return;
  v1::Envelope envelope;
  envelope.set_kind(v1::KIND_CLIENT_EVENT);
  envelope.set_event(packet.event);
  envelope.set_args(std::move(packet.args));
  for (std::string& attachment : packet.attachments)
    envelope.add_attachments(std::move(attachment));
  if (packet.ack_id.has_value()) envelope.set_ack_id(*packet.ack_id);
  PublishToService(socket, std::move(envelope));
}

void Connection::HandleClientAck(Socket& socket, Packet& packet) {
  if (!packet.ack_id.has_value()) {
    spdlog::debug("socket {}: ACK without id ignored", socket.id);
    return;
  }
  auto it = socket.service_acks.find(*packet.ack_id);
  if (it == socket.service_acks.end()) {
    spdlog::debug("socket {}: ACK {} answers nothing pending; ignored", socket.id, *packet.ack_id);
    return;
  }
  v1::Envelope envelope;
  envelope.set_kind(v1::KIND_ACK);
  envelope.set_channel(v1::CHANNEL_NODE);
  envelope.set_node(it->second.reply_to);
  envelope.set_namespace_(socket.ns->name);
  envelope.set_ack_id(it->second.ack_id);
  envelope.set_socket_id(socket.id);
  envelope.set_args(std::move(packet.args));
  for (std::string& attachment : packet.attachments)
    envelope.add_attachments(std::move(attachment));
  socket.service_acks.erase(it);
  shard_->port().Publish(shard_->index(), std::move(envelope), nullptr);
}

void Connection::Deliver(Socket& socket, const Dispatch& dispatch) {
  if (closed_ || failed_) return;
  const v1::Envelope& envelope = dispatch.envelope;
  switch (envelope.kind()) {
    case v1::KIND_EVENT:
      DeliverEvent(socket, dispatch);
      return;
    case v1::KIND_ACK:
      if (dispatch.frame) Send(dispatch.frame);
      return;
    case v1::KIND_DISCONNECT:
      if (!envelope.reason().empty()) {
        spdlog::info("socket {}: disconnected by {}: {}", socket.id, envelope.origin(),
                     envelope.reason());
      }
      CloseSocket(socket, kReasonServerDisconnect, true);
      return;
    case v1::KIND_VERDICT:
      ApplyVerdict(socket, envelope);
      return;
    case v1::KIND_SET_DATA:
      SetSocketData(socket, envelope);
      return;
    default:
      spdlog::debug("socket {}: ignoring delivery of kind {}", socket.id,
                    v1::Kind_Name(envelope.kind()));
      return;
  }
}

void Connection::DeliverEvent(Socket& socket, const Dispatch& dispatch) {
  if (dispatch.frame) {
    Send(dispatch.frame);
    return;
  }
  const v1::Envelope& envelope = dispatch.envelope;
  std::optional<uint64_t> ack_id;
  if (envelope.has_ack_id() && !envelope.reply_to().empty()) {
    ack_id = socket.next_ack_id++;
    if (socket.service_acks.size() >= shard_->options().max_pending_service_acks) {
      socket.service_acks.erase(socket.service_acks.begin());
    }
    socket.service_acks[*ack_id] = {envelope.ack_id(), envelope.reply_to()};
  }
  Send(EncodeEvent(socket.ns->name, envelope.event(), envelope.args(), ack_id,
                   CopyAttachments(envelope)));
}

}  // namespace roomq::gateway::socketio
