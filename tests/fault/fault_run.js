'use strict';
// The fault-injection run: publishers and stock socket.io clients on three
// gateways and one broker (--data-dir), and in each round a random gateway,
// the broker, or both are SIGKILLed at a random instant and started again.
// At the end every publish the broker acknowledged is accounted for, per
// client: delivered exactly once and in order, or inside a window the
// client was told it could not recover (socket.recovered === false).
//
//   node tests/fault/fault_run.js [--rounds 6] [--seed N] [--rate 50] ...
//   (flags: see FLAGS below; README.md here)
//
// What it covers. Clients and publishers reach the gateways through
// failover TCP proxies (tests/e2e/harness/proxy.js: the first upstream that
// accepts, as a load balancer's health check does), one per gateway order,
// so a client whose gateway dies reconnects by itself (stock reconnection,
// same URL) and lands on a live gateway; a killed gateway is started again
// on its port after a random pause, and later connections prefer it again.
// WebSocket only (a polling session needs sticky routing, which a TCP proxy
// does not give once its first choice changes). A killed broker is started
// again on the same ports and --data-dir. Clients are never told to drop:
// every reconnection is caused by a killed process.
//
// Accounting (per client):
//   - every received event carries its offset "<epoch>-<sequence>"
//     (broker-wide sequence); a client's sequences must rise strictly over
//     the whole run (a repeat = duplicate, lower = out of order), and each
//     publisher's counter must rise strictly per room;
//   - a fresh session (a reconnection with recovered === false) opens a
//     "told" window: from the last event the client had received (its
//     sequence; for an event nobody received, the send time of the client's
//     last event) to the moment its rooms are joined again;
//   - each acknowledged publish to one of the client's rooms that the
//     client did not receive is "told" if it lies in such a window, else a
//     SILENT GAP;
//   - publishes without a receipt (the publisher's gateway or the broker
//     died first, or an error answer) are counted apart: delivered or not,
//     both are allowed, but never twice or out of order.
// Pass: zero silent gaps, zero duplicates, zero out of order, every client
// back and caught up at the end; and, unless --allow-fresh, no fresh
// session after a round that killed ONE process (the broker's socket
// records make every such reconnection recoverable; "both" rounds may tell).
//
// --pair: a primary/backup pair of brokers (broker/failover/README.md,
// --pair-ack both, each with its own --data-dir) instead of one broker;
// a broker round SIGKILLs whichever broker is active now (the other one
// takes over with the same epoch), or one time in four the passive one,
// and starts it again, and it comes back passive. A round heals only once the passive broker holds the active
// one's snapshot again, so every failover finds a complete replica.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const E2E = path.join(__dirname, '..', 'e2e');
const {startStack, ns} = require(path.join(E2E, 'harness', 'stack'));
const {closeAll, connect, until} = require(path.join(E2E, 'harness', 'client'));
const {failoverProxy} = require(path.join(E2E, 'harness', 'proxy'));
const {account, key} = require('./accounting');

const FLAGS = {
  rounds: 6,            // fault rounds
  seed: Date.now() % 0x7fffffff,
  rate: 50,             // publishes per second per publisher
  publishers: 4,
  clients: 12,
  rooms: 6,
  gateways: 3,
  pair: false,          // a failover pair of brokers (--pair-ack both): the active one is killed
  'min-gap-ms': 800,    // steady publishing before a round's kill: uniform in [min, max]
  'max-gap-ms': 2500,
  'max-down-ms': 1000,  // a killed process stays down uniform in [0, max]
  'heal-ms': 20000,     // bound on every client and publisher being back after a round
  window: '120s',       // the namespace's recovery window
  'allow-fresh': false, // do not fail on fresh sessions after one-process rounds
};

function parseFlags(argv) {
  const flags = {...FLAGS};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !(m[1] in flags)) throw new Error(`unknown argument ${argv[i]}; flags: ${Object.keys(FLAGS).join(', ')}`);
    if (typeof flags[m[1]] === 'boolean') {
      flags[m[1]] = m[2] === undefined ? true : m[2] === 'true';
      continue;
    }
    const value = m[2] !== undefined ? m[2] : argv[++i];
    flags[m[1]] = typeof FLAGS[m[1]] === 'number' ? Number(value) : value;
    if (typeof FLAGS[m[1]] === 'number' && !Number.isFinite(flags[m[1]])) throw new Error(`--${m[1]} needs a number`);
  }
  return flags;
}

// mulberry32: a small seeded generator, so a failing run can be replayed
// (the kill schedule; process timing itself is not replayable).
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const room = (k) => `r${k}`;

function parseOffset(offset) {
  const m = /^(\d+)-(\d+)$/.exec(offset);
  if (!m) throw new Error(`offset ${JSON.stringify(offset)} is not <epoch>-<sequence>`);
  return {epoch: m[1], seq: Number(m[2])};
}

const reconnecting = {reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 500, randomizationFactor: 0.2,
                      transports: ['websocket']};

// A stock client in `rooms` that rejoins them on every fresh session and
// records what it receives and every (re)connection.
class Member {
  constructor(index, url, rooms, clock) {
    this.index = index;
    this.url = url;
    this.rooms = rooms;
    this.clock = clock;
    this.received = [];  // {p, n, r, epoch, seq, t}
    this.connects = [];  // {t, recovered, id, round}
    this.windows = [];   // told windows: {fromSeq, fromT, start, end, round}
    this.joined = false;  // the current session has joined every room
  }

  async start() {
    this.socket = await connect(this.url, '/', reconnecting);
    this.socket.on('msg', (payload, offset) => this.onMsg(payload, offset));
    this.socket.on('connect', () => this.onConnect());
    this.connects.push({t: this.clock.now(), recovered: false, id: this.socket.id, round: this.clock.round});
    await this.join();
  }

  onMsg(payload, offset) {
    const {epoch, seq} = parseOffset(offset);
    this.received.push({p: payload.p, n: payload.n, r: payload.r, epoch, seq, t: this.clock.now()});
  }

  onConnect() {
    const recovered = this.socket.recovered === true;
    const t = this.clock.now();
    this.connects.push({t, recovered, id: this.socket.id, round: this.clock.round});
    if (!recovered) {
      const last = this.received[this.received.length - 1];
      this.windows.push({fromSeq: last ? last.seq : -1, fromEpoch: last ? last.epoch : null, fromKey: last ? key(last.p, last.n) : null,
                         start: t, end: null, round: this.clock.round});
      this.joined = false;
    }
    // A recovered session has the rooms it had; one that lost its transport
    // before every join was answered joins again (join is idempotent).
    if (!this.joined) this.join().catch(() => {});
  }

  async join() {
    const socket = this.socket;
    const replies = await Promise.all(this.rooms.map((r) => socket.timeout(5000).emitWithAck('join', r)));
    for (const reply of replies) if (!reply || reply.ok !== true) throw new Error(`join refused: ${JSON.stringify(reply)}`);
    if (!socket.connected) return;
    this.joined = true;
    for (const w of this.windows) if (w.end === null) w.end = this.clock.now();
  }

  get healthy() {
    return this.socket.connected && this.joined;
  }
}

// A publisher: `rate` publishes per second while connected, each to the
// next room in turn, each with an ack (the broker's receipt).
class Publisher {
  constructor(index, url, rooms, rate, clock) {
    this.index = index;
    this.url = url;
    this.rooms = rooms;
    this.interval = 1000 / rate;
    this.clock = clock;
    this.sent = [];  // {p, n, r, t, state: 'pending'|'acked'|'refused'|'no-receipt', error}
    this.skipped = 0;  // ticks while disconnected
    this.pending = new Set();
  }

  async start() {
    this.socket = await connect(this.url, '/', reconnecting);
  }

  run() {
    this.running = true;
    let next = Date.now();
    const tick = () => {
      if (!this.running) return;
      if (this.socket.connected) this.publishOne();
      else this.skipped++;
      // A stalled event loop does not turn into a burst larger than a second's worth.
      next = Math.max(next + this.interval, Date.now() - 1000);
      this.timer = setTimeout(tick, Math.max(0, next - Date.now()));
    };
    tick();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
  }

  publishOne(room = null) {
    const n = this.sent.length;
    const r = room || this.rooms[(this.index + n) % this.rooms.length];
    const entry = {p: this.index, n, r, t: this.clock.now(), state: 'pending', round: this.clock.round};
    this.sent.push(entry);
    const done = this.socket.timeout(10000).emitWithAck('publish', r, 'msg', {p: this.index, n, r}).then(
        (reply) => {
          if (reply && reply.ok === true) {
            entry.state = 'acked';
          } else {
            entry.state = 'refused';
            entry.error = JSON.stringify(reply);
          }
        },
        (err) => {
          entry.state = 'no-receipt';
          entry.error = err.message;
        });
    this.pending.add(done);
    done.finally(() => this.pending.delete(done));
    return {entry, done};
  }

  settled() {
    return Promise.all([...this.pending]);
  }

  get healthy() {
    return this.socket.connected;
  }
}

class Run {
  constructor(flags) {
    this.flags = flags;
    this.random = rng(flags.seed);
    this.round = 0;  // the round whose kill came last (0: none yet)
    this.rounds = [];  // {round, kind, gateway, at}
    this.t0 = Date.now();
  }

  now() {
    return Date.now() - this.t0;
  }

  uniform(lo, hi) {
    return lo + (hi - lo) * this.random();
  }

  pick(n) {
    return Math.floor(this.random() * n);
  }

  log(line) {
    console.log(`[${(this.now() / 1000).toFixed(2)}s] ${line}`);
  }

  async start() {
    const f = this.flags;
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomq-fault-'));
    const config = {namespaces: [ns('/', {relay: 'none', recovery: {max_disconnection: f.window}})]};
    if (f.pair) {
      this.stack = await startStack({
        gateways: f.gateways, config, brokerPair: true,
        brokerFlags: ['--pair-ack', 'both', '--pair-heartbeat-ms', '100'],
        pairFlags: {primary: ['--data-dir', path.join(this.dataDir, 'primary')],
                    backup: ['--data-dir', path.join(this.dataDir, 'backup')]},
      });
      await this.pairSynced();
    } else {
      this.stack = await startStack({gateways: f.gateways, brokerFlags: ['--data-dir', this.dataDir], config});
    }
    this.log(`broker pub=${this.stack.brokerPub} sub=${this.stack.brokerSub}; gateways ${this.stack.urls.join(' ')}`);
    // Proxy k tries gateway k first, then the next ones in turn.
    this.proxies = [];
    for (let k = 0; k < f.gateways; k++) {
      const order = Array.from({length: f.gateways}, (_, j) => this.stack.urls[(k + j) % f.gateways]);
      this.proxies.push(await failoverProxy(order));
    }
    const rooms = Array.from({length: f.rooms}, (_, k) => room(k));
    this.members = [];
    for (let i = 0; i < f.clients; i++) {
      const mine = f.rooms === 1 ? [room(0)] : [room(i % f.rooms), room((i + 1) % f.rooms)];
      const m = new Member(i, this.proxies[i % f.gateways].url, mine, this);
      await m.start();
      this.members.push(m);
    }
    this.publishers = [];
    for (let p = 0; p < f.publishers; p++) {
      const pub = new Publisher(p, this.proxies[p % f.gateways].url, rooms, f.rate, this);
      await pub.start();
      this.publishers.push(pub);
    }
  }

  async healed(what) {
    const started = Date.now();
    await until(`${what}: every client back and joined, every publisher connected`,
                () => this.members.every((m) => m.healthy) && this.publishers.every((p) => p.healthy), this.flags['heal-ms']);
    if (this.flags.pair) await this.pairSynced();
    return Date.now() - started;
  }

  // With --pair: the role ("primary"/"backup") of the broker that serves
  // now, from the state transitions it logged; null while none does.
  activeRole() {
    for (const role of ['primary', 'backup']) {
      const {child} = this.stack.pairMembers[role];
      let state = null;
      for (const line of child.lines) {
        const m = /pair: \S+ -> (\S+):/.exec(line);
        if (m) state = m[1];
      }
      if (!child.exited && state === 'active') return role;
    }
    return null;
  }

  // With --pair: waits until one broker is active and its passive peer holds
  // its whole replication session (snapshot acknowledged, not ended since).
  async pairSynced() {
    await until('the passive broker to hold the active one\'s snapshot', () => {
      const role = this.activeRole();
      if (!role) return false;
      const lines = this.stack.pairMembers[role].child.lines;
      let session = null;
      let synced = false;
      for (const line of lines) {
        let m = /pair: replicating to the passive broker: session (\w+)/.exec(line);
        if (m) [session, synced] = [m[1], false];
        m = /pair: the passive broker holds the snapshot of session (\w+)/.exec(line);
        if (m && m[1] === session) synced = true;
        if (/pair: replication session \w+ ended/.test(line)) synced = false;
      }
      return synced;
    }, this.flags['heal-ms']);
  }

  async faultRound(r) {
    const f = this.flags;
    await delay(this.uniform(f['min-gap-ms'], f['max-gap-ms']));
    const dice = this.random();
    const kind = dice < 0.5 ? 'gateway' : dice < 0.8 ? 'broker' : 'both';
    const gateway = this.pick(f.gateways);
    const downMs = Math.round(this.uniform(0, f['max-down-ms']));
    this.round = r;
    const at = this.now();
    const rec = {round: r, kind, gateway: kind === 'broker' ? null : gateway, at, downMs};
    this.rounds.push(rec);
    this.log(`round ${r}: SIGKILL ${kind === 'gateway' ? `gateway ${gateway}` : kind === 'broker' ? 'broker' : `broker + gateway ${gateway}`}, down ${downMs} ms`);
    const kills = [];
    // With a pair, a broker round kills the active broker, or one time in
    // four the passive one (the active then goes on alone until it is back).
    let brokerRole = null;
    let killsActive = true;
    if (f.pair) {
      const active = this.activeRole();
      killsActive = this.random() >= 0.25;
      brokerRole = killsActive ? active : (active === 'primary' ? 'backup' : 'primary');
    }
    if (kind !== 'gateway') kills.push(f.pair ? this.stack.killPairMember(brokerRole) : this.stack.killBroker());
    if (kind !== 'broker') kills.push(this.stack.killGateway(gateway));
    await Promise.all(kills);
    if (brokerRole && kind !== 'gateway') {
      rec.broker = killsActive ? 'active' : 'passive';
      this.log(`round ${r}: the killed broker was the ${rec.broker} ${brokerRole}`);
    }
    await delay(downMs);
    if (kind !== 'gateway') await (f.pair ? this.stack.restartPairMember(brokerRole) : this.stack.restartBroker());
    if (kind !== 'broker') await this.stack.startGatewayAgain(gateway);
    await this.healed(`round ${r}`);
    rec.healMs = this.now() - at;
    this.log(`round ${r}: every client back and joined ${rec.healMs} ms after the kill`);
  }

  // After the last round: publishing stops, every ack settles, then one
  // acknowledged marker per room (publisher 0); every member must get the
  // markers of its rooms. Anything acknowledged before a marker was
  // published is then either delivered or missed for good.
  async finish() {
    for (const p of this.publishers) p.stop();
    await this.healed('the end');
    await Promise.all(this.publishers.map((p) => p.settled()));
    const markers = [];
    for (let k = 0; k < this.flags.rooms; k++) {
      await until(`an acknowledged marker to ${room(k)}`, async () => {
        const {entry, done} = this.publishers[0].publishOne(room(k));
        await done;
        if (entry.state === 'acked') markers.push(entry);
        return entry.state === 'acked';
      }, this.flags['heal-ms']);
    }
    await Promise.all(this.members.map((m) => Promise.all(m.rooms.map((r) => {
      const marker = markers.find((e) => e.r === r);
      return until(`client ${m.index} to receive the marker of ${r}`,
                   () => m.received.some((e) => e.p === marker.p && e.n === marker.n), 15000);
    }))));
  }
}

async function main() {
  const flags = parseFlags(process.argv.slice(2));
  console.log(`fault run: seed ${flags.seed} (replay the schedule with --seed ${flags.seed}), ${flags.rounds} rounds, ` +
              `${flags.publishers} publishers x ${flags.rate}/s, ${flags.clients} clients, ${flags.rooms} rooms, ${flags.gateways} gateways`);
  const run = new Run(flags);
  let failed = false;
  try {
    await run.start();
    for (const p of run.publishers) p.run();
    for (let r = 1; r <= flags.rounds; r++) await run.faultRound(r);
    await delay(run.uniform(flags['min-gap-ms'], flags['max-gap-ms']));
    await run.finish();
    const {counts, details} = account(run.publishers, run.members, run.rounds);
    const kinds = run.rounds.reduce((acc, r) => ({...acc, [r.kind]: (acc[r.kind] || 0) + 1}), {});
    console.log(`rounds: ${JSON.stringify(kinds)}; ms from kill to healed: ${run.rounds.map((r) => r.healMs).join(' ')}`);
    console.log('counts:', JSON.stringify(counts, null, 1));
    for (const line of details) console.log(`  ${line}`);
    const problems = [];
    if (counts.silentGaps) problems.push(`${counts.silentGaps} silent gap(s)`);
    if (counts.duplicates) problems.push(`${counts.duplicates} duplicate(s)`);
    if (counts.outOfOrder || counts.streamOrder) problems.push(`${counts.outOfOrder + counts.streamOrder} out of order`);
    if (counts.epochs.length > 1) {
      problems.push(`the epoch changed (${counts.epochs.join(', ')}): ` +
                    (flags.pair ? 'a takeover did not keep it' : '--data-dir did not keep it'));
    }
    if (!flags['allow-fresh'] && counts.freshAfterOneProcess) {
      problems.push(`${counts.freshAfterOneProcess} fresh session(s) after a round that killed one process`);
    }
    if (counts.acked === 0) problems.push('no publish was acknowledged');
    if (problems.length) {
      failed = true;
      console.log(`FAIL (seed ${flags.seed}): ${problems.join('; ')}`);
    } else {
      console.log(`PASS (seed ${flags.seed}): ${counts.acked} acknowledged publishes, ${counts.expected} expected deliveries: ` +
                  `${counts.delivered} delivered once in order, ${counts.told} told, 0 silent gaps, 0 duplicates`);
    }
  } catch (err) {
    failed = true;
    console.log(`FAIL (seed ${flags.seed}): ${err.stack || err}`);
    if (run.stack) console.log(run.stack.tails());
  } finally {
    for (const p of run.publishers || []) p.stop();
    closeAll();
    for (const proxy of run.proxies || []) proxy.close();
    if (run.stack) await run.stack.stop();
    if (run.dataDir) fs.rmSync(run.dataDir, {recursive: true, force: true});
  }
  process.exit(failed ? 1 : 0);
}

if (require.main === module) main();

module.exports = {parseFlags, rng};
