#include "proto/base/metrics_listener.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"
#include "proto/base/host_port.h"
#include "proto/base/start_thread.h"
#include "proto/base/status_macros.h"

namespace roomq::base {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kMaxHeaderBytes = size_t{8} * 1024;
constexpr std::chrono::seconds kIoTimeout{5};

// HOST:PORT (host_port.h) whose host is an IP address: the listener binds,
// it never resolves names.
absl::StatusOr<tcp::endpoint> ParseBind(std::string_view bind) {
  absl::StatusOr<HostPort> host_port = ParseHostPort(bind);
  if (!host_port.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address \"", ToAbsl(bind), "\": ", host_port.status().message()));
  }
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host_port->host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address \"", ToAbsl(bind), "\": host must be an IP address"));
  }
  return tcp::endpoint(address, host_port->port);
}

}  // namespace

// Everything the server thread touches. Shared with the `reply` callbacks
// handed to MetricsHandlers::metrics (weakly), so a late reply finds either
// a live listener or nothing.
struct MetricsListener::State : std::enable_shared_from_this<State> {
  explicit State(MetricsHandlers h) : handlers(std::move(h)), acceptor(io), deadline(io) {}

  absl::Status Listen(const tcp::endpoint& endpoint) {
    boost::system::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("metrics: cannot listen on ",
                                                 endpoint.address().to_string(), ":",
                                                 endpoint.port(), ": ", ec.message()));
    }
    return absl::OkStatus();
  }

  // Accepts one connection, serves its one request, then accepts the next.
  void Accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // Out of fds and the like: try again shortly, never spin.
        deadline.expires_after(std::chrono::milliseconds(100));
        deadline.async_wait([this](boost::system::error_code wait_ec) {
          if (!wait_ec) Accept();
        });
        return;
      }
      Serve(std::move(socket));
    });
  }

  void Serve(tcp::socket socket) {
    ++exchange;
    stream.emplace(std::move(socket));
    stream->expires_after(kIoTimeout);
    buffer.clear();
    parser.emplace();
    parser->header_limit(kMaxHeaderBytes);
    parser->body_limit(0);
    http::async_read(*stream, buffer, *parser,
                     [this](boost::system::error_code ec, size_t) { OnRead(ec); });
  }

  void OnRead(boost::system::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout) return Finish();
    response.emplace();
    response->version(11);
    response->set(http::field::server, handlers.server_name);
    response->keep_alive(false);
    if (ec) return Reply(http::status::bad_request, "text/plain", "bad request\n");
    const auto& request = parser->get();
    if (request.method() != http::verb::get) {
      response->set(http::field::allow, "GET");
      return Reply(http::status::method_not_allowed, "text/plain", "method not allowed\n");
    }
    if (request.target() == "/healthz") {
      Health health = handlers.health ? handlers.health() : Health{true, R"({"status":"ok"})"};
      return Reply(health.ok ? http::status::ok : http::status::service_unavailable,
                   "application/json", std::move(health.body));
    }
    if (request.target() != "/metrics" || !handlers.metrics) {
      return Reply(http::status::not_found, "text/plain", "not found; try /metrics or /healthz\n");
    }
    // The answer may come from other threads, or never: wait at most
    // answer_timeout.
    waiting = true;
    stream->expires_never();
    deadline.expires_after(handlers.answer_timeout);
    deadline.async_wait([this, id = exchange](boost::system::error_code wait_ec) {
      if (wait_ec || id != exchange || !waiting) return;
      waiting = false;
      Reply(http::status::service_unavailable, "text/plain", "metrics not ready\n");
    });
    handlers.metrics([weak = weak_from_this(), id = exchange](std::string text) {
      std::shared_ptr<State> self = weak.lock();
      if (self == nullptr) return;
      asio::post(self->io, [weak, id, text = std::move(text)]() mutable {
        std::shared_ptr<State> state = weak.lock();
        if (state == nullptr || id != state->exchange || !state->waiting) return;
        state->waiting = false;
        state->deadline.cancel();
        state->Reply(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", std::move(text));
      });
    });
  }

  void Reply(http::status status, std::string_view content_type, std::string body) {
    response->result(status);
    response->set(http::field::content_type,
                  beast::string_view(content_type.data(), content_type.size()));
    response->body() = std::move(body);
    response->prepare_payload();
    stream->expires_after(kIoTimeout);  // a client that does not read holds no one up
    http::async_write(*stream, *response, [this](boost::system::error_code, size_t) { Finish(); });
  }

  void Finish() {
    boost::system::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->close();
    stream.reset();
    parser.reset();
    response.reset();
    Accept();
  }

  const MetricsHandlers handlers;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::steady_timer deadline;  // the accept retry, or a /metrics answer's wait
  uint64_t exchange = 0;        // the current connection's number
  bool waiting = false;         // a /metrics answer is awaited
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer{kMaxHeaderBytes};
  std::optional<http::request_parser<http::empty_body>> parser;
  std::optional<http::response<http::string_body>> response;
  std::thread thread;
};

MetricsListener::MetricsListener(std::shared_ptr<State> state) : state_(std::move(state)) {}

absl::StatusOr<std::unique_ptr<MetricsListener>> MetricsListener::Start(std::string_view bind,
                                                                        MetricsHandlers handlers) {
  ROOMQ_ASSIGN_OR_RETURN(const tcp::endpoint endpoint, ParseBind(bind));
  auto state = std::make_shared<State>(std::move(handlers));
  ROOMQ_RETURN_IF_ERROR(state->Listen(endpoint));
  std::unique_ptr<MetricsListener> listener(new MetricsListener(state));
  boost::system::error_code ignored;
  const tcp::endpoint bound = state->acceptor.local_endpoint(ignored);
  listener->endpoint_ = bound.address().is_v6()
                            ? absl::StrCat("[", bound.address().to_string(), "]:", bound.port())
                            : absl::StrCat(bound.address().to_string(), ":", bound.port());
  state->Accept();
  state->thread = StartThread([io = &state->io] {
    // A handler that throws would end the thread; the listener then stops
    // answering, and the process (whose real work is elsewhere) goes on.
    try {
      io->run();
    } catch (const std::exception&) {
    }
  });
  return listener;
}

MetricsListener::~MetricsListener() {
  state_->io.stop();
  if (state_->thread.joinable()) state_->thread.join();
  // Close the sockets now, on this thread; a late reply that still holds
  // the state finds no exchange to answer.
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  if (state_->stream.has_value()) state_->stream->close();
  state_->waiting = false;
}

}  // namespace roomq::base
