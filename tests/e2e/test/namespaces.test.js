'use strict';
// Namespaces from the config: static names, a regular-expression pattern
// (each matching name is its own namespace), unknown names refused with
// CONNECT_ERROR "Invalid namespace", and several namespaces multiplexed over
// one Engine.IO connection.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns} = require('../harness/stack');
const {ack, closeAll, connect, connectError, connectVia, newManager, waitDisconnect} = require('../harness/client');

let stack;
before(async () => {
  stack = await startStack({
    config: {
      namespaces: [
        ns('/'),
        ns('/chat'),
        ns('^/dyn-\\w+$'),
      ],
    },
  });
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

async function joined(url, nsp, room) {
  const socket = await connect(url, nsp, {transports: ['websocket']});
  assert.deepEqual(await ack(socket, 'join', room), {ok: true});
  return socket;
}

test('a static namespace from the config accepts connections', async () => {
  const socket = await connect(stack.url, '/chat');
  assert.equal(socket.nsp, '/chat');
  assert.ok(socket.id);
});

test('unknown namespaces get connect_error "Invalid namespace"', async () => {
  for (const name of ['/nope', '/chatx', '/dyn-', '/xdyn-a', '/dyn-a/b']) {
    const err = await connectError(stack.url, name, {transports: ['websocket']});
    assert.equal(err.message, 'Invalid namespace', `namespace ${name}`);
  }
  // Also over polling.
  const err = await connectError(stack.url, '/nope', {transports: ['polling']});
  assert.equal(err.message, 'Invalid namespace');
});

test('each name matching a pattern is its own namespace', async () => {
  const a1 = await joined(stack.url, '/dyn-alpha', 'r');
  const a2 = await joined(stack.url, '/dyn-alpha', 'r');
  const b1 = await joined(stack.url, '/dyn-beta', 'r');
  const b2 = await joined(stack.url, '/dyn-beta', 'r');
  assert.equal(a1.nsp, '/dyn-alpha');

  assert.deepEqual(await ack(a1, 'publish', 'r', 'msg', 'alpha'), {ok: true});
  assert.deepEqual(await a2.rec.waitFor('msg'), ['alpha']);
  // Same room name, other namespace: b2's publish arrives at b1, and a1's
  // (published before it) never did.
  assert.deepEqual(await ack(b2, 'publish', 'r', 'msg', 'beta'), {ok: true});
  assert.deepEqual(await b1.rec.waitFor('msg'), ['beta']);
  assert.deepEqual(b1.rec.received('msg').map((e) => e.args), [['beta']]);
  assert.deepEqual(a2.rec.received('msg').map((e) => e.args), [['alpha']]);
});

test('rooms of the same name in different namespaces are distinct', async () => {
  const inRoot = await joined(stack.url, '/', 'lobby');
  const inChat = await joined(stack.url, '/chat', 'lobby');
  const rootSender = await connect(stack.url, '/', {transports: ['websocket']});
  const chatSender = await connect(stack.url, '/chat', {transports: ['websocket']});
  assert.deepEqual(await ack(rootSender, 'publish', 'lobby', 'msg', 'root'), {ok: true});
  assert.deepEqual(await ack(chatSender, 'publish', 'lobby', 'msg', 'chat'), {ok: true});
  assert.deepEqual(await inRoot.rec.waitFor('msg'), ['root']);
  assert.deepEqual(await inChat.rec.waitFor('msg'), ['chat']);
  assert.equal(inRoot.rec.received('msg').length, 1);
  assert.equal(inChat.rec.received('msg').length, 1);
});

test('several namespaces share one connection, each with its own socket id', async () => {
  const manager = newManager(stack.url, {transports: ['websocket']});
  const root = await connectVia(manager, '/');
  const chat = await connectVia(manager, '/chat');
  const dyn = await connectVia(manager, '/dyn-multi');
  const engineId = root.io.engine.id;
  assert.equal(chat.io.engine.id, engineId);
  assert.equal(dyn.io.engine.id, engineId);
  assert.equal(new Set([root.id, chat.id, dyn.id]).size, 3);

  // A refused namespace on the same connection leaves the others alone.
  const refused = manager.socket('/nope');
  const err = await new Promise((resolve) => refused.once('connect_error', resolve));
  assert.equal(err.message, 'Invalid namespace');

  // Leaving one namespace leaves the others connected.
  chat.disconnect();
  const peer = await joined(stack.url, '/dyn-multi', 'm');
  assert.deepEqual(await ack(dyn, 'join', 'm'), {ok: true});
  assert.deepEqual(await ack(root, 'join', 'm'), {ok: true});
  assert.deepEqual(await ack(peer, 'publish', 'm', 'msg', 'still here'), {ok: true});
  assert.deepEqual(await dyn.rec.waitFor('msg'), ['still here']);
  assert.ok(root.connected);
  assert.equal(root.io.engine.id, engineId);
  // ... and in `/`, the room `m` is another room: nothing arrived there.
  assert.deepEqual(await ack(dyn, 'publish', 'm', 'msg', 'from dyn'), {ok: true});
  assert.deepEqual(await peer.rec.waitFor('msg'), ['from dyn']);
  assert.equal(root.rec.received('msg').length, 0);

  root.disconnect();
  dyn.disconnect();
  assert.equal(await waitDisconnect(dyn), 'io client disconnect');
});
