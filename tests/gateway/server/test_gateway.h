#ifndef ROOMQ_TESTS_GATEWAY_SERVER_TEST_GATEWAY_H_
#define ROOMQ_TESTS_GATEWAY_SERVER_TEST_GATEWAY_H_

// In-process gateway for tests: IoShards + GatewayServer on 127.0.0.1:0 with
// a scripted echo SessionListenerFactory, plus blocking Beast clients
// (HTTP and WebSocket), each operation bounded by a deadline.
//
// The echo listener answers every message with the same message, except:
//   "close"        -> Session::Close()
//   "burst:N"      -> sends "m0" .. "m<N-1>"
//   "flood:N:B"    -> sends N messages of B bytes, recording Send statuses

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/engineio/session.h"
#include "gateway/engineio/timer_service.h"
#include "gateway/server/gateway_server.h"
#include "gateway/server/io_shards.h"
#include "proto/base/clock.h"
#include "proto/websocket/ws_frame.h"

namespace roomq::gateway::server::testing {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

// What the listeners saw, readable from the test thread.
class Recorder {
 public:
  struct SessionRecord {
    size_t shard = 0;
    std::thread::id open_thread;
    std::vector<std::pair<std::string, bool>> messages;
    std::vector<std::thread::id> message_threads;
    std::string close_reason;  // empty while open
    std::vector<absl::StatusCode> send_results;
    std::string transport_at_close;
  };

  void Update(const std::string& sid, const std::function<void(SessionRecord&)>& change) {
    absl::MutexLock lock(&mutex_);
    change(sessions_[sid]);
  }
  // Waits (up to 5 s) until `predicate` holds for the session's record.
  bool WaitFor(const std::string& sid, const std::function<bool(const SessionRecord&)>& predicate,
               std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    absl::MutexLock lock(&mutex_);
    auto holds = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
      auto it = sessions_.find(sid);
      return it != sessions_.end() && predicate(it->second);
    };
    return mutex_.AwaitWithTimeout(absl::Condition(&holds), absl::FromChrono(limit));
  }
  bool WaitClosed(const std::string& sid, std::string* reason) {
    bool ok = WaitFor(sid, [](const SessionRecord& r) { return !r.close_reason.empty(); });
    if (ok) *reason = Get(sid).close_reason;
    return ok;
  }
  SessionRecord Get(const std::string& sid) {
    absl::MutexLock lock(&mutex_);
    return sessions_[sid];
  }
  size_t count() {
    absl::MutexLock lock(&mutex_);
    return sessions_.size();
  }

 private:
  absl::Mutex mutex_;
  std::map<std::string, SessionRecord> sessions_ ABSL_GUARDED_BY(mutex_);
};

class EchoListener : public engineio::SessionListener {
 public:
  EchoListener(engineio::Session& session, Recorder* recorder)
      : session_(session), recorder_(recorder), sid_(session.id()) {}

  void OnMessage(std::string_view data, bool binary) override {
    recorder_->Update(sid_, [&](Recorder::SessionRecord& r) {
      r.messages.emplace_back(std::string(data), binary);
      r.message_threads.push_back(std::this_thread::get_id());
    });
    if (!binary && data == "close") {
      session_.Close();
      return;
    }
    if (!binary && data.substr(0, 6) == "burst:") {
      int n = std::stoi(std::string(data.substr(6)));
      for (int i = 0; i < n; ++i) Send("m" + std::to_string(i), false);
      return;
    }
    if (!binary && data.substr(0, 6) == "flood:") {
      std::string spec(data.substr(6));
      int n = std::stoi(spec.substr(0, spec.find(':')));
      int bytes = std::stoi(spec.substr(spec.find(':') + 1));
      for (int i = 0; i < n; ++i) Send(std::string(static_cast<size_t>(bytes), 'x'), false);
      return;
    }
    Send(std::string(data), binary);
  }

  void OnClose(std::string_view reason) override {
    std::string transport(session_.transport());
    recorder_->Update(sid_, [&](Recorder::SessionRecord& r) {
      r.close_reason = std::string(reason);
      r.transport_at_close = transport;
    });
  }

 private:
  void Send(std::string data, bool binary) {
    auto message = std::make_shared<engineio::OutboundMessage>();
    message->push_back(engineio::OutboundPart{binary, std::move(data)});
    absl::Status status = session_.Send(std::move(message));
    recorder_->Update(sid_,
                      [&](Recorder::SessionRecord& r) { r.send_results.push_back(status.code()); });
  }

  engineio::Session& session_;
  Recorder* recorder_;
  std::string sid_;
};

class EchoFactory : public engineio::SessionListenerFactory {
 public:
  explicit EchoFactory(Recorder* recorder) : recorder_(recorder) {}
  std::unique_ptr<engineio::SessionListener> OnSessionOpen(engineio::Session& session,
                                                           size_t shard) override {
    recorder_->Update(session.id(), [&](Recorder::SessionRecord& r) {
      r.shard = shard;
      r.open_thread = std::this_thread::get_id();
    });
    return std::make_unique<EchoListener>(session, recorder_);
  }

 private:
  Recorder* recorder_;
};

struct HttpResult {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::map<std::string, size_t> header_counts;
  std::string body;
  bool ok = false;  // a response arrived
};

// Runs one async operation on `ioc` for at most `limit`; on timeout closes
// `socket` (cancelling the operation) and reports timed_out. Keeps the test
// clients blocking-style yet bounded.
template <class Start>
beast::error_code RunBounded(boost::asio::io_context& ioc, tcp::socket& socket, Start start,
                             std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  beast::error_code result;
  bool done = false;
  start([&](beast::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  ioc.restart();
  ioc.run_for(limit);
  if (!done) {
    beast::error_code ignored;
    socket.close(ignored);
    ioc.restart();
    ioc.run();
    return boost::asio::error::timed_out;
  }
  return result;
}

// One bounded read_some on `socket`: appends what arrived to `out` and
// returns the read's error (timed_out after 5 s).
inline beast::error_code ReadSomeBounded(boost::asio::io_context& ioc, tcp::socket& socket,
                                         std::string& out) {
  char chunk[16384];
  size_t n = 0;
  beast::error_code ec = RunBounded(ioc, socket, [&](auto handler) {
    socket.async_read_some(boost::asio::buffer(chunk),
                           [&n, handler](beast::error_code e, size_t got) mutable {
                             n = got;
                             handler(e);
                           });
  });
  out.append(chunk, n);
  return ec;
}

inline bool ConnectLocal(boost::asio::io_context& ioc, tcp::socket& socket, uint16_t port) {
  tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
  return !RunBounded(ioc, socket, [&](auto handler) { socket.async_connect(endpoint, handler); });
}

// Connects `socket` and makes one GET /healthz on it, leaving an idle
// keep-alive HTTP connection (for shutdown tests); false on any failure or
// when the answer is not a keep-alive 200.
inline bool OpenIdleKeepAlive(boost::asio::io_context& ioc, tcp::socket& socket, uint16_t port) {
  if (!ConnectLocal(ioc, socket, port)) return false;
  const std::string healthz = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  if (RunBounded(ioc, socket, [&](auto handler) {
        boost::asio::async_write(socket, boost::asio::buffer(healthz), handler);
      })) {
    return false;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  if (RunBounded(ioc, socket,
                 [&](auto handler) { http::async_read(socket, buffer, response, handler); })) {
    return false;
  }
  return response.result_int() == 200 && response.keep_alive();
}

// One request on a fresh connection.
inline HttpResult DoRequest(uint16_t port, http::verb verb, const std::string& target,
                            const std::string& body = "",
                            const std::map<std::string, std::string>& headers = {}) {
  HttpResult result;
  boost::asio::io_context ioc;
  tcp::socket socket(ioc);
  if (!ConnectLocal(ioc, socket, port)) return result;
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  for (auto& [name, value] : headers) req.set(name, value);
  if (verb == http::verb::post) req.set(http::field::content_type, "text/plain;charset=UTF-8");
  req.body() = body;
  req.prepare_payload();
  if (RunBounded(ioc, socket, [&](auto handler) { http::async_write(socket, req, handler); })) {
    return result;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.skip(verb == http::verb::head);
  if (RunBounded(ioc, socket,
                 [&](auto handler) { http::async_read(socket, buffer, parser, handler); })) {
    return result;
  }
  const auto& res = parser.get();
  result.ok = true;
  result.status = res.result_int();
  for (auto& field : res) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    result.headers[name] = std::string(field.value());
    ++result.header_counts[name];
  }
  result.body = res.body();
  return result;
}

// Raw bytes to the server; returns everything it answers until it closes
// (or "<not closed: ...>" appended when it does not within 5 s).
inline std::string RawExchange(uint16_t port, const std::string& bytes) {
  boost::asio::io_context ioc;
  tcp::socket socket(ioc);
  if (!ConnectLocal(ioc, socket, port)) return "<connect failed>";
  RunBounded(ioc, socket, [&](auto handler) {
    boost::asio::async_write(socket, boost::asio::buffer(bytes), handler);
  });
  std::string out;
  for (;;) {
    if (beast::error_code ec = ReadSomeBounded(ioc, socket, out)) {
      if (ec != boost::asio::error::eof && ec != boost::asio::error::connection_reset) {
        out += "<not closed: " + ec.message() + ">";
      }
      break;
    }
  }
  return out;
}

inline std::string SidFromOpen(const std::string& open_packet) {
  auto start = open_packet.find("\"sid\":\"");
  if (start == std::string::npos) return "";
  start += 7;
  return open_packet.substr(start, open_packet.find('"', start) - start);
}

// A masked client-to-server WebSocket frame (mask 01 02 03 04).
// `first_byte` is FIN/RSV/opcode as sent, so tests can build invalid frames
// too.
inline std::string MaskedClientFrame(uint8_t first_byte, const std::string& payload) {
  std::string frame;
  roomq::websocket::AppendMaskedFrame(frame, first_byte, payload, 0x01020304);
  return frame;
}

// A raw TCP client that upgrades to WebSocket by hand (fixed key, the
// accept value checked) and then reads raw bytes: the base of the tests
// that send malformed frames or parse every server frame themselves. Every
// operation is bounded by 5 s.
class RawWebSocketConnection {
 public:
  // Connects and upgrades; afterwards buffer() holds whatever the server sent
  // after the 101 response headers.
  bool Handshake(uint16_t port) {
    if (!ConnectLocal(ioc_, socket_, port)) return false;
    const std::string request =
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n";
    if (!Send(request)) return false;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (ReadSome()) return false;
    }
    const std::string headers = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    return headers.rfind("HTTP/1.1 101 Switching Protocols", 0) == 0 &&
           headers.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != std::string::npos;
  }
  bool Send(const std::string& bytes) {
    return !RunBounded(ioc_, socket_, [&](auto handler) {
      boost::asio::async_write(socket_, boost::asio::buffer(bytes), handler);
    });
  }
  // Reads once; what arrived is appended to buffer().
  beast::error_code ReadSome() { return ReadSomeBounded(ioc_, socket_, buffer_); }
  std::string& buffer() { return buffer_; }
  const std::string& buffer() const { return buffer_; }

 private:
  boost::asio::io_context ioc_;
  tcp::socket socket_{ioc_};
  std::string buffer_;
};

// A blocking WebSocket client; every operation is bounded by 5 s.
class WsClient {
 public:
  WsClient() : ws_(ioc_) {}
  // Connects and performs the handshake; false on failure.
  bool Connect(uint16_t port, const std::string& target,
               const std::map<std::string, std::string>& headers = {}) {
    if (!ConnectLocal(ioc_, ws_.next_layer(), port)) return false;
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (auto& [name, value] : headers) req.set(name, value);
    }));
    return !Run(
        [&](auto handler) { ws_.async_handshake(response_, "127.0.0.1", target, handler); });
  }
  bool SendText(const std::string& text) {
    ws_.text(true);
    return !Run([&](auto handler) { ws_.async_write(boost::asio::buffer(text), handler); });
  }
  bool SendBinary(const std::string& bytes) {
    ws_.binary(true);
    return !Run([&](auto handler) { ws_.async_write(boost::asio::buffer(bytes), handler); });
  }
  // One message; false on close/error/timeout.
  bool Read(std::string* data, bool* binary = nullptr) {
    beast::flat_buffer buffer;
    beast::error_code ec = Run([&](auto handler) { ws_.async_read(buffer, handler); });
    if (ec) {
      last_error_ = ec;
      return false;
    }
    *data = beast::buffers_to_string(buffer.data());
    if (binary) *binary = ws_.got_binary();
    return true;
  }
  // Reads until a message other than a ping ("2", answered with "3" when
  // `answer_pings`) arrives.
  bool ReadSkippingPings(std::string* data, bool* binary = nullptr, bool answer_pings = true) {
    for (;;) {
      bool is_binary = false;
      if (!Read(data, &is_binary)) return false;
      if (!is_binary && *data == "2") {
        if (answer_pings) SendText("3");
        continue;
      }
      if (binary) *binary = is_binary;
      return true;
    }
  }
  const websocket::response_type& response() const { return response_; }
  beast::error_code last_error() const { return last_error_; }
  void Close() {
    Run([&](auto handler) { ws_.async_close(websocket::close_code::normal, handler); });
  }

 private:
  template <class Start>
  beast::error_code Run(Start start) {
    return RunBounded(ioc_, ws_.next_layer(), start);
  }

  boost::asio::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
  websocket::response_type response_;
  beast::error_code last_error_;
};

// An Engine.IO client on WebSocket (with the Socket.IO `/` namespace
// connected when asked) that reads on its own thread until the server
// closes, as socket.io-client's event loop does: for shutdown tests.
class ReadUntilClosedClient {
 public:
  bool Open(uint16_t port, bool connect_namespace) {
    std::string data;
    if (!client_.Connect(port, "/socket.io/?EIO=4&transport=websocket") || !client_.Read(&data) ||
        data.rfind("0{", 0) != 0) {
      return false;
    }
    if (connect_namespace && (!client_.SendText("40") || !client_.ReadSkippingPings(&data) ||
                              data.rfind("40{", 0) != 0)) {
      return false;
    }
    thread_ = std::thread([this] {
      std::string message;
      while (client_.ReadSkippingPings(&message)) {
        if (message == "1") told_ = true;
      }
    });
    return true;
  }
  // Waits for the reader (it ends when the server closes, or after its 5 s
  // read bound); true when the server's Engine.IO close packet came first.
  bool JoinTold() {
    if (thread_.joinable()) thread_.join();
    return told_;
  }
  ~ReadUntilClosedClient() { JoinTold(); }

 private:
  WsClient client_;
  std::thread thread_;
  bool told_ = false;
};

// The gateway under test. Its Engine.IO timers (heartbeats, upgrade and
// close timeouts) run on a fake clock that moves only through AdvanceTime():
// no session times out because a loaded machine was slow.
class TestGateway {
 public:
  explicit TestGateway(GatewayServerOptions options = DefaultOptions(), size_t threads = 2)
      : shards_(threads), factory_(&recorder_) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.engine.timers = &timers_;
    auto server = GatewayServer::Create(std::move(options), &shards_, &factory_);
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    server_->Start();
  }
  ~TestGateway() {
    server_->Shutdown("server shutting down", std::chrono::seconds(2));
    shards_.Stop(std::chrono::milliseconds(500));
    server_.reset();
  }
  static GatewayServerOptions DefaultOptions() {
    GatewayServerOptions options;
    options.engine.ping_interval = std::chrono::milliseconds(10000);
    options.engine.ping_timeout = std::chrono::milliseconds(5000);
    return options;
  }

  uint16_t port() const { return server_->port(); }
  GatewayServer& server() { return *server_; }
  Recorder& recorder() { return recorder_; }

  // Moves the sessions' clock; every timer now due fires on its io thread.
  void AdvanceTime(std::chrono::milliseconds step) { timers_.Advance(step); }
  // Waits (up to 5 s) until some session timer is armed to fire exactly
  // `after` from now: e.g. a heartbeat re-armed by a pong that another
  // thread sent.
  bool WaitForTimerIn(std::chrono::milliseconds after) {
    return timers_.WaitUntilArmed(clock_.Now() + after, std::chrono::milliseconds(5000));
  }

  // A polling handshake; returns the sid ("" on failure).
  std::string PollingHandshake() {
    HttpResult res = DoRequest(port(), http::verb::get, "/socket.io/?EIO=4&transport=polling");
    if (!res.ok || res.status != 200) return "";
    return SidFromOpen(res.body);
  }
  HttpResult Poll(const std::string& sid) {
    return DoRequest(port(), http::verb::get, "/socket.io/?EIO=4&transport=polling&sid=" + sid);
  }
  HttpResult Post(const std::string& sid, const std::string& body) {
    return DoRequest(port(), http::verb::post, "/socket.io/?EIO=4&transport=polling&sid=" + sid,
                     body);
  }

 private:
  // Declared first: they outlive the server and its sessions.
  base::FakeClock clock_;
  engineio::FakeTimerService timers_{clock_};
  IoShards shards_;
  Recorder recorder_;
  EchoFactory factory_;
  std::unique_ptr<GatewayServer> server_;
};

}  // namespace roomq::gateway::server::testing

#endif  // ROOMQ_TESTS_GATEWAY_SERVER_TEST_GATEWAY_H_
