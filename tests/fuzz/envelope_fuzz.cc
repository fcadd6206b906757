// libFuzzer target for what the broker and the Link read from the network:
//   - the envelope route scanner (proto/wire/route.h) the broker routes by,
//     checked against protobuf's own parser: a scan that succeeds means the
//     bytes parse as a v1::Envelope with the same routing fields;
//   - a SubscriberCommand as the broker parses it, with every topic of a
//     Subscribe/Unsubscribe validated and, when valid, turned into a routing
//     key that decodes back to the same topic;
//   - a one-frame BrokerFrame{delivery{envelope}} as the Link parses it, the
//     Envelope then turned into the Socket.IO frame the gateway sends
//     (gateway/socketio/dispatch.h MakeDispatch).
// The first byte picks the entry point, the rest is the input.

#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "gateway/socketio/dispatch.h"
#include "proto/roomq.pb.h"
#include "proto/wire/delivery.h"
#include "proto/wire/route.h"
#include "proto/wire/topic.h"

namespace v1 = roomq::v1;
namespace wire = roomq::wire;

namespace {

void Route(std::string_view input) {
  wire::EnvelopeRoute route;
  if (wire::ScanRouteInto(input, route) != wire::ScanError::kOk) return;
  (void)wire::ScanErrorName(wire::ScanError::kOk);
  // The scanner does not check UTF-8; protobuf's parser does (for string
  // fields), so only compare when protobuf accepts the bytes.
  v1::Envelope envelope;
  if (!envelope.ParseFromArray(input.data(), static_cast<int>(input.size()))) return;
  if (envelope.version() != route.version || envelope.kind() != route.kind ||
      envelope.channel() != route.channel || envelope.namespace_() != route.ns ||
      envelope.node() != route.node || envelope.message_id() != route.message_id ||
      envelope.confirm() != route.confirm) {
    std::abort();
  }
  if (route.channel == v1::CHANNEL_ROOMS) {
    if (static_cast<size_t>(envelope.rooms_size()) != route.rooms.size()) std::abort();
    for (size_t i = 0; i < route.rooms.size(); ++i) {
      if (envelope.rooms(static_cast<int>(i)) != route.rooms[i]) std::abort();
      std::string key = wire::EncodeTopicKey(wire::RoomTopic(route.ns, route.rooms[i]));
      if (!wire::DecodeTopicKey(key).ok()) std::abort();
    }
  }
  // The broker's delivery frame around these bytes reads back as the same
  // envelope.
  std::string delivery = wire::EncodeDeliveryFrame(route.message_id, input);
  v1::BrokerFrame frame;
  if (!frame.ParseFromString(delivery) || !frame.has_delivery() ||
      frame.delivery().epoch() != route.message_id ||
      frame.delivery().envelope().SerializeAsString() != envelope.SerializeAsString()) {
    std::abort();
  }
}

void CheckTopic(const v1::Topic& topic) {
  wire::TopicRef ref = wire::ToRef(topic);
  if (!wire::ValidateTopic(ref).ok()) return;
  std::string key = wire::EncodeTopicKey(ref);
  auto back = wire::DecodeTopicKey(key);
  if (!back.ok() || wire::EncodeTopicKey(*back) != key) std::abort();
  (void)wire::DescribeTopic(ref);
}

void Command(std::string_view input) {
  v1::SubscriberCommand command;
  if (!command.ParseFromArray(input.data(), static_cast<int>(input.size()))) return;
  if (command.has_subscribe()) {
    for (const v1::Topic& topic : command.subscribe().topics()) CheckTopic(topic);
  }
  if (command.has_unsubscribe()) {
    for (const v1::Topic& topic : command.unsubscribe().topics()) CheckTopic(topic);
  }
}

void Delivery(std::string_view input) {
  v1::BrokerFrame frame;
  if (!frame.ParseFromArray(input.data(), static_cast<int>(input.size()))) return;
  if (frame.frame_case() != v1::BrokerFrame::kDelivery) return;
  v1::Delivery& header = *frame.mutable_delivery();
  if (!header.has_envelope() || header.envelope().version() != v1::VERSION_1) return;
  v1::Envelope envelope;
  envelope.Swap(header.mutable_envelope());
  (void)roomq::gateway::socketio::MakeDispatch(std::move(envelope));
}

void TopicKey(std::string_view input) {
  auto topic = wire::DecodeTopicKey(input);
  if (!topic.ok()) return;
  if (wire::ValidateTopic(*topic).ok() && wire::EncodeTopicKey(*topic) != input) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);     // MakeDispatch logs what it drops
    google::protobuf::SetLogHandler(nullptr);  // and protobuf every bad UTF-8 string
    return true;
  }();
  (void)quiet;
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      Route(input);
      break;
    case 1:
      Command(input);
      break;
    case 2:
      Delivery(input);
      break;
    default:
      TopicKey(input);
      break;
  }
  return 0;
}
