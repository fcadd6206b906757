'use strict';
// Connection state recovery across a broker killed with SIGKILL and
// restarted with the same --data-dir, with the stock client and two
// gateways: a client whose transport dropped on gateway A while the broker
// was up comes back through gateway B after the restart with
// `socket.recovered === true`, the same id, and every event published
// before the kill and after the restart, in order, exactly once. Without
// --data-dir a restart is a new epoch, and the client gets a fresh session.
//
// Waits: the broker is killed only once its /metrics shows the session
// (the broker has written it to its session log by then); publishing after
// the restart retries until the gateway's link is back.
//
// roomq only: the reference server has no broker (its sessions die with
// its process).

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {startStack, ns, TARGET} = require('../harness/stack');
const {ack, closeAll, connect, expectRecoveredEveryEvent, publishUntilAcked, reconnectVia, until, waitDisconnect, DEFAULT_TIMEOUT_MS} =
    require('../harness/client');

const ROOMQ_ONLY = TARGET === 'reference' ? 'roomq only: the reference server has no broker to restart' : false;

// The values (first argument) of every received `event`.
const values = (socket, event) => socket.rec.received(event).map((e) => e.args[0]);

const publish = (publisher, room, value) => publishUntilAcked(publisher, room, value);

// Drops the socket's transport (a "transport close" for the server) and
// waits until gateway `index` logged it.
async function dropTransport(stack, socket, index) {
  const sid = socket.id;
  socket.io.engine.close();
  await waitDisconnect(socket);
  await stack.gateways[index].waitForLine(new RegExp(`socket disconnected: id=${sid} .*reason="transport close"`),
                                          {timeoutMs: DEFAULT_TIMEOUT_MS});
}

const stacks = [];
async function twoGateways(brokerFlags) {
  const stack = await startStack({
    gateways: 2,
    brokerFlags: ['--metrics-bind', '127.0.0.1:0', ...brokerFlags],
    config: {namespaces: [ns('/', {relay: 'none', recovery: {max_disconnection: '60s'}})]},
  });
  stacks.push(stack);
  return stack;
}

let dataDir;
before(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomq-restart-'));
});
after(async () => {
  closeAll();
  for (const stack of stacks) await stack.stop();
  fs.rmSync(dataDir, {recursive: true, force: true});
});

// Kills the broker once it holds `sessions` sessions, and starts it again
// with `restartFlags` on the same ports.
async function killAndRestart(stack, sessions, restartFlags) {
  await until(`the broker to hold ${sessions} session(s)`,
              async () => (await stack.brokerSocketRecords('disconnected')) >= sessions, 10000);
  await stack.killBroker();
  await stack.restartBroker(['--metrics-bind', '127.0.0.1:0', ...restartFlags]);
}

// A receiver on gateway A in room r that got event 0 (so it holds an
// offset), and a publisher on gateway B.
async function receiverWithOneEvent(stack) {
  const [A, B] = stack.urls;
  const receiver = await connect(A, '/', {transports: ['websocket']});
  assert.deepEqual(await ack(receiver, 'join', 'r'), {ok: true});
  const publisher = await connect(B, '/', {transports: ['websocket']});
  await publish(publisher, 'r', 0);
  await receiver.rec.waitFor('msg', (v) => v === 0);
  return {B, receiver, sid: receiver.id, publisher};
}

test('broker SIGKILL + restart with --data-dir while the client is away: recovered, every missed event once, in order',
     {skip: ROOMQ_ONLY}, async () => {
  const flags = ['--data-dir', dataDir];
  const stack = await twoGateways(flags);
  const {B, receiver, sid, publisher} = await receiverWithOneEvent(stack);

  await dropTransport(stack, receiver, 0);
  await publish(publisher, 'r', 1);  // before the kill
  await killAndRestart(stack, 1, flags);
  for (let i = 2; i <= 51; i++) await publish(publisher, 'r', i);  // 50 after the restart

  await expectRecoveredEveryEvent(receiver, B, sid, publisher, 'r', 52);
});

test('broker restarted without --data-dir: a new epoch, so a fresh session (recovered false, new id)',
     {skip: ROOMQ_ONLY}, async () => {
  const stack = await twoGateways([]);
  const {B, receiver, sid, publisher} = await receiverWithOneEvent(stack);
  await dropTransport(stack, receiver, 0);
  await killAndRestart(stack, 1, []);
  await publish(publisher, 'r', 1);
  await reconnectVia(receiver, B);
  assert.equal(receiver.recovered, false);
  assert.notEqual(receiver.id, sid);
  assert.deepEqual(values(receiver, 'msg'), [0], 'no replay');
});
