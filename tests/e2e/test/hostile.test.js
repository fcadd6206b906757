'use strict';
// Hostile clients hurt only themselves: attacks made of well-formed input,
// each with a bystander that must not notice. (The publish-authorization
// attacks are in rooms.test.js, next to the rules they test.)
//
// Topic exhaustion (below): the broker holds at most --max-topics-per-peer topics
// per gateway. A subscription the broker refused must be an error for the
// client that asked, never {"ok":true} for a membership that receives
// nothing. roomq only: the reference server has no broker.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const {Child} = require('../harness/process');
const {startStack, ns, TARGET, BIN_DIR} = require('../harness/stack');
const {DEFAULT_TIMEOUT_MS, ack, closeAll, connect, withTimeout} = require('../harness/client');

const TOPIC_LIMIT = 50;
const ROOMQ_ONLY = TARGET === 'reference' ? 'roomq feature: the reference server has no broker' : false;

let stack;
before(async () => {
  stack = await startStack({
    config: {namespaces: [ns('/', {relay: 'none'})]},
    brokerFlags: ['--max-topics-per-peer', String(TOPIC_LIMIT)],
  });
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

test('a room the broker refused is an error, and the rooms it accepted keep working', {skip: ROOMQ_ONLY},
     async () => {
       const [attacker, bystander] = await Promise.all([
         connect(stack.url, '/', {transports: ['websocket']}),
         connect(stack.url, '/', {transports: ['websocket']}),
       ]);
       assert.deepEqual(await ack(bystander, 'join', 'kept'), {ok: true});
       // The gateway also holds a topic per socket (its own room) and one per
       // namespace: fewer than TOPIC_LIMIT + 10 joins are accepted.
       const replies = [];
       for (let i = 0; i < TOPIC_LIMIT + 10; i++) replies.push(await ack(attacker, 'join', `flood-${i}`));
       const refused = replies.filter((r) => r && typeof r.error === 'string');
       const accepted = replies.filter((r) => r && r.ok === true);
       assert.ok(refused.length >= 10, `refused ${refused.length} of ${replies.length}`);
       assert.equal(accepted.length + refused.length, replies.length);
       for (const r of refused) assert.match(r.error, /the broker refused the room/);
       // The bystander's room, accepted before, still works.
       const publisher = await connect(stack.url, '/', {transports: ['websocket']});
       assert.deepEqual(await ack(publisher, 'publish', 'kept', 'news', 'still here'), {ok: true});
       assert.deepEqual(await bystander.rec.waitFor('news'), ['still here']);
       assert.ok(attacker.connected);
     });

// One event of two 900 KB attachments (each WebSocket message under
// --max-payload): roomq bounds the event as a whole (--max-event-bytes,
// default --max-payload) and disconnects its sender, so no recipient's
// outbound bound (--max-outbound-bytes, 1 MiB) can be crossed by one event.
// Before that bound, every other socket of the namespace was cut off. npm
// socket.io bounds each message only and relays the 1.8 MB event; on both,
// the bystanders stay connected and get the next event.
test('an event over --max-event-bytes closes only its sender; bystanders keep receiving', async () => {
  const big = await startStack({config: {namespaces: [ns('/', {relay: 'broadcast'})]}});
  try {
    const open = () => connect(big.url, '/', {transports: ['websocket']});
    const [attacker, a, b, speaker] = await Promise.all([open(), open(), open(), open()]);
    const closed = new Promise((resolve) => attacker.once('disconnect', resolve));
    attacker.emit('blob', Buffer.alloc(900 * 1024, 1), Buffer.alloc(900 * 1024, 2));
    if (TARGET === 'roomq') {
      assert.ok(['transport close', 'parse error'].includes(await closed), 'the sender is disconnected');
    }
    speaker.emit('after', 'still here');
    for (const s of [a, b]) {
      assert.deepEqual(await s.rec.waitFor('after'), ['still here']);
      // roomq: the sender was closed before the event was complete, so
      // nothing of it was ever published. Socket.IO relays it whole.
      if (TARGET === 'roomq') assert.equal(s.rec.received('blob').length, 0);
      else await s.rec.waitFor('blob');
      assert.ok(s.connected);
    }
  } finally {
    await big.stop();
  }
});

test('the gateway refuses to start when --max-event-bytes does not fit --max-outbound-bytes',
     {skip: ROOMQ_ONLY}, async () => {
       const child = new Child('gateway-event-bound', path.join(BIN_DIR, 'roomq-gateway'),
                               ['--listen', '127.0.0.1:0', '--broker-pub', stack.brokerPub, '--broker-sub',
                                stack.brokerSub, '--max-event-bytes', '2000000']);
       await child.waitForLine(/--max-event-bytes \(2000000\) plus \d+ bytes of framing must fit/);
       await child.exitPromise;
       assert.equal(child.exitCode, 2);
     });

// A raw WebSocket client on a bare TCP socket: the upgrade, Engine.IO open,
// Socket.IO CONNECT and a join spoken by hand, so that afterwards it can
// stop reading (pause) and write ping frames straight to the socket, which
// no WebSocket library lets a client do.
class RawPinger {
  constructor(url) {
    const {hostname, port} = new URL(url);
    this.host = `${hostname}:${port}`;
    this.socket = net.connect(Number(port), hostname);
    this.buffer = Buffer.alloc(0);
    this.upgraded = false;
    this.frames = [];  // text frames received
    this.waiters = [];
    this.closed = false;
    this.closePromise = new Promise((resolve) => this.socket.once('close', () => {
      this.closed = true;
      this.check();
      resolve();
    }));
    this.socket.on('error', () => {});  // surfaced as close
    this.socket.on('data', (chunk) => this.onData(chunk));
  }

  async open(nsp, room) {
    this.socket.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${this.host}\r\n` +
                      'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
                      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await this.waitFrame((f) => f.startsWith('0{'), 'open packet');
    this.sendText(nsp === '/' ? '40' : `40${nsp},`);
    await this.waitFrame((f) => f.startsWith('40'), 'CONNECT answer');
    this.sendText(`421${JSON.stringify(['join', room])}`);
    const answer = await this.waitFrame((f) => f.startsWith('431'), 'join ack');
    assert.deepEqual(JSON.parse(answer.slice(3)), [{ok: true}]);
  }

  onData(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (!this.upgraded) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      assert.match(this.buffer.subarray(0, end).toString(), /^HTTP\/1\.1 101 /);
      this.upgraded = true;
      this.buffer = this.buffer.subarray(end + 4);
    }
    // Server frames: unmasked, unfragmented.
    for (;;) {
      if (this.buffer.length < 2) break;
      let length = this.buffer[1] & 0x7f;
      let header = 2;
      if (length === 126) {
        if (this.buffer.length < 4) break;
        length = this.buffer.readUInt16BE(2);
        header = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) break;
        length = Number(this.buffer.readBigUInt64BE(2));
        header = 10;
      }
      if (this.buffer.length < header + length) break;
      if ((this.buffer[0] & 0x0f) === 0x1) this.frames.push(this.buffer.subarray(header, header + length).toString());
      this.buffer = this.buffer.subarray(header + length);
    }
    this.check();
  }

  check() {
    this.waiters = this.waiters.filter((w) => !w());
  }

  waitFrame(predicate, what) {
    return withTimeout(new Promise((resolve, reject) => {
      const test = () => {
        const hit = this.frames.find(predicate);
        if (hit !== undefined) resolve(hit);
        else if (this.closed) reject(new Error(`closed before ${what}; got ${JSON.stringify(this.frames)}`));
        else return false;
        return true;
      };
      if (!test()) this.waiters.push(test);
    }), DEFAULT_TIMEOUT_MS, what);
  }

  // A masked client frame; the zero mask key leaves the payload as is.
  static frame(opcode, payload) {
    assert.ok(payload.length <= 125);
    return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
  }

  sendText(text) {
    this.socket.write(RawPinger.frame(0x1, Buffer.from(text)));
  }

  // Stops reading, then writes `count` pings with `size`-byte payloads as
  // fast as the socket takes them. Resolves with the pings written and
  // whether the server closed the connection before all were.
  async flood(count, size) {
    this.socket.pause();
    const perChunk = 500;
    const chunk = Buffer.concat(Array(perChunk).fill(RawPinger.frame(0x9, Buffer.alloc(size, 'p'))));
    let sent = 0;
    while (sent < count && !this.closed) {
      const more = this.socket.write(chunk);
      sent += perChunk;
      if (!more) {
        await new Promise((resolve) => {
          const done = () => {
            this.socket.off('drain', done);
            this.socket.off('close', done);
            resolve();
          };
          this.socket.once('drain', done);
          this.socket.once('close', done);
        });
      }
    }
    return {sent, cutOff: this.closed};
  }

  destroy() {
    this.socket.destroy();
  }
}

function rssKiB(pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function scrapeMetrics(url) {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

function metricValue(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

// Attack 2, amplification: a client that sends pings (here WebSocket pings
// of 125 bytes, the largest a control frame may carry) and never reads the
// pongs. roomq counts every queued reply against --max-outbound-bytes
// (1 MiB) and cuts the client off once its pongs fill it, counted in
// transport_errors_total{reason="outbound_full"}. The reference server
// (npm `ws` under Socket.IO) has no such bound: it buffers every pong, so
// there only the bystander is checked, and both report the server's RSS.
const PINGS = 400000;  // 52 MB of pings, answered by 51 MB of pongs
const MESSAGES = 200;
test('a client that floods pings and never reads is cut off (roomq); a bystander in its room gets every message',
     async (t) => {
       const target = await startStack({config: {namespaces: [ns('/', {relay: 'none'})]}});
       let attacker = null;
       let sampler = null;
       try {
         const room = 'pings';
         const open = () => connect(target.url, '/', {transports: ['websocket']});
         const [bystander, publisher] = await Promise.all([open(), open()]);
         assert.deepEqual(await ack(bystander, 'join', room), {ok: true});
         attacker = new RawPinger(target.url);
         await attacker.open('/', room);
         const pid = target.gateways[0].proc.pid;
         const countersBefore = TARGET === 'roomq' ? await scrapeMetrics(target.url) : '';
         const rss = {before: rssKiB(pid), peak: 0};
         sampler = setInterval(() => (rss.peak = Math.max(rss.peak, rssKiB(pid))), 10);

         const flooding = attacker.flood(PINGS, 125);
         const publishing = (async () => {
           for (let i = 0; i < MESSAGES; i++) {
             assert.deepEqual(await ack(publisher, 'publish', room, 'news', i), {ok: true});
           }
         })();
         const [flood] = await Promise.all([flooding, publishing]);
         const got = await bystander.rec.waitUntil(() => {
           const news = bystander.rec.received('news');
           return news.length >= MESSAGES && news;
         }, 10000, `${MESSAGES} messages`);
         clearInterval(sampler);
         sampler = null;
         rss.peak = Math.max(rss.peak, rssKiB(pid));
         rss.after = rssKiB(pid);
         t.diagnostic(`${TARGET}: ${flood.sent} pings written, cut off: ${flood.cutOff}; server RSS ` +
                      `before ${rss.before} KiB, peak ${rss.peak} KiB, after ${rss.after} KiB`);

         assert.deepEqual(got.map((e) => e.args[0]), Array.from({length: MESSAGES}, (_, i) => i));
         assert.ok(bystander.connected);
         assert.ok(publisher.connected);
         if (TARGET === 'roomq') {
           assert.ok(flood.cutOff, `the attacker was not cut off after ${flood.sent} pings`);
           const series = 'roomq_gateway_transport_errors_total{reason="outbound_full"}';
           const countersAfter = await scrapeMetrics(target.url);
           assert.equal(metricValue(countersAfter, series), metricValue(countersBefore, series) + 1);
           // A generous ceiling: the bound is 1 MiB plus what the kernel buffers.
           assert.ok(rss.peak - rss.before < 64 * 1024, `RSS grew by ${rss.peak - rss.before} KiB`);
         }
       } finally {
         if (sampler) clearInterval(sampler);
         if (attacker) attacker.destroy();
         await target.stop();
       }
     });
