#include "gateway/engineio/websocket_transport.h"

#include <utility>

#include <boost/asio/buffer.hpp>
#include <spdlog/spdlog.h>

namespace roomq::gateway::engineio {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

void WebSocketTransport::Accept(boost::asio::ip::tcp::socket socket, Request request,
                                size_t max_payload, std::string remote_address,
                                AcceptCallback done) {
  auto transport =
      std::make_shared<WebSocketTransport>(std::move(socket), max_payload, std::move(remote_address));
  auto req = std::make_shared<Request>(std::move(request));
  transport->ws_.async_accept(*req, [transport, req, done = std::move(done)](beast::error_code ec) {
    if (ec) {
      spdlog::info("websocket handshake from {} failed: {}", transport->remote_address_, ec.message());
      done(nullptr);
      return;
    }
    done(transport);
  });
}

WebSocketTransport::WebSocketTransport(boost::asio::ip::tcp::socket socket, size_t max_payload,
                                       std::string remote_address)
    : ws_(std::move(socket)), remote_address_(std::move(remote_address)) {
  websocket::stream_base::timeout timeouts =
      websocket::stream_base::timeout::suggested(beast::role_type::server);
  // Liveness is Engine.IO's heartbeat; Beast only bounds the handshakes.
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  // Bounds the close handshake (e.g. after a protocol violation, Beast sends
  // its close frame and waits for the peer's) so a silent peer cannot keep a
  // dead session around.
  timeouts.handshake_timeout = std::chrono::seconds(5);
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(beast::http::field::server, "roomq-gateway");
  }));
  ws_.read_message_max(max_payload);
  ws_.auto_fragment(false);
}

void WebSocketTransport::SetHandler(std::weak_ptr<WebSocketHandler> handler) {
  handler_ = std::move(handler);
  if (!reading_ && !done_) DoRead();
}

void WebSocketTransport::DoRead() {
  reading_ = true;
  ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, size_t bytes) {
    self->OnRead(ec, bytes);
  });
}

void WebSocketTransport::OnRead(beast::error_code ec, size_t bytes) {
  reading_ = false;
  if (done_) return;
  if (ec) {
    if (ec == websocket::error::closed || ec == boost::asio::error::eof ||
        ec == boost::asio::error::connection_reset) {
      Fail("transport close", ec);
    } else {
      Fail("transport error", ec);
    }
    return;
  }
  auto data = read_buffer_.cdata();
  std::string_view view(static_cast<const char*>(data.data()), data.size());
  bool binary = ws_.got_binary();
  auto handler = handler_.lock();
  if (handler) handler->OnWsMessage(this, view, binary);
  read_buffer_.consume(read_buffer_.size());
  if (!done_) DoRead();
}

void WebSocketTransport::Write(WsFrame frame) {
  if (done_ || closing_) return;
  queue_.push_back(std::move(frame));
  if (!writing_) DoWrite();
}

void WebSocketTransport::DoWrite() {
  if (queue_.empty()) {
    if (closing_ && !done_) {
      done_ = true;
      writing_ = true;
      ws_.async_close(websocket::close_code::normal,
                      [self = shared_from_this()](beast::error_code) {
                        self->writing_ = false;
                        beast::error_code ignored;
                        beast::get_lowest_layer(self->ws_).socket().close(ignored);
                      });
    }
    return;
  }
  writing_ = true;
  const WsFrame& frame = queue_.front();
  const std::string& data = frame.shared ? (*frame.shared)[frame.shared_part].data : frame.owned;
  std::array<boost::asio::const_buffer, 2> buffers = {
      boost::asio::const_buffer(&frame.prefix, frame.prefix != 0 ? 1 : 0),
      boost::asio::buffer(data)};
  ws_.binary(frame.binary);
  ws_.async_write(buffers, [self = shared_from_this()](beast::error_code ec, size_t bytes) {
    self->OnWrite(ec, bytes);
  });
}

void WebSocketTransport::OnWrite(beast::error_code ec, size_t) {
  writing_ = false;
  if (ec || aborted_) {
    queue_.clear();
    if (!done_) Fail("transport error", ec);
    return;
  }
  size_t accounted = queue_.front().accounted;
  queue_.pop_front();
  if (!done_ && accounted > 0) {
    if (auto handler = handler_.lock()) handler->OnWsWritten(this, accounted);
  }
  DoWrite();
}

void WebSocketTransport::Close() {
  if (done_ || closing_) return;
  closing_ = true;
  handler_.reset();
  if (!writing_) DoWrite();
}

void WebSocketTransport::Abort() {
  handler_.reset();
  done_ = true;
  aborted_ = true;
  // A write in flight still references the front frame; OnWrite drops the
  // queue when it completes.
  if (!writing_) queue_.clear();
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

void WebSocketTransport::Fail(std::string_view reason, beast::error_code ec) {
  if (done_) return;
  done_ = true;
  spdlog::debug("websocket {} ended: {} ({})", remote_address_, reason, ec.message());
  auto handler = handler_.lock();
  handler_.reset();
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
  if (handler) handler->OnWsClosed(this, reason);
}

}  // namespace roomq::gateway::engineio
