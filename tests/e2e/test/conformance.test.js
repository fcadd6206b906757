'use strict';
// The conformance setup:
//   roomq-gateway --config tests/conformance/gateway.yaml --ping-interval-ms 300
//     --ping-timeout-ms 200 --connect-timeout-ms 1000 --max-payload 1000000
//     --cors-origin '*'   + roomq-broker + roomq-echo
// behaves like a stock Socket.IO server configured that way with the
// conformance handlers on `/` and `/custom`: auth echo, message-back, acks,
// heartbeat, connect timeout, maxPayload.

const {test, before, after} = require('node:test');
const assert = require('node:assert/strict');
const {startConformanceStack} = require('../harness/stack');
const {
  RawEngine, ack, ackAll, closeAll, connect, connectError, onceEvent, waitDisconnect, withTimeout,
} = require('../harness/client');

const PING_INTERVAL_MS = 300;
const PING_TIMEOUT_MS = 200;
const CONNECT_TIMEOUT_MS = 1000;
const MAX_PAYLOAD = 1000000;

let stack;
before(async () => {
  stack = await startConformanceStack();
});
after(async () => {
  closeAll();
  if (stack) await stack.stop();
});

test('the handshake announces the configured heartbeat and maxPayload, with CORS', async () => {
  const origin = 'http://example.test';
  const res = await fetch(`${stack.url}/socket.io/?EIO=4&transport=polling`, {headers: {origin}});
  assert.equal(res.status, 200);
  const allowed = res.headers.get('access-control-allow-origin');
  assert.ok(allowed === '*' || allowed === origin, `access-control-allow-origin: ${allowed}`);
  const body = await res.text();
  assert.equal(body[0], '0');
  const open = JSON.parse(body.slice(1));
  assert.equal(typeof open.sid, 'string');
  assert.ok(open.sid.length > 0);
  assert.deepEqual(open.upgrades, ['websocket']);
  assert.equal(open.pingInterval, PING_INTERVAL_MS);
  assert.equal(open.pingTimeout, PING_TIMEOUT_MS);
  assert.equal(open.maxPayload, MAX_PAYLOAD);
});

test('a CORS preflight is answered with one allow-origin and the requested headers allowed', async () => {
  const origin = 'http://example.test';
  const preflight = await fetch(`${stack.url}/socket.io/?EIO=4&transport=polling`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, authorization',
    },
  });
  assert.ok(preflight.status === 204 || preflight.status === 200, `preflight status ${preflight.status}`);
  // fetch joins repeated headers with ", ": a browser rejects "*, *".
  const allowed = preflight.headers.get('access-control-allow-origin');
  assert.ok(allowed === '*' || allowed === origin, `access-control-allow-origin: ${allowed}`);
  assert.match(preflight.headers.get('access-control-allow-methods') || '', /POST/);
  const headers = (preflight.headers.get('access-control-allow-headers') || '').toLowerCase();
  assert.match(headers, /content-type/, `access-control-allow-headers: ${headers}`);
  assert.match(headers, /authorization/, `access-control-allow-headers: ${headers}`);
});

for (const nsp of ['/', '/custom']) {
  for (const transports of [['websocket'], ['polling'], undefined]) {
    const how = transports ? transports.join() : 'default transports';
    test(`${nsp}: auth is echoed on connection (${how})`, async () => {
      const auth = {token: 'abc', nested: {n: 1, list: [true, null, 'x']}};
      const socket = await connect(stack.url, nsp, {transports, auth});
      assert.deepEqual(await socket.rec.waitFor('auth'), [auth]);
      const plain = await connect(stack.url, nsp, {transports});
      assert.deepEqual(await plain.rec.waitFor('auth'), [{}]);
    });

    test(`${nsp}: message -> message-back with the same args, binary included (${how})`, async () => {
      const socket = await connect(stack.url, nsp, {transports});
      socket.emit('message', 1, '2', {3: 4, five: [6]}, Buffer.from([7, 8, 9]));
      const back = await socket.rec.waitFor('message-back');
      assert.equal(back.length, 4);
      assert.deepEqual(back.slice(0, 3), [1, '2', {3: 4, five: [6]}]);
      assert.deepEqual([...Buffer.from(back[3])], [7, 8, 9]);
    });

    test(`${nsp}: message-with-ack is acked with the same args (${how})`, async () => {
      const socket = await connect(stack.url, nsp, {transports});
      const reply = await ackAll(socket, 'message-with-ack', 1, '2', {3: [4]}, Buffer.from([5]));
      assert.deepEqual(reply.slice(0, 3), [1, '2', {3: [4]}]);
      assert.deepEqual([...Buffer.from(reply[3])], [5]);
    });
  }
}

test('other namespaces are refused with "Invalid namespace"', async () => {
  for (const nsp of ['/other', '/custom2', '/Custom']) {
    const err = await connectError(stack.url, nsp, {transports: ['websocket']});
    assert.equal(err.message, 'Invalid namespace', nsp);
  }
});

test('no relay between clients, and no client joins', async () => {
  const [a, b] = await Promise.all([
    connect(stack.url, '/', {transports: ['websocket']}),
    connect(stack.url, '/', {transports: ['websocket']}),
  ]);
  const reply = await ack(a, 'join', 'room');
  assert.equal(typeof reply.error, 'string');
  a.emit('chat', 'not relayed');
  a.emit('message', 'mine');
  b.emit('message', 'yours');
  assert.deepEqual(await a.rec.waitFor('message-back'), ['mine']);
  assert.deepEqual(await b.rec.waitFor('message-back'), ['yours']);
  assert.deepEqual(b.rec.received('chat'), []);
  assert.deepEqual(b.rec.received('message-back').map((e) => e.args), [['yours']]);
});

for (const transports of [['websocket'], ['polling']]) {
  test(`the heartbeat keeps an idle connection alive past several ping intervals (${transports})`, async () => {
    const socket = await connect(stack.url, '/', {transports});
    const engineId = socket.io.engine.id;
    let pings = 0;
    socket.io.on('ping', () => pings++);
    // Wait for 5 server pings (~1.5 s at 300 ms), with slack for a loaded machine.
    const started = Date.now();
    await withTimeout(new Promise((resolve) => {
      socket.io.on('ping', () => pings >= 5 && resolve());
    }), 10 * PING_INTERVAL_MS + 3000, '5 pings');
    assert.ok(Date.now() - started >= 3 * PING_INTERVAL_MS, 'pings came faster than the interval');
    assert.ok(socket.connected);
    assert.equal(socket.io.engine.id, engineId);
    assert.equal(socket.disconnectReason, undefined);
    assert.deepEqual(await ackAll(socket, 'message-with-ack', 'alive'), ['alive']);
  });
}

test('a client that does not answer pings is closed after pingInterval + pingTimeout', async () => {
  const raw = new RawEngine(stack.url, {answerPings: false});
  await raw.open();
  await raw.connectNamespace('/');
  await raw.waitMessage((m) => m === '2', 2 * PING_INTERVAL_MS + 2000, 'a ping');
  const closed = await raw.waitClose(PING_INTERVAL_MS + PING_TIMEOUT_MS + 3000);
  // From the open packet's arrival, which is a little after the server's
  // schedule started.
  const elapsed = closed.at - raw.openedAt;
  assert.ok(elapsed >= PING_INTERVAL_MS + PING_TIMEOUT_MS - 100, `closed after ${elapsed} ms`);
});

test('a session that never sends CONNECT is closed after the connect timeout', async () => {
  const idle = new RawEngine(stack.url);  // answers pings, never connects a namespace
  const control = new RawEngine(stack.url);
  await Promise.all([idle.open(), control.open()]);
  await control.connectNamespace('/');

  const closed = await idle.waitClose(CONNECT_TIMEOUT_MS + 3000);
  const elapsed = closed.at - idle.openedAt;
  assert.ok(elapsed >= CONNECT_TIMEOUT_MS - 100, `closed after ${elapsed} ms, before the connect timeout`);
  // The control, connected to `/`, outlived the timeout and still works.
  assert.equal(control.closed, false);
  control.send('421["message-with-ack","still here"]');
  assert.equal(await control.waitMessage((m) => typeof m === 'string' && m.startsWith('431')), '431["still here"]');
});

for (const transports of [['websocket'], ['polling']]) {
  test(`a message over maxPayload closes the connection (${transports})`, async () => {
    const bystander = await connect(stack.url, '/', {transports: ['websocket']});
    const socket = await connect(stack.url, '/', {transports});

    // Just under the limit goes through.
    const fits = 'x'.repeat(MAX_PAYLOAD - 100);
    socket.emit('message', fits);
    const [back] = await socket.rec.waitFor('message-back', () => true, 10000);
    assert.equal(back.length, fits.length);

    const disconnected = waitDisconnect(socket, 10000);
    socket.emit('message', 'y'.repeat(MAX_PAYLOAD + 1000));
    const reason = await disconnected;
    assert.match(reason, /transport (close|error)|ping timeout/);
    assert.equal(socket.rec.received('message-back').length, 1);

    assert.ok(bystander.connected);
    assert.deepEqual(await ackAll(bystander, 'message-with-ack', 'unaffected'), ['unaffected']);
  });
}

test('the server pings on its own schedule with the configured interval', async () => {
  const raw = new RawEngine(stack.url);
  const open = await raw.open();
  assert.equal(open.pingInterval, PING_INTERVAL_MS);
  await raw.waitMessage((m) => m === '2', PING_INTERVAL_MS + 2000, 'first ping');
  const first = Date.now();
  await onceEvent(raw.ws, 'message', PING_INTERVAL_MS + 2000);  // the next ping
  const gap = Date.now() - first;
  // The next ping follows the pong by pingInterval (less our own latency).
  assert.ok(gap >= PING_INTERVAL_MS - 50, `second ping after ${gap} ms`);
  raw.ws.close();
});
