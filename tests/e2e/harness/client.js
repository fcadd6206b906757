'use strict';
require('./preflight');
// Client-side helpers for the end-to-end tests: stock socket.io-client
// sockets that record what they receive, condition waits with deadlines,
// and a raw Engine.IO WebSocket client for sending what socket.io-client
// never would.
//
// Nothing here sleeps for a fixed time: every wait is for an event or a
// condition, bounded by a timeout that fails the test with what was seen.

const assert = require('node:assert/strict');
const {io, Manager} = require('socket.io-client');
const WebSocket = require('ws');

const DEFAULT_TIMEOUT_MS = 5000;

// Every socket/ws made through this module, closed by closeAll().
const opened = new Set();

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// Records every event a socket receives, in order.
class Recorder {
  constructor(socket) {
    this.socket = socket;
    this.events = [];  // {event, args}
    this.waiters = [];
    socket.onAny((event, ...args) => {
      this.events.push({event, args});
      this.waiters = this.waiters.filter((w) => !w.check());
    });
  }

  received(event) {
    return this.events.filter((e) => e.event === event);
  }

  // Resolves with the args of the first received `event` (already received
  // or future) whose args satisfy `predicate`.
  waitFor(event, predicate = () => true, timeoutMs = DEFAULT_TIMEOUT_MS) {
    return this.waitUntil(() => {
      const hit = this.received(event).find((e) => predicate(...e.args));
      return hit && hit.args;
    }, timeoutMs, `event "${event}" on ${this.socket.nsp} (${this.socket.id})`);
  }

  // Resolves with the first truthy value of `condition()`, re-checked on
  // every received event.
  waitUntil(condition, timeoutMs = DEFAULT_TIMEOUT_MS, what = 'a condition') {
    return new Promise((resolve, reject) => {
      const first = condition();
      if (first) {
        resolve(first);
        return;
      }
      const waiter = {
        check: () => {
          const value = condition();
          if (!value) return false;
          clearTimeout(timer);
          resolve(value);
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.events.map((e) => e.event).join(', ') || 'nothing';
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${seen}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

// Stock client options for a test: a fresh Manager per socket (no sharing
// across tests), no automatic reconnection (a drop must show).
function clientOptions(options = {}) {
  return {forceNew: true, reconnection: false, timeout: DEFAULT_TIMEOUT_MS, ...options};
}

// Connects a socket.io-client socket to `url` + `nsp`; resolves once
// connected, with `socket.rec` recording its events. Rejects with the
// connect_error.
async function connect(url, nsp = '/', options = {}) {
  const socket = io(url + (nsp === '/' ? '' : nsp), clientOptions(options));
  return waitConnected(socket);
}

// Same for a socket of an existing Manager (several namespaces over one
// Engine.IO connection).
async function connectVia(manager, nsp, options = {}) {
  return waitConnected(manager.socket(nsp, options));
}

function newManager(url, options = {}) {
  const manager = new Manager(url, clientOptions(options));
  opened.add({close: () => manager.engine && manager.engine.close()});
  return manager;
}

function waitConnected(socket) {
  opened.add(socket);
  if (!socket.rec) socket.rec = new Recorder(socket);
  socket.on('disconnect', (reason) => {
    socket.disconnectReason = reason;
  });
  return withTimeout(new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(err));
  }), DEFAULT_TIMEOUT_MS, `connect to ${socket.nsp}`);
}

// Resolves with the connect_error of a socket expected to be refused.
function connectError(url, nsp, options = {}) {
  const socket = io(url + nsp, clientOptions(options));
  opened.add(socket);
  return withTimeout(new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error(`${nsp}: connected, expected connect_error`)));
    socket.once('connect_error', (err) => resolve(err));
  }), DEFAULT_TIMEOUT_MS, `connect_error on ${nsp}`);
}

// emit with an ack, answered within the timeout; resolves with the ack's
// first argument.
function ack(socket, ...args) {
  return socket.timeout(DEFAULT_TIMEOUT_MS).emitWithAck(...args);
}

// emit with an ack; resolves with every argument of the ack.
function ackAll(socket, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(DEFAULT_TIMEOUT_MS).emit(...args, (err, ...reply) => (err ? reject(err) : resolve(reply)));
  });
}

// Resolves with the disconnect reason.
function waitDisconnect(socket, timeoutMs = DEFAULT_TIMEOUT_MS) {
  if (!socket.connected && socket.disconnectReason) return Promise.resolve(socket.disconnectReason);
  return withTimeout(new Promise((resolve) => socket.once('disconnect', resolve)), timeoutMs,
                     `disconnect of ${socket.nsp} (${socket.id})`);
}

function onceEvent(emitter, event, timeoutMs = DEFAULT_TIMEOUT_MS) {
  return withTimeout(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), timeoutMs,
                     `"${event}"`);
}

// A raw Engine.IO v4 client over WebSocket, for malformed input and
// protocol-level checks. Answers pings unless `answerPings` is false.
class RawEngine {
  constructor(url, {answerPings = true, query = ''} = {}) {
    const wsUrl = url.replace(/^http/, 'ws') + `/socket.io/?EIO=4&transport=websocket${query}`;
    this.ws = new WebSocket(wsUrl);
    this.answerPings = answerPings;
    this.messages = [];  // {data: string|Buffer, binary}
    this.waiters = [];
    this.closed = false;
    this.closeInfo = null;
    opened.add({close: () => this.ws.terminate()});
    this.ws.on('message', (data, isBinary) => {
      const message = isBinary ? data : data.toString();
      if (this.openedAt === undefined && message[0] === '0') this.openedAt = Date.now();
      if (this.answerPings && message === '2') this.ws.send('3');
      this.messages.push(message);
      this.check();
    });
    this.closePromise = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closed = true;
        this.closeInfo = {code, reason: reason.toString(), at: Date.now()};
        this.check();
        resolve(this.closeInfo);
      });
    });
    this.ws.on('error', () => {});  // surfaced as close
  }

  check() {
    this.waiters = this.waiters.filter((w) => !w());
  }

  // Resolves with the first message (string or Buffer) matching `predicate`.
  waitMessage(predicate, timeoutMs = DEFAULT_TIMEOUT_MS, what = 'a message') {
    return withTimeout(new Promise((resolve, reject) => {
      const test = () => {
        const hit = this.messages.find(predicate);
        if (hit !== undefined) {
          resolve(hit);
          return true;
        }
        if (this.closed) {
          reject(new Error(`closed (${JSON.stringify(this.closeInfo)}) before ${what}; got ${JSON.stringify(this.messages)}`));
          return true;
        }
        return false;
      };
      if (!test()) this.waiters.push(test);
    }), timeoutMs, what);
  }

  // The Engine.IO open packet's JSON.
  async open(timeoutMs = DEFAULT_TIMEOUT_MS) {
    const packet = await this.waitMessage((m) => typeof m === 'string' && m.startsWith('0'), timeoutMs, 'open packet');
    return JSON.parse(packet.slice(1));
  }

  // Sends CONNECT for `nsp` and resolves with the CONNECT answer's JSON.
  async connectNamespace(nsp = '/', auth) {
    const prefix = nsp === '/' ? '' : `${nsp},`;
    this.send(`40${prefix}${auth ? JSON.stringify(auth) : ''}`);
    const answer = await this.waitMessage((m) => typeof m === 'string' && m.startsWith(`40${prefix}{`), DEFAULT_TIMEOUT_MS,
                                          `CONNECT answer for ${nsp}`);
    return JSON.parse(answer.slice(2 + prefix.length));
  }

  send(data) {
    this.ws.send(data);
  }

  waitClose(timeoutMs = DEFAULT_TIMEOUT_MS) {
    return withTimeout(this.closePromise, timeoutMs, 'the server to close the WebSocket');
  }
}

// Polls `condition` (sync or async) every 20 ms until it returns a truthy
// value, which it returns; fails after timeoutMs naming `what`. For states
// nothing announces (a metric, a process gone).
async function until(what, condition, timeoutMs = DEFAULT_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Waits until a CONNECT to `nsp` through `url` succeeds (a service that
// admits it is there and subscribed), disconnecting each success.
function untilConnects(url, nsp, options, timeoutMs = 15000) {
  return until(`a CONNECT to ${nsp} to be admitted`, async () => {
    try {
      (await connect(url, nsp, options)).disconnect();
      return true;
    } catch {
      return false;
    }
  }, timeoutMs);
}

// Reconnects the same socket object (it holds the recovery pid and the last
// offset) through `url`.
function reconnectVia(socket, url) {
  socket.io.uri = url;
  return withTimeout(new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
    socket.connect();
  }), DEFAULT_TIMEOUT_MS, `reconnect of ${socket.nsp} via ${url}`);
}

// Drops the transport under a connected socket without a DISCONNECT packet
// (for the server a "transport close", which is recoverable); resolves with
// the client's disconnect reason ("forced close").
async function dropTransport(socket) {
  socket.io.engine.close();
  return waitDisconnect(socket);
}

// Publishes `value` as event `msg` to `room` through `publisher` (the
// `publish` convention), again until acknowledged, while its gateway has no
// broker (a broker restart, a failover).
async function publishUntilAcked(publisher, room, value, timeoutMs = 10000) {
  await until(`publish ${value}`, async () => {
    const reply = await withTimeout(ack(publisher, 'publish', room, 'msg', value), DEFAULT_TIMEOUT_MS, 'publish ack');
    return reply && reply.ok === true;
  }, timeoutMs);
}

// Reconnects `socket` (the events `msg` 0, 1, ... were published to `room`
// while it was away) through `url` and checks that its session recovered as
// `sid`, and that once a marker `last` is published through `publisher` it
// holds every `msg` 0..last, in order, each once (a duplicate would come
// before the marker).
async function expectRecoveredEveryEvent(socket, url, sid, publisher, room, last) {
  await reconnectVia(socket, url);
  assert.equal(socket.recovered, true, 'socket.recovered');
  assert.equal(socket.id, sid, 'same socket id');
  await publishUntilAcked(publisher, room, last);
  await socket.rec.waitFor('msg', (v) => v === last);
  assert.deepEqual(socket.rec.received('msg').map((e) => e.args[0]), Array.from({length: last + 1}, (_, i) => i),
                   'in order, each once');
}

function closeAll() {
  for (const s of opened) {
    try {
      if (typeof s.disconnect === 'function') s.disconnect();
      else s.close();
    } catch {
      // already closed
    }
  }
  opened.clear();
}

// Publishes probes (the `publish` convention) from `from` to `room` until
// `to` receives one (both gateways are routing again, e.g. after a broker
// fault); resolves with the number of probes sent.
async function probeUntilDelivered(from, to, room, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (let k = 0; Date.now() < deadline; k++) {
    try {
      await from.timeout(1000).emitWithAck('publish', room, 'probe', {k});
    } catch {
      // no ack while the gateway has no broker: try again
    }
    try {
      await to.rec.waitFor('probe', (m) => m.k === k, 300);
      return k + 1;
    } catch {
      // not routed yet
    }
  }
  throw new Error(`no probe from ${from.id} reached ${to.id} within ${timeoutMs} ms`);
}

module.exports = {
  DEFAULT_TIMEOUT_MS,
  Recorder,
  RawEngine,
  ack,
  ackAll,
  clientOptions,
  closeAll,
  connect,
  connectError,
  connectVia,
  dropTransport,
  expectRecoveredEveryEvent,
  newManager,
  probeUntilDelivered,
  publishUntilAcked,
  waitConnected,
  onceEvent,
  reconnectVia,
  until,
  untilConnects,
  waitDisconnect,
  withTimeout,
};
