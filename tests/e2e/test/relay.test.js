'use strict';
// Relay policies for plain (non-reserved) client events:
//   broadcast  everyone else in the namespace (socket.broadcast.emit)
//   rooms      every room the sender joined, sender excluded
//   none       nobody
// and `echo: true`, which also sends relayed events back to the sender.
// Absence is checked causally (see rooms.test.js).

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns} = require('../harness/stack');
const {ack, closeAll, connect} = require('../harness/client');

let stack;
before(async () => {
  stack = await startStack({
    config: {
      namespaces: [
        ns('/bcast', {relay: 'broadcast'}),
        ns('/bcast-echo', {relay: 'broadcast', echo: true}),
        ns('/rooms', {relay: 'rooms'}),
        ns('/rooms-echo', {relay: 'rooms', echo: true}),
        ns('/none', {relay: 'none'}),
        ns('/other', {relay: 'broadcast'}),
      ],
    },
  });
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

function clients(nsp, n) {
  return Promise.all(Array.from({length: n}, () => connect(stack.url, nsp, {transports: ['websocket']})));
}

async function join(socket, ...rooms) {
  for (const room of rooms) assert.deepEqual(await ack(socket, 'join', room), {ok: true});
}

function got(socket, event) {
  return socket.rec.received(event).map((e) => e.args);
}

test('broadcast: everyone else in the namespace, not the sender, not other namespaces', async () => {
  const [a, b, c] = await clients('/bcast', 3);
  const [elsewhere] = await clients('/other', 1);
  const bytes = Buffer.from('relayed bytes');
  a.emit('chat', 'hi', {n: 1}, bytes);
  for (const s of [b, c]) {
    const [text, obj, buf] = await s.rec.waitFor('chat');
    assert.equal(text, 'hi');
    assert.deepEqual(obj, {n: 1});
    assert.deepEqual(Buffer.from(buf), bytes);
  }
  // Marker from b: a gets b's message, and never got its own before it.
  b.emit('chat', 'marker');
  await a.rec.waitFor('chat', (t) => t === 'marker');
  await c.rec.waitFor('chat', (t) => t === 'marker');
  assert.deepEqual(got(a, 'chat'), [['marker']]);
  assert.equal(got(b, 'chat').length, 1);
  assert.equal(got(c, 'chat').length, 2);
  assert.equal(elsewhere.rec.events.length, 0);
});

test('broadcast with echo: the sender gets its own event too', async () => {
  const [a, b] = await clients('/bcast-echo', 2);
  a.emit('chat', 'hi');
  assert.deepEqual(await a.rec.waitFor('chat'), ['hi']);
  assert.deepEqual(await b.rec.waitFor('chat'), ['hi']);
  b.emit('chat', 'marker');
  await a.rec.waitFor('chat', (t) => t === 'marker');
  await b.rec.waitFor('chat', (t) => t === 'marker');
  assert.deepEqual(got(a, 'chat'), [['hi'], ['marker']]);
  assert.deepEqual(got(b, 'chat'), [['hi'], ['marker']]);
});

test('rooms: every room the sender joined, once per socket, sender excluded', async () => {
  const [a, inR1, inR2, inBoth, inR3, noRoom] = await clients('/rooms', 6);
  await join(a, 'r1', 'r2');
  await join(inR1, 'r1');
  await join(inR2, 'r2');
  await join(inBoth, 'r1', 'r2');
  await join(inR3, 'r3');
  await join(noRoom, 'r4');

  a.emit('chat', 'to my rooms');
  for (const s of [inR1, inR2, inBoth]) assert.deepEqual(await s.rec.waitFor('chat'), ['to my rooms']);

  // Markers through the same gateway: anything wrongly delivered came first.
  for (const room of ['r1', 'r2', 'r3', 'r4']) {
    assert.deepEqual(await ack(inBoth, 'publish', room, 'marker', room), {ok: true});
  }
  for (const s of [a, inR1, inR2, inR3, noRoom]) await s.rec.waitFor('marker');
  await a.rec.waitUntil(() => got(a, 'marker').length === 2);
  assert.deepEqual(got(a, 'chat'), []);
  assert.deepEqual(got(inR1, 'chat'), [['to my rooms']]);
  assert.deepEqual(got(inR2, 'chat'), [['to my rooms']]);
  assert.deepEqual(got(inBoth, 'chat'), [['to my rooms']]);
  assert.deepEqual(got(inR3, 'chat'), []);
  assert.deepEqual(got(noRoom, 'chat'), []);
});

test('rooms: a sender in no room reaches nobody', async () => {
  const [a, b] = await clients('/rooms', 2);
  await join(b, 'lonely');
  a.emit('chat', 'into the void');
  assert.deepEqual(await ack(a, 'publish', 'lonely', 'marker'), {ok: true});
  await b.rec.waitFor('marker');
  assert.deepEqual(got(b, 'chat'), []);
});

test('rooms with echo: the sender gets its own event once', async () => {
  const [a, b] = await clients('/rooms-echo', 2);
  await join(a, 'e1', 'e2');
  await join(b, 'e1');
  a.emit('chat', 'echoed');
  assert.deepEqual(await a.rec.waitFor('chat'), ['echoed']);
  assert.deepEqual(await b.rec.waitFor('chat'), ['echoed']);
  b.emit('chat', 'marker');
  await a.rec.waitFor('chat', (t) => t === 'marker');
  await b.rec.waitFor('chat', (t) => t === 'marker');
  assert.deepEqual(got(a, 'chat'), [['echoed'], ['marker']]);
  assert.deepEqual(got(b, 'chat'), [['echoed'], ['marker']]);
});

test('none: plain events go nowhere, reserved events still work', async () => {
  const [a, b] = await clients('/none', 2);
  await join(a, 'n');
  await join(b, 'n');
  a.emit('chat', 'unrelayed');
  b.emit('chat', 'unrelayed');
  assert.deepEqual(await ack(a, 'publish', 'n', 'marker', 'from a'), {ok: true});
  assert.deepEqual(await ack(b, 'publish', 'n', 'marker', 'from b'), {ok: true});
  assert.deepEqual(await b.rec.waitFor('marker'), ['from a']);
  assert.deepEqual(await a.rec.waitFor('marker'), ['from b']);
  assert.deepEqual(got(a, 'chat'), []);
  assert.deepEqual(got(b, 'chat'), []);
});
