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
// Thread safety: Node's single thread; the peer registry is process-global.

const {Adapter} = require('socket.io-adapter');

// namespace name -> Set of adapters, one per Server that has that namespace.
const peers = new Map();

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

  broadcast(packet, opts) {
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
