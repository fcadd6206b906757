#ifndef ROOMQ_CLIENTS_LOADGEN_CLIENT_POOL_H_
#define ROOMQ_CLIENTS_LOADGEN_CLIENT_POOL_H_

// The load generator's Socket.IO clients: non-blocking sockets on one epoll
// set, each walking TCP connect -> WebSocket upgrade (the client side of
// proto/websocket/ws_frame.h) -> Engine.IO open -> Socket.IO CONNECT to the
// namespace -> (a receiver with a room) join "r<room>" and its {"ok":true}
// ack -> ready. Every client answers Engine.IO and WebSocket pings. A client
// that fails (refused, closed, malformed input) is closed for good and
// counted: failed before it was ready, dropped after; the first five
// failures are logged.
//
// Bounds: one client's unparsed input is held until a frame completes
// (frames up to 16 MiB); its output queue is unbounded here, so a sender
// checks QueuedBytes first (load_generator.cc bounds publishers).
//
// Thread safety: none; one thread owns the pool, and the EventSink runs on
// it, inside Poll.

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace roomq::loadgen {

// Who a client is; `index` numbers receivers and publishers separately.
struct ClientRole {
  bool publisher = false;
  uint32_t index = 0;
  bool joins = false;  // a receiver that joins room "r<room>" before it is ready
  uint32_t room = 0;
};

class ClientPool {
 public:
  // Every Socket.IO EVENT a receiver gets: the receiver's index and the
  // event's arguments (its JSON array text).
  using EventSink = std::function<void(uint32_t receiver, std::string_view args)>;

  // A pool of no clients yet, connecting to `server` (`host_header` is the
  // HTTP Host of the upgrade request) and to namespace `ns`. Internal when
  // no epoll set can be made.
  static absl::StatusOr<std::unique_ptr<ClientPool>> Open(const sockaddr_in& server,
                                                          std::string_view host_header,
                                                          std::string ns, EventSink on_event);
  ~ClientPool();
  ClientPool(const ClientPool&) = delete;
  ClientPool& operator=(const ClientPool&) = delete;

  // Adds a client, not yet connected; its id is the number of clients
  // added before it. Add them all before the first StartConnect.
  void Add(const ClientRole& role);
  size_t size() const { return clients_.size(); }

  // Starts client `id`'s TCP connect; the rest happens in Poll.
  void StartConnect(size_t id);
  // Waits up to `timeout_ms` for socket events and handles them.
  void Poll(int timeout_ms);

  bool IsReady(size_t id) const;
  // Bytes queued for client `id` that the kernel has not taken yet.
  size_t QueuedBytes(size_t id) const;
  // Sends a Socket.IO EVENT with arguments `args` (a JSON array text) from
  // client `id`; nothing once it is closed.
  void SendEvent(size_t id, std::string_view args);

  // Closes every client that is neither ready nor closed, as failed, with
  // `why` as the logged reason.
  void FailUnready(std::string_view why);
  // Closes every client without counting or logging it.
  void CloseAll();

  int in_flight() const { return in_flight_; }  // connecting, not yet ready or failed
  int ready() const { return ready_; }          // ever became ready
  int failed() const { return failed_; }        // failed before ready
  int dropped() const { return dropped_; }      // failed after ready
  uint64_t pings_answered() const { return pings_; }

 private:
  enum class State {
    kIdle,
    kTcpConnecting,
    kUpgrading,
    kAwaitOpen,
    kAwaitConnect,
    kJoining,
    kReady,
    kClosed
  };

  struct Client {
    ClientRole role;
    int fd = -1;
    State state = State::kIdle;
    bool want_out = false;
    std::string in;
    std::string out;
    size_t out_pos = 0;
  };

  ClientPool(int epoll, const sockaddr_in& server, std::string_view host_header, std::string ns,
             EventSink on_event);

  void OnEvent(Client& c, uint32_t events);
  void OnReadable(Client& c);
  bool ProcessInput(Client& c, std::string_view data, size_t* consumed);
  bool OnText(Client& c, std::string_view text);
  void Send(Client& c, uint8_t opcode, std::string_view payload);
  void Flush(Client& c);
  void UpdateInterest(Client& c);
  void Fail(Client& c, std::string_view why);
  void BecomeReady(Client& c);
  std::string SioPrefix(char type) const;

  const int epoll_;
  const sockaddr_in server_;
  const std::string upgrade_;  // the HTTP upgrade request, the same for all
  const std::string ns_;
  const std::string event_prefix_;  // of a Socket.IO EVENT in ns_: "42" or "42/ns,"
  const EventSink on_event_;
  std::vector<Client> clients_;
  std::string frame_scratch_;
  std::vector<char> read_buf_ = std::vector<char>(1 << 16);
  int in_flight_ = 0;
  int ready_ = 0;
  int failed_ = 0;
  int dropped_ = 0;
  uint64_t pings_ = 0;
  bool closing_ = false;
  int logged_failures_ = 0;
};

}  // namespace roomq::loadgen

#endif  // ROOMQ_CLIENTS_LOADGEN_CLIENT_POOL_H_
