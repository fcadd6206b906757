#ifndef ROOMQ_TESTS_GATEWAY_SOCKETIO_FAKES_H_
#define ROOMQ_TESTS_GATEWAY_SOCKETIO_FAKES_H_

// Test doubles for the Socket.IO layer: an Engine.IO session that records
// what is sent, and a bridge port that records subscriptions and publishes
// and lets the test confirm them. Single-threaded: everything runs on the
// test's io_context.

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gateway/bridge/port.h"
#include "gateway/engineio/session.h"
#include "proto/wire/topic.h"

namespace roomq::gateway::socketio::testing {

class FakeSession : public engineio::Session {
 public:
  FakeSession(boost::asio::io_context& io, std::string id)
      : FakeSession(io.get_executor(), std::move(id)) {}
  FakeSession(boost::asio::any_io_executor executor, std::string id)
      : executor_(std::move(executor)), id_(std::move(id)) {
    handshake_.remote_address = "127.0.0.1:1234";
  }

  const std::string& id() const override { return id_; }
  std::string_view transport() const override { return transport_; }
  const engineio::HandshakeInfo& handshake() const override { return handshake_; }
  boost::asio::any_io_executor executor() const override { return executor_; }
  absl::Status Send(engineio::SharedOutbound message) override {
    if (closed_) return absl::FailedPreconditionError("closed");
    for (const auto& part : *message) {
      sent_.push_back(part.binary ? "<binary>" + part.data : part.data);
    }
    shared_.push_back(message);
    return absl::OkStatus();
  }
  void Close() override { closed_ = true; }

  // The client address's lease, as the Engine puts it in the handshake.
  void SetAddress(engineio::AddressLease lease) { handshake_.address = std::move(lease); }
  engineio::HandshakeInfo& mutable_handshake() { return handshake_; }

  bool closed() const { return closed_; }
  const std::vector<std::string>& sent() const { return sent_; }
  const std::vector<engineio::SharedOutbound>& shared() const { return shared_; }
  std::vector<std::string> TakeSent() {
    shared_.clear();
    return std::exchange(sent_, {});
  }

 private:
  boost::asio::any_io_executor executor_;
  std::string id_;
  std::string transport_ = "websocket";
  engineio::HandshakeInfo handshake_;
  bool closed_ = false;
  std::vector<std::string> sent_;
  std::vector<engineio::SharedOutbound> shared_;
};

class FakePort : public bridge::Port {
 public:
  struct PendingSubscribe {
    size_t shard;
    std::string key;
    std::function<void(absl::Status)> done;
  };
  struct Published {
    v1::Envelope envelope;
    std::function<void(absl::StatusOr<v1::PublishReceipt>)> on_receipt;
  };

  explicit FakePort(boost::asio::io_context& io) : io_(io) {}

  const std::string& node_id() const override { return node_id_; }
  void Subscribe(size_t shard, std::string key, std::function<void(absl::Status)> done) override {
    subscribed_.push_back(Describe(key));
    pending_.push_back({shard, std::move(key), std::move(done)});
  }
  void Unsubscribe(size_t shard, std::string key) override {
    unsubscribed_.push_back(Describe(key));
  }
  void Publish(size_t shard, v1::Envelope envelope,
               std::function<void(absl::StatusOr<v1::PublishReceipt>)> on_receipt) override {
    published_.push_back({std::move(envelope), std::move(on_receipt)});
  }

  // A record the broker keeps after its socket closed (Close{recoverable}
  // with a ttl), as the socket records would hold it.
  struct SavedSession {
    v1::Session session;  // with its rooms at the close
    std::chrono::milliseconds ttl;
  };
  struct PendingRecover {
    size_t shard;
    v1::Recover request;
    std::function<void(absl::StatusOr<bridge::Recovery>)> done;
  };

  // Applies the updates to records the way the broker's socket index does
  // and keeps every recoverable close in saved().
  void SocketUpdates(size_t shard, std::vector<v1::SocketUpdate> updates) override {
    for (v1::SocketUpdate& update : updates) {
      if (update.has_open()) {
        const v1::Session& session = update.open().session();
        records_[session.namespace_() + "#" + session.socket_id()] = session;
      } else if (update.has_rooms()) {
        auto it = records_.find(update.rooms().namespace_() + "#" + update.rooms().socket_id());
        if (it != records_.end()) {
          auto* rooms = it->second.mutable_rooms();
          for (const std::string& room : update.rooms().joined()) *rooms->Add() = room;
          for (const std::string& room : update.rooms().left()) {
            auto gone = std::find(rooms->begin(), rooms->end(), room);
            if (gone != rooms->end()) rooms->erase(gone);
          }
        }
      } else if (update.has_close()) {
        auto it = records_.find(update.close().namespace_() + "#" + update.close().socket_id());
        if (it != records_.end()) {
          if (update.close().recoverable() && it->second.ttl_ms() > 0 &&
              !it->second.pid().empty()) {
            saved_.push_back({it->second, std::chrono::milliseconds(it->second.ttl_ms())});
          }
          records_.erase(it);
        }
      }
      updates_.push_back(std::move(update));
    }
  }
  void Recover(size_t shard, v1::Recover request,
               std::function<void(absl::StatusOr<bridge::Recovery>)> done) override {
    recovers_.push_back({shard, std::move(request), std::move(done)});
  }
  uint64_t epoch() const override { return epoch_; }
  uint64_t last_sequence() const override { return last_sequence_; }
  void SetPosition(uint64_t epoch, uint64_t sequence) {
    epoch_ = epoch;
    last_sequence_ = sequence;
  }

  // Answers the oldest pending Recover (posted, as the bridge does). On
  // success it counts the rooms for the shard as the bridge does (recorded
  // in subscribed() as "+ns#room" so tests can tell them apart).
  void AnswerRecover(absl::StatusOr<bridge::Recovery> result) {
    PendingRecover pending = std::move(recovers_.at(0));
    recovers_.erase(recovers_.begin());
    if (result.ok()) {
      for (const std::string& room : result->session.rooms()) {
        counted_.push_back(result->session.namespace_() + "#" + room);
      }
      counted_.push_back(result->session.namespace_() + "#");
    }
    boost::asio::post(io_, [done = std::move(pending.done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }

  // Answers every pending Subscribe with `status` (posted, as the bridge does).
  void ConfirmAll(const absl::Status& status = absl::OkStatus()) {
    for (auto& pending : std::exchange(pending_, {})) {
      if (pending.done) {
        boost::asio::post(io_, [done = std::move(pending.done), status] { done(status); });
      }
    }
  }
  // Answers the receipt of published envelope `index`.
  void Receipt(size_t index, const absl::StatusOr<v1::PublishReceipt>& receipt) {
    auto callback = std::move(published_.at(index).on_receipt);
    boost::asio::post(io_, [callback = std::move(callback), receipt] { callback(receipt); });
  }

  static std::string Describe(const std::string& key) {
    auto topic = wire::DecodeTopicKey(key);
    return topic.ok() ? std::string(topic->ns) + "#" + std::string(topic->name) : "?";
  }

  std::vector<std::string>& subscribed() { return subscribed_; }
  std::vector<std::string>& unsubscribed() { return unsubscribed_; }
  std::vector<Published>& published() { return published_; }
  std::vector<SavedSession>& saved() { return saved_; }
  // Every socket update, in order; the records of connected sockets.
  std::vector<v1::SocketUpdate>& updates() { return updates_; }
  const std::map<std::string, v1::Session>& records() const { return records_; }
  std::vector<PendingRecover>& recovers() { return recovers_; }
  // Rooms a successful AnswerRecover counted for the shard ("ns#room").
  std::vector<std::string>& counted() { return counted_; }
  size_t pending_count() const { return pending_.size(); }

 private:
  boost::asio::io_context& io_;
  std::string node_id_ = "gw-test-1";
  std::vector<PendingSubscribe> pending_;
  std::vector<std::string> subscribed_;
  std::vector<std::string> unsubscribed_;
  std::vector<Published> published_;
  std::vector<SavedSession> saved_;
  std::vector<v1::SocketUpdate> updates_;
  std::map<std::string, v1::Session> records_;  // "ns#id" -> open record
  std::vector<PendingRecover> recovers_;
  std::vector<std::string> counted_;
  uint64_t epoch_ = 0;
  uint64_t last_sequence_ = 0;
};

}  // namespace roomq::gateway::socketio::testing

#endif  // ROOMQ_TESTS_GATEWAY_SOCKETIO_FAKES_H_
