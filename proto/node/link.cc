#include "proto/node/link.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "proto/base/absl_compat.h"
#include "proto/node/curve_socket.h"
#include "proto/wire/delivery.h"
#include "spdlog/spdlog.h"

namespace roomq::node {
namespace {

// How many messages one Poll() reads from one socket before it moves on, so a
// flood on one socket cannot starve timers or the caller's own poll items.
constexpr int kMaxReadsPerPoll = 4096;
// The broker packs up to this many deliveries into one message
// (proto/README.md): ZMQ_RCVHWM counts messages, so receive_hwm (about
// deliveries) is divided by it.
constexpr int kMaxFramesPerMessage = wire::kMaxDeliveriesPerMessage;
constexpr int kSilentHeartbeats = 3;
// Topics per Subscribe command when the whole set is (re)sent, and bytes:
// a topic name may be 1 KiB, so the count alone could make a command larger
// than the broker's message size limit (--max-message-bytes, 4 MiB by
// default), which would cut the connection instead of subscribing.
constexpr size_t kMaxTopicsPerCommand = 10000;
constexpr size_t kMaxCommandBytes = 1 << 20;

std::string GenerateNodeId(const std::string& prefix) {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::strcpy(host, "host");
  std::random_device device;
  const uint32_t random = device();
  return absl::StrFormat("%s-%s-%d-%08x", prefix, host, static_cast<int>(getpid()), random);
}

std::string NextMonitorEndpoint() {
  static std::atomic<uint64_t> counter{0};
  return absl::StrCat("inproc://roomq-link-monitor-", getpid(), "-", counter.fetch_add(1));
}

int64_t MicrosSinceEpoch(base::Clock::WallTime time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}

}  // namespace

Link::Link(zmq::context_t& context, LinkOptions options, LinkHandlers handlers)
    : context_(context), options_(std::move(options)), handlers_(std::move(handlers)) {}

absl::StatusOr<std::unique_ptr<Link>> Link::Create(zmq::context_t& context, LinkOptions options,
                                                   LinkHandlers handlers) {
  if (!handlers.on_delivery)
    return absl::InvalidArgumentError("LinkHandlers.on_delivery is required");
  if (options.heartbeat.count() <= 0)
    return absl::InvalidArgumentError("heartbeat must be positive");
  if (options.receipt_timeout.count() <= 0) {
    return absl::InvalidArgumentError("receipt_timeout must be positive");
  }
  if (options.clock == nullptr) return absl::InvalidArgumentError("LinkOptions.clock is null");
  if (options.max_message_bytes <= 0) {
    return absl::InvalidArgumentError("max_message_bytes must be positive");
  }
  std::vector<std::string> pub_endpoints = absl::StrSplit(options.pub_endpoint, ',');
  std::vector<std::string> sub_endpoints = absl::StrSplit(options.sub_endpoint, ',');
  if (pub_endpoints.size() != sub_endpoints.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the broker lists differ in length: ", pub_endpoints.size(),
                     " pub endpoints (\"", options.pub_endpoint, "\"), ", sub_endpoints.size(),
                     " sub endpoints (\"", options.sub_endpoint, "\")"));
  }
  std::unique_ptr<Link> link(new Link(context, std::move(options), std::move(handlers)));
  link->pub_endpoints_ = std::move(pub_endpoints);
  link->sub_endpoints_ = std::move(sub_endpoints);
  link->node_id_ = link->options_.node_id.empty() ? GenerateNodeId(link->options_.node_prefix)
                                                  : link->options_.node_id;
  // Every broker's endpoints are tried now, the first last (it stays
  // connected): a malformed second broker would otherwise show only at the
  // first failover.
  for (size_t i = link->pub_endpoints_.size(); i-- > 0;) {
    link->broker_ = i;
    link->CloseSubSocket();
    if (absl::Status status = link->OpenPubSocket(); !status.ok()) return status;
    if (absl::Status status = link->OpenSubSocket(); !status.ok()) return status;
  }
  const auto now = link->options_.clock->Now();
  link->next_ping_ = now + link->options_.heartbeat;
  link->last_broker_answer_ = now;
  link->last_move_ = now;
  return link;
}

absl::Status Link::OpenPubSocket() {
  const std::string& endpoint = pub_endpoints_[broker_];
  try {
    pub_ = zmq::socket_t(context_, zmq::socket_type::dealer);
    pub_.set(zmq::sockopt::sndhwm, options_.send_hwm);
    pub_.set(zmq::sockopt::maxmsgsize, options_.max_message_bytes);
    pub_.set(zmq::sockopt::linger, static_cast<int>(options_.linger.count()));
    if (absl::Status curve = ApplyCurveClient(pub_, options_.curve); !curve.ok()) return curve;
    pub_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return absl::InternalError(absl::StrCat("broker pub endpoint \"", endpoint, "\": ", e.what()));
  }
  return absl::OkStatus();
}

void Link::MoveToNextBroker(TimePoint now, std::string_view why) {
  const size_t from = broker_;
  broker_ = (broker_ + 1) % sub_endpoints_.size();
  spdlog::warn("roomq link {}: {}; moving from broker {} to {}", node_id_, why,
               sub_endpoints_[from], sub_endpoints_[broker_]);
  SetBrokerConnected(false);
  CloseSubSocket();
  // Receipts the old broker owes time out (Unavailable), as with any
  // broker that stops answering.
  if (absl::Status status = OpenPubSocket(); !status.ok()) {
    spdlog::error("roomq link {}: {}", node_id_, status.ToString());
  }
  if (absl::Status status = OpenSubSocket(); !status.ok()) {
    spdlog::error("roomq link {}: {}", node_id_, status.ToString());
  }
  ++stats_.broker_moves;
  last_move_ = now;
  last_broker_answer_ = now;
  move_due_.reset();
}

Link::~Link() {
  if (sub_.handle() != nullptr) {
    v1::SubscriberCommand goodbye;
    goodbye.mutable_goodbye();
    SendCommand(goodbye);
  }
  CloseSubSocket();
}

absl::Status Link::OpenSubSocket() {
  try {
    sub_ = zmq::socket_t(context_, zmq::socket_type::dealer);
    sub_.set(zmq::sockopt::rcvhwm,
             options_.receive_hwm <= 0
                 ? options_.receive_hwm
                 : (options_.receive_hwm + kMaxFramesPerMessage - 1) / kMaxFramesPerMessage);
    sub_.set(zmq::sockopt::sndhwm, options_.send_hwm);
    sub_.set(zmq::sockopt::maxmsgsize, options_.max_message_bytes);
    sub_.set(zmq::sockopt::linger, static_cast<int>(options_.linger.count()));
    monitor_endpoint_ = NextMonitorEndpoint();
    if (zmq_socket_monitor(
            sub_.handle(), monitor_endpoint_.c_str(),
            ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED) != 0) {
      throw zmq::error_t();
    }
    monitor_ = zmq::socket_t(context_, zmq::socket_type::pair);
    monitor_.set(zmq::sockopt::linger, 0);
    monitor_.connect(monitor_endpoint_);
    if (absl::Status curve = ApplyCurveClient(sub_, options_.curve); !curve.ok()) return curve;
    sub_.connect(sub_endpoints_[broker_]);
  } catch (const zmq::error_t& e) {
    return absl::InternalError(
        absl::StrCat("broker sub endpoint \"", sub_endpoints_[broker_], "\": ", e.what()));
  }
  tcp_connected_ = false;
  zmq_retrying_ = true;  // connecting
  return absl::OkStatus();
}

void Link::CloseSubSocket() {
  if (sub_.handle() != nullptr) {
    zmq_socket_monitor(sub_.handle(), nullptr, 0);
    sub_.close();
  }
  if (monitor_.handle() != nullptr) monitor_.close();
  tcp_connected_ = false;
}

void Link::SendCommand(const v1::SubscriberCommand& command) {
  if (sub_.handle() == nullptr) return;
  zmq::message_t message(command.ByteSizeLong());
  command.SerializeWithCachedSizesToArray(static_cast<uint8_t*>(message.data()));
  try {
    // A command lost to a full queue is repaired by the next Hello +
    // subscription set (Pong{known=false} or a reconnection).
    (void)sub_.send(message, zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    spdlog::warn("roomq link {}: cannot send to broker: {}", node_id_, e.what());
  }
}

void Link::SendHelloAndSubscriptions() {
  v1::SubscriberCommand hello;
  hello.mutable_hello()->set_version(v1::VERSION_1);
  hello.mutable_hello()->set_node(node_id_);
  hello.mutable_hello()->set_heartbeat_ms(static_cast<uint32_t>(options_.heartbeat.count()));
  SendCommand(hello);
  // A Ping at once rather than a heartbeat later: its Pong gives this node
  // the broker's epoch and newest sequence within one round trip. A gateway
  // records them for each socket it connects (the point a recovery without
  // a client offset replays from); a socket connected before the first Pong
  // would otherwise carry epoch 0 and could never recover.
  SendPing(options_.clock->Now());
  SendSubscriptions();
  if (handlers_.on_hello) handlers_.on_hello();
  // Recoveries asked for while there was no connection: after the set, so
  // the broker's fresh subscription set does not undo them.
  for (auto& [id, pending] : pending_recovers_) {
    if (!pending.unsent.has_value()) continue;
    SendCommand(*pending.unsent);
    pending.unsent.reset();
  }
}

void Link::SendSubscriptions() {
  if (subscriptions_.empty() && pending_replies_.empty()) return;

  // The set goes in batches of kMaxTopicsPerCommand topics or
  // kMaxCommandBytes so no command nears the broker's message size limit;
  // only the last batch asks for a Reply: the broker applies commands in
  // order, so that Reply covers them all.
  const uint64_t request_id = next_request_id_++;
  auto it = subscriptions_.begin();
  do {
    v1::SubscriberCommand subscribe;
    auto* topics = subscribe.mutable_subscribe()->mutable_topics();
    size_t bytes = 0;
    for (size_t n = 0;
         n < kMaxTopicsPerCommand && bytes < kMaxCommandBytes && it != subscriptions_.end();
         ++n, ++it) {
      *topics->Add() = it->second.topic;
      AddResumePoint(it->second, *subscribe.mutable_subscribe());
      // The topic, and again in a resume point with its epoch and offset.
      bytes += 2 * (it->second.topic.ByteSizeLong() + 4) + 24;
    }
    if (it == subscriptions_.end()) subscribe.set_request_id(request_id);
    SendCommand(subscribe);
  } while (it != subscriptions_.end());
  // Whatever was waiting for an earlier Reply now waits for this one: the
  // earlier command may have been lost with the old connection.
  std::vector<PendingReply> carried;
  for (auto& [id, waiting] : pending_replies_) {
    for (auto& pending : waiting) carried.push_back(std::move(pending));
  }
  pending_replies_.clear();
  if (!carried.empty()) pending_replies_[request_id] = std::move(carried);
}

void Link::SetBrokerConnected(bool connected) {
  if (broker_connected_ == connected) return;
  broker_connected_ = connected;
  spdlog::info("roomq link {}: broker {}", node_id_, connected ? "up" : "down");
  if (handlers_.on_broker_state) handlers_.on_broker_state(connected);
}

void Link::AddResumePoint(const Subscription& subscription, v1::Subscribe& subscribe) const {
  if (!subscription.has_position || subscription.topic.channel() != v1::CHANNEL_ROOMS) return;
  v1::ResumePoint* point = subscribe.add_resume();
  *point->mutable_topic() = subscription.topic;
  point->set_epoch(subscription.epoch);
  point->set_after_offset(subscription.offset);
}

void Link::Subscribe(const wire::TopicRef& topic, std::function<void(absl::Status)> done,
                     std::optional<ResumeFrom> from) {
  if (absl::Status status = wire::ValidateTopic(topic); !status.ok()) {
    if (done) done(status);
    return;
  }
  if (from.has_value() && topic.channel != v1::CHANNEL_ROOMS) {
    if (done) done(absl::InvalidArgumentError("only CHANNEL_ROOMS topics can be resumed"));
    return;
  }
  auto [entry, added] = subscriptions_.try_emplace(wire::EncodeTopicKey(topic));
  Subscription& subscription = entry->second;
  if (added) subscription.topic = wire::ToProto(topic);
  if (from.has_value()) {
    subscription.has_position = true;
    subscription.epoch = from->epoch;
    subscription.offset = from->after_offset;
  }
  const auto deadline = options_.clock->Now() + options_.receipt_timeout;
  if (!tcp_connected_) {
    // The (re)connection sends the whole set and adopts this callback.
    if (done) pending_replies_[0].push_back({deadline, std::move(done)});
    return;
  }
  v1::SubscriberCommand command;
  const uint64_t request_id = next_request_id_++;
  command.set_request_id(request_id);
  *command.mutable_subscribe()->add_topics() = subscription.topic;
  if (from.has_value()) AddResumePoint(subscription, *command.mutable_subscribe());
  if (done) pending_replies_[request_id].push_back({deadline, std::move(done)});
  SendCommand(command);
}

std::optional<ResumeFrom> Link::position(const wire::TopicRef& topic) const {
  auto it = subscriptions_.find(wire::EncodeTopicKey(topic));
  if (it == subscriptions_.end() || !it->second.has_position) return std::nullopt;
  return ResumeFrom{it->second.epoch, it->second.offset};
}

void Link::SendSockets(v1::Sockets sockets) {
  v1::SubscriberCommand command;
  *command.mutable_sockets() = std::move(sockets);
  SendCommand(command);
}

void Link::Recover(const v1::Recover& request,
                   std::function<void(absl::StatusOr<v1::Recovered>)> done) {
  v1::SubscriberCommand command;
  const uint64_t request_id = next_request_id_++;
  command.set_request_id(request_id);
  *command.mutable_recover() = request;
  PendingRecover& pending = pending_recovers_[request_id];
  pending.deadline = options_.clock->Now() + options_.receipt_timeout;
  pending.callback = std::move(done);
  if (!tcp_connected_ || sub_.handle() == nullptr) {
    // Sent now, it would reach the broker before the next connection's
    // Hello, which starts a fresh subscription set and would undo the
    // recovery: it waits for SendHelloAndSubscriptions.
    pending.unsent = std::move(command);
    return;
  }
  SendCommand(command);
}

void Link::Presence(const v1::Presence& query,
                    std::function<void(absl::StatusOr<v1::PresenceAnswer>)> done) {
  v1::SubscriberCommand command;
  const uint64_t request_id = next_request_id_++;
  command.set_request_id(request_id);
  *command.mutable_presence() = query;
  pending_presence_[request_id] = {options_.clock->Now() + options_.receipt_timeout,
                                   std::move(done)};
  SendCommand(command);
}

void Link::SeeEpoch(uint64_t epoch, uint64_t sequence) {
  if (epoch == 0) return;
  if (epoch != epoch_) {
    epoch_ = epoch;
    last_sequence_ = sequence;
  } else {
    last_sequence_ = std::max(last_sequence_, sequence);
  }
}

bool Link::TrackDelivery(const v1::Delivery& header) {
  SeeEpoch(header.epoch(), header.sequence());
  bool advanced = false;
  for (const v1::TopicOffset& entry : header.offsets()) {
    key_scratch_.clear();
    wire::AppendTopicKey(wire::ToRef(entry.topic()), key_scratch_);
    auto it = subscriptions_.find(key_scratch_);
    if (it == subscriptions_.end()) continue;
    Subscription& subscription = it->second;
    if (!subscription.has_position || subscription.epoch != header.epoch() ||
        entry.offset() > subscription.offset) {
      subscription.has_position = true;
      subscription.epoch = header.epoch();
      subscription.offset = entry.offset();
      advanced = true;
    }
  }
  return advanced;
}

void Link::SeeCurrentOffsets(const v1::Reply& reply) {
  if (reply.epoch() == 0) return;
  for (const v1::TopicOffset& current : reply.current()) {
    key_scratch_.clear();
    wire::AppendTopicKey(wire::ToRef(current.topic()), key_scratch_);
    auto it = subscriptions_.find(key_scratch_);
    // A position from a delivery or a Subscribe `from` is at least as new.
    if (it == subscriptions_.end() || it->second.has_position) continue;
    it->second.has_position = true;
    it->second.epoch = reply.epoch();
    it->second.offset = current.offset();
  }
}

void Link::Unsubscribe(const wire::TopicRef& topic) {
  if (subscriptions_.erase(wire::EncodeTopicKey(topic)) == 0) return;
  v1::SubscriberCommand command;
  *command.mutable_unsubscribe()->add_topics() = wire::ToProto(topic);
  SendCommand(command);
}

bool Link::subscribed(const wire::TopicRef& topic) const {
  return subscriptions_.contains(wire::EncodeTopicKey(topic));
}

absl::Status Link::Publish(v1::Envelope envelope,
                           std::function<void(absl::StatusOr<v1::PublishReceipt>)> on_receipt) {
  if (envelope.version() == v1::VERSION_UNSPECIFIED) envelope.set_version(v1::VERSION_1);
  if (envelope.origin().empty()) envelope.set_origin(node_id_);
  if (envelope.message_id() == 0) {
    envelope.set_message_id(next_message_id_++);
  } else {
    next_message_id_ = std::max(next_message_id_, envelope.message_id() + 1);
  }
  if (envelope.timestamp_us() == 0)
    envelope.set_timestamp_us(MicrosSinceEpoch(options_.clock->WallNow()));
  if (on_receipt) envelope.set_confirm(true);

  zmq::message_t message(envelope.ByteSizeLong());
  envelope.SerializeWithCachedSizesToArray(static_cast<uint8_t*>(message.data()));
  try {
    if (!pub_.send(message, zmq::send_flags::dontwait)) {
      ++stats_.refused_full;
      return absl::ResourceExhaustedError("broker send queue full (send_hwm)");
    }
  } catch (const zmq::error_t& e) {
    return absl::UnavailableError(absl::StrCat("cannot publish: ", e.what()));
  }
  ++stats_.published;
  if (on_receipt) {
    pending_receipts_[envelope.message_id()] = {options_.clock->Now() + options_.receipt_timeout,
                                                std::move(on_receipt)};
  }
  return absl::OkStatus();
}

absl::Status Link::Poll(std::chrono::milliseconds timeout, std::span<zmq::pollitem_t> extra) {
  constexpr size_t kOwn = 3;
  zmq::pollitem_t items_storage[kOwn + 8];
  std::vector<zmq::pollitem_t> items_heap;
  zmq::pollitem_t* items = items_storage;
  const size_t count = kOwn + extra.size();
  if (count > std::size(items_storage)) {
    items_heap.resize(count);
    items = items_heap.data();
  }
  items[0] = {pub_.handle(), 0, ZMQ_POLLIN, 0};
  items[1] = {sub_.handle(), 0, ZMQ_POLLIN, 0};
  items[2] = {monitor_.handle(), 0, ZMQ_POLLIN, 0};
  for (size_t i = 0; i < extra.size(); ++i) {
    items[kOwn + i] = extra[i];
    items[kOwn + i].revents = 0;
  }

  const auto now = options_.clock->Now();
  // Sleep until the caller's timeout or our next timer, whichever is first
  // (+1 ms so the timer is due when we wake).
  timeout = std::max(timeout, std::chrono::milliseconds(0));
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(NextTimer() - now);
  wait = std::clamp(wait + std::chrono::milliseconds(1), std::chrono::milliseconds(0), timeout);
  try {
    zmq::poll(items, count, wait);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) return absl::InternalError(absl::StrCat("zmq_poll: ", e.what()));
    for (size_t i = 0; i < count; ++i) items[i].revents = 0;
  }
  for (size_t i = 0; i < extra.size(); ++i) extra[i].revents = items[kOwn + i].revents;

  if (items[2].revents & ZMQ_POLLIN) HandleMonitorReadable();
  if (items[1].revents & ZMQ_POLLIN) HandleSubReadable();
  if (items[0].revents & ZMQ_POLLIN) HandlePubReadable();
  RunTimers(options_.clock->Now());
  return absl::OkStatus();
}

void Link::HandleMonitorReadable() {
  for (int i = 0; i < kMaxReadsPerPoll && monitor_.handle() != nullptr; ++i) {
    zmq::message_t event_frame;
    try {
      if (!monitor_.recv(event_frame, zmq::recv_flags::dontwait)) return;
      // Frame 2 (the endpoint) is always there; drain it.
      while (monitor_.get(zmq::sockopt::rcvmore)) {
        zmq::message_t rest;
        (void)monitor_.recv(rest, zmq::recv_flags::dontwait);
      }
    } catch (const zmq::error_t&) {
      return;
    }
    if (event_frame.size() < 6) continue;
    uint16_t event = 0;
    std::memcpy(&event, event_frame.data(), sizeof(event));
    if (event == ZMQ_EVENT_CONNECT_RETRIED) {
      zmq_retrying_ = true;
    } else if (event == ZMQ_EVENT_CONNECTED) {
      zmq_retrying_ = true;
      if (tcp_connected_) continue;
      tcp_connected_ = true;
      ++connections_;
      if (connections_ > 1) ++stats_.reconnects;
      spdlog::info("roomq link {}: connected to broker {}, sending hello and {} subscriptions",
                   node_id_, sub_endpoints_[broker_], subscriptions_.size());
      // Silence is measured from here so a fresh connection gets its full
      // grace period.
      last_broker_answer_ = options_.clock->Now();
      SendHelloAndSubscriptions();
    } else if (event == ZMQ_EVENT_DISCONNECTED) {
      tcp_connected_ = false;
      // ZeroMQ announces a reconnection attempt (CONNECT_RETRIED) at once
      // unless it gave the connection up.
      zmq_retrying_ = false;
      SetBrokerConnected(false);
    }
  }
}

void Link::HandleSubReadable() {
  // A broker message carries one or more frames (the broker packs a burst's
  // deliveries to this node into one message); every frame is one
  // BrokerFrame, handled on its own in order, so a message cut off by the
  // read limit simply continues on the next Poll().
  zmq::message_t frame;
  for (int i = 0; i < kMaxReadsPerPoll; ++i) {
    try {
      if (!sub_.recv(frame, zmq::recv_flags::dontwait)) return;
    } catch (const zmq::error_t& e) {
      spdlog::warn("roomq link {}: receive from broker failed: {}", node_id_, e.what());
      return;
    }
    HandleBrokerFrame(frame);
  }
}

void Link::HandleBrokerFrame(const zmq::message_t& message) {
  v1::BrokerFrame frame;
  if (!frame.ParseFromArray(message.data(), static_cast<int>(message.size()))) {
    ++stats_.dropped_malformed;
    return;
  }
  switch (frame.frame_case()) {
    case v1::BrokerFrame::kDelivery: {
      v1::Delivery& header = *frame.mutable_delivery();
      if (!header.has_envelope() || header.envelope().version() != v1::VERSION_1) {
        ++stats_.dropped_malformed;
        return;
      }
      last_broker_answer_ = options_.clock->Now();
      const bool advanced = TrackDelivery(header);
      if (header.replayed()) {
        // Already delivered (live, or replayed through another of its
        // rooms): a resume must not hand it out twice.
        if (!advanced) {
          ++stats_.dropped_duplicate;
          return;
        }
        ++stats_.replayed;
      }
      Delivery delivery;
      delivery.envelope.Swap(header.mutable_envelope());
      header.clear_envelope();
      delivery.header = std::move(header);
      ++stats_.delivered;
      handlers_.on_delivery(delivery);
      return;
    }
    case v1::BrokerFrame::kReply: {
      last_broker_answer_ = options_.clock->Now();
      SetBrokerConnected(true);
      const v1::Reply& reply = frame.reply();
      SeeEpoch(reply.epoch(), reply.sequence());  // before the callbacks below run
      SeeCurrentOffsets(reply);
      for (const v1::ResumeResult& result : reply.resumed()) {
        if (result.truncated()) {
          spdlog::info(
              "roomq link {}: resumed {} with a gap (history no longer holds part of it), "
              "{} replayed",
              node_id_, wire::DescribeTopic(wire::ToRef(result.topic())), result.replayed());
        }
        if (handlers_.on_resumed) handlers_.on_resumed(result);
      }
      auto it = pending_replies_.find(reply.request_id());
      if (it == pending_replies_.end() || reply.request_id() == 0) return;
      std::vector<PendingReply> waiting = std::move(it->second);
      pending_replies_.erase(it);
      const absl::Status status =
          reply.ok() ? absl::OkStatus()
                     : absl::InternalError(absl::StrCat("broker refused: ", reply.error()));
      for (auto& pending : waiting) pending.callback(status);
      return;
    }
    case v1::BrokerFrame::kRecovered:
      last_broker_answer_ = options_.clock->Now();
      HandleRecovered(*frame.mutable_recovered());
      return;
    case v1::BrokerFrame::kPresence: {
      last_broker_answer_ = options_.clock->Now();
      auto it = pending_presence_.find(frame.presence().request_id());
      if (it == pending_presence_.end()) return;  // late: it already timed out
      auto callback = std::move(it->second.callback);
      pending_presence_.erase(it);
      callback(std::move(*frame.mutable_presence()));
      return;
    }
    case v1::BrokerFrame::kCloseSocket:
      if (handlers_.on_close_socket) handlers_.on_close_socket(frame.close_socket());
      return;
    case v1::BrokerFrame::kStandby: {
      // This broker of a pair does not serve now (proto/roomq.proto
      // Standby): move to the next one, at most once a heartbeat so that two
      // starting brokers are not tried in a busy loop.
      ++stats_.standby;
      if (sub_endpoints_.size() < 2 || move_due_.has_value()) return;
      const TimePoint now = options_.clock->Now();
      if (now - last_move_ >= options_.heartbeat) {
        MoveToNextBroker(now, absl::StrCat("broker is ", frame.standby().state()));
      } else {
        move_due_ = last_move_ + options_.heartbeat;
      }
      return;
    }
    case v1::BrokerFrame::kPong: {
      last_broker_answer_ = options_.clock->Now();
      ++stats_.pongs;
      SeeEpoch(frame.pong().epoch(), frame.pong().sequence());
      if (frame.pong().known()) {
        SetBrokerConnected(true);
      } else {
        // The broker restarted or expired us: tell it everything again.
        ++stats_.reconnects;
        spdlog::info("roomq link {}: broker does not know this node, resending {} subscriptions",
                     node_id_, subscriptions_.size());
        SendHelloAndSubscriptions();
      }
      return;
    }
    default:
      ++stats_.dropped_malformed;
      return;
  }
}

void Link::HandleRecovered(v1::Recovered& recovered) {
  auto it = pending_recovers_.find(recovered.request_id());
  if (it == pending_recovers_.end()) return;  // late: it already timed out
  auto callback = std::move(it->second.callback);
  pending_recovers_.erase(it);
  if (recovered.ok()) {
    // The broker subscribed this node to every session room; keep them in
    // the set so a reconnection restores them.
    const v1::Session& session = recovered.session();
    for (const std::string& room : session.rooms()) {
      const wire::TopicRef topic = wire::RoomTopic(session.namespace_(), room);
      if (!wire::ValidateTopic(topic).ok()) continue;
      auto [entry, added] = subscriptions_.try_emplace(wire::EncodeTopicKey(topic));
      if (added) entry->second.topic = wire::ToProto(topic);
    }
    for (const v1::Delivery& missed : recovered.missed()) TrackDelivery(missed);
  }
  callback(std::move(recovered));
}

void Link::HandlePubReadable() {
  for (int i = 0; i < kMaxReadsPerPoll; ++i) {
    zmq::message_t message;
    bool more = false;
    try {
      if (!pub_.recv(message, zmq::recv_flags::dontwait)) return;
      more = pub_.get(zmq::sockopt::rcvmore);
      while (pub_.get(zmq::sockopt::rcvmore)) {
        zmq::message_t rest;
        (void)pub_.recv(rest, zmq::recv_flags::none);
      }
    } catch (const zmq::error_t& e) {
      spdlog::warn("roomq link {}: receive from broker failed: {}", node_id_, e.what());
      return;
    }
    v1::PublishReceipt receipt;
    if (more || !receipt.ParseFromArray(message.data(), static_cast<int>(message.size())) ||
        (!receipt.origin().empty() && receipt.origin() != node_id_)) {
      ++stats_.dropped_malformed;
      continue;
    }
    auto it = pending_receipts_.find(receipt.message_id());
    if (it == pending_receipts_.end()) continue;  // late (already timed out) or unconfirmed
    auto callback = std::move(it->second.callback);
    pending_receipts_.erase(it);
    callback(std::move(receipt));
  }
}

void Link::SendPing(TimePoint now) {
  // No Ping while the TCP connection is down: it would wait in the queue,
  // reach a restarted broker before the reconnection's Hello and draw a
  // Pong{known=false}, i.e. a second full re-subscription (and replay).
  if (tcp_connected_) {
    v1::SubscriberCommand ping;
    ping.mutable_ping();
    SendCommand(ping);
    ++stats_.pings;
  }
  next_ping_ = now + options_.heartbeat;
}

Link::TimePoint Link::NextTimer() const {
  TimePoint next = next_ping_;
  next = std::min(next, last_broker_answer_ + kSilentHeartbeats * options_.heartbeat);
  if (!pending_receipts_.empty()) next = std::min(next, pending_receipts_.begin()->second.deadline);
  for (const auto& [id, waiting] : pending_replies_) {
    for (const auto& pending : waiting) next = std::min(next, pending.deadline);
  }
  // Request ids increase with time: the first is the earliest deadline.
  if (!pending_recovers_.empty()) next = std::min(next, pending_recovers_.begin()->second.deadline);
  if (!pending_presence_.empty()) next = std::min(next, pending_presence_.begin()->second.deadline);
  if (move_due_.has_value()) next = std::min(next, *move_due_);
  return next;
}

void Link::RunTimers(TimePoint now) {
  if (now >= next_ping_) SendPing(now);
  if (move_due_.has_value() && now >= *move_due_) MoveToNextBroker(now, "broker is on standby");
  if (now - last_broker_answer_ >= kSilentHeartbeats * options_.heartbeat) {
    SetBrokerConnected(false);
    if (sub_endpoints_.size() > 1) {
      MoveToNextBroker(now, absl::StrCat("broker silent for ", kSilentHeartbeats, " heartbeats"));
    } else if (tcp_connected_ || !zmq_retrying_) {
      // TCP looks up but nothing answers (hung broker, half-open
      // connection), or the connection is gone and ZeroMQ will not try
      // again (it gives a connection up for good after a protocol error,
      // e.g. a frame over max_message_bytes): start over with a fresh socket.
      spdlog::warn("roomq link {}: broker silent for {} heartbeats{}, reconnecting", node_id_,
                   kSilentHeartbeats, tcp_connected_ ? "" : " and its connection given up");
      CloseSubSocket();
      if (absl::Status status = OpenSubSocket(); !status.ok()) {
        spdlog::error("roomq link {}: {}", node_id_, status.ToString());
      }
      ++stats_.reconnects;
    }
    last_broker_answer_ = now;
  }

  // Expired receipts: the map is in deadline order.
  while (!pending_receipts_.empty() && pending_receipts_.begin()->second.deadline <= now) {
    auto callback = std::move(pending_receipts_.begin()->second.callback);
    pending_receipts_.erase(pending_receipts_.begin());
    callback(absl::UnavailableError("broker did not confirm the publish in time"));
  }

  while (!pending_recovers_.empty() && pending_recovers_.begin()->second.deadline <= now) {
    auto callback = std::move(pending_recovers_.begin()->second.callback);
    pending_recovers_.erase(pending_recovers_.begin());
    callback(absl::UnavailableError("broker did not answer the recovery in time"));
  }
  while (!pending_presence_.empty() && pending_presence_.begin()->second.deadline <= now) {
    auto callback = std::move(pending_presence_.begin()->second.callback);
    pending_presence_.erase(pending_presence_.begin());
    callback(absl::UnavailableError("broker did not answer the presence query in time"));
  }

  std::vector<std::function<void(absl::Status)>> expired;
  for (auto it = pending_replies_.begin(); it != pending_replies_.end();) {
    auto& waiting = it->second;
    for (auto pending = waiting.begin(); pending != waiting.end();) {
      if (pending->deadline <= now) {
        expired.push_back(std::move(pending->callback));
        pending = waiting.erase(pending);
      } else {
        ++pending;
      }
    }
    it = waiting.empty() ? pending_replies_.erase(it) : std::next(it);
  }
  for (auto& callback : expired) {
    callback(absl::UnavailableError("broker did not confirm the subscription in time"));
  }
}

}  // namespace roomq::node
