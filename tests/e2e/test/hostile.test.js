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
const path = require('node:path');
const {Child} = require('../harness/process');
const {startStack, ns, TARGET, BIN_DIR} = require('../harness/stack');
const {ack, closeAll, connect, connectError} = require('../harness/client');

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

// As a client behind a load balancer at `address`.
const from = (address) => ({'X-Forwarded-For': address});

async function refusals(url, limit) {
  const text = await (await fetch(`${url}/metrics`)).text();
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
         assert.equal(await refusals(limited.url, 'handshake_rate'), 35 + 1 + 20);
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
         assert.equal(await refusals(limited.url, 'sessions_per_address'), 1);
         // Joins from any of its sockets count together.
         const replies = [];
         for (let i = 0; i < 6; i++) replies.push(await ack(sockets[i % 3], 'join', `flood-${i}`));
         assert.deepEqual(replies.slice(0, 3), [{ok: true}, {ok: true}, {ok: true}]);
         for (const r of replies.slice(3)) assert.deepEqual(r, {error: 'too many rooms for this address'});
         assert.equal(await refusals(limited.url, 'rooms_per_address'), 3);

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
