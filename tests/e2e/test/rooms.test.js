'use strict';
// The reserved client events join / leave / publish: their acks
// ({"ok":true} or {"error":"..."}), the namespace's join and publish
// patterns, socket-id rooms no client may publish into, and publish's sender
// exclusion (like socket.to(room).emit).
//
// "Never received" is checked causally, without sleeping: after the message
// under test, a later message on the same path is awaited; the gateway
// delivers in order, so anything wrongly delivered would have come first.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns} = require('../harness/stack');
const {ack, closeAll, connect} = require('../harness/client');

let stack;
before(async () => {
  stack = await startStack({
    config: {
      namespaces: [
        ns('/', {relay: 'none'}),
        // Only rooms named "public-..." may be joined.
        ns('/restricted', {join: 'public-[a-z0-9]+', relay: 'none'}),
        // Nobody may join (and so, with no `publish` key, nobody may publish).
        ns('/closed', {join: '', relay: 'none'}),
        // Anyone may join; only "news-..." rooms may be published to or relayed to.
        ns('/newsroom', {join: '.*', publish: 'news-[a-z]+', relay: 'rooms'}),
      ],
    },
  });
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

function client(nsp = '/') {
  return connect(stack.url, nsp, {transports: ['websocket']});
}

function isError(reply) {
  return reply && typeof reply === 'object' && typeof reply.error === 'string' && reply.error.length > 0 &&
      !('ok' in reply);
}

test('join acks {"ok":true}; publish reaches the room, never the sender', async () => {
  const [a, b, c, outsider] = await Promise.all([client(), client(), client(), client()]);
  for (const s of [a, b, c]) assert.deepEqual(await ack(s, 'join', 'general'), {ok: true});

  assert.deepEqual(await ack(a, 'publish', 'general', 'chat message', {text: 'hi', from: 'a'}, 42), {ok: true});
  assert.deepEqual(await b.rec.waitFor('chat message'), [{text: 'hi', from: 'a'}, 42]);
  assert.deepEqual(await c.rec.waitFor('chat message'), [{text: 'hi', from: 'a'}, 42]);

  // Causal marker: b publishes after having received a's message; when a
  // gets b's, a copy of its own would have arrived before.
  assert.deepEqual(await ack(b, 'publish', 'general', 'chat message', {text: 'yo', from: 'b'}), {ok: true});
  await a.rec.waitFor('chat message', (m) => m.from === 'b');
  await c.rec.waitFor('chat message', (m) => m.from === 'b');
  assert.deepEqual(a.rec.received('chat message').map((e) => e.args[0].from), ['b']);
  assert.deepEqual(b.rec.received('chat message').map((e) => e.args[0].from), ['a']);
  assert.deepEqual(c.rec.received('chat message').map((e) => e.args[0].from), ['a', 'b']);
  assert.equal(outsider.rec.events.length, 0);
});

test('publish without an ack, and with zero or many args', async () => {
  const [a, b] = await Promise.all([client(), client()]);
  assert.deepEqual(await ack(b, 'join', 'noack'), {ok: true});
  a.emit('publish', 'noack', 'ping');
  a.emit('publish', 'noack', 'many', 1, 'two', [3], {four: 4}, null, true);
  assert.deepEqual(await b.rec.waitFor('ping'), []);
  assert.deepEqual(await b.rec.waitFor('many'), [1, 'two', [3], {four: 4}, null, true]);
});

test('a client may publish to a room it is not in', async () => {
  const [member, outsider] = await Promise.all([client(), client()]);
  assert.deepEqual(await ack(member, 'join', 'members-only'), {ok: true});
  assert.deepEqual(await ack(outsider, 'publish', 'members-only', 'note', 'from outside'), {ok: true});
  assert.deepEqual(await member.rec.waitFor('note'), ['from outside']);
});

test('leave acks {"ok":true} and stops delivery to that socket only', async () => {
  const [a, b, c] = await Promise.all([client(), client(), client()]);
  for (const s of [a, b, c]) assert.deepEqual(await ack(s, 'join', 'leavers'), {ok: true});
  assert.deepEqual(await ack(b, 'leave', 'leavers'), {ok: true});

  assert.deepEqual(await ack(a, 'publish', 'leavers', 'msg', 1), {ok: true});
  assert.deepEqual(await c.rec.waitFor('msg'), [1]);
  // b is still connected and reachable by another room, which it gets after.
  assert.deepEqual(await ack(b, 'join', 'other'), {ok: true});
  assert.deepEqual(await ack(a, 'publish', 'other', 'msg', 2), {ok: true});
  assert.deepEqual(await b.rec.waitFor('msg'), [2]);
  assert.deepEqual(b.rec.received('msg').map((e) => e.args[0]), [2]);

  // Rejoin works.
  assert.deepEqual(await ack(b, 'join', 'leavers'), {ok: true});
  assert.deepEqual(await ack(a, 'publish', 'leavers', 'msg', 3), {ok: true});
  assert.deepEqual(await b.rec.waitFor('msg', (n) => n === 3), [3]);
});

test('the last local member leaving unsubscribes without losing other rooms', async () => {
  const [a, b] = await Promise.all([client(), client()]);
  assert.deepEqual(await ack(a, 'join', 'solo'), {ok: true});
  assert.deepEqual(await ack(a, 'join', 'kept'), {ok: true});
  assert.deepEqual(await ack(a, 'leave', 'solo'), {ok: true});
  assert.deepEqual(await ack(b, 'publish', 'solo', 'msg', 'gone'), {ok: true});
  assert.deepEqual(await ack(b, 'publish', 'kept', 'msg', 'kept'), {ok: true});
  assert.deepEqual(await a.rec.waitFor('msg'), ['kept']);
  assert.deepEqual(a.rec.received('msg').map((e) => e.args[0]), ['kept']);
});

test('a multi-room member gets a room message once per publish', async () => {
  const [a, b] = await Promise.all([client(), client()]);
  assert.deepEqual(await ack(a, 'join', 'x'), {ok: true});
  assert.deepEqual(await ack(a, 'join', 'y'), {ok: true});
  assert.deepEqual(await ack(a, 'join', 'x'), {ok: true});  // joining twice is fine
  assert.deepEqual(await ack(b, 'publish', 'x', 'msg', 'to x'), {ok: true});
  assert.deepEqual(await ack(b, 'publish', 'y', 'msg', 'to y'), {ok: true});
  await a.rec.waitFor('msg', (m) => m === 'to y');
  assert.deepEqual(a.rec.received('msg').map((e) => e.args[0]), ['to x', 'to y']);
});

test('join outside the namespace pattern is refused with {"error":...}', async () => {
  const a = await client('/restricted');
  assert.deepEqual(await ack(a, 'join', 'public-1'), {ok: true});
  for (const room of ['private', 'public-', 'xpublic-1', 'public-1x!']) {
    const reply = await ack(a, 'join', room);
    assert.ok(isError(reply), `join ${room}: ${JSON.stringify(reply)}`);
  }
  // A refused join is not a membership, and publishing follows the same
  // pattern (no `publish` key): a publish into 'private' is refused.
  const b = await client('/restricted');
  assert.ok(isError(await ack(b, 'publish', 'private', 'msg', 'no')));
  assert.deepEqual(await ack(b, 'publish', 'public-1', 'msg', 'yes'), {ok: true});
  assert.deepEqual(await a.rec.waitFor('msg'), ['yes']);
  assert.deepEqual(a.rec.received('msg').map((e) => e.args[0]), ['yes']);
});

test('a namespace with an empty join pattern refuses every join', async () => {
  const a = await client('/closed');
  assert.ok(isError(await ack(a, 'join', 'anything')));
  assert.ok(a.connected);
});

test('a namespace with an empty join pattern and no publish key refuses every publish', async () => {
  const a = await client('/closed');
  assert.ok(isError(await ack(a, 'publish', 'anything', 'msg', 1)));
  assert.ok(a.connected);
});

test('the publish pattern bounds publish and the rooms relay; members keep receiving', async () => {
  const [attacker, reader, staffer] =
      await Promise.all([client('/newsroom'), client('/newsroom'), client('/newsroom')]);
  for (const room of ['staff', 'news-daily']) {
    for (const s of [attacker, reader]) assert.deepEqual(await ack(s, 'join', room), {ok: true});
  }
  for (const room of ['staff', 'news-weekly']) assert.deepEqual(await ack(staffer, 'join', room), {ok: true});
  assert.ok(isError(await ack(attacker, 'publish', 'staff', 'order', 'forged')));
  // A plain event relays (policy rooms) only to the rooms the sender may
  // publish into: news-daily, not staff.
  attacker.emit('chatter', 'relayed');
  assert.deepEqual(await ack(attacker, 'publish', 'news-daily', 'headline', 'daily'), {ok: true});
  assert.deepEqual(await ack(attacker, 'publish', 'news-weekly', 'headline', 'weekly'), {ok: true});
  assert.deepEqual(await reader.rec.waitFor('headline'), ['daily']);
  assert.deepEqual(await staffer.rec.waitFor('headline'), ['weekly']);
  assert.deepEqual(reader.rec.received('chatter').map((e) => e.args[0]), ['relayed']);
  for (const s of [reader, staffer]) assert.deepEqual(s.rec.received('order'), []);
  assert.deepEqual(staffer.rec.received('chatter'), [], 'nothing relayed into staff');
});

test("no client publishes into another socket's own room", async () => {
  const [victim, attacker] = await Promise.all([client(), client()]);
  for (const s of [victim, attacker]) assert.deepEqual(await ack(s, 'join', 'both'), {ok: true});
  assert.ok(isError(await ack(attacker, 'publish', victim.id, 'auth-result', {ok: true, forged: true})));
  assert.ok(isError(await ack(attacker, 'publish', attacker.id, 'auth-result', 'own room too')));
  assert.deepEqual(await ack(attacker, 'publish', 'both', 'marker', 1), {ok: true});
  await victim.rec.waitFor('marker');
  assert.deepEqual(victim.rec.received('auth-result'), []);
});

test('malformed reserved events are answered with {"error":...} and the socket stays', async () => {
  const a = await client();
  assert.ok(isError(await ack(a, 'join')));
  assert.ok(isError(await ack(a, 'join', 42)));
  assert.ok(isError(await ack(a, 'join', {room: 'x'})));
  assert.ok(isError(await ack(a, 'join', '')));
  assert.ok(isError(await ack(a, 'leave', null)));
  assert.ok(isError(await ack(a, 'publish', 'room-without-event')));
  assert.ok(isError(await ack(a, 'publish', 'general', 7)));
  assert.ok(isError(await ack(a, 'publish', 5, 'event')));
  assert.ok(a.connected);
  assert.deepEqual(await ack(a, 'join', 'fine'), {ok: true});
});
