'use strict';
// Proof of life: one gateway log line per connection and
// per disconnection naming the socket id, the namespace, the transport and
// (for disconnections) the reason, in Socket.IO's words.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startStack, ns} = require('../harness/stack');
const {closeAll, connect, waitDisconnect} = require('../harness/client');

let stack;
before(async () => {
  stack = await startStack({config: {namespaces: [ns('/'), ns('/chat')]}});
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// The first gateway log line containing every one of `words`.
async function logLine(...words) {
  const regex = new RegExp(words.map((w) => `(?=.*${escape(w)})`).join(''));
  const match = await stack.gateways[0].waitForLine(regex, {timeoutMs: 5000});
  return match.input;
}

test('connection and client disconnection are logged with id, namespace, transport, reason', async () => {
  const socket = await connect(stack.url, '/chat', {transports: ['websocket']});
  const id = socket.id;
  const connected = await logLine(id, '/chat', 'websocket');
  assert.ok(connected.includes(id));

  socket.disconnect();
  const disconnected = await logLine(id, 'client namespace disconnect');
  assert.match(disconnected, /\/chat/);
  assert.match(disconnected, /websocket/);
});

test('a dropped transport is logged as "transport close", with the final transport', async () => {
  const socket = await connect(stack.url, '/', {transports: ['polling']});
  const id = socket.id;
  await logLine(id, 'polling');
  const gone = waitDisconnect(socket);
  socket.io.engine.close();  // the Engine.IO connection goes, without a DISCONNECT packet
  await gone;
  const line = await logLine(id, 'transport close');
  assert.match(line, /polling/);
});
