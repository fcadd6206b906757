// libFuzzer target for the Socket.IO decoder (built with -DROOMQ_FUZZ=ON and
// clang). The input is a sequence of Engine.IO messages separated by 0x1e;
// a message starting with 'b' is binary (the rest of it). Besides "never
// crash", it checks a property: every decoded EVENT re-encodes to text that
// decodes to the same namespace, ack id, event name, names and args.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/socketio/packet.h"
#include "proto/base/json.h"

using roomq::gateway::socketio::Decoder;
using roomq::gateway::socketio::EncodeEvent;
using roomq::gateway::socketio::NamedArguments;
using roomq::gateway::socketio::Packet;
using roomq::gateway::socketio::PacketType;

namespace {

constexpr NamedArguments kNamed[] = {{.event = "join", .count = 1},
                                     {.event = "publish", .count = 2}};

// The event's arguments with its names put back in front.
std::string WholeArgs(const Packet& packet) {
  if (packet.names.empty()) return packet.args;
  std::string whole = "[";
  for (const std::string& name : packet.names) {
    if (whole.size() > 1) whole += ',';
    whole += roomq::base::JsonQuote(name);
  }
  std::string_view rest = packet.args;
  size_t inner = rest.find_first_not_of(" \t\n\r", 1);
  if (inner != std::string_view::npos && rest[inner] != ']') {
    whole += ',';
    whole.append(rest.substr(1));
  } else {
    whole += ']';
  }
  return whole;
}

void CheckRoundTrip(const Packet& packet) {
  if (packet.type != PacketType::kEvent) return;
  auto encoded = EncodeEvent(packet.nsp, packet.event, WholeArgs(packet), packet.ack_id);
  Decoder again(Decoder::Limits{}, kNamed);
  auto decoded = again.Add(encoded[0].data, false);
  if (!decoded.ok() || !decoded->has_value()) std::abort();
  const Packet& back = **decoded;
  if (back.nsp != packet.nsp || back.event != packet.event || back.ack_id != packet.ack_id ||
      back.names != packet.names) {
    std::abort();
  }
  // Args may differ in leading whitespace only.
  auto strip = [](std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') out.push_back(c);
    }
    return out;
  };
  if (strip(back.args) != strip(packet.args)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Decoder decoder(Decoder::Limits{}, kNamed);
  while (true) {
    size_t end = input.find('\x1e');
    std::string_view message = input.substr(0, end);
    bool binary = !message.empty() && message[0] == 'b';
    if (binary) message.remove_prefix(1);
    auto result = decoder.Add(message, binary);
    if (!result.ok()) break;  // the connection would be closed here
    if (result->has_value()) CheckRoundTrip(**result);
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  return 0;
}
