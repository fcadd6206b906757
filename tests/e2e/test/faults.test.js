'use strict';
// Faults: the stock socket.io-client against real roomq processes
// that die or are stopped under it.
//
//   broker SIGKILL + restart on the same ports: browser connections stay
//     open (no disconnect event), the gateways notice the new broker and
//     resubscribe by themselves, and what is published afterwards arrives,
//     exactly once and in order;
//   gateway SIGKILL: a client behind a failover TCP proxy (what a load
//     balancer does: the next upstream when one refuses) reconnects to the
//     other gateway and chats;
//   gateway SIGTERM: the gateway stops accepting at once, closes every
//     client's transport right away (reason "transport close", so clients
//     reconnect elsewhere by themselves), delivers what it had queued for a
//     client before the signal, and exits 0 within the bound.
//
// roomq only: the reference target is one Node process serving every
// "gateway" with an in-process adapter, so there is no broker to kill and
// no gateway to kill alone.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const {startStack, ns, TARGET} = require('../harness/stack');
const {failoverProxy} = require('../harness/proxy');
const {ack, closeAll, connect, probeUntilDelivered, until, waitDisconnect, withTimeout} = require('../harness/client');

const ROOMQ_ONLY = TARGET === 'reference' ? 'roomq only: the reference server has no broker or separate gateways' : false;
// A gateway must be gone this long after SIGTERM (it flushes, then exits).
const SIGTERM_EXIT_BOUND_MS = 5000;

let stack;
before(async () => {
  if (ROOMQ_ONLY) return;
  stack = await startStack({gateways: 2, config: {namespaces: [ns('/', {relay: 'none'})]}});
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

async function join(socket, room) {
  assert.deepEqual(await ack(socket, 'join', room), {ok: true});
}

function ws(url, options = {}) {
  return connect(url, '/', {transports: ['websocket'], ...options});
}

// A socket that reconnects by itself (fast) and rejoins `room` on every
// connect; `socket.joined` is the latest join's ack.
async function reconnectingMember(url, room, transports = ['websocket']) {
  const socket = await ws(url, {reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 200,
                                randomizationFactor: 0, transports});
  socket.connects = 1;
  socket.joined = ack(socket, 'join', room);
  socket.io.on('reconnect', () => {
    socket.connects++;
    socket.joined = ack(socket, 'join', room);
  });
  assert.deepEqual(await socket.joined, {ok: true});
  return socket;
}

function scrape(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function sample(text, name) {
  const m = new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function refusesConnections(url) {
  const {hostname, port} = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

test('broker SIGKILL and restart: clients stay connected, gateways resubscribe, later messages arrive',
     {skip: ROOMQ_ONLY}, async () => {
       const [A, B] = stack.urls;
       const a = await ws(A);
       const b = await ws(B);
       await join(a, 'faults');
       await join(b, 'faults');
       assert.deepEqual(await ack(a, 'publish', 'faults', 'before', 1), {ok: true});
       assert.deepEqual(await b.rec.waitFor('before'), [1]);

       const killed = Date.now();
       await stack.killBroker();
       await stack.restartBroker();
       // Both directions routed again: both gateways resubscribed.
       await probeUntilDelivered(a, b, 'faults');
       await probeUntilDelivered(b, a, 'faults');
       const recoveredMs = Date.now() - killed;

       // Published after the broker is back: every one arrives, once, in order.
       const N = 50;
       for (let i = 0; i < N; i++) a.emit('publish', 'faults', 'after', {from: 'a', i});
       for (let i = 0; i < N; i++) b.emit('publish', 'faults', 'after', {from: 'b', i});
       assert.deepEqual(await ack(a, 'publish', 'faults', 'after', {from: 'a', i: 'end'}), {ok: true});
       assert.deepEqual(await ack(b, 'publish', 'faults', 'after', {from: 'b', i: 'end'}), {ok: true});
       await b.rec.waitFor('after', (m) => m.from === 'a' && m.i === 'end');
       await a.rec.waitFor('after', (m) => m.from === 'b' && m.i === 'end');
       const expected = [...Array(N).keys(), 'end'];
       assert.deepEqual(b.rec.received('after').map((e) => e.args[0].i), expected);
       assert.deepEqual(a.rec.received('after').map((e) => e.args[0].i), expected);

       // The browser connections never noticed.
       for (const s of [a, b]) {
         assert.equal(s.connected, true);
         assert.equal(s.disconnectReason, undefined);
       }
       assert.ok(recoveredMs < 10000, `routing recovered ${recoveredMs} ms after the kill`);
       console.log(`# broker SIGKILL -> routing on both gateways again: ${recoveredMs} ms`);
     });

test('gateway SIGKILL: the client reconnects to the other gateway and chats', {skip: ROOMQ_ONLY}, async () => {
  const g1 = await stack.addGateway();
  const g2 = await stack.addGateway();
  const proxy = await failoverProxy([g1.url, g2.url]);
  try {
    const peer = await ws(g2.url);  // directly on the gateway that survives
    await join(peer, 'failover');
    const client = await reconnectingMember(proxy.url, 'failover');
    assert.deepEqual(await ack(client, 'publish', 'failover', 'chat', 'via g1'), {ok: true});
    assert.deepEqual(await peer.rec.waitFor('chat'), ['via g1']);

    const killed = Date.now();
    g1.child.proc.kill('SIGKILL');
    await withTimeout(new Promise((resolve) => client.io.once('reconnect', resolve)), 10000, 'reconnect');
    assert.deepEqual(await client.joined, {ok: true});
    const reconnectedMs = Date.now() - killed;
    assert.equal(client.connects, 2);
    assert.match(client.disconnectReason, /^transport (close|error)$/);

    // Chat both ways through the other gateway.
    assert.deepEqual(await ack(client, 'publish', 'failover', 'chat', 'via g2'), {ok: true});
    assert.deepEqual(await peer.rec.waitFor('chat', (m) => m === 'via g2'), ['via g2']);
    assert.deepEqual(await ack(peer, 'publish', 'failover', 'chat', 'to client'), {ok: true});
    assert.deepEqual(await client.rec.waitFor('chat', (m) => m === 'to client'), ['to client']);
    await g1.child.exitPromise;
    assert.equal(g1.child.exitSignal, 'SIGKILL');
    console.log(`# gateway SIGKILL -> client reconnected via the other gateway and rejoined: ${reconnectedMs} ms`);
  } finally {
    proxy.close();
  }
});

test('gateway SIGTERM: stops accepting, closes clients at once, flushes what it queued, exits 0 in time',
     {skip: ROOMQ_ONLY}, async () => {
       // A generous outbound bound, so the backlog below stays queued instead
       // of disconnecting the stalled client.
       const g = await stack.addGateway(['--max-outbound-bytes', String(64 << 20)]);
       const other = stack.urls[1];
       const proxy = await failoverProxy([g.url, other]);
       try {
         const sender = await ws(other);
         const stalled = await ws(g.url);
         await join(stalled, 'drain');
         const roaming = await reconnectingMember(proxy.url, 'drain');  // on g, falls over to `other`
         assert.equal(roaming.io.engine.transport.name, 'websocket');
         const polling = await reconnectingMember(proxy.url, 'drain', ['polling']);
         assert.equal(polling.io.engine.transport.name, 'polling');

         // The stalled client stops reading; a backlog piles up for it in g:
         // more than the kernel buffers take, so part of it is in g's own
         // outbound queue when the signal comes.
         stalled.io.engine.transport.ws._socket.pause();
         const N = 160;
         const pad = 'x'.repeat(40000);
         const acks = [];
         for (let i = 0; i < N; i++) acks.push(ack(sender, 'publish', 'drain', 'backlog', {i, pad}));
         for (const reply of await Promise.all(acks)) assert.deepEqual(reply, {ok: true});
         for (const s of [roaming, polling]) {
           await s.rec.waitUntil(() => s.rec.received('backlog').length === N, 10000, 'the backlog');
         }
         const queued = await until('a backlog queued in the gateway', async () => {
           const metrics = await scrape(stack.metricsUrl(g.url));
           return sample(metrics, 'roomq_gateway_outbound_queued_bytes') > 0 ? metrics : null;
         });
         const queuedBytes = sample(queued, 'roomq_gateway_outbound_queued_bytes');

         const signalled = Date.now();
         g.child.proc.kill('SIGTERM');
         // Stops accepting at once (the stalled session keeps it alive).
         await until('the listener to close', () => refusesConnections(g.url), 2000);
         // Tells its clients at once: the roaming one gets a transport close
         // (not "io server disconnect", which would stop it reconnecting)
         // and reconnects to the other gateway by itself.
         // The polling one learns it at its next poll, also at once.
         const reconnected = [roaming, polling].map(
             (s) => withTimeout(new Promise((resolve) => s.io.once('reconnect', resolve)), 5000, 'reconnect'));
         assert.equal(await waitDisconnect(roaming, 2000), 'transport close');
         const toldMs = Date.now() - signalled;
         assert.match(await waitDisconnect(polling, 2000), /^transport (close|error)$/);
         const pollingToldMs = Date.now() - signalled;
         await Promise.all(reconnected);
         assert.deepEqual(await roaming.joined, {ok: true});
         assert.deepEqual(await polling.joined, {ok: true});

         // The stalled client reads again: everything queued before the
         // signal arrives, in order, then the close.
         stalled.io.engine.transport.ws._socket.resume();
         assert.equal(await waitDisconnect(stalled, SIGTERM_EXIT_BOUND_MS), 'transport close');
         assert.deepEqual(stalled.rec.received('backlog').map((e) => e.args[0].i), [...Array(N).keys()]);

         await withTimeout(g.child.exitPromise, SIGTERM_EXIT_BOUND_MS, 'the gateway to exit');
         const exitedMs = Date.now() - signalled;
         assert.equal(g.child.exitCode, 0, g.child.tail());
         assert.ok(exitedMs < SIGTERM_EXIT_BOUND_MS, `exited ${exitedMs} ms after SIGTERM`);

         // The roaming client chats through the other gateway.
         assert.deepEqual(await ack(sender, 'publish', 'drain', 'after', 'hello again'), {ok: true});
         assert.deepEqual(await roaming.rec.waitFor('after'), ['hello again']);
         assert.deepEqual(await polling.rec.waitFor('after'), ['hello again']);
         console.log(`# gateway SIGTERM: clients told in ${toldMs} ms (polling ${pollingToldMs} ms), ` +
                     `${queuedBytes} bytes queued in the gateway ` +
                     `flushed, exit 0 after ${exitedMs} ms`);
       } finally {
         proxy.close();
       }
     });
