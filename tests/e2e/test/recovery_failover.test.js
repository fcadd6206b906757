'use strict';
// Connection state recovery that survives the death of any one process
// (proto/README.md, "socket records that outlive a gateway and the
// broker"), with the stock client, two gateways and one broker with
// --data-dir, recovery on for "/":
//
//   gateway SIGKILL   the client's gateway dies under it while events are
//                     published; it reconnects through the other gateway:
//                     recovered, same id, every missed and later event once,
//                     in order. The dead gateway never told the broker
//                     anything: the broker's record of the socket is all
//                     there is.
//   broker SIGKILL    killed and restarted (same --data-dir, same ports)
//                     while the client is away, at an instant nothing waits
//                     for (no "the broker has the session" check first);
//                     also with the client still connected when the broker
//                     dies and its transport dropping while the broker is
//                     down.
//   both              the broker dies, then the client's gateway while the
//                     broker is down; the broker comes back, the gateway
//                     never does.
//   too long away     a client back after the window (counted from when
//                     the broker noticed its gateway's death) gets a fresh
//                     session and no replay.
//
// Waits: for events and log lines, each bounded. The one wait on time is the
// window in the last test: it is what is being tested.
//
// roomq only: the reference server is one process (no broker, no gateway
// that dies alone).

const {test, after} = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {startStack, ns, TARGET} = require('../harness/stack');
const {ack, closeAll, connect, dropTransport, reconnectVia, until, waitDisconnect, withTimeout} =
    require('../harness/client');

const ROOMQ_ONLY = TARGET === 'reference' ? 'roomq only: the reference server has no broker or separate gateways' : false;
// The namespace's recovery window in the expiry test.
const SHORT_WINDOW_MS = 1000;
// The broker declares a gateway dead after 3 silent heartbeats of its Link
// (proto/node/link.h, heartbeat 1000 ms), noticed at its next check (one
// more); its sockets' windows start then.
const NODE_DEATH_MS = 4 * 1000;

const stacks = [];
const dirs = [];
after(async () => {
  closeAll();
  for (const stack of stacks) await stack.stop();
  for (const dir of dirs) fs.rmSync(dir, {recursive: true, force: true});
});

// Two gateways, one broker with its own --data-dir; "/" recovers for
// `window`.
async function failoverStack(window = '60s') {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomq-failover-'));
  dirs.push(dataDir);
  const stack = await startStack({
    gateways: 2,
    brokerFlags: ['--data-dir', dataDir],
    config: {namespaces: [ns('/', {relay: 'none', recovery: {max_disconnection: window}})]},
  });
  stacks.push(stack);
  return stack;
}

const ws = (url) => connect(url, '/', {transports: ['websocket']});

// The values (first argument) of every received `msg`, each checked to
// carry its offset (a string) as the last argument.
function values(socket) {
  return socket.rec.received('msg').map((e) => {
    assert.equal(typeof e.args[e.args.length - 1], 'string', `msg${JSON.stringify(e.args)}: offset`);
    return e.args[0];
  });
}

// One publish, which the broker must confirm (the ack is its receipt).
async function publish(publisher, value, room = 'r') {
  assert.deepEqual(await ack(publisher, 'publish', room, 'msg', value), {ok: true}, `publish ${value}`);
}

// After a broker restart: probes (another event, nobody's concern) until
// the publisher's gateway is routing again, so the publishes under test
// are each sent once (a retried publish could be delivered twice).
async function waitRouting(publisher) {
  await until('the publisher\'s gateway to route again', async () => {
    try {
      const reply = await withTimeout(ack(publisher, 'publish', 'probe-room', 'probe', 0), 2000, 'probe ack');
      return reply && reply.ok === true;
    } catch {
      return false;
    }
  }, 15000);
}

// A receiver on gateway `index` in room r that got msg 0 (so it holds an
// offset), and a publisher on the other gateway.
async function receiverAndPublisher(stack, index = 0) {
  const receiver = await ws(stack.urls[index]);
  assert.deepEqual(await ack(receiver, 'join', 'r'), {ok: true});
  const publisher = await ws(stack.urls[1 - index]);
  await publish(publisher, 0);
  await receiver.rec.waitFor('msg', (v) => v === 0);
  return {receiver, sid: receiver.id, publisher};
}

// Recovered with the same id; then `later` more events arrive after the
// missed ones: 0..last, each once, in order (the last one is the causal
// marker: a duplicate of anything before it would have arrived before it).
async function assertRecoveredAll(receiver, sid, publisher, missedUpTo, later = 10) {
  assert.equal(receiver.recovered, true, 'socket.recovered');
  assert.equal(receiver.id, sid, 'same socket id');
  const last = missedUpTo + later;
  for (let i = missedUpTo + 1; i <= last; i++) await publish(publisher, i);
  await receiver.rec.waitFor('msg', (v) => v === last);
  assert.deepEqual(values(receiver), Array.from({length: last + 1}, (_, i) => i), 'every event once, in order');
}

test('gateway SIGKILL while publishing: the client reconnects through the other gateway, recovered, all 100 missed events once, in order',
     {skip: ROOMQ_ONLY}, async () => {
  const stack = await failoverStack();
  const {receiver, sid, publisher} = await receiverAndPublisher(stack, 0);

  await stack.killGateway(0);
  assert.equal(await waitDisconnect(receiver), 'transport close');
  // 100 publishes run while the client reconnects through gateway 1.
  const publishing = (async () => {
    for (let i = 1; i <= 100; i++) await publish(publisher, i);
  })();
  const reconnecting = reconnectVia(receiver, stack.urls[1]);
  await Promise.all([publishing, reconnecting]);
  await assertRecoveredAll(receiver, sid, publisher, 100);
});

test('broker SIGKILL + restart (same --data-dir, ports) just after the client left: recovered through the other gateway, all 50',
     {skip: ROOMQ_ONLY}, async () => {
  const stack = await failoverStack();
  const {receiver, sid, publisher} = await receiverAndPublisher(stack, 0);

  assert.equal(await dropTransport(receiver), 'forced close');
  // Killed at once: whether the broker heard of the close before it died is
  // left to chance; its record of the socket is durable either way.
  await stack.killBroker();
  await stack.restartBroker();
  await waitRouting(publisher);
  for (let i = 1; i <= 50; i++) await publish(publisher, i);
  await reconnectVia(receiver, stack.urls[1]);
  await assertRecoveredAll(receiver, sid, publisher, 50);
});

test('broker SIGKILL with the client connected, its transport dropped while the broker is down: recovered after the restart, all 50',
     {skip: ROOMQ_ONLY}, async () => {
  const stack = await failoverStack();
  const {receiver, sid, publisher} = await receiverAndPublisher(stack, 0);

  await stack.killBroker();
  assert.equal(await dropTransport(receiver), 'forced close');
  await stack.gateways[0].waitForLine(new RegExp(`socket disconnected: id=${sid} .*reason="transport close"`));
  await stack.restartBroker();
  await waitRouting(publisher);
  for (let i = 1; i <= 50; i++) await publish(publisher, i);
  await reconnectVia(receiver, stack.urls[1]);
  await assertRecoveredAll(receiver, sid, publisher, 50);
});

test('broker SIGKILL, then the client\'s gateway SIGKILL while the broker is down; broker restarted: recovered through the other gateway, all 50',
     {skip: ROOMQ_ONLY}, async () => {
  const stack = await failoverStack();
  const {receiver, sid, publisher} = await receiverAndPublisher(stack, 0);

  await stack.killBroker();
  await stack.killGateway(0);
  assert.equal(await waitDisconnect(receiver), 'transport close');
  await stack.restartBroker();
  await waitRouting(publisher);
  for (let i = 1; i <= 50; i++) await publish(publisher, i);
  await reconnectVia(receiver, stack.urls[1]);
  await assertRecoveredAll(receiver, sid, publisher, 50);
});

test('gateway SIGKILL, client away longer than the window: a fresh session (recovered false, new id), no replay',
     {skip: ROOMQ_ONLY}, async () => {
  const stack = await failoverStack(`${SHORT_WINDOW_MS}ms`);
  const {receiver, sid, publisher} = await receiverAndPublisher(stack, 0);

  await stack.killGateway(0);
  assert.equal(await waitDisconnect(receiver), 'transport close');
  for (let i = 1; i <= 5; i++) await publish(publisher, i);
  // The time under test: the broker notices the death, then the window runs
  // out (with a second to spare for both timers).
  await new Promise((resolve) => setTimeout(resolve, NODE_DEATH_MS + SHORT_WINDOW_MS + 1000));

  await reconnectVia(receiver, stack.urls[1]);
  assert.equal(receiver.recovered, false, 'socket.recovered');
  assert.notEqual(receiver.id, sid, 'a new socket id');
  // Not in r any more: a fresh session has no rooms until it joins.
  assert.deepEqual(await ack(receiver, 'join', 'r'), {ok: true});
  await publish(publisher, 6);
  await receiver.rec.waitFor('msg', (v) => v === 6);
  assert.deepEqual(values(receiver), [0, 6], 'nothing from the window replayed');
});
