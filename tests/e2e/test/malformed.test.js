'use strict';
// Malformed frames close only the offending connection: a raw WebSocket
// client (the `ws` package) connects a namespace properly, then sends one
// kind of garbage the Socket.IO / Engine.IO parsers reject; the server
// closes it, while two stock clients on the same gateway keep chatting.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns} = require('../harness/stack');
const {RawEngine, ack, closeAll, connect, withTimeout} = require('../harness/client');

let stack;
let alice;
let bob;
let round = 0;
before(async () => {
  stack = await startStack({config: {namespaces: [ns('/'), ns('/chat')]}});
  [alice, bob] = await Promise.all([
    connect(stack.url, '/', {transports: ['websocket']}),
    connect(stack.url, '/', {transports: ['polling']}),
  ]);
  for (const s of [alice, bob]) assert.deepEqual(await ack(s, 'join', 'bystanders'), {ok: true});
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

// The bystanders still talk both ways, on the same Engine.IO sessions.
async function bystandersStillChat() {
  const n = ++round;
  const engines = [alice.io.engine.id, bob.io.engine.id];
  assert.deepEqual(await ack(alice, 'publish', 'bystanders', 'chat', `a${n}`), {ok: true});
  assert.deepEqual(await bob.rec.waitFor('chat', (t) => t === `a${n}`), [`a${n}`]);
  assert.deepEqual(await ack(bob, 'publish', 'bystanders', 'chat', `b${n}`), {ok: true});
  assert.deepEqual(await alice.rec.waitFor('chat', (t) => t === `b${n}`), [`b${n}`]);
  assert.ok(alice.connected && bob.connected);
  assert.deepEqual([alice.io.engine.id, bob.io.engine.id], engines);
}

// A raw client connected to `/` (and /chat) whose CONNECT was answered.
async function rawConnected() {
  const raw = new RawEngine(stack.url);
  const open = await raw.open();
  assert.equal(typeof open.sid, 'string');
  const answer = await raw.connectNamespace('/');
  assert.equal(typeof answer.sid, 'string');
  return raw;
}

const GARBAGE = [
  ['an unknown Socket.IO packet type', ['49["ev"]']],
  ['an EVENT whose payload is not an array', ['42{"not":"an array"}']],
  ['an EVENT with broken JSON', ['42["ev",']],
  ['an EVENT with a non-numeric ack id', ['42abc["ev"]']],
  ['an EVENT named like a reserved event', ['42["disconnect"]']],
  ['an EVENT whose name is not a string', ['42[{"a":1},2]']],
  ['a BINARY_EVENT without an attachment count', ['45["ev"]']],
  ['a BINARY_EVENT with a zero attachment count', ['450-["ev"]']],
  ['a binary frame nobody asked for', [Buffer.from([1, 2, 3])]],
  ['text while binary attachments are awaited', ['451-["ev",{"_placeholder":true,"num":0}]', '42["ev"]']],
  ['a placeholder pointing past the attachments', ['451-["ev",{"_placeholder":true,"num":3}]', Buffer.from([9])]],
  ['a CONNECT whose payload is not an object', ['40/chat,"auth"']],
  ['an unknown Engine.IO packet type', ['9hello']],
];

test('control: a well-formed raw client stays connected', async () => {
  const raw = await rawConnected();
  raw.send('421["join","bystanders"]');
  assert.equal(await raw.waitMessage((m) => typeof m === 'string' && m.startsWith('431')), '431[{"ok":true}]');
  raw.send('42["chat","from raw"]');
  raw.send('451-["chat",{"_placeholder":true,"num":0}]');
  raw.send(Buffer.from([7, 8, 9]));
  await alice.rec.waitFor('chat', (t) => t === 'from raw');
  await bystandersStillChat();
  assert.equal(raw.closed, false);
  raw.ws.close();
});

for (const [what, frames] of GARBAGE) {
  test(`${what} closes that connection only`, async () => {
    const raw = await rawConnected();
    for (const frame of frames) raw.send(frame);
    const closed = await raw.waitClose();
    assert.ok(closed, `closed: ${JSON.stringify(closed)}`);
    await bystandersStillChat();
  });
}

test('garbage over HTTP long-polling closes that session only', async () => {
  const base = `${stack.url}/socket.io/?EIO=4&transport=polling`;
  const handshake = await fetch(base, {signal: AbortSignal.timeout(5000)});
  assert.equal(handshake.status, 200);
  const {sid} = JSON.parse((await handshake.text()).slice(1));
  const connectAnswer = await (await fetch(`${base}&sid=${sid}`, {method: 'POST', body: '40'})).text();
  assert.equal(connectAnswer, 'ok');
  const connected = await (await fetch(`${base}&sid=${sid}`, {signal: AbortSignal.timeout(5000)})).text();
  assert.match(connected, /^40\{"sid":"/);

  const bad = await fetch(`${base}&sid=${sid}`, {method: 'POST', body: '42["ev",'});
  await bad.arrayBuffer();
  // The session is closed: the next poll gets the close packet or a 400
  // "Session ID unknown", at once (a live session would hold the GET).
  const deadline = Date.now() + 5000;
  let gone = false;
  while (!gone && Date.now() < deadline) {
    const res = await withTimeout(fetch(`${base}&sid=${sid}`, {signal: AbortSignal.timeout(4000)}), 4500, 'a poll');
    const body = await res.text();
    gone = res.status === 400 || body.split('\x1e').includes('1');
  }
  assert.ok(gone, 'polling session still open after garbage');
  await bystandersStillChat();
});

test('the gateway still accepts new connections afterwards', async () => {
  const fresh = await connect(stack.url, '/', {transports: ['websocket']});
  assert.deepEqual(await ack(fresh, 'join', 'bystanders'), {ok: true});
  assert.deepEqual(await ack(alice, 'publish', 'bystanders', 'chat', 'welcome'), {ok: true});
  assert.deepEqual(await fresh.rec.waitFor('chat'), ['welcome']);
});
