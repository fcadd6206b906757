#include "gateway/server/http_connection.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>
#include <string_view>
#include <utility>

#include "gateway/engineio/client_log.h"
#include "gateway/server/static_files.h"

namespace roomq::gateway::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr std::string_view kEnginePath = "/socket.io/";
constexpr std::string_view kClientBundle = "/socket.io/socket.io.min.js";
constexpr std::string_view kClientMap = "/socket.io/socket.io.min.js.map";

std::string Endpoint(const tcp::endpoint& endpoint) {
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

engineio::HttpMethod MethodOf(http::verb verb) {
  switch (verb) {
    case http::verb::get:
      return engineio::HttpMethod::kGet;
    case http::verb::post:
      return engineio::HttpMethod::kPost;
    case http::verb::options:
      return engineio::HttpMethod::kOptions;
    default:
      return engineio::HttpMethod::kOther;
  }
}

}  // namespace

HttpConnection::HttpConnection(tcp::socket socket, size_t shard, engineio::Engine* engine,
                               const GatewayServerOptions* options,
                               std::shared_ptr<HttpConnectionSet> connections)
    : stream_(std::move(socket)),
      shard_(shard),
      engine_(engine),
      options_(options),
      connections_(std::move(connections)) {
  boost::system::error_code ec;
  const tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
  if (ec) {
    remote_ = "?";
  } else {
    remote_ = Endpoint(peer);
    peer_ = peer.address();
  }
}

// Normally Forget() ran already (on the shard thread); this covers teardown.
HttpConnection::~HttpConnection() { Forget(); }

void HttpConnection::Start() {
  if (connections_->draining) {  // accepted just before the shutdown
    CloseSocket();
    return;
  }
  connections_->open.insert(this);
  in_set_ = true;
  open_ = engineio::OpenTransportToken::Acquire();
  ReadHeader();
}

void HttpConnection::Drain() {
  if (awaiting_request_) CloseSocket();  // the pending read ends with operation_aborted
}

void HttpConnection::Forget() {
  if (in_set_) connections_->open.erase(this);
  in_set_ = false;
  open_.Release();
}

void HttpConnection::ReadHeader() {
  if (connections_->draining) {
    CloseSocket();
    return;
  }
  awaiting_request_ = true;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(options_->max_header_bytes));
  body_too_large_ = false;
  stream_.expires_after(options_->http_idle_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void HttpConnection::OnHeader(beast::error_code ec) {
  awaiting_request_ = false;
  if (ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted) {
      if (ec == beast::error::timeout && buffer_.size() > 0) {
        CountError(engineio::TransportError::kRequestTimeout, "request incomplete at timeout");
      } else if (ec == beast::error::timeout && !served_any_) {
        CountError(engineio::TransportError::kIdleTimeout, "no request before the idle timeout");
      }
      CloseSocket();
      return;
    }
    CountError(ec == http::error::header_limit ? engineio::TransportError::kHttpTooLarge
                                               : engineio::TransportError::kHttpMalformed,
               "malformed request: " + ec.message());
    version_ = 11;
    keep_alive_ = false;
    head_ = false;
    engine_path_ = false;
    ReplyStatus(400, "Bad Request\n", true);
    return;
  }
  const auto& req = parser_->get();
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  engine_path_ = path == kEnginePath;
  size_t limit = options_->max_other_body_bytes;
  if (engine_path_) {
    limit = options_->engine.max_payload;
    auto length = parser_->content_length();
    if (length && *length > limit && req.method() == http::verb::post) {
      // Answered without reading the body; the connection closes after.
      body_too_large_ = true;
      Dispatch();
      return;
    }
  }
  parser_->body_limit(limit);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void HttpConnection::OnBody(beast::error_code ec) {
  if (ec) {
    if (ec == http::error::body_limit) {
      CountError(engineio::TransportError::kHttpTooLarge, "request body over the limit");
      keep_alive_ = false;
      ReplyStatus(413, "Payload Too Large\n", true);
      return;
    }
    if (ec == beast::error::timeout) {
      CountError(engineio::TransportError::kRequestTimeout, "request body incomplete at timeout");
    } else if (ec != http::error::end_of_stream && ec != asio::error::eof &&
               ec != asio::error::connection_reset && ec != asio::error::operation_aborted) {
      CountError(engineio::TransportError::kHttpMalformed, "malformed body: " + ec.message());
    }
    CloseSocket();
    return;
  }
  Dispatch();
}

void HttpConnection::Dispatch() {
  served_any_ = true;
  const auto& req = parser_->get();
  version_ = req.version();
  keep_alive_ = req.keep_alive() && !body_too_large_;
  head_ = req.method() == http::verb::head;
  origin_ = std::string(req[http::field::origin]);
  std::string_view target(req.target().data(), req.target().size());
  size_t q = target.find('?');
  std::string path(target.substr(0, q));
  std::string query(q == std::string_view::npos ? std::string_view() : target.substr(q + 1));

  if (engine_path_) {
    if (beast::websocket::is_upgrade(req)) {
      stream_.expires_never();
      if (buffer_.size() > 0) {
        CountError(engineio::TransportError::kWsHandshake, "data after the upgrade request");
        CloseSocket();
        return;
      }
      engine_->HandleUpgrade(shard_, parser_->release(), stream_.release_socket(), remote_);
      Forget();  // after the hand-over, so a same-shard WebSocket is counted first
      return;
    }
    DispatchEngine(query);
    return;
  }
  bool get_like = req.method() == http::verb::get || req.method() == http::verb::head;
  if (path == kClientBundle || path == kClientMap) {
    if (!get_like || options_->client_dir.empty()) {
      ReplyStatus(404, "Not Found\n");
      return;
    }
    ServeFile(options_->client_dir + "/" + std::string(path.substr(kEnginePath.size())), head_);
    return;
  }
  if (path == "/healthz" && get_like) {
    engineio::HttpReply reply;
    reply.content_type = "application/json";
    reply.body = "{\"status\":\"ok\"}";
    Reply(std::move(reply));
    return;
  }
  if (!get_like || options_->static_dir.empty()) {
    ReplyStatus(404, "Not Found\n");
    return;
  }
  auto resolved = ResolveStaticPath(options_->static_dir, path);
  if (!resolved.ok()) {
    if (absl::IsInvalidArgument(resolved.status())) {
      engine_->transport_errors().Record(engineio::TransportError::kHttpBadPath, remote_,
                                         engineio::LogSafe(path));
      ReplyStatus(400, "Bad Request\n");
    } else {
      ReplyStatus(404, "Not Found\n");
    }
    return;
  }
  ServeFile(*resolved, head_);
}

void HttpConnection::DispatchEngine(const std::string& query) {
  const auto& req = parser_->get();
  if (req.method() == http::verb::options) {
    engineio::HttpReply reply;
    reply.status = 204;
    std::string request_headers(req[http::field::access_control_request_headers]);
    reply.headers = engine_->cors().PreflightHeaders(origin_, request_headers);
    reply.cors_included = true;
    Reply(std::move(reply));
    return;
  }
  engineio::EngineRequest request;
  request.method = MethodOf(req.method());
  request.query = query;
  request.origin = origin_;
  request.remote_address = remote_;
  request.peer = peer_;
  // The client address comes from it only behind a trusted proxy
  // (engineio/client_address.h); a namespace middleware sees it as sent.
  request.forwarded_for = engineio::ForwardedFor(req);
  request.user_agent = std::string(req[http::field::user_agent]);
  request.body_too_large = body_too_large_;
  if (!body_too_large_) request.body = std::move(parser_->get().body());
  stream_.expires_never();  // a long-poll may wait up to a ping interval
  engineio::Responder respond = [self = shared_from_this(),
                                 executor = stream_.get_executor()](engineio::HttpReply reply) {
    asio::post(executor,
               [self, reply = std::move(reply)]() mutable { self->Reply(std::move(reply)); });
  };
  engine_->HandleRequest(shard_, std::move(request), std::move(respond));
}

void HttpConnection::ServeFile(const std::string& path, bool head) {
  auto data = ReadFileBounded(path);
  if (!data.ok()) {
    ReplyStatus(404, "Not Found\n");
    return;
  }
  engineio::HttpReply reply;
  reply.content_type = std::string(ContentTypeFor(path));
  reply.headers = StaticFileSecurityHeaders();
  reply.body = *std::move(data);
  Reply(std::move(reply));
}

void HttpConnection::ReplyStatus(unsigned status, std::string body, bool close) {
  engineio::HttpReply reply;
  reply.status = status;
  reply.content_type = "text/plain; charset=utf-8";
  reply.body = std::move(body);
  reply.close_connection = close;
  Reply(std::move(reply));
}

void HttpConnection::Reply(engineio::HttpReply reply) {
  bool keep_alive = keep_alive_ && !reply.close_connection && !connections_->draining;
  response_ = std::make_shared<Response>(static_cast<http::status>(reply.status), version_);
  Response& res = *response_;
  res.set(http::field::server, "roomq-gateway");
  if (!reply.content_type.empty()) res.set(http::field::content_type, reply.content_type);
  if (engine_path_ && !reply.cors_included) {
    for (auto& [name, value] : engine_->cors().ResponseHeaders(origin_)) {
      res.insert(name, value);
    }
  }
  for (auto& [name, value] : reply.headers) res.insert(name, value);
  res.keep_alive(keep_alive);
  size_t length = reply.body.size();
  res.body() = std::move(reply.body);
  res.prepare_payload();
  if (head_) {
    res.body().clear();
    res.content_length(length);
  }
  stream_.expires_after(options_->http_idle_timeout);
  http::async_write(stream_, res,
                    [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                      self->OnWrite(keep_alive, ec);
                    });
}

void HttpConnection::OnWrite(bool keep_alive, beast::error_code ec) {
  response_.reset();
  if (ec || !keep_alive) {
    CloseSocket();
    return;
  }
  ReadHeader();
}

void HttpConnection::CountError(engineio::TransportError reason, const std::string& detail) {
  engine_->transport_errors().Record(reason, remote_, "http: " + detail);
}

void HttpConnection::CloseSocket() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.close();
  Forget();
}

}  // namespace roomq::gateway::server
