'use strict';
// Engine.IO transports with the stock client: default options (HTTP
// long-polling first, then the upgrade to WebSocket), WebSocket only, and
// polling only; messages cross between clients on different transports,
// including while an upgrade is in progress.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {io} = require('socket.io-client');
const {startStack} = require('../harness/stack');
const {ack, clientOptions, closeAll, connect, waitConnected, withTimeout} = require('../harness/client');

let stack;
before(async () => {
  stack = await startStack();  // no --config: the default open `/`
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

// Connects with the stock default options and records the transports the
// Engine.IO connection uses: the first one, then every upgrade.
async function connectDefault() {
  const socket = io(stack.url, clientOptions({autoConnect: false}));
  const transports = [];
  let upgraded;
  const upgradedPromise = new Promise((resolve) => {
    upgraded = resolve;
  });
  socket.io.on('open', () => {
    const engine = socket.io.engine;
    transports.push(engine.transport.name);
    engine.on('upgrade', (transport) => {
      transports.push(transport.name);
      upgraded();
    });
  });
  socket.connect();
  await waitConnected(socket);
  return {socket, transports, upgraded: withTimeout(upgradedPromise, 5000, 'the upgrade to websocket')};
}

async function joinRoom(socket, room) {
  assert.deepEqual(await ack(socket, 'join', room), {ok: true});
}

test('default options start with polling and upgrade to websocket', async () => {
  const {socket, transports, upgraded} = await connectDefault();
  await upgraded;
  assert.deepEqual(transports, ['polling', 'websocket']);
  assert.equal(socket.io.engine.transport.name, 'websocket');

  // The upgraded connection carries traffic both ways.
  const peer = await connect(stack.url, '/', {transports: ['websocket']});
  await joinRoom(socket, 'transports-upgrade');
  await joinRoom(peer, 'transports-upgrade');
  assert.deepEqual(await ack(socket, 'publish', 'transports-upgrade', 'hello', 'from upgraded'), {ok: true});
  assert.deepEqual(await peer.rec.waitFor('hello'), ['from upgraded']);
  assert.deepEqual(await ack(peer, 'publish', 'transports-upgrade', 'hello', 'to upgraded'), {ok: true});
  assert.deepEqual(await socket.rec.waitFor('hello'), ['to upgraded']);
});

test('messages sent and received during the upgrade arrive once and in order', async () => {
  const peer = await connect(stack.url, '/', {transports: ['websocket']});
  await joinRoom(peer, 'transports-during');
  const {socket, transports, upgraded} = await connectDefault();
  await joinRoom(socket, 'transports-during');
  // Sent right away: some go over polling, some over the probe/upgrade, some
  // over websocket.
  const count = 50;
  for (let i = 0; i < count; i++) socket.emit('publish', 'transports-during', 'seq', i);
  for (let i = 0; i < count; i++) peer.emit('publish', 'transports-during', 'seq', i);
  await upgraded;
  assert.deepEqual(transports, ['polling', 'websocket']);
  const atPeer = await peer.rec.waitUntil(() => peer.rec.received('seq').length >= count && peer.rec.received('seq'));
  const atSocket = await socket.rec.waitUntil(
      () => socket.rec.received('seq').length >= count && socket.rec.received('seq'));
  const expected = Array.from({length: count}, (_, i) => i);
  assert.deepEqual(atPeer.map((e) => e.args[0]), expected);
  assert.deepEqual(atSocket.map((e) => e.args[0]), expected);
});

test('websocket only: no polling request at all', async () => {
  const socket = await connect(stack.url, '/', {transports: ['websocket']});
  assert.equal(socket.io.engine.transport.name, 'websocket');
  const peer = await connect(stack.url, '/', {transports: ['websocket']});
  await joinRoom(socket, 'transports-ws');
  await joinRoom(peer, 'transports-ws');
  assert.deepEqual(await ack(socket, 'publish', 'transports-ws', 'hello', {n: 1}), {ok: true});
  assert.deepEqual(await peer.rec.waitFor('hello'), [{n: 1}]);
});

test('polling only: text and binary both ways', async () => {
  const socket = await connect(stack.url, '/', {transports: ['polling']});
  const peer = await connect(stack.url, '/', {transports: ['websocket']});
  assert.equal(socket.io.engine.transport.name, 'polling');
  await joinRoom(socket, 'transports-polling');
  await joinRoom(peer, 'transports-polling');

  const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
  assert.deepEqual(await ack(socket, 'publish', 'transports-polling', 'data', 'text é ✓', bytes), {ok: true});
  const [text, got] = await peer.rec.waitFor('data');
  assert.equal(text, 'text é ✓');
  assert.ok(Buffer.isBuffer(got));
  assert.deepEqual([...got], [...bytes]);

  assert.deepEqual(await ack(peer, 'publish', 'transports-polling', 'data', 'back', bytes), {ok: true});
  const [text2, got2] = await socket.rec.waitFor('data');
  assert.equal(text2, 'back');
  assert.deepEqual([...Buffer.from(got2)], [...bytes]);
  assert.equal(socket.io.engine.transport.name, 'polling');
});
