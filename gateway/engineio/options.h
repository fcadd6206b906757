#ifndef ROOMQ_GATEWAY_ENGINEIO_OPTIONS_H_
#define ROOMQ_GATEWAY_ENGINEIO_OPTIONS_H_

// Engine.IO server options, with the defaults of the npm `engine.io` server
// where it has one.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "gateway/engineio/address_table.h"
#include "gateway/engineio/client_address.h"
#include "gateway/engineio/timer_service.h"

namespace roomq::gateway::engineio {

struct EngineOptions {
  // The server sends a ping every `ping_interval`; a session whose pong does
  // not arrive within `ping_timeout` after a ping is closed ("ping timeout").
  std::chrono::milliseconds ping_interval{25000};
  std::chrono::milliseconds ping_timeout{20000};
  // Largest accepted polling POST body / WebSocket message, in bytes
  // (announced to the client as maxPayload). Over it: HTTP 413 and the
  // session closes ("transport error"); over WebSocket the socket closes
  // (1009) and the session closes ("transport error").
  size_t max_payload = 1000000;
  // Bound on the bytes a session has queued for the client but not yet
  // written: message data, and every control frame (pongs to the client's
  // WebSocket or Engine.IO pings, "3probe", the server's pings) at its size
  // plus kControlFrameOverhead (websocket_transport.h). Session::Send over it
  // drops the message and returns ResourceExhausted; a control frame over it
  // is not queued (TransportErrorCounters: outbound_full). Either way the
  // session closes ("transport error"). Default 1 MiB.
  size_t max_outbound_bytes = 1 << 20;
  // A WebSocket opened for an upgrade must complete it ("5") within this.
  std::chrono::milliseconds upgrade_timeout{10000};
  // A polling session closed by the server waits this long for the client's
  // next GET to deliver the close packet, then ends anyway.
  std::chrono::milliseconds close_timeout{5000};
  // Origin allow-list. Empty: no CORS headers, every origin allowed. "*":
  // every origin allowed, "Access-Control-Allow-Origin: *". Otherwise a
  // request with an Origin header not in the list is answered 403
  // {"code":4,"message":"Forbidden"} on both transports.
  std::vector<std::string> cors_origins;
  // Put at the start of every sid this engine issues (see sid.h); a request
  // whose sid lacks it is answered "Session ID unknown". Empty by default.
  // At most kMaxSidPrefix base64url characters (Engine does not check).
  std::string sid_prefix;
  // Sessions this engine holds at once, all shards together. A handshake
  // over it is refused: polling gets HTTP 503 {"code":3,"message":"Too many
  // connections"}, a WebSocket handshake the same answer instead of the
  // upgrade; counted in EngineStats::refused_max_connections. 0: no limit.
  size_t max_connections = 100000;
  // Per client address (address_table.h): handshakes per second, sessions
  // open and (for the Socket.IO layer) room memberships. A handshake over
  // the rate gets HTTP 429 {"code":3,"message":"Too many handshakes from
  // this address"} (with Retry-After), one over the sessions HTTP 503
  // {"code":3,"message":"Too many sessions from this address"}, on both
  // transports; counted in EngineStats. Open sessions are untouched.
  AddressLimits address_limits;
  // Load balancers whose X-Forwarded-For names the client
  // (client_address.h); empty (default): the TCP peer is the client.
  TrustedProxies trusted_proxies;
  // Opt-in write coalescing (write_coalescer.h): a WebSocket's frames wait
  // up to this long, so that frames queued meanwhile share one sendmsg;
  // they count against max_outbound_bytes while they wait. 0 (default):
  // written at the end of the io wakeup that queued them.
  std::chrono::milliseconds write_delay{0};
  // Where the session timers above (ping interval and timeout, upgrade and
  // close timeouts) and the handshake buckets' clock come from (timer_service.h); must outlive the
  // engine and its sessions. Tests pass a FakeTimerService and advance it.
  TimerService* timers = &TimerService::Real();
};

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_OPTIONS_H_
