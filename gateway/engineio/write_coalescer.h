#ifndef ROOMQ_GATEWAY_ENGINEIO_WRITE_COALESCER_H_
#define ROOMQ_GATEWAY_ENGINEIO_WRITE_COALESCER_H_

// WriteCoalescer: opt-in write coalescing for one shard's WebSocket
// transports (EngineOptions::write_delay; off by default).
//
// Without it a transport writes what it has queued at the end of the io
// wakeup that queued it: one sendmsg per socket per wakeup. At a steady rate
// of small messages that is one sendmsg (and one wakeup of the client) per
// message per socket, which dominates the server's CPU. With it, the first
// transport of the shard that gets a frame to write starts the shard's
// window; every transport that gets frames during the window is written
// once, with all of them in one sendmsg, when the window ends. A frame thus
// waits up to `delay` longer (what the window trades for fewer syscalls;
// Centrifugo's `write_delay` is the same trade); tests/bench/README.md has the
// measured CPU and p99 for several delays.
//
// Every frame goes through the window, control frames (pongs, close) too,
// so frames never reorder. Frames in a window are still queued for their
// session, so they count against EngineOptions::max_outbound_bytes: a
// session receiving faster than max_outbound_bytes per `delay` is cut off
// as a slow reader would be (the gateway caps the delay at 100 ms).
//
// Shutdown: Stop() writes what the open window holds; from then on the
// shard's transports no longer add themselves (WebSocketTransport::MarkDirty
// asks stopped()) and write at the end of each wakeup as without a
// coalescer, so the close frames of a graceful shutdown are never held back
// by a window.
//
// Thread safety: lives on its shard's thread; Add() is called there, and the
// window's timer fires there. Destroyed with the Engine's shard after the io
// threads stopped.

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <vector>

#include "gateway/engineio/timer_service.h"
#include "proto/base/clock.h"

namespace roomq::gateway::engineio {

class WebSocketTransport;

class WriteCoalescer {
 public:
  // `timers` must outlive the coalescer; `delay` > 0.
  WriteCoalescer(boost::asio::any_io_executor executor, base::Clock::Duration delay,
                 TimerService& timers);
  ~WriteCoalescer();
  WriteCoalescer(const WriteCoalescer&) = delete;
  WriteCoalescer& operator=(const WriteCoalescer&) = delete;

  // `transport` has frames to write: it is written when the current window
  // ends (a window starts now when none is open). The transport adds itself
  // once per window (its dirty flag), and only while !stopped().
  void Add(std::shared_ptr<WebSocketTransport> transport);

  // The shard is shutting down: writes the open window now; no window opens
  // after it.
  void Stop();
  bool stopped() const { return stopped_; }

  // Windows ended so far (each one a timer wakeup of the shard).
  uint64_t windows() const { return windows_; }

 private:
  void EndWindow();

  const boost::asio::any_io_executor executor_;
  const base::Clock::Duration delay_;
  TimerService& timers_;
  std::unique_ptr<Timer> timer_;  // made on the shard's thread at the first Add
  std::vector<std::shared_ptr<WebSocketTransport>> pending_;
  std::vector<std::shared_ptr<WebSocketTransport>> running_;
  uint64_t windows_ = 0;
  bool stopped_ = false;
};

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_WRITE_COALESCER_H_
