'use strict';
// Two gateways on one broker: a client on gateway A publishing to a room
// reaches the room's members on A and on B exactly once each, never itself;
// relayed events, namespaces and sender exclusion hold across gateways.
// (On the reference target: two Socket.IO listeners sharing an in-process
// cluster adapter, the role the Redis adapter plays for Node.)

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns} = require('../harness/stack');
const {ack, closeAll, connect} = require('../harness/client');

let stack;
let A;
let B;
before(async () => {
  stack = await startStack({
    gateways: 2,
    config: {
      namespaces: [
        ns('/', {relay: 'none'}),
        ns('/bcast', {relay: 'broadcast'}),
        ns('/rooms', {relay: 'rooms'}),
      ],
    },
  });
  [A, B] = stack.urls;
  assert.notEqual(A, B);
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

function on(url, nsp = '/', transports = ['websocket']) {
  return connect(url, nsp, {transports});
}

async function join(socket, ...rooms) {
  for (const room of rooms) assert.deepEqual(await ack(socket, 'join', room), {ok: true});
}

function got(socket, event) {
  return socket.rec.received(event).map((e) => e.args);
}

test('publish on A reaches members on A and B exactly once, never the sender', async () => {
  const sender = await on(A);
  const [a1, a2] = await Promise.all([on(A), on(A, '/', ['polling'])]);
  const [b1, b2] = await Promise.all([on(B), on(B, '/', ['polling'])]);
  const outsiderB = await on(B);
  for (const s of [sender, a1, a2, b1, b2]) await join(s, 'across');
  await join(outsiderB, 'elsewhere');

  assert.deepEqual(await ack(sender, 'publish', 'across', 'chat message', {text: 'hello both'}), {ok: true});
  for (const s of [a1, a2, b1, b2]) assert.deepEqual(await s.rec.waitFor('chat message'), [{text: 'hello both'}]);

  // Causal markers: b1 (on B) publishes after receiving; when a member gets
  // b1's marker, any duplicate of the first message (and, for the sender,
  // any copy of its own) would have arrived before it.
  assert.deepEqual(await ack(b1, 'publish', 'across', 'chat message', {text: 'marker'}), {ok: true});
  assert.deepEqual(await ack(b1, 'publish', 'elsewhere', 'chat message', {text: 'marker'}), {ok: true});
  for (const s of [sender, a1, a2, b2, outsiderB]) {
    await s.rec.waitFor('chat message', (m) => m.text === 'marker');
  }
  assert.deepEqual(got(sender, 'chat message'), [[{text: 'marker'}]]);
  for (const s of [a1, a2, b2]) {
    assert.deepEqual(got(s, 'chat message'), [[{text: 'hello both'}], [{text: 'marker'}]]);
  }
  assert.deepEqual(got(b1, 'chat message'), [[{text: 'hello both'}]]);
  assert.deepEqual(got(outsiderB, 'chat message'), [[{text: 'marker'}]]);
});

test('a room with members only on B is reached from A', async () => {
  const sender = await on(A);
  const [b1, b2] = await Promise.all([on(B), on(B)]);
  await join(b1, 'only-b');
  await join(b2, 'only-b');
  assert.deepEqual(await ack(sender, 'publish', 'only-b', 'msg', 1), {ok: true});
  assert.deepEqual(await b1.rec.waitFor('msg'), [1]);
  assert.deepEqual(await b2.rec.waitFor('msg'), [1]);
});

test('leaving on B stops cross-gateway delivery to that socket only', async () => {
  const sender = await on(A);
  const [b1, b2] = await Promise.all([on(B), on(B)]);
  await join(b1, 'leave-b');
  await join(b2, 'leave-b');
  await join(b2, 'leave-b-marker');
  assert.deepEqual(await ack(b1, 'leave', 'leave-b'), {ok: true});
  assert.deepEqual(await ack(sender, 'publish', 'leave-b', 'msg', 'after leave'), {ok: true});
  assert.deepEqual(await b2.rec.waitFor('msg'), ['after leave']);
  // b1 was the other member on B; b2 still is: the room stays subscribed.
  await join(b1, 'leave-b-marker');
  assert.deepEqual(await ack(sender, 'publish', 'leave-b-marker', 'msg', 'marker'), {ok: true});
  await b1.rec.waitFor('msg', (m) => m === 'marker');
  assert.deepEqual(got(b1, 'msg'), [['marker']]);

  // Last member on B leaves: publishes from A no longer reach it. The
  // marker, published after by the same sender, comes through the same path.
  assert.deepEqual(await ack(b2, 'leave', 'leave-b'), {ok: true});
  assert.deepEqual(await ack(sender, 'publish', 'leave-b', 'msg', 'nobody on B'), {ok: true});
  assert.deepEqual(await ack(sender, 'publish', 'leave-b-marker', 'msg', 'marker 2'), {ok: true});
  await b2.rec.waitFor('msg', (m) => m === 'marker 2');
  assert.deepEqual(got(b2, 'msg').map((a) => a[0]), ['after leave', 'marker', 'marker 2']);

  // Joining again subscribes again. (Only after the marker: a publish still
  // in flight while a join is confirmed may reach the joiner, as with any
  // Socket.IO cluster adapter.)
  await join(b2, 'leave-b');
  assert.deepEqual(await ack(sender, 'publish', 'leave-b', 'msg', 'rejoined'), {ok: true});
  await b2.rec.waitFor('msg', (m) => m === 'rejoined');
  assert.deepEqual(got(b2, 'msg').map((a) => a[0]), ['after leave', 'marker', 'marker 2', 'rejoined']);
});

test('relay broadcast crosses gateways, sender excluded', async () => {
  const [a1, a2] = await Promise.all([on(A, '/bcast'), on(A, '/bcast')]);
  const [b1, b2] = await Promise.all([on(B, '/bcast'), on(B, '/bcast')]);
  a1.emit('chat', 'from A');
  for (const s of [a2, b1, b2]) assert.deepEqual(await s.rec.waitFor('chat'), ['from A']);
  b1.emit('chat', 'marker');
  for (const s of [a1, a2, b2]) await s.rec.waitFor('chat', (t) => t === 'marker');
  assert.deepEqual(got(a1, 'chat'), [['marker']]);
  assert.deepEqual(got(b1, 'chat'), [['from A']]);
  assert.deepEqual(got(a2, 'chat'), [['from A'], ['marker']]);
  assert.deepEqual(got(b2, 'chat'), [['from A'], ['marker']]);
});

test('relay rooms crosses gateways: each member once, even when in several of the rooms', async () => {
  const sender = await on(A, '/rooms');
  const a1 = await on(A, '/rooms');
  const [b1, b2] = await Promise.all([on(B, '/rooms'), on(B, '/rooms')]);
  await join(sender, 'p', 'q');
  await join(a1, 'p', 'q');
  await join(b1, 'p', 'q');
  await join(b2, 'q');
  sender.emit('chat', 'multi-room', Buffer.from([1, 2, 3]));
  for (const s of [a1, b1, b2]) {
    const [text, buf] = await s.rec.waitFor('chat');
    assert.equal(text, 'multi-room');
    assert.deepEqual([...Buffer.from(buf)], [1, 2, 3]);
  }
  b2.emit('chat', 'marker');
  for (const s of [sender, a1, b1]) await s.rec.waitFor('chat', (t) => t === 'marker');
  assert.equal(got(sender, 'chat').length, 1);
  assert.equal(got(a1, 'chat').length, 2);
  assert.equal(got(b1, 'chat').length, 2);
});

test('many clients on both gateways: one publish, each exactly once', async () => {
  const members = await Promise.all(Array.from({length: 20}, (_, i) => on(i % 2 ? A : B)));
  for (const s of members) await join(s, 'crowd');
  const [sender] = members;
  assert.deepEqual(await ack(sender, 'publish', 'crowd', 'msg', 'to the crowd'), {ok: true});
  assert.deepEqual(await ack(sender, 'publish', 'crowd', 'msg', 'end'), {ok: true});
  for (const s of members.slice(1)) {
    await s.rec.waitFor('msg', (m) => m === 'end');
    assert.deepEqual(got(s, 'msg'), [['to the crowd'], ['end']]);
  }
  assert.deepEqual(await ack(members[1], 'publish', 'crowd', 'msg', 'marker'), {ok: true});
  await sender.rec.waitFor('msg', (m) => m === 'marker');
  assert.deepEqual(got(sender, 'msg'), [['marker']]);
});
