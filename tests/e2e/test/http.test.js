'use strict';
// The HTTP side of the gateway as a Socket.IO server shows it: Engine.IO's
// 400 answers with their error codes, the browser bundle at
// /socket.io/socket.io.min.js (the pinned npm package's file), /healthz.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const WebSocket = require('ws');
const {startStack} = require('../harness/stack');

let stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  if (stack) await stack.stop();
});

async function expectEngineError(url, init, code, message) {
  const res = await fetch(url, {...init, signal: AbortSignal.timeout(5000)});
  assert.equal(res.status, 400, `${init.method || 'GET'} ${url}`);
  assert.deepEqual(await res.json(), {code, message});
}

test('Engine.IO errors: unknown transport, unknown sid, bad handshake method, bad version', async () => {
  const base = `${stack.url}/socket.io/`;
  await expectEngineError(`${base}?EIO=4&transport=carrier-pigeon`, {}, 0, 'Transport unknown');
  await expectEngineError(`${base}?EIO=4&transport=polling&sid=no-such-sid`, {}, 1, 'Session ID unknown');
  await expectEngineError(`${base}?EIO=4&transport=polling&sid=no-such-sid`, {method: 'POST', body: '40'}, 1,
                          'Session ID unknown');
  await expectEngineError(`${base}?EIO=4&transport=polling`, {method: 'PUT', body: 'x'}, 2, 'Bad handshake method');
  await expectEngineError(`${base}?EIO=5&transport=polling`, {}, 5, 'Unsupported protocol version');
});

test('a WebSocket upgrade for an unknown sid is refused', async () => {
  const ws = new WebSocket(`${stack.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket&sid=no-such-sid`);
  const outcome = await new Promise((resolve) => {
    ws.on('unexpected-response', (req, res) => resolve(`status ${res.statusCode}`));
    ws.on('open', () => resolve('open'));
    ws.on('error', (err) => resolve(`error ${err.message}`));
  });
  ws.terminate();
  assert.notEqual(outcome, 'open');
});

test('the browser bundle is served from the pinned socket.io-client package', async () => {
  const dist = path.join(__dirname, '..', 'node_modules', 'socket.io-client', 'dist');
  const expected = fs.readFileSync(path.join(dist, 'socket.io.min.js'));
  const res = await fetch(`${stack.url}/socket.io/socket.io.min.js`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /javascript/);
  const body = Buffer.from(await res.arrayBuffer());
  assert.ok(body.equals(expected), `bundle differs from ${dist}/socket.io.min.js (${body.length} vs ${expected.length} bytes)`);

  const map = await fetch(`${stack.url}/socket.io/socket.io.min.js.map`);
  assert.equal(map.status, 200);
  assert.ok(Buffer.from(await map.arrayBuffer()).equals(fs.readFileSync(path.join(dist, 'socket.io.min.js.map'))));
});

test('GET /healthz answers 200', async () => {
  const res = await fetch(`${stack.url}/healthz`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
});
