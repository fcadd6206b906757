#!/usr/bin/env node
'use strict';
// The reference: the real Socket.IO server (npm `socket.io`) implementing
// exactly roomq's gateway conventions, so that
//  (a) the end-to-end suite is proven against Socket.IO itself before it is
//      pointed at roomq-gateway (E2E_TARGET=reference), and
//  (b) benchmarks have a Node competitor running the same workload.
//
// It takes roomq-gateway's flags (those that mean something here):
//   --listen HOST:PORT     repeatable: several listeners in this process act
//                          like several gateways on one broker (see
//                          cluster_adapter.js); default 127.0.0.1:8080
//   --config FILE          namespace policy, the YAML schema of
//                          gateway/socketio/config.h (subset: harness/config.js)
//   --ping-interval-ms, --ping-timeout-ms, --connect-timeout-ms, --max-payload,
//   --cors-origin (repeatable, '*' allowed), --static-dir
// and ignores --threads, --broker-pub, --broker-sub, and roomq's limits that
// Socket.IO has no counterpart of (--max-dynamic-namespaces,
// --attachment-timeout-ms).
//
// Auth: a namespace with `auth: {type: jwt, secret_env: NAME}` gets a
// middleware checking an HS256 token in the CONNECT's auth ({token}): the
// signature and `exp` only (a subset of gateway/socketio/auth/), refusing
// with roomq's reasons "missing token", "invalid token", "token expired".
// On a pattern namespace it is the parent's middleware, which Socket.IO
// runs only after it has created the child namespace.
// Prints `listening on http://HOST:PORT` per listener once it accepts.
//
// Connection state recovery: a namespace with `recovery: {max_disconnection:
// D}` gets Socket.IO's connectionStateRecovery (server-wide in Socket.IO, so
// it is switched on when any namespace asks, with the longest window, and
// the cluster adapter keeps sessions and offsets only for the namespaces
// that asked, each with its own window).
//
// Conventions (gateway/socketio, proto/README.md "Gateway conventions"):
//  - reserved client events: join(room[, ack]), leave(room[, ack]),
//    publish(room, event, ...args[, ack]); acks {"ok":true} / {"error":"..."}
//  - other events: relayed per namespace policy broadcast | rooms | none,
//    sender excluded unless `echo`
//  - `forward: true` namespaces get the conformance echo service that
//    roomq-echo implements: on connection emit `auth` with the handshake
//    auth; `message` -> `message-back` with the same args; `message-with-ack`
//    -> ack with the same args.
//  - `middleware: required` namespaces get what roomq-echo's ServeAdmin
//    does (clients/examples/echo/echo_service.h), written as every Socket.IO
//    guide writes it: nsp.use() admits auth.role === 'admin' with
//    socket.data = {role, user}, refuses the others with Error('not
//    authorized') and data {role}; on connection emit `hello` with
//    socket.data; `delete user` (id, ack) -> ack('deleted', id).
//  - the forwarded pattern '^/tenant-\w+$' gets what roomq-echo's
//    ServeTenants does: on connection socket.nsp.emit('hello', socket.id).
//  - namespaces not in the config: CONNECT_ERROR "Invalid namespace".

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const {Server} = require('socket.io');
const {LocalClusterAdapter} = require('./cluster_adapter');

// "<integer>ms|s|m|h" (gateway/socketio/config.h) -> milliseconds.
function parseDuration(text) {
  const m = /^(\d+)(ms|s|m|h)$/.exec(String(text));
  if (!m) throw new Error(`config: bad duration ${text}`);
  return Number(m[1]) * {ms: 1, s: 1000, m: 60000, h: 3600000}[m[2]];
}

// The recovery window of each configured namespace (undefined = off).
function recoveryWindows(config) {
  const entries = config.namespaces.map((entry) => {
    let window;
    if (entry.recovery !== undefined) {
      const spec = entry.recovery;
      if (typeof spec !== 'object') throw new Error('config: recovery must be a map');
      window = spec.max_disconnection === undefined ? 120000 : parseDuration(spec.max_disconnection);
    }
    return {entry, window};
  });
  const lookup = (name) => {
    const exact = entries.find(({entry}) => entry.name === name);
    if (exact) return exact.window;
    const pattern = entries.find(({entry}) => entry.pattern !== undefined &&
                                 new RegExp(`^(?:${entry.pattern})$`).test(name));
    return pattern ? pattern.window : undefined;
  };
  const windows = entries.map(({window}) => window).filter((w) => w !== undefined);
  return {lookup, longest: windows.length > 0 ? Math.max(...windows) : undefined};
}
const {parseYaml} = require('../harness/config');

const RESERVED = new Set(['join', 'leave', 'publish']);

const USAGE = `usage: server.js [--listen HOST:PORT]... [--config FILE] [--ping-interval-ms N]
  [--ping-timeout-ms N] [--connect-timeout-ms N] [--max-payload BYTES]
  [--cors-origin ORIGIN]... [--static-dir DIR]`;

function parseFlags(argv) {
  const flags = {
    listen: [],
    config: '',
    pingIntervalMs: 25000,
    pingTimeoutMs: 20000,
    connectTimeoutMs: 45000,
    maxPayload: 1000000,
    corsOrigin: [],
    staticDir: '',
  };
  const numeric = {
    'ping-interval-ms': 'pingIntervalMs',
    'ping-timeout-ms': 'pingTimeoutMs',
    'connect-timeout-ms': 'connectTimeoutMs',
    'max-payload': 'maxPayload',
  };
  const ignored = new Set(['threads', 'broker-pub', 'broker-sub', 'max-dynamic-namespaces', 'attachment-timeout-ms']);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) usageError(`unexpected argument ${argv[i]}`);
    const name = m[1];
    if (name === 'help') {
      console.log(USAGE);
      process.exit(0);
    }
    const value = m[2] !== undefined ? m[2] : argv[++i];
    if (value === undefined) usageError(`--${name} needs a value`);
    if (name === 'listen') flags.listen.push(value);
    else if (name === 'config') flags.config = value;
    else if (name === 'cors-origin') flags.corsOrigin.push(value);
    else if (name === 'static-dir') flags.staticDir = value;
    else if (numeric[name]) {
      if (!/^\d+$/.test(value)) usageError(`--${name}: not a number: ${value}`);
      flags[numeric[name]] = Number(value);
    } else if (!ignored.has(name)) usageError(`unknown flag --${name}`);
  }
  if (flags.listen.length === 0) flags.listen.push('127.0.0.1:8080');
  return flags;
}

function usageError(message) {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

// DefaultConfig() of gateway/socketio/config.h: `/` open, relay broadcast.
const DEFAULT_CONFIG = {namespaces: [{name: '/', join: '.*', relay: 'broadcast', echo: false, forward: false}]};

function normalizePolicy(entry) {
  const policy = {join: '.*', relay: 'broadcast', echo: false, forward: false, ...entry};
  policy.authMiddleware = authMiddleware(entry.auth);
  if (!['required', 'none', undefined].includes(policy.middleware)) {
    throw new Error(`config: bad middleware ${policy.middleware}`);
  }
  if (!['broadcast', 'rooms', 'none'].includes(policy.relay)) {
    throw new Error(`config: bad relay ${policy.relay}`);
  }
  // ECMAScript regex, full match; '' = clients may not join.
  policy.joinRegex = policy.join === '' ? null : new RegExp(`^(?:${policy.join})$`);
  // Rooms a client may publish into or relay to; absent = the join regex.
  const publish = policy.publish === undefined ? policy.join : policy.publish;
  policy.publishRegex = publish === '' ? null : new RegExp(`^(?:${publish})$`);
  return policy;
}

// The `auth` of a namespace entry as a Socket.IO middleware, or null.
function authMiddleware(auth) {
  if (auth === undefined || auth === 'none') return null;
  if (typeof auth !== 'object' || auth.type !== 'jwt' || !auth.secret_env) {
    throw new Error('config: the reference supports auth: none or {type: jwt, secret_env: NAME}');
  }
  const secret = process.env[auth.secret_env];
  if (!secret) throw new Error(`config: ${auth.secret_env} is unset or empty`);
  return (socket, next) => {
    const token = socket.handshake.auth && socket.handshake.auth.token;
    if (typeof token !== 'string' || token === '') return next(new Error('missing token'));
    const parts = token.split('.');
    if (parts.length !== 3) return next(new Error('invalid token'));
    const expected = crypto.createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
    const given = Buffer.from(parts[2], 'base64url');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      return next(new Error('invalid token'));
    }
    let claims;
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    } catch {
      return next(new Error('invalid token'));
    }
    if (typeof claims.exp !== 'number') return next(new Error('invalid token'));
    if (claims.exp * 1000 <= Date.now()) return next(new Error('token expired'));
    next();
  };
}

function log(line) {
  console.log(`[reference] ${line}`);
}

function ackIfAsked(ack, value) {
  if (typeof ack === 'function') ack(value);
}

// Wires one namespace (static, or a dynamic parent) with `policy`.
function setUpNamespace(nsp, policy) {
  if (policy.authMiddleware) nsp.use(policy.authMiddleware);
  if (policy.middleware === 'required') nsp.use(adminMiddleware);
  nsp.on('connection', (socket) => {
    const transport = () => socket.conn.transport.name;
    log(`connect sid=${socket.id} ns=${socket.nsp.name} transport=${transport()}`);
    socket.on('disconnect', (reason) => {
      log(`disconnect sid=${socket.id} ns=${socket.nsp.name} transport=${transport()} reason=${reason}`);
    });

    const tenants = policy.forward && policy.pattern === TENANT_PATTERN;
    if (tenants) socket.nsp.emit('hello', socket.id);
    else if (policy.forward && policy.middleware !== 'required') socket.emit('auth', socket.handshake.auth);
    if (policy.middleware === 'required') socket.emit('hello', socket.data);

    socket.onAny((event, ...args) => {
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
      if (RESERVED.has(event)) {
        handleReserved(socket, policy, event, args, ack);
        return;
      }
      relay(socket, policy, event, args);
      if (policy.middleware === 'required') adminService(socket, event, args, ack);
      else if (policy.forward) echoService(socket, event, args, ack);
    });
  });
}

// What a Socket.IO server author writes to keep clients out of rooms they
// may not reach: the namespace's publish pattern, and never another
// socket's own room (only the server addresses one socket).
function mayPublishTo(socket, policy, room) {
  return policy.publishRegex !== null && policy.publishRegex.test(room) && !socket.nsp.sockets.has(room);
}

function handleReserved(socket, policy, event, args, ack) {
  const room = args[0];
  if (typeof room !== 'string' || room === '') {
    ackIfAsked(ack, {error: 'room must be a non-empty string'});
    return;
  }
  if (event === 'join') {
    if (!policy.joinRegex || !policy.joinRegex.test(room)) {
      ackIfAsked(ack, {error: `joining room "${room}" is not allowed`});
      return;
    }
    socket.join(room);
    ackIfAsked(ack, {ok: true});
  } else if (event === 'leave') {
    socket.leave(room);
    ackIfAsked(ack, {ok: true});
  } else {
    const name = args[1];
    if (typeof name !== 'string' || name === '') {
      ackIfAsked(ack, {error: 'event must be a non-empty string'});
      return;
    }
    if (!mayPublishTo(socket, policy, room)) {
      ackIfAsked(ack, {error: 'publishing to this room is not allowed'});
      return;
    }
    try {
      socket.to(room).emit(name, ...args.slice(2));
    } catch (e) {
      ackIfAsked(ack, {error: e.message});
      return;
    }
    ackIfAsked(ack, {ok: true});
  }
}

function relay(socket, policy, event, args) {
  if (policy.relay === 'broadcast') {
    (policy.echo ? socket.nsp : socket.broadcast).emit(event, ...args);
  } else if (policy.relay === 'rooms') {
    const rooms = [...socket.rooms].filter((r) => r !== socket.id && mayPublishTo(socket, policy, r));
    if (rooms.length > 0) (policy.echo ? socket.nsp.to(rooms) : socket.to(rooms)).emit(event, ...args);
  }
}

// What roomq-echo (clients/examples/echo) does for a forwarded namespace.
function echoService(socket, event, args, ack) {
  if (event === 'message') socket.emit('message-back', ...args);
  else if (event === 'message-with-ack' && ack) ack(...args);
}

// The family roomq-echo serves with ServeTenants.
const TENANT_PATTERN = '^/tenant-\\w+$';

// roomq-echo's ServeAdmin, the Socket.IO way.
function adminMiddleware(socket, next) {
  const auth = socket.handshake.auth || {};
  if (auth.role !== 'admin') {
    const err = new Error('not authorized');
    err.data = {role: auth.role === undefined ? null : auth.role};
    next(err);
    return;
  }
  socket.data = {role: 'admin', user: auth.user === undefined ? null : auth.user};
  next();
}

function adminService(socket, event, args, ack) {
  if (event === 'delete user' && ack) {
    ack('deleted', args.length > 0 ? args[0] : null);
  } else if (event === 'set name') {
    socket.data.name = args.length > 0 ? args[0] : null;
    ackIfAsked(ack, 'ok');
  } else if (event === 'poll' && ack && typeof args[0] === 'string' && args[0] !== '') {
    socket.nsp.to(args[0]).timeout(1000).emit('vote', (err, answers) => ack(err ? 'timeout' : null, answers));
  } else if (event === 'who' && ack) {
    const room = typeof args[0] === 'string' && args[0] !== '' ? args[0] : null;
    (room === null ? socket.nsp : socket.nsp.in(room)).fetchSockets().then((sockets) => {
      const answer = sockets.map((s) => ({id: s.id, data: s.data}));
      answer.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      ack(answer);
    });
  }
}

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

// GET /healthz and static files; /socket.io/ is Socket.IO's (it also serves
// /socket.io/socket.io.min.js itself).
function httpHandler(staticDir) {
  const root = staticDir ? path.resolve(staticDir) : '';
  return (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/healthz') {
      res.writeHead(200, {'content-type': 'text/plain'});
      res.end('ok\n');
      return;
    }
    if (root && (req.method === 'GET' || req.method === 'HEAD')) {
      const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
      const file = path.resolve(root, rel);
      if (file.startsWith(root + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile()) {
        res.writeHead(200, {'content-type': CONTENT_TYPES[path.extname(file)] || 'application/octet-stream'});
        res.end(req.method === 'HEAD' ? undefined : fs.readFileSync(file));
        return;
      }
    }
    res.writeHead(404, {'content-type': 'text/plain'});
    res.end('not found\n');
  };
}

function createServer(flags, config, hostPort) {
  const m = /^(.*):(\d+)$/.exec(hostPort);
  if (!m) usageError(`--listen: expected HOST:PORT, got ${hostPort}`);
  const [, host, port] = m;
  const httpServer = http.createServer(httpHandler(flags.staticDir));
  const options = {
    pingInterval: flags.pingIntervalMs,
    pingTimeout: flags.pingTimeoutMs,
    connectTimeout: flags.connectTimeoutMs,
    maxHttpBufferSize: flags.maxPayload,
    serveClient: true,
  };
  const recovery = recoveryWindows(config);
  options.adapter = class extends LocalClusterAdapter {
    recoveryWindow() {
      return recovery.lookup(this.nsp.name);
    }
  };
  if (recovery.longest !== undefined) {
    options.connectionStateRecovery = {maxDisconnectionDuration: recovery.longest, skipMiddlewares: true};
  }
  if (flags.corsOrigin.length > 0) {
    options.cors = {origin: flags.corsOrigin.includes('*') ? '*' : flags.corsOrigin};
  }
  const io = new Server(httpServer, options);

  let hasRoot = false;
  for (const entry of config.namespaces) {
    const policy = normalizePolicy(entry);
    if (entry.name !== undefined) {
      if (entry.name === '/') hasRoot = true;
      setUpNamespace(io.of(entry.name), policy);
    } else if (entry.pattern !== undefined) {
      setUpNamespace(io.of(new RegExp(`^(?:${entry.pattern})$`)), policy);
    } else {
      throw new Error('config: a namespace needs name or pattern');
    }
  }
  // Socket.IO always has `/`; a config without it must refuse it like any
  // other unknown namespace.
  if (!hasRoot) io.of('/').use((socket, next) => next(new Error('Invalid namespace')));

  httpServer.listen(Number(port), host, () => {
    const address = httpServer.address();
    log(`listening on http://${address.address}:${address.port}`);
  });
  return io;
}

function main() {
  const flags = parseFlags(process.argv.slice(2));
  const config = flags.config ? parseYaml(fs.readFileSync(flags.config, 'utf8')) : DEFAULT_CONFIG;
  const servers = flags.listen.map((hostPort) => createServer(flags, config, hostPort));
  const stop = (signal) => {
    log(`${signal}: shutting down`);
    for (const io of servers) io.close();
    process.exit(0);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main();
