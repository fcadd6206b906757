#include "gateway/socketio/dispatch.h"

#include <spdlog/spdlog.h>

#include <string_view>
#include <vector>

#include "gateway/socketio/packet.h"

namespace roomq::gateway::socketio {
namespace {

// A cheap shape check of args text from a service (nothing parses it in
// transit): empty, or something that starts with '[' and ends with ']'.
bool ArgsLookLikeArray(std::string_view args) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!args.empty() && space(args.front())) args.remove_prefix(1);
  while (!args.empty() && space(args.back())) args.remove_suffix(1);
  return args.empty() || (args.size() >= 2 && args.front() == '[' && args.back() == ']');
}

std::vector<std::string> TakeAttachments(v1::Envelope& envelope) {
  std::vector<std::string> attachments;
  attachments.reserve(envelope.attachments_size());
  for (std::string& attachment : *envelope.mutable_attachments()) {
    attachments.push_back(std::move(attachment));
  }
  envelope.clear_attachments();
  return attachments;
}

}  // namespace

SharedDispatch MakeDispatch(v1::Envelope envelope, std::string_view offset_arg) {
  auto dispatch = std::make_shared<Dispatch>();
  const bool args_ok = ArgsLookLikeArray(envelope.args());
  switch (envelope.kind()) {
    case v1::KIND_EVENT:
      if (!args_ok) {
        dispatch->deliverable = false;
        spdlog::warn("bridge: dropping event '{}' from {}: args are not a JSON array",
                     envelope.event(), envelope.origin());
      } else if (IsReservedEventName(envelope.event())) {
        dispatch->deliverable = false;
        spdlog::warn("bridge: dropping event from {}: '{}' is a reserved event name",
                     envelope.origin(), envelope.event());
      } else if (!envelope.has_ack_id()) {
        std::string with_offset;
        if (!offset_arg.empty()) with_offset = AppendArg(envelope.args(), offset_arg);
        dispatch->frame = std::make_shared<const engineio::OutboundMessage>(EncodeEvent(
            envelope.namespace_(), envelope.event(),
            offset_arg.empty() ? std::string_view(envelope.args()) : std::string_view(with_offset),
            std::nullopt, TakeAttachments(envelope)));
      }
      break;
    case v1::KIND_ACK:
      if (!args_ok || !envelope.has_ack_id()) {
        dispatch->deliverable = false;
        spdlog::warn("bridge: dropping ack from {}: {}", envelope.origin(),
                     args_ok ? "no ack_id" : "args are not a JSON array");
      } else {
        dispatch->frame = std::make_shared<const engineio::OutboundMessage>(EncodeAck(
            envelope.namespace_(), envelope.ack_id(), envelope.args(), TakeAttachments(envelope)));
      }
      break;
    default:
      break;
  }
  dispatch->envelope = std::move(envelope);
  return dispatch;
}

size_t DispatchBytes(const Dispatch& dispatch) {
  size_t bytes = sizeof(Dispatch) + dispatch.envelope.SpaceUsedLong();
  if (dispatch.frame != nullptr) {
    for (const engineio::OutboundPart& part : *dispatch.frame) {
      bytes += sizeof(part) + part.data.capacity();
    }
  }
  return bytes;
}

}  // namespace roomq::gateway::socketio
