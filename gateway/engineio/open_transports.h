#ifndef ROOMQ_GATEWAY_ENGINEIO_OPEN_TRANSPORTS_H_
#define ROOMQ_GATEWAY_ENGINEIO_OPEN_TRANSPORTS_H_

// How many client connections each io thread has open, so a graceful
// shutdown ends as soon as every transport has flushed what it had queued
// and closed, instead of waiting out a fixed grace
// (GatewayServer::WaitForTransportsClosed).
//
// A connection (server::HttpConnection, WebSocketTransport) holds an
// OpenTransportToken from when it runs on its io thread until its socket is
// closed or handed to another owner. Each io thread runs one io_context, so
// the thread-local count is the shard's count (as the flush list in
// websocket_transport.cc).
//
// Thread safety: a count and its tokens are used on their io thread only;
// the one exception is teardown, when the io threads have been joined and
// what is left of their handlers (and tokens) is destroyed on the thread
// destroying the io_contexts. Tokens share ownership of their count, so that
// is memory-safe; a callback from WhenNoneOpen may then run on that thread,
// so it must only touch state it shares (e.g. signal a condition variable
// through a shared_ptr).

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

namespace roomq::gateway::engineio {

class OpenTransports {
 public:
  // The calling thread's count (created on first use).
  static const std::shared_ptr<OpenTransports>& ForThisThread() {
    thread_local const std::shared_ptr<OpenTransports> count = std::make_shared<OpenTransports>();
    return count;
  }

  size_t open() const { return open_; }

  // Runs `done` once no connection is open: now if none is, otherwise when
  // the last token is released. At most one waiter; a later call replaces it.
  void WhenNoneOpen(std::function<void()> done) {
    if (open_ == 0) {
      done();
      return;
    }
    when_none_open_ = std::move(done);
  }

 private:
  friend class OpenTransportToken;

  void Release() {
    if (--open_ == 0 && when_none_open_) {
      std::function<void()> done = std::move(when_none_open_);
      when_none_open_ = nullptr;
      done();
    }
  }

  size_t open_ = 0;
  std::function<void()> when_none_open_;
};

// Counts one open connection on the thread that acquired it until released
// (or destroyed). Move-only; a default-constructed token counts nothing.
class OpenTransportToken {
 public:
  OpenTransportToken() = default;
  OpenTransportToken(OpenTransportToken&& other) noexcept : count_(std::move(other.count_)) {}
  OpenTransportToken& operator=(OpenTransportToken&& other) noexcept {
    if (this != &other) {
      Release();
      count_ = std::move(other.count_);
    }
    return *this;
  }
  ~OpenTransportToken() { Release(); }

  // A token counting one connection on the calling thread.
  static OpenTransportToken Acquire() {
    OpenTransportToken token;
    token.count_ = OpenTransports::ForThisThread();
    ++token.count_->open_;
    return token;
  }

  void Release() {
    if (!count_) return;
    std::shared_ptr<OpenTransports> count = std::move(count_);
    count_.reset();
    count->Release();
  }

 private:
  std::shared_ptr<OpenTransports> count_;
};

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_OPEN_TRANSPORTS_H_
