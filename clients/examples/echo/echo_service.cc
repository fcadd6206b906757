#include "clients/examples/echo/echo_service.h"

#include <string>

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
    std::string first = "null";
    simdjson::dom::parser parser;
    simdjson::dom::element args;
    if (parser.parse(message.args_json).get(args) == simdjson::SUCCESS && args.is_array() &&
        args.get_array().size() > 0) {
      first = simdjson::minify(args.get_array().at(0).value_unsafe());
    }
    LogIfFailed(ack(Args().Json("\"deleted\"").Json(first)), "ack delete user");
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
