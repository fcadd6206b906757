#ifndef ROOMQ_GATEWAY_SERVER_HTTP_CONNECTION_H_
#define ROOMQ_GATEWAY_SERVER_HTTP_CONNECTION_H_

// One accepted TCP connection speaking HTTP/1.1 (keep-alive, one request at
// a time). Routes:
//   /socket.io/                 Engine.IO (polling requests, OPTIONS
//                               preflight, WebSocket upgrade -> handed to
//                               the Engine with the socket)
//   /socket.io/socket.io.min.js and .map   the client bundle (client_dir)
//   GET /healthz                200 {"status":"ok"}
// (/metrics is not here: operators get it on --metrics-listen, see
// gateway/server/gateway.h.)
//   anything else               static files from static_dir, else 404
// A malformed request, one that does not arrive in full within
// http_idle_timeout, or a connection that sends nothing that long closes only
// this connection, counted in Engine::transport_errors() (which logs,
// rate-limited).
//
// Graceful shutdown (GatewayServer::Shutdown): once its shard's
// HttpConnectionSet is draining, a connection waiting for a request closes at
// once and one answering a request closes after the answer (no keep-alive).
// It counts as an open transport (engineio/open_transports.h) from Start()
// until its socket closes or is handed to a WebSocket.
//
// Thread safety: lives on its shard thread; Engine answers are posted back
// to it. Keeps itself alive through its pending operations.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "gateway/engineio/engine.h"
#include "gateway/engineio/http_types.h"
#include "gateway/engineio/open_transports.h"
#include "gateway/server/gateway_server_options.h"

namespace roomq::gateway::server {

class HttpConnection;

// The HTTP connections of one shard. Touched on the shard's thread only (a
// connection destroyed at teardown, after the io threads were joined,
// removes itself on the destroying thread; shared ownership keeps the set
// alive for that).
struct HttpConnectionSet {
  std::unordered_set<HttpConnection*> open;  // started, socket still ours
  bool draining = false;                     // shutting down: no keep-alive, no new request
};

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  // `engine` and `options` outlive every connection. `connections` is the
  // set of the connection's shard.
  HttpConnection(boost::asio::ip::tcp::socket socket, size_t shard, engineio::Engine* engine,
                 const GatewayServerOptions* options,
                 std::shared_ptr<HttpConnectionSet> connections);
  ~HttpConnection();
  // Call on the socket's executor.
  void Start();
  // The shard is draining (call on the socket's executor, after setting
  // HttpConnectionSet::draining): closes now when waiting for a request;
  // otherwise the answer under way is the last.
  void Drain();

 private:
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  void ReadHeader();
  void OnHeader(boost::beast::error_code ec);
  void OnBody(boost::beast::error_code ec);
  void Dispatch();
  void DispatchEngine(const std::string& query);
  void ServeFile(const std::string& path, bool head);
  void Reply(engineio::HttpReply reply);
  void ReplyStatus(unsigned status, std::string body, bool close = false);
  void OnWrite(bool keep_alive, boost::beast::error_code ec);
  void CloseSocket();
  // The socket is closed or handed over: no longer open in the set.
  void Forget();
  void CountError(engineio::TransportError reason, const std::string& detail);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::shared_ptr<Response> response_;
  const size_t shard_;
  engineio::Engine* const engine_;
  const GatewayServerOptions* const options_;
  const std::shared_ptr<HttpConnectionSet> connections_;
  engineio::OpenTransportToken open_;  // held from Start() until Forget()
  std::string remote_;                 // "ip:port" of the TCP peer, for logs
  boost::asio::ip::address peer_;      // the TCP peer (unspecified if it was gone at accept)
  // The request being answered.
  std::string origin_;
  bool engine_path_ = false;
  bool keep_alive_ = true;
  bool head_ = false;
  unsigned version_ = 11;
  bool body_too_large_ = false;
  bool served_any_ = false;        // a request was dispatched on this connection
  bool awaiting_request_ = false;  // a header read is pending (between requests)
  bool in_set_ = false;            // in connections_->open
};

}  // namespace roomq::gateway::server

#endif  // ROOMQ_GATEWAY_SERVER_HTTP_CONNECTION_H_
