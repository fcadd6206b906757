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
const path = require('node:path');
const {Child} = require('../harness/process');
const {startStack, ns, TARGET, BIN_DIR} = require('../harness/stack');
const {ack, closeAll, connect} = require('../harness/client');

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
