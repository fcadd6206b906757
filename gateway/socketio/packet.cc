#include "gateway/socketio/packet.h"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gateway/engineio/client_log.h"
#include "proto/base/absl_compat.h"
#include "proto/base/json.h"
#include "proto/base/status_macros.h"

namespace roomq::gateway::socketio {
namespace {

constexpr std::array<std::string_view, 6> kReservedEvents = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
};

// One parser per thread: decoding is synchronous, so every connection on a
// shard thread can share it.
simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

size_t SkipSpace(std::string_view text, size_t pos) {
  while (pos < text.size() && IsJsonSpace(text[pos])) ++pos;
  return pos;
}

std::string_view TrimRight(std::string_view text) {
  while (!text.empty() && IsJsonSpace(text.back())) text.remove_suffix(1);
  return text;
}

// `text[pos]` is the opening quote of a string literal in valid JSON;
// returns the index just past its closing quote.
size_t SkipStringLiteral(std::string_view text, size_t pos) {
  ++pos;
  while (pos < text.size()) {
    if (text[pos] == '\\') {
      pos += 2;
    } else if (text[pos] == '"') {
      return pos + 1;
    } else {
      ++pos;
    }
  }
  return text.size();
}

// `array` is the text of a valid JSON array whose first `n` elements are
// strings. Returns the array of the remaining elements ("[]" when none).
std::string RestAfterLeadingStrings(std::string_view array, size_t n) {
  array = TrimRight(array);
  size_t pos = SkipSpace(array, 0) + 1;  // past '['
  for (size_t i = 0; i < n; ++i) {
    pos = SkipSpace(array, pos);
    pos = SkipStringLiteral(array, pos);
    pos = SkipSpace(array, pos);
    if (pos >= array.size() || array[pos] == ']') return "[]";
    ++pos;  // past ','
  }
  std::string rest;
  rest.reserve(array.size() - pos + 1);
  rest.push_back('[');
  rest.append(array.substr(pos));
  return rest;
}

// The `count` string elements after the first of `array` (the event
// name), or none unless all `count` are strings.
std::vector<std::string> TakeNames(simdjson::dom::array array, size_t count) {
  std::vector<std::string> names;
  if (count == 0) return names;
  names.reserve(count);
  bool first = true;
  for (simdjson::dom::element element : array) {
    if (first) {
      first = false;
      continue;
    }
    if (names.size() == count) break;
    std::string_view value;
    if (element.get_string().get(value)) break;
    names.emplace_back(value);
  }
  if (names.size() < count) names.clear();
  return names;
}

absl::Status Invalid(std::string_view what) { return absl::InvalidArgumentError(ToAbsl(what)); }

// Checks every {"_placeholder":true,"num":N} below `element`: N must be an
// integer in [0, attachments).
absl::Status CheckPlaceholders(simdjson::dom::element element, size_t attachments) {
  switch (element.type()) {
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array array;
      if (element.get_array().get(array)) return Invalid("bad array");
      for (simdjson::dom::element child : array) {
        ROOMQ_RETURN_IF_ERROR(CheckPlaceholders(child, attachments));
      }
      return absl::OkStatus();
    }
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object object;
      if (element.get_object().get(object)) return Invalid("bad object");
      bool placeholder = false;
      if (object["_placeholder"].get(placeholder) == simdjson::SUCCESS && placeholder) {
        simdjson::dom::element num;
        if (object["num"].get(num)) return Invalid("placeholder without num");
        uint64_t index = 0;
        if (num.get_uint64().get(index) || index >= attachments) {
          return Invalid("placeholder num out of range of the attachments");
        }
        return absl::OkStatus();
      }
      for (auto field : object) {
        ROOMQ_RETURN_IF_ERROR(CheckPlaceholders(field.value, attachments));
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

void AppendHeader(std::string& out, PacketType type, size_t attachments, std::string_view nsp,
                  std::optional<uint64_t> ack_id) {
  out.push_back(static_cast<char>('0' + static_cast<int>(type)));
  if (type == PacketType::kBinaryEvent || type == PacketType::kBinaryAck) {
    absl::StrAppend(&out, attachments, "-");
  }
  if (!nsp.empty() && nsp != "/") {
    out.append(nsp);
    out.push_back(',');
  }
  if (ack_id.has_value()) absl::StrAppend(&out, *ack_id);
}

engineio::OutboundMessage WithAttachments(std::string text, std::vector<std::string> attachments) {
  engineio::OutboundMessage message;
  message.reserve(1 + attachments.size());
  message.push_back({false, std::move(text)});
  for (std::string& attachment : attachments) message.push_back({true, std::move(attachment)});
  return message;
}

}  // namespace

std::string_view PacketTypeName(PacketType type) {
  switch (type) {
    case PacketType::kConnect:
      return "CONNECT";
    case PacketType::kDisconnect:
      return "DISCONNECT";
    case PacketType::kEvent:
      return "EVENT";
    case PacketType::kAck:
      return "ACK";
    case PacketType::kConnectError:
      return "CONNECT_ERROR";
    case PacketType::kBinaryEvent:
      return "BINARY_EVENT";
    case PacketType::kBinaryAck:
      return "BINARY_ACK";
  }
  return "UNKNOWN";
}

bool IsReservedEventName(std::string_view name) {
  for (std::string_view reserved : kReservedEvents) {
    if (name == reserved) return true;
  }
  return false;
}

absl::StatusOr<std::optional<Packet>> Decoder::Add(std::string_view data, bool binary) {
  if (binary) {
    if (!pending_.has_value()) return Invalid("binary message while no binary packet is pending");
    pending_bytes_ += data.size();
    if (pending_bytes_ > limits_.max_packet_bytes) {
      pending_.reset();
      return absl::ResourceExhaustedError(absl::StrCat(
          "a binary packet of more than ", limits_.max_packet_bytes, " bytes (--max-event-bytes)"));
    }
    pending_->attachments.emplace_back(data);
    if (pending_->attachments.size() < pending_count_) return std::optional<Packet>();
    std::optional<Packet> done = std::move(pending_);
    pending_.reset();
    return done;
  }
  if (pending_.has_value()) return Invalid("text message while binary attachments are pending");
  ROOMQ_ASSIGN_OR_RETURN(Packet packet, DecodeText(data));
  if ((packet.type == PacketType::kBinaryEvent || packet.type == PacketType::kBinaryAck) &&
      pending_count_ > 0) {
    packet.attachments.reserve(pending_count_);
    pending_ = std::move(packet);
    pending_bytes_ = data.size();
    return std::optional<Packet>();
  }
  return std::optional<Packet>(std::move(packet));
}

size_t Decoder::NamesOf(std::string_view event) const {
  for (const NamedArguments& named : named_) {
    if (named.event == event) return named.count;
  }
  return 0;
}

absl::StatusOr<Packet> Decoder::DecodeText(std::string_view text) {
  if (text.empty()) return Invalid("empty packet");
  if (text[0] < '0' || text[0] > '6') {
    return Invalid(absl::StrCat("unknown packet type ", engineio::LogSafe(text.substr(0, 1))));
  }
  Packet packet;
  packet.type = static_cast<PacketType>(text[0] - '0');
  size_t pos = 1;
  size_t attachments = 0;
  pending_count_ = 0;
  const bool is_binary =
      packet.type == PacketType::kBinaryEvent || packet.type == PacketType::kBinaryAck;
  if (is_binary) {
    size_t start = pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    if (pos == start || pos >= text.size() || text[pos] != '-' || pos - start > 6) {
      return Invalid("illegal attachments count");
    }
    std::from_chars(text.data() + start, text.data() + pos, attachments);
    if (attachments == 0) return Invalid("illegal attachments count 0");
    if (attachments > limits_.max_attachments) {
      return Invalid(
          absl::StrCat("too many attachments (", attachments, " > ", limits_.max_attachments, ")"));
    }
    ++pos;  // past '-'
  }
  if (pos < text.size() && text[pos] == '/') {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) {
      packet.nsp = std::string(text.substr(pos));
      pos = text.size();
    } else {
      packet.nsp = std::string(text.substr(pos, comma - pos));
      pos = comma + 1;
    }
  }
  if (pos < text.size() && IsDigit(text[pos])) {
    size_t start = pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    uint64_t id = 0;
    if (pos - start > 16 ||
        std::from_chars(text.data() + start, text.data() + pos, id).ec != std::errc() ||
        id > kMaxAckId) {
      return Invalid("ack id out of range");
    }
    packet.ack_id = id;
  }
  ROOMQ_RETURN_IF_ERROR(DecodePayload(text.substr(pos), attachments, packet));
  pending_count_ = attachments;
  return packet;
}

absl::Status Decoder::DecodePayload(std::string_view payload, size_t attachments, Packet& packet) {
  const PacketType type = packet.type;
  if (packet.ack_id.has_value() && type != PacketType::kEvent && type != PacketType::kAck &&
      type != PacketType::kBinaryEvent && type != PacketType::kBinaryAck) {
    return Invalid(absl::StrCat(ToAbsl(PacketTypeName(type)), " with an ack id"));
  }
  if (payload.empty()) {
    switch (type) {
      case PacketType::kConnect:
      case PacketType::kDisconnect:
        return absl::OkStatus();
      case PacketType::kAck:
      case PacketType::kBinaryAck:
        packet.args = "[]";
        return absl::OkStatus();
      default:
        return Invalid(absl::StrCat(ToAbsl(PacketTypeName(type)), " without payload"));
    }
  }
  if (type == PacketType::kDisconnect) return Invalid("DISCONNECT with a payload");
  simdjson::dom::element doc;
  if (ThreadParser().parse(payload.data(), payload.size(), true).get(doc)) {
    return Invalid("payload is not valid JSON");
  }
  switch (type) {
    case PacketType::kConnect:
      if (!doc.is_object()) return Invalid("CONNECT payload is not an object");
      packet.data = std::string(TrimRight(payload));
      return absl::OkStatus();
    case PacketType::kConnectError:
      if (!doc.is_object() && !doc.is_string()) {
        return Invalid("CONNECT_ERROR payload is neither a string nor an object");
      }
      packet.data = std::string(TrimRight(payload));
      return absl::OkStatus();
    case PacketType::kEvent:
    case PacketType::kBinaryEvent: {
      simdjson::dom::array array;
      if (doc.get_array().get(array)) return Invalid("EVENT payload is not an array");
      simdjson::dom::element first;
      if (array.at(0).get(first)) return Invalid("EVENT payload is an empty array");
      std::string_view name;
      if (first.get_string().get(name)) return Invalid("event name is not a string");
      if (IsReservedEventName(name)) {
        return Invalid(absl::StrCat("reserved event name '", ToAbsl(name), "'"));
      }
      if (attachments > 0) ROOMQ_RETURN_IF_ERROR(CheckPlaceholders(doc, attachments));
      packet.event = std::string(name);
      packet.names = TakeNames(array, NamesOf(name));
      packet.args = RestAfterLeadingStrings(payload, 1 + packet.names.size());
      return absl::OkStatus();
    }
    case PacketType::kAck:
    case PacketType::kBinaryAck:
      if (!doc.is_array()) return Invalid("ACK payload is not an array");
      if (attachments > 0) ROOMQ_RETURN_IF_ERROR(CheckPlaceholders(doc, attachments));
      packet.args = std::string(TrimRight(payload));
      return absl::OkStatus();
    case PacketType::kDisconnect:
      break;
  }
  return Invalid("unexpected payload");
}

engineio::OutboundMessage EncodeConnect(std::string_view nsp, std::string_view sid,
                                        std::string_view pid) {
  std::string text;
  AppendHeader(text, PacketType::kConnect, 0, nsp, std::nullopt);
  absl::StrAppend(&text, "{\"sid\":", base::JsonQuote(sid));
  if (!pid.empty()) absl::StrAppend(&text, ",\"pid\":", base::JsonQuote(pid));
  text += '}';
  return WithAttachments(std::move(text), {});
}

std::string AppendArg(std::string_view array, std::string_view value) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!array.empty() && space(array.back())) array.remove_suffix(1);
  if (array.empty()) return absl::StrCat("[", ToAbsl(value), "]");
  array.remove_suffix(1);  // the closing ']'
  std::string_view inside = array.substr(1);
  while (!inside.empty() && space(inside.back())) inside.remove_suffix(1);
  if (inside.empty()) return absl::StrCat("[", ToAbsl(value), "]");
  return absl::StrCat(ToAbsl(array), ",", ToAbsl(value), "]");
}

engineio::OutboundMessage EncodeConnectError(std::string_view nsp, std::string_view message,
                                             std::string_view data_json) {
  std::string text;
  AppendHeader(text, PacketType::kConnectError, 0, nsp, std::nullopt);
  absl::StrAppend(&text, "{\"message\":", base::JsonQuote(message));
  simdjson::dom::element data;
  if (!data_json.empty() &&
      ThreadParser().parse(data_json.data(), data_json.size(), true).get(data) ==
          simdjson::SUCCESS) {
    absl::StrAppend(&text, ",\"data\":", ToAbsl(TrimRight(data_json)));
  }
  absl::StrAppend(&text, "}");
  return WithAttachments(std::move(text), {});
}

engineio::OutboundMessage EncodeDisconnect(std::string_view nsp) {
  std::string text;
  AppendHeader(text, PacketType::kDisconnect, 0, nsp, std::nullopt);
  return WithAttachments(std::move(text), {});
}

engineio::OutboundMessage EncodeEvent(std::string_view nsp, std::string_view event,
                                      std::string_view args, std::optional<uint64_t> ack_id,
                                      std::vector<std::string> attachments) {
  std::string quoted = base::JsonQuote(event);
  std::string text;
  text.reserve(16 + nsp.size() + quoted.size() + args.size());
  AppendHeader(text, attachments.empty() ? PacketType::kEvent : PacketType::kBinaryEvent,
               attachments.size(), nsp, ack_id);
  text.push_back('[');
  text.append(quoted);
  size_t first = args.empty() ? 0 : SkipSpace(args, 1);
  if (args.empty() || first >= args.size() || args[first] == ']') {
    text.push_back(']');
  } else {
    text.push_back(',');
    text.append(args.substr(1));
  }
  return WithAttachments(std::move(text), std::move(attachments));
}

engineio::OutboundMessage EncodeAck(std::string_view nsp, uint64_t ack_id, std::string_view args,
                                    std::vector<std::string> attachments) {
  std::string text;
  text.reserve(16 + nsp.size() + args.size());
  AppendHeader(text, attachments.empty() ? PacketType::kAck : PacketType::kBinaryAck,
               attachments.size(), nsp, ack_id);
  text.append(args.empty() ? std::string_view("[]") : args);
  return WithAttachments(std::move(text), std::move(attachments));
}

std::string DescribePacket(const Packet& packet) {
  std::string out = absl::StrCat(ToAbsl(PacketTypeName(packet.type)), " ", packet.nsp);
  if (packet.ack_id.has_value()) absl::StrAppend(&out, " ack ", *packet.ack_id);
  if (!packet.event.empty()) absl::StrAppend(&out, " event '", packet.event, "'");
  if (!packet.attachments.empty()) {
    absl::StrAppend(&out, " +", packet.attachments.size(), " attachments");
  }
  return out;
}

}  // namespace roomq::gateway::socketio
