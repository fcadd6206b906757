'use strict';
// Presence and socket.data from a native service (roomq-echo's ServeAdmin,
// clients/examples/echo/echo_service.h), through the stock socket.io-client
// and two gateways:
//  - `who` (io.in(room).fetchSockets() in the service) lists the sockets of a
//    room on every gateway with their socket.data, and follows joins, leaves
//    and disconnects;
//  - `set name` (socket.data.name = ... in a handler) shows in later answers;
//  - `poll` (io.to(room).timeout(1000).emit("vote", cb) in the service)
//    collects one answer per socket of the room on every gateway, or times
//    out with the answers that came;
//  - `roomq sockets` prints the same from the broker, or the count (roomq);
//  - a SIGKILLed gateway's sockets leave presence once the broker expires it
//    (roomq: the reference's sockets live in its one process).
// The same scenarios run against the npm socket.io reference server
// (E2E_TARGET=reference), whose service does it the Socket.IO way
// (tests/e2e/reference/server.js, fetchSockets over its cluster adapter).
//
// Presence is answered from the broker's socket records, which follow each
// gateway's changes a moment later: answers are awaited with `until`.

const {describe, test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const {execFileSync} = require('node:child_process');
const {startStack, ns, TARGET, BIN_DIR} = require('../harness/stack');
const {ack, ackAll, closeAll, connect, until, untilConnects} = require('../harness/client');

const ROOMQ_ONLY = TARGET === 'reference' ? 'roomq feature' : false;
const CONFIG = {
  namespaces: [
    ns('/', {join: '', relay: 'none', forward: true}),
    ns('/admin', {join: '^team-\\w+$', relay: 'none', forward: true, middleware: 'required'}),
  ],
};

describe('presence and socket.data', () => {
  let stack;
  let ann;  // on gateway 0
  let bob;  // on gateway 1
  let cy;   // on gateway 1

  // The service's answer to `who`, as [id, data] pairs.
  async function who(socket, room) {
    const answer = await ack(socket, 'who', room);
    assert.ok(Array.isArray(answer), JSON.stringify(answer));
    return answer.map((s) => [s.id, s.data]);
  }

  // Waits until `who` answers `expected`.
  async function whoBecomes(socket, room, expected, what) {
    const sorted = [...expected].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    let last;
    await until(what, async () => {
      last = await who(socket, room);
      return JSON.stringify(last) === JSON.stringify(sorted);
    }, 15000).catch((err) => {
      throw new Error(`${err.message}; last answer ${JSON.stringify(last)}`);
    });
  }

  function roomqSockets(...flags) {
    return execFileSync(path.join(BIN_DIR, 'roomq'),
                        ['sockets', '--broker-pub', stack.brokerPub, '--broker-sub', stack.brokerSub,
                         '--ns', '/admin', ...flags], {encoding: 'utf8'});
  }

  before(async () => {
    stack = await startStack({config: CONFIG, gateways: 2, echo: true});
    await untilConnects(stack.url, '/admin', {auth: {role: 'admin'}});
    ann = await connect(stack.urls[0], '/admin', {auth: {role: 'admin', user: 'ann'}});
    bob = await connect(stack.urls[1], '/admin', {auth: {role: 'admin', user: 'bob'}});
    cy = await connect(stack.urls[1], '/admin', {auth: {role: 'admin', user: 'cy'}});
  });

  after(async () => {
    closeAll();
    await stack.stop();
  });

  test('a room lists its sockets on every gateway with their socket.data', async () => {
    assert.deepEqual(await ack(ann, 'join', 'team-x'), {ok: true});
    assert.deepEqual(await ack(bob, 'join', 'team-x'), {ok: true});
    await whoBecomes(cy, 'team-x', [
      [ann.id, {role: 'admin', user: 'ann'}],
      [bob.id, {role: 'admin', user: 'bob'}],
    ], 'team-x to hold ann and bob');
    await whoBecomes(ann, '', [
      [ann.id, {role: 'admin', user: 'ann'}],
      [bob.id, {role: 'admin', user: 'bob'}],
      [cy.id, {role: 'admin', user: 'cy'}],
    ], 'the namespace to hold all three');
  });

  test('socket.data set by a handler shows in later answers', async () => {
    assert.equal(await ack(cy, 'set name', 'Cy'), 'ok');
    await whoBecomes(ann, cy.id, [[cy.id, {role: 'admin', user: 'cy', name: 'Cy'}]],
                     "cy's new data");
  });

  test('a broadcast with acks collects one answer per socket of the room', async () => {
    ann.on('vote', (answer) => answer('ann'));
    bob.on('vote', (answer) => answer('bob'));
    const [err, answers] = await ackAll(cy, 'poll', 'team-x');
    assert.equal(err, null);
    assert.deepEqual([...answers].sort(), ['ann', 'bob']);
    // A socket that never answers: the poll times out with the others' answers.
    assert.deepEqual(await ack(cy, 'join', 'team-y'), {ok: true});
    assert.deepEqual(await ack(ann, 'join', 'team-y'), {ok: true});
    await whoBecomes(bob, 'team-y', [
      [ann.id, {role: 'admin', user: 'ann'}],
      [cy.id, {role: 'admin', user: 'cy', name: 'Cy'}],
    ], 'team-y to hold ann and cy');
    const [late, some] = await ackAll(bob, 'poll', 'team-y');
    assert.equal(late, 'timeout');
    assert.deepEqual(some, ['ann']);
  });

  test('roomq sockets prints the room from the broker', {skip: ROOMQ_ONLY}, async () => {
    await until('roomq sockets --count to say 2', () => roomqSockets('--room', 'team-x', '--count') === '2\n',
                15000);
    const lines = roomqSockets('--room', 'team-x').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.id), [ann.id, bob.id].sort());
    const annLine = lines.find((l) => l.id === ann.id);
    assert.equal(annLine.namespace, '/admin');
    assert.deepEqual(annLine.data, {role: 'admin', user: 'ann'});
    assert.ok(annLine.rooms.includes('team-x') && annLine.rooms.includes(ann.id), JSON.stringify(annLine));
    assert.match(annLine.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(annLine.gateway, lines.find((l) => l.id === bob.id).gateway, 'two gateways');
  });

  test('leaves and disconnects leave the room', async () => {
    assert.deepEqual(await ack(ann, 'leave', 'team-x'), {ok: true});
    await whoBecomes(cy, 'team-x', [[bob.id, {role: 'admin', user: 'bob'}]], 'ann to leave team-x');
    bob.disconnect();
    await whoBecomes(cy, 'team-x', [], 'bob to be gone');
  });

  test("a killed gateway's sockets leave once the broker expires it", {skip: ROOMQ_ONLY}, async () => {
    await stack.killGateway(1);  // cy's
    await whoBecomes(ann, '', [[ann.id, {role: 'admin', user: 'ann'}]], "gateway 1's sockets to leave");
    assert.equal(roomqSockets('--count'), '1\n');
  });
});
