#ifndef ROOMQ_PROTO_WIRE_ROUTE_H_
#define ROOMQ_PROTO_WIRE_ROUTE_H_

// The routing fields of an Envelope, read straight from its wire bytes.
//
// The broker routes an envelope without parsing it into a v1::Envelope: it
// scans the bytes once with CodedInputStream, keeps views of the routing
// fields (version, kind, channel, namespace, rooms, node, origin,
// message_id, socket_id, service_family, confirm) and skips everything else (args, attachments,
// ...) without looking inside. No heap allocation for up to kInlineRooms rooms.
//
// Semantics follow protobuf's parser: a singular field seen twice keeps the
// last value, a field with an unexpected wire type is skipped as an unknown
// field, unknown fields are skipped. One deliberate difference: string
// fields are not checked for UTF-8 (room names are opaque bytes here).
//
// Validation (all InvalidArgument):
//   - bytes that are not a well-formed protobuf message (truncated, bad tag,
//     bad varint, a stray end-group);
//   - version != VERSION_1, kind or channel not a known value;
//   - the target topics (wire::ValidateTopic): ROOMS needs a namespace and
//     each room within the limits; SERVICE needs a namespace; NODE needs a
//     node id. Fields the channel does not use (rooms on SERVICE, namespace
//     on NODE, ...) are ignored, as the broker ignores them for routing;
//   - more than kMaxRoomsPerEnvelope rooms.
//
// Thread safety: pure functions. The views in EnvelopeRoute point into the
// scanned bytes and live as long as they do.

#include <cstdint>
#include <string_view>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "proto/roomq.pb.h"
#include "proto/wire/topic.h"

namespace roomq::wire {

// Rooms an envelope may target; more is malformed (keeps one envelope's
// routing cost bounded).
inline constexpr size_t kMaxRoomsPerEnvelope = 1024;
// Rooms stored without a heap allocation.
inline constexpr size_t kInlineRooms = 4;

struct EnvelopeRoute {
  v1::Version version = v1::VERSION_UNSPECIFIED;
  v1::Kind kind = v1::KIND_UNSPECIFIED;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  std::string_view ns;
  absl::InlinedVector<std::string_view, kInlineRooms> rooms;
  std::string_view node;
  std::string_view origin;
  uint64_t message_id = 0;
  std::string_view socket_id;       // picks a SERVICE queue group's member
  std::string_view service_family;  // SERVICE: routes to this family's topic, not ns
  bool confirm = false;
  bool has_ack_id = false;  // ack_id is set (a KIND_EVENT asking for answers)

  // The topic a single target stands for: RoomTopic(ns, rooms[i]) for
  // ROOMS, ServiceTopic(ns), NodeTopic(node). For a ROOMS envelope without
  // rooms, NamespaceTopic(ns) names the namespace-wide broadcast.
  bool namespace_wide() const { return channel == v1::CHANNEL_ROOMS && rooms.empty(); }
  // The namespace or family whose service topics a SERVICE envelope goes to.
  std::string_view service_target() const { return service_family.empty() ? ns : service_family; }
};

// Why a scan failed; stable names for counters and logs.
enum class ScanError : uint8_t {
  kOk = 0,
  kMalformed,     // not a protobuf message
  kVersion,       // version != VERSION_1
  kKind,          // unknown or unspecified kind
  kChannel,       // unknown or unspecified channel
  kTopic,         // a target topic fails ValidateTopic
  kTooManyRooms,  // more than kMaxRoomsPerEnvelope
};
inline constexpr int kScanErrorCount = 7;
// "ok", "malformed", "version", "kind", "channel", "topic", "too_many_rooms".
std::string_view ScanErrorName(ScanError error);

// Scans `envelope_bytes` into `route`, reusing its rooms storage (no
// allocation at all once it has grown). On error `route` holds partial data.
ScanError ScanRouteInto(std::string_view envelope_bytes, EnvelopeRoute& route);

// Convenience form: InvalidArgument with a message naming the ScanError.
absl::StatusOr<EnvelopeRoute> ScanRoute(std::string_view envelope_bytes);

}  // namespace roomq::wire

#endif  // ROOMQ_PROTO_WIRE_ROUTE_H_
