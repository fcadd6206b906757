#include "gateway/engineio/websocket_transport.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "gateway/engineio/engine.h"

namespace roomq::gateway::engineio {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

// What a parser error is counted as: its close code says which kind it is.
TransportError TransportErrorOf(uint16_t close_code) {
  switch (close_code) {
    case websocket::kWsCloseInvalidPayload:
      return TransportError::kWsBadUtf8;
    case websocket::kWsCloseTooBig:
      return TransportError::kWsTooBig;
    default:
      return TransportError::kWsProtocol;
  }
}

// Pieces per sendmsg (Linux IOV_MAX is 1024); two per frame.
constexpr size_t kMaxIov = 1024;
// Per-thread read scratch; a wakeup reads at most kReadBudget bytes before
// yielding to the other sockets of the thread.
constexpr size_t kScratchSize = size_t{64} * 1024;
constexpr size_t kReadBudget = 4 * kScratchSize;

// The transports with frames queued since the thread's last flush task,
// and whether that task is posted. Each io thread runs one io_context, so
// thread-local state is per shard.
struct FlushList {
  std::vector<std::shared_ptr<WebSocketTransport>> pending;
  std::vector<std::shared_ptr<WebSocketTransport>> running;
};

FlushList& ThreadFlushList() {
  thread_local FlushList list;
  return list;
}

// Spare FIFO buffers of the thread's transports. A transport frees its
// FIFO when it drains, so an idle connection holds none; at a steady rate
// nearly every delivery would then allocate one again (one malloc and free
// per delivery, the only ones on the fan-out path). A drained FIFO's buffer
// waits here instead for the next transport that queues a frame. Bounded:
// at most kMaxSpareQueues buffers of at most kMaxSpareEntries entries each
// (about 1.3 MB per io thread at most).
constexpr size_t kMaxSpareQueues = 1024;
constexpr size_t kMaxSpareEntries = 16;

// A template only because the FIFO's type is private to the transport.
template <typename Queue>
std::vector<Queue>& SpareQueues() {
  thread_local std::vector<Queue> spares;
  return spares;
}

char* ThreadScratch() {
  thread_local std::unique_ptr<char[]> scratch(new char[kScratchSize]);
  return scratch.get();
}

}  // namespace

std::string_view WebSocketTransport::OutFrame::payload() const {
  return shared ? std::string_view((*shared)[shared_part].data) : std::string_view(owned);
}

void WebSocketTransport::Accept(tcp::socket socket, const Request& request, size_t max_payload,
                                std::string remote_address, TransportErrorCounters* errors,
                                WriteCoalescer* coalescer, const AcceptCallback& done) {
  const auto version = request[http::field::sec_websocket_version];
  const auto key = request[http::field::sec_websocket_key];
  const std::string_view key_view(key.data(), key.size());
  if (version != "13" || !websocket::IsValidWsKey(key_view)) {
    if (errors != nullptr) {
      errors->Record(TransportError::kWsHandshake, remote_address,
                     version != "13" ? "unsupported Sec-WebSocket-Version"
                                     : "missing or malformed Sec-WebSocket-Key");
    }
    HttpReply reply;
    reply.content_type = "text/plain";
    if (version != "13") {
      reply.status = 426;
      reply.headers.emplace_back("Sec-WebSocket-Version", "13");
      reply.body = "Upgrade Required";
    } else {
      reply.status = 400;
      reply.body = "Bad Request";
    }
    WriteReplyAndClose(std::move(socket), std::move(reply));
    done(nullptr);
    return;
  }
  auto transport = std::make_shared<WebSocketTransport>(
      std::move(socket), max_payload, std::move(remote_address), errors, coalescer);
  OutFrame answer;
  answer.owned =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      websocket::WsAcceptKey(key_view) + "\r\nServer: roomq-gateway\r\n\r\n";
  transport->Enqueue(std::move(answer));
  done(std::move(transport));
}

WebSocketTransport::WebSocketTransport(tcp::socket socket, size_t max_payload,
                                       std::string remote_address, TransportErrorCounters* errors,
                                       WriteCoalescer* coalescer)
    : socket_(std::move(socket)),
      remote_address_(std::move(remote_address)),
      errors_(errors),
      coalescer_(coalescer),
      parser_(max_payload) {
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);
}

WebSocketTransport::~WebSocketTransport() = default;

void WebSocketTransport::SetHandler(std::weak_ptr<WebSocketHandler> handler) {
  handler_ = std::move(handler);
  if (!notified_) StartReading();
}

// --- writing ------------------------------------------------------------------

void WebSocketTransport::Write(WsFrame frame) {
  if (notified_ || close_queued_ || closed_) return;
  OutFrame out;
  const std::string& data = frame.shared ? (*frame.shared)[frame.shared_part].data : frame.owned;
  const size_t length = data.size() + (frame.prefix != 0 ? 1 : 0);
  out.head_size = static_cast<uint8_t>(websocket::EncodeWsHeader(
      frame.binary ? websocket::kWsOpBinary : websocket::kWsOpText, length, out.head));
  if (frame.prefix != 0) out.head[out.head_size++] = frame.prefix;
  out.accounted = frame.accounted;
  out.shared = std::move(frame.shared);
  out.shared_part = frame.shared_part;
  out.owned = std::move(frame.owned);
  Enqueue(std::move(out));
}

void WebSocketTransport::Enqueue(OutFrame frame) {
  if (closed_ || close_queued_) return;
  PushFrame(std::move(frame));
  MarkDirty();
}

void WebSocketTransport::PushFrame(OutFrame frame) {
  if (out_.capacity() == 0) {
    auto& spares = SpareQueues<std::vector<OutFrame>>();
    if (!spares.empty()) {
      out_.swap(spares.back());
      spares.pop_back();
    }
  }
  out_.push_back(std::move(frame));
}

void WebSocketTransport::ReleaseQueue() {
  out_.clear();
  out_head_ = 0;
  front_offset_ = 0;
  auto& spares = SpareQueues<std::vector<OutFrame>>();
  if (out_.capacity() > 0 && out_.capacity() <= kMaxSpareEntries &&
      spares.size() < kMaxSpareQueues) {
    if (spares.capacity() == 0) spares.reserve(kMaxSpareQueues);
    spares.push_back(std::move(out_));
  }
  std::vector<OutFrame>().swap(out_);  // no queue memory while idle
}

void WebSocketTransport::MarkDirty() {
  if (dirty_ || waiting_writable_ || closed_) return;
  dirty_ = true;
  if (coalescer_ != nullptr && !coalescer_->stopped()) {
    coalescer_->Add(shared_from_this());
    return;
  }
  FlushList& list = ThreadFlushList();
  list.pending.push_back(shared_from_this());
  if (list.pending.size() == 1) asio::post(socket_.get_executor(), [] { FlushDirty(); });
}

void WebSocketTransport::FlushDirty() {
  FlushList& list = ThreadFlushList();
  list.running.swap(list.pending);
  for (auto& transport : list.running) transport->FlushNow();
  list.running.clear();
}

void WebSocketTransport::FlushNow() {
  dirty_ = false;
  if (closed_ || waiting_writable_) return;
  auto self = shared_from_this();
  size_t written_accounted = 0;
  while (out_head_ < out_.size()) {
    iovec iov[kMaxIov];
    size_t count = 0;
    size_t requested = 0;
    for (size_t i = out_head_; i < out_.size() && count + 2 <= kMaxIov; ++i) {
      const OutFrame& frame = out_[i];
      size_t skip = i == out_head_ ? front_offset_ : 0;
      if (skip < frame.head_size) {
        iov[count++] = {const_cast<char*>(frame.head + skip), frame.head_size - skip};
        requested += frame.head_size - skip;
        skip = 0;
      } else {
        skip -= frame.head_size;
      }
      const std::string_view body = frame.payload();
      if (body.size() > skip) {
        iov[count++] = {const_cast<char*>(body.data() + skip), body.size() - skip};
        requested += body.size() - skip;
      }
    }
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = count;
    const ssize_t sent = ::sendmsg(socket_.native_handle(), &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      spdlog::debug("websocket {}: write failed: {}", remote_address_, std::strerror(errno));
      NotifyClosed("transport error");
      CloseSocket();
      return;
    }
    size_t left = static_cast<size_t>(sent);
    while (left > 0 && out_head_ < out_.size()) {
      OutFrame& frame = out_[out_head_];
      const size_t remaining = frame.head_size + frame.payload().size() - front_offset_;
      if (left < remaining) {
        front_offset_ += left;
        left = 0;
        break;
      }
      left -= remaining;
      written_accounted += frame.accounted;
      frame = OutFrame();  // drops the reference to a shared payload now
      ++out_head_;
      front_offset_ = 0;
    }
    if (static_cast<size_t>(sent) < requested) break;  // the kernel buffer is full
  }
  if (written_accounted > 0 && !notified_) {
    if (auto handler = handler_.lock()) handler->OnWsWritten(this, written_accounted);
    if (closed_) return;
  }
  if (out_head_ < out_.size()) {
    CompactQueue();
    WaitWritable();
    return;
  }
  ReleaseQueue();
  if (close_queued_ && !close_sent_) AfterCloseWritten();
}

void WebSocketTransport::CompactQueue() {
  if (out_head_ == 0 || out_head_ < out_.size() / 2) return;
  out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_head_));
  out_head_ = 0;
}

void WebSocketTransport::WaitWritable() {
  waiting_writable_ = true;
  socket_.async_wait(tcp::socket::wait_write,
                     [self = shared_from_this()](boost::system::error_code ec) {
                       self->waiting_writable_ = false;
                       if (ec || self->closed_) return;
                       self->FlushNow();
                     });
}

// --- reading ------------------------------------------------------------------

void WebSocketTransport::StartReading() {
  if (reading_ || closed_) return;
  reading_ = true;
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](boost::system::error_code ec) {
                       self->reading_ = false;
                       if (ec || self->closed_) return;
                       self->ReadAvailable();
                     });
}

void WebSocketTransport::ReadAvailable() {
  auto self = shared_from_this();
  char* scratch = ThreadScratch();
  size_t budget = kReadBudget;
  while (!closed_) {
    boost::system::error_code ec;
    const size_t n = socket_.read_some(asio::buffer(scratch, kScratchSize), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec == asio::error::interrupted) continue;
    if (ec) {
      const bool clean = ec == asio::error::eof || ec == asio::error::connection_reset;
      spdlog::debug("websocket {} ended: {}", remote_address_, ec.message());
      NotifyClosed(clean ? "transport close" : "transport error");
      CloseSocket();
      return;
    }
    if (!parser_dead_) {
      bool ok = true;
      if (partial_.empty()) {
        const size_t used = Parse(scratch, n, &ok);
        if (ok && used < n) partial_.assign(scratch + used, n - used);
      } else {
        partial_.append(scratch, n);
        const size_t used = Parse(partial_.data(), partial_.size(), &ok);
        if (ok) partial_.erase(0, used);
      }
      if (!ok || partial_.empty()) std::string().swap(partial_);
    }
    if (n < kScratchSize) break;  // drained (the next wait re-checks readiness)
    if (n >= budget) {
      // Fair to the thread's other sockets: continue in a later turn.
      asio::post(socket_.get_executor(), [self] { self->ReadAvailable(); });
      return;
    }
    budget -= n;
  }
  StartReading();
}

size_t WebSocketTransport::Parse(char* data, size_t size, bool* ok) {
  size_t used = 0;
  while (used < size && *ok) {
    websocket::WsEvent event;
    const size_t n = parser_.Next(data + used, size - used, &event);
    if (event.kind == websocket::WsEvent::Kind::kError) {
      HandleEvent(event, ok);
      break;
    }
    if (n == 0) break;
    used += n;
    if (event.kind != websocket::WsEvent::Kind::kNone) HandleEvent(event, ok);
  }
  return used;
}

void WebSocketTransport::HandleEvent(const websocket::WsEvent& event, bool* ok) {
  switch (event.kind) {
    case websocket::WsEvent::Kind::kNone:
    case websocket::WsEvent::Kind::kPong:
      return;
    case websocket::WsEvent::Kind::kMessage:
      if (close_queued_ || notified_) return;  // closing: input is discarded
      if (auto handler = handler_.lock()) handler->OnWsMessage(this, event.data, event.binary);
      if (closed_) *ok = false;
      return;
    case websocket::WsEvent::Kind::kPing: {
      if (close_queued_ || notified_) return;
      OutFrame pong;
      pong.owned = websocket::EncodeWsFrame(websocket::kWsOpPong, event.data);
      pong.accounted = pong.owned.size() + kControlFrameOverhead;
      // Unanswered without a handler: nobody would count the pong.
      auto handler = handler_.lock();
      if (!handler || !handler->AdmitWsControl(this, pong.accounted)) {
        if (closed_) *ok = false;
        return;
      }
      Enqueue(std::move(pong));
      return;
    }
    case websocket::WsEvent::Kind::kClose:
      parser_dead_ = true;
      peer_closed_ = true;
      *ok = false;
      if (close_sent_) {
        CloseSocket();
        return;
      }
      NotifyClosed("transport close");
      // Echo the peer's code (RFC 6455 5.5.1); AfterCloseWritten closes the
      // socket since the peer already closed.
      SendClose(event.close_code == 1005 ? websocket::kWsCloseNormal : event.close_code, false);
      return;
    case websocket::WsEvent::Kind::kError:
      parser_dead_ = true;
      *ok = false;
      if (errors_ != nullptr) {
        errors_->Record(TransportErrorOf(event.close_code), remote_address_, event.detail);
      } else {
        spdlog::info("websocket {}: {}", remote_address_, event.detail);
      }
      NotifyClosed("transport error");
      SendClose(event.close_code, false);
      return;
  }
}

// --- closing ------------------------------------------------------------------

void WebSocketTransport::Close() {
  if (notified_ || close_queued_ || closed_) return;
  notified_ = true;
  handler_.reset();
  SendClose(websocket::kWsCloseNormal, true);
}

void WebSocketTransport::Abort() {
  handler_.reset();
  notified_ = true;
  CloseSocket();
}

void WebSocketTransport::SendClose(uint16_t code, bool graceful) {
  if (close_queued_ || closed_) return;
  if (!graceful && out_head_ < out_.size()) {
    // Keep only a frame already partly on the wire; it must be completed.
    const size_t keep = front_offset_ > 0 ? out_head_ + 1 : out_head_;
    out_.erase(out_.begin() + static_cast<std::ptrdiff_t>(keep), out_.end());
  }
  OutFrame frame;
  frame.owned = websocket::EncodeWsClose(code);
  PushFrame(std::move(frame));
  close_queued_ = true;
  MarkDirty();
}

void WebSocketTransport::AfterCloseWritten() {
  close_sent_ = true;
  if (peer_closed_) {
    CloseSocket();
    return;
  }
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  linger_timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
  linger_timer_->expires_after(kCloseLinger);
  linger_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->CloseSocket();
  });
  StartReading();  // until the peer's close frame or EOF
}

void WebSocketTransport::NotifyClosed(std::string_view reason) {
  if (notified_) return;
  notified_ = true;
  auto handler = handler_.lock();
  handler_.reset();
  if (handler) handler->OnWsClosed(this, reason);
}

void WebSocketTransport::CloseSocket() {
  if (closed_) return;
  closed_ = true;
  handler_.reset();
  notified_ = true;
  ReleaseQueue();
  // partial_ stays: a message handed to the handler may point into it.
  if (linger_timer_) linger_timer_->cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
  open_.Release();
}

}  // namespace roomq::gateway::engineio
