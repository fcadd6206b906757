#include "clients/cli/format.h"

#include "absl/strings/escaping.h"
#include "proto/base/absl_compat.h"
#include "proto/base/json.h"

namespace roomq::cli {

std::string FormatMessageLine(const Message& message) {
  std::string out;
  out.reserve(64 + message.ns.size() + message.event.size() + message.args_json.size());
  out += "{\"namespace\":";
  base::AppendJsonString(out, message.ns);
  out += ",\"rooms\":[";
  for (size_t i = 0; i < message.rooms.size(); ++i) {
    if (i > 0) out.push_back(',');
    base::AppendJsonString(out, message.rooms[i]);
  }
  out += "],\"event\":";
  base::AppendJsonString(out, message.event);
  if (base::ValidateJsonArray(message.args_json).ok()) {
    out += ",\"args\":";
    out += message.args_json;
  } else {
    out += ",\"args_text\":";
    base::AppendJsonString(out, message.args_json);
  }
  if (!message.offsets.empty()) {
    // Where the event sits in the broker's history: resume with
    // `roomq sub --epoch E --from-offset N`.
    // The epoch as a string: it is a random 64-bit number, beyond what a
    // JSON number holds exactly in JavaScript.
    out += ",\"epoch\":\"";
    out += std::to_string(message.epoch);
    out += "\",\"offsets\":{";
    for (size_t i = 0; i < message.offsets.size(); ++i) {
      if (i > 0) out.push_back(',');
      base::AppendJsonString(out, message.offsets[i].room);
      out.push_back(':');
      out += std::to_string(message.offsets[i].offset);
    }
    out.push_back('}');
  }
  if (!message.attachments.empty()) {
    out += ",\"attachments\":[";
    for (size_t i = 0; i < message.attachments.size(); ++i) {
      if (i > 0) out.push_back(',');
      out.push_back('"');
      out += absl::Base64Escape(ToAbsl(message.attachments[i]));
      out.push_back('"');
    }
    out.push_back(']');
  }
  out.push_back('}');
  return out;
}

std::string FormatSocketLine(const SocketInfo& socket) {
  std::string out;
  out.reserve(128 + socket.data.size());
  out += "{\"id\":";
  base::AppendJsonString(out, socket.id);
  out += ",\"namespace\":";
  base::AppendJsonString(out, socket.ns);
  out += ",\"rooms\":[";
  for (size_t i = 0; i < socket.rooms.size(); ++i) {
    if (i > 0) out.push_back(',');
    base::AppendJsonString(out, socket.rooms[i]);
  }
  out += "],\"data\":";
  if (socket.data.empty()) {
    out += "null";
  } else if (base::ValidateJsonValue(socket.data).ok()) {
    out += socket.data;
  } else {
    base::AppendJsonString(out, socket.data);
  }
  out += ",\"address\":";
  base::AppendJsonString(out, socket.address);
  out += ",\"userAgent\":";
  base::AppendJsonString(out, socket.user_agent);
  out += ",\"subject\":";
  base::AppendJsonString(out, socket.subject);
  out += ",\"gateway\":";
  base::AppendJsonString(out, socket.gateway);
  out.push_back('}');
  return out;
}

}  // namespace roomq::cli
