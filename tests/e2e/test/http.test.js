'use strict';
// The HTTP side of the gateway as a Socket.IO server shows it: Engine.IO's
// 400 answers with their error codes, the browser bundle at
// /socket.io/socket.io.min.js (the pinned npm package's file), /healthz.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const WebSocket = require('ws');
const {startStack, TARGET} = require('../harness/stack');
const {until} = require('../harness/client');

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

// A polling session upgraded to `ws` (the probe, then "5"), as socket.io-client does.
async function upgradedSession() {
  const base = `${stack.url}/socket.io/?EIO=4&transport=polling`;
  const open = JSON.parse((await (await fetch(base)).text()).slice(1));
  const ws = new WebSocket(`${stack.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket&sid=${open.sid}`);
  const messages = [];
  ws.on('message', (data) => messages.push(data.toString()));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send('2probe');
  await until('the probe answer', () => messages.includes('3probe'), 5000);
  ws.send('5');
  return {sid: open.sid, ws, messages};
}

test('a second WebSocket upgrade of an upgraded session is accepted and closed with a close frame', async () => {
  const session = await upgradedSession();
  const second = new WebSocket(
      `${stack.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket&sid=${session.sid}`);
  const outcome = await new Promise((resolve) => {
    let opened = false;
    second.on('open', () => (opened = true));
    second.on('unexpected-response', (req, res) => resolve({status: res.statusCode}));
    second.on('error', (err) => resolve({error: err.message}));
    second.on('close', (code) => resolve({opened, code}));
  });
  // As the reference (engine.io closes the extra socket with ws.close()):
  // the handshake completes, then a close frame, not a dropped connection
  // (1006) or an HTTP error.
  assert.equal(outcome.opened, true, JSON.stringify(outcome));
  assert.notEqual(outcome.code, 1006, JSON.stringify(outcome));
  // The session itself is untouched: it still connects a namespace.
  session.ws.send('40');
  await until('the CONNECT answer', () => session.messages.some((m) => m.startsWith('40{')), 5000);
  session.ws.close();
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

test('/metrics is served on --metrics-listen only, never on the public port', {
  skip: TARGET === 'reference' ? 'roomq feature: the reference server has no metrics' : false,
}, async () => {
  const pub = await fetch(`${stack.url}/metrics`);
  assert.equal(pub.status, 404);
  await pub.arrayBuffer();
  const res = await fetch(stack.metricsUrl());
  assert.equal(res.status, 200);
  assert.match(await res.text(), /^roomq_gateway_sessions /m);
  assert.notEqual(new URL(stack.metricsUrl()).port, new URL(stack.url).port);
  const health = await fetch(stack.metricsUrl().replace(/\/metrics$/, '/healthz'));
  assert.equal(health.status, 200);
  await health.arrayBuffer();
});
