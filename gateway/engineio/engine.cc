#include "gateway/engineio/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/engineio/client_log.h"
#include "gateway/engineio/errors.h"
#include "gateway/engineio/packet.h"
#include "gateway/engineio/query.h"
#include "gateway/engineio/sid.h"
#include "proto/base/absl_compat.h"

namespace roomq::gateway::engineio {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

Engine::Engine(EngineOptions options, const std::vector<asio::any_io_executor>& shards,
               SessionListenerFactory* factory)
    : options_(std::move(options)),
      cors_(options_.cors_origins),
      factory_(factory),
      addresses_(AddressTable::Create(options_.address_limits, options_.timers->clock())) {
  for (auto& executor : shards) {
    auto shard = std::make_unique<Shard>();
    shard->executor = executor;
    if (options_.write_delay.count() > 0) {
      shard->coalescer =
          std::make_unique<WriteCoalescer>(executor, options_.write_delay, *options_.timers);
    }
    shards_.push_back(std::move(shard));
  }
}

Engine::~Engine() {
  // Sessions still present (io threads already stopped) are dropped without
  // callbacks; their sockets close with them.
  for (auto& shard : shards_) shard->sessions.clear();
}

bool Engine::Validate(HttpMethod method, bool upgrade, const std::string& query,
                      const std::string& origin, Target* target, HttpReply* error) const {
  auto transport = QueryParam(query, "transport");
  if (!transport || (*transport != "polling" && *transport != "websocket")) {
    *error = ErrorReply(ErrorCode::kUnknownTransport);
    return false;
  }
  if (!cors_.Admit(origin, upgrade)) {
    *error = ErrorReply(ErrorCode::kForbidden);
    return false;
  }
  auto eio = QueryParam(query, "EIO");
  if (!eio || *eio != "4") {
    *error = ErrorReply(ErrorCode::kUnsupportedProtocolVersion);
    return false;
  }
  if (upgrade && *transport != "websocket") {
    *error = ErrorReply(ErrorCode::kBadRequest);
    return false;
  }
  auto sid = QueryParam(query, "sid");
  if (sid) {
    auto shard = ShardOfSid(*sid, options_.sid_prefix);
    if (!shard || *shard >= shards_.size()) {
      *error = ErrorReply(ErrorCode::kUnknownSid);
      return false;
    }
    if (!upgrade && *transport != "polling") {
      *error = ErrorReply(ErrorCode::kBadRequest);
      return false;
    }
    if (!upgrade && method != HttpMethod::kGet && method != HttpMethod::kPost) {
      *error = ErrorReply(ErrorCode::kBadRequest);
      return false;
    }
    target->sid = *sid;
  } else {
    if (method != HttpMethod::kGet) {
      *error = ErrorReply(ErrorCode::kBadHandshakeMethod);
      return false;
    }
    if (*transport == "websocket" && !upgrade) {
      *error = ErrorReply(ErrorCode::kBadRequest);
      return false;
    }
  }
  target->transport = *transport;
  return true;
}

std::shared_ptr<SessionImpl> Engine::NewSession(size_t shard_index, HandshakeInfo info) {
  Shard& shard = *shards_[shard_index];
  std::string sid = NewSid(shard_index, options_.sid_prefix);
  auto session =
      std::make_shared<SessionImpl>(sid, shard.executor, std::move(info), options_,
                                    &transport_errors_, [this, shard_index](const std::string& id) {
                                      if (shards_[shard_index]->sessions.erase(id) > 0) {
                                        live_sessions_.fetch_sub(1, std::memory_order_relaxed);
                                      }
                                    });
  shard.sessions.emplace(sid, session);
  live_sessions_.fetch_add(1, std::memory_order_relaxed);
  return session;
}

EngineStats Engine::stats() const {
  const AddressTable::Stats addresses = addresses_->stats();
  EngineStats stats;
  stats.sessions = live_sessions_.load(std::memory_order_relaxed);
  stats.refused_max_connections = refused_max_connections_.load(std::memory_order_relaxed);
  stats.refused_handshake_rate = addresses.refused_handshake_rate;
  stats.refused_sessions_per_address = addresses.refused_sessions;
  stats.client_addresses = addresses.entries;
  stats.transport_errors = transport_errors_.Snapshot();
  return stats;
}

bool Engine::OverMaxConnections(std::string_view remote_address) {
  if (options_.max_connections == 0 ||
      live_sessions_.load(std::memory_order_relaxed) < options_.max_connections) {
    return false;
  }
  const uint64_t refused = refused_max_connections_.fetch_add(1, std::memory_order_relaxed);
  // One line per 1000 refusals: a flood must not flood the log too.
  if (refused % 1000 == 0) {
    spdlog::warn(
        "engine.io: handshake from {} refused: {} sessions open (--max-connections); "
        "{} refused so far",
        remote_address, options_.max_connections, refused + 1);
  }
  return true;
}

namespace {

HttpReply TooManyConnections() {
  HttpReply reply;
  reply.status = 503;
  reply.content_type = "application/json";
  reply.body = R"({"code":3,"message":"Too many connections"})";
  return reply;
}

HttpReply TooManyHandshakes(double retry_after_seconds) {
  HttpReply reply;
  reply.status = 429;
  reply.content_type = "application/json";
  reply.body = R"({"code":3,"message":"Too many handshakes from this address"})";
  const double seconds = std::max(1.0, std::ceil(std::min(retry_after_seconds, 86400.0)));
  reply.headers.emplace_back("Retry-After", std::to_string(static_cast<int64_t>(seconds)));
  return reply;
}

HttpReply TooManySessions() {
  HttpReply reply;
  reply.status = 503;
  reply.content_type = "application/json";
  reply.body = R"({"code":3,"message":"Too many sessions from this address"})";
  return reply;
}

}  // namespace

absl::StatusOr<AddressLease> Engine::AdmitHandshake(const IpAddress& peer,
                                                    std::string_view forwarded_for,
                                                    std::string_view remote_address,
                                                    HttpReply* refusal) {
  const IpAddress client = ClientAddress(peer, forwarded_for, options_.trusted_proxies);
  AddressTable::Admission admission = addresses_->Admit(AddressKey::Of(client));
  if (admission.outcome != AddressTable::Outcome::kAdmitted) {
    const bool rate = admission.outcome == AddressTable::Outcome::kOverRate;
    LogThrottled(admission.refused,
                 absl::StrCat("engine.io: handshake from ", ToAbsl(remote_address), " (client ",
                              AddressKey::Of(client).ToString(), ") refused: ",
                              rate ? "over --handshake-rate" : "at --max-sessions-per-address",
                              "; ", admission.refused, " refused so far"));
    *refusal = rate ? TooManyHandshakes(admission.retry_after_seconds) : TooManySessions();
    return absl::ResourceExhaustedError("per-address limit");
  }
  if (OverMaxConnections(remote_address)) {
    *refusal = TooManyConnections();
    return absl::ResourceExhaustedError("max connections");
  }
  return std::move(admission.lease);
}

std::shared_ptr<SessionImpl> Engine::Find(size_t shard, const std::string& sid) const {
  const auto& sessions = shards_[shard]->sessions;
  auto it = sessions.find(sid);
  return it == sessions.end() ? nullptr : it->second;
}

void Engine::HandleRequest(size_t from_shard, EngineRequest request, Responder respond) {
  Target target;
  HttpReply error;
  if (!Validate(request.method, false, request.query, request.origin, &target, &error)) {
    respond(std::move(error));
    return;
  }
  if (!target.sid.empty()) {
    size_t owner = *ShardOfSid(target.sid, options_.sid_prefix);
    if (owner == from_shard) {
      OnOwnerShard(owner, request, target.sid, std::move(respond));
    } else {
      asio::post(shards_[owner]->executor,
                 [this, owner, request = std::move(request), sid = std::move(target.sid),
                  respond = std::move(respond)]() mutable {
                   OnOwnerShard(owner, request, sid, std::move(respond));
                 });
    }
    return;
  }
  // Polling handshake, on this shard.
  Shard& shard = *shards_[from_shard];
  if (shard.stopping) {
    HttpReply reply;
    reply.status = 503;
    reply.content_type = "text/plain";
    reply.body = "server shutting down";
    respond(std::move(reply));
    return;
  }
  HttpReply refusal;
  absl::StatusOr<AddressLease> lease =
      AdmitHandshake(request.peer, request.forwarded_for, request.remote_address, &refusal);
  if (!lease.ok()) {
    respond(std::move(refusal));
    return;
  }
  HandshakeInfo info{request.remote_address,
                     request.origin,
                     request.query,
                     *std::move(lease),
                     std::move(request.user_agent),
                     std::move(request.forwarded_for)};
  auto session = NewSession(from_shard, std::move(info));
  std::unique_ptr<SessionListener> listener = factory_->OnSessionOpen(*session, from_shard);
  std::string payload = EncodeTextPacket(PacketType::kOpen, session->OpenPacketData(true));
  session->Open(std::move(listener));
  spdlog::debug("engine.io session {} opened (polling) from {}", SidForLog(session->id()),
                request.remote_address);
  HttpReply reply;
  reply.content_type = "text/plain; charset=UTF-8";
  reply.body = std::move(payload);
  respond(std::move(reply));
}

void Engine::OnOwnerShard(size_t shard, const EngineRequest& request, const std::string& sid,
                          Responder respond) {
  auto session = Find(shard, sid);
  if (!session) {
    respond(ErrorReply(ErrorCode::kUnknownSid));
    return;
  }
  if (request.method == HttpMethod::kGet) {
    session->HandlePollGet(std::move(respond));
  } else {
    session->HandlePollPost(request, respond);
  }
}

void Engine::HandleUpgrade(size_t from_shard, WebSocketTransport::Request request,
                           tcp::socket socket, std::string remote_address) {
  std::string query;
  std::string_view target(request.target().data(), request.target().size());
  if (auto q = target.find('?'); q != std::string_view::npos) query = target.substr(q + 1);
  std::string origin(request[http::field::origin]);
  Target parsed;
  HttpReply error;
  if (request.method() != http::verb::get) {
    WriteReplyAndClose(std::move(socket), ErrorReply(ErrorCode::kBadRequest));
    return;
  }
  if (!Validate(HttpMethod::kGet, true, query, origin, &parsed, &error)) {
    WriteReplyAndClose(std::move(socket), std::move(error));
    return;
  }
  if (parsed.sid.empty()) {
    HandshakeWebSocket(from_shard, request, std::move(socket), std::move(remote_address));
    return;
  }
  size_t owner = *ShardOfSid(parsed.sid, options_.sid_prefix);
  if (owner == from_shard) {
    UpgradeOnOwnerShard(owner, request, std::move(socket), std::move(remote_address),
                        std::move(parsed.sid));
    return;
  }
  // Move the TCP connection to the owner's io_context: release the fd here,
  // adopt it there.
  boost::system::error_code ec;
  tcp::endpoint local = socket.local_endpoint(ec);
  if (ec) return;  // already gone
  int fd = socket.release(ec);
  if (ec) {
    spdlog::warn("cannot move connection from {} to shard {}: {}", remote_address, owner,
                 ec.message());
    return;
  }
  asio::post(shards_[owner]->executor,
             [this, owner, fd, protocol = local.protocol(), request = std::move(request),
              remote_address = std::move(remote_address), sid = std::move(parsed.sid)]() mutable {
               tcp::socket adopted(shards_[owner]->executor);
               boost::system::error_code assign_ec;
               adopted.assign(protocol, fd, assign_ec);
               if (assign_ec) {
                 ::close(fd);
                 return;
               }
               UpgradeOnOwnerShard(owner, request, std::move(adopted), std::move(remote_address),
                                   std::move(sid));
             });
}

void Engine::UpgradeOnOwnerShard(size_t shard, const WebSocketTransport::Request& request,
                                 tcp::socket socket, std::string remote_address, std::string sid) {
  if (!Find(shard, sid)) {
    WriteReplyAndClose(std::move(socket), ErrorReply(ErrorCode::kUnknownSid));
    return;
  }
  WebSocketTransport::Accept(
      std::move(socket), request, options_.max_payload, std::move(remote_address),
      &transport_errors_, shards_[shard]->coalescer.get(),
      [this, shard, sid = std::move(sid)](std::shared_ptr<WebSocketTransport> ws) {
        if (!ws) return;
        auto session = Find(shard, sid);
        if (!session) {
          ws->Close();
          return;
        }
        session->HandleUpgradeCandidate(std::move(ws));
      });
}

void Engine::HandshakeWebSocket(size_t shard, const WebSocketTransport::Request& request,
                                tcp::socket socket, std::string remote_address) {
  if (shards_[shard]->stopping) return;
  boost::system::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  HttpReply refusal;
  absl::StatusOr<AddressLease> lease = AdmitHandshake(
      peer.address(), options_.trusted_proxies.empty() ? std::string() : ForwardedFor(request),
      remote_address, &refusal);
  if (!lease.ok()) {
    auto headers = cors_.ResponseHeaders(
        std::string_view(request[http::field::origin].data(), request[http::field::origin].size()));
    headers.insert(headers.end(), refusal.headers.begin(), refusal.headers.end());
    refusal.headers = std::move(headers);
    refusal.cors_included = true;
    WriteReplyAndClose(std::move(socket), std::move(refusal));
    return;
  }
  std::string origin(request[http::field::origin]);
  std::string_view target(request.target().data(), request.target().size());
  std::string query;
  if (auto q = target.find('?'); q != std::string_view::npos) query = target.substr(q + 1);
  // Shared: the accept callback must be copyable, the lease is not. If the
  // WebSocket handshake fails, the lease goes with the callback.
  auto info = std::make_shared<HandshakeInfo>(
      HandshakeInfo{remote_address, std::move(origin), std::move(query), *std::move(lease),
                    std::string(request[http::field::user_agent]), ForwardedFor(request)});
  WebSocketTransport::Accept(
      std::move(socket), request, options_.max_payload, std::move(remote_address),
      &transport_errors_, shards_[shard]->coalescer.get(),
      [this, shard, info](std::shared_ptr<WebSocketTransport> ws) {
        if (!ws) return;
        if (shards_[shard]->stopping) {
          ws->Abort();
          return;
        }
        auto session = NewSession(shard, std::move(*info));
        session->AttachWebSocket(std::move(ws));
        std::unique_ptr<SessionListener> listener = factory_->OnSessionOpen(*session, shard);
        session->Open(std::move(listener));
        spdlog::debug("engine.io session {} opened (websocket) from {}", SidForLog(session->id()),
                      session->handshake().remote_address);
      });
}

void Engine::CloseAllSessions(const std::string& reason, std::function<void()> done) {
  auto remaining = std::make_shared<std::atomic<size_t>>(shards_.size());
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  for (size_t i = 0; i < shards_.size(); ++i) {
    asio::post(shards_[i]->executor, [this, i, reason, remaining, shared_done] {
      Shard& shard = *shards_[i];
      shard.stopping = true;
      std::vector<std::shared_ptr<SessionImpl>> sessions;
      sessions.reserve(shard.sessions.size());
      for (auto& [sid, session] : shard.sessions) sessions.push_back(session);
      for (auto& session : sessions) session->Shutdown(reason);
      // The close frames just queued must not wait for a write window.
      if (shard.coalescer) shard.coalescer->Stop();
      if (remaining->fetch_sub(1) == 1 && *shared_done) (*shared_done)();
    });
  }
}

size_t Engine::SessionCount(size_t shard) const { return shards_[shard]->sessions.size(); }

void WriteReplyAndClose(tcp::socket socket, HttpReply reply) {
  auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
  auto response = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(reply.status), 11);
  response->set(http::field::server, "roomq-gateway");
  if (!reply.content_type.empty()) response->set(http::field::content_type, reply.content_type);
  for (auto& [name, value] : reply.headers) response->set(name, value);
  response->keep_alive(false);
  response->body() = std::move(reply.body);
  response->prepare_payload();
  stream->expires_after(std::chrono::seconds(5));
  http::async_write(*stream, *response, [stream, response](beast::error_code, size_t) {
    beast::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream->close();
  });
}

}  // namespace roomq::gateway::engineio
