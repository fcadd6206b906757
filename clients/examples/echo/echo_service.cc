#include "clients/examples/echo/echo_service.h"

#include "spdlog/spdlog.h"

namespace roomq::examples {
namespace {

void LogIfFailed(const absl::Status& status, const char* what) {
  if (!status.ok()) spdlog::warn("roomq-echo: {}: {}", what, status.ToString());
}

}  // namespace

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
