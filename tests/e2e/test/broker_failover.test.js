'use strict';
// Broker failover (broker/failover/README.md): the stock socket.io-client
// through two gateways, each given a primary/backup pair of brokers.
//
//   the primary SIGKILLed: browser connections stay open (no disconnect
//     event), both gateways move to the backup, which turns active for the
//     first of them, and chat goes on: what is published afterwards arrives,
//     exactly once and in order;
//   the old primary started again comes back passive behind the active
//     backup, and chat still goes through the backup.
//
// History and recovery across the failover are recovery_broker_failover's
// (--pair-ack both); this stack runs the default, --pair-ack primary.
//
// roomq only: the reference target has no broker.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns, TARGET} = require('../harness/stack');
const {ack, closeAll, connect, probeUntilDelivered} = require('../harness/client');

const ROOMQ_ONLY = TARGET === 'reference' ? 'roomq only: the reference server has no broker' : false;
const PAIR_FLAGS = ['--pair-heartbeat-ms', '100'];

let stack;
before(async () => {
  if (ROOMQ_ONLY) return;
  stack = await startStack({gateways: 2, brokerPair: true, brokerFlags: PAIR_FLAGS,
                            config: {namespaces: [ns('/', {relay: 'none'})]}});
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

function ws(url) {
  return connect(url, '/', {transports: ['websocket']});
}

async function join(socket, room) {
  assert.deepEqual(await ack(socket, 'join', room), {ok: true});
}

// Publishes `count` events from `from` (the last one acked) and checks that
// `to` received all of them, once, in order.
async function chatInOrder(from, to, tag, count) {
  for (let i = 0; i < count; i++) from.emit('publish', 'pair', tag, {i});
  assert.deepEqual(await ack(from, 'publish', 'pair', tag, {i: 'end'}), {ok: true});
  await to.rec.waitFor(tag, (m) => m.i === 'end');
  assert.deepEqual(to.rec.received(tag).map((e) => e.args[0].i), [...Array(count).keys(), 'end']);
}

test('primary SIGKILLed: clients stay connected and chat goes on through the backup',
     {skip: ROOMQ_ONLY}, async () => {
       const [A, B] = stack.urls;
       const a = await ws(A);
       const b = await ws(B);
       let disconnects = 0;
       for (const socket of [a, b]) socket.on('disconnect', () => disconnects++);
       await join(a, 'pair');
       await join(b, 'pair');
       await chatInOrder(a, b, 'before', 20);

       const killed = Date.now();
       await stack.killBroker();
       await stack.backup.child.waitForLine(/pair: passive -> active: a client came and the active peer was lost/,
                                            {timeoutMs: 15000});
       // Both directions routed again: both gateways moved and resubscribed.
       await probeUntilDelivered(a, b, 'pair', 15000);
       await probeUntilDelivered(b, a, 'pair', 15000);
       console.log(`broker failover: both gateways routing through the backup ${Date.now() - killed} ms ` +
                   'after the primary\'s SIGKILL');

       await chatInOrder(a, b, 'after', 50);
       await chatInOrder(b, a, 'after-b', 50);
       assert.equal(disconnects, 0, 'a client saw a disconnect');
       assert.ok(a.connected && b.connected);
     });

test('the old primary comes back passive; chat keeps going through the backup',
     {skip: ROOMQ_ONLY}, async () => {
       // After the first test the backup is active and the primary gone.
       const primary = await stack.restartBroker(['--pair-role', 'primary',
                                                  '--pair-bind', stack.pairEndpoints.primary,
                                                  '--pair-peer', stack.pairEndpoints.backup, ...PAIR_FLAGS]);
       await primary.waitForLine(/pair: starting-primary -> passive: the backup is active/, {timeoutMs: 15000});
       const [A, B] = stack.urls;
       const a = await ws(A);
       const b = await ws(B);
       await join(a, 'pair');
       await join(b, 'pair');
       await chatInOrder(a, b, 'back', 20);
     });
