#ifndef ROOMQ_GATEWAY_SOCKETIO_PACKET_H_
#define ROOMQ_GATEWAY_SOCKETIO_PACKET_H_

// The Socket.IO v5 packet codec. Pure: no sockets, no clocks, so it can be
// fuzzed and tested on its own.
//
// Text form: <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//   0 CONNECT        payload: the auth object, or absent
//   1 DISCONNECT     no payload
//   2 EVENT          payload: ["event", args...]
//   3 ACK            payload: [args...]
//   4 CONNECT_ERROR  payload: a string or an object (server -> client only)
//   5 BINARY_EVENT   like EVENT, followed by <attachments> binary messages
//   6 BINARY_ACK     like ACK, followed by <attachments> binary messages
// The namespace is "/" when absent. Binary arguments stay in the JSON as
// {"_placeholder":true,"num":N}, N indexing the attachments.
//
// Event arguments are kept as the raw JSON text of an array and are never
// re-serialized: `2["ev",1,{"a":2}]` decodes to event "ev", args
// `[1,{"a":2}]`, and encoding builds the text back by concatenation.
//
// Validation follows the npm socket.io-parser decoder (anything it rejects
// is rejected here; a few of its quirks are stricter here, see Decoder::Add):
// the payload must be valid JSON (checked with simdjson), CONNECT's an object,
// DISCONNECT's absent, EVENT's an array whose first element is a string that
// is not a reserved name, ACK's an array; attachment placeholders must point
// into the announced attachments.
//
// Thread safety: Decoder is a plain value owned by one connection; the
// encode functions are pure. JSON is parsed with one simdjson parser per
// thread (its buffers grow to the largest payload seen), not one per
// connection, so idle connections hold no parser memory.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gateway/engineio/session.h"

namespace roomq::gateway::socketio {

enum class PacketType : uint8_t {
  kConnect = 0,
  kDisconnect = 1,
  kEvent = 2,
  kAck = 3,
  kConnectError = 4,
  kBinaryEvent = 5,
  kBinaryAck = 6,
};

std::string_view PacketTypeName(PacketType type);

// Event names a client may never emit (socket.io-parser's RESERVED_EVENTS).
bool IsReservedEventName(std::string_view name);

// Ack ids above this are rejected (JavaScript's Number.MAX_SAFE_INTEGER: the
// client could not represent a larger id exactly).
inline constexpr uint64_t kMaxAckId = (uint64_t{1} << 53) - 1;

// One decoded packet.
struct Packet {
  PacketType type = PacketType::kConnect;
  std::string nsp = "/";
  std::optional<uint64_t> ack_id;
  // CONNECT: the auth object's JSON text, empty when absent.
  // CONNECT_ERROR: the payload's JSON text.
  std::string data;
  // EVENT / BINARY_EVENT: the event name (unescaped).
  std::string event;
  // EVENT / BINARY_EVENT: the arguments after the name, as a JSON array
  // text ("[]" when none), or after `names` when those were taken.
  // ACK / BINARY_ACK: the payload ("[]" if absent).
  std::string args;
  // EVENT / BINARY_EVENT whose name the decoder was given as a
  // NamedArguments with count N: the first N arguments after the name,
  // unescaped, when all N are strings (`args` then starts after them);
  // empty otherwise.
  std::vector<std::string> names;
  // BINARY_*: the attachments, in order.
  std::vector<std::string> attachments;
};

// An event whose leading arguments are names: roomq's client commands
// (`join` and `leave` take a room, `publish` a room and an event name). The
// decoder takes them out of the one parse that validates the packet, so no
// handler parses the arguments again.
struct NamedArguments {
  std::string_view event;
  size_t count = 0;
};

// Turns Engine.IO messages into packets. A BINARY_EVENT / BINARY_ACK header
// is held until its attachments have arrived.
class Decoder {
 public:
  struct Limits {
    // Attachments one binary packet may announce (default 10, as
    // socket.io-parser's maxAttachments).
    size_t max_attachments = 10;
    // Bytes of one packet: its text plus every binary attachment. Each
    // Engine.IO message is bounded by --max-payload already; this bounds
    // what a binary packet gathers from several of them (and so what the
    // decoder holds while attachments are pending). Default 1,000,000.
    size_t max_packet_bytes = 1000000;
  };

  Decoder() = default;
  // `named` must outlive the decoder (a static table, typically).
  explicit Decoder(Limits limits, absl::Span<const NamedArguments> named = {})
      : limits_(limits), named_(named) {}
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Feeds one Engine.IO message. Returns the completed packet, nullopt while
  // a binary packet waits for more attachments, or InvalidArgument saying
  // what is wrong (the caller closes the connection: "parse error").
  // As socket.io-parser 4.2.7, a BINARY_* header must announce 1 to
  // max_attachments attachments. Stricter than it: the attachment count and
  // ack id must be plain decimal digits, an EVENT needs a string name, and
  // placeholders are checked when the header arrives.
  // ResourceExhausted when the packet grows past max_packet_bytes; the
  // decoder is then unusable (the caller closes the connection).
  absl::StatusOr<std::optional<Packet>> Add(std::string_view data, bool binary);

  bool awaiting_attachments() const { return pending_.has_value(); }

 private:
  absl::StatusOr<Packet> DecodeText(std::string_view text);
  absl::Status DecodePayload(std::string_view payload, size_t attachments, Packet& packet);
  // How many names `event` takes (0 unless it is in named_).
  size_t NamesOf(std::string_view event) const;

  Limits limits_;
  absl::Span<const NamedArguments> named_;
  std::optional<Packet> pending_;  // a binary header waiting for attachments
  size_t pending_count_ = 0;       // attachments it announced
  size_t pending_bytes_ = 0;       // its text and the attachments so far
};

// Encoders. Each returns the Engine.IO message(s) for one packet: a text
// part (without the Engine.IO type byte) followed by the attachments.
// `nsp` "/" is omitted from the text as socket.io does.

// CONNECT answer: 0/ns,{"sid":"<sid>"}, or 0/ns,{"sid":"<sid>","pid":"<pid>"}
// when the namespace offers connection state recovery (`pid` non-empty).
engineio::OutboundMessage EncodeConnect(std::string_view nsp, std::string_view sid,
                                        std::string_view pid = {});
// CONNECT_ERROR: 4/ns,{"message":"<message>"}
// With `data_json` (one JSON value), the client's error gets it as
// err.data; data that is not valid JSON is left out.
engineio::OutboundMessage EncodeConnectError(std::string_view nsp, std::string_view message,
                                             std::string_view data_json = {});
// DISCONNECT: 1/ns,
engineio::OutboundMessage EncodeDisconnect(std::string_view nsp);
// EVENT, or BINARY_EVENT when there are attachments. `args` is a JSON array
// text (empty means "[]"); it is not parsed.
engineio::OutboundMessage EncodeEvent(std::string_view nsp, std::string_view event,
                                      std::string_view args, std::optional<uint64_t> ack_id,
                                      std::vector<std::string> attachments = {});
// ACK, or BINARY_ACK when there are attachments.
engineio::OutboundMessage EncodeAck(std::string_view nsp, uint64_t ack_id, std::string_view args,
                                    std::vector<std::string> attachments = {});

// Appends one JSON value to the JSON array text `array` (empty = "[]"),
// without parsing it: `[1,2]` + `"x"` = `[1,2,"x"]`, `[]` + `"x"` = `["x"]`.
// `array` must be an array text (MakeDispatch checks the shape first).
std::string AppendArg(std::string_view array, std::string_view value);

// The text form of a packet header for logs: `2/chat,12` etc. (no payload).
std::string DescribePacket(const Packet& packet);

}  // namespace roomq::gateway::socketio

#endif  // ROOMQ_GATEWAY_SOCKETIO_PACKET_H_
