'use strict';
// Acknowledgements: client -> gateway (the reserved events' acks) and
// client -> native service (roomq-echo answers `message-with-ack` with the
// same args), each matched to the right callback when many are in flight,
// over websocket and polling.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns} = require('../harness/stack');
const {ack, ackAll, closeAll, connect} = require('../harness/client');

let stack;
before(async () => {
  stack = await startStack({
    config: {
      namespaces: [
        ns('/', {join: 'ok-.*', relay: 'none', forward: true}),
        ns('/custom', {join: '', relay: 'none', forward: true}),
      ],
    },
    echo: true,
  });
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

for (const transports of [['websocket'], ['polling']]) {
  test(`reserved-event acks match their requests when many are in flight (${transports})`, async () => {
    const a = await connect(stack.url, '/', {transports});
    const requests = [];
    for (let i = 0; i < 40; i++) {
      const room = i % 3 === 0 ? `bad-${i}` : `ok-${i}`;
      const kind = i % 5 === 4 ? 'publish' : 'join';
      requests.push({room, kind, reply: kind === 'join' ? ack(a, 'join', room) : ack(a, 'publish', room, 'ev', i)});
    }
    for (const {room, kind, reply} of requests) {
      const value = await reply;
      // `publish` follows the join pattern too (the namespace has no `publish` key).
      if (room.startsWith('ok-')) {
        assert.deepEqual(value, {ok: true}, `${kind} ${room}`);
      } else {
        assert.equal(typeof value.error, 'string', `${kind} ${room}: ${JSON.stringify(value)}`);
      }
    }
  });

  test(`a native service answers a client's ack with the same args (${transports})`, async () => {
    const a = await connect(stack.url, '/', {transports});
    assert.deepEqual(await ackAll(a, 'message-with-ack', 1, '2', {3: [4]}, null, true), [1, '2', {3: [4]}, null, true]);
    assert.deepEqual(await ackAll(a, 'message-with-ack'), []);
    // Unicode and JSON escapes survive untouched.
    const text = 'quote " backslash \\ newline \n tab \t emoji 😀 \u2028';
    assert.deepEqual(await ackAll(a, 'message-with-ack', text), [text]);
  });
}

test('many service acks in flight, on two namespaces of one connection, each answered once', async () => {
  const a = await connect(stack.url, '/', {transports: ['websocket']});
  const c = await connect(stack.url, '/custom', {transports: ['websocket']});
  const replies = [];
  for (let i = 0; i < 50; i++) {
    const socket = i % 2 ? a : c;
    replies.push(ackAll(socket, 'message-with-ack', {i, nsp: socket.nsp}).then((r) => [i, socket.nsp, r]));
  }
  for (const [i, nsp, reply] of await Promise.all(replies)) assert.deepEqual(reply, [{i, nsp}]);
});

test('an ack to a client that has gone is dropped without harm', async () => {
  const a = await connect(stack.url, '/', {transports: ['websocket']});
  a.emit('message-with-ack', 'late', () => {});
  a.disconnect();
  const b = await connect(stack.url, '/', {transports: ['websocket']});
  assert.deepEqual(await ackAll(b, 'message-with-ack', 'still fine'), ['still fine']);
});
