'use strict';
// Connection state recovery across a broker failover (broker/failover/README.md
// "The epoch rule at failover"), with the stock client and two gateways given
// a primary/backup pair with --pair-ack both: a client whose transport
// dropped on gateway A while the primary served comes back through gateway B
// after the primary's SIGKILL, once the backup serves, with
// `socket.recovered === true`, the same id, and every event published before
// the kill and after the failover, in order, exactly once. The backup serves
// the primary's epoch with its history and socket records.
//
// Waits: the primary is killed only once the backup's /metrics shows the
// session (replicated); a witness on gateway A that received the events
// published before the kill shows they were on both brokers (with `both` a
// delivery leaves the primary only once the backup has it).
//
// roomq only: the reference server has no broker.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns, TARGET} = require('../harness/stack');
const {ack, closeAll, connect, dropTransport, expectRecoveredEveryEvent, publishUntilAcked, until, DEFAULT_TIMEOUT_MS} =
    require('../harness/client');

const ROOMQ_ONLY = TARGET === 'reference' ? 'roomq only: the reference server has no broker' : false;

const values = (socket, event) => socket.rec.received(event).map((e) => e.args[0]);

const publish = (publisher, room, value) => publishUntilAcked(publisher, room, value, 15000);

// A sample of the backup broker's /metrics.
async function backupMetric(stack, pattern) {
  const [, url] = await stack.backup.child.waitForLine(/metrics on (http:\/\/\S+\/metrics)/);
  const m = pattern.exec(await (await fetch(url)).text());
  return m ? Number(m[1]) : 0;
}

let stack;
before(async () => {
  if (ROOMQ_ONLY) return;
  stack = await startStack({
    gateways: 2,
    brokerPair: true,
    brokerFlags: ['--pair-heartbeat-ms', '100', '--pair-ack', 'both', '--metrics-bind', '127.0.0.1:0'],
    config: {namespaces: [ns('/', {relay: 'none', recovery: {max_disconnection: '60s'}})]},
  });
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

test('primary SIGKILLed while the client is away: it recovers through the backup, every event once, in order',
     {skip: ROOMQ_ONLY}, async () => {
  await stack.broker.waitForLine(/pair: the passive broker holds the snapshot/, {timeoutMs: DEFAULT_TIMEOUT_MS});
  const [A, B] = stack.urls;
  const receiver = await connect(A, '/', {transports: ['websocket']});
  const witness = await connect(A, '/', {transports: ['websocket']});
  for (const socket of [receiver, witness]) assert.deepEqual(await ack(socket, 'join', 'r'), {ok: true});
  const publisher = await connect(B, '/', {transports: ['websocket']});
  await publish(publisher, 'r', 0);
  await receiver.rec.waitFor('msg', (v) => v === 0);
  const sid = receiver.id;

  await dropTransport(receiver);  // a "transport close" for gateway A
  await publish(publisher, 'r', 1);
  await publish(publisher, 'r', 2);
  await witness.rec.waitFor('msg', (v) => v === 2);
  await until('the backup to hold the disconnected session',
              async () => (await backupMetric(stack, /^roomq_broker_socket_records\{state="disconnected"\} (\d+)$/m)) >= 1,
              10000);

  const killed = Date.now();
  await stack.killBroker();
  const [, epochLine] = await stack.backup.child.waitForLine(/pair: serving with epoch \d+ \((kept|new)[^)]*\)/,
                                                             {timeoutMs: 15000});
  assert.equal(epochLine, 'kept', 'the backup keeps the epoch');
  for (let i = 3; i <= 12; i++) await publish(publisher, 'r', i);
  console.log(`broker failover with --pair-ack both: 10 publishes through the backup done ${Date.now() - killed} ms ` +
              'after the primary\'s SIGKILL');

  await expectRecoveredEveryEvent(receiver, B, sid, publisher, 'r', 13);
  await witness.rec.waitFor('msg', (v) => v === 13);
  assert.deepEqual(values(witness, 'msg'), Array.from({length: 14}, (_, i) => i), 'the witness: each once');
});
