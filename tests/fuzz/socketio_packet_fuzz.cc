// libFuzzer target for the Socket.IO decoder (built with -DROOMQ_FUZZ=ON and
// clang). The input is a sequence of Engine.IO messages separated by 0x1e;
// a message starting with 'b' is binary (the rest of it). Besides "never
// crash", it checks a property: every decoded EVENT re-encodes to text that
// decodes to the same namespace, ack id, event name and args.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/socketio/packet.h"

using roomq::gateway::socketio::Decoder;
using roomq::gateway::socketio::EncodeEvent;
using roomq::gateway::socketio::Packet;
using roomq::gateway::socketio::PacketType;
using roomq::gateway::socketio::SplitLeadingStrings;

namespace {

void CheckRoundTrip(const Packet& packet) {
  if (packet.type != PacketType::kEvent) return;
  auto encoded = EncodeEvent(packet.nsp, packet.event, packet.args, packet.ack_id);
  Decoder again;
  auto decoded = again.Add(encoded[0].data, false);
  if (!decoded.ok() || !decoded->has_value()) std::abort();
  const Packet& back = **decoded;
  if (back.nsp != packet.nsp || back.event != packet.event || back.ack_id != packet.ack_id) {
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
  (void)SplitLeadingStrings(packet.args, 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Decoder decoder;
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
