'use strict';
// Binary arguments both ways: Buffers through `publish` to other clients and
// through the native echo service (BINARY_EVENT out, BINARY_EVENT /
// BINARY_ACK back), top-level and nested, over websocket and polling.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns} = require('../harness/stack');
const {ack, ackAll, closeAll, connect} = require('../harness/client');

let stack;
before(async () => {
  stack = await startStack({
    config: {namespaces: [ns('/', {relay: 'none', forward: true}), ns('/custom', {relay: 'none', forward: true})]},
    echo: true,
  });
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

function bytes(n, seed = 0) {
  return Buffer.from(Array.from({length: n}, (_, i) => (i * 31 + seed) & 0xff));
}

// Buffers received by a Node client may be Buffer or ArrayBuffer views:
// compare their bytes.
function normalize(value) {
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return {bytes: [...Buffer.from(value)]};
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

const CASES = [
  ['one buffer', [bytes(16)]],
  ['text around buffers', ['before', bytes(3, 1), 'middle', bytes(5, 2), 'after']],
  ['nested buffers', [{file: {name: 'a.bin', data: bytes(64, 3)}, parts: [bytes(1, 4), [bytes(2, 5)]]}]],
  ['an empty buffer', [Buffer.alloc(0), 'x']],
  ['bytes that are not UTF-8', [Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x1e, 0x62])]],
  ['100 KiB', [bytes(100 * 1024, 6)]],
];

for (const transports of [['websocket'], ['polling']]) {
  for (const [name, args] of CASES) {
    test(`publish carries ${name} to other clients (${transports})`, async () => {
      const [sender, receiver] = await Promise.all([
        connect(stack.url, '/', {transports}),
        connect(stack.url, '/', {transports: ['websocket']}),
      ]);
      assert.deepEqual(await ack(receiver, 'join', 'bin'), {ok: true});
      assert.deepEqual(await ack(sender, 'publish', 'bin', 'data', ...args), {ok: true});
      assert.deepEqual(normalize(await receiver.rec.waitFor('data')), normalize(args));
      // ... and back to a polling receiver.
      assert.deepEqual(await ack(sender, 'join', 'bin-back'), {ok: true});
      assert.deepEqual(await ack(receiver, 'publish', 'bin-back', 'data', ...args), {ok: true});
      assert.deepEqual(normalize(await sender.rec.waitFor('data')), normalize(args));
    });

    test(`the echo service sends ${name} back (${transports})`, async () => {
      const socket = await connect(stack.url, '/custom', {transports});
      socket.emit('message', ...args);
      assert.deepEqual(normalize(await socket.rec.waitFor('message-back')), normalize(args));
      assert.deepEqual(normalize(await ackAll(socket, 'message-with-ack', ...args)), normalize(args));
    });
  }
}

test('binary and text events interleave in order', async () => {
  const socket = await connect(stack.url, '/', {transports: ['websocket']});
  for (let i = 0; i < 30; i++) socket.emit('message', i, i % 2 ? bytes(i, i) : `text ${i}`);
  const all = await socket.rec.waitUntil(
      () => socket.rec.received('message-back').length >= 30 && socket.rec.received('message-back'));
  all.forEach((e, i) => {
    assert.equal(e.args[0], i);
    assert.deepEqual(normalize(e.args[1]), normalize(i % 2 ? bytes(i, i) : `text ${i}`));
  });
});
