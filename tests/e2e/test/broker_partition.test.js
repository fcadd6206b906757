'use strict';
// A partition between the two brokers of a failover pair only
// (broker/failover/README.md): the brokers reach each other through a TCP
// proxy the test cuts, while the gateway and its clients still reach the
// primary. Binary Star's rule keeps the backup passive: it lost the
// primary, but no node comes to it. Chat goes on through the primary.
//
// roomq only: the reference target has no broker.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns, TARGET} = require('../harness/stack');
const {ack, closeAll, connect} = require('../harness/client');

const ROOMQ_ONLY = TARGET === 'reference' ? 'roomq only: the reference server has no broker' : false;

let stack;
before(async () => {
  if (ROOMQ_ONLY) return;
  stack = await startStack({gateways: 1, brokerPair: true, pairLinkProxy: true,
                            brokerFlags: ['--pair-heartbeat-ms', '100', '--stats-interval-ms', '50'],
                            config: {namespaces: [ns('/', {relay: 'none'})]}});
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

async function chat(from, to, tag, count) {
  for (let i = 0; i < count; i++) from.emit('publish', 'cut', tag, {i});
  assert.deepEqual(await ack(from, 'publish', 'cut', tag, {i: 'end'}), {ok: true});
  await to.rec.waitFor(tag, (m) => m.i === 'end');
  assert.deepEqual(to.rec.received(tag).map((e) => e.args[0].i), [...Array(count).keys(), 'end']);
}

test('the brokers cut off from each other only: the backup stays passive, chat goes on',
     {skip: ROOMQ_ONLY}, async () => {
       const [A] = stack.urls;
       const a = await connect(A, '/', {transports: ['websocket']});
       const b = await connect(A, '/', {transports: ['websocket']});
       assert.deepEqual(await ack(a, 'join', 'cut'), {ok: true});
       assert.deepEqual(await ack(b, 'join', 'cut'), {ok: true});
       await chat(a, b, 'before', 20);

       stack.pairLink.cut();
       // Each broker has lost the other (its stats line says so once it changes).
       const backup = stack.backup.child;
       await backup.waitForLine(/pair_state=4 pair_peer_alive=0/, {timeoutMs: 10000});
       await stack.broker.waitForLine(/pair_state=3 pair_peer_alive=0/, {timeoutMs: 10000});

       // Chat goes on through the primary while the backup has no peer.
       await chat(a, b, 'during', 200);
       await chat(b, a, 'during-b', 200);
       assert.ok(!backup.lines.some((line) => /pair: passive -> active/.test(line)),
                 `the backup became active:\n${backup.tail()}`);
       assert.equal(a.connected && b.connected, true);
     });
