#include "clients/examples/echo/echo_service.h"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "simdjson.h"
#include "spdlog/spdlog.h"

namespace roomq::examples {
namespace {

void LogIfFailed(const absl::Status& status, const char* what) {
  if (!status.ok()) spdlog::warn("roomq-echo: {}: {}", what, status.ToString());
}

// The JSON text of `field` of the object `json` ("null" when absent or not
// an object).
std::string JsonField(const std::string& json, const char* field) {
  simdjson::dom::parser parser;
  simdjson::dom::element value;
  if (parser.parse(json).at_key(field).get(value) != simdjson::SUCCESS) return "null";
  return simdjson::minify(value);
}

// The JSON text of an event's first argument ("null" when none).
std::string FirstArgument(const Message& message) {
  simdjson::dom::parser parser;
  simdjson::dom::element args;
  if (parser.parse(message.args_json).get(args) == simdjson::SUCCESS && args.is_array() &&
      args.get_array().size() > 0) {
    return simdjson::minify(args.get_array().at(0).value_unsafe());
  }
  return "null";
}

// The first argument of each answer, as a JSON array.
std::string FirstArguments(const std::vector<Message>& answers) {
  std::string out = "[";
  for (const Message& answer : answers) {
    if (out.size() > 1) out += ",";
    out += FirstArgument(answer);
  }
  return out + "]";
}

// The first argument when it is a string ("" otherwise).
std::string FirstString(const Message& message) {
  simdjson::dom::parser parser;
  simdjson::dom::array args;
  std::string_view text;
  if (parser.parse(message.args_json).get(args) != simdjson::SUCCESS || args.size() == 0 ||
      args.at(0).get(text) != simdjson::SUCCESS) {
    return "";
  }
  return std::string(text);
}

// [{"id":...,"data":...}, ...] of `sockets`. Socket ids are the gateway's
// (base64url), so they need no escaping; data is JSON already.
std::string IdsAndData(const std::vector<SocketInfo>& sockets) {
  std::string out = "[";
  for (const SocketInfo& socket : sockets) {
    if (out.size() > 1) out += ",";
    out += "{\"id\":\"" + socket.id +
           "\",\"data\":" + (socket.data.empty() ? "null" : socket.data) + "}";
  }
  return out + "]";
}

}  // namespace

void ServeAdmin(Client& client, const std::string& ns) {
  Namespace nsp = client.Of(ns);
  nsp.Use([](Handshake& handshake, const Next& next) {
    const std::string role = JsonField(handshake.auth, "role");
    if (role != "\"admin\"") {
      next(Refuse("not authorized", "{\"role\":" + role + "}"));
      return;
    }
    handshake.data = "{\"role\":\"admin\",\"user\":" + JsonField(handshake.auth, "user") + "}";
    next();
  });
  nsp.OnConnection([](RemoteSocket& socket) {
    LogIfFailed(socket.Emit("hello", Args().Json(socket.data())), "emit hello");
  });
  nsp.On("delete user", [](RemoteSocket&, const Message& message, const Ack& ack) {
    if (!ack.requested()) return;
    LogIfFailed(ack(Args().Json("\"deleted\"").Json(FirstArgument(message))), "ack delete user");
  });
  nsp.On("set name", [](RemoteSocket& socket, const Message& message, const Ack& ack) {
    // socket.data.name = name: the whole object is set again.
    LogIfFailed(socket.SetData("{\"role\":" + JsonField(socket.data(), "role") +
                               ",\"user\":" + JsonField(socket.data(), "user") +
                               ",\"name\":" + FirstArgument(message) + "}"),
                "set data");
    if (ack.requested()) LogIfFailed(ack(Args().String("ok")), "ack set name");
  });
  nsp.On("who", [](RemoteSocket& socket, const Message& message, const Ack& ack) {
    if (!ack.requested()) return;
    const std::string room = FirstString(message);
    const BroadcastOperator target = room.empty() ? socket.Nsp() : socket.Nsp().In(room);
    LogIfFailed(target.FetchSockets([ack](absl::StatusOr<std::vector<SocketInfo>> sockets) {
      if (!sockets.ok()) {
        LogIfFailed(sockets.status(), "fetch sockets");
        LogIfFailed(ack(Args().Json("{\"error\":\"presence unavailable\"}")), "ack who");
        return;
      }
      LogIfFailed(ack(Args().Json(IdsAndData(*sockets))), "ack who");
    }),
                "fetch sockets");
  });
  nsp.On("poll", [](RemoteSocket& socket, const Message& message, const Ack& ack) {
    const std::string room = FirstString(message);
    if (!ack.requested() || room.empty()) return;
    LogIfFailed(
        socket.Nsp()
            .To(room)
            .Timeout(std::chrono::milliseconds(1000))
            .EmitWithAck("vote", Args(),
                         [ack](const absl::Status& status, const std::vector<Message>& answers) {
                           LogIfFailed(ack(Args()
                                               .Json(status.ok() ? "null" : "\"timeout\"")
                                               .Json(FirstArguments(answers))),
                                       "ack poll");
                         }),
        "emit vote");
  });
}

void ServeTenants(Client& client, const std::string& pattern) {
  client.OfPattern(pattern).OnConnection([](RemoteSocket& socket) {
    LogIfFailed(socket.Nsp().Emit("hello", Args().String(socket.id())), "emit hello");
  });
}

void ServeEcho(Client& client, const std::string& ns) {
  Namespace nsp = client.Of(ns);
  nsp.OnConnection([](RemoteSocket& socket) {
    LogIfFailed(socket.Emit("auth", Args().Json(socket.auth())), "emit auth");
  });
  nsp.On("message", [](RemoteSocket& socket, const Message& message, const Ack&) {
    LogIfFailed(socket.Emit("message-back", Args::From(message)), "emit message-back");
  });
  nsp.On("message-with-ack", [](RemoteSocket& socket, const Message& message, const Ack& ack) {
    if (ack.requested()) LogIfFailed(ack(Args::From(message)), "ack");
  });
}

}  // namespace roomq::examples
