'use strict';
// Hostile clients hurt only themselves: attacks made of well-formed input,
// each with a bystander that must not notice. (The publish-authorization
// attacks are in rooms.test.js, next to the rules they test.)
//
// Per-address limits (below): every e2e client is 127.0.0.1, so the gateway
// trusts it as a load balancer (--trusted-proxy 127.0.0.1/32) and each client
// names its address in X-Forwarded-For. roomq only: Socket.IO has no such
// limits.
//
// Topic exhaustion (below): the broker holds at most --max-topics-per-peer topics
// per gateway. A subscription the broker refused must be an error for the
// client that asked, never {"ok":true} for a membership that receives
// nothing. roomq only: the reference server has no broker.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const {Child} = require('../harness/process');
const {startStack, ns, TARGET, BIN_DIR} = require('../harness/stack');
const {DEFAULT_TIMEOUT_MS, RawEngine, ack, closeAll, connect, connectError, withTimeout} = require('../harness/client');

const TOPIC_LIMIT = 50;
const ROOMQ_ONLY = TARGET === 'reference' ? 'roomq feature: the reference server has no broker' : false;
const PER_ADDRESS = TARGET === 'reference' ? 'roomq feature: Socket.IO has no per-address limits' : false;

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

// Attack 5: namespaces from a config pattern. A polling POST can carry
// thousands of CONNECTs, each to another name matching the pattern, each
// refused by the namespace's auth. roomq creates a pattern namespace only
// for an admitted CONNECT and frees it with its last socket (bounded per io
// thread by --max-dynamic-namespaces, default 10000), and logs refused
// CONNECTs rate-limited (the first 10 of a reason, then one per 1000) with
// the name cut and escaped. Before, every refused CONNECT created a
// namespace that was never freed (10,000 of them filled an io thread, and
// then every new tenant got "Invalid namespace") and wrote its own log line.
// Socket.IO 4.8 (the reference) creates a child namespace of io.of(regex)
// on every matching CONNECT, before its middleware refuses it, and keeps it
// unless the server sets cleanupEmptyChildNamespaces (off by default; then a
// child goes when it has no socket, refused ones included): the reference
// holds 12,000 namespaces after this test, but has no bound that would
// refuse the bystander, and logs nothing for a refusal.
const JWT_ENV = 'ROOMQ_E2E_HOSTILE_JWT_SECRET';
const JWT_SECRET = crypto.randomBytes(24).toString('hex');
const TENANTS = '^/tenant-[a-z0-9-]+$';

function token(claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const signing = `${b64({alg: 'HS256', typ: 'JWT'})}.${b64(claims)}`;
  return `${signing}.${crypto.createHmac('sha256', JWT_SECRET).update(signing).digest('base64url')}`;
}

// A raw Engine.IO polling session (fetch): what a script that wants many
// packets in one request uses instead of socket.io-client.
async function pollingSession(url) {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
  assert.equal(res.status, 200);
  const body = await res.text();
  return JSON.parse(body.slice(1)).sid;
}
async function pollingPost(url, sid, packets) {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`,
                          {method: 'POST', body: packets.join('\x1e'), headers: {'content-type': 'text/plain'}});
  assert.equal(res.status, 200, await res.text());
}
// GETs until `count` packets matching `regex` arrived (each GET returns
// what is queued, or waits for the next packet); resolves with them.
async function pollingDrain(url, sid, regex, count) {
  const seen = [];
  while (seen.length < count) {
    const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(res.status, 200, `the session ended after ${seen.length} of ${count} ${regex}`);
    seen.push(...(await res.text()).split('\x1e').filter((p) => regex.test(p)));
  }
  return seen;
}
async function metricsOf(stack) {
  const res = await fetch(stack.metricsUrl());
  assert.equal(res.status, 200);
  return res.text();
}
function sampleOf(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
function rssKiB(pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

test('Attack 5: 12,000 refused CONNECTs to distinct pattern namespaces; a bystander tenant connects and ' +
     'chats, the log stays bounded', async (t) => {
  process.env[JWT_ENV] = JWT_SECRET;  // inherited by the gateway (or the reference)
  const hostile = await startStack({
    config: {namespaces: [ns(TENANTS, {relay: 'broadcast', auth: {type: 'jwt', secret_env: JWT_ENV}})]},
    // One io thread: its registry sees every CONNECT (the bound is per thread).
    // No message rate: it would refuse most of these CONNECTs before their
    // namespace is even looked at (see the per-address tests below).
    gatewayFlags: TARGET === 'roomq' ? ['--threads', '1', '--message-rate', '0'] : ['--threads', '1'],
  });
  try {
    const gateway = hostile.gateways[0];
    const rssBefore = TARGET === 'roomq' ? rssKiB(gateway.proc.pid) : NaN;
    const linesBefore = gateway.lineCount;
    const sid = await pollingSession(hostile.url);
    const PER_POST = 6000;
    for (let post = 0; post < 2; post++) {
      const packets = [];
      for (let i = 0; i < PER_POST; i++) packets.push(`40/tenant-p${post}-${i},`);
      await pollingPost(hostile.url, sid, packets);
    }
    // Every CONNECT was answered with a CONNECT_ERROR.
    const refusals = await pollingDrain(hostile.url, sid, /^44\/tenant-/, 2 * PER_POST);

    // A bystander tenant with a valid token connects and chats.
    const auth = {token: token({sub: 'bystander', exp: Math.floor(Date.now() / 1000) + 600})};
    const open = () => connect(hostile.url, '/tenant-bystander', {transports: ['websocket'], auth});
    const [alice, bob] = await Promise.all([open(), open()]);
    assert.deepEqual(await ack(alice, 'join', 'lobby'), {ok: true});
    assert.deepEqual(await ack(bob, 'join', 'lobby'), {ok: true});
    assert.deepEqual(await ack(alice, 'publish', 'lobby', 'news', 'published'), {ok: true});
    assert.deepEqual(await bob.rec.waitFor('news'), ['published']);
    alice.emit('chat', 'relayed');
    assert.deepEqual(await bob.rec.waitFor('chat'), ['relayed']);
    // ... and the attacker got what a client without a token gets, each time.
    const reasons = new Set(refusals.map((p) => JSON.parse(p.slice(p.indexOf(',') + 1)).message));
    assert.deepEqual([...reasons], ['missing token']);

    // The log: every line of the attack came before the bystander's
    // connect line (one io thread, in order).
    await gateway.waitForLine(new RegExp(bob.id), {fromStart: true});
    const lines = gateway.lineCount - linesBefore;
    t.diagnostic(`gateway log lines during the attack and the bystander's chat: ${lines}`);
    assert.ok(lines < 100, `${lines} log lines`);

    if (TARGET === 'roomq') {
      const metrics = await metricsOf(hostile);
      assert.equal(sampleOf(metrics, 'roomq_gateway_auth_refusals_total{reason="missing token"}'), 2 * PER_POST);
      assert.equal(sampleOf(metrics, 'roomq_gateway_dynamic_namespaces'), 1, 'only the bystander tenant exists');
      t.diagnostic(`gateway RSS: ${rssBefore} KiB before, ${rssKiB(gateway.proc.pid)} KiB after`);
    }
    alice.disconnect();
    bob.disconnect();
  } finally {
    await hostile.stop();
  }
});

test('a tenant namespace goes with its last socket; at --max-dynamic-namespaces a new tenant is refused ' +
     'until one has gone', async () => {
  const bounded = await startStack({
    config: {namespaces: [ns('/'), ns(TENANTS, {relay: 'broadcast'})]},
    gatewayFlags: ['--threads', '1', '--max-dynamic-namespaces', '2'],
  });
  try {
    const open = (nsp) => connect(bounded.url, nsp, {transports: ['websocket']});
    const one = await open('/tenant-one');
    const two = await open('/tenant-two');
    if (TARGET === 'roomq') {
      const err = await connectError(bounded.url, '/tenant-three', {transports: ['websocket']});
      assert.equal(err.message, 'Too many dynamic namespaces');
      const metrics = await metricsOf(bounded);
      assert.equal(sampleOf(metrics, 'roomq_gateway_refusals_total{limit="max_dynamic_namespaces"}'), 1);
      // Existing tenants and static namespaces are not refused.
      const alsoOne = await open('/tenant-one');
      await open('/');
      const alsoOneId = alsoOne.id;  // socket.io-client forgets it on disconnect
      alsoOne.disconnect();
      await bounded.gateways[0].waitForLine(new RegExp(`socket disconnected: id=${alsoOneId}`));
    }
    // Tenant one's last socket leaves; tenant three gets in and chats.
    const oneId = one.id;
    one.disconnect();
    await bounded.gateways[0].waitForLine(new RegExp(`disconnect.*${oneId}`));
    const three = await open('/tenant-three');
    const threeToo = await open('/tenant-three');
    three.emit('chat', 'hello');
    assert.deepEqual(await threeToo.rec.waitFor('chat'), ['hello']);
    assert.ok(two.connected);
  } finally {
    await bounded.stop();
  }
});

test('a binary event whose attachments do not all arrive within --attachment-timeout-ms closes only its sender',
     {skip: TARGET === 'reference' ? 'roomq limit: Socket.IO waits for attachments without a time bound' : false},
     async () => {
       const slow = await startStack({
         config: {namespaces: [ns('/', {relay: 'broadcast'})]},
         gatewayFlags: ['--attachment-timeout-ms', '300'],
       });
       try {
         const [listener, speaker] = await Promise.all([
           connect(slow.url, '/', {transports: ['websocket']}),
           connect(slow.url, '/', {transports: ['websocket']}),
         ]);
         const attacker = new RawEngine(slow.url);
         await attacker.open();
         await attacker.connectNamespace('/');
         // Announces one attachment and never sends it.
         attacker.send('451-["file",{"_placeholder":true,"num":0}]');
         await attacker.waitClose();
         speaker.emit('after', 'still here');
         assert.deepEqual(await listener.rec.waitFor('after'), ['still here']);
         assert.equal(listener.rec.received('file').length, 0);
         const metrics = await metricsOf(slow);
         assert.equal(sampleOf(metrics, 'roomq_gateway_refusals_total{limit="attachment_timeout"}'), 1);
       } finally {
         await slow.stop();
       }
     });

// As a client behind a load balancer at `address`.
const from = (address) => ({'X-Forwarded-For': address});

async function refusals(stack, limit) {
  const text = await (await fetch(stack.metricsUrl())).text();
  const m = new RegExp(`^roomq_gateway_refusals_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

// Receives `count` events `event` on `socket` and returns their first
// arguments in order.
async function receiveAll(socket, event, count) {
  await socket.rec.waitUntil(() => socket.rec.received(event).length >= count, 10000,
                             `${count} "${event}" events`);
  return socket.rec.received(event).map((e) => e.args[0]);
}

test('an address over --handshake-rate gets 429; a bystander at another address connects and gets every message',
     {skip: PER_ADDRESS}, async () => {
       const limited = await startStack({
         config: {namespaces: [ns('/', {relay: 'none'})]},
         gatewayFlags: ['--trusted-proxy', '127.0.0.1/32', '--handshake-rate', '0.01', '--handshake-burst', '5'],
       });
       try {
         const handshake = async (address) => {
           const res = await fetch(`${limited.url}/socket.io/?EIO=4&transport=polling`, {headers: from(address)});
           return {status: res.status, body: await res.text()};
         };
         const attacker = '198.51.100.7';
         const flood = await Promise.all(Array.from({length: 40}, () => handshake(attacker)));
         assert.equal(flood.filter((r) => r.status === 200).length, 5, 'the burst is admitted');
         const refused = flood.filter((r) => r.status === 429);
         assert.equal(refused.length, 35);
         assert.deepEqual(JSON.parse(refused[0].body), {code: 3, message: 'Too many handshakes from this address'});
         // The stock client at that address is refused too (WebSocket handshake).
         await connectError(limited.url, '/', {transports: ['websocket'], extraHeaders: from(attacker)});

         // While the attacker keeps trying, clients at other addresses behind
         // the same proxy connect (one by polling, then upgrading).
         const more = Promise.all(Array.from({length: 20}, () => handshake(attacker)));
         const [bystander, publisher] = await Promise.all([
           connect(limited.url, '/', {extraHeaders: from('203.0.113.9')}),
           connect(limited.url, '/', {transports: ['websocket'], extraHeaders: from('2001:db8:5:6::1')}),
         ]);
         assert.ok((await more).every((r) => r.status === 429));
         assert.deepEqual(await ack(bystander, 'join', 'news'), {ok: true});
         const sent = Array.from({length: 50}, (_, i) => i);
         for (const i of sent) assert.deepEqual(await ack(publisher, 'publish', 'news', 'item', i), {ok: true});
         assert.deepEqual(await receiveAll(bystander, 'item', sent.length), sent);
         assert.ok(bystander.connected && publisher.connected);
         assert.equal(await refusals(limited, 'handshake_rate'), 35 + 1 + 20);
       } finally {
         await limited.stop();
       }
     });

test('--max-sessions-per-address and --max-rooms-per-address bound one address; a bystander notices nothing',
     {skip: PER_ADDRESS}, async () => {
       const limited = await startStack({
         config: {namespaces: [ns('/', {relay: 'none'})]},
         gatewayFlags: ['--trusted-proxy', '127.0.0.1/32', '--handshake-rate', '0', '--max-sessions-per-address', '3',
                        '--max-rooms-per-address', '9'],
       });
       try {
         const attacker = '198.51.100.8';
         const open = () => connect(limited.url, '/', {transports: ['websocket'], extraHeaders: from(attacker)});
         // Three sessions: each socket holds its own room and the namespace
         // room, 6 of the address's 9 memberships.
         const sockets = [await open(), await open(), await open()];
         await connectError(limited.url, '/', {transports: ['websocket'], extraHeaders: from(attacker)});
         assert.equal(await refusals(limited, 'sessions_per_address'), 1);
         // Joins from any of its sockets count together.
         const replies = [];
         for (let i = 0; i < 6; i++) replies.push(await ack(sockets[i % 3], 'join', `flood-${i}`));
         assert.deepEqual(replies.slice(0, 3), [{ok: true}, {ok: true}, {ok: true}]);
         for (const r of replies.slice(3)) assert.deepEqual(r, {error: 'too many rooms for this address'});
         assert.equal(await refusals(limited, 'rooms_per_address'), 3);

         const bystander = await connect(limited.url, '/', {transports: ['websocket'], extraHeaders: from('203.0.113.20')});
         const publisher = await connect(limited.url, '/', {transports: ['websocket'], extraHeaders: from('203.0.113.21')});
         for (let i = 0; i < 5; i++) assert.deepEqual(await ack(bystander, 'join', `mine-${i}`), {ok: true});
         const sent = Array.from({length: 20}, (_, i) => i);
         for (const i of sent) assert.deepEqual(await ack(publisher, 'publish', `mine-${i % 5}`, 'item', i), {ok: true});
         assert.deepEqual(await receiveAll(bystander, 'item', sent.length), sent);

         // A leave gives the address a membership back.
         assert.deepEqual(await ack(sockets[0], 'leave', 'flood-0'), {ok: true});
         assert.deepEqual(await ack(sockets[1], 'join', 'flood-again'), {ok: true});
         for (const s of sockets) assert.ok(s.connected);
       } finally {
         await limited.stop();
       }
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

async function scrapeMetrics(stack) {
  const res = await fetch(stack.metricsUrl());
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
         const countersBefore = TARGET === 'roomq' ? await scrapeMetrics(target) : '';
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
           const countersAfter = await scrapeMetrics(target);
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
