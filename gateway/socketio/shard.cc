#include "gateway/socketio/shard.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/post.hpp>
#include <stdexcept>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "gateway/socketio/auth/socket_auth.h"
#include "gateway/socketio/connection.h"
#include "proto/base/absl_compat.h"
#include "proto/base/random_id.h"
#include "proto/wire/topic.h"

namespace roomq::gateway::socketio {

Shard::Shard(size_t index, boost::asio::any_io_executor executor,
             std::shared_ptr<const Config> config, std::shared_ptr<bridge::Port> port,
             ShardOptions options)
    : index_(index),
      executor_(std::move(executor)),
      config_(std::move(config)),
      port_(std::move(port)),
      options_(options),
      namespaces_(*config_, options_.max_dynamic_namespaces),
      socket_lines_(options_.socket_log_rate, &options_.timers->clock()) {}

std::string Shard::NewSocketId() {
  // 12 bytes = 96 bits = exactly kSocketIdRandomChars base64url characters.
  static_assert(auth::kSocketIdRandomChars == 16);
  std::string id = base::RandomUrlId(12);
  id += auth::SocketIdCheck(id);
  return id;
}

void Shard::Register(Socket& socket) {
  socket.handle = next_handle_++;
  sockets_[socket.handle] = &socket;
}

void Shard::Unregister(Socket& socket) {
  if (socket.in_own_room) own_rooms_.erase(&socket);  // LeaveAll normally did
  socket.in_own_room = false;
  sockets_.erase(socket.handle);
}

Socket* Shard::Find(uint64_t handle) const {
  auto it = sockets_.find(handle);
  return it == sockets_.end() ? nullptr : it->second;
}

Shard::OwnKey Shard::KeyOf(const Socket* socket) { return {socket->ns->name, socket->id}; }

size_t Shard::OwnHash::operator()(const OwnKey& key) const {
  return absl::HashOf(ToAbsl(key.first), ToAbsl(key.second));
}

Socket* Shard::OwnHolder(std::string_view ns, std::string_view room) const {
  auto it = own_rooms_.find(OwnKey(ns, room));
  return it == own_rooms_.end() ? nullptr : *it;
}

size_t Shard::RoomCount(const Socket& socket) const {
  return rooms_.RoomCount(socket.handle) + (socket.in_own_room ? 1 : 0);
}

bool Shard::InRoom(const Socket& socket, std::string_view room) const {
  return (socket.in_own_room && room == socket.id) || rooms_.Contains(socket.handle, room);
}

bool Shard::CountJoin(Socket& socket, JoinLimit limit) {
  if (socket.reserved_rooms > 0) {
    --socket.reserved_rooms;
    return true;
  }
  if (socket.address == nullptr) return true;
  if (limit == JoinLimit::kAddress) return socket.address->TryAddRooms(1);
  socket.address->AddRooms(1);
  return true;
}

void Shard::CountLeave(Socket& socket, uint64_t rooms) {
  if (socket.address != nullptr && rooms > 0) socket.address->RemoveRooms(rooms);
}

bool Shard::Join(Socket& socket, std::string_view room, std::function<void(absl::Status)> done,
                 JoinLimit limit) {
  const std::string& ns = socket.ns->name;
  bool edge = false;
  const bool joining = !InRoom(socket, room);
  if (joining && !CountJoin(socket, limit)) return false;
  if (room == socket.id && !socket.in_own_room && !rooms_.Contains(socket.handle, room) &&
      own_rooms_.insert(&socket).second) {
    socket.in_own_room = true;
    edge = rooms_.Members(ns, room) == nullptr;
  } else if (joining) {
    const RoomIndex::Change change = rooms_.Join(socket.handle, ns, room);
    if (!change.changed) CountLeave(socket, 1);
    edge = change.edge && OwnHolder(ns, room) == nullptr;
  }
  if (joining && socket.recorded && !room.empty()) QueueRoomChange(socket, room, true);
  const std::string key = RoomIndex::Key(ns, room);
  if (edge) StartSubscription(key);
  if (!done) return true;
  auto it = topics_.find(key);
  if (it == topics_.end()) {
    boost::asio::post(executor_, [done = std::move(done)] {
      done(absl::InternalError("socket is not in the room"));
    });
    return true;
  }
  if (it->second.confirmed) {
    boost::asio::post(executor_,
                      [done = std::move(done), status = it->second.result] { done(status); });
    return true;
  }
  AddWaiter(it->second, std::move(done));
  return true;
}

void Shard::Leave(Socket& socket, std::string_view room) {
  const std::string& ns = socket.ns->name;
  bool edge = false;
  if (socket.in_own_room && room == socket.id) {
    own_rooms_.erase(&socket);
    socket.in_own_room = false;
    CountLeave(socket, 1);
    edge = rooms_.Members(ns, room) == nullptr;
    if (socket.recorded) QueueRoomChange(socket, room, false);
  } else {
    const RoomIndex::Change change = rooms_.Leave(socket.handle, room);
    if (change.changed) CountLeave(socket, 1);
    if (change.changed && socket.recorded && !room.empty()) QueueRoomChange(socket, room, false);
    edge = change.edge && OwnHolder(ns, room) == nullptr;
  }
  if (edge) EndSubscription(RoomIndex::Key(ns, room));
}

std::vector<std::string> Shard::LeaveAll(Socket& socket) {
  const std::string_view ns = socket.ns == nullptr ? std::string_view() : socket.ns->name;
  std::vector<std::string> names;
  std::vector<RoomIndex::Left> left_rooms = rooms_.LeaveAll(socket.handle);
  uint64_t left_count = left_rooms.size() + socket.reserved_rooms;
  socket.reserved_rooms = 0;
  for (RoomIndex::Left& left : left_rooms) {
    if (left.last && OwnHolder(ns, left.room) == nullptr)
      EndSubscription(RoomIndex::Key(ns, left.room));
    if (!left.room.empty()) names.push_back(std::move(left.room));
  }
  if (socket.in_own_room) {
    own_rooms_.erase(&socket);
    socket.in_own_room = false;
    ++left_count;
    if (rooms_.Members(ns, socket.id) == nullptr) EndSubscription(RoomIndex::Key(ns, socket.id));
    names.push_back(socket.id);
  }
  CountLeave(socket, left_count);
  return names;
}

void Shard::RecordOpen(Socket& socket, v1::Session session) {
  if (const RoomIndex::RoomSet* rooms = rooms_.RoomsOf(socket.handle); rooms != nullptr) {
    for (const std::string& room : *rooms) {
      if (!room.empty()) session.add_rooms(room);
    }
  }
  if (socket.in_own_room) session.add_rooms(socket.id);
  socket.recorded = true;
  v1::SocketUpdate update;
  *update.mutable_open()->mutable_session() = std::move(session);
  QueueUpdate(std::move(update));
}

void Shard::RecordClose(Socket& socket, bool recoverable) {
  if (!socket.recorded) return;
  socket.recorded = false;
  v1::SocketUpdate update;
  v1::SocketClose& close = *update.mutable_close();
  close.set_namespace_(socket.ns->name);
  close.set_socket_id(socket.id);
  close.set_recoverable(recoverable);
  QueueUpdate(std::move(update));
}

void Shard::CloseMovedSocket(const std::string& ns, const std::string& socket_id) {
  Socket* socket = OwnHolder(ns, socket_id);
  if (socket == nullptr || socket->connection == nullptr) return;
  socket->recorded = false;  // the record is another node's now
  ++stats_.sockets_taken_over;
  socket->connection->CloseMovedSocket(*socket);
}

void Shard::HandBackRecord(const v1::Session& session, bool recoverable) {
  // The bridge forwards updates only for sockets it holds: the Open makes
  // it hold this one for the Close that follows.
  std::vector<v1::SocketUpdate> updates(2);
  *updates[0].mutable_open()->mutable_session() = session;
  v1::SocketClose& close = *updates[1].mutable_close();
  close.set_namespace_(session.namespace_());
  close.set_socket_id(session.socket_id());
  close.set_recoverable(recoverable);
  port_->SocketUpdates(index_, std::move(updates));
}

void Shard::QueueRoomChange(const Socket& socket, std::string_view room, bool joined) {
  v1::SocketUpdate update;
  v1::SocketRooms& rooms = *update.mutable_rooms();
  rooms.set_namespace_(socket.ns->name);
  rooms.set_socket_id(socket.id);
  (joined ? rooms.add_joined() : rooms.add_left())->assign(room.data(), room.size());
  QueueUpdate(std::move(update));
}

void Shard::QueueUpdate(v1::SocketUpdate update) {
  std::vector<v1::SocketUpdate> updates;
  updates.push_back(std::move(update));
  port_->SocketUpdates(index_, std::move(updates));
}

void Shard::StartSubscription(const std::string& key) {
  TopicState& state = topics_[key];
  state = TopicState{};
  state.generation = next_generation_++;
  port_->Subscribe(
      index_, key,
      [weak = weak_from_this(), key, generation = state.generation](const absl::Status& status) {
        if (auto self = weak.lock()) self->OnConfirmed(key, generation, status);
      });
}

void Shard::EndSubscription(const std::string& key) {
  auto it = topics_.find(key);
  if (it != topics_.end()) {
    std::vector<std::shared_ptr<Waiter>> waiters = std::move(it->second.waiters);
    topics_.erase(it);
    for (const auto& waiter : waiters) {
      Fire(waiter, absl::AbortedError("the room was left before the broker confirmed it"));
    }
  }
  if (pending_recoveries_ > 0) {
    deferred_unsubscribes_.insert(key);
    return;
  }
  port_->Unsubscribe(index_, key);
}

void Shard::AddWaiter(TopicState& state, std::function<void(absl::Status)> done) {
  auto waiter = std::make_shared<Waiter>(options_.timers->NewTimer(executor_));
  waiter->done = std::move(done);
  // Weak: the waiter owns the timer that holds this callback.
  waiter->timer->Start(options_.subscribe_wait, [weak = std::weak_ptr<Waiter>(waiter),
                                                 wait = options_.subscribe_wait] {
    auto waiter = weak.lock();
    if (!waiter) return;
    Fire(waiter, absl::DeadlineExceededError(absl::StrCat(
                     "the broker did not confirm the subscription within ", wait.count(), " ms")));
  });
  state.waiters.push_back(std::move(waiter));
}

void Shard::Fire(const std::shared_ptr<Waiter>& waiter, absl::Status status) {
  if (waiter->fired) return;
  waiter->fired = true;
  waiter->timer->Cancel();
  auto done = std::move(waiter->done);
  if (done) done(std::move(status));
}

void Shard::OnConfirmed(const std::string& key, uint64_t generation, const absl::Status& status) {
  auto it = topics_.find(key);
  if (it == topics_.end() || it->second.generation != generation) return;
  if (!status.ok()) {
    spdlog::warn("shard {}: subscription {} not confirmed: {}", index_,
                 wire::DescribeTopic(wire::DecodeTopicKey(key).value_or(wire::TopicRef{})),
                 status.ToString());
  }
  it->second.confirmed = true;
  it->second.result = status;
  std::vector<std::shared_ptr<Waiter>> waiters = std::move(it->second.waiters);
  it->second.waiters.clear();
  for (const auto& waiter : waiters) Fire(waiter, status);
}

std::vector<uint64_t> Shard::Recipients(const v1::Envelope& envelope) const {
  std::vector<uint64_t> out;
  const std::string& ns = envelope.namespace_();
  auto consider = [&](uint64_t handle) {
    Socket* socket = Find(handle);
    if (socket == nullptr || socket->state != Socket::State::kConnected) return;
    if (Accepts(*socket, envelope)) out.push_back(handle);
  };
  if (envelope.rooms_size() <= 1) {
    const std::string_view room =
        envelope.rooms_size() == 0 ? std::string_view() : std::string_view(envelope.rooms(0));
    if (const Socket* own = OwnHolder(ns, room); own != nullptr) consider(own->handle);
    const RoomIndex::MemberSet* members = rooms_.Members(ns, room);
    if (members == nullptr) return out;
    out.reserve(out.size() + members->size());
    for (uint64_t handle : *members) consider(handle);
    return out;
  }
  absl::flat_hash_set<uint64_t> seen;
  for (const std::string& room : envelope.rooms()) {
    if (const Socket* own = OwnHolder(ns, room);
        own != nullptr && seen.insert(own->handle).second) {
      consider(own->handle);
    }
    const RoomIndex::MemberSet* members = rooms_.Members(ns, room);
    if (members == nullptr) continue;
    for (uint64_t handle : *members) {
      if (seen.insert(handle).second) consider(handle);
    }
  }
  return out;
}

bool Shard::Accepts(const Socket& socket, const v1::Envelope& envelope) const {
  if (!envelope.except_socket().empty() && socket.id == envelope.except_socket()) return false;
  for (const std::string& room : envelope.except_rooms()) {
    if (InRoom(socket, room)) return false;
  }
  return true;
}

void Shard::Recover(Socket& socket, v1::Recover request, RecoverDone done) {
  ++pending_recoveries_;
  port_->Recover(index_, std::move(request),
                 [weak = weak_from_this(), handle = socket.handle,
                  done = std::move(done)](absl::StatusOr<bridge::Recovery> result) {
                   if (auto self = weak.lock()) self->OnRecovered(handle, std::move(result), done);
                 });
}

void Shard::OnRecovered(uint64_t handle, absl::StatusOr<bridge::Recovery> result,
                        const RecoverDone& done) {
  --pending_recoveries_;
  // Runs after the rooms below were taken over (or not): what still has no
  // local member is unsubscribed now.
  struct FlushDeferred {
    Shard* shard;
    ~FlushDeferred() {
      if (shard->pending_recoveries_ > 0) return;
      for (const std::string& key : std::exchange(shard->deferred_unsubscribes_, {})) {
        if (!shard->topics_.contains(key)) shard->port_->Unsubscribe(shard->index_, key);
      }
    }
  } flush{this};
  if (!result.ok()) {
    done(result.status());
    return;
  }
  const v1::Session& session = result->session;
  std::vector<std::string> rooms(session.rooms().begin(), session.rooms().end());
  rooms.push_back("");  // the namespace room, which the port counted too
  Socket* socket = Find(handle);
  if (socket == nullptr || socket->state != Socket::State::kConnecting || socket->ns == nullptr ||
      socket->ns->name != session.namespace_() || session.socket_id().empty()) {
    // Nobody takes the rooms over: hand back what has no local member.
    for (const std::string& room : rooms) {
      deferred_unsubscribes_.insert(RoomIndex::Key(session.namespace_(), room));
    }
    HandBackRecord(session, /*recoverable=*/true);
    done(absl::AbortedError("the socket left before its session was recovered"));
    return;
  }
  // Re-authorized, not trusted: the session was saved under the policy and
  // token of its time. Its id must verify as one a gateway issued (a
  // reserved room can never be held by a stale id), in a JWT namespace the
  // new token must have the same subject, and each room must still be one
  // this socket may join, within the room limit.
  absl::Status refused;
  if (!auth::IsIssuedSocketId(session.socket_id())) {
    refused = absl::PermissionDeniedError("the session's socket id does not verify");
  } else if (socket->grant != nullptr && session.subject() != socket->grant->subject) {
    refused = absl::PermissionDeniedError("the token's subject is not the session's");
  }
  if (!refused.ok()) {
    for (const std::string& room : rooms) {
      deferred_unsubscribes_.insert(RoomIndex::Key(session.namespace_(), room));
    }
    HandBackRecord(session, /*recoverable=*/false);
    done(std::move(refused));
    return;
  }
  if (socket->in_own_room) {  // not expected: no room yet
    own_rooms_.erase(socket);
    CountLeave(*socket, 1);
  }
  socket->in_own_room = false;
  socket->id = session.socket_id();
  // Its own room and the namespace first: they count towards the limits
  // (with what CONNECT reserved for them at the address).
  Join(*socket, socket->id, nullptr);
  Join(*socket, "", nullptr);
  for (const std::string& room : rooms) {
    if (room.empty() || room == socket->id) continue;
    const bool allowed = room.size() <= wire::kMaxNameBytes && !auth::IsIssuedSocketId(room) &&
                         socket->ns->MayJoin(room) &&
                         (socket->grant == nullptr || socket->grant->MayJoin(room)) &&
                         RoomCount(*socket) < options_.max_rooms_per_socket;
    if (!allowed || !Join(*socket, room, nullptr, JoinLimit::kAddress)) {
      ++stats_.recovery_rooms_dropped;
      deferred_unsubscribes_.insert(RoomIndex::Key(session.namespace_(), room));
    }
  }
  done(*std::move(result));
}

void Shard::OnDispatch(const SharedDispatch& dispatch) {
  const v1::Envelope& envelope = dispatch->envelope;
  if (!dispatch->deliverable || envelope.channel() != v1::CHANNEL_ROOMS) return;
  if (envelope.kind() == v1::KIND_VERDICT) {
    // For a socket still connecting, which Recipients leaves out; by its
    // own room alone (connection_middleware.cc).
    if (envelope.rooms_size() != 1) return;
    const Socket* own = OwnHolder(envelope.namespace_(), envelope.rooms(0));
    if (Socket* socket = own == nullptr ? nullptr : Find(own->handle); socket != nullptr) {
      socket->connection->Deliver(*socket, *dispatch);
    }
    return;
  }
  // Collected first: a delivery may change membership (LEAVE, DISCONNECT).
  for (uint64_t handle : Recipients(envelope)) {
    Socket* socket = Find(handle);
    if (socket == nullptr) continue;
    if (envelope.kind() == v1::KIND_JOIN || envelope.kind() == v1::KIND_LEAVE) {
      ApplyMembership(*socket, envelope);
    } else {
      socket->connection->Deliver(*socket, *dispatch);
    }
  }
}

void Shard::ApplyMembership(Socket& socket, const v1::Envelope& envelope) {
  const bool join = envelope.kind() == v1::KIND_JOIN;
  for (const std::string& room : envelope.membership_rooms()) {
    // A service may move a socket between rooms freely, but never out of its
    // own id room or the namespace room, nor into a room no client could name.
    if (room.empty() || room.size() > wire::kMaxNameBytes) continue;
    if (join) {
      Join(socket, room, nullptr);
    } else if (room != socket.id) {
      Leave(socket, room);
    }
  }
}

}  // namespace roomq::gateway::socketio
