#include "broker/metrics_http.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"
#include "proto/base/status_macros.h"
#include "spdlog/spdlog.h"

namespace roomq::broker {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kMaxHeaderBytes = 8 * 1024;
constexpr std::chrono::seconds kExchangeTimeout{5};

absl::StatusOr<tcp::endpoint> ParseBind(std::string_view bind) {
  const size_t colon = bind.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address \"", ToAbsl(bind), "\" is not HOST:PORT"));
  }
  std::string_view host = bind.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(ToAbsl(bind.substr(colon + 1)), &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address \"", ToAbsl(bind), "\" has a bad port"));
  }
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(std::string(host), ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address \"", ToAbsl(bind), "\": host must be an IP address"));
  }
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

}  // namespace

// Accepts one connection, serves its one request, then accepts the next.
// Lives on the server thread.
class MetricsHttpServer::Acceptor {
 public:
  Acceptor(asio::io_context& io, const StatsSnapshot* snapshot, const security::ZapHandler* curve)
      : acceptor_(io), snapshot_(snapshot), curve_(curve) {}

  absl::Status Listen(const tcp::endpoint& endpoint) {
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("metrics: cannot listen on ",
                                                 endpoint.address().to_string(), ":",
                                                 endpoint.port(), ": ", ec.message()));
    }
    return absl::OkStatus();
  }

  tcp::endpoint local_endpoint() const {
    boost::system::error_code ignored;
    return acceptor_.local_endpoint(ignored);
  }

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {
        // Out of fds and the like: try again shortly, never spin.
        timer_.emplace(acceptor_.get_executor());
        timer_->expires_after(std::chrono::milliseconds(100));
        timer_->async_wait([this](boost::system::error_code wait_ec) {
          if (!wait_ec) Accept();
        });
        return;
      }
      Serve(std::move(socket));
    });
  }

 private:
  void Serve(tcp::socket socket) {
    stream_.emplace(std::move(socket));
    stream_->expires_after(kExchangeTimeout);
    buffer_.clear();
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(0);
    http::async_read(*stream_, buffer_, *parser_,
                     [this](boost::system::error_code ec, size_t) { OnRead(ec); });
  }

  void OnRead(boost::system::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout) return Finish();
    response_.emplace();
    response_->version(11);
    response_->set(http::field::server, "roomq-broker");
    response_->keep_alive(false);
    if (ec) {
      Reply(http::status::bad_request, "text/plain", "bad request\n");
    } else {
      const auto& request = parser_->get();
      if (request.method() != http::verb::get) {
        response_->set(http::field::allow, "GET");
        Reply(http::status::method_not_allowed, "text/plain", "method not allowed\n");
      } else if (request.target() == "/healthz") {
        Health health = CheckHealth(snapshot_->Latest());
        Reply(health.ok ? http::status::ok : http::status::service_unavailable, "application/json",
              std::move(health.body));
      } else if (request.target() != "/metrics") {
        Reply(http::status::not_found, "text/plain", "not found; try /metrics or /healthz\n");
      } else {
        std::chrono::steady_clock::time_point published;
        const BrokerStats stats = snapshot_->Latest(&published);
        const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - published);
        std::optional<CurveCounters> curve;
        if (curve_ != nullptr) {
          curve = CurveCounters{curve_->accepted(), curve_->refused(), curve_->handshake_failed()};
        }
        Reply(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
              FormatPrometheus(stats, age, curve));
      }
    }
    http::async_write(*stream_, *response_,
                      [this](boost::system::error_code, size_t) { Finish(); });
  }

  void Reply(http::status status, std::string_view content_type, std::string body) {
    response_->result(status);
    response_->set(http::field::content_type,
                   beast::string_view(content_type.data(), content_type.size()));
    response_->body() = std::move(body);
    response_->prepare_payload();
  }

  void Finish() {
    boost::system::error_code ignored;
    stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_->close();
    stream_.reset();
    parser_.reset();
    response_.reset();
    Accept();
  }

  tcp::acceptor acceptor_;
  const StatsSnapshot* const snapshot_;
  const security::ZapHandler* const curve_;  // null when CURVE is off
  std::optional<asio::steady_timer> timer_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_{kMaxHeaderBytes};
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
};

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    std::string_view bind, const StatsSnapshot* snapshot, const security::ZapHandler* curve) {
  ROOMQ_ASSIGN_OR_RETURN(const tcp::endpoint endpoint, ParseBind(bind));
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer());
  server->acceptor_ = std::make_unique<Acceptor>(server->io_, snapshot, curve);
  ROOMQ_RETURN_IF_ERROR(server->acceptor_->Listen(endpoint));
  const tcp::endpoint bound = server->acceptor_->local_endpoint();
  server->endpoint_ = bound.address().is_v6()
                          ? absl::StrCat("[", bound.address().to_string(), "]:", bound.port())
                          : absl::StrCat(bound.address().to_string(), ":", bound.port());
  server->acceptor_->Accept();
  server->thread_ = std::thread([io = &server->io_] {
    try {
      io->run();
    } catch (const std::exception& e) {
      spdlog::error("roomq-broker metrics server stopped: {}", e.what());
    }
  });
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
  acceptor_.reset();
}

}  // namespace roomq::broker
