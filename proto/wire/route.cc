#include "proto/wire/route.h"

#include <climits>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "proto/base/absl_compat.h"

namespace roomq::wire {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// Envelope field numbers the route needs (see roomq.proto).
enum Field : int {
  kVersionField = 1,
  kKindField = 2,
  kChannelField = 3,
  kNamespaceField = 4,
  kRoomsField = 5,
  kNodeField = 6,
  kOriginField = 14,
  kMessageIdField = 15,
  kSocketIdField = 17,
  kServiceFamilyField = 25,
  kConfirmField = 21,
  kAckIdField = 12,
};

constexpr uint32_t Tag(int field, WireFormatLite::WireType type) {
  return (static_cast<uint32_t>(field) << 3) | static_cast<uint32_t>(type);
}

// Reads a length-delimited field as a view into `base`, which the stream reads.
bool ReadView(CodedInputStream& in, const char* base, std::string_view& out) {
  uint32_t length = 0;
  if (!in.ReadVarint32(&length)) return false;
  const int start = in.CurrentPosition();
  if (length > static_cast<uint32_t>(INT_MAX) || !in.Skip(static_cast<int>(length))) return false;
  out = std::string_view(base + start, length);
  return true;
}

bool ReadEnum(CodedInputStream& in, int& out) {
  return WireFormatLite::ReadPrimitive<int, WireFormatLite::TYPE_ENUM>(&in, &out);
}

ScanError Validate(const EnvelopeRoute& route) {
  if (route.version != v1::VERSION_1) return ScanError::kVersion;
  if (route.kind == v1::KIND_UNSPECIFIED || !v1::Kind_IsValid(route.kind)) return ScanError::kKind;
  switch (route.channel) {
    case v1::CHANNEL_ROOMS:
      if (route.rooms.empty()) {
        if (!ValidateTopic(NamespaceTopic(route.ns)).ok()) return ScanError::kTopic;
      }
      for (std::string_view room : route.rooms) {
        if (!ValidateTopic(RoomTopic(route.ns, room)).ok()) return ScanError::kTopic;
      }
      return ScanError::kOk;
    case v1::CHANNEL_SERVICE:
      // The child namespace is still a namespace; the family a pattern.
      if (!ValidateTopic(NamespaceTopic(route.ns)).ok()) return ScanError::kTopic;
      if (!route.service_family.empty() &&
          !ValidateTopic(ServiceTopic(route.service_family)).ok()) {
        return ScanError::kTopic;
      }
      return ScanError::kOk;
    case v1::CHANNEL_NODE:
      return ValidateTopic(NodeTopic(route.node)).ok() ? ScanError::kOk : ScanError::kTopic;
    default:
      return ScanError::kChannel;
  }
}

}  // namespace

std::string_view ScanErrorName(ScanError error) {
  switch (error) {
    case ScanError::kOk:
      return "ok";
    case ScanError::kMalformed:
      return "malformed";
    case ScanError::kVersion:
      return "version";
    case ScanError::kKind:
      return "kind";
    case ScanError::kChannel:
      return "channel";
    case ScanError::kTopic:
      return "topic";
    case ScanError::kTooManyRooms:
      return "too_many_rooms";
  }
  return "unknown";
}

ScanError ScanRouteInto(std::string_view bytes, EnvelopeRoute& route) {
  route.version = v1::VERSION_UNSPECIFIED;
  route.kind = v1::KIND_UNSPECIFIED;
  route.channel = v1::CHANNEL_UNSPECIFIED;
  route.ns = {};
  // erase, not clear: InlinedVector::clear() frees a grown buffer, and the
  // route is reused envelope after envelope.
  route.rooms.erase(route.rooms.begin(), route.rooms.end());
  route.node = {};
  route.origin = {};
  route.message_id = 0;
  route.socket_id = {};
  route.service_family = {};
  route.confirm = false;
  route.has_ack_id = false;
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return ScanError::kMalformed;

  const char* base = bytes.data();
  CodedInputStream in(reinterpret_cast<const uint8_t*>(base), static_cast<int>(bytes.size()));
  bool too_many_rooms = false;
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) {
      // 0 is both "end of input" and an invalid tag; only the first is fine.
      if (!in.ConsumedEntireMessage()) return ScanError::kMalformed;
      break;
    }
    int value = 0;
    std::string_view view;
    switch (tag) {
      case Tag(kVersionField, WireFormatLite::WIRETYPE_VARINT):
        if (!ReadEnum(in, value)) return ScanError::kMalformed;
        route.version = static_cast<v1::Version>(value);
        break;
      case Tag(kKindField, WireFormatLite::WIRETYPE_VARINT):
        if (!ReadEnum(in, value)) return ScanError::kMalformed;
        route.kind = static_cast<v1::Kind>(value);
        break;
      case Tag(kChannelField, WireFormatLite::WIRETYPE_VARINT):
        if (!ReadEnum(in, value)) return ScanError::kMalformed;
        route.channel = static_cast<v1::Channel>(value);
        break;
      case Tag(kNamespaceField, WireFormatLite::WIRETYPE_LENGTH_DELIMITED):
        if (!ReadView(in, base, route.ns)) return ScanError::kMalformed;
        break;
      case Tag(kRoomsField, WireFormatLite::WIRETYPE_LENGTH_DELIMITED):
        if (!ReadView(in, base, view)) return ScanError::kMalformed;
        // Keep scanning so truncation still reports as malformed first.
        if (route.rooms.size() < kMaxRoomsPerEnvelope) {
          route.rooms.push_back(view);
        } else {
          too_many_rooms = true;
        }
        break;
      case Tag(kNodeField, WireFormatLite::WIRETYPE_LENGTH_DELIMITED):
        if (!ReadView(in, base, route.node)) return ScanError::kMalformed;
        break;
      case Tag(kOriginField, WireFormatLite::WIRETYPE_LENGTH_DELIMITED):
        if (!ReadView(in, base, route.origin)) return ScanError::kMalformed;
        break;
      case Tag(kMessageIdField, WireFormatLite::WIRETYPE_VARINT):
        if (!in.ReadVarint64(&route.message_id)) return ScanError::kMalformed;
        break;
      case Tag(kSocketIdField, WireFormatLite::WIRETYPE_LENGTH_DELIMITED):
        if (!ReadView(in, base, route.socket_id)) return ScanError::kMalformed;
        break;
      case Tag(kServiceFamilyField, WireFormatLite::WIRETYPE_LENGTH_DELIMITED):
        if (!ReadView(in, base, route.service_family)) return ScanError::kMalformed;
        break;
      case Tag(kConfirmField, WireFormatLite::WIRETYPE_VARINT): {
        uint64_t flag = 0;
        if (!in.ReadVarint64(&flag)) return ScanError::kMalformed;
        route.confirm = flag != 0;
        break;
      }
      case Tag(kAckIdField, WireFormatLite::WIRETYPE_VARINT): {
        uint64_t ack_id = 0;  // optional: present even when 0
        if (!in.ReadVarint64(&ack_id)) return ScanError::kMalformed;
        route.has_ack_id = true;
        break;
      }
      default:
        // Everything else (and known fields with an unexpected wire type,
        // which protobuf also treats as unknown) is skipped unread.
        if (WireFormatLite::GetTagFieldNumber(tag) == 0 || !WireFormatLite::SkipField(&in, tag)) {
          return ScanError::kMalformed;
        }
        break;
    }
  }
  if (too_many_rooms) return ScanError::kTooManyRooms;
  return Validate(route);
}

absl::StatusOr<EnvelopeRoute> ScanRoute(std::string_view envelope_bytes) {
  EnvelopeRoute route;
  const ScanError error = ScanRouteInto(envelope_bytes, route);
  if (error != ScanError::kOk) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid envelope: ", ToAbsl(ScanErrorName(error))));
  }
  return route;
}

}  // namespace roomq::wire
