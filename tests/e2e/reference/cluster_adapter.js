'use strict';
// An in-process stand-in for a Socket.IO cluster adapter (the role the Redis
// adapter plays in a Node deployment, and the broker plays for roomq): every
// Server in this process that uses it sees every other Server's broadcasts
// for a namespace of the same name, so several listeners behave like several
// gateways on one broker.
//
// Broadcast options (rooms, except, flags) are applied by each server to its
// own sockets, exactly as the Redis adapter does: `except` holds the sender's
// socket id, which is a room only on the sender's server, so the sender is
// excluded there and nobody is excluded elsewhere.
//
// Connection state recovery (Socket.IO's connectionStateRecovery, roomq's
// per-namespace `recovery`): for a namespace whose recoveryWindow() is set,
// this adapter does what socket.io-adapter's SessionAwareAdapter does — an
// offset appended to every broadcast event without ack, sessions persisted
// on a recoverable disconnect, missed packets found by offset — but with
// the sessions and the packet log shared by every Server of the process,
// so a client can recover through another listener (as with a Redis
// Streams adapter, and as roomq does through its broker).
//
// Thread safety: Node's single thread; the peer registry is process-global.

const {Adapter} = require('socket.io-adapter');

// namespace name -> Set of adapters, one per Server that has that namespace.
const peers = new Map();
// namespace name -> {sessions: Map(pid -> session), packets: [{id, opts, data, emittedAt}]}
const recoveryState = new Map();
let lastOffset = 0;

function stateOf(name) {
  let state = recoveryState.get(name);
  if (!state) {
    state = {sessions: new Map(), packets: []};
    recoveryState.set(name, state);
  }
  return state;
}

// As socket.io-adapter's shouldIncludePacket.
function shouldIncludePacket(sessionRooms, opts) {
  const included = opts.rooms.size === 0 || sessionRooms.some((room) => opts.rooms.has(room));
  const notExcluded = sessionRooms.every((room) => !opts.except.has(room));
  return included && notExcluded;
}

class LocalClusterAdapter extends Adapter {
  constructor(nsp) {
    super(nsp);
    let set = peers.get(nsp.name);
    if (!set) {
      set = new Set();
      peers.set(nsp.name, set);
    }
    set.add(this);
  }

  // Milliseconds a disconnected session is kept for this namespace, or
  // undefined when recovery is off (server.js overrides it).
  recoveryWindow() {
    return undefined;
  }

  persistSession(session) {
    if (this.recoveryWindow() === undefined) return;
    stateOf(this.nsp.name).sessions.set(session.pid, {...session, disconnectedAt: Date.now()});
  }

  restoreSession(pid, offset) {
    const window = this.recoveryWindow();
    if (window === undefined) return null;
    const state = stateOf(this.nsp.name);
    const session = state.sessions.get(pid);
    if (!session) return null;
    state.sessions.delete(pid);  // a session recovers at most once
    if (session.disconnectedAt + window < Date.now()) return null;
    const threshold = Date.now() - window;
    while (state.packets.length > 0 && state.packets[0].emittedAt < threshold) state.packets.shift();
    const index = state.packets.findIndex((packet) => packet.id === offset);
    if (index === -1) return null;
    const missedPackets = [];
    for (let i = index + 1; i < state.packets.length; i++) {
      if (shouldIncludePacket(session.rooms, state.packets[i].opts)) missedPackets.push(state.packets[i].data);
    }
    return Promise.resolve({...session, missedPackets});
  }

  broadcast(packet, opts) {
    if (this.recoveryWindow() !== undefined && packet.type === 2 && packet.id === undefined &&
        !(opts.flags && opts.flags.volatile)) {
      // Before the peers' copies are taken: every server sends the same offset.
      const id = String(++lastOffset);
      packet.data.push(id);
      stateOf(this.nsp.name).packets.push({id, opts, data: packet.data, emittedAt: Date.now()});
    }
    // Encoding mutates the packet (type, data placeholders): every server
    // gets its own shallow copy, taken before any of them encodes.
    const copies = [];
    if (!(opts.flags && opts.flags.local)) {
      for (const peer of peers.get(this.nsp.name) || []) {
        if (peer !== this) copies.push([peer, {...packet, data: packet.data && [...packet.data]}]);
      }
    }
    super.broadcast(packet, opts);
    for (const [peer, copy] of copies) Adapter.prototype.broadcast.call(peer, copy, opts);
  }

  // As a cluster adapter's broadcast with acks: every server sends the event
  // to its own matching sockets and reports how many (clientCountCallback
  // once per server); serverCount() says how many reports to wait for.
  broadcastWithAck(packet, opts, clientCountCallback, ack) {
    const servers = opts.flags && opts.flags.local ? [this] : [...(peers.get(this.nsp.name) || [])];
    const copies = servers.map((peer) => [peer, {...packet, data: packet.data && [...packet.data]}]);
    for (const [peer, copy] of copies) {
      Adapter.prototype.broadcastWithAck.call(peer, copy, opts, clientCountCallback, ack);
    }
  }

  serverCount() {
    return Promise.resolve((peers.get(this.nsp.name) || new Set()).size);
  }

  // As a cluster adapter's fetchSockets (the Redis adapter asks every
  // server and waits for their answers): every server's matching sockets.
  async fetchSockets(opts) {
    if (opts.flags && opts.flags.local) return super.fetchSockets(opts);
    const all = await Promise.all([...(peers.get(this.nsp.name) || [])].map(
        (peer) => Adapter.prototype.fetchSockets.call(peer, opts)));
    return all.flat();
  }

  close() {
    const set = peers.get(this.nsp.name);
    if (set) {
      set.delete(this);
      if (set.size === 0) peers.delete(this.nsp.name);
    }
    return super.close();
  }
}

module.exports = {LocalClusterAdapter};
